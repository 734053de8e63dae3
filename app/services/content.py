"""Style cards, question bank and study policy, loaded once from the data files in app/data."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.settings import StudySettings

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class StyleCard:
    name: str
    label: str
    description: str
    tone: str
    follow_up_rate: float
    acknowledgements: tuple[str, ...]
    follow_ups: dict[str, str]
    tip_prefix: str
    closing: str
    silence_prompt: str = "Take your time — whenever you're ready."
    # "strong" | "partial" | "brief" -> acknowledgements that fit an answer of that kind
    acknowledgements_by_fit: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Said the moment a hands-free answer is over, before anything is known about it: neutral, no praise.
    turn_cues: tuple[str, ...] = ("All right.",)


@dataclass(frozen=True)
class BankQuestion:
    id: str
    category: str
    text: str


@dataclass(frozen=True)
class GroupPolicy:
    tips: str  # "none" | "after_each_answer"
    live_nudges: bool
    assessment: str = "after_each_answer"  # "none" | "after_each_answer": rubric scores during the interview
    report: str = "any_time"  # "any_time" | "after_end" | "never": when the participant may open the report

    @property
    def gives_assessment(self) -> bool:
        return self.assessment == "after_each_answer"

    @property
    def gives_tips(self) -> bool:
        return self.tips == "after_each_answer"


@dataclass(frozen=True)
class StudyPolicy:
    groups: dict[str, GroupPolicy]
    when_group_missing: str  # "error" | "block_randomised"
    block_size: int
    seed: int
    abandoned_after_minutes: int
    # self-reported attributes a study may collect: name -> allowed values (fairness breakdowns)
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    attribute_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Content:
    styles: dict[str, StyleCard]
    questions: tuple[BankQuestion, ...]
    policy: StudyPolicy

    @property
    def style_names(self) -> list[str]:
        return sorted(self.styles)

    def question(self, question_id: str) -> BankQuestion | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def plan(self, count: int, seed: str) -> list[str]:
        """A reproducible plan that rotates through the categories, so short plans stay varied."""
        rng = random.Random(seed)
        by_category: dict[str, list[BankQuestion]] = {}
        for q in self.questions:
            by_category.setdefault(q.category, []).append(q)
        pools = {c: rng.sample(qs, len(qs)) for c, qs in sorted(by_category.items())}
        order = rng.sample(sorted(pools), len(pools))
        plan: list[str] = []
        while len(plan) < count and any(pools.values()):
            for category in order:
                if pools[category] and len(plan) < count:
                    plan.append(pools[category].pop().id)
        return plan


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache
def load_content(data_dir: Path = DATA_DIR) -> Content:
    styles = {}
    for path in sorted((data_dir / "styles").glob("*.json")):
        raw = _load_json(path)
        styles[raw["name"]] = StyleCard(
            name=raw["name"],
            label=raw["label"],
            description=raw["description"],
            tone=raw["tone"],
            follow_up_rate=float(raw["follow_up_rate"]),
            acknowledgements=tuple(raw["acknowledgements"]),
            follow_ups=dict(raw["follow_ups"]),
            tip_prefix=raw["tip_prefix"],
            closing=raw["closing"],
            silence_prompt=raw.get("silence_prompt", StyleCard.silence_prompt),
            acknowledgements_by_fit={k: tuple(v) for k, v in raw.get("acknowledgements_by_fit", {}).items()},
            turn_cues=tuple(raw.get("turn_cues", ("All right.",))),
        )
    questions = tuple(BankQuestion(**q) for q in _load_json(data_dir / "questions.json")["questions"])
    raw_policy = _load_json(data_dir / "study_policy.json")
    policy = StudyPolicy(
        groups={name: GroupPolicy(**g) for name, g in raw_policy["groups"].items()},
        when_group_missing=raw_policy["assignment"]["when_group_missing"],
        block_size=int(raw_policy["assignment"]["block_size"]),
        seed=int(raw_policy["assignment"]["seed"]),
        abandoned_after_minutes=int(raw_policy["abandoned_after_minutes"]),
        attributes={k: tuple(v["values"]) for k, v in raw_policy.get("attributes", {}).items()},
        attribute_labels={k: v.get("label", k) for k, v in raw_policy.get("attributes", {}).items()},
    )
    return Content(styles=styles, questions=questions, policy=policy)


def with_study_overrides(content: Content, study: StudySettings) -> Content:
    """Apply `STUDY__*` settings over the policy file (assignment "client" is the file's "error")."""
    policy = content.policy
    if study.assignment is not None:
        policy = replace(policy, when_group_missing="error" if study.assignment == "client" else study.assignment)
    if study.block_size is not None:
        policy = replace(policy, block_size=study.block_size)
    if study.seed is not None:
        policy = replace(policy, seed=study.seed)
    if policy.block_size % len(policy.groups):
        raise ValueError(f"block size {policy.block_size} is not a multiple of the {len(policy.groups)} groups")
    return replace(content, policy=policy)
