"""The report a candidate keeps: scores, strengths, priorities, every answer, plots and progress.

One data builder feeds three views: the HTML page, the PDF (WeasyPrint, same template) and the JSON
the browser's end screen draws. Who may read it is decided here too (resume token or researcher).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from statistics import fmean
from typing import Any, Literal

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import Answer, AnswerAssessment, InterviewSession
from app.db.repositories.answers import AnswerRepository
from app.db.repositories.assessments import AssessmentRepository
from app.db.repositories.sessions import SessionRepository
from app.errors import Forbidden, NotFound
from app.services.assessment.rubric import DIMENSIONS, Rubric, load_rubric
from app.services.content import Content
from app.services.report_svg import line_plot
from app.services.text_analysis import HEDGES

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
Reader = Literal["participant", "researcher"]

ADVICE = {
    "structure": "Give every answer its shape: for a story, situation, task, action and result; for a "
                 "hypothetical, a plan with a first step and a check.",
    "specificity": "Name the tools and the people's roles, and put a number on the outcome.",
    "relevance": "Answer the question that was asked first; keep background to a sentence.",
    "ownership": "Say 'I' for what you did; keep 'we' for the team, and drop 'I think' and 'maybe'.",
    "conciseness": "Aim for one to two minutes: context in a sentence, then the actions and the result.",
    "delivery": "Keep a steady pace, pause instead of 'um', and look at the camera.",
}
_FILLER_RE = re.compile(r"(?<![\w'])(um+|uh+|uhm|erm|er|ah+|hmm+|mhm|you know|i mean|sort of|kind of)(?![\w'])",
                        re.IGNORECASE)
_LIKE_RE = re.compile(r"(?<=,\s)like(?=,)", re.IGNORECASE)
_HEDGE_RE = re.compile(r"(?<![\w'])(" + "|".join(re.escape(h) for h in sorted(HEDGES, key=len, reverse=True))
                       + r")(?![\w'])", re.IGNORECASE)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def highlight(text: str) -> Markup:
    """The transcript, escaped, with fillers and hedges marked."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern in (("filler", _FILLER_RE), ("filler", _LIKE_RE), ("hedge", _HEDGE_RE)):
        for m in pattern.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e, _ in spans):
                spans.append((m.start(), m.end(), kind))
    out, last = [], 0
    for start, end, kind in sorted(spans):
        out.append(escape(text[last:start]))
        out.append(f'<mark class="{kind}" title="{kind}">{escape(text[start:end])}</mark>')
        last = end
    out.append(escape(text[last:]))
    return Markup("".join(out))


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 1) if values else None


@dataclass(frozen=True)
class ReportAccess:
    reader: Reader
    session: InterviewSession


class ReportService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], content: Content,
                 rubric: Rubric | None = None) -> None:
        self._sessionmaker = sessionmaker
        self.content = content
        self.rubric = rubric or load_rubric()
        self._env: Any = None

    # --- access ----------------------------------------------------------------------------

    async def open(self, session_id: str, token: str | None, *, researcher: bool) -> ReportAccess:
        """Who reads: the participant (their resume token) or a researcher. Raises NotFound / Forbidden."""
        async with self._sessionmaker() as db:
            session = await SessionRepository(db).get(session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist", code="session_not_found")
        if token is not None and hmac.compare_digest(session.resume_token_hash, _hash(token)):
            policy = self.content.policy.groups[session.group].report
            if policy == "never":
                raise Forbidden("the study does not show reports to this group", code="report_not_available")
            if policy == "after_end" and session.status == "active":
                raise Forbidden("the report opens when the interview has ended", code="report_after_end")
            return ReportAccess("participant", session)
        if researcher:
            return ReportAccess("researcher", session)
        raise Forbidden("this token does not open this session's report", code="invalid_report_token")

    # --- data ------------------------------------------------------------------------------

    async def data(self, access: ReportAccess) -> dict[str, Any]:
        session = access.session
        async with self._sessionmaker() as db:
            questions = {q.id: q for q in await SessionRepository(db).questions(session.id)}
            answers = list(await AnswerRepository(db).for_session(session.id))
            scored = {a.answer_id: a for a in await AssessmentRepository(db).for_session(session.id)}
            progress = await self._progress(db, session)
        labels = self.rubric.labels
        items: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for n, answer in enumerate(answers, start=1):
            q = questions[answer.asked_question_id]
            a = scored.get(answer.id)
            attempt = None
            if not q.is_follow_up:
                seen[q.question_id] = attempt = seen.get(q.question_id, 0) + 1
            details = a.details if a is not None else {}
            items.append({
                "n": n, "answer_id": answer.id, "question_id": q.question_id.removesuffix("~fu"),
                "question": q.text, "category": q.category, "follow_up": q.is_follow_up, "attempt": attempt,
                "input_mode": answer.input_mode, "text": answer.text, "transcript": highlight(answer.text),
                "scores": {d: getattr(a, d) if a is not None else None for d in DIMENSIONS},
                "overall": a.overall if a is not None else None,
                "reasons": details.get("reasons", {}), "evidence": details.get("evidence", {}),
                "improve": a.improve if a is not None else None, "source": a.source if a is not None else None,
                "tips": answer.tips or [],
                "metrics": {"word_count": answer.word_count, "speaking_rate_wpm": answer.speaking_rate_wpm,
                            "fillers_per_min": answer.fillers_per_min, "gaze": answer.gaze,
                            "filler_count": answer.filler_count, "hedge_count": answer.hedge_count},
            })
        means = {d: _mean([i["scores"][d] for i in items if i["scores"][d] is not None]) for d in DIMENSIONS}
        overall = _mean([i["overall"] for i in items if i["overall"] is not None])
        ranked = [d for d in DIMENSIONS if means[d] is not None]
        strengths = [self._point(d, means[d], items, best=True)
                     for d in sorted(ranked, key=lambda d: (-(means[d] or 0), DIMENSIONS.index(d)))
                     if (means[d] or 0) >= 3.5][:3]
        chosen = {p["dimension"] for p in strengths}
        priorities = [self._point(d, means[d], items, best=False)
                      for d in sorted(ranked, key=lambda d: (means[d] or 0, DIMENSIONS.index(d)))
                      if (means[d] or 0) < 4.5 and d not in chosen][:3]
        x = [str(i["n"]) for i in items]
        plots = {
            "pace": line_plot("Pace (words/min)", [i["metrics"]["speaking_rate_wpm"] for i in items], x,
                              y_min=80, y_max=200, band=(120, 160), plot_id="pace"),
            "fillers": line_plot("Fillers per minute", [i["metrics"]["fillers_per_min"] for i in items], x,
                                 y_min=0, y_max=6, band=(0, 3), plot_id="fillers"),
            "eye_contact": line_plot("Eye contact (%)", [None if i["metrics"]["gaze"] is None
                                                         else round(100 * i["metrics"]["gaze"]) for i in items], x,
                                     y_min=0, y_max=100, band=(60, 100), plot_id="eye_contact"),
            "overall": line_plot("Overall score (1-5)", [i["overall"] for i in items], x, y_min=1, y_max=5,
                                 band=(4, 5), plot_id="overall"),
        }
        if len(progress) > 1:
            plots["progress"] = line_plot("Overall score by session", [p["overall"] for p in progress],
                                          [p["date"][5:10] for p in progress], y_min=1, y_max=5, band=(4, 5),
                                          plot_id="progress")
        attempts: dict[str, list[dict[str, Any]]] = {}
        for i in items:
            if i["attempt"] is not None:
                attempts.setdefault(i["question_id"], []).append(i)
        return {
            "session": {"id": session.id, "participant_id": session.participant_id, "group": session.group,
                        "mode": session.mode, "status": session.status, "style": session.style,
                        "started_at": session.created_at.isoformat(),
                        "date": session.created_at.strftime("%d %B %Y"), "question_count": session.question_count},
            "reader": access.reader,
            "labels": labels, "dimensions": list(DIMENSIONS), "rubric_version": self.rubric.version,
            "scores": means, "overall": overall, "answers": items, "strengths": strengths,
            "priorities": priorities, "plots": plots, "progress": progress,
            "attempts": {qid: rows for qid, rows in attempts.items() if len(rows) > 1},
            "questions": [{"question_id": qid, "question": rows[0]["question"]} for qid, rows in attempts.items()],
        }

    def _point(self, dimension: str, mean: float | None, items: list[dict[str, Any]], *, best: bool) -> dict[str, Any]:
        scored = [i for i in items if i["scores"][dimension] is not None]
        pick = (max if best else min)(scored, key=lambda i: (i["scores"][dimension], -i["n"] if best else i["n"]))
        advice = None if best else ADVICE[dimension]
        return {"dimension": dimension, "label": self.rubric.labels[dimension], "mean": mean,
                "evidence": pick["evidence"].get(dimension), "reason": pick["reasons"].get(dimension),
                "answer": pick["n"], "question": pick["question"], "advice": advice}

    async def _progress(self, db: AsyncSession, session: InterviewSession) -> list[dict[str, Any]]:
        """This participant's sessions up to this one, oldest first (only this one without a participant id)."""
        stmt = (
            select(InterviewSession.id, InterviewSession.created_at, InterviewSession.mode,
                   func.count(Answer.id), func.avg(AnswerAssessment.overall),
                   *(func.avg(getattr(AnswerAssessment, d)) for d in DIMENSIONS))
            .select_from(InterviewSession)
            .join(Answer, Answer.session_id == InterviewSession.id)
            .outerjoin(AnswerAssessment, AnswerAssessment.answer_id == Answer.id)
            .where(InterviewSession.created_at <= session.created_at)
            .group_by(InterviewSession.id, InterviewSession.created_at, InterviewSession.mode)
            .order_by(InterviewSession.created_at, InterviewSession.id)
        )
        if session.participant_id is None:
            stmt = stmt.where(InterviewSession.id == session.id)
        else:
            stmt = stmt.where(InterviewSession.participant_id == session.participant_id)
        rows = (await db.execute(stmt.limit(100))).all()
        return [{
            "session_id": r[0], "date": r[1].isoformat(), "mode": r[2], "answers": int(r[3]),
            "overall": None if r[4] is None else round(float(r[4]), 1), "current": r[0] == session.id,
            "scores": {d: None if v is None else round(float(v), 1) for d, v in zip(DIMENSIONS, r[5:], strict=True)},
        } for r in rows]

    # --- views -----------------------------------------------------------------------------

    def html(self, data: dict[str, Any], *, pdf: bool = False, token: str | None = None) -> str:
        if self._env is None:
            from jinja2 import Environment, FileSystemLoader, select_autoescape

            self._env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
        plots = {k: Markup(v) for k, v in data["plots"].items()}  # built from numbers, every text escaped
        return str(self._env.get_template("report.html").render(d=data, plots=plots, pdf=pdf, token=token))

    @staticmethod
    def pdf(html: str) -> bytes:
        """The same page as PDF. Blocking (run it in a worker thread); never fetches anything."""
        from weasyprint import HTML

        def refuse(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            raise ValueError(f"the report fetches nothing ({url[:40]})")

        return HTML(string=html, url_fetcher=refuse).write_pdf()  # type: ignore[no-any-return]

    @staticmethod
    def json_view(data: dict[str, Any]) -> dict[str, Any]:
        """What the browser's end screen draws (transcripts as plain text)."""
        answers = [{k: v for k, v in a.items() if k != "transcript"} for a in data["answers"]]
        return {**data, "answers": answers, "attempts": {q: [{k: v for k, v in a.items() if k != "transcript"}
                                                             for a in rows] for q, rows in data["attempts"].items()}}
