"""Hands-free answers in real Chromium: the fake microphone plays a recording with a thinking pause in
the middle of a sentence and silence after it. The pause does not end the answer, the next question
arrives without pressing anything, and speaking over the interviewer's voice stops it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import CHROMIUM
from tests.media_paths import SPEECH

PAUSE_AT_S = 2.9  # after "...against the wizard" (16 kHz LibriSpeech clip)


@pytest.fixture(scope="module")
def paused_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """0.5 s of quiet, the sentence with a 1.5 s pause inside, then 8 s of quiet; 48 kHz mono PCM16."""
    audio, rate = sf.read(SPEECH / "clean" / "61-70968-0000.flac", dtype="float32")
    assert rate == 16000
    rng = np.random.default_rng(0)

    def quiet(seconds: float) -> np.ndarray:
        return (rng.standard_normal(int(seconds * rate)) * 1e-3).astype(np.float32)

    cut = int(PAUSE_AT_S * rate)
    mono16 = np.concatenate([quiet(0.5), audio[:cut], quiet(1.5), audio[cut:], quiet(8.0)])
    mono48 = np.interp(np.arange(mono16.size * 3) / 3, np.arange(mono16.size), mono16).astype(np.float32)
    path = tmp_path_factory.mktemp("handsfree") / "paused.wav"
    sf.write(path, mono48, 48000, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def chromium(paused_wav: Path) -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), "Debian's chromium is missing: `make system-test-deps` installs it"
    args = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
        f"--use-file-for-fake-audio-capture={paused_wav}",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser, server: str) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    yield page
    context.close()
    assert not problems, problems


def wait(page: Page, condition: str, timeout_s: float = 30) -> None:
    page.wait_for_function(f"() => {{ const c = window.__coach; return {condition}; }}", timeout=timeout_s * 1000)


def coach(page: Page, expression: str) -> Any:
    return page.evaluate(f"() => window.__coach.{expression}")


def test_hands_free_answer_keeps_the_pause_and_moves_on_by_itself(page: Page, server: str, artifacts: Path) -> None:
    page.goto(f"{server}/?group=treatment&style=neutral&participant=P-e2e-handsfree&questions=2&camera=0")
    page.wait_for_function("() => window.__coach && document.querySelector('#conn').textContent === 'Connected'")
    assert page.locator("#handsfree").is_checked()  # hands-free is the default
    page.click("#start")
    wait(page, "c.question !== null && c.turnDetection === 'auto'")
    wait(page, "c.state === 'recording'", 30)  # the microphone opened by itself
    assert page.locator("#done").is_visible()  # Done is still there
    wait(page, "c.turnStates.includes('speaking')", 30)
    assert page.locator("#turn-state").is_visible()
    page.screenshot(path=str(artifacts / "handsfree-listening.png"), full_page=True)
    # The candidate started talking while the question was being read: the interviewer yields.
    wait(page, "c.interruptions >= 1", 30)
    # Nothing is pressed from here on.
    wait(page, "c.answers === 1", 90)
    final = " ".join(re.findall(r"[a-z']+", coach(page, "finals[0]").lower()))
    assert "wizard" in final and "curtain" in final, final  # the thinking pause did not end the answer
    states = coach(page, "turnStates")
    assert states.count("over") == 1, states
    assert "thinking_pause" in states[: states.index("over")], states
    assert "speech_interrupted" in coach(page, "messages")
    wait(page, "c.messages.filter(t => t === 'question').length >= 2", 60)  # the next question, no button pressed
    page.screenshot(path=str(artifacts / "handsfree-answered.png"), full_page=True)
    assert coach(page, "errors") == []
