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


class InterviewerSpeech(Protocol):
    """The interviewer's voice for one reply while it is being written (tts sessions): provisional speech.

    What is said here is spoken at once, before the durable reply exists; the durable interviewer
    message is later spoken only where it goes beyond `said`.
    """

    @property
    def said(self) -> list[str]:
        """The sentences given to `say` so far (spoken, or waiting to be), in order."""
        ...

    def say(self, text: str) -> None:
        """Queue `text` (one or more sentences) to be spoken now; never waits for the synthesis."""
        ...

    def close(self) -> None:
        """Nothing more will be said ahead of the durable message. Idempotent."""
        ...


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
    # The session speaks (tts): the reply may be spoken while it is written (see FallbackCoach).
    speech: InterviewerSpeech | None = None
    # Already said aloud before the LLM was asked; the reply's interviewer message begins with it.
    spoken_acknowledgement: str | None = None


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
