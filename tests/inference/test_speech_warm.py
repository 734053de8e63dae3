"""Warm-up really pays the one-time costs: the first real answer imports nothing new."""

from __future__ import annotations

import subprocess
import sys

from tests.inference.speech_helpers import ROOT, SPEECH

_SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from app.inference.speech_metrics.librosa_backend import measure, warm_sync
from app.settings import SpeechMetricsSettings
from tests.inference.speech_helpers import load
settings = SpeechMetricsSettings()
audio = load(Path({str(SPEECH / "fillers" / "acoustic_corpus.wav")!r}))
warm_sync(settings)
before = set(sys.modules)
measures = measure(audio, settings)
assert measures.filled_pauses and measures.pitch_median_hz, measures
print(sorted(set(sys.modules) - before))
"""


def test_first_real_analysis_after_warm_imports_nothing() -> None:
    """Lazy imports and numba JIT left to the first answer hold the GIL for ~1 s: every other
    session's event loop stalls meanwhile (measured as a 100-150 ms ping p99 in bench/stt.py)."""
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout[-2000:]
