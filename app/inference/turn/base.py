"""What a turn-detection backend offers: voice activity per 32 ms window, and the probability that a turn is over."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

SAMPLE_RATE = 16_000
VAD_WINDOW = 512  # Silero VAD's window at 16 kHz: 32 ms
VAD_CONTEXT = 64  # samples of the previous window the model sees


@dataclass
class VadState:
    """The recurrent state of one audio stream's voice-activity model (one per streamed answer)."""

    h: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 128), np.float32))
    c: np.ndarray = field(default_factory=lambda: np.zeros((1, 1, 128), np.float32))
    context: np.ndarray = field(default_factory=lambda: np.zeros(VAD_CONTEXT, np.float32))


@runtime_checkable
class TurnEngine(Protocol):
    """Voice activity and end-of-turn probability of 16 kHz mono float32 audio.

    The async methods run the models in the engine's worker threads behind its concurrency limit;
    the `_sync` twins are for those threads, evaluations and benchmarks.
    """

    name: str

    def speech_probabilities_sync(self, state: VadState, audio: np.ndarray) -> np.ndarray:
        """Speech probability of each 512-sample window of `audio` (its length a multiple of 512); updates `state`."""
        ...

    async def speech_probabilities(self, state: VadState, audio: np.ndarray) -> np.ndarray: ...

    def end_of_turn_sync(self, audio: np.ndarray) -> float | None:
        """Probability that the speaker has finished, from the turn's audio so far (the last 8 s count);
        None: this backend has no end-of-turn model (silence alone decides)."""
        ...

    async def end_of_turn(self, audio: np.ndarray) -> float | None: ...

    def health(self) -> dict[str, Any]: ...

    async def warm(self) -> None: ...

    async def aclose(self) -> None: ...
