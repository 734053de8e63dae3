"""Rubric scores as study outcomes, the within-session change, and the fairness breakdown.

Unit of analysis: the session (its mean), as in the rest of /metrics/summary. Practice sessions
are left out. Fairness: every automated measure per value of one self-reported attribute, with
t-based 95 % CIs, so a study can see whether a measure treats groups of people differently.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.repositories.assessments import SCORE_COLUMNS, OutcomeRepository
from app.db.repositories.statistics import GroupMoments, SummaryFilters
from app.services.statistics import GROUPS, compare, describe

FAIRNESS_MEASURES = ("asr_confidence", "speaking_rate_wpm", "fillers_per_min", "gaze",
                     *(f"score_{c}" for c in SCORE_COLUMNS))


def moments(values: Iterable[float | None], label: str = "") -> GroupMoments:
    xs = [v for v in values if v is not None and not math.isnan(v)]
    if not xs:
        return GroupMoments(label, 0, None, None)
    mean = sum(xs) / len(xs)
    return GroupMoments(label, len(xs), mean, sum((x - mean) ** 2 for x in xs))


def _block(values_by_group: dict[str, list[float | None]]) -> dict[str, Any]:
    per_group = {g: describe(moments(values_by_group.get(g, []), g)) for g in GROUPS}
    return {"groups": per_group, "treatment_minus_control": compare(per_group["control"], per_group["treatment"])}


async def rubric_outcomes(db: AsyncSession, filters: SummaryFilters) -> dict[str, Any]:
    repo = OutcomeRepository(db)
    rows = await repo.score_means(filters)
    scores = {c: _block({g: [r[f"score_{c}"] for r in rows if r["group"] == g] for g in GROUPS})
              for c in SCORE_COLUMNS}
    pairs = await repo.first_last(filters)
    change = {}
    for c in SCORE_COLUMNS:
        by_group: dict[str, list[float | None]] = {g: [] for g in GROUPS}
        for p in pairs:
            first, last = p["first"][c], p["last"][c]
            if first is not None and last is not None and p["group"] in by_group:
                by_group[p["group"]].append(float(last) - float(first))
        change[c] = _block(by_group)
    return {
        "unit_of_analysis": "session (its mean score; change = last scored answer − first, sessions with ≥ 2)",
        "rubric_scores": scores,
        "within_session_change": change,
    }


async def fairness(db: AsyncSession, filters: SummaryFilters, attribute: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    repo = OutcomeRepository(db)
    rows = await repo.session_means(filters, by=attribute)
    values = list(allowed)
    measures = {m: {v: describe(moments((r[m] for r in rows if r["value"] == v), v)) for v in values}
                for m in FAIRNESS_MEASURES}
    # Share of each session's answers that got a tip of each kind (tips are generated for every group).
    per_session: dict[str, tuple[str, int, dict[str, int]]] = {}
    for sid, value, tips in await repo.tips(filters, attribute):
        _, n, kinds = per_session.get(sid, (value, 0, {}))
        for kind in {str(t.get("kind")) for t in tips if isinstance(t, dict)}:
            kinds[kind] = kinds.get(kind, 0) + 1
        per_session[sid] = (value, n + 1, kinds)
    all_kinds = sorted({k for _, _, kinds in per_session.values() for k in kinds})
    tip_shares = {
        kind: {v: describe(moments((kinds.get(kind, 0) / n for val, n, kinds in per_session.values() if val == v), v))
               for v in values}
        for kind in all_kinds
    }
    return {
        "attribute": attribute, "values": values,
        "sessions": {v: sum(1 for r in rows if r["value"] == v) for v in values},
        "measures": measures, "tip_share": tip_shares,
        "note": "per value: n sessions, mean of session means, SD and t-based 95 % CI; self-reported, optional",
    }
