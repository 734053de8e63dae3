"""The engines this process runs, chosen by settings. Each family is optional: a missing
engine is reported by /health and its messages get an `engine_unavailable` error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.services.coaching.base import Coach


@dataclass
class Engines:
    coach: Coach
    stt: Any | None = None
    tts: Any | None = None
    head_pose: Any | None = None
    speech_metrics: Any | None = None
    turn: Any | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {"coach": self.coach.health()}
        for name in ("stt", "tts", "head_pose", "speech_metrics", "turn"):
            engine = getattr(self, name)
            if engine is not None:
                report[name] = engine.health()
            else:
                report[name] = {"status": "unavailable", "error": self.errors.get(name, "not configured")}
        return report

    async def warm(self) -> None:
        """Pay one-time costs (model loads, graph set-up, JIT) at start-up rather than on the first request."""
        await self._each("warm")

    async def aclose(self) -> None:
        await self._each("aclose")

    async def _each(self, method: str) -> None:
        """Await `method` on every engine that has it (engines without it have nothing to do)."""
        for name in ("stt", "tts", "head_pose", "speech_metrics", "turn", "coach"):
            call = getattr(getattr(self, name), method, None)
            if call is not None:
                await call()
