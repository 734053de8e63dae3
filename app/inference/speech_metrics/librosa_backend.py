"""Speech metrics with NumPy, librosa (MFCC) and Silero VAD (bundled in faster-whisper)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from app.inference.speech_metrics.base import AcousticMeasures
from app.inference.speech_metrics.features import HOP, SR, frame_features, semitones
from app.inference.speech_metrics.filled_pauses import detect_filled_pauses
from app.inference.workers import InferenceWorkers
from app.settings import SpeechMetricsSettings

_APERIODICITY_VOICED = 0.35  # YIN aperiodicity below this = voiced (agrees with Praat on ~85 % of frames)
_FLOOR_BELOW_PEAK_DB = 30.0  # frames quieter than this under the loud end are not voice
_MIN_VOICED_FRAMES = 50  # half a second of voice before pitch statistics mean anything


def voice_activity(audio: np.ndarray, min_silence_s: float) -> list[tuple[float, float]]:
    """Speech segments from Silero VAD, in seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps  # local: heavy import

    options = VadOptions(threshold=0.5, min_silence_duration_ms=int(min_silence_s * 1000), speech_pad_ms=30,
                         min_speech_duration_ms=100)
    return [(c["start"] / SR, c["end"] / SR) for c in get_speech_timestamps(audio, options)]


def _mfcc(audio: np.ndarray) -> np.ndarray:
    """MFCC 1-12 per 10 ms frame, (frames, 12)."""
    import librosa  # local: heavy import

    return librosa.feature.mfcc(y=audio, sr=SR, n_mfcc=13, n_fft=400, hop_length=HOP, n_mels=40).T[:, 1:]


def warm_sync(settings: SpeechMetricsSettings) -> None:
    """Run every step once. `measure` on a tone stops after the VAD (no speech in it), and the rest
    (librosa's lazy submodule imports and numba JIT: ~1 s holding the GIL) would otherwise land
    on the first real answer and stall every other session's event loop meanwhile."""
    t = np.arange(2 * SR, dtype=np.float32) / SR
    tone = (0.2 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 1.5 * t) > 0)).astype(np.float32)
    measure(tone, settings)
    frames = frame_features(tone)
    detect_filled_pauses(frames, frames.aperiodicity < 0.45, _mfcc(tone), 150.0)


def measure(audio: np.ndarray, settings: SpeechMetricsSettings) -> AcousticMeasures:
    """Blocking analysis of one answer; call from a worker thread."""
    duration = audio.size / SR
    segments = voice_activity(audio, settings.min_pause_s) if audio.size >= SR // 10 else []
    pauses = tuple(round(b[0] - a[1], 3) for a, b in itertools.pairwise(segments) if b[0] - a[1] >= settings.min_pause_s)
    speaking = sum(e - s for s, e in segments)
    base = AcousticMeasures(duration_s=round(duration, 3), speech_segments=tuple((round(s, 3), round(e, 3)) for s, e in segments),
                            speaking_time_s=round(speaking, 3), pauses=pauses)
    if not segments:
        return base
    frames = frame_features(audio)
    times = frames.times
    in_speech = np.zeros(times.size, dtype=bool)
    for s, e in segments:
        in_speech |= (times >= s) & (times < e)
    loud_end = float(np.percentile(frames.db[in_speech], 99)) if in_speech.any() else float(frames.db.max())
    voiced = (frames.aperiodicity < _APERIODICITY_VOICED) & (frames.db > loud_end - _FLOOR_BELOW_PEAK_DB) & in_speech
    pitch_median = pitch_var = None
    if voiced.sum() >= _MIN_VOICED_FRAMES:
        f0 = frames.f0[voiced]
        pitch_median = float(np.median(f0))
        st = semitones(f0, pitch_median)
        st = st[np.abs(st) < 12]  # octave errors of the tracker are not intonation
        pitch_var = float(np.std(st))
    speech_db = frames.db[in_speech]
    loudness = float(10 * np.log10(np.mean(10 ** (speech_db / 10)))) if speech_db.size else None
    loudness_var = float(np.std(speech_db)) if speech_db.size else None
    fillers: tuple = ()
    if settings.acoustic_fillers:
        mfcc = _mfcc(audio)
        soft_voiced = (frames.aperiodicity < 0.45) & (frames.db > loud_end - _FLOOR_BELOW_PEAK_DB) & (frames.f0 > 65)
        fillers = tuple(detect_filled_pauses(frames, soft_voiced, mfcc, pitch_median))
    return AcousticMeasures(
        duration_s=base.duration_s, speech_segments=base.speech_segments, speaking_time_s=base.speaking_time_s, pauses=pauses,
        pitch_median_hz=round(pitch_median, 1) if pitch_median is not None else None,
        pitch_variability_st=round(pitch_var, 2) if pitch_var is not None else None,
        loudness_db=round(loudness, 1) if loudness is not None else None,
        loudness_variability_db=round(loudness_var, 1) if loudness_var is not None else None,
        filled_pauses=fillers,
    )


class LibrosaSpeechMetrics:
    """The default speech-metrics engine."""

    name = "librosa"

    def __init__(self, settings: SpeechMetricsSettings, concurrency: int = 1) -> None:
        self.settings = settings
        self._workers = InferenceWorkers(concurrency, "speech-metrics")
        self._calls = 0

    async def analyse(self, audio: np.ndarray) -> AcousticMeasures:
        result = await self._workers.run(measure, audio, self.settings)
        self._calls += 1
        return result

    async def warm(self) -> None:
        """Pay librosa's lazy imports, numba JIT and the VAD model load now, not on the first answer."""
        await self._workers.run(warm_sync, self.settings)

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "backend": self.name, "calls": self._calls, "acoustic_fillers": self.settings.acoustic_fillers}

    async def aclose(self) -> None:
        await self._workers.close()
