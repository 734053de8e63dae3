"""Rubric scores of answers, and the participant attributes kept apart from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.db.models import Answer, AnswerAssessment, InterviewSession, ParticipantAttribute


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


SCORE_COLUMNS = ("structure", "specificity", "relevance", "ownership", "conciseness", "delivery", "overall")


def _study_sessions(stmt: Any, filters: Any) -> Any:
    stmt = stmt.where(InterviewSession.mode == "study")
    if filters.since is not None:
        stmt = stmt.where(InterviewSession.created_at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(InterviewSession.created_at < filters.until)
    return stmt


class OutcomeRepository:
    """Per-session rows for the rubric outcomes and the fairness breakdown (study sessions only)."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def session_means(self, filters: Any, by: str | None = None) -> list[dict[str, Any]]:
        """One row per session: group, the attribute's value (with `by`), answer count and the session's mean
        of every automated measure and rubric score."""
        asr = Answer.server_metrics["asr_confidence"].as_float()
        measures = {
            "asr_confidence": asr, "speaking_rate_wpm": Answer.speaking_rate_wpm,
            "fillers_per_min": Answer.fillers_per_min, "gaze": Answer.gaze,
            **{f"score_{c}": getattr(AnswerAssessment, c) for c in SCORE_COLUMNS},
        }
        cols = [InterviewSession.id, InterviewSession.group, func.count(Answer.id)]
        stmt: Any = select(*cols, *(func.avg(cast(c, Float)) for c in measures.values()))
        stmt = stmt.select_from(InterviewSession).join(Answer, Answer.session_id == InterviewSession.id).outerjoin(
            AnswerAssessment, AnswerAssessment.answer_id == Answer.id)
        group_by: list[Any] = [InterviewSession.id, InterviewSession.group]
        if by is not None:
            stmt = stmt.add_columns(ParticipantAttribute.value).join(
                ParticipantAttribute, and_(ParticipantAttribute.session_id == InterviewSession.id,
                                           ParticipantAttribute.name == by))
            group_by.append(ParticipantAttribute.value)
        if filters.style is not None:
            stmt = stmt.where(Answer.style == filters.style)
        stmt = _study_sessions(stmt, filters).group_by(*group_by)
        names = list(measures)
        out = []
        for row in (await self.db.execute(stmt)).all():
            values = row[3:3 + len(names)]
            out.append({"session_id": row[0], "group": row[1], "answers": int(row[2]),
                        "value": row[3 + len(names)] if by is not None else None,
                        **{n: None if v is None else float(v) for n, v in zip(names, values, strict=True)}})
        return out

    async def score_means(self, filters: Any) -> list[dict[str, Any]]:
        """One row per study session with scored answers: group and its mean of every rubric score.
        Reads only the assessments (and the answers when a style filter asks for them)."""
        stmt: Any = select(InterviewSession.group, *(func.avg(cast(getattr(AnswerAssessment, c), Float))
                                                     for c in SCORE_COLUMNS)).select_from(AnswerAssessment).join(
            InterviewSession, InterviewSession.id == AnswerAssessment.session_id)
        if filters.style is not None:
            stmt = stmt.join(Answer, Answer.id == AnswerAssessment.answer_id).where(Answer.style == filters.style)
        stmt = _study_sessions(stmt, filters).group_by(AnswerAssessment.session_id, InterviewSession.group)
        return [{"group": r[0], **{f"score_{c}": None if v is None else float(v)
                                   for c, v in zip(SCORE_COLUMNS, r[1:], strict=True)}}
                for r in (await self.db.execute(stmt)).all()]

    async def first_last(self, filters: Any) -> list[dict[str, Any]]:
        """Per session with at least two scored answers: group, and first and last answer's scores."""
        ends = _study_sessions(
            select(AnswerAssessment.session_id.label("sid"), func.min(AnswerAssessment.answer_id).label("first"),
                   func.max(AnswerAssessment.answer_id).label("last"), InterviewSession.group.label("grp"))
            .join(InterviewSession, InterviewSession.id == AnswerAssessment.session_id)
            .group_by(AnswerAssessment.session_id, InterviewSession.group)
            .having(func.count() >= 2), filters,
        ).subquery("ends")
        first = aliased(AnswerAssessment, name="fa")
        last = aliased(AnswerAssessment, name="la")
        stmt = (
            select(ends.c.grp, *(getattr(first, c) for c in SCORE_COLUMNS), *(getattr(last, c) for c in SCORE_COLUMNS))
            .select_from(ends)
            .join(first, first.answer_id == ends.c.first)
            .join(last, last.answer_id == ends.c.last)
        )
        k = len(SCORE_COLUMNS)
        return [{"group": r[0], "first": dict(zip(SCORE_COLUMNS, r[1:1 + k], strict=True)),
                 "last": dict(zip(SCORE_COLUMNS, r[1 + k:], strict=True))}
                for r in (await self.db.execute(stmt)).all()]

    async def tips(self, filters: Any, by: str) -> list[tuple[str, str, list[Any]]]:
        """(session id, attribute value, tips of one answer) for every answer of sessions that declared `by`."""
        stmt = _study_sessions(
            select(Answer.session_id, ParticipantAttribute.value, Answer.tips)
            .join(InterviewSession, InterviewSession.id == Answer.session_id)
            .join(ParticipantAttribute, and_(ParticipantAttribute.session_id == Answer.session_id,
                                             ParticipantAttribute.name == by)), filters)
        if filters.style is not None:
            stmt = stmt.where(Answer.style == filters.style)
        return [(r[0], r[1], r[2] or []) for r in (await self.db.execute(stmt)).all()]
