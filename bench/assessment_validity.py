"""Agreement of the heuristic rubric scorer with hand grades (tests/assessment/graded_answers.json).

Prints Spearman's rho per dimension, the exact and within-one agreement, and the answers where
scorer and grader differ by two or more. Run: .venv/bin/python bench/assessment_validity.py [--json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.services.assessment.base import AnswerContext  # noqa: E402
from app.services.assessment.heuristic import HeuristicScorer  # noqa: E402
from app.services.content import load_content  # noqa: E402
from app.services.text_analysis import analyse  # noqa: E402

GRADED = ROOT / "tests" / "assessment" / "graded_answers.json"
GRADED_DIMENSIONS = ("structure", "specificity", "relevance", "ownership", "conciseness")


def evaluate() -> dict[str, Any]:
    bank = {q.id: q for q in load_content().questions}
    scorer = HeuristicScorer()
    items = json.loads(GRADED.read_text(encoding="utf-8"))["answers"]
    pairs: dict[str, list[tuple[int, int]]] = {d: [] for d in GRADED_DIMENSIONS}
    disagreements = []
    for item in items:
        q = bank[item["question_id"]]
        result = scorer.assess(AnswerContext(q.id, q.text, q.category, False, item["answer"], analyse(item["answer"]), {}))
        for d in GRADED_DIMENSIONS:
            machine, human = result.scores[d], item["grades"][d]
            assert machine is not None
            pairs[d].append((machine, human))
            if abs(machine - human) >= 2:
                disagreements.append({"id": item["id"], "dimension": d, "scorer": machine, "grade": human,
                                      "reason": result.dimensions[d].reason})
    out: dict[str, Any] = {"n": len(items), "dimensions": {}, "disagreements": disagreements}
    for d, pts in pairs.items():
        rho = spearmanr([p[0] for p in pts], [p[1] for p in pts]).statistic
        out["dimensions"][d] = {
            "spearman_rho": round(float(rho), 3),
            "exact": round(sum(a == b for a, b in pts) / len(pts), 3),
            "within_one": round(sum(abs(a - b) <= 1 for a, b in pts) / len(pts), 3),
        }
    return out


def main() -> None:
    result = evaluate()
    if "--json" in sys.argv:
        print(json.dumps(result, indent=1))
        return
    print(f"{result['n']} graded answers (tests/assessment/graded_answers.json)")
    print(f"{'dimension':<13} {'rho':>6} {'exact':>6} {'±1':>6}")
    for d, r in result["dimensions"].items():
        print(f"{d:<13} {r['spearman_rho']:>6.2f} {r['exact']:>6.0%} {r['within_one']:>6.0%}")
    for x in result["disagreements"]:
        print(f"  {x['id']} {x['dimension']}: scorer {x['scorer']} vs grade {x['grade']} ({x['reason']})")


if __name__ == "__main__":
    main()
