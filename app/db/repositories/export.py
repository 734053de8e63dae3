"""Keyset-paged reads for exports: each page is one short query, so nothing holds the whole study."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import (
    Answer,
    AnswerAssessment,
    AskedQuestion,
    CheckIn,
    InterviewSession,
    SessionEvent,
    TelemetryEvent,
    TurnLatency,
)
from app.db.repositories.statistics import SummaryFilters

_ANSWER_COLUMNS = (
    Answer.id, Answer.session_id, Answer.style, Answer.input_mode, Answer.created_at, Answer.word_count,
    Answer.duration_s, Answer.speaking_rate_wpm, Answer.pause_ratio, Answer.gaze, Answer.filler_count,
    Answer.fillers_per_min, Answer.hedge_count, Answer.response_latency_ms, Answer.server_metrics,
    Answer.client_metrics, Answer.tips, Answer.tips_shown, Answer.coach_source, Answer.llm_model, Answer.llm_latency_ms,
    InterviewSession.participant_id, InterviewSession.group, InterviewSession.assignment, InterviewSession.status,
    InterviewSession.created_at.label("session_created_at"), InterviewSession.initial_style,
    AskedQuestion.index.label("question_index"), AskedQuestion.question_id, AskedQuestion.category,
    AskedQuestion.is_follow_up, AskedQuestion.asked_at, InterviewSession.mode.label("session_mode"),
    AnswerAssessment.structure.label("score_structure"), AnswerAssessment.specificity.label("score_specificity"),
    AnswerAssessment.relevance.label("score_relevance"), AnswerAssessment.ownership.label("score_ownership"),
    AnswerAssessment.conciseness.label("score_conciseness"), AnswerAssessment.delivery.label("score_delivery"),
    AnswerAssessment.overall.label("score_overall"), AnswerAssessment.source.label("assessment_source"),
    AnswerAssessment.shown.label("assessment_shown"), AnswerAssessment.rubric_version,
    TurnLatency.turn_detection, TurnLatency.turn_reason, TurnLatency.turn_probability, TurnLatency.turn_ms,
    TurnLatency.transcript_ms, TurnLatency.coach_ms, TurnLatency.question_ms, TurnLatency.first_audio_ms,
    TurnLatency.cue_ms,
)


def _sessions_in_range(stmt: Any, filters: SummaryFilters) -> Any:
    if filters.since is not None:
        stmt = stmt.where(InterviewSession.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(InterviewSession.created_at < filters.until)
    return stmt


class ExportRepository:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def session_cursor(self, session_id: str) -> tuple[datetime, str] | None:
        stmt = select(InterviewSession.created_at, InterviewSession.id).where(InterviewSession.id == session_id)
        row = (await self.db.execute(stmt)).one_or_none()
        return (row[0], row[1]) if row else None

    async def session_page(
        self, filters: SummaryFilters, after: tuple[datetime, str] | None, limit: int
    ) -> Sequence[InterviewSession]:
        """Sessions in (created_at, id) order, strictly after the cursor."""
        stmt = _sessions_in_range(select(InterviewSession), filters)
        if filters.style is not None:
            stmt = stmt.where(InterviewSession.initial_style == filters.style)
        if after is not None:
            created, sid = after
            stmt = stmt.where(or_(InterviewSession.created_at > created,
                                  and_(InterviewSession.created_at == created, InterviewSession.id > sid)))
        stmt = stmt.order_by(InterviewSession.created_at, InterviewSession.id).limit(limit)
        return (await self.db.execute(stmt)).scalars().all()

    async def children(self, session_ids: list[str]) -> dict[str, dict[str, list[Any]]]:
        """Questions, answers, check-ins, telemetry and events of these sessions, grouped by session."""
        out: dict[str, dict[str, list[Any]]] = {
            sid: {"questions": [], "answers": [], "assessments": [], "latencies": [], "checkins": [], "telemetry": [],
                  "events": []}
            for sid in session_ids
        }
        tables: tuple[tuple[str, Any, Any], ...] = (
            ("questions", AskedQuestion, AskedQuestion.index), ("answers", Answer, Answer.id),
            ("assessments", AnswerAssessment, AnswerAssessment.answer_id),
            ("checkins", CheckIn, CheckIn.id), ("telemetry", TelemetryEvent, TelemetryEvent.id),
            ("events", SessionEvent, SessionEvent.id), ("latencies", TurnLatency, TurnLatency.answer_id),
        )
        for key, model, order in tables:
            stmt = select(model).where(model.session_id.in_(session_ids)).order_by(model.session_id, order)
            for row in (await self.db.execute(stmt)).scalars():
                out[row.session_id][key].append(row)
        return out

    async def answer_page(self, filters: SummaryFilters, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Answers joined with their session and question, in id order after `after_id`."""
        stmt = (
            select(*_ANSWER_COLUMNS)
            .join(InterviewSession, Answer.session_id == InterviewSession.id)
            .join(AskedQuestion, Answer.asked_question_id == AskedQuestion.id)
            .outerjoin(TurnLatency, TurnLatency.answer_id == Answer.id)
            .outerjoin(AnswerAssessment, AnswerAssessment.answer_id == Answer.id)
            .where(Answer.id > after_id)
        )
        stmt = _sessions_in_range(stmt, filters)
        if filters.style is not None:
            stmt = stmt.where(Answer.style == filters.style)
        stmt = stmt.order_by(Answer.id).limit(limit)
        return [dict(row) for row in (await self.db.execute(stmt)).mappings()]

    async def checkins(self, session_ids: list[str]) -> list[tuple[str, datetime, int, int]]:
        stmt = (
            select(CheckIn.session_id, CheckIn.created_at, CheckIn.confidence, CheckIn.stress)
            .where(CheckIn.session_id.in_(session_ids))
            .order_by(CheckIn.session_id, CheckIn.created_at, CheckIn.id)
        )
        return [(r[0], r[1], r[2], r[3]) for r in (await self.db.execute(stmt)).all()]
