"""The end-of-turn decision logic, fed made-up voice activity and model answers (no models)."""

from __future__ import annotations

import numpy as np
import pytest

from app.services.turns import WINDOW_S, TurnTracker, transcript_ends_sentence, transcript_is_open
from app.settings import TurnSettings


def _windows(seconds: float, p: float) -> np.ndarray:
    return np.full(round(seconds / WINDOW_S), p, np.float32)


def _feed_until_check(tracker: TurnTracker, seconds: float) -> bool:
    """Silence window by window; True when a model check fell due."""
    for _ in range(round(seconds / WINDOW_S)):
        tracker.on_vad(_windows(WINDOW_S, 0.01))
        if tracker.check_due():
            return True
    return False


def test_a_confident_model_ends_the_turn_at_the_first_pause() -> None:
    tracker = TurnTracker(TurnSettings(pause_s=0.2, threshold=0.9))
    assert tracker.on_vad(_windows(1.0, 0.9)) == ["speech_start", "sustained_speech"]
    assert _feed_until_check(tracker, 1.0)
    assert 0.19 < tracker.silence_s < 0.27
    decision = tracker.on_probability(0.97)
    assert decision is not None and decision.reason == "smart_turn" and 190 < decision.silence_ms < 270
    assert decision.speech_end_s == pytest.approx(1.0, abs=WINDOW_S)
    assert decision.probability == 0.97


def test_a_thinking_pause_is_not_cut_until_the_long_silence_rule() -> None:
    tracker = TurnTracker(TurnSettings(pause_s=0.2, threshold=0.9, max_pause_s=3.0))
    tracker.on_vad(_windows(2.0, 0.9))
    assert _feed_until_check(tracker, 1.0)
    assert tracker.on_probability(0.4) is None  # "not over"
    tracker.on_vad(_windows(1.5, 0.01))  # 1.7 s of silence in all: still the candidate's turn
    assert tracker.on_time() is None and not tracker.check_due()  # asked once per pause
    tracker.on_vad(_windows(0.5, 0.9))  # speech again: the next pause is asked afresh
    assert _feed_until_check(tracker, 1.0)
    assert tracker.on_probability(0.2) is None
    tracker.on_vad(_windows(3.0, 0.01))
    decision = tracker.on_time()
    assert decision is not None and decision.reason == "silence" and decision.silence_ms >= 3000
    assert decision.speech_end_s == pytest.approx(2.0 + 0.2 + 1.5 + 0.5, abs=2 * WINDOW_S)


def test_an_open_transcript_vetoes_a_confident_model() -> None:
    tracker = TurnTracker(TurnSettings(threshold=0.5))
    tracker.on_vad(_windows(1.0, 0.9))
    assert _feed_until_check(tracker, 1.0)
    assert tracker.on_probability(0.99, transcript_open=True) is None
    assert tracker.checks[-1][1:] == (0.99, True)


def test_clicks_and_a_silent_start_never_end_a_turn() -> None:
    tracker = TurnTracker(TurnSettings(max_pause_s=1.0))
    tracker.on_vad(_windows(5.0, 0.01))
    assert tracker.on_time() is None and not tracker.check_due()
    tracker.on_vad(_windows(0.064, 0.9))  # a click
    tracker.on_vad(_windows(2.0, 0.01))
    assert tracker.on_time() is None and not tracker.check_due()


def test_silence_prompt_once_and_only_before_any_speech() -> None:
    tracker = TurnTracker(TurnSettings(silence_prompt_s=2.0))
    tracker.on_vad(_windows(3.0, 0.01))
    assert not tracker.silence_prompt_due(quiet_since_s=1.5)  # the interviewer spoke until 1.5 s
    tracker.on_vad(_windows(0.6, 0.01))
    assert tracker.silence_prompt_due(quiet_since_s=1.5)
    tracker.on_vad(_windows(3.0, 0.01))
    assert not tracker.silence_prompt_due(quiet_since_s=1.5)  # once
    spoke = TurnTracker(TurnSettings(silence_prompt_s=2.0))
    spoke.on_vad(_windows(0.5, 0.9))
    spoke.on_vad(_windows(5.0, 0.01))
    assert not spoke.silence_prompt_due(0.0)
    assert not TurnTracker(TurnSettings(silence_prompt_s=0)).silence_prompt_due(0.0)


def test_back_channels_are_not_sustained_speech() -> None:
    tracker = TurnTracker(TurnSettings(barge_in_speech_s=0.6))
    assert tracker.on_vad(_windows(0.4, 0.9)) == ["speech_start"]  # "mm-hm"
    assert tracker.on_vad(_windows(0.5, 0.01)) == []
    assert tracker.on_vad(_windows(0.4, 0.9)) == ["speech_start"]  # "okay": a new run, still short
    assert tracker.on_vad(_windows(0.3, 0.9)) == ["sustained_speech"]  # 0.7 s in one run


def test_hysteresis_keeps_a_dip_inside_speech() -> None:
    tracker = TurnTracker(TurnSettings(vad_threshold=0.5))
    tracker.on_vad(_windows(0.5, 0.9))
    tracker.on_vad(_windows(0.1, 0.4))  # between threshold - 0.15 and threshold: still speech
    assert tracker.in_speech
    tracker.on_vad(_windows(0.1, 0.3))
    assert not tracker.in_speech


@pytest.mark.parametrize(("text", "is_open"), [
    ("I managed a team of five engineers.", False),
    ("I managed a team of", True),
    ("and then we", True),
    ("We cut the scope, and", True),
    ("We cut the scope,", True),
    ("It was, um", True),
    ("What did I learn?", False),
    ("That is what I did", False),
    ("", False),
])
def test_transcript_openness(text: str, is_open: bool) -> None:
    assert transcript_is_open(text) is is_open


@pytest.mark.parametrize(("text", "ends"), [
    ("I managed a team of five engineers.", True),
    ("What did I learn?", True),
    ('He said "stop."', True),
    ("That is what I did", False),  # Whisper leaves the full stop off a sentence broken off mid-way
    ("I managed a team of", False),
    ("It was, um.", False),  # a full stop after an open word does not close the sentence
    ("We cut the scope, and.", False),
    ("", False),
])
def test_transcript_ends_sentence(text: str, ends: bool) -> None:
    assert transcript_ends_sentence(text) is ends
