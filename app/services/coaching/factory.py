"""Builds the interview's coach from settings."""

from __future__ import annotations

from app.inference.llm.factory import build_llm_engine
from app.services.coaching.fallback import FallbackCoach
from app.services.coaching.heuristic import HeuristicCoach
from app.services.coaching.llm import LlmCoach
from app.settings import Settings


def build_coach(settings: Settings) -> FallbackCoach:
    """LLM first with the heuristic coach behind it; heuristics only when no LLM is configured."""
    engine = build_llm_engine(settings)
    deadline = settings.coach.turn_deadline_s
    llm = LlmCoach(engine, settings.llm, deadline) if engine is not None else None
    return FallbackCoach(HeuristicCoach(), llm, deadline, why_no_llm="no LLM key (LLM__API_KEY or NVIDIA_API_KEY): heuristics only",
                         speak_while_writing=settings.llm.speak_while_writing)
