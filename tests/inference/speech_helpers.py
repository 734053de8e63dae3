"""Shared helpers for the speech tests: reference transcripts, WER, filler scoring."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SPEECH = ROOT / "tests" / "data" / "speech"  # the repository's own recordings (tests/data/README.md)
FILLER_TYPES = ("um", "uh", "hmm", "you know")


def load(path: Path) -> np.ndarray:
    from app.inference.audio import decode_audio

    return decode_audio(path.read_bytes(), max_seconds=600)


def reference(path: Path) -> str:
    return path.with_suffix(".txt").read_text().strip()


def normalise(text: str) -> list[str]:
    text = text.lower().replace("yknow", "you know").replace("’", "'")
    return re.findall(r"[a-z0-9']+", text)


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def reference_fillers(text: str) -> Counter[str]:
    tokens = normalise(text)
    counts: Counter[str] = Counter(t for t in tokens if t in ("um", "uh"))
    counts["hmm"] = sum(t in ("hm", "hmm") for t in tokens)
    counts["you know"] = sum(a == "you" and b == "know" for a, b in itertools.pairwise(tokens))
    return +counts


def score_fillers(found: list[Counter[str]], expected: list[Counter[str]]) -> tuple[float, float]:
    """Recall and precision over clips and types (a count matches up to the smaller of the two)."""
    hits = sum(min(f[t], e[t]) for f, e in zip(found, expected, strict=True) for t in FILLER_TYPES)
    n_found = sum(f[t] for f in found for t in FILLER_TYPES)
    n_expected = sum(e[t] for e in expected for t in FILLER_TYPES)
    return hits / n_expected, (hits / n_found if n_found else 0.0)
