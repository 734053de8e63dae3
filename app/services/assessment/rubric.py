"""The published rubric (app/data/rubric.json) and the per-question relevance keywords."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DIMENSIONS = ("structure", "specificity", "relevance", "ownership", "conciseness", "delivery")
TEXT_DIMENSIONS = DIMENSIONS[:-1]  # scored from the words; delivery rests on the measures only


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    asks: str
    levels: dict[str, str]
    by_category: dict[str, str]


@dataclass(frozen=True)
class Rubric:
    version: int
    dimensions: tuple[Dimension, ...]
    weights: dict[str, float]
    word_ranges: dict[str, tuple[int, int]]
    raw: dict[str, Any]

    def dimension(self, name: str) -> Dimension:
        return next(d for d in self.dimensions if d.name == name)

    @property
    def labels(self) -> dict[str, str]:
        return {d.name: d.label for d in self.dimensions}


@lru_cache
def load_rubric(path: Path = DATA_DIR / "rubric.json") -> Rubric:
    raw = json.loads(path.read_text(encoding="utf-8"))
    dims = tuple(
        Dimension(d["name"], d["label"], d["asks"], dict(d["levels"]), dict(d.get("by_category", {})))
        for d in raw["dimensions"]
    )
    if tuple(d.name for d in dims) != DIMENSIONS:
        raise ValueError(f"rubric dimensions must be {DIMENSIONS}")
    conciseness = next(d for d in raw["dimensions"] if d["name"] == "conciseness")
    return Rubric(
        version=int(raw["version"]), dimensions=dims, weights={k: float(v) for k, v in raw["overall"]["weights"].items()},
        word_ranges={k: (int(v[0]), int(v[1])) for k, v in conciseness["word_ranges"].items()}, raw=raw,
    )


@lru_cache
def load_keywords(path: Path = DATA_DIR / "question_keywords.json") -> dict[str, tuple[tuple[str, ...], ...]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {qid: tuple(tuple(s.lower() for s in group) for group in groups) for qid, groups in raw["questions"].items()}
