"""The heuristic scorer agrees with hand grades (graded before the scorer ever ran on them)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from app.services.content import load_content
from bench.assessment_validity import GRADED, evaluate


def test_the_graded_set_covers_every_category_with_at_least_thirty_answers() -> None:
    bank = {q.id: q.category for q in load_content().questions}
    items = json.loads(Path(GRADED).read_text(encoding="utf-8"))["answers"]
    assert len(items) >= 30
    per_category = Counter(bank[i["question_id"]] for i in items)
    assert set(per_category) == {"behavioural", "situational", "motivational", "technical"}
    assert min(per_category.values()) >= 6
    for item in items:  # every grade is on the rubric's scale, and the grades vary
        assert all(1 <= g <= 5 for g in item["grades"].values())
    for dimension in items[0]["grades"]:
        assert len({i["grades"][dimension] for i in items}) >= 3, dimension


def test_structure_and_specificity_reach_the_goal_and_no_dimension_disagrees_outright() -> None:
    result = evaluate()
    dims = result["dimensions"]
    assert dims["structure"]["spearman_rho"] >= 0.6, dims
    assert dims["specificity"]["spearman_rho"] >= 0.6, dims
    for name, d in dims.items():
        assert d["spearman_rho"] >= 0.4 and d["within_one"] >= 0.75, (name, d)
