"""The engines this process runs, chosen by settings. Each family is optional: a missing
engine is reported by /health and its messages get an `engine_unavailable` error.

Every family is typed by its protocol, and every protocol has `health`, `warm` and `aclose`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.inference.head_pose.base import HeadPoseEngine
from app.inference.speech_metrics.base import SpeechMetricsEngine
from app.inference.stt.base import SpeechToText
from app.inference.tts.base import TtsEngine
from app.inference.turn.base import TurnEngine
from app.services.coaching.base import Coach

Engine = SpeechToText | TtsEngine | HeadPoseEngine | SpeechMetricsEngine | TurnEngine


@dataclass
class Engines:
    coach: Coach
    stt: SpeechToText | None = None
    tts: TtsEngine | None = None
    head_pose: HeadPoseEngine | None = None
    speech_metrics: SpeechMetricsEngine | None = None
    turn: TurnEngine | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def families(self) -> dict[str, Engine | None]:
        return {"stt": self.stt, "tts": self.tts, "head_pose": self.head_pose, "speech_metrics": self.speech_metrics,
                "turn": self.turn}

    def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {"coach": self.coach.health()}
        for name, engine in self.families().items():
            if engine is not None:
                report[name] = engine.health()
            else:
                report[name] = {"status": "unavailable", "error": self.errors.get(name, "not configured")}
        return report

    async def warm(self) -> None:
        """Pay one-time costs (model loads, graph set-up, JIT) at start-up rather than on the first request."""
        for engine in self.families().values():
            if engine is not None:
                await engine.warm()
        await self.coach.warm()

    async def aclose(self) -> None:
        for engine in self.families().values():
            if engine is not None:
                await engine.aclose()
        await self.coach.aclose()
