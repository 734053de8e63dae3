"""The coach the interview uses: the LLM when it answers well and in time, else the heuristics.

The interview code cannot tell which answered except by `CoachReply.source`, and it never
waits longer than the per-turn deadline.

In a session that speaks (`TurnContext.speech`) and with `LLM__SPEAK_WHILE_WRITING`, the heuristic
acknowledgement is said the moment the LLM is asked, and the LLM's message is spoken sentence by
sentence while it is written (see `speaking.py`); the durable reply begins with that acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from app.inference.llm.base import LlmError
from app.services.coaching.base import CoachReply, TurnContext
from app.services.coaching.heuristic import HeuristicCoach, acknowledgement
from app.services.coaching.llm import InvalidLlmOutput, LlmCoach
from app.services.voice import said_in

log = logging.getLogger(__name__)

# Time kept back from the deadline for building the heuristic reply and the bookkeeping.
RESERVE_S = 0.02
# Safety net on top of the LLM client's own deadline handling.
GRACE_S = 0.05


class FallbackCoach:
    """A `Coach` that tries `llm` within `deadline_s` and falls back to `heuristic` on any failure."""

    name = "fallback"

    def __init__(
        self, heuristic: HeuristicCoach, llm: LlmCoach | None, deadline_s: float, *, why_no_llm: str | None = None,
        speak_while_writing: bool = True,
    ) -> None:
        self.heuristic = heuristic
        self.llm = llm
        self.deadline_s = deadline_s
        self.speak_while_writing = speak_while_writing
        self.why_no_llm = why_no_llm or "no LLM configured"
        self.replies: dict[str, int] = {}
        self.uses_history = llm is not None

    async def reply(self, context: TurnContext) -> CoachReply:
        if self.llm is None:
            return self._counted(self.heuristic.reply_now(context), "heuristic")
        speech = context.speech if self.speak_while_writing else None
        if speech is None:
            return await self._reply(replace(context, speech=None))
        # The acknowledgement needs no model: say it now, and let the LLM write what follows it.
        said = acknowledgement(context)
        speech.say(said)
        try:
            reply = await self._reply(replace(context, spoken_acknowledgement=said))
        finally:
            speech.close()
        # The fallback's message is that same acknowledgement; LLM sentences spoken before its output was
        # rejected were heard but are not in the stored message: keep them beside it for the record.
        heard_only = speech.said[said_in(reply.interviewer_message, speech.said):]
        if heard_only:
            reply = replace(reply, extra={**reply.extra, "spoken_not_kept": heard_only})
        return reply

    async def _reply(self, context: TurnContext) -> CoachReply:
        assert self.llm is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + max(self.deadline_s - RESERVE_S, 0.0)
        model: str | None = self.llm.model
        reason: str
        try:
            async with asyncio.timeout_at(deadline + GRACE_S):
                return self._counted(await self.llm.reply(context, deadline=deadline), "llm")
        except LlmError as exc:
            reason = exc.kind
        except InvalidLlmOutput as exc:
            reason, model = "invalid_output", exc.model
            log.info("LLM output rejected (session=%s turn=%d): %s", context.session_id, context.turn_index, exc)
        except TimeoutError:
            reason = "timeout"
        except Exception:  # a coach bug must not cost the candidate the turn
            log.exception("LLM coach failed (session=%s)", context.session_id)
            reason = "error"
        latency = round((loop.time() - started) * 1000, 1)
        fallback = self.heuristic.reply_now(context)
        return self._counted(
            replace(fallback, model=model, latency_ms=latency, extra={"fallback_reason": reason}), f"fallback:{reason}"
        )

    def _counted(self, reply: CoachReply, key: str) -> CoachReply:
        self.replies[key] = self.replies.get(key, 0) + 1
        return reply

    def health(self) -> dict[str, Any]:
        if self.llm is None:
            return {"status": "ok", "backend": "heuristic", "mode": "heuristics only",
                    "llm": {"status": "unavailable", "error": self.why_no_llm}}
        llm = self.llm.health()
        return {
            "status": "ok",  # the heuristic coach always answers, so the coach itself is never down
            "backend": "llm with heuristic fallback",
            "mode": "llm" if llm.get("circuit") == "closed" else "heuristics only while the LLM circuit is open",
            "turn_deadline_s": self.deadline_s,
            "replies": dict(self.replies),
            "llm": llm,
        }

    async def warm(self) -> None:
        """The LLM is remote: nothing to load."""

    async def aclose(self) -> None:
        if self.llm is not None:
            await self.llm.aclose()
