"""Decoding client audio with PyAV, and its limits."""

from __future__ import annotations

import base64
import io

import av
import numpy as np
import pytest

from app.errors import InvalidInput, PayloadTooLarge
from app.inference.audio import StreamResampler, decode_audio, decode_base64, float_to_pcm16, pcm16_to_float


def tone(seconds: float = 1.0, rate: int = 48000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def encode(fmt: str, codec: str, rate: int = 48000, seconds: float = 1.0) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        samples = tone(seconds, rate)
        fmt_name = stream.codec_context.codec.audio_formats[0].name if stream.codec_context.codec.audio_formats else "s16"
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        resampler = av.AudioResampler(format=fmt_name, layout="mono", rate=rate)
        for piece in resampler.resample(frame):
            for packet in stream.encode(piece):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


FORMATS = [("wav", "pcm_s16le"), ("flac", "flac"), ("ogg", "libopus"), ("webm", "libopus"), ("mp3", "libmp3lame")]


@pytest.mark.parametrize(("fmt", "codec"), FORMATS)
def test_every_client_format_decodes_to_16k_mono(fmt: str, codec: str) -> None:
    audio = decode_audio(encode(fmt, codec), max_seconds=10)
    assert audio.dtype == np.float32
    assert audio.size == pytest.approx(16000, abs=1200)  # codec priming and padding
    spectrum = np.abs(np.fft.rfft(audio[2000:14000]))
    assert np.fft.rfftfreq(12000, 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=5)


def test_garbage_is_invalid_audio() -> None:
    with pytest.raises(InvalidInput) as err:
        decode_audio(b"this is not audio at all" * 50, max_seconds=10)
    assert err.value.code == "invalid_audio"
    with pytest.raises(InvalidInput):
        decode_audio(b"", max_seconds=10)


def test_too_long_audio_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        decode_audio(encode("wav", "pcm_s16le", seconds=3), max_seconds=2)
    assert err.value.code == "audio_too_long"


def test_base64_limits() -> None:
    assert decode_base64(base64.b64encode(b"abc").decode(), max_bytes=100) == b"abc"
    with pytest.raises(PayloadTooLarge):
        decode_base64("A" * 4000, max_bytes=1000)
    with pytest.raises(InvalidInput) as err:
        decode_base64("not base64 !!", max_bytes=1000)
    assert err.value.code == "invalid_audio"


def test_pcm16_round_trip_and_odd_frames() -> None:
    x = tone(0.1, 16000)
    assert np.allclose(pcm16_to_float(float_to_pcm16(x)), x, atol=1 / 32768)
    with pytest.raises(InvalidInput):
        pcm16_to_float(b"\x00\x01\x02")


def test_stream_resampler_has_no_seams() -> None:
    x = tone(1.0, 48000)
    pcm = float_to_pcm16(x)
    resampler = StreamResampler(48000)
    chunks = [resampler.push(pcm[i:i + 9600]) for i in range(0, len(pcm), 9600)]
    chunks.append(resampler.push(b"", last=True))
    y = np.concatenate(chunks)
    assert y.size == pytest.approx(16000, abs=50)
    t = np.arange(y.size) / 16000
    assert np.max(np.abs(y[200:-200] - 0.3 * np.sin(2 * np.pi * 440 * t[200:-200]))) < 0.02
