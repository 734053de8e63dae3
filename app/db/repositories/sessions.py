"""The session aggregate: the session row, the questions asked, its events and its outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import AskedQuestion, InterviewSession, OutboxMessage, SessionEvent


class SessionRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def get(self, session_id: str, *, for_update: bool = False) -> InterviewSession | None:
        stmt = select(InterviewSession).where(InterviewSession.id == session_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def lock(self, session_id: str) -> bool:
        """Take the session's row lock until the end of the transaction; False when there is no such session.

        Every write to a session's turn state (next_seq, plan position, status) takes this lock first,
        and reads what it decides on only afterwards, in later statements: under PostgreSQL's READ
        COMMITTED each statement sees what the previous lock holder committed, whichever instance it
        ran on. (A single SELECT ... FOR UPDATE joined to other tables would re-check only the locked
        row and could hand back a stale current question.) On SQLite every transaction begins
        IMMEDIATE, so writers are already serialised and FOR UPDATE is left out by the dialect.
        """
        stmt = select(InterviewSession.id).where(InterviewSession.id == session_id).with_for_update()
        return (await self.db.execute(stmt)).scalar_one_or_none() is not None

    async def with_current_question(
        self, session_id: str, *, for_update: bool = False, replied_to: str | None = None
    ) -> tuple[InterviewSession, AskedQuestion, bool] | None:
        """The session, its latest question and whether `replied_to` already has stored replies.

        One round trip instead of three: this runs on every turn.
        """
        latest = (
            select(func.max(AskedQuestion.index)).where(AskedQuestion.session_id == session_id).scalar_subquery()
        )
        already = (
            select(OutboxMessage.seq)
            .where(OutboxMessage.session_id == session_id, OutboxMessage.reply_to == replied_to)
            .exists()
            if replied_to is not None
            else literal(False)
        )
        stmt = (
            select(InterviewSession, AskedQuestion, already)
            .join(AskedQuestion, AskedQuestion.session_id == InterviewSession.id)
            .where(InterviewSession.id == session_id, AskedQuestion.index == latest)
        )
        if for_update:
            stmt = stmt.with_for_update(of=InterviewSession)
        row = (await self.db.execute(stmt)).first()
        return (row[0], row[1], bool(row[2])) if row is not None else None

    def add(self, session: InterviewSession) -> None:
        self.db.add(session)

    async def current_question(self, session_id: str) -> AskedQuestion | None:
        stmt = (
            select(AskedQuestion)
            .where(AskedQuestion.session_id == session_id)
            .order_by(AskedQuestion.index.desc())
            .limit(1)
        )
        return (await self.db.execute(stmt)).scalar_one_or_none()

    def add_question(self, question: AskedQuestion) -> None:
        self.db.add(question)

    async def questions(self, session_id: str) -> Sequence[AskedQuestion]:
        stmt = select(AskedQuestion).where(AskedQuestion.session_id == session_id).order_by(AskedQuestion.index)
        return (await self.db.execute(stmt)).scalars().all()

    def add_event(self, session_id: str, kind: str, data: dict[str, Any], at: datetime) -> None:
        self.db.add(SessionEvent(session_id=session_id, kind=kind, data=data, created_at=at))

    async def events(self, session_id: str) -> Sequence[SessionEvent]:
        stmt = select(SessionEvent).where(SessionEvent.session_id == session_id).order_by(SessionEvent.id)
        return (await self.db.execute(stmt)).scalars().all()

    def add_outbox(self, message: OutboxMessage) -> None:
        self.db.add(message)

    async def outbox_after(self, session_id: str, last_seq: int) -> Sequence[OutboxMessage]:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.session_id == session_id, OutboxMessage.seq > last_seq)
            .order_by(OutboxMessage.seq)
        )
        return (await self.db.execute(stmt)).scalars().all()

    async def outbox_replies(self, session_id: str, reply_to: str) -> Sequence[OutboxMessage]:
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.session_id == session_id, OutboxMessage.reply_to == reply_to)
            .order_by(OutboxMessage.seq)
        )
        return (await self.db.execute(stmt)).scalars().all()

    async def oldest_outbox_seq(self, session_id: str) -> int | None:
        stmt = select(func.min(OutboxMessage.seq)).where(OutboxMessage.session_id == session_id)
        return (await self.db.execute(stmt)).scalar_one_or_none()

    async def trim_outbox(self, session_id: str, keep_from_seq: int) -> None:
        await self.db.execute(
            delete(OutboxMessage).where(OutboxMessage.session_id == session_id, OutboxMessage.seq < keep_from_seq)
        )

    async def delete(self, session_id: str) -> bool:
        session = await self.get(session_id)
        if session is None:
            return False
        await self.db.delete(session)
        return True
