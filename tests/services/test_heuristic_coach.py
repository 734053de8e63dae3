"""The heuristic coach: tips name their evidence; unmeasured metrics give no tip."""

from __future__ import annotations

import asyncio

from app.services.coaching.base import TurnContext, TurnQuestion
from app.services.coaching.heuristic import HeuristicCoach, heuristic_tips
from app.services.content import load_content
from app.services.text_analysis import analyse


def _context(text: str, metrics: dict[str, object], category: str = "behavioural", tips: bool = True) -> TurnContext:
    content = load_content()
    return TurnContext(
        session_id="s", turn_index=0, style=content.styles["neutral"],
        question=TurnQuestion("beh-01", "Tell me about a time...", category, False), answer_text=text,
        analysis=analyse(text), metrics=metrics, role=None, job_description=None, wants_tips=tips,
        may_follow_up=True, next_question=None,
    )


def test_no_metrics_no_metric_tips() -> None:
    text = " ".join(["At my last job I led the migration and as a result we saved money."] * 4)
    kinds = {t.kind for t in heuristic_tips(_context(text, {}))}
    assert not kinds & {"pace_slow", "pace_fast", "fillers", "pauses", "eye_contact"}


def test_metric_tips_carry_values() -> None:
    text = "Um, I think, uh, maybe I, like, helped. I guess I probably did."
    tips = {t.kind: t.evidence for t in heuristic_tips(_context(text, {"speaking_rate_wpm": 100.0, "fillers_per_min": 6.5,
                                                                          "pause_ratio": 0.5, "gaze": 0.9}))}
    assert tips["pace_slow"] == "100 words/min"
    assert tips["fillers"].startswith("6.5 fillers/min")
    assert "pauses" in tips and "eye_contact" not in tips


def test_star_structure_and_hedging() -> None:
    text = ("I think we maybe had a problem with the build and I guess I probably looked at it and perhaps "
            "the team was involved in some way I suppose, and that was that really, nothing more to say about it now.")
    tips = {t.kind: t.evidence for t in heuristic_tips(_context(text, {}))}
    assert "no result" in tips["structure"]
    reply = asyncio.run(HeuristicCoach().reply(_context(text, {})))
    assert reply.source == "heuristic" and reply.interviewer_message in load_content().styles["neutral"].acknowledgements


def test_control_gets_no_tips_and_same_turn_is_reproducible() -> None:
    context = _context("Short answer.", {"gaze": 0.1}, tips=False)
    first = asyncio.run(HeuristicCoach().reply(context))
    assert first.tips == ()
    assert asyncio.run(HeuristicCoach().reply(context)) == first


def test_text_analysis_counts_fillers_not_verbs() -> None:
    a = analyse("I would like to say, um, that I like it, you know, and it was kind of, like, great. What kind of role?")
    assert a.fillers == {"um": 1, "you know": 1, "kind of": 1, "like": 1}
