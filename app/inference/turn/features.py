"""Whisper-style log-mel features for Smart Turn v3 (numpy + librosa's mel filters; no torch, no transformers).

The model was trained on `transformers.WhisperFeatureExtractor(chunk_length=8)` output: the waveform
normalised to zero mean and unit variance, a centred 400-point STFT (periodic Hann, reflect padding,
hop 160), power spectrum through 80 Slaney mel filters (0-8 kHz), log10 floored at 1e-10, clamped to
8 (decades) under its maximum, then (x + 4) / 4; the last STFT frame is dropped, giving 80 x 800.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
WINDOW_S = 8
WINDOW_SAMPLES = SAMPLE_RATE * WINDOW_S
N_FFT = 400
HOP = 160
N_MELS = 80


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    import librosa  # local: heavy import

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0, fmax=SAMPLE_RATE / 2,
                               htk=False, norm="slaney", dtype=np.float64)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return np.hanning(N_FFT + 1)[:-1]  # periodic Hann (torch.hann_window)


def last_window(audio: np.ndarray) -> np.ndarray:
    """The last 8 s of `audio`, zero-padded at the front when shorter (what the model was trained on)."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if audio.size >= WINDOW_SAMPLES:
        return audio[-WINDOW_SAMPLES:]
    return np.concatenate([np.zeros(WINDOW_SAMPLES - audio.size, np.float32), audio])


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(80, 800) float32 features of exactly 8 s of 16 kHz audio (pass it through `last_window` first)."""
    x = np.asarray(audio, dtype=np.float32)
    if x.size != WINDOW_SAMPLES:
        raise ValueError(f"expected {WINDOW_SAMPLES} samples, got {x.size}")
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    pad = N_FFT // 2
    padded = np.pad(x.astype(np.float64), (pad, pad), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _window(), axis=-1)) ** 2  # (frames, 201)
    mel = np.maximum(1e-10, _mel_filters() @ power.T)  # (80, frames)
    log_spec = np.log10(mel)[:, :-1]
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).astype(np.float32)
