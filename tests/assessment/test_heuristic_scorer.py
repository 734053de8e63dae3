"""The heuristic rubric scorer: metamorphic relations, evidence in the candidate's words, delivery from measures."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.services.assessment.base import AnswerContext, Assessment, overall_score
from app.services.assessment.heuristic import HeuristicScorer
from app.services.assessment.rubric import DIMENSIONS, load_rubric
from app.services.content import load_content
from app.services.text_analysis import analyse

SCORER = HeuristicScorer()
BANK = {q.id: q for q in load_content().questions}

# (question id, an answer with an action but no quantified result, the action sentence(s))
STORIES = [
    ("beh-01",
     "Last year our biggest client moved their launch forward by a month, so the billing migration was suddenly due "
     "much earlier than planned. My job was to get the data migration done in time. I split the work into small "
     "parts, wrote a script to check every invoice against the old system, and I ran the migration each night on a "
     "copy of production. I also set up a short daily call with the client's finance lead. In the end the client "
     "was happy with it.",
     "I split the work into small parts, wrote a script to check every invoice against the old system, and I ran the "
     "migration each night on a copy of production. I also set up a short daily call with the client's finance lead."),
    ("beh-02",
     "At my previous company a senior colleague wanted to rewrite our reporting service from scratch, and I "
     "disagreed because the deadline was close. The goal was to ship the new reports for the quarter. I asked him "
     "for a coffee, listened to his reasons and proposed that we fix the worst module first and plan the rewrite for "
     "later. I wrote a short comparison of both options. We agreed on the smaller fix and resolved it without "
     "escalating.",
     "I asked him for a coffee, listened to his reasons and proposed that we fix the worst module first and plan the "
     "rewrite for later. I wrote a short comparison of both options."),
    ("beh-05",
     "When I was at my last job our team inherited a Kubernetes cluster and nobody knew how it worked. I needed to "
     "learn it quickly because the contractor was leaving that month. I read the documentation every morning, "
     "rebuilt the cluster on my laptop and paired with the contractor for his last days. By the end I was running "
     "the deployments on my own.",
     "I read the documentation every morning, rebuilt the cluster on my laptop and paired with the contractor for "
     "his last days."),
    ("tec-07",
     "At my current job our nightly report took most of the morning to build. I profiled the job first and found "
     "that one SQL query scanned the whole orders table. I added an index, rewrote the query to read only the last "
     "day, and I moved the slowest part into a background queue. After that the report was ready before people "
     "arrived.",
     "I profiled the job first and found that one SQL query scanned the whole orders table. I added an index, "
     "rewrote the query to read only the last day, and I moved the slowest part into a background queue."),
]
QUANTIFIED_RESULT = " As a result, the time it took fell from 6 hours to 40 minutes, a cut of 89 percent."


def assess(qid: str, text: str, metrics: dict[str, Any] | None = None) -> Assessment:
    q = BANK[qid]
    return SCORER.assess(AnswerContext(q.id, q.text, q.category, False, text, analyse(text), metrics or {}))


@pytest.mark.parametrize(("qid", "story", "_action"), STORIES)
def test_adding_a_quantified_result_raises_specificity(qid: str, story: str, _action: str) -> None:
    before, after = assess(qid, story), assess(qid, story + QUANTIFIED_RESULT)
    assert before.scores["specificity"] is not None and after.scores["specificity"] is not None
    assert after.scores["specificity"] > before.scores["specificity"], (before.dimensions, after.dimensions)
    assert after.scores["structure"] >= before.scores["structure"]  # never the reverse elsewhere
    assert "number" in before.missing and "number" not in after.missing


@pytest.mark.parametrize(("qid", "story", "action"), STORIES)
def test_removing_the_action_lowers_structure(qid: str, story: str, action: str) -> None:
    assert action in story
    without = story.replace(action, "")
    full, cut = assess(qid, story), assess(qid, without)
    assert cut.scores["structure"] < full.scores["structure"], (full.dimensions["structure"], cut.dimensions["structure"])
    assert cut.scores["specificity"] <= full.scores["specificity"]


@pytest.mark.parametrize("own", [0, 1, 2, 3])
def test_an_answer_to_another_question_is_less_relevant(own: int) -> None:
    qid, story, _ = STORIES[own]
    for other_qid, other_story, _ in STORIES:
        if other_qid == qid:
            continue
        right, swapped = assess(qid, story), assess(qid, other_story)
        assert swapped.scores["relevance"] < right.scores["relevance"], (qid, other_qid, swapped.dimensions["relevance"])


def test_we_instead_of_i_lowers_ownership_and_hedges_lower_it_further() -> None:
    qid, story, _ = STORIES[0]
    as_team = re.sub(r"\bI\b", "we", story).replace("My job", "Our job")
    hedged = story.replace("I split", "I think I maybe split").replace("I also", "I guess I probably also")
    mine, ours, unsure = assess(qid, story), assess(qid, as_team), assess(qid, hedged)
    assert ours.scores["ownership"] < mine.scores["ownership"]
    assert unsure.scores["ownership"] < mine.scores["ownership"]
    assert "own_part" in ours.missing


def test_a_rambling_hedged_answer_scores_low_and_a_complete_one_high() -> None:
    weak = assess("beh-01", "Um, I think, like, we had some kind of deadline and stuff and, you know, we kind of "
                            "worked hard and maybe it was fine, I guess.")
    strong = assess("beh-01", STORIES[0][1] + QUANTIFIED_RESULT)
    assert weak.overall is not None and strong.overall is not None
    assert weak.overall <= 2.0 and strong.overall >= 4.0
    assert all(weak.scores[d] is not None and strong.scores[d] is not None and weak.scores[d] <= strong.scores[d]
               for d in DIMENSIONS[:-1])


def test_conciseness_follows_the_category_ranges() -> None:
    lo, hi = load_rubric().word_ranges["behavioural"]
    sentence = "I checked the figures with the finance lead and I fixed the report. "
    short = assess("beh-01", sentence)
    right = assess("beh-01", sentence * ((lo + hi) // 2 // 14))
    rambling = assess("beh-01", sentence * (hi * 3 // 14 + 2))
    assert short.scores["conciseness"] < right.scores["conciseness"] == 5
    assert rambling.scores["conciseness"] < right.scores["conciseness"]


def test_every_text_dimension_quotes_the_candidates_own_words() -> None:
    for qid, story, _ in STORIES:
        result = assess(qid, story + QUANTIFIED_RESULT)
        for name in DIMENSIONS[:-2]:  # conciseness and delivery rest on measures
            evidence = result.dimensions[name].evidence
            assert evidence is not None and evidence.startswith('"') and evidence.endswith('"'), (name, evidence)
            for piece in evidence.strip('"').split(" …"):
                assert piece in story + QUANTIFIED_RESULT, (name, piece)
            assert result.dimensions[name].reason
        assert result.improve.startswith("A stronger answer would")


def test_delivery_is_null_when_nothing_was_measured_and_rests_on_the_measures_otherwise() -> None:
    typed = assess("beh-01", STORIES[0][1])
    assert typed.scores["delivery"] is None and typed.evidence["delivery"] is None
    assert set(typed.delivery_parts.values()) == {None}
    good = assess("beh-01", STORIES[0][1], {"speaking_rate_wpm": 140, "fillers_per_min": 1.0, "gaze": 0.8,
                                            "pause_ratio": 0.2, "monotone": False})
    poor = assess("beh-01", STORIES[0][1], {"speaking_rate_wpm": 215, "fillers_per_min": 9.0, "gaze": 0.2,
                                            "pause_ratio": 0.7, "monotone": True})
    assert good.scores["delivery"] == 5 and poor.scores["delivery"] is not None and poor.scores["delivery"] <= 2
    assert poor.evidence["delivery"] == "215 words/min; 9.0 fillers/min; pauses 70%; eye contact 20%; monotone"
    only_gaze = assess("beh-01", STORIES[0][1], {"gaze": 0.3})
    assert only_gaze.delivery_parts == {"pace": None, "fillers": None, "pauses": None, "eye_contact": 3,
                                        "intonation": None}
    assert only_gaze.scores["delivery"] == 3
    # the overall score counts delivery only when it was measured
    assert typed.overall == overall_score(load_rubric(), {k: v for k, v in typed.scores.items() if k != "delivery"})


def test_follow_up_answers_are_judged_with_the_answer_they_continue() -> None:
    q = BANK["beh-01"]
    first = STORIES[0][1]
    follow = "The result was that we went live two days early and the error rate dropped by 30 percent."
    alone = SCORER.assess(AnswerContext("beh-01~fu", "What was the result?", q.category, True, follow,
                                        analyse(follow), {}))
    joined = SCORER.assess(AnswerContext("beh-01~fu", "What was the result?", q.category, True, follow,
                                         analyse(follow), {}), previous_answer=first)
    assert joined.scores["structure"] > alone.scores["structure"]
    assert joined.scores["relevance"] is not None and joined.scores["relevance"] >= 2
