"""What a speech-metrics backend measures from the audio alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from app.inference.speech_metrics.filled_pauses import FilledPause


@dataclass(frozen=True)
class AcousticMeasures:
    """Acoustic facts of one answer. None = could not be measured (too little voice), never a guess."""

    duration_s: float
    speech_segments: tuple[tuple[float, float], ...]  # voice activity, seconds
    speaking_time_s: float
    pauses: tuple[float, ...]  # silences between speech, >= min_pause_s
    pitch_median_hz: float | None = None
    pitch_variability_st: float | None = None
    loudness_db: float | None = None
    loudness_variability_db: float | None = None
    filled_pauses: tuple[FilledPause, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def speech_span_s(self) -> float:
        """First voice onset to last voice offset."""
        if not self.speech_segments:
            return 0.0
        return self.speech_segments[-1][1] - self.speech_segments[0][0]


@runtime_checkable
class SpeechMetricsEngine(Protocol):
    """Measures pauses, pitch, loudness and filled-pause candidates of 16 kHz mono audio.

    `analyse` runs in a worker thread behind the engine's own concurrency limit.
    """

    name: str

    async def analyse(self, audio: np.ndarray) -> AcousticMeasures: ...

    def health(self) -> dict[str, Any]: ...

    async def warm(self) -> None: ...

    async def aclose(self) -> None: ...
