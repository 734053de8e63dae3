"""The latency budget of spoken answers: stage times recorded per answer, summarised as p50/p95.

Every stage is measured on the server's monotonic clock, in ms after the end of the candidate's
speech as the voice-activity detector heard it (the arrival of the audio frame where speech ended):

turn_ms          the turn was detected (auto) or audio_end arrived (manual)
cue_ms           the short spoken cue that takes the turn was sent (auto mode with tts, TURNS__CUE)
transcript_ms    transcript_final was sent
coach_ms         the coach had replied (heuristic or LLM)
question_ms      the next question (or session_complete) was sent
first_audio_ms   the first speech_audio of the interviewer's reply was sent (TTS sessions), provisional
                 speech included (the reply heard while the LLM writes it)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.models import TurnLatency
from app.db.repositories.latency import STAGES, LatencyRepository
from app.db.repositories.statistics import SummaryFilters

log = logging.getLogger(__name__)
SUMMARY_ROWS = 20_000  # the newest spoken answers a summary looks at


@dataclass
class StageClock:
    """Monotonic stamps of one spoken answer as it goes through the stages."""

    mode: str  # auto | manual
    speech_end: float | None = None
    reason: str | None = None
    probability: float | None = None
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, stage: str, at: float) -> None:
        self.marks.setdefault(stage, at)

    def stages_ms(self) -> dict[str, float | None]:
        origin = self.speech_end
        return {s: (round(1000 * (self.marks[s] - origin), 1) if origin is not None and s in self.marks else None)
                for s in STAGES}


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None}
    arr = np.asarray(values, dtype=float)
    return {"n": int(arr.size), "p50": round(float(np.percentile(arr, 50)), 1), "p95": round(float(np.percentile(arr, 95)), 1)}


class LatencyService:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def record(self, answer_id: int, session_id: str, clock: StageClock) -> None:
        async with self._sessionmaker() as db, db.begin():
            LatencyRepository(db).add(TurnLatency(
                answer_id=answer_id, session_id=session_id, turn_detection=clock.mode, turn_reason=clock.reason,
                turn_probability=None if clock.probability is None else round(clock.probability, 4),
                created_at=datetime.now(UTC), **clock.stages_ms(),
            ))

    async def summary(self, filters: SummaryFilters) -> dict[str, Any]:
        """p50/p95 of every stage, overall and per turn-detection mode, over the newest spoken answers."""
        async with self._sessionmaker() as db:
            rows = await LatencyRepository(db).recent(filters, SUMMARY_ROWS)
        out: dict[str, Any] = {"unit": "ms after the end of speech", "answers": len(rows)}
        for mode in ("all", "auto", "manual"):
            chosen = [r for r in rows if mode == "all" or r["turn_detection"] == mode]
            out[mode] = {s: percentiles([r[s] for r in chosen if r[s] is not None]) for s in STAGES}
        out["recent"] = [{"at": r["created_at"].isoformat(), "mode": r["turn_detection"], "first_audio_ms": r["first_audio_ms"],
                          "question_ms": r["question_ms"]} for r in rows[-200:]]
        return out
