"""End-of-turn detection on labelled pauses (see bench/turn_eval.py for how they are built, and
docs/turn-taking.md for the figures): thinking pauses inside sentences are not cut, finished answers are
detected soon after they end, and the model does what a bare silence timer cannot.

The bounds sit well under the measured figures (all models here are deterministic; the margin covers
other CPUs' float rounding), so a change that makes detection clearly worse fails.
"""

from __future__ import annotations

from app.inference.turn.smart_turn import SileroTurnEngine, SmartTurnEngine
from app.settings import TurnSettings
from bench.turn_eval import SENTENCES, Settler, build_set, piper_sentences, recordings, run, summarise, utterances


def test_thinking_pauses_are_kept_and_finished_answers_detected() -> None:
    # Recordings up to 12 s (the 27 s one costs minutes here; bench/turn_eval.py has it), every other cut.
    utts = utterances([r for r in recordings() if r[1].size <= 12 * 16000] + piper_sentences(SENTENCES[:6]))
    samples = build_set(utts, stride=2)
    settings = TurnSettings()
    smart = summarise(run(SmartTurnEngine(settings), samples, settings, Settler(timed=False)))
    timer = summarise(run(SileroTurnEngine(settings.model_copy(update={"backend": "silence"})), samples, settings))
    print("smart turn", smart, "\nsilence only", timer)
    assert smart["complete"] >= 6 and smart["pauses_up_to_2s"] >= 20
    assert smart["not_cut_up_to_2s"] >= 0.75
    assert smart["complete_within_1s"] >= 0.5
    # The silence rule alone keeps every pause up to 2 s but never answers within a second.
    assert timer["not_cut_up_to_2s"] == 1.0 and timer["complete_within_1s"] == 0.0
    assert smart["complete_delay_p50_s"] < 0.5
