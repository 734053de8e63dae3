"""Fake capture devices for Chromium, made at test time from the repository's test media.

Chromium's `--use-file-for-fake-audio-capture` wants a 16-bit PCM WAV and
`--use-file-for-fake-video-capture` a Y4M (YUV4MPEG2) video; both play in a loop.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import soundfile as sf
from scipy.signal import resample_poly


def make_wav(source: Path, target: Path, rate: int = 48_000, lead_s: float = 0.5, tail_s: float = 4.0) -> float:
    """Mono 16-bit WAV at `rate` with silence before and after; returns the speech's length in seconds."""
    audio, source_rate = sf.read(source, dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if source_rate != rate:
        from math import gcd

        g = gcd(rate, source_rate)
        mono = resample_poly(mono, rate // g, source_rate // g).astype(np.float32)
    silence = np.zeros(int(rate * lead_s), np.float32), np.zeros(int(rate * tail_s), np.float32)
    sf.write(target, np.concatenate([silence[0], mono, silence[1]]), rate, subtype="PCM_16")
    return len(mono) / rate


def make_y4m(photo: Path, target: Path, width: int = 640, height: int = 480, fps: int = 10, frames: int = 10) -> None:
    """A still-image video: the photo centred on a grey 4:3 canvas, as I420 frames."""
    image = cv2.imread(str(photo))
    assert image is not None, photo
    scale = min(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(image, (int(image.shape[1] * scale) // 2 * 2, int(image.shape[0] * scale) // 2 * 2))
    canvas = np.full((height, width, 3), 128, np.uint8)
    y0, x0 = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    canvas[y0:y0 + resized.shape[0], x0:x0 + resized.shape[1]] = resized
    i420 = cv2.cvtColor(canvas, cv2.COLOR_BGR2YUV_I420).tobytes()
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(i420)
