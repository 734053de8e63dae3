"""SQLAlchemy models. Session state lives here, never in process memory."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


def _session_fk() -> ForeignKey:
    return ForeignKey("interview_sessions.id", ondelete="CASCADE")


class InterviewSession(Base):
    __tablename__ = "interview_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    resume_token_hash: Mapped[str] = mapped_column(String(64))
    participant_id: Mapped[str | None] = mapped_column(String(128), index=True)
    group: Mapped[str] = mapped_column(String(16), index=True)
    style: Mapped[str] = mapped_column(String(32))
    initial_style: Mapped[str] = mapped_column(String(32))
    role: Mapped[str | None] = mapped_column(String(200))
    job_description: Mapped[str | None] = mapped_column(Text)
    question_plan: Mapped[list[Any]] = mapped_column()
    question_count: Mapped[int] = mapped_column(Integer)
    plan_position: Mapped[int] = mapped_column(Integer, default=0)
    follow_up_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    # "client" (start_session named the group) or "block_randomised" (the server assigned it)
    assignment: Mapped[str] = mapped_column(String(16), default="client", server_default="client")
    tts: Mapped[bool] = mapped_column(Boolean, default=False)
    # "study" (a researcher's link or an API client) or "practice" (someone opening / alone)
    mode: Mapped[str] = mapped_column(String(16), default="study", server_default="study")
    next_seq: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AskedQuestion(Base):
    __tablename__ = "asked_questions"
    __table_args__ = (UniqueConstraint("session_id", "index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), _session_fk())
    index: Mapped[int] = mapped_column(Integer)
    plan_position: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    is_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    style: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("session_id", "asked_question_id"),
        UniqueConstraint("session_id", "client_message_id"),
        Index("ix_answers_session_created", "session_id", "created_at"),
        # ON DELETE CASCADE from asked_questions looks answers up by this column.
        Index("ix_answers_asked_question_id", "asked_question_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), _session_fk())
    asked_question_id: Mapped[int] = mapped_column(ForeignKey("asked_questions.id", ondelete="CASCADE"))
    client_message_id: Mapped[str | None] = mapped_column(String(128))
    input_mode: Mapped[str] = mapped_column(String(8))  # "text" | "voice"
    text: Mapped[str] = mapped_column(Text)
    style: Mapped[str] = mapped_column(String(32))
    # Effective values of the main metrics (server-measured when available, else the client's).
    word_count: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    speaking_rate_wpm: Mapped[float | None] = mapped_column(Float)
    pause_ratio: Mapped[float | None] = mapped_column(Float)
    gaze: Mapped[float | None] = mapped_column(Float)
    filler_count: Mapped[int | None] = mapped_column(Integer)
    fillers_per_min: Mapped[float | None] = mapped_column(Float)
    hedge_count: Mapped[int | None] = mapped_column(Integer)
    response_latency_ms: Mapped[float | None] = mapped_column(Float)
    server_metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    client_metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tips: Mapped[list[Any]] = mapped_column(default=list)
    tips_shown: Mapped[bool] = mapped_column(Boolean, default=False)
    coach_source: Mapped[str] = mapped_column(String(16))  # "heuristic" | "llm"
    llm_model: Mapped[str | None] = mapped_column(String(128))
    llm_latency_ms: Mapped[float | None] = mapped_column(Float)
    interviewer_message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TurnLatency(Base):
    """Stage times of one spoken answer, in ms after the end of the candidate's speech (VAD)."""

    __tablename__ = "turn_latencies"
    __table_args__ = (Index("ix_turn_latencies_session", "session_id"),)

    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32), _session_fk())
    turn_detection: Mapped[str] = mapped_column(String(8))  # "auto" | "manual"
    turn_reason: Mapped[str | None] = mapped_column(String(16))  # smart_turn | silence | audio_end
    turn_probability: Mapped[float | None] = mapped_column(Float)
    turn_ms: Mapped[float | None] = mapped_column(Float)  # turn detected (or audio_end received)
    transcript_ms: Mapped[float | None] = mapped_column(Float)  # transcript_final sent
    coach_ms: Mapped[float | None] = mapped_column(Float)  # the coach has replied
    question_ms: Mapped[float | None] = mapped_column(Float)  # next question (or session_complete) sent
    first_audio_ms: Mapped[float | None] = mapped_column(Float)  # first speech_audio of the reply sent
    cue_ms: Mapped[float | None] = mapped_column(Float)  # the spoken cue that took the turn sent (auto, tts)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AnswerAssessment(Base):
    """An answer's scores on the published rubric (app/data/rubric.json), one column per dimension."""

    __tablename__ = "answer_assessments"

    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32), _session_fk(), index=True)
    rubric_version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # "heuristic" | "llm"
    llm_model: Mapped[str | None] = mapped_column(String(128))
    llm_latency_ms: Mapped[float | None] = mapped_column(Float)
    fallback_reason: Mapped[str | None] = mapped_column(String(32))
    structure: Mapped[int | None] = mapped_column(Integer)
    specificity: Mapped[int | None] = mapped_column(Integer)
    relevance: Mapped[int | None] = mapped_column(Integer)
    ownership: Mapped[int | None] = mapped_column(Integer)
    conciseness: Mapped[int | None] = mapped_column(Integer)
    delivery: Mapped[int | None] = mapped_column(Integer)
    overall: Mapped[float | None] = mapped_column(Float)
    improve: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # reasons, evidence, delivery parts, missing
    shown: Mapped[bool] = mapped_column(Boolean, default=False)  # sent to the participant during the interview
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ParticipantAttribute(Base):
    """Optional self-reported attributes declared in the study policy (fairness breakdowns).

    Kept apart from the answers: one row per session and attribute, erased with the session.
    """

    __tablename__ = "participant_attributes"

    session_id: Mapped[str] = mapped_column(String(32), _session_fk(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))


class CheckIn(Base):
    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("session_id", "client_message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), _session_fk(), index=True)
    client_message_id: Mapped[str | None] = mapped_column(String(128))
    confidence: Mapped[int] = mapped_column(Integer)
    stress: Mapped[int] = mapped_column(Integer)
    style: Mapped[str] = mapped_column(String(32))
    question_index: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TelemetryEvent(Base):
    __tablename__ = "telemetry_events"
    __table_args__ = (UniqueConstraint("session_id", "client_message_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), _session_fk(), index=True)
    client_message_id: Mapped[str | None] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(64))
    style: Mapped[str] = mapped_column(String(32))
    latency_ms: Mapped[float | None] = mapped_column(Float)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SessionEvent(Base):
    """Style switches, resumes, ends: what happened to a session and when."""

    __tablename__ = "session_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), _session_fk(), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """Every durable server message, stored before it is sent, so it can be replayed."""

    __tablename__ = "outbox_messages"

    session_id: Mapped[str] = mapped_column(String(32), _session_fk(), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    reply_to: Mapped[str | None] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who exported or erased what, and when; never the data itself.

    Append-only: database triggers (migration 0002) refuse UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_log"
    __table_args__ = {"info": {"append_only": True}}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))  # "token:<fingerprint>", "loopback" or "cli:<user>"
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(128))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[str] = mapped_column(String(32))


class StudyCounter(Base):
    """Named counters shared by every process (e.g. the block-randomisation sequence)."""

    __tablename__ = "study_counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
