"""Audio in: decode client clips with PyAV (its own FFmpeg, no system ffmpeg) and handle raw PCM16.

Everything leaves here as 16 kHz mono float32 in [-1, 1], the rate Whisper and the
speech metrics work at. Limits are checked while decoding, so a huge or endless
stream is refused before it is held in memory.
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np

from app.errors import InvalidInput, PayloadTooLarge

SAMPLE_RATE = 16_000


def decode_base64(data: str, *, max_bytes: int) -> bytes:
    """Base64 text to bytes, refusing anything over `max_bytes` before decoding it."""
    if len(data) * 3 // 4 > max_bytes:
        raise PayloadTooLarge(f"the audio clip is over {max_bytes} bytes", code="audio_too_large")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("audio is not valid base64", code="invalid_audio") from None


def decode_audio(data: bytes, *, max_seconds: float) -> np.ndarray:
    """Decode a WAV/FLAC/OGG-Opus/WebM-Opus/MP3 clip to 16 kHz mono float32."""
    import av  # local: heavy import, only voice answers need it

    if not data:
        raise InvalidInput("the audio clip is empty", code="invalid_audio")
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise InvalidInput("the clip has no audio stream", code="invalid_audio")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    total += chunk.size
                    if total > limit:
                        raise InvalidInput(f"the audio is longer than {max_seconds:g} s", code="audio_too_long")
                    chunks.append(chunk)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except av.error.FFmpegError as exc:  # type: ignore[attr-defined]
        raise InvalidInput(f"the audio could not be decoded ({type(exc).__name__})", code="invalid_audio") from None
    if not chunks:
        raise InvalidInput("the clip holds no audio samples", code="invalid_audio")
    audio = np.concatenate(chunks).astype(np.float32, copy=False)
    if audio.size > limit:
        raise InvalidInput(f"the audio is longer than {max_seconds:g} s", code="audio_too_long")
    return np.clip(audio, -1.0, 1.0)


def pcm16_to_float(data: bytes) -> np.ndarray:
    """Little-endian mono PCM16 bytes to float32 in [-1, 1)."""
    if len(data) % 2:
        raise InvalidInput("PCM16 frames must hold an even number of bytes", code="invalid_audio")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(audio: np.ndarray) -> bytes:
    """float32 in [-1, 1] to little-endian PCM16 bytes."""
    return (np.clip(audio, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()


class StreamResampler:
    """Resamples a PCM16 stream chunk by chunk to 16 kHz without seams between chunks."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._stream = None
        if sample_rate != SAMPLE_RATE:
            import soxr  # local: only streams at another rate need it

            self._stream = soxr.ResampleStream(sample_rate, SAMPLE_RATE, 1, dtype="float32")

    def push(self, pcm16: bytes, *, last: bool = False) -> np.ndarray:
        audio = pcm16_to_float(pcm16)
        if self._stream is None:
            return audio
        return np.asarray(self._stream.resample_chunk(audio, last=last), dtype=np.float32)
