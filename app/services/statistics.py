"""Control-vs-treatment statistics from per-group moments computed in SQL.

Per group: n, mean, SD and the t-based 95 % CI of the mean. Between groups
(treatment − control): the difference with its Welch 95 % CI, Welch's t, df and
two-sided p, and Hedges' g (pooled SD, small-sample correction J) with its
normal-approximation 95 % CI.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from scipy import stats as scipy_stats
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.repositories.statistics import METRICS, TABLES, GroupMoments, StatisticsRepository, SummaryFilters
from app.errors import InvalidInput

GROUPS = ("control", "treatment")
CONSORT_KEYS = ("started", "completed", "ended_early", "abandoned", "in_progress", "randomised_by_server")


def describe(m: GroupMoments | None) -> dict[str, Any]:
    if m is None or m.n == 0 or m.mean is None:
        return {"n": 0, "mean": None, "sd": None, "ci95": None}
    if m.n < 2 or m.sum_sq_dev is None:
        return {"n": m.n, "mean": m.mean, "sd": None, "ci95": None}
    sd = math.sqrt(max(m.sum_sq_dev, 0.0) / (m.n - 1))
    half = float(scipy_stats.t.ppf(0.975, m.n - 1)) * sd / math.sqrt(m.n)
    return {"n": m.n, "mean": m.mean, "sd": sd, "ci95": [m.mean - half, m.mean + half]}


def compare(control: dict[str, Any], treatment: dict[str, Any]) -> dict[str, Any] | None:
    """Treatment − control. None when either group has fewer than 2 observations."""
    n1, n2 = treatment["n"], control["n"]
    if n1 < 2 or n2 < 2 or treatment["sd"] is None or control["sd"] is None:
        return None
    m1, m2, s1, s2 = treatment["mean"], control["mean"], treatment["sd"], control["sd"]
    diff = m1 - m2
    v1, v2 = s1 * s1 / n1, s2 * s2 / n2
    se = math.sqrt(v1 + v2)
    result: dict[str, Any] = {"difference": diff}
    if se == 0:
        result.update(ci95=None, t=None, df=None, p=None, hedges_g=None, hedges_g_ci95=None)
        return result
    df = (v1 + v2) ** 2 / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1))
    t = diff / se
    half = float(scipy_stats.t.ppf(0.975, df)) * se
    pooled = math.sqrt(((n1 - 1) * s1 * s1 + (n2 - 1) * s2 * s2) / (n1 + n2 - 2))
    j = 1 - 3 / (4 * (n1 + n2) - 9)
    g = j * diff / pooled if pooled > 0 else None
    g_ci = None
    if g is not None:
        se_g = math.sqrt((n1 + n2) / (n1 * n2) + g * g / (2 * (n1 + n2)))
        g_ci = [g - 1.959964 * se_g, g + 1.959964 * se_g]
    result.update(
        ci95=[diff - half, diff + half], t=t, df=df, p=float(2 * scipy_stats.t.sf(abs(t), df)),
        hedges_g=g, hedges_g_ci95=g_ci,
    )
    return result


def coach_summary(row: dict[str, Any] | None) -> dict[str, Any]:
    """Who answered the turns: fallback rate = heuristic answers / turns where an LLM was tried."""
    row = row or {"answers": 0, "llm_attempted": 0, "llm_answered": 0, "llm_latency_ms_mean": None,
                  "llm_latency_ms_max": None, "llm_attempt_latency_ms_mean": None}
    attempted = row["llm_attempted"]
    rate = (attempted - row["llm_answered"]) / attempted if attempted else None
    return {**row, "fallback_rate": rate}


def _metric_block(moments: dict[str, Any]) -> dict[str, Any]:
    per_group = {g: describe(moments.get(g)) for g in GROUPS}
    return {"groups": per_group, "treatment_minus_control": compare(per_group["control"], per_group["treatment"])}


class StatisticsService:
    """Builds the `/metrics/summary` report and the dashboard's series."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], abandoned_after_minutes: int = 60,
                 attributes: dict[str, tuple[str, ...]] | None = None) -> None:
        self._sessionmaker = sessionmaker
        self.abandoned_after_minutes = abandoned_after_minutes
        self.attributes = attributes or {}

    async def summary(self, filters: SummaryFilters, by: str | None = None) -> dict[str, Any]:
        from app.services.outcomes import fairness, rubric_outcomes

        if by is not None and by not in self.attributes:
            raise InvalidInput(f"unknown attribute {by!r}; the study policy declares "
                               f"{', '.join(sorted(self.attributes)) or 'none'}", code="unknown_attribute")
        result = await self._summary(filters)
        result["attributes"] = sorted(self.attributes)
        async with self._sessionmaker() as db:
            result["outcomes"] = await rubric_outcomes(db, filters)
            if by is not None:
                result["fairness"] = await fairness(db, filters, by, self.attributes[by])
        return result

    async def _summary(self, filters: SummaryFilters) -> dict[str, Any]:
        cutoff = datetime.now(UTC) - timedelta(minutes=self.abandoned_after_minutes)
        async with self._sessionmaker() as db:
            repo = StatisticsRepository(db)
            await repo.tune_for_aggregation()
            consort = await repo.consort(filters, cutoff)
            coach = await repo.coach_sources(filters)
            # (style, metric) -> group -> moments; style "*" = all styles
            moments: dict[tuple[str, str], dict[str, Any]] = {}
            style_counts: dict[str, dict[str, dict[str, int]]] = {}
            answers = dict.fromkeys(GROUPS, 0)
            for table in TABLES:
                for tm in await repo.table_moments(table, filters):
                    for metric, m in tm.metrics.items():
                        moments.setdefault((tm.style, metric), {})[tm.group] = m
                    if table == "answers" and tm.style != "*":
                        style_counts.setdefault(tm.style, {})[tm.group] = {"sessions": tm.sessions, "answers": tm.rows}
                    elif table == "answers":
                        answers[tm.group] = tm.rows
        styles = sorted({style for style, _ in moments} - {"*"})
        empty = {"sessions": 0, "answers": 0}
        return {
            "filters": {
                "since": filters.since.isoformat() if filters.since else None,
                "until": filters.until.isoformat() if filters.until else None,
                "style": filters.style,
            },
            "unit_of_analysis": "session (each session's mean per metric)",
            "groups": {g: {"sessions": consort.get(g, {}).get("started", 0), "answers": answers.get(g, 0)}
                       for g in GROUPS},
            "consort": {
                "abandoned_after_minutes": self.abandoned_after_minutes,
                "groups": {g: consort.get(g, dict.fromkeys(CONSORT_KEYS, 0)) for g in GROUPS},
            },
            "metrics": {metric: _metric_block(moments.get(("*", metric), {})) for metric in METRICS},
            "by_style": {
                style: {
                    "groups": {g: style_counts.get(style, {}).get(g, dict(empty)) for g in GROUPS},
                    "metrics": {metric: _metric_block(moments.get((style, metric), {})) for metric in METRICS},
                }
                for style in styles
            },
            "coach": {g: coach_summary(coach.get(g)) for g in GROUPS},
        }

    async def session_means(self, metric: str, filters: SummaryFilters, limit: int) -> dict[str, Any]:
        """Per-session means of one metric by group (the distribution behind each mean)."""
        if metric not in METRICS:
            raise InvalidInput(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}", code="unknown_metric")
        async with self._sessionmaker() as db:
            rows = await StatisticsRepository(db).session_means(metric, filters, limit + 1)
        values: dict[str, list[float]] = {g: [] for g in GROUPS}
        for group, _, value in rows[:limit]:
            values.setdefault(group, []).append(value)
        return {"metric": metric, "values": values, "truncated": len(rows) > limit}

    async def timeline(self, filters: SummaryFilters) -> dict[str, Any]:
        async with self._sessionmaker() as db:
            rows = await StatisticsRepository(db).timeline(filters)
        return {"days": [{"day": d, "group": g, "started": n, "completed": c} for d, g, n, c in rows]}
