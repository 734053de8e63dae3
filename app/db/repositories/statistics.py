"""SQL aggregation for the research summary: the database does the counting, not Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, and_, case, cast, func, literal, select, text, union_all
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


TURN_LATENCY_EVENT = "question_text_latency"


def _metric_sources() -> dict[str, tuple[Any, Any]]:
    return {
        "speaking_rate_wpm": (Answer, Answer.speaking_rate_wpm),
        "pause_ratio": (Answer, Answer.pause_ratio),
        "gaze": (Answer, Answer.gaze),
        "fillers_per_min": (Answer, Answer.fillers_per_min),
        "response_latency_ms": (Answer, Answer.response_latency_ms),
        "confidence": (CheckIn, CheckIn.confidence),
        "stress": (CheckIn, CheckIn.stress),
        # The client's own measure of a turn: end of the answer -> next question's text on screen.
        # Other telemetry events carry other latencies (audio start, reconnects) and stay out of it.
        "turn_latency_ms": (TelemetryEvent, case((TelemetryEvent.event == TURN_LATENCY_EVENT, TelemetryEvent.latency_ms))),
    }


METRICS = tuple(_metric_sources())


def _tables() -> dict[str, tuple[Any, list[tuple[str, Any]]]]:
    tables: dict[str, tuple[Any, list[tuple[str, Any]]]] = {}
    names = {Answer: "answers", CheckIn: "checkins", TelemetryEvent: "telemetry"}
    for metric, (table, column) in _metric_sources().items():
        tables.setdefault(names[table], (table, []))[1].append((metric, column))
    return tables


_TABLES = _tables()
TABLES = tuple(_TABLES)


@dataclass(frozen=True)
class TableMoments:
    group: str
    style: str  # "*" = all styles
    sessions: int  # sessions with at least one row in this table (and style)
    rows: int
    metrics: dict[str, GroupMoments]


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


class StatisticsRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    @staticmethod
    def _session_filter(stmt: Select, filters: SummaryFilters) -> Select:  # type: ignore[type-arg]
        stmt = stmt.where(InterviewSession.mode == "study")  # practice sessions are nobody's study data
        if filters.since is not None:
            stmt = stmt.where(InterviewSession.created_at >= filters.since)
        if filters.until is not None:
            stmt = stmt.where(InterviewSession.created_at < filters.until)
        return stmt

    async def tune_for_aggregation(self) -> None:
        """PostgreSQL: this read-only transaction sorts and hashes ~1M rows; JIT compilation costs more
        than it saves at this size, and 4 MB of work_mem makes the aggregates spill to disk."""
        if self.db.get_bind().dialect.name == "postgresql":
            await self.db.execute(text("SET LOCAL jit = off"))
            await self.db.execute(text("SET LOCAL work_mem = '64MB'"))

    async def table_moments(self, table_key: str, filters: SummaryFilters) -> list[TableMoments]:
        """For every metric of one table, per group and per style: n, mean and sum of squared deviations
        of the per-session means, plus sessions and rows counted. Style "*" is all styles together.

        The unit of analysis is the session: a participant's answers are not independent observations,
        so each session contributes one mean per metric. One statement per table: the rows are scanned
        once into per-(session, style) sums and counts, from which both the overall per-session means
        and the per-style ones are derived.
        """
        table, metrics = _TABLES[table_key]
        cols = [column for _, column in metrics]
        fk, style_col = table.session_id, table.style
        # Aggregate the (large) table first, narrowly, then join the (smaller) result to its sessions.
        inner = select(
            fk.label("sid"), style_col.label("sty"), func.count().label("rows"),
            *[func.sum(cast(c, Float)).label(f"s{i}") for i, c in enumerate(cols)],
            *[func.count(c).label(f"n{i}") for i, c in enumerate(cols)],
        ).group_by(fk, style_col)
        if filters.since is not None or filters.until is not None:
            inner = inner.where(fk.in_(self._session_filter(select(InterviewSession.id), filters)))
        if filters.style is not None:
            inner = inner.where(style_col == filters.style)
        agg = inner.subquery("agg")
        ps = (
            select(InterviewSession.group.label("grp"), agg)
            .join(InterviewSession, InterviewSession.id == agg.c.sid)
            .where(InterviewSession.mode == "study")
            .cte("ps")
        )
        k = range(len(cols))

        def ratio(total: Any, n: Any) -> Any:
            return case((n > 0, total / n), else_=None)

        overall = select(
            ps.c.grp, ps.c.sid, literal("*").label("sty"), func.sum(ps.c.rows).label("r"),
            *[ratio(func.sum(ps.c[f"s{i}"]), func.sum(ps.c[f"n{i}"])).label(f"v{i}") for i in k],
        ).group_by(ps.c.grp, ps.c.sid)
        by_style = select(
            ps.c.grp, ps.c.sid, ps.c.sty, ps.c.rows.label("r"),
            *[ratio(ps.c[f"s{i}"], ps.c[f"n{i}"]).label(f"v{i}") for i in k],
        )
        per_session = union_all(overall, by_style).cte("per_session")
        v = per_session.c
        if self.db.get_bind().dialect.name == "postgresql":
            # var_samp on float8 is numerically stable (Youngs-Cramer): one pass, no self-join.
            stmt = select(
                v.grp, v.sty, func.count(), func.sum(v.r),
                *[func.count(v[f"v{i}"]) for i in k], *[func.avg(v[f"v{i}"]) for i in k],
                *[func.var_samp(v[f"v{i}"]) * (func.count(v[f"v{i}"]) - 1) for i in k],
            ).group_by(v.grp, v.sty)
        else:  # SQLite has no variance function: two passes, deviations from the group mean
            means = select(
                v.grp, v.sty, func.count().label("sessions"), func.sum(v.r).label("rows"),
                *[func.count(v[f"v{i}"]).label(f"n{i}") for i in k],
                *[func.avg(v[f"v{i}"]).label(f"m{i}") for i in k],
            ).group_by(v.grp, v.sty).cte("means")
            m = means.c
            stmt = (
                select(
                    m.grp, m.sty, func.max(m.sessions), func.max(m.rows),
                    *[func.max(m[f"n{i}"]) for i in k], *[func.max(m[f"m{i}"]) for i in k],
                    *[func.sum((v[f"v{i}"] - m[f"m{i}"]) * (v[f"v{i}"] - m[f"m{i}"])) for i in k],
                )
                .select_from(per_session.join(means, and_(m.grp == v.grp, m.sty == v.sty)))
                .group_by(m.grp, m.sty)
            )
        out: list[TableMoments] = []
        n_metrics = len(cols)
        for row in (await self.db.execute(stmt)).all():
            grp, sty, sessions, rows = row[0], row[1], int(row[2]), int(row[3] or 0)
            ns, ms, sss = row[4:4 + n_metrics], row[4 + n_metrics:4 + 2 * n_metrics], row[4 + 2 * n_metrics:]
            moments = {
                name: GroupMoments(grp, int(ns[i]), _float(ms[i]), _float(sss[i]))
                for i, (name, _) in enumerate(metrics)
            }
            out.append(TableMoments(grp, sty, sessions, rows, moments))
        return out

    async def consort(self, filters: SummaryFilters, abandoned_before: datetime) -> dict[str, dict[str, int]]:
        """Sessions started, completed, ended early, abandoned (active, idle since before the cutoff), active."""
        status = InterviewSession.status
        idle = InterviewSession.updated_at < abandoned_before
        stmt = self._session_filter(
            select(
                InterviewSession.group, func.count(),
                func.sum(case((status == "completed", 1), else_=0)),
                func.sum(case((status == "ended", 1), else_=0)),
                func.sum(case((and_(status == "active", idle), 1), else_=0)),
                func.sum(case((and_(status == "active", ~idle), 1), else_=0)),
                func.sum(case((InterviewSession.assignment == "block_randomised", 1), else_=0)),
            ).group_by(InterviewSession.group),
            filters,
        )
        if filters.style is not None:
            stmt = stmt.where(InterviewSession.initial_style == filters.style)
        keys = ("started", "completed", "ended_early", "abandoned", "in_progress", "randomised_by_server")
        return {g: dict(zip(keys, (int(x or 0) for x in rest), strict=True))
                for g, *rest in (await self.db.execute(stmt)).all()}

    async def session_means(self, metric: str, filters: SummaryFilters, limit: int) -> list[tuple[str, datetime, float]]:
        """Per-session means of one metric (newest sessions first), for distribution plots."""
        table, column = _metric_sources()[metric]
        stmt = self._session_filter(
            select(InterviewSession.group, InterviewSession.created_at, func.avg(cast(column, Float)))
            .join(table, table.session_id == InterviewSession.id)
            .where(column.is_not(None))
            .group_by(InterviewSession.id, InterviewSession.group, InterviewSession.created_at),
            filters,
        )
        if filters.style is not None:
            stmt = stmt.where(table.style == filters.style)
        stmt = stmt.order_by(InterviewSession.created_at.desc()).limit(limit)
        return [(g, at, float(value)) for g, at, value in (await self.db.execute(stmt)).all()]

    async def timeline(self, filters: SummaryFilters) -> list[tuple[str, str, int, int]]:
        """Sessions started and completed per UTC day and group."""
        created = InterviewSession.created_at
        day_expr = func.date(func.timezone("UTC", created)) if self.db.get_bind().dialect.name == "postgresql" else func.date(created)
        day = day_expr.label("day")
        stmt = self._session_filter(
            select(day, InterviewSession.group, func.count(),
                   func.sum(case((InterviewSession.status == "completed", 1), else_=0)))
            .group_by(day, InterviewSession.group)
            .order_by(day),
            filters,
        )
        if filters.style is not None:
            stmt = stmt.where(InterviewSession.initial_style == filters.style)
        return [(str(d), g, int(n), int(c or 0)) for d, g, n, c in (await self.db.execute(stmt)).all()]

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
