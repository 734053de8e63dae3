"""Turn-taking over /ws/interview: the server ends a streamed answer itself (auto), keeps thinking pauses,
lets the candidate interrupt the interviewer, prompts after a long silence, and records stage times."""

from __future__ import annotations

import time

import numpy as np
from fastapi.testclient import TestClient

from app.inference.audio import float_to_pcm16
from app.main import create_app
from app.services.content import load_content
from app.settings import Settings
from tests.inference.speech_helpers import SPEECH, load
from tests.wsclient import receive_until, start

RATE = 16000
PAUSE_AT_S = 2.9  # after "...against the wizard": the end-of-turn model hears an unfinished sentence there


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * 1e-3).astype(np.float32)


def answer_with_pause(pause_s: float = 1.5, tail_s: float = 3.6) -> np.ndarray:
    """A LibriSpeech sentence with a thinking pause inside, then silence (no audio_end will come)."""
    audio = load(SPEECH / "clean" / "61-70968-0000.flac")
    cut = int(PAUSE_AT_S * RATE)
    return np.concatenate([audio[:cut], _noise(pause_s, 1), audio[cut:], _noise(tail_s, 2)])


def _send_audio(ws, audio: np.ndarray, frame_s: float = 0.1, pace: float = 0.02) -> None:
    pcm = float_to_pcm16(audio)
    step = int(RATE * frame_s) * 2
    for i in range(0, len(pcm), step):
        ws.send_bytes(pcm[i:i + step])
        if pace:
            time.sleep(pace)


def _latencies(client: TestClient, session_id: str) -> list[dict]:
    """The session's stage-time rows: the row is written in its own task once the reply has gone out."""
    deadline = time.monotonic() + 10
    while not (rows := client.get(f"/export/session/{session_id}").json()["latencies"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return rows


def _auto_client(settings: Settings, **turns: object) -> TestClient:
    from tests.conftest import RESEARCH_AUTH

    configured = settings.model_copy(update={"turns": settings.turns.model_copy(update=turns)})
    return TestClient(create_app(configured), headers=RESEARCH_AUTH)


def test_auto_mode_keeps_the_thinking_pause_and_ends_the_turn_itself(settings: Settings) -> None:
    with _auto_client(settings) as client, client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, turn_detection="auto")
        assert started["turn_detection"] == "auto"
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": RATE, "question_id": question["question_id"]})
        _send_audio(ws, answer_with_pause())
        messages = receive_until(ws)  # no audio_end: the server decides
        kinds = [m["type"] for m in messages]
        assert kinds.count("turn_detected") == 1 and kinds.index("turn_detected") < kinds.index("transcript_final")
        detected = messages[kinds.index("turn_detected")]
        assert detected["reply_to"] == "a1" and detected["seq"] is None
        # silence_ms is audio time: the audio is sent 5x faster than real time, so the wall time the decision
        # waits for the transcript at the pause (a few hundred ms) shows here five times over.
        assert detected["reason"] in ("smart_turn", "silence") and 150 <= detected["silence_ms"] <= 6000
        assert {"state": "thinking_pause"}.items() <= next(m for m in messages if m["type"] == "turn_state"
                                                              and m["state"] == "thinking_pause").items()
        final = messages[kinds.index("transcript_final")]
        text = final["text"].lower()
        assert "wizard" in text and "curtain" in text  # the pause did not end the answer
        assert kinds[-1] == "question"
        # The client's own audio_end, already on its way, is not an error; the session goes on.
        ws.send_json({"type": "audio_end", "id": "late"})
        ws.send_json({"type": "ping", "id": "p1"})
        assert ws.receive_json()["type"] == "pong"
        session_id = started["session_id"]
        (latency,) = _latencies(client, session_id)
        assert latency["turn_detection"] == "auto" and latency["turn_reason"] == detected["reason"]
        stages = [latency[k] for k in ("turn_ms", "transcript_ms", "coach_ms", "question_ms")]
        assert all(s is not None for s in stages) and stages == sorted(stages) and 0 < stages[0] <= 5000
        assert latency["first_audio_ms"] is None  # no voice asked for
        summary = client.get("/metrics/summary").json()["latency"]
        assert summary["answers"] == 1 and summary["auto"]["turn_ms"]["n"] == 1
        assert summary["auto"]["turn_ms"]["p50"] == summary["auto"]["turn_ms"]["p95"] == round(latency["turn_ms"], 1)
        csv = client.get("/export/answers.csv").text.splitlines()
        header, row = csv[0].split(","), csv[1].split(",")
        assert row[header.index("turn_detection")] == "auto" and float(row[header.index("latency_question_ms")]) > 0


def test_manual_mode_waits_for_audio_end_through_any_silence(settings: Settings) -> None:
    with _auto_client(settings, max_pause_s=1.0) as client, client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws)
        assert started["turn_detection"] == "manual"
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": RATE})
        _send_audio(ws, answer_with_pause(tail_s=2.5), pace=0.0)
        time.sleep(1.0)
        ws.send_json({"type": "ping", "id": "p1"})
        meanwhile = receive_until(ws, {"pong", "question", "turn_detected"})
        assert {m["type"] for m in meanwhile} <= {"transcript_partial", "pong"}  # nothing was decided
        ws.send_json({"type": "audio_end", "id": "e1"})
        messages = receive_until(ws)
        assert "turn_detected" not in [m["type"] for m in messages] and messages[-1]["type"] == "question"
        (latency,) = _latencies(client, started["session_id"])
        assert latency["turn_detection"] == "manual" and latency["turn_reason"] == "audio_end"
        assert latency["turn_ms"] > 1000  # the speech had ended well before audio_end


def test_silence_after_the_question_gets_one_prompt_in_the_styles_words(settings: Settings) -> None:
    with _auto_client(settings, silence_prompt_s=1.0) as client, client.websocket_connect("/ws/interview") as ws:
        start(ws, turn_detection="auto", style="supportive")
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": RATE})
        _send_audio(ws, _noise(3.0), pace=0.0)
        before = receive_until(ws, {"interviewer_message", "error"})
        prompt = before[-1]
        assert prompt["type"] == "interviewer_message" and prompt["seq"] is not None
        assert prompt["text"] == "Take your time — whenever you're ready."
        assert {m["type"] for m in before[:-1]} <= {"transcript_partial"}
        _send_audio(ws, _noise(2.0, 3), pace=0.0)
        ws.send_json({"type": "ping", "id": "p1"})
        after = receive_until(ws, {"pong"})
        assert "interviewer_message" not in [m["type"] for m in after]  # once only


def test_speaking_over_the_interviewer_stops_its_voice(settings: Settings) -> None:
    with _auto_client(settings) as client, client.websocket_connect("/ws/interview") as ws:
        _, question = start(ws, turn_detection="auto", tts=True)
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": RATE})
        first = ws.receive_json()
        assert first["type"] == "speech_audio" and first["reply_to_seq"] == question["seq"]
        speech = load(SPEECH / "clean" / "61-70968-0000.flac")
        _send_audio(ws, speech[: 2 * RATE], pace=0.0)
        seen = [first]
        while (m := ws.receive_json())["type"] != "speech_interrupted":
            seen.append(m)
        assert m["seq"] is not None and m["reply_to_seq"] == question["seq"]
        chunks = [s for s in seen if s["type"] == "speech_audio"]
        assert m["heard_chunks"] == len(chunks) >= 1
        ws.send_json({"type": "ping", "id": "p1"})
        after = receive_until(ws, {"pong"})
        assert not any(x["type"] == "speech_audio" for x in after)  # no further chunk of the question


def test_a_back_channel_does_not_interrupt(settings: Settings) -> None:
    with _auto_client(settings) as client, client.websocket_connect("/ws/interview") as ws:
        start(ws, turn_detection="auto", tts=True)
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": RATE})
        speech = load(SPEECH / "clean" / "61-70968-0000.flac")
        onset = int(np.argmax(np.abs(speech) > 0.05))
        _send_audio(ws, np.concatenate([speech[onset:onset + int(0.35 * RATE)], _noise(1.0)]), pace=0.0)  # "mm-hm"
        time.sleep(1.5)
        ws.send_json({"type": "ping", "id": "p1"})
        messages = receive_until(ws, {"pong"})
        assert "speech_interrupted" not in [m["type"] for m in messages]


def test_the_interviewer_takes_the_turn_with_a_short_cue(settings: Settings) -> None:
    cues = load_content().styles["neutral"].turn_cues
    with _auto_client(settings) as client, client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, turn_detection="auto", tts=True)
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": RATE, "question_id": question["question_id"]})
        _send_audio(ws, answer_with_pause())  # speaking over the question interrupts it first
        messages = receive_until(ws)
        next_question = messages[-1]
        while not any(m["type"] == "speech_audio" and m["reply_to_seq"] == next_question["seq"] for m in messages):
            messages.append(ws.receive_json())
        kinds = [m["type"] for m in messages]
        detected = kinds.index("turn_detected")
        spoken = [(i, m) for i, m in enumerate(messages) if m["type"] == "speech_audio" and i > detected]
        _, cue = spoken[0]
        assert cue["reply_to_seq"] is None and cue["reply_to"] == "a1" and cue["text"] in cues and cue["last"]
        reply = next(m for m in messages if m["type"] == "interviewer_message")
        assert [m["reply_to_seq"] for _, m in spoken[1:]][:1] == [reply["seq"]]  # then the reply itself
        assert sum(m["reply_to_seq"] is None for _, m in spoken) == 1
        (latency,) = _latencies(client, started["session_id"])
        assert latency["turn_ms"] <= latency["cue_ms"] <= latency["first_audio_ms"]
        summary = client.get("/metrics/summary").json()["latency"]
        assert summary["auto"]["cue_ms"]["n"] == 1


def test_no_cue_when_switched_off(settings: Settings) -> None:
    with _auto_client(settings, cue=False) as client, client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, turn_detection="auto", tts=True)
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": RATE, "question_id": question["question_id"]})
        _send_audio(ws, answer_with_pause())
        messages = receive_until(ws)
        next_question = messages[-1]
        while not any(m["type"] == "speech_audio" and m["reply_to_seq"] == next_question["seq"] for m in messages):
            messages.append(ws.receive_json())
        assert not any(m["type"] == "speech_audio" and m["reply_to_seq"] is None for m in messages)
        (latency,) = _latencies(client, started["session_id"])
        assert latency["cue_ms"] is None and latency["first_audio_ms"] is not None


def test_no_cue_sounds_like_the_start_of_an_acknowledgement() -> None:
    """The cue is followed by the reply, which opens with an acknowledgement: "Okay. Okay, thank you" must not happen."""
    for style in load_content().styles.values():
        acks = {*style.acknowledgements, *(a for group in style.acknowledgements_by_fit.values() for a in group)}
        first_words = {a.split()[0].strip(",.!").lower() for a in acks}
        assert style.turn_cues, style.name
        for cue in style.turn_cues:
            assert cue.split()[0].strip(",.!").lower() not in first_words, (style.name, cue)
