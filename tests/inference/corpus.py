"""Labelled speech material for the speech-measure checks, built from the repository's recordings.

Three sets, kept apart on purpose (a figure measured on the clips that chose a method is no accuracy claim):

- `development_clips()`: the four recordings with fillers (one speaker, MFA). Methods and thresholds
  were chosen on these; the leave-one-recording-out figure in `bench/stt_validity.py` is measured here.
- `spliced_clips()`: real filled pauses cut from the development recordings, spliced at known places into
  *other* speakers' fluent speech (the JFK and LibriSpeech recordings, each also pitch-shifted and
  slowed into further voices, and Piper's synthetic voice), at -6, 0 and +4 dB against the carrier's
  speech level, plus each carrier untouched (no filler: every count found there is a false positive).
  No filler token is spliced into a recording it came from.
- `hesitant_clips()`: 6-9 s of "uh ... um ... uh" hesitation with a few words, the speech on which
  unbounded decoding ran away (temperature fallbacks, repetition loops).

Everything is computed from the recordings (deterministically), nothing is downloaded.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.inference.speech_helpers import SPEECH, load, reference, reference_fillers

SR = 16_000


@dataclass(frozen=True)
class Clip:
    name: str
    audio: np.ndarray = field(repr=False)
    text: str  # verbatim reference, fillers included
    group: str  # development | spliced | fluent | hesitant
    events: tuple[tuple[str, float, float], ...] = ()  # (kind, start s, end s) of each spliced filler

    @property
    def fillers(self) -> Counter[str]:
        return reference_fillers(self.text)

    @property
    def seconds(self) -> float:
        return self.audio.size / SR


# Filled pauses in the development recordings (seconds), located with the acoustic detector and
# Whisper's word times and checked against the level contour: each lies between two quieter stretches.
FILLER_TOKENS: tuple[tuple[str, str, float, float], ...] = (
    ("acoustic_corpus.wav", "um", 8.07, 8.57),
    ("acoustic_corpus.wav", "uh", 14.55, 15.22),
    ("acoustic_corpus.wav", "um", 22.96, 23.58),
    ("mfa_uh.flac", "uh", 2.38, 3.68),
    ("mfa_um.flac", "um", 3.84, 5.20),
)

_PIPER_TEXTS = (
    "In my last role I led the migration of our billing system to a new database.",
    "The main problem was that every release took a whole weekend.",
    "I wrote the rollout plan and I talked to each team about the risks.",
    "As a result we cut the release time from two days to three hours.",
)


def development_clips() -> list[Clip]:
    paths = sorted(p for p in (SPEECH / "fillers").iterdir() if p.suffix in (".wav", ".flac"))
    return [Clip(p.name, load(p), reference(p), "development") for p in paths]


def _faded(audio: np.ndarray, ms: float = 15.0) -> np.ndarray:
    n = min(int(ms * SR / 1000), audio.size // 2)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out = audio.copy()
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out


def _level_db(audio: np.ndarray) -> float:
    """Level of the loud half of 20 ms frames: the speech, not the pauses."""
    n = SR // 50
    frames = audio[: audio.size // n * n].reshape(-1, n).astype(np.float64)
    power = np.mean(frames**2, axis=1)
    loud = power[power >= np.median(power)]
    return float(10 * np.log10(np.mean(loud) + 1e-12))


@functools.cache
def filler_bank() -> tuple[tuple[str, str, np.ndarray], ...]:
    """(source recording, kind, audio) for every token in FILLER_TOKENS."""
    out = []
    for source, kind, start, end in FILLER_TOKENS:
        audio = load(SPEECH / "fillers" / source)
        out.append((source, kind, _faded(audio[int(start * SR): int(end * SR)])))
    return tuple(out)


def _quiet_gaps(audio: np.ndarray, min_s: float = 0.08) -> list[float]:
    """Centres of stretches at least `min_s` long that are 20 dB below the speech level (pauses between words)."""
    n = SR // 100
    frames = audio[: audio.size // n * n].reshape(-1, n).astype(np.float64)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    quiet = db < max(_level_db(audio) - 20, float(np.percentile(db, 10)) + 6)
    gaps, start = [], None
    for i, q in enumerate([*quiet.tolist(), False]):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if (i - start) / 100 >= min_s and start > 80 and i < len(quiet) - 80:  # not the lead-in or the tail
                gaps.append((start + i) / 200)
            start = None
    return gaps


def _splice(carrier: np.ndarray, tokens: list[tuple[str, np.ndarray]], gain_db: float
            ) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """Insert each token (with 150 ms of the carrier's own pause level either side) into its own gap."""
    gaps = _quiet_gaps(carrier)
    if not gaps:
        raise ValueError("carrier has no pause to splice into")
    chosen = [gaps[round(i * (len(gaps) - 1) / max(1, len(tokens) - 1))] if len(tokens) > 1 else gaps[len(gaps) // 2]
              for i in range(len(tokens))]
    level = _level_db(carrier)
    pieces: list[np.ndarray] = []
    events: list[tuple[str, float, float]] = []
    last = length = 0
    pad = np.zeros(int(0.15 * SR), np.float32)
    for at, (kind, token) in sorted(zip(chosen, tokens, strict=True), key=lambda x: x[0]):
        cut = int(at * SR)
        scaled = token * np.float32(10 ** ((level + gain_db - _level_db(token)) / 20))
        length += cut - last + pad.size
        events.append((kind, round(length / SR, 3), round((length + scaled.size) / SR, 3)))
        length += scaled.size + pad.size
        pieces += [carrier[last:cut], pad, scaled, pad]
        last = cut
    pieces.append(carrier[last:])
    return np.concatenate(pieces).astype(np.float32), events


@functools.cache
def _piper_voice_clip(length_scale: float) -> np.ndarray:
    from piper import SynthesisConfig

    from app.inference.tts.piper_engine import _load_voice, default_voice

    voice = _load_voice(*default_voice(), False)
    config = SynthesisConfig(length_scale=length_scale, noise_scale=0.0, noise_w_scale=0.0)  # deterministic
    rate = int(voice.config.sample_rate)
    parts = []
    for sentence in _PIPER_TEXTS:
        pcm = b"".join(c.audio_int16_bytes for c in voice.synthesize(sentence, config))
        parts += [np.frombuffer(pcm, np.int16).astype(np.float32) / 32768, np.zeros(int(0.35 * rate), np.float32)]
    audio = np.concatenate(parts)
    import soxr

    return np.asarray(soxr.resample(audio, rate, SR), dtype=np.float32)


@functools.cache
def carriers() -> tuple[tuple[str, np.ndarray, str], ...]:
    """Fluent speech by speakers other than the development speaker: (name, audio, reference)."""
    import librosa

    jfk = load(SPEECH / "clean" / "jfk.flac")
    libri = load(SPEECH / "clean" / "61-70968-0000.flac")
    jfk_text, libri_text = reference(SPEECH / "clean" / "jfk.flac"), reference(SPEECH / "clean" / "61-70968-0000.flac")
    piper_text = " ".join(_PIPER_TEXTS)
    return (
        ("jfk", jfk, jfk_text),
        ("jfk+2st", librosa.effects.pitch_shift(jfk, sr=SR, n_steps=2).astype(np.float32), jfk_text),
        ("libri", libri, libri_text),
        ("libri-2st", librosa.effects.pitch_shift(libri, sr=SR, n_steps=-2).astype(np.float32), libri_text),
        ("piper", _piper_voice_clip(1.0), piper_text),
        ("piper-slow", _piper_voice_clip(1.25), piper_text),
    )


@functools.cache
def spliced_clips() -> tuple[Clip, ...]:
    bank = filler_bank()
    clips = []
    for c, (name, audio, text) in enumerate(carriers()):
        clips.append(Clip(f"{name}/none", audio, text, "fluent"))
        for g, gain in enumerate((-6.0, 0.0, 4.0)):
            picks = [bank[(c + g + k) % len(bank)] for k in range(2 if audio.size < 8 * SR else 3)]
            spliced, events = _splice(audio, [(kind, token) for _, kind, token in picks], gain)
            kinds = " ".join(kind for kind, _, _ in events)
            clips.append(Clip(f"{name}/{gain:+.0f}dB", spliced, f"{text} {kinds}", "spliced", tuple(events)))
    return tuple(clips)


@functools.cache
def hesitant_clips() -> tuple[Clip, ...]:
    """Hesitation only: filler tokens separated by 0.4-1.6 s of near-silence, 5-10 s in all."""
    bank = filler_bank()
    rng = np.random.default_rng(7)
    clips = []
    for i in range(4):
        parts: list[np.ndarray] = [np.zeros(int(0.3 * SR), np.float32)]
        events = []
        at = parts[0].size
        for k in range(4 + i % 2):
            _, kind, token = bank[(i + k) % len(bank)]
            events.append((kind, round(at / SR, 3), round((at + token.size) / SR, 3)))
            parts += [token, (0.002 * rng.standard_normal(int(rng.uniform(0.4, 1.6) * SR))).astype(np.float32)]
            at += token.size + parts[-1].size
        audio = np.concatenate(parts).astype(np.float32)
        clips.append(Clip(f"hesitant-{i}", audio, " ".join(k for k, _, _ in events), "hesitant", tuple(events)))
    return tuple(clips)


def long_answer(seconds: float = 300.0) -> np.ndarray:
    """A long answer made of every recording here, repeated: for the real-time factor and fair-sharing checks."""
    pieces = [c.audio for c in development_clips()] + [a for _, a, _ in carriers()[::2]]
    gap = np.zeros(int(0.6 * SR), np.float32)
    joined = np.concatenate([x for p in pieces for x in (p, gap)])
    reps = int(np.ceil(seconds * SR / joined.size))
    return np.tile(joined, reps)[: int(seconds * SR)]


def source_of(clip_name: str) -> Path:
    return SPEECH / clip_name
