"""Answers, check-ins and telemetry: the participant's contributions to a session."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Answer, AskedQuestion, CheckIn, TelemetryEvent


class AnswerRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def add(self, answer: Answer) -> None:
        self.db.add(answer)

    async def by_client_id(self, session_id: str, client_message_id: str) -> Answer | None:
        stmt = select(Answer).where(Answer.session_id == session_id, Answer.client_message_id == client_message_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def for_session(self, session_id: str) -> Sequence[Answer]:
        stmt = select(Answer).where(Answer.session_id == session_id).order_by(Answer.id)
        return (await self.db.execute(stmt)).scalars().all()

    async def count(self, session_id: str) -> int:
        stmt = select(func.count()).select_from(Answer).where(Answer.session_id == session_id)
        return int((await self.db.execute(stmt)).scalar_one())

    async def recent_exchanges(self, session_id: str, limit: int) -> list[tuple[str, str]]:
        stmt = (
            select(AskedQuestion.text, Answer.text)
            .join(AskedQuestion, Answer.asked_question_id == AskedQuestion.id)
            .where(Answer.session_id == session_id)
            .order_by(Answer.id.desc())
            .limit(limit)
        )
        rows = (await self.db.execute(stmt)).all()
        return [(q, a) for q, a in reversed(rows)]

    async def session_summary(self, session_id: str) -> dict[str, Any]:
        """Means of the main metrics over the session's answers (SQL aggregation)."""
        columns = {
            "speaking_rate_wpm": Answer.speaking_rate_wpm,
            "pause_ratio": Answer.pause_ratio,
            "gaze": Answer.gaze,
            "fillers_per_min": Answer.fillers_per_min,
            "word_count": Answer.word_count,
        }
        stmt = select(
            func.count(Answer.id),
            func.sum(Answer.filler_count),
            *[func.avg(c) for c in columns.values()],
        ).where(Answer.session_id == session_id)
        row = (await self.db.execute(stmt)).one()
        summary: dict[str, Any] = {"answers": int(row[0]), "filler_count": int(row[1]) if row[1] is not None else None}
        for name, value in zip(columns, row[2:], strict=True):
            summary[f"mean_{name}"] = round(float(value), 3) if value is not None else None
        return summary


class CheckInRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def add(self, checkin: CheckIn) -> None:
        self.db.add(checkin)

    async def by_client_id(self, session_id: str, client_message_id: str) -> CheckIn | None:
        stmt = select(CheckIn).where(CheckIn.session_id == session_id, CheckIn.client_message_id == client_message_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def for_session(self, session_id: str) -> Sequence[CheckIn]:
        stmt = select(CheckIn).where(CheckIn.session_id == session_id).order_by(CheckIn.id)
        return (await self.db.execute(stmt)).scalars().all()


class TelemetryRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    def add(self, event: TelemetryEvent) -> None:
        self.db.add(event)

    async def by_client_id(self, session_id: str, client_message_id: str) -> TelemetryEvent | None:
        stmt = select(TelemetryEvent).where(
            TelemetryEvent.session_id == session_id, TelemetryEvent.client_message_id == client_message_id
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def for_session(self, session_id: str) -> Sequence[TelemetryEvent]:
        stmt = select(TelemetryEvent).where(TelemetryEvent.session_id == session_id).order_by(TelemetryEvent.id)
        return (await self.db.execute(stmt)).scalars().all()
