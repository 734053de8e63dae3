"""The LLM engine protocol: one chat completion, bounded by a deadline, or a typed failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant"]
FailureKind = Literal["timeout", "connection", "http_status", "circuit_open", "bad_response"]
DeltaCallback = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    latency_ms: float
    attempts: int


class LlmError(Exception):
    """The LLM gave no usable completion. `kind` says why; callers fall back, they do not retry."""

    def __init__(self, kind: FailureKind, message: str, *, attempts: int = 0, latency_ms: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts
        self.latency_ms = latency_ms


class LlmEngine(Protocol):
    """A chat-completions model behind some transport.

    `deadline` is an event-loop time (`asyncio.get_running_loop().time()`) by which the
    call returns or raises `LlmError`; retries and back-off never run past it.
    With `on_delta`, the engine streams and calls it with each piece of generated text.
    """

    model: str

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        deadline: float,
        json_mode: bool = False,
        on_delta: DeltaCallback | None = None,
    ) -> Completion: ...

    def health(self) -> dict[str, Any]: ...

    async def warm(self) -> None:
        """Nothing to load for a remote model; here for the engine lifecycle every family shares."""
        ...

    async def aclose(self) -> None: ...
