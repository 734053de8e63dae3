"""Stage times of spoken answers (`turn_latencies`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import InterviewSession, TurnLatency
from app.db.repositories.statistics import SummaryFilters

STAGES = ("turn_ms", "cue_ms", "transcript_ms", "coach_ms", "question_ms", "first_audio_ms")


class LatencyRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def add(self, row: TurnLatency) -> None:
        self.db.add(row)

    async def for_session(self, session_id: str) -> Sequence[TurnLatency]:
        stmt = select(TurnLatency).where(TurnLatency.session_id == session_id).order_by(TurnLatency.answer_id)
        return (await self.db.execute(stmt)).scalars().all()

    async def recent(self, filters: SummaryFilters, limit: int) -> list[dict[str, Any]]:
        """The newest `limit` rows in the filters' session window, oldest first."""
        stmt = select(TurnLatency.turn_detection, TurnLatency.turn_reason, TurnLatency.created_at,
                      *(getattr(TurnLatency, s) for s in STAGES)).join(
            InterviewSession, TurnLatency.session_id == InterviewSession.id)
        if filters.since is not None:
            stmt = stmt.where(InterviewSession.created_at >= filters.since)
        if filters.until is not None:
            stmt = stmt.where(InterviewSession.created_at < filters.until)
        if filters.style is not None:
            stmt = stmt.where(InterviewSession.initial_style == filters.style)
        stmt = stmt.order_by(TurnLatency.created_at.desc()).limit(limit)
        rows = [dict(r) for r in (await self.db.execute(stmt)).mappings()]
        rows.reverse()
        return rows
