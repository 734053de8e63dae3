"""Rubric scores of answers, and the participant attributes kept apart from them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AnswerAssessment, ParticipantAttribute


class AssessmentRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def for_session(self, session_id: str) -> Sequence[AnswerAssessment]:
        stmt = select(AnswerAssessment).where(AnswerAssessment.session_id == session_id).order_by(
            AnswerAssessment.answer_id)
        return (await self.db.execute(stmt)).scalars().all()

    async def for_sessions(self, session_ids: list[str]) -> Sequence[AnswerAssessment]:
        if not session_ids:
            return []
        stmt = select(AnswerAssessment).where(AnswerAssessment.session_id.in_(session_ids)).order_by(
            AnswerAssessment.answer_id)
        return (await self.db.execute(stmt)).scalars().all()


class AttributeRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def for_session(self, session_id: str) -> dict[str, str]:
        stmt = select(ParticipantAttribute).where(ParticipantAttribute.session_id == session_id)
        return {a.name: a.value for a in (await self.db.execute(stmt)).scalars()}
