"""SQL aggregation for the research summary: the database does the counting, not Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Answer, CheckIn, InterviewSession, TelemetryEvent


@dataclass(frozen=True)
class GroupMoments:
    group: str
    n: int
    mean: float | None
    sum_sq_dev: float | None  # sum of squared deviations from the group mean


@dataclass(frozen=True)
class SummaryFilters:
    since: datetime | None = None
    until: datetime | None = None
    style: str | None = None


def _metric_sources() -> dict[str, tuple[Any, Any]]:
    return {
        "speaking_rate_wpm": (Answer, Answer.speaking_rate_wpm),
        "pause_ratio": (Answer, Answer.pause_ratio),
        "gaze": (Answer, Answer.gaze),
        "fillers_per_min": (Answer, Answer.fillers_per_min),
        "response_latency_ms": (Answer, Answer.response_latency_ms),
        "confidence": (CheckIn, CheckIn.confidence),
        "stress": (CheckIn, CheckIn.stress),
        "turn_latency_ms": (TelemetryEvent, TelemetryEvent.latency_ms),
    }


METRICS = tuple(_metric_sources())


class StatisticsRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    @staticmethod
    def _session_filter(stmt: Select, filters: SummaryFilters) -> Select:  # type: ignore[type-arg]
        if filters.since is not None:
            stmt = stmt.where(InterviewSession.created_at >= filters.since)
        if filters.until is not None:
            stmt = stmt.where(InterviewSession.created_at < filters.until)
        return stmt

    async def counts(self, filters: SummaryFilters) -> dict[str, dict[str, int]]:
        """Sessions and answers per group (answers in the filtered style when one is given)."""
        sessions = self._session_filter(
            select(InterviewSession.group, func.count(InterviewSession.id)).group_by(InterviewSession.group), filters
        )
        if filters.style is not None:
            sessions = sessions.where(InterviewSession.initial_style == filters.style)
        answers = self._session_filter(
            select(InterviewSession.group, func.count(Answer.id))
            .join(Answer, Answer.session_id == InterviewSession.id)
            .group_by(InterviewSession.group),
            filters,
        )
        if filters.style is not None:
            answers = answers.where(Answer.style == filters.style)
        result: dict[str, dict[str, int]] = {}
        for group, n in (await self.db.execute(sessions)).all():
            result.setdefault(group, {"sessions": 0, "answers": 0})["sessions"] = int(n)
        for group, n in (await self.db.execute(answers)).all():
            result.setdefault(group, {"sessions": 0, "answers": 0})["answers"] = int(n)
        return result

    async def metric_moments(self, metric: str, filters: SummaryFilters) -> list[GroupMoments]:
        """Per group: n, mean and sum of squared deviations of the per-session means.

        The unit of analysis is the session: a participant's answers are not independent
        observations, so each session contributes one mean per metric.
        """
        table, column = _metric_sources()[metric]
        session_fk = table.session_id  # type: ignore[attr-defined]
        per_session = self._session_filter(
            select(InterviewSession.group.label("grp"), func.avg(column).label("v"))
            .join(table, session_fk == InterviewSession.id)
            .where(column.is_not(None))
            .group_by(InterviewSession.group, InterviewSession.id),
            filters,
        )
        if filters.style is not None:
            per_session = per_session.where(table.style == filters.style)  # type: ignore[attr-defined]
        per_session_cte = per_session.cte("per_session")
        grp, v = per_session_cte.c.grp, per_session_cte.c.v
        means = (
            select(grp.label("grp"), func.count(v).label("n"), func.avg(v).label("mean")).group_by(grp).cte("means")
        )
        dev = (v - means.c.mean) * (v - means.c.mean)
        stmt = (
            select(means.c.grp, means.c.n, means.c.mean, func.sum(dev).label("ss"))
            .select_from(per_session_cte.join(means, means.c.grp == grp))
            .group_by(means.c.grp, means.c.n, means.c.mean)
            .order_by(literal_column("1"))
        )
        rows = (await self.db.execute(stmt)).all()
        return [
            GroupMoments(g, int(n), float(m) if m is not None else None, float(ss) if ss is not None else None)
            for g, n, m, ss in rows
        ]

    async def coach_sources(self, filters: SummaryFilters) -> dict[str, dict[str, Any]]:
        """Per group: answers, LLM attempts (a model was tried), LLM answers and LLM latency (issue 5)."""
        llm_latency = case((Answer.coach_source == "llm", Answer.llm_latency_ms), else_=None)
        stmt = self._session_filter(
            select(
                InterviewSession.group,
                func.count(Answer.id),
                func.count(Answer.llm_model),
                func.sum(case((Answer.coach_source == "llm", 1), else_=0)),
                func.avg(llm_latency),
                func.max(llm_latency),
                func.avg(Answer.llm_latency_ms),
            )
            .join(Answer, Answer.session_id == InterviewSession.id)
            .group_by(InterviewSession.group),
            filters,
        )
        if filters.style is not None:
            stmt = stmt.where(Answer.style == filters.style)
        out: dict[str, dict[str, Any]] = {}
        for group, answers, attempted, answered, mean_ok, max_ok, mean_all in (await self.db.execute(stmt)).all():
            out[group] = {
                "answers": int(answers), "llm_attempted": int(attempted), "llm_answered": int(answered or 0),
                "llm_latency_ms_mean": float(mean_ok) if mean_ok is not None else None,
                "llm_latency_ms_max": float(max_ok) if max_ok is not None else None,
                "llm_attempt_latency_ms_mean": float(mean_all) if mean_all is not None else None,
            }
        return out
