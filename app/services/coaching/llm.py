"""The LLM coach: asks a chat model for the turn's reply as JSON and validates it.

It raises on every kind of failure (transport, deadline, invalid output); the fallback
coach turns those into the heuristic answer, so this class never has to decide that.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.inference.llm.base import ChatMessage, DeltaCallback, LlmEngine
from app.services.coaching.base import CoachReply, CoachTip, TurnContext
from app.services.coaching.heuristic import follow_up_roll
from app.services.coaching.llm_prompt import CONTROL_CHARS, parse_output, system_prompt, user_prompt
from app.services.coaching.speaking import SpokenDraft
from app.services.coaching.stream_text import JsonFieldStream
from app.settings import LlmSettings


class InvalidLlmOutput(ValueError):
    """The model answered, but not with something we may show."""

    def __init__(self, message: str, *, model: str, latency_ms: float) -> None:
        super().__init__(message)
        self.model = model
        self.latency_ms = latency_ms


class LlmCoach:
    """Coach backed by an `LlmEngine`. Use it through `FallbackCoach`."""

    name = "llm"
    uses_history = True

    def __init__(self, engine: LlmEngine, settings: LlmSettings, default_deadline_s: float = 4.0) -> None:
        self.engine = engine
        self.settings = settings
        self.default_deadline_s = default_deadline_s

    @property
    def model(self) -> str:
        return self.engine.model

    def messages(self, context: TurnContext, *, follow_up_allowed: bool) -> list[ChatMessage]:
        return [
            ChatMessage("system", system_prompt(context.style)),
            ChatMessage("user", user_prompt(
                context, follow_up_allowed=follow_up_allowed, max_answer_chars=self.settings.max_answer_chars,
                max_jd_chars=self.settings.max_job_description_chars,
            )),
        ]

    async def reply(self, context: TurnContext, deadline: float | None = None) -> CoachReply:
        """The model's reply for this turn. Raises `LlmError` or `InvalidLlmOutput`."""
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self.default_deadline_s
        # The same reproducible roll as the heuristic coach, so both follow up equally often.
        follow_up_allowed = follow_up_roll(context)
        completion = await self.engine.complete(
            self.messages(context, follow_up_allowed=follow_up_allowed), deadline=deadline,
            json_mode=self.settings.json_mode, on_delta=self._delta_forwarder(context),
        )
        try:
            out = parse_output(completion.text)
        except ValueError as exc:
            raise InvalidLlmOutput(f"{type(exc).__name__}: {str(exc)[:200]}", model=completion.model,
                                   latency_ms=completion.latency_ms) from None
        # The server's policy wins over whatever the model chose to include.
        complete = context.assessment is not None and not context.assessment.missing
        tips = tuple(CoachTip(t.kind, t.text, t.evidence) for t in out.tips) if context.wants_tips else ()
        message = out.interviewer_message
        if context.spoken_acknowledgement is not None:  # said before the model was asked: part of the reply
            message = f"{context.spoken_acknowledgement} {message}"
        return CoachReply(
            interviewer_message=message,
            # Only when this answer lacks something: never "tell me more" after a complete answer.
            follow_up=out.follow_up if follow_up_allowed and not complete else None,
            tips=tips,
            source="llm",
            model=completion.model,
            latency_ms=round(completion.latency_ms, 1),
            next_question_text=out.next_question if context.next_question is not None else None,
            extra={"llm_attempts": completion.attempts},
        )

    def _delta_forwarder(self, context: TurnContext) -> DeltaCallback | None:
        """Turns streamed JSON into interviewer-message text as it arrives: for the candidate to read
        (`LLM__STREAM`) and, in a session that speaks, to hear sentence by sentence (`context.speech`)."""
        target = context.on_interviewer_delta if self.settings.stream else None
        draft = SpokenDraft(context.speech) if context.speech is not None else None
        if target is None and draft is None:
            return None  # nobody wants the text early: ask for one whole reply
        field = JsonFieldStream("interviewer_message")

        async def forward(piece: str) -> None:
            if field.done:
                return
            text = CONTROL_CHARS.sub("", field.feed(piece))
            if text and draft is not None:
                draft.feed(text)
            if field.done and draft is not None:
                draft.finish()
            if text and target is not None:
                await target(text)

        return forward

    def health(self) -> dict[str, Any]:
        return self.engine.health()

    async def warm(self) -> None:
        """The LLM is remote: nothing to load."""

    async def aclose(self) -> None:
        await self.engine.aclose()
