"""The interviewer listens: follow-ups name what this answer lacked; acknowledgements fit and vary."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import pytest

from app.services.assessment.base import AnswerContext
from app.services.assessment.heuristic import HeuristicScorer
from app.services.coaching.base import TurnContext, TurnQuestion
from app.services.coaching.heuristic import HeuristicCoach
from app.services.coaching.llm_prompt import user_prompt
from app.services.content import load_content
from app.services.text_analysis import analyse

QUESTION = TurnQuestion("beh-01", "Tell me about a time you had to deliver a project under a tight deadline.",
                        "behavioural", False)
COMPLETE = (
    "Last March our largest customer asked us to bring their mobile release forward by three weeks because of a "
    "trade show. I was the tech lead and my task was to get the app into the store in 12 working days. I cut the "
    "scope with the product manager to the four features the customer would demo, I moved two developers onto "
    "those features, and I set up a TestFlight build every evening. As a result we shipped on day 11 and the "
    "customer signed a 200,000 euro extension the following month."
)
NO_RESULT = (
    "Last March our largest customer asked us to bring their mobile release forward by three weeks because of a "
    "trade show. I was the tech lead and my task was to get the app into the store in 12 working days. I cut the "
    "scope with the product manager to the four features the customer would demo, I moved two developers onto "
    "those features, and I set up a TestFlight build every evening so the customer could test daily."
)
AS_A_TEAM = re.sub(r"\bI\b", "we", COMPLETE).replace("we was", "we were")
OFF_TOPIC = ("I'm really proud of the mobile app I built for a local gym. I designed the screens, wrote the code in "
             "Flutter and published it, and now about 500 members use it every week to book classes.")


def context(text: str, *, style: str = "neutral", turn: int = 0, session: str = "s1") -> TurnContext:
    card = replace(load_content().styles[style], follow_up_rate=1.0)  # follow up whenever something is missing
    analysis = analyse(text)
    assessment = HeuristicScorer().assess(AnswerContext(QUESTION.question_id, QUESTION.text, QUESTION.category, False,
                                                        text, analysis, {}))
    return TurnContext(
        session_id=session, turn_index=turn, style=card, question=QUESTION, answer_text=text, analysis=analysis,
        metrics={}, role=None, job_description=None, wants_tips=True, may_follow_up=True, next_question=None,
        assessment=assessment,
    )


def reply(text: str, **kw: object) -> tuple[str, str | None]:
    out = HeuristicCoach().reply_now(context(text, **kw))  # type: ignore[arg-type]
    return out.interviewer_message, out.follow_up


@pytest.mark.parametrize("style", ["neutral", "supportive", "challenging"])
def test_a_complete_answer_gets_no_follow_up_and_a_fitting_acknowledgement(style: str) -> None:
    ack, follow_up = reply(COMPLETE, style=style)
    assert follow_up is None
    assert ack in load_content().styles[style].acknowledgements_by_fit["strong"]


@pytest.mark.parametrize("style", ["neutral", "supportive", "challenging"])
def test_follow_ups_ask_for_what_this_answer_lacks(style: str) -> None:
    card = load_content().styles[style]
    assert reply(NO_RESULT, style=style)[1] == card.follow_ups["result"]
    assert reply(AS_A_TEAM, style=style)[1] == card.follow_ups["own_part"]
    off = reply(OFF_TOPIC, style=style)[1]
    assert off is not None and QUESTION.text in off
    for text in (COMPLETE, NO_RESULT, AS_A_TEAM, OFF_TOPIC):  # never the generic "tell me more" on these
        assert reply(text, style=style)[1] != card.follow_ups["short"]


def test_a_short_answer_is_acknowledged_as_brief_and_asked_for_a_missing_part() -> None:
    ack, follow_up = reply("We worked hard and met the deadline.")
    card = load_content().styles["neutral"]
    assert ack in card.acknowledgements_by_fit["brief"]
    assert follow_up in {card.follow_ups[k] for k in ("result", "action", "own_part", "number", "situation")}


def test_acknowledgements_vary_from_turn_to_turn() -> None:
    acks = [reply(COMPLETE, turn=t)[0] for t in range(4)]
    assert len(set(acks)) == 4
    assert reply(COMPLETE, turn=2) == reply(COMPLETE, turn=2)  # reproducible


def test_the_llm_is_told_what_is_missing_and_cannot_follow_up_on_a_complete_answer() -> None:
    prompt = user_prompt(context(NO_RESULT), follow_up_allowed=True, max_answer_chars=2000, max_jd_chars=100)
    assert '"missing_in_this_answer": ["the result or outcome"' in prompt
    complete = user_prompt(context(COMPLETE), follow_up_allowed=True, max_answer_chars=2000, max_jd_chars=100)
    assert '"missing_in_this_answer": []' in complete


def test_an_llm_follow_up_after_a_complete_answer_is_dropped() -> None:
    from app.inference.llm.base import Completion
    from app.services.coaching.llm import LlmCoach
    from app.settings import LlmSettings

    class Canned:
        model = "canned"

        async def complete(self, messages: object, **_: object) -> Completion:
            return Completion('{"interviewer_message": "Thanks.", "follow_up": "Can you expand on that?"}',
                              "canned", 1.0, 1)

        def health(self) -> dict[str, str]:
            return {}

        async def aclose(self) -> None:
            return None

    coach = LlmCoach(Canned(), LlmSettings())  # type: ignore[arg-type]
    assert asyncio.run(coach.reply(context(COMPLETE))).follow_up is None
    assert asyncio.run(coach.reply(context(NO_RESULT))).follow_up == "Can you expand on that?"
