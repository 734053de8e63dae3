"""The browser client at `/`, end to end in real Chromium against the real service.

Chromium's fake devices play jfk.flac as the microphone and a face photo (scikit-image's astronaut) as the camera, so
the whole path runs for real: getUserMedia -> AudioWorklet -> PCM16 over the WebSocket ->
Whisper -> metrics -> database, webcam JPEGs -> Face Mesh -> head_pose, Piper -> Web Audio.
Screenshots land in artifacts/e2e/.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import RESEARCH_TOKEN, Media

TYPED_ANSWER = (
    "In my last role our release process kept failing, so I was asked to fix it. I mapped every manual step, "
    "automated the builds and tests, and trained the team on the new pipeline. As a result we shipped weekly "
    "instead of monthly and the failed releases dropped from five a quarter to one."
)
NORMALISE = "t.toLowerCase().replace(/[^a-z']+/g, ' ').trim()"
# One clip, one model (tiny.en): a word may come out wrong ("as not" for "ask not"), so transcripts
# are held to a word error rate, never to an exact phrase.
MAX_WER = 0.25


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def wer_within(reference: list[str], heard: list[str]) -> float:
    """Word error rate of `reference` against the best-matching stretch of `heard` (the fake microphone
    loops the file, so the transcript may carry extra words before or after the reference)."""
    row = [0] * (len(heard) + 1)  # a match may start anywhere in `heard`
    for i, word in enumerate(reference, 1):
        prev, row[0] = row[0], i
        for j, other in enumerate(heard, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (word != other))
    return min(row) / len(reference)  # ... and end anywhere


def export(server: str, session_id: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{server}/export/session/{session_id}",
                                     headers={"Authorization": f"Bearer {RESEARCH_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


@pytest.fixture
def open_page(chromium: Browser, server: str, artifacts: Path) -> Iterator[Any]:
    contexts = []
    problems: list[str] = []

    def opener(query: str) -> Page:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
        page.goto(f"{server}/?{query}")
        page.wait_for_function("() => window.__coach && document.querySelector('#conn').textContent === 'Connected'")
        return page

    yield opener
    for context in contexts:
        context.close()
    assert not problems, problems


def coach(page: Page, expression: str) -> Any:
    return page.evaluate(f"() => window.__coach.{expression}")


def wait(page: Page, condition: str, timeout_s: float = 30) -> None:
    page.wait_for_function(f"() => {{ const c = window.__coach; return {condition}; }}", timeout=timeout_s * 1000)


def type_answer(page: Page, text: str) -> None:
    if not page.locator("#typing").evaluate("d => d.open"):
        page.click("#typing summary")
    page.fill("#answer-text", text)
    page.press("#answer-text", "Control+Enter")  # the keyboard path, not a mouse click


def test_typed_answers_check_in_style_switch_and_resume(open_page: Any, server: str, artifacts: Path) -> None:
    page = open_page("group=control&style=neutral&participant=P-e2e-typed&questions=3&tts=0&camera=0&handsfree=0")
    assert page.locator("#group-row").is_hidden(), "a study link's group is not offered for change"
    assert page.locator("#participant").input_value() == "P-e2e-typed"
    page.screenshot(path=str(artifacts / "setup.png"), full_page=True)
    page.click("#start")
    wait(page, "c.question !== null")
    first = coach(page, "question")
    assert page.locator("#caption").inner_text() == first["text"]

    type_answer(page, TYPED_ANSWER)
    wait(page, "c.answers === 1 && c.messages.filter(t => t === 'question').length === 2")
    assert "tips" not in coach(page, "messages"), "the control group gets no tips"
    assert page.locator("#feedback").is_hidden()

    page.check("input[name=confidence][value='5']")
    page.check("input[name=stress][value='3']")
    page.screenshot(path=str(artifacts / "typed-checkin.png"), full_page=True)
    page.click("#checkin button[type=submit]")
    wait(page, "c.messages.includes('checkin_logged')")
    page.select_option("#style-live", "challenging")
    wait(page, "c.messages.includes('style_switched')")

    # The socket drops; the answer typed meanwhile waits and goes out after resume_session.
    page.evaluate("() => window.__coach.drop()")
    wait(page, "document.querySelector('#conn').textContent !== 'Connected'", 5)
    type_answer(page, TYPED_ANSWER.replace("release process", "deployment process"))
    wait(page, "c.reconnects === 1 && c.answers === 2", 30)
    assert page.locator("#conn").inner_text() == "Connected"

    # A reload carries on from sessionStorage: same session, same open question.
    wait(page, "c.messages.filter(t => t === 'question').length === 3")
    session, current = coach(page, "session"), coach(page, "question")
    page.reload()
    wait(page, "c.question !== null && c.messages.includes('session_resumed')")
    assert coach(page, "session") == session and coach(page, "question")["question_id"] == current["question_id"]
    assert page.locator("#caption").inner_text() == current["text"]

    page.click("#end")
    wait(page, "c.state === 'finished'")
    page.locator("#summary-table").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "typed-summary.png"), full_page=True)
    rows = page.locator("#summary-table tbody tr")
    assert rows.count() == 3  # two answers and the session mean
    assert rows.nth(0).locator("td").nth(2).inner_text() == "typed"

    data = export(server, coach(page, "session"))
    assert data["session"]["group"] == "control"
    answers = data["answers"]
    assert [a["input_mode"] for a in answers] == ["text", "text"]
    assert answers[0]["word_count"] == len(words_of(TYPED_ANSWER))
    assert answers[0]["response_latency_ms"] is not None and answers[0]["client_metrics"]["durationSec"] >= 0
    assert answers[1]["style"] == "challenging"
    assert [(c["confidence"], c["stress"]) for c in data["checkins"]] == [(5, 3)]
    events = {e["event"] for e in data["telemetry"]}
    assert {"question_text_latency", "reconnect"} <= events, events
    kinds = [e["kind"] for e in data["events"]]
    assert "style_switched" in kinds and "resumed" in kinds, kinds


def test_voice_answer_with_camera_and_spoken_questions(open_page: Any, server: str, media: Media, artifacts: Path) -> None:
    page = open_page("group=treatment&style=supportive&participant=P-e2e-voice&questions=2&handsfree=0")
    page.click("#start")
    wait(page, "c.question !== null")
    # The question is read aloud: its PCM chunks are decoded, scheduled and played to the end.
    wait(page, "c.audio.messagesStarted >= 1 && c.audio.chunksEnded >= 1", 90)
    wait(page, "c.facesDetected >= 2", 60)
    pose = coach(page, "lastHeadPose")
    assert pose["face_detected"] and abs(pose["yaw"]) < 20, pose
    page.screenshot(path=str(artifacts / "voice-question.png"), full_page=True)

    # Let the question finish, then answer by voice: the fake microphone plays jfk.flac.
    wait(page, "!c.player.playing", 60)
    page.click("#record")
    wait(page, "c.state === 'recording'", 15)
    # One pass of the looping file (lead silence + speech + 1 s), and most of its words seen live.
    page.wait_for_timeout((media.lead_s + media.speech_s + 1) * 1000)
    reference = words_of(media.reference)
    wait(page, f"c.partials.some(t => {{ const heard = new Set({NORMALISE}.split(' ')); "
               f"return {json.dumps(reference)}.filter(w => heard.has(w)).length >= 0.8 * {len(reference)}; }})", 60)
    page.screenshot(path=str(artifacts / "voice-partial.png"), full_page=True)
    page.focus("#done")
    page.keyboard.press("Enter")
    wait(page, "c.finals.length === 1", 60)
    wait(page, "c.answers === 1", 60)
    wait(page, "c.messages.includes('tips')", 30)
    page.screenshot(path=str(artifacts / "voice-answered.png"), full_page=True)

    final = " ".join(words_of(coach(page, "finals[0]")))
    assert wer_within(reference, final.split()) <= MAX_WER, final
    # Partials are re-decoded as audio grows and may garble a word or two more (tiny.en, short
    # context); they must carry most of the reference's words.
    partials = [words_of(p) for p in coach(page, "partials")]
    best_recall = max(sum(w in set(p) for w in reference) / len(reference) for p in partials)
    assert best_recall >= 0.8, (best_recall, coach(page, "partials"))
    assert page.locator("#feedback").is_visible(), "the treatment group sees tips after the answer"
    assert coach(page, "audioFrames") > 100  # about 10 frames of 100 ms per second of speech
    voiced = coach(page, "voicedSeconds")  # the nudges' voice detector on the real recording
    assert 0.5 * media.speech_s < voiced <= coach(page, "audioSeconds"), voiced

    data = export(server, coach(page, "session"))
    answer = data["answers"][0]
    assert answer["input_mode"] == "voice"
    assert wer_within(reference, words_of(answer["text"])) <= MAX_WER, answer["text"]
    sent_s = coach(page, "audioSeconds")  # every 16 kHz sample the worklet made went out, and arrived
    assert sent_s > media.speech_s and abs(answer["duration_s"] - sent_s) < 0.3, (answer["duration_s"], sent_s)
    assert 80 < answer["speaking_rate_wpm"] < 250, answer["speaking_rate_wpm"]
    assert answer["pause_ratio"] is not None and answer["gaze"] is not None
    assert answer["tips"], "tips are stored for the treatment group"
    wait(page, "c.telemetry.some(t => t.event === 'question_audio_latency')", 60)  # the next question is heard
    wait(page, "c.conn.pending.size === 0")
    events = {e["event"]: e["latency_ms"] for e in export(server, coach(page, "session"))["telemetry"]}
    assert {"question_text_latency", "question_audio_latency"} <= events.keys(), events
    assert 0 < events["question_text_latency"] <= events["question_audio_latency"], events
    print(f"\nvoice turn: {events}; voiced {voiced:.1f} s of {coach(page, 'audioSeconds'):.1f} s sent; final: {final}")

    # The socket drops mid-answer: recording stops, the client resumes, the candidate answers again.
    page.click("#record")
    wait(page, "c.state === 'recording' && c.audioSeconds > 1", 15)
    page.evaluate("() => window.__coach.drop()")
    wait(page, "c.reconnects === 1 && c.state === 'ready'", 30)
    assert "dropped during your answer" in page.locator("#alert").inner_text()
    type_answer(page, TYPED_ANSWER)
    wait(page, "c.answers === 2", 60)
    assert [a["input_mode"] for a in export(server, coach(page, "session"))["answers"]] == ["voice", "text"]


NUDGE_SCENARIOS = """async () => {
  const { LiveNudges } = await import('/static/js/nudges.js');
  const words = (n, filler) => Array.from({ length: n }, (_, i) => (filler && i % 6 === 5 ? 'um' : 'word')).join(' ');
  // seconds of [level, words per minute] segments, fed as 100 ms level frames and 1 s partials
  function run(segments, filler = false) {
    const shown = [];
    const nudges = new LiveNudges((kind) => { if (kind) shown.push(kind); });
    nudges.start(0);
    let t = 0, count = 0;
    for (const [seconds, level, wpm] of segments) {
      for (let s = 0; s < seconds; s++) {
        for (let f = 0; f < 10; f++) nudges.onLevel(level);
        t += 1000;
        count += wpm / 60;
        nudges.onTranscript(words(Math.floor(count), filler), t);
      }
    }
    return shown;
  }
  return {
    fast: run([[20, 0.1, 220]]),
    steady: run([[30, 0.1, 140]]),
    thinking: run([[2, 0.1, 140], [10, 0.002, 0], [15, 0.1, 140]]),
    slow: run([[20, 0.1, 60]]),
    fillers: run([[20, 0.1, 140]], true),
  };
}"""


def test_live_nudges_follow_pace_and_fillers_but_not_pauses(open_page: Any) -> None:
    page = open_page("camera=0&tts=0&handsfree=0")
    shown = page.evaluate(NUDGE_SCENARIOS)
    assert shown["fast"] == ["pace_fast"]
    assert shown["steady"] == [] and shown["thinking"] == [], shown
    assert shown["slow"] == ["pace_slow"]
    assert shown["fillers"] == ["fillers"]


CONTRAST = """() => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility() || el.closest(':disabled')) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    out.push([el.id || el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]);
  }
  return out;
}"""


def test_keyboard_only_start_readable_contrast_and_narrow_screens(open_page: Any, artifacts: Path) -> None:
    page = open_page("tts=0&camera=0&questions=1&handsfree=0")
    focused = []
    for _ in range(15):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("() => document.activeElement.id"))
        if focused[-1] == "start":
            break
    assert focused[-1] == "start" and {"participant", "style"} <= set(focused), focused
    assert "group" not in focused, "practising alone: no group picker"
    ratios = page.evaluate(CONTRAST)
    page.keyboard.press("Enter")
    wait(page, "c.question !== null")
    ratios += page.evaluate(CONTRAST)
    low = [(name, round(r, 2)) for name, r in ratios if r < 4.5]  # WCAG AA for body text
    assert len(ratios) > 15 and not low, low
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: one column, nothing cut off sideways
    page.screenshot(path=str(artifacts / "narrow.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
