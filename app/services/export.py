"""A session with everything that belongs to it, as plain JSON-able data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Base
from app.db.repositories.answers import AnswerRepository, CheckInRepository, TelemetryRepository
from app.db.repositories.sessions import SessionRepository
from app.errors import NotFound

_PRIVATE = {"resume_token_hash"}


def row_to_dict(row: Base) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in sa_inspect(row).mapper.column_attrs:
        if attr.key in _PRIVATE:
            continue
        value = getattr(row, attr.key)
        out[attr.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


class ExportService:
    """Read-only views of stored sessions for researchers and analysts."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def session(self, session_id: str) -> dict[str, Any]:
        async with self._sessionmaker() as db:
            sessions = SessionRepository(db)
            session = await sessions.get(session_id)
            if session is None:
                raise NotFound(f"session {session_id} does not exist", code="session_not_found")
            return {
                "session": row_to_dict(session),
                "questions": [row_to_dict(q) for q in await sessions.questions(session_id)],
                "answers": [row_to_dict(a) for a in await AnswerRepository(db).for_session(session_id)],
                "checkins": [row_to_dict(c) for c in await CheckInRepository(db).for_session(session_id)],
                "telemetry": [row_to_dict(t) for t in await TelemetryRepository(db).for_session(session_id)],
                "events": [row_to_dict(e) for e in await sessions.events(session_id)],
            }
