"""Spoken answers: from a transcript and acoustic measures to the metrics the coach and research use.

Filler counting combines two kinds of evidence (see `count_fillers_spoken`):
1. the words Whisper wrote, transcribed with a prompt in verbatim style that makes it keep
   many "um"/"uh" it would otherwise drop, counted like a text answer;
2. acoustic filled-pause candidates (voiced, steady pitch and formants) that the transcript
   cannot explain: they lie in a gap between words, or inside a word that Whisper stretched
   far beyond its length to cover a filler it dropped. A candidate next to a transcribed
   filler is that filler and is not counted twice.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import EngineUnavailable, InvalidInput
from app.inference.speech_metrics.base import AcousticMeasures, SpeechMetricsEngine
from app.inference.speech_metrics.filled_pauses import MURMUR_RATIO, NASAL_END_RATIO, FilledPause
from app.inference.stt.base import SpeechToText, Transcript, Word
from app.services.speech_stream import transcribe_windows
from app.services.text_analysis import _VOCAL_FILLERS, count_fillers, words
from app.settings import SpeechMetricsSettings, SttSettings

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_NEAR_TRANSCRIBED_FILLER_S = 1.0
_GAP_MAX_COVERED = 0.3  # a candidate at most this much inside (non-filler) words lies in a gap
_STRETCHED_MIN_S = 1.0  # a word this long and 3x its expected length was stretched over something
# Whisper's word times stretch the word before (or after) a filler it dropped over the filler, so "in a
# gap between words" misses most real fillers on voices it was not tuned on. A held, flat vowel this long
# is a filler wherever the words' times put it: stressed vowels of ordinary words are far shorter. Chosen
# by leave-one-recording-out over the development clips and checked on fillers spliced into other
# speakers' speech (bench/stt_validity.py; README "Accuracy").
LONG_FILLER_S = 0.35


def syllables(word: str) -> int:
    """Vowel groups, less a silent final e: good to about 10 % on running English."""
    w = word.lower()
    n = len(_VOWEL_GROUPS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee")) and n > 1:
        n -= 1
    return max(1, n)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _is_vocal_filler(word: Word) -> bool:
    token = words(word.word)
    return len(token) == 1 and token[0] in _VOCAL_FILLERS


def acoustic_fillers_missed(transcript_words: tuple[Word, ...], candidates: tuple[FilledPause, ...],
                            long_filler_s: float = LONG_FILLER_S) -> list[FilledPause]:
    """The acoustic candidates that are fillers the transcript dropped."""
    spoken = [w for w in transcript_words if not _is_vocal_filler(w)]
    open_candidates = list(candidates)
    # Each filler Whisper wrote explains the nearest candidate: its times are often off
    # by half a second and zero-length, so match one to one by distance, not by overlap.
    for f in (w for w in transcript_words if _is_vocal_filler(w)):
        def distance(c: FilledPause, f: Word = f) -> float:
            return max(0.0, c.start - f.end, f.start - c.end)

        if open_candidates:
            nearest = min(open_candidates, key=distance)
            if distance(nearest) <= _NEAR_TRANSCRIBED_FILLER_S:
                open_candidates.remove(nearest)
    missed = []
    for c in open_candidates:
        length = c.end - c.start
        covered = sum(_overlap(c.start, c.end, w.start, w.end) for w in spoken)
        if covered <= _GAP_MAX_COVERED * length or length >= long_filler_s:
            missed.append(c)
            continue
        for w in spoken:
            span = w.end - w.start
            expected = 0.15 + 0.2 * syllables(w.word)
            if span >= _STRETCHED_MIN_S and span >= 3 * expected and _overlap(c.start, c.end, w.start, w.end) >= 0.5 * length:
                missed.append(c)
                break
    return missed


def count_fillers_spoken(transcript: Transcript, measures: AcousticMeasures | None, *, long_filler_s: float = LONG_FILLER_S,
                         nasal_end_ratio: float = NASAL_END_RATIO, murmur_ratio: float = MURMUR_RATIO) -> tuple[Counter[str], int]:
    """Filler counts per type, and how many of them only the acoustic detector found.

    The keyword arguments are the choices `bench/stt_validity.py` evaluates; the defaults are its choice."""
    counts = count_fillers(words(transcript.text))
    added = acoustic_fillers_missed(transcript.words, measures.filled_pauses, long_filler_s) if measures else []
    for c in added:
        counts[c.kind_at(nasal_end_ratio, murmur_ratio)] += 1
    return counts, len(added)


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def speech_metrics(transcript: Transcript, measures: AcousticMeasures | None, settings: SpeechMetricsSettings) -> dict[str, Any]:
    """Server-measured metrics of a spoken answer; None where something could not be measured."""
    tokens = words(transcript.text)
    counts, acoustic_only = count_fillers_spoken(transcript, measures)
    n_words = len(tokens)
    filler_count = sum(counts.values())
    m: dict[str, Any] = {
        "word_count": n_words, "duration_s": transcript.duration_s, "filler_count": filler_count,
        "fillers": dict(counts), "fillers_acoustic_only": acoustic_only,
        "fillers_per_100_words": round(100 * filler_count / n_words, 2) if n_words else None,
        "asr_confidence": round(float(np.mean([w.probability for w in transcript.words])), 3) if transcript.words else None,
    }
    if measures is None:
        return m
    span, speaking = measures.speech_span_s, measures.speaking_time_s
    long_pauses = [p for p in measures.pauses if p > settings.long_pause_s]
    m.update({
        "duration_s": measures.duration_s, "speaking_time_s": speaking,
        "speaking_rate_wpm": round(60 * n_words / span, 1) if span > 0 and n_words else None,
        "articulation_rate": round(sum(syllables(t) for t in tokens) / speaking, 2) if speaking > 0 and n_words else None,
        "pause_ratio": round(sum(measures.pauses) / span, 3) if span > 0 else None,
        "pause_count": len(measures.pauses), "long_pause_count": len(long_pauses),
        "mean_pause_s": round(float(np.mean(measures.pauses)), 3) if measures.pauses else None,
        "fillers_per_min": round(60 * filler_count / span, 2) if span > 0 else None,
        "pitch_median_hz": measures.pitch_median_hz, "pitch_variability_st": measures.pitch_variability_st,
        "monotone": (measures.pitch_variability_st < settings.monotone_st) if measures.pitch_variability_st is not None else None,
        "loudness_db": measures.loudness_db, "loudness_variability_db": measures.loudness_variability_db,
    })
    m["clarity_score"] = clarity_score(m["asr_confidence"], measures.loudness_db)
    m["fluency_score"] = fluency_score(m["fillers_per_100_words"], m["pause_ratio"], len(long_pauses), m["speaking_rate_wpm"])
    return m


def clarity_score(asr_confidence: float | None, loudness_db: float | None) -> float | None:
    """100 x (0.7 x mean Whisper word probability + 0.3 x level), level = (dBFS + 50) / 30 clipped to 0..1."""
    if asr_confidence is None or loudness_db is None:
        return None
    return round(100 * (0.7 * asr_confidence + 0.3 * _clip((loudness_db + 50) / 30)), 1)


def fluency_score(fillers_per_100: float | None, pause_ratio: float | None, long_pauses: int, wpm: float | None) -> float | None:
    """100 - 40 min(1, F/10) - 25 min(1, P/0.5) - 15 min(1, L/3) - 20 min(1, |wpm - 140| / 80)."""
    if fillers_per_100 is None or pause_ratio is None or wpm is None:
        return None
    score = 100 - 40 * _clip(fillers_per_100 / 10) - 25 * _clip(pause_ratio / 0.5) - 15 * _clip(long_pauses / 3) \
        - 20 * _clip(abs(wpm - 140) / 80)
    return round(score, 1)


@dataclass(frozen=True)
class SpokenAnswer:
    transcript: Transcript
    metrics: dict[str, Any]


class SpeechService:
    """Turns audio into a transcript and server metrics. Knows nothing of sockets."""

    def __init__(self, stt: SpeechToText | None, metrics: SpeechMetricsEngine | None, settings: SpeechMetricsSettings,
                 stt_settings: SttSettings | None = None) -> None:
        self.stt = stt
        self.metrics_engine = metrics
        self.settings = settings
        self.stt_settings = stt_settings or SttSettings()

    def require_stt(self) -> SpeechToText:
        if self.stt is None:
            raise EngineUnavailable("spoken answers need the speech-to-text engine, which is not available")
        return self.stt

    async def measure(self, audio: np.ndarray, transcript: Transcript,
                      analysis: asyncio.Task[AcousticMeasures] | None = None) -> SpokenAnswer:
        """Metrics of an answer; `analysis` is an acoustic analysis already started (`start_analysis`)."""
        if not transcript.text.strip():
            if analysis is not None:
                analysis.cancel()
            raise InvalidInput("no speech was recognised in the audio", code="empty_transcript")
        if analysis is not None:
            measures: AcousticMeasures | None = await analysis
        else:
            measures = await self.metrics_engine.analyse(audio) if self.metrics_engine is not None else None
        return SpokenAnswer(transcript, speech_metrics(transcript, measures, self.settings))

    def start_analysis(self, audio: np.ndarray) -> asyncio.Task[AcousticMeasures] | None:
        """Start the acoustic analysis now, to overlap the last transcription pass of a streamed answer
        (that pass is short; the analysis of 30 s takes ~0.2 s of one core, in its own thread)."""
        if self.metrics_engine is None:
            return None
        return asyncio.ensure_future(self.metrics_engine.analyse(audio))

    async def transcribe_clip(self, audio: np.ndarray) -> Transcript:
        """A whole clip, cut into windows at pauses exactly as a stream of it would be (same words), each
        window a separate job for the engine's fair scheduler. The acoustic analysis (`measure`) follows,
        so the transcript is not held up by it and the two do not fight over the same cores."""
        transcript = await transcribe_windows(self.require_stt(), audio, self.stt_settings)
        if not transcript.text.strip():
            raise InvalidInput("no speech was recognised in the audio", code="empty_transcript")
        return transcript
