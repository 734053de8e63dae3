"""The text-to-speech engine protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class SpeechChunk:
    """One synthesised sentence: mono 16-bit little-endian PCM."""

    text: str
    pcm16: bytes
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.pcm16) / 2 / self.sample_rate


class TtsEngine(Protocol):
    """Synthesises speech one sentence at a time, so callers can stream sentence by sentence."""

    voice: str
    sample_rate: int

    async def synthesize(self, sentence: str) -> SpeechChunk:
        """Synthesise one sentence off the event loop."""
        ...

    def synthesize_sync(self, sentence: str) -> SpeechChunk:
        """The same, blocking (for worker threads and benchmarks)."""
        ...

    def health(self) -> dict[str, Any]: ...

    async def warm(self) -> None:
        """Pay one-time costs (model load, first run) at start-up."""
        ...

    async def aclose(self) -> None:
        """Release threads, sessions and connections."""
        ...
