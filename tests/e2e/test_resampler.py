"""The browser's 48 kHz -> 16 kHz resampler (app/static/pcm-worklet.js), run in Node on real signals.

The microphone path must give Whisper what a recording sent whole gives it: no aliasing of the
8-16 kHz band (fricatives) into the speech band, and the speech band passed unchanged.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soxr

from tests.inference.speech_helpers import SPEECH, load

WORKLET = Path(__file__).resolve().parents[2] / "app" / "static" / "pcm-worklet.js"
RUNNER = """
const { SincResampler } = require(process.argv[1]);
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const raw = Buffer.concat(chunks);
  const input = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  const out = [];
  const r = new SincResampler(Number(process.argv[2]), 16000);
  for (let i = 0; i < input.length; i += 128) {  // render quanta, as the audio thread delivers them
    for (let j = i; j < Math.min(i + 128, input.length); j++) r.push(input[j], (v) => out.push(v));
  }
  r.flush((v) => out.push(v));
  process.stdout.write(Buffer.from(new Float32Array(out).buffer));
});
"""


def browser_resample(audio: np.ndarray, rate: int) -> np.ndarray:
    node = shutil.which("node")
    assert node, "Node.js is installed by `make system-test-deps`"
    result = subprocess.run([node, "-e", RUNNER, str(WORKLET), str(rate)], input=audio.astype(np.float32).tobytes(),
                            capture_output=True, check=True, timeout=120)
    return np.frombuffer(result.stdout, np.float32)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@pytest.mark.parametrize("rate", [48000, 44100])
def test_tones_above_8_khz_do_not_alias_and_speech_band_passes(rate: int) -> None:
    t = np.arange(rate) / rate
    for freq, low, high in ((1000, 0.97, 1.03), (3000, 0.97, 1.03), (6500, 0.9, 1.05), (11000, 0.0, 0.01), (14000, 0.0, 0.01)):
        tone = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        out = browser_resample(tone, rate)[2000:-2000]
        gain = _rms(out) / _rms(tone)
        assert low <= gain <= high, (rate, freq, gain)


def test_speech_through_the_browser_resampler_matches_a_reference_resampler() -> None:
    speech16 = load(SPEECH / "clean" / "jfk.flac")
    speech48 = soxr.resample(speech16, 16000, 48000).astype(np.float32)
    rng = np.random.default_rng(0)
    # A microphone hears more than 8 kHz: add fricative-band energy that must not fold back into the speech band.
    high = np.fft.irfft(np.fft.rfft(rng.standard_normal(speech48.size)) * (np.fft.rfftfreq(speech48.size, 1 / 48000) > 9000))
    mic = (speech48 + 0.05 * high / _rms(high) * _rms(speech48)).astype(np.float32)
    ours = browser_resample(mic, 48000)
    reference = soxr.resample(mic, 48000, 16000).astype(np.float32)
    n = min(ours.size, reference.size)
    error = ours[:n] - reference[:n]
    snr_db = 20 * np.log10(_rms(reference[:n]) / _rms(error))
    assert snr_db > 30, snr_db
