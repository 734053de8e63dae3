"""The coach protocol: whatever writes the interviewer's reply and the tips for one turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.services.assessment.base import Assessment
from app.services.content import StyleCard
from app.services.text_analysis import TextAnalysis

CoachSource = Literal["heuristic", "llm"]


@dataclass(frozen=True)
class TurnQuestion:
    question_id: str
    text: str
    category: str
    is_follow_up: bool


@dataclass(frozen=True)
class TurnContext:
    """Everything a coach may use to answer one turn. Built by the interview service."""

    session_id: str
    turn_index: int
    style: StyleCard
    question: TurnQuestion
    answer_text: str
    analysis: TextAnalysis
    metrics: dict[str, Any]
    role: str | None
    job_description: str | None
    wants_tips: bool
    may_follow_up: bool
    next_question: TurnQuestion | None
    history: tuple[tuple[str, str], ...] = ()
    # Receives the interviewer message as it is generated (streaming LLMs only); provisional text.
    on_interviewer_delta: Callable[[str], Awaitable[None]] | None = None
    # The heuristic rubric scores of this answer: what it lacks decides the follow-up and the acknowledgement.
    assessment: Assessment | None = None


@dataclass(frozen=True)
class CoachTip:
    kind: str
    text: str
    evidence: str


@dataclass(frozen=True)
class CoachReply:
    interviewer_message: str
    follow_up: str | None
    tips: tuple[CoachTip, ...]
    source: CoachSource
    model: str | None = None
    latency_ms: float | None = None
    next_question_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Coach(Protocol):
    """Writes the interviewer's reply, an optional follow-up and the tips for one turn."""

    name: str
    uses_history: bool  # whether `TurnContext.history` is read (loading it costs a query per turn)

    async def reply(self, context: TurnContext) -> CoachReply:
        """Answer one turn. Must not raise for ordinary model failures: fallbacks handle those."""
        ...

    def health(self) -> dict[str, Any]:
        """A JSON-able description of the coach's state for /health."""
        ...

    async def warm(self) -> None: ...

    async def aclose(self) -> None: ...
