"""The interview flow: start, resume, answer, switch style, check in, end.

Each public method is one unit of work: it reads what it needs, decides, writes the
answer and the server messages it produces (the outbox) in one transaction, and returns
those messages for the caller to send. Session state lives only in the database, so any
process sharing the database can continue any session.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import (
    Answer,
    AnswerAssessment,
    AskedQuestion,
    CheckIn,
    InterviewSession,
    OutboxMessage,
    ParticipantAttribute,
    TelemetryEvent,
)
from app.db.repositories.answers import AnswerRepository, CheckInRepository, TelemetryRepository
from app.db.repositories.counters import CounterRepository
from app.db.repositories.sessions import SessionRepository
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.schemas import ws
from app.services.assessment.base import AnswerContext, Assessment
from app.services.assessment.heuristic import HeuristicScorer
from app.services.assessment.service import Assessor
from app.services.assignment import block_assignment
from app.services.coaching.base import Coach, CoachReply, InterviewerSpeech, TurnContext, TurnQuestion
from app.services.content import Content
from app.services.metrics import check_client_metrics, merge_metrics
from app.services.text_analysis import analyse
from app.settings import CoachSettings, LimitSettings

HISTORY_TURNS = 3


def now() -> datetime:
    return datetime.now(UTC)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _question_payload(q: AskedQuestion) -> ws.QuestionPayload:
    return ws.QuestionPayload(
        question_id=q.question_id, index=q.index, text=q.text, category=q.category, follow_up=q.is_follow_up
    )


@dataclass(frozen=True)
class AnswerInput:
    """An answer as the API layer hands it over, whatever way it arrived."""

    text: str
    input_mode: str = "text"
    question_id: str | None = None
    client_message_id: str | None = None
    client_metrics: dict[str, Any] | None = None
    server_metrics: dict[str, Any] = field(default_factory=dict)
    received_at: datetime = field(default_factory=now)
    # Where streamed interviewer text goes before the durable messages (None: no streaming).
    on_interviewer_delta: Callable[[str], Awaitable[None]] | None = None
    # The session speaks: the reply may be spoken while it is written (provisional speech).
    speech: InterviewerSpeech | None = None


@dataclass(frozen=True)
class Outcome:
    session_id: str
    messages: list[ws.ServerMessage]
    coach_done_at: float | None = None  # time.monotonic() when the coach had replied (answers only)


class InterviewService:
    """Runs interviews. Knows nothing of HTTP or WebSockets."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        content: Content,
        coach: Coach,
        limits: LimitSettings,
        coach_settings: CoachSettings,
        assessor: Assessor | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self.content = content
        self.coach = coach
        self.limits = limits
        self.coach_settings = coach_settings
        self.assessor = assessor or Assessor(HeuristicScorer())

    # --- helpers -----------------------------------------------------------------------

    def _emit(
        self, db: AsyncSession, session: InterviewSession, messages: Sequence[ws.ServerMessage], reply_to: str | None
    ) -> list[ws.ServerMessage]:
        """Number the messages and store them in the outbox, in the caller's transaction."""
        stamped: list[ws.ServerMessage] = []
        created = now()
        for message in messages:
            message = message.model_copy(update={"session_id": session.id, "seq": session.next_seq, "reply_to": reply_to})
            SessionRepository(db).add_outbox(
                OutboxMessage(
                    session_id=session.id,
                    seq=session.next_seq,
                    reply_to=reply_to,
                    type=message.type,
                    payload=message.model_dump(mode="json"),
                    created_at=created,
                )
            )
            session.next_seq += 1
            stamped.append(message)
        session.updated_at = created
        return stamped

    async def _trim_outbox(self, db: AsyncSession, session: InterviewSession) -> None:
        window = self.limits.outbox_replay_window
        if session.next_seq % 50 == 0:  # trimming every turn would cost a statement per turn
            await SessionRepository(db).trim_outbox(session.id, session.next_seq - window)

    async def _replay(self, db: AsyncSession, session_id: str, reply_to: str | None) -> list[ws.ServerMessage] | None:
        """The stored replies to an already processed client message id, if any (idempotency)."""
        if reply_to is None:
            return None
        rows = await SessionRepository(db).outbox_replies(session_id, reply_to)
        if not rows:
            return None
        return [ws.server_message_adapter.validate_python(r.payload) for r in rows]

    async def _load(self, db: AsyncSession, session_id: str, *, for_update: bool = False) -> InterviewSession:
        session = await SessionRepository(db).get(session_id, for_update=for_update)
        if session is None:
            raise NotFound(f"session {session_id} does not exist", code="session_not_found")
        return session

    async def _locked(
        self, db: AsyncSession, session_id: str, reply_to: str | None
    ) -> tuple[InterviewSession, list[ws.ServerMessage] | None]:
        """Lock the session, then look for stored replies to `reply_to` and load the session.

        The idempotency check comes after the lock: a resend of the same message on another
        socket or instance waits for the first one to commit and then gets its replies.
        """
        if not await SessionRepository(db).lock(session_id):
            raise NotFound(f"session {session_id} does not exist", code="session_not_found")
        replayed = await self._replay(db, session_id, reply_to)
        return await self._load(db, session_id), replayed

    @staticmethod
    def _require_active(session: InterviewSession) -> None:
        if session.status != "active":
            raise Conflict(f"session is {session.status}", code="session_finished")

    def _style(self, name: str) -> None:
        if name not in self.content.styles:
            raise InvalidInput(
                f"unknown style {name!r}; choose one of {', '.join(self.content.style_names)}", code="unknown_style"
            )

    def _new_question(
        self, session: InterviewSession, index: int, plan_position: int, *, follow_up_text: str | None = None,
        parent: AskedQuestion | None = None, text_override: str | None = None,
    ) -> AskedQuestion:
        if follow_up_text is not None and parent is not None:
            question_id, text, category = f"{parent.question_id}~fu", follow_up_text, parent.category
        else:
            bank = self.content.question(session.question_plan[plan_position])
            assert bank is not None, "plan refers to a question missing from the bank"
            question_id, text, category = bank.id, text_override or bank.text, bank.category
        return AskedQuestion(
            session_id=session.id, index=index, plan_position=plan_position, question_id=question_id, text=text,
            category=category, is_follow_up=follow_up_text is not None, style=session.style,
            seq=session.next_seq, asked_at=now(),
        )

    # --- units of work -----------------------------------------------------------------

    async def start(self, msg: ws.StartSession) -> tuple[Outcome, str]:
        """Create a session and ask its first question. Returns the outcome and the resume token."""
        self._style(msg.style)
        group: str | None = msg.group
        policy = self.content.policy
        if msg.mode == "practice":  # someone practising alone: everything on, kept out of the study's figures
            if group not in (None, "treatment") or msg.randomise:
                raise InvalidInput("practice sessions have no study group", code="practice_has_no_group")
            group = "treatment"
        if group is None and policy.when_group_missing != "block_randomised" and not msg.randomise:
            raise InvalidInput("group is required (control or treatment)", code="group_required")
        attributes = self._attributes(msg.attributes)
        count = min(msg.question_count or self.coach_settings.default_question_count, len(self.content.questions))
        session_id = uuid.uuid4().hex
        token = secrets.token_urlsafe(32)
        created = now()
        session = InterviewSession(
            id=session_id, resume_token_hash=_hash_token(token), participant_id=msg.participant_id, group=group or "",
            style=msg.style, initial_style=msg.style, role=msg.role, job_description=msg.job_description,
            question_plan=self.content.plan(count, seed=session_id), question_count=count, plan_position=0,
            follow_up_pending=False, status="active", tts=msg.tts, next_seq=1, created_at=created, updated_at=created,
            mode=msg.mode,
        )
        async with self._sessionmaker() as db, db.begin():
            repo = SessionRepository(db)
            assigned: dict[str, Any] | None = None
            if group is None:  # the policy says: seeded block randomisation, sequence kept in the database
                position = await CounterRepository(db).next_value("block_randomisation") - 1
                group, block = block_assignment(sorted(policy.groups), policy.block_size, policy.seed, position)
                session.group, session.assignment = group, "block_randomised"
                assigned = {"method": "block_randomised", "group": group, "position": position, "block": block,
                            "block_size": policy.block_size, "seed": policy.seed}
            repo.add(session)
            await db.flush()  # the session row must exist before rows that reference it
            if assigned is not None:
                repo.add_event(session_id, "assigned", assigned, created)
            for name, value in attributes.items():  # stored apart from the answers
                db.add(ParticipantAttribute(session_id=session_id, name=name, value=value))
            repo.add_event(session_id, "started", {"style": msg.style, "group": group, "mode": msg.mode}, created)
            started = ws.SessionStarted(
                resume_token=token, style=msg.style, group=group,  # type: ignore[arg-type]
                styles=self.content.style_names,
                question_count=count, participant_id=msg.participant_id, tts=msg.tts,
                turn_detection=msg.turn_detection,
            )
            # The token is sent once and never stored in clear: the outbox copy is redacted.
            messages = self._emit(db, session, [started.model_copy(update={"resume_token": "<redacted>"})], msg.id)
            first = self._new_question(session, 0, 0)
            repo.add_question(first)
            messages += self._emit(db, session, [ws.QuestionMessage(**_question_payload(first).model_dump())], msg.id)
        messages[0] = messages[0].model_copy(update={"resume_token": token})
        return Outcome(session_id, messages), token

    async def resume(self, msg: ws.ResumeSession) -> Outcome:
        """Re-attach to a session; replay the durable messages after `last_seq` when still kept."""
        async with self._sessionmaker() as db, db.begin():
            repo = SessionRepository(db)
            # Locked so that a turn committing on another instance is either wholly in the replay or not at all.
            session = await repo.get(msg.session_id) if await repo.lock(msg.session_id) else None
            if session is None or not hmac.compare_digest(session.resume_token_hash, _hash_token(msg.resume_token)):
                raise Forbidden("unknown session or wrong resume token", code="invalid_resume_token")
            current = await repo.current_question(session.id)
            answered = await AnswerRepository(db).count(session.id)
            replay: list[ws.ServerMessage] = []
            complete = True
            if msg.last_seq is not None and msg.last_seq < session.next_seq - 1:
                oldest = await repo.oldest_outbox_seq(session.id)
                complete = oldest is not None and oldest <= msg.last_seq + 1
                if complete:
                    rows = await repo.outbox_after(session.id, msg.last_seq)
                    replay = [ws.server_message_adapter.validate_python(r.payload) for r in rows]
            repo.add_event(session.id, "resumed", {"last_seq": msg.last_seq, "replayed": len(replay)}, now())
            pending = current if session.status == "active" else None
            resumed = ws.SessionResumed(
                session_id=session.id, reply_to=msg.id, style=session.style, group=session.group,  # type: ignore[arg-type]
                styles=self.content.style_names, question_count=session.question_count, status=session.status,
                participant_id=session.participant_id,
                answered=answered, question=_question_payload(pending) if pending else None,
                replayed=len(replay), replay_complete=complete, tts=session.tts, turn_detection=msg.turn_detection,
            )
        return Outcome(session.id, [resumed, *replay])

    async def answer(self, session_id: str, given: AnswerInput) -> Outcome:
        """Store an answer, coach it, and ask the next question (or finish)."""
        text = given.text.strip()
        if not text:
            raise InvalidInput("the answer is empty", code="empty_answer")
        if len(text) > self.limits.max_text_chars:
            raise InvalidInput(f"the answer is longer than {self.limits.max_text_chars} characters", code="answer_too_long")
        check_client_metrics(given.client_metrics, self.limits.max_client_metrics_keys,
                             self.limits.max_client_metric_bytes)
        # Read phase: short transaction, no locks held while the coach (maybe an LLM) thinks.
        async with self._sessionmaker() as db, db.begin():
            found = await SessionRepository(db).with_current_question(session_id, replied_to=given.client_message_id)
            if found is None:
                raise NotFound(f"session {session_id} does not exist", code="session_not_found")
            session, current, already_answered = found
            if already_answered and (replayed := await self._replay(db, session_id, given.client_message_id)):
                return Outcome(session_id, replayed)
            self._require_active(session)
            if given.question_id is not None and given.question_id != current.question_id:
                raise Conflict(
                    f"question {given.question_id!r} is not the current question ({current.question_id!r})",
                    code="question_mismatch",
                )
            history = (
                await AnswerRepository(db).recent_exchanges(session_id, HISTORY_TURNS) if self.coach.uses_history else []
            )
            if current.is_follow_up and not history:
                history = await AnswerRepository(db).recent_exchanges(session_id, 1)
            state = (session.plan_position, current.index, session.style)
        previous_answer = history[-1][1] if current.is_follow_up and history else None
        analysis = analyse(text)
        effective, server_metrics = merge_metrics(analysis, given.server_metrics, given.client_metrics)
        policy = self.content.policy.groups[session.group]
        scoring = AnswerContext(
            question_id=current.question_id, question_text=current.text, category=current.category,
            is_follow_up=current.is_follow_up, answer_text=text, analysis=analysis, metrics=effective,
        )
        baseline = self.assessor.heuristic_now(scoring, previous_answer)
        next_position = session.plan_position + 1
        next_bank = (
            self.content.question(session.question_plan[next_position]) if next_position < session.question_count else None
        )
        context = TurnContext(
            session_id=session_id, turn_index=current.index, style=self.content.styles[session.style],
            question=TurnQuestion(current.question_id, current.text, current.category, current.is_follow_up),
            answer_text=text, analysis=analysis, metrics=effective, role=session.role,
            job_description=session.job_description, wants_tips=policy.gives_tips, may_follow_up=True,
            next_question=TurnQuestion(next_bank.id, next_bank.text, next_bank.category, False) if next_bank else None,
            history=tuple(history), on_interviewer_delta=given.on_interviewer_delta, assessment=baseline,
            speech=given.speech,
        )
        # The coach and the scorer think at the same time: the turn waits for the slower, not for both.
        reply, assessment = await asyncio.gather(
            self.coach.reply(context), self.assessor.assess(scoring, baseline, previous_answer)
        )
        coach_done = time.monotonic()  # the coach (and the scorer beside it) have replied
        try:
            outcome = await self._commit_answer(session_id, state, given, text, effective, server_metrics, reply,
                                                policy.gives_tips, assessment, policy.gives_assessment)
            return replace(outcome, coach_done_at=coach_done)
        except IntegrityError:
            # Same client id raced in on another socket: the other one won; answer with its replies.
            async with self._sessionmaker() as db, db.begin():
                if (replayed := await self._replay(db, session_id, given.client_message_id)) is not None:
                    return Outcome(session_id, replayed)
            raise Conflict("this question was answered concurrently", code="stale_turn") from None

    async def _commit_answer(
        self, session_id: str, state: tuple[int, int, str], given: AnswerInput, text: str,
        effective: dict[str, Any], server_metrics: dict[str, Any], reply: CoachReply, gives_tips: bool,
        assessment: Assessment, gives_assessment: bool,
    ) -> Outcome:
        async with self._sessionmaker() as db, db.begin():
            repo = SessionRepository(db)
            found = (
                await repo.with_current_question(session_id, replied_to=given.client_message_id)
                if await repo.lock(session_id) else None
            )
            if found is None:  # erased by a researcher while the coach was thinking
                raise NotFound(f"session {session_id} does not exist", code="session_not_found")
            session, current, already_answered = found
            if already_answered and (replayed := await self._replay(db, session_id, given.client_message_id)):
                # The same message was answered meanwhile (a resend on another socket or instance).
                return Outcome(session_id, replayed)
            self._require_active(session)
            if (session.plan_position, current.index, session.style) != state:
                raise Conflict("the session moved on while this answer was processed", code="stale_turn")
            created = now()
            elapsed_ms = (given.received_at - current.asked_at).total_seconds() * 1000
            server_metrics = {**server_metrics, "answer_elapsed_ms": round(elapsed_ms, 1)}
            if reply.extra:  # e.g. why the LLM was not used this turn
                server_metrics["coach"] = reply.extra
            answer = Answer(
                session_id=session_id, asked_question_id=current.id, client_message_id=given.client_message_id,
                input_mode=given.input_mode, text=text, style=session.style,
                word_count=effective.get("word_count"), duration_s=effective.get("duration_s"),
                speaking_rate_wpm=effective.get("speaking_rate_wpm"), pause_ratio=effective.get("pause_ratio"),
                gaze=effective.get("gaze"), filler_count=effective.get("filler_count"),
                fillers_per_min=effective.get("fillers_per_min"), hedge_count=effective.get("hedge_count"),
                response_latency_ms=effective.get("response_latency_ms"), server_metrics=server_metrics,
                client_metrics=given.client_metrics,
                tips=[{"kind": t.kind, "text": t.text, "evidence": t.evidence} for t in reply.tips],
                tips_shown=gives_tips, coach_source=reply.source, llm_model=reply.model,
                llm_latency_ms=reply.latency_ms, interviewer_message=reply.interviewer_message, created_at=created,
            )
            AnswerRepository(db).add(answer)
            await db.flush()
            db.add(_assessment_row(answer, assessment, gives_assessment, created))
            out: list[ws.ServerMessage] = [
                ws.AnswerMetricsMessage(answer_id=answer.id, metrics=effective, client_metrics=given.client_metrics),
            ]
            if gives_assessment:
                out.append(assessment_message(answer.id, assessment))
            out.append(ws.InterviewerMessage(text=reply.interviewer_message, follow_up=reply.follow_up is not None))
            if gives_tips:
                out.append(ws.TipsMessage(items=[ws.Tip(kind=t.kind, text=t.text, evidence=t.evidence) for t in reply.tips],
                                          source=reply.source))
            messages = self._emit(db, session, out, given.client_message_id)
            next_question: AskedQuestion | None = None
            if reply.follow_up is not None and not current.is_follow_up:
                next_question = self._new_question(session, current.index + 1, session.plan_position,
                                                   follow_up_text=reply.follow_up, parent=current)
            elif session.plan_position + 1 < session.question_count:
                session.plan_position += 1
                next_question = self._new_question(session, current.index + 1, session.plan_position,
                                                   text_override=reply.next_question_text)
            if next_question is not None:
                repo.add_question(next_question)
                messages += self._emit(db, session, [ws.QuestionMessage(**_question_payload(next_question).model_dump())],
                                       given.client_message_id)
            else:
                session.status = "completed"
                session.finished_at = created
                repo.add_event(session_id, "completed", {}, created)
                summary = await self._summary(db, session)
                summary["closing"] = self.content.styles[session.style].closing
                messages += self._emit(db, session, [ws.SessionComplete(summary=summary, report_url=self.report_url(session))],
                                       given.client_message_id)
            await self._trim_outbox(db, session)
        return Outcome(session_id, messages)

    async def _summary(self, db: AsyncSession, session: InterviewSession) -> dict[str, Any]:
        summary = await AnswerRepository(db).session_summary(session.id)
        summary.update(
            session_id=session.id, group=session.group, style=session.style, status=session.status,
            question_count=session.question_count,
            duration_s=round(((session.finished_at or now()) - session.created_at).total_seconds(), 1),
        )
        return summary

    async def switch_style(self, session_id: str, msg: ws.SwitchStyle) -> Outcome:
        self._style(msg.style)
        async with self._sessionmaker() as db, db.begin():
            session, replayed = await self._locked(db, session_id, msg.id)
            if replayed is not None:
                return Outcome(session_id, replayed)
            self._require_active(session)
            previous = session.style
            session.style = msg.style
            SessionRepository(db).add_event(session_id, "style_switched", {"style": msg.style, "previous": previous}, now())
            messages = self._emit(db, session, [ws.StyleSwitched(style=msg.style, previous=previous)], msg.id)
        return Outcome(session_id, messages)

    async def checkin(
        self, session_id: str, confidence: int, stress: int, group: str | None, client_message_id: str | None
    ) -> Outcome:
        async with self._sessionmaker() as db, db.begin():
            session, replayed = await self._locked(db, session_id, client_message_id)
            if replayed is not None:
                return Outcome(session_id, replayed)
            if group is not None and group != session.group:
                raise InvalidInput(f"group {group!r} does not match the session's group", code="group_mismatch")
            current = await SessionRepository(db).current_question(session_id)
            checkin = CheckIn(
                session_id=session_id, client_message_id=client_message_id, confidence=confidence, stress=stress,
                style=session.style, question_index=current.index if current else None, created_at=now(),
            )
            CheckInRepository(db).add(checkin)
            await db.flush()
            messages = self._emit(db, session, [ws.CheckInLogged(checkin_id=checkin.id)], client_message_id)
        return Outcome(session_id, messages)

    async def telemetry(self, session_id: str, msg: ws.Telemetry) -> Outcome:
        if msg.data is not None and len(json.dumps(msg.data)) > self.limits.max_telemetry_data_bytes:
            raise InvalidInput(f"telemetry data is over {self.limits.max_telemetry_data_bytes} bytes", code="telemetry_too_large")
        async with self._sessionmaker() as db, db.begin():
            session, replayed = await self._locked(db, session_id, msg.id)
            if replayed is not None:
                return Outcome(session_id, replayed)
            TelemetryRepository(db).add(TelemetryEvent(
                session_id=session_id, client_message_id=msg.id, event=msg.event, latency_ms=msg.latencyMs,
                data=msg.data, style=session.style, created_at=now(),
            ))
            messages = self._emit(db, session, [ws.TelemetryLogged(event=msg.event)], msg.id)
        return Outcome(session_id, messages)

    async def end(self, session_id: str, client_message_id: str | None) -> Outcome:
        async with self._sessionmaker() as db, db.begin():
            session, replayed = await self._locked(db, session_id, client_message_id)
            if replayed is not None:
                return Outcome(session_id, replayed)
            if session.status == "active":
                session.status = "ended"
                session.finished_at = now()
                SessionRepository(db).add_event(session_id, "ended", {}, session.finished_at)
            summary = await self._summary(db, session)
            messages = self._emit(db, session, [ws.SessionEnded(summary=summary, report_url=self.report_url(session))],
                                  client_message_id)
        return Outcome(session_id, messages)

    def report_url(self, session: InterviewSession) -> str | None:
        """Where the participant's report is, when the study policy lets this group see it after the end."""
        if self.content.policy.groups[session.group].report == "never":
            return None
        return f"/sessions/{session.id}/report"

    def _attributes(self, given: dict[str, str] | None) -> dict[str, str]:
        """Only attributes the study policy declares, with one of their declared values."""
        if not given:
            return {}
        declared = self.content.policy.attributes
        for name, value in given.items():
            if name not in declared:
                raise InvalidInput(f"attribute {name!r} is not declared in the study policy "
                                   f"({', '.join(sorted(declared)) or 'none declared'})", code="unknown_attribute")
            if value not in declared[name]:
                raise InvalidInput(f"attribute {name!r} must be one of {', '.join(declared[name])}",
                                   code="invalid_attribute")
        return dict(given)

    async def retry(self, session_id: str, question_id: str, client_message_id: str | None) -> Outcome:
        """Ask one of this session's questions again (also after the end); the session is active until answered."""
        async with self._sessionmaker() as db, db.begin():
            session, replayed = await self._locked(db, session_id, client_message_id)
            if replayed is not None:
                return Outcome(session_id, replayed)
            repo = SessionRepository(db)
            asked = list(await repo.questions(session_id))
            if not any(q.question_id == question_id and not q.is_follow_up for q in asked):
                raise NotFound(f"question {question_id!r} was not asked in this session", code="question_not_found")
            current = await repo.current_question(session_id)
            answered = {a.asked_question_id for a in await AnswerRepository(db).for_session(session_id)}
            if session.status == "active" and current is not None and current.id not in answered:
                if current.question_id == question_id:  # already being asked: nothing to do but say so again
                    return Outcome(session_id, self._emit(
                        db, session, [ws.QuestionMessage(**_question_payload(current).model_dump())], client_message_id))
                raise Conflict("answer the current question first, or end the session", code="question_pending")
            session.question_plan = [*session.question_plan, question_id]
            session.question_count = len(session.question_plan)
            session.plan_position = session.question_count - 1
            session.status, session.finished_at = "active", None
            attempt = 1 + sum(q.question_id == question_id and not q.is_follow_up for q in asked)
            repo.add_event(session_id, "retry", {"question_id": question_id, "attempt": attempt}, now())
            question = self._new_question(session, max(q.index for q in asked) + 1, session.plan_position)
            repo.add_question(question)
            messages = self._emit(db, session, [ws.QuestionMessage(**_question_payload(question).model_dump())],
                                  client_message_id)
        return Outcome(session_id, messages)

    async def authenticate(self, session_id: str, resume_token: str) -> None:
        """Check a session's resume token (used by the HTTP twins of socket messages)."""
        async with self._sessionmaker() as db:
            session = await SessionRepository(db).get(session_id)
        if session is None or not hmac.compare_digest(session.resume_token_hash, _hash_token(resume_token)):
            raise Forbidden("unknown session or wrong resume token", code="invalid_resume_token")

    async def speech_interrupted(self, session_id: str, reply_to_seq: int | None, heard_chunks: int,
                                 reply_to: str | None) -> Outcome:
        """The candidate spoke over the interviewer: a durable record that its voice stopped."""
        async with self._sessionmaker() as db, db.begin():
            session = await self._load(db, session_id, for_update=True)
            SessionRepository(db).add_event(session_id, "speech_interrupted",
                                            {"reply_to_seq": reply_to_seq, "heard_chunks": heard_chunks}, now())
            messages = self._emit(db, session, [ws.SpeechInterrupted(reply_to_seq=reply_to_seq, heard_chunks=heard_chunks)],
                                  reply_to)
        return Outcome(session_id, messages)

    async def silence_prompt(self, session_id: str, reply_to: str | None) -> Outcome:
        """The candidate said nothing for a while after the question: one gentle prompt in the style's words."""
        async with self._sessionmaker() as db, db.begin():
            session = await self._load(db, session_id, for_update=True)
            self._require_active(session)
            text = self.content.styles[session.style].silence_prompt
            SessionRepository(db).add_event(session_id, "silence_prompt", {}, now())
            messages = self._emit(db, session, [ws.InterviewerMessage(text=text)], reply_to)
        return Outcome(session_id, messages)


def assessment_message(answer_id: int, a: Assessment) -> ws.AssessmentMessage:
    return ws.AssessmentMessage(
        answer_id=answer_id, scores=a.scores, overall=a.overall, evidence=a.evidence, reasons=a.reasons,
        improve=a.improve, source=a.source, rubric_version=a.rubric_version, delivery_parts=a.delivery_parts,
    )


def _assessment_row(answer: Answer, a: Assessment, shown: bool, created: datetime) -> AnswerAssessment:
    s = a.scores
    return AnswerAssessment(
        answer_id=answer.id, session_id=answer.session_id, rubric_version=a.rubric_version, source=a.source,
        llm_model=a.model, llm_latency_ms=a.latency_ms, fallback_reason=a.fallback_reason,
        structure=s["structure"], specificity=s["specificity"], relevance=s["relevance"], ownership=s["ownership"],
        conciseness=s["conciseness"], delivery=s["delivery"], overall=a.overall, improve=a.improve,
        details=a.details(), shown=shown, created_at=created,
    )
