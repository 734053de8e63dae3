"""Read-only views of stored sessions for researchers and analysts: one session, NDJSON, tidy CSV."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Base, InterviewSession
from app.db.repositories.answers import AnswerRepository, CheckInRepository, TelemetryRepository
from app.db.repositories.assessments import AssessmentRepository, AttributeRepository
from app.db.repositories.export import ExportRepository
from app.db.repositories.latency import LatencyRepository
from app.db.repositories.sessions import SessionRepository
from app.db.repositories.statistics import SummaryFilters
from app.errors import NotFound
from app.services.codebook import COLUMNS, CheckInPoint, answer_row, csv_value, nearest
from app.services.safe_json import dumps_line, json_safe

log = logging.getLogger(__name__)
_PRIVATE = {"resume_token_hash"}


def row_to_dict(row: Base) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attr in sa_inspect(row).mapper.column_attrs:
        if attr.key in _PRIVATE:
            continue
        value = getattr(row, attr.key)
        out[attr.key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _record(session: InterviewSession, children: dict[str, list[Any]]) -> dict[str, Any]:
    """One session and its rows; strings valid Unicode and numbers finite whatever was stored."""
    return json_safe(
        {"session": row_to_dict(session), **{k: [row_to_dict(r) for r in rows] for k, rows in children.items()}}
    )  # type: ignore[no-any-return]


def _ndjson_line(session: InterviewSession, children: dict[str, list[Any]]) -> str:
    """One strict-JSON line; a row that still cannot be written costs only its own line."""
    try:
        return dumps_line(_record(session, children)) + "\n"
    except Exception as exc:  # reported in the stream, the page goes on
        log.exception("session %s could not be exported", session.id)
        return dumps_line({"session": {"id": session.id}, "export_error": {
            "code": "record_failed", "message": f"this session could not be written: {type(exc).__name__}"}}) + "\n"


def export_failure(exc: BaseException, after: str | None) -> str:
    """The last line of an NDJSON export that failed part-way: what happened and where to go on from."""
    return dumps_line({"export_error": {
        "code": "export_failed", "message": f"the export stopped early: {type(exc).__name__}",
        "after": after, "resume": "request again with after=<this id> to get the rest",
    }}) + "\n"


class ExportService:
    """Read-only views of stored sessions for researchers and analysts.

    The bulk exports are async generators that read one keyset page per short transaction,
    so memory stays flat and no connection is held while the client reads slowly.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, session_page: int = 200,
                 answer_page: int = 2000) -> None:
        self._sessionmaker = sessionmaker
        self.session_page = session_page
        self.answer_page = answer_page

    async def session(self, session_id: str) -> dict[str, Any]:
        async with self._sessionmaker() as db:
            sessions = SessionRepository(db)
            session = await sessions.get(session_id)
            if session is None:
                raise NotFound(f"session {session_id} does not exist", code="session_not_found")
            record = _record(session, {
                "questions": list(await sessions.questions(session_id)),
                "answers": list(await AnswerRepository(db).for_session(session_id)),
                "latencies": list(await LatencyRepository(db).for_session(session_id)),
                "assessments": list(await AssessmentRepository(db).for_session(session_id)),
                "checkins": list(await CheckInRepository(db).for_session(session_id)),
                "telemetry": list(await TelemetryRepository(db).for_session(session_id)),
                "events": list(await sessions.events(session_id)),
            })
            record["attributes"] = await AttributeRepository(db).for_session(session_id)
            return record

    async def sessions_cursor(self, after: str | None) -> tuple[datetime, str] | None:
        """Resolve an `after` session id to its keyset position (before any byte is streamed)."""
        if after is None:
            return None
        async with self._sessionmaker() as db:
            cursor = await ExportRepository(db).session_cursor(after)
        if cursor is None:
            raise NotFound(f"cursor session {after} does not exist", code="cursor_not_found")
        return cursor

    async def sessions_ndjson(
        self, filters: SummaryFilters, cursor: tuple[datetime, str] | None, limit: int | None = None
    ) -> AsyncIterator[str]:
        """One JSON line per session in (created_at, id) order; the last line's session.id pages on.

        Strict JSON (no NaN), valid UTF-8. If reading fails part-way, a last line
        {"export_error": {..., "after": <last id written>}} says so, and the error is raised
        again so that the HTTP response ends abnormally instead of looking complete.
        """
        remaining = limit
        while remaining is None or remaining > 0:
            size = self.session_page if remaining is None else min(self.session_page, remaining)
            try:
                async with self._sessionmaker() as db:
                    repo = ExportRepository(db)
                    page = list(await repo.session_page(filters, cursor, size))
                    if not page:
                        return
                    children = await repo.children([s.id for s in page])
            except Exception as exc:
                log.exception("NDJSON export failed after session %s", cursor[1] if cursor else None)
                yield export_failure(exc, cursor[1] if cursor else None)
                raise
            yield "".join(_ndjson_line(s, children[s.id]) for s in page)
            cursor = (page[-1].created_at, page[-1].id)
            if remaining is not None:
                remaining -= len(page)
            if len(page) < size:
                return

    async def answers_csv(self, filters: SummaryFilters) -> AsyncIterator[str]:
        """The tidy answers table (see app/services/codebook.py), header first."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([c.name for c in COLUMNS])
        yield buffer.getvalue()
        after = 0
        while True:
            async with self._sessionmaker() as db:
                repo = ExportRepository(db)
                rows = await repo.answer_page(filters, after, self.answer_page)
                if not rows:
                    return
                points: dict[str, list[CheckInPoint]] = {}
                for sid, at, confidence, stress in await repo.checkins(sorted({r["session_id"] for r in rows})):
                    points.setdefault(sid, []).append(CheckInPoint(at, confidence, stress))
            buffer.seek(0)
            buffer.truncate()
            for r in rows:
                row = answer_row(r, nearest(points.get(r["session_id"], []), r["created_at"]))
                writer.writerow([csv_value(row[c.name]) for c in COLUMNS])
            yield buffer.getvalue()
            after = rows[-1]["id"]
            if len(rows) < self.answer_page:
                return
