"""What an answer assessment is: scores on the published rubric, with reasons and evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from app.services.assessment.rubric import Rubric
from app.services.text_analysis import TextAnalysis

AssessmentSource = Literal["heuristic", "llm"]


@dataclass(frozen=True)
class AnswerContext:
    """One answer and what it answered: all a scorer may use."""

    question_id: str
    question_text: str
    category: str
    is_follow_up: bool
    answer_text: str
    analysis: TextAnalysis
    metrics: Mapping[str, Any]
    # the question a follow-up follows (its bank id without '~fu'), for relevance
    parent_question_id: str | None = None


@dataclass(frozen=True)
class DimensionScore:
    score: int | None  # 1..5, None when not measured (delivery of a typed answer)
    reason: str
    evidence: str | None  # the candidate's own words in quotes, or the measures it rests on


@dataclass(frozen=True)
class Assessment:
    dimensions: dict[str, DimensionScore]
    overall: float | None
    improve: str
    source: AssessmentSource
    rubric_version: int
    # What the heuristics found missing (e.g. "result", "own_part", "number"): follow-ups name these.
    missing: tuple[str, ...] = ()
    delivery_parts: dict[str, int | None] = field(default_factory=dict)
    model: str | None = None
    latency_ms: float | None = None
    fallback_reason: str | None = None

    @property
    def scores(self) -> dict[str, int | None]:
        return {name: d.score for name, d in self.dimensions.items()}

    @property
    def evidence(self) -> dict[str, str | None]:
        return {name: d.evidence for name, d in self.dimensions.items()}

    @property
    def reasons(self) -> dict[str, str]:
        return {name: d.reason for name, d in self.dimensions.items()}

    def details(self) -> dict[str, Any]:
        """The JSON kept next to the score columns."""
        return {"reasons": self.reasons, "evidence": self.evidence, "delivery_parts": self.delivery_parts,
                "missing": list(self.missing)}


def overall_score(rubric: Rubric, scores: Mapping[str, int | None]) -> float | None:
    """Weighted mean of the scored dimensions (rubric weights), one decimal; None when none is scored."""
    total = weight = 0.0
    for name, value in scores.items():
        if value is None:
            continue
        w = rubric.weights.get(name, 1.0)
        total += w * value
        weight += w
    return round(total / weight, 1) if weight else None
