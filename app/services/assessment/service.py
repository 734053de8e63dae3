"""The scorer the interview uses: the LLM when it answers well and in time, else the heuristics.

Same rules as the coach (app/services/coaching/fallback.py): one deadline per answer, the LLM
engine's retries and circuit breaker, any failure or invalid reply -> the heuristic assessment,
with the reason recorded. Delivery always comes from the measures, never from the model.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from app.inference.llm.base import LlmError
from app.services.assessment.base import AnswerContext, Assessment, overall_score
from app.services.assessment.heuristic import HeuristicScorer
from app.services.assessment.llm import LlmScorer

log = logging.getLogger(__name__)
GRACE_S = 0.05


class Assessor:
    def __init__(self, heuristic: HeuristicScorer, llm: LlmScorer | None = None, deadline_s: float = 4.0) -> None:
        self.heuristic = heuristic
        self.llm = llm
        self.deadline_s = deadline_s
        self.results: dict[str, int] = {}

    @property
    def rubric(self) -> Any:
        return self.heuristic.rubric

    def heuristic_now(self, ctx: AnswerContext, previous_answer: str | None = None) -> Assessment:
        return self.heuristic.assess(ctx, previous_answer)

    async def assess(self, ctx: AnswerContext, baseline: Assessment, previous_answer: str | None = None) -> Assessment:
        """The LLM's scores on the text dimensions when it gives valid ones in time; else `baseline`."""
        if self.llm is None:
            return self._counted(baseline, "heuristic")
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.deadline_s
        reason: str
        try:
            async with asyncio.timeout_at(deadline + GRACE_S):
                dims, improve, latency = await self.llm.score(ctx, deadline=deadline, previous_answer=previous_answer)
        except LlmError as exc:
            reason = exc.kind
        except ValueError as exc:  # schema, markup, made-up quotes
            reason = "invalid_output"
            log.info("LLM assessment rejected (question=%s): %s", ctx.question_id, str(exc)[:200])
        except TimeoutError:
            reason = "timeout"
        except Exception:  # a scorer bug must not cost the candidate the turn
            log.exception("LLM scorer failed")
            reason = "error"
        else:
            merged = {**dims, "delivery": baseline.dimensions["delivery"]}
            scores = {k: v.score for k, v in merged.items()}
            return self._counted(replace(
                baseline, dimensions=merged, overall=overall_score(self.heuristic.rubric, scores), improve=improve,
                source="llm", model=self.llm.model, latency_ms=round(latency, 1),
            ), "llm")
        latency_ms = round((loop.time() - started) * 1000, 1)
        return self._counted(replace(baseline, model=self.llm.model, latency_ms=latency_ms, fallback_reason=reason),
                             f"fallback:{reason}")

    def _counted(self, result: Assessment, key: str) -> Assessment:
        self.results[key] = self.results.get(key, 0) + 1
        return result

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "backend": "llm with heuristic fallback" if self.llm else "heuristic",
                "rubric_version": self.heuristic.rubric.version, "results": dict(self.results)}


def build_assessor(settings: Any, engine: Any | None) -> Assessor:
    """Heuristics always; the LLM scorer too when an LLM engine is configured and ASSESSMENT__LLM is on."""
    from app.services.assessment.rubric import load_rubric

    rubric = load_rubric()
    config = settings.assessment
    llm = (LlmScorer(engine, rubric, max_answer_chars=settings.llm.max_answer_chars, json_mode=settings.llm.json_mode)
           if engine is not None and config.llm else None)
    return Assessor(HeuristicScorer(rubric), llm, config.deadline_s)
