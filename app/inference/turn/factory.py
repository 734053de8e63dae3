"""Builds the turn-detection engine the settings ask for (TURNS__BACKEND)."""

from __future__ import annotations

from app.inference.turn.base import TurnEngine
from app.settings import Settings


def build_turn(settings: Settings) -> TurnEngine | None:
    config = settings.turns
    if not config.enabled:
        return None
    from app.inference.turn.smart_turn import SileroTurnEngine, SmartTurnEngine

    if config.backend == "silence":
        return SileroTurnEngine(config)
    return SmartTurnEngine(config)
