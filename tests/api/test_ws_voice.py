"""Spoken answers over /ws/interview: streamed PCM16 and whole clips, and bad audio."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from app.inference.audio import float_to_pcm16
from app.main import create_app
from app.settings import Settings
from tests.inference.speech_helpers import SPEECH, edit_distance, load, normalise, reference
from tests.wsclient import receive_until, start


def _stream(ws, audio: np.ndarray, rate: int = 16000, frame_s: float = 0.25, pace: float = 0.0) -> list[dict]:
    ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": rate, "encoding": "pcm16"})
    pcm = float_to_pcm16(audio)
    step = int(rate * frame_s) * 2
    for i in range(0, len(pcm), step):
        ws.send_bytes(pcm[i:i + step])
        if pace:
            time.sleep(pace)
    ws.send_json({"type": "audio_end", "id": "e1"})
    return receive_until(ws)


def test_streamed_answer_is_transcribed_measured_and_answered(client: TestClient) -> None:
    audio = load(SPEECH / "fillers" / "acoustic_corpus.wav")
    with client.websocket_connect("/ws/interview") as ws:
        start(ws)
        # A quarter of real time: enough for background passes to run while audio arrives.
        messages = _stream(ws, audio, frame_s=0.25, pace=0.06)
    kinds = [m["type"] for m in messages]
    assert "transcript_partial" in kinds and kinds.index("transcript_partial") < kinds.index("transcript_final")
    final = next(m for m in messages if m["type"] == "transcript_final")
    assert final["seq"] is None and final["reply_to"] == "e1"
    assert abs(final["duration_s"] - 26.72) < 0.05
    ref = normalise(reference(SPEECH / "fillers" / "acoustic_corpus.wav"))
    assert edit_distance(ref, normalise(final["text"])) / len(ref) < 0.2
    assert all(w["start"] <= w["end"] for w in final["words"]) and final["words"][-1]["end"] <= 26.8
    metrics = next(m for m in messages if m["type"] == "answer_metrics")
    assert metrics["seq"] is not None and metrics["reply_to"] == "e1"
    m = metrics["metrics"]
    assert m["sources"]["speaking_rate_wpm"] == "server" and 100 < m["speaking_rate_wpm"] < 200
    assert m["fillers"].get("um", 0) >= 1 and m["pitch_median_hz"] is not None
    # A spoken answer's delivery is scored from these measures (issue 12): pace, fillers, pauses, intonation.
    scored = messages[kinds.index("answer_metrics") + 1]
    assert scored["type"] == "assessment" and scored["answer_id"] == metrics["answer_id"]
    parts = scored["delivery_parts"]
    assert None not in (parts["pace"], parts["fillers"], parts["pauses"], parts["intonation"])
    assert parts["eye_contact"] is None and scored["scores"]["delivery"] is not None  # no camera in this test
    assert f"{m['speaking_rate_wpm']:.0f} words/min" in scored["evidence"]["delivery"]
    assert kinds[-1] == "question"


def test_whole_clip_answer_at_another_sample_rate(client: TestClient) -> None:
    clip = (SPEECH / "fillers" / "mfa_um.flac").read_bytes()
    with client.websocket_connect("/ws/interview") as ws:
        _, question = start(ws)
        ws.send_json({"type": "user_answer", "id": "u1", "audio": base64.b64encode(clip).decode(),
                      "question_id": question["question_id"], "metrics": {"speakingRate": 999 / 3}})
        messages = receive_until(ws)
        final = messages[0]
        assert final["type"] == "transcript_final" and "montreal" in final["text"].lower()
        metrics = next(m for m in messages if m["type"] == "answer_metrics")
        assert metrics["metrics"]["fillers"].get("um") == 1
        assert metrics["client_metrics"] == {"speakingRate": 333.0}
        assert metrics["metrics"]["speaking_rate_wpm"] != 333.0  # the server's own value wins
        # 48 kHz stream of the same words: resampled on the way in
        audio = load(SPEECH / "clean" / "61-70968-0000.flac")
        t48 = np.interp(np.arange(audio.size * 3) / 3, np.arange(audio.size), audio).astype(np.float32)
        messages = _stream(ws, t48, rate=48000)
        final = next(m for m in messages if m["type"] == "transcript_final")
        ref = normalise(reference(SPEECH / "clean" / "61-70968-0000.flac"))
        assert edit_distance(ref, normalise(final["text"])) <= 1


def test_bad_audio_gets_typed_errors_and_the_session_goes_on(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        start(ws)
        ws.send_bytes(b"\x00\x00" * 100)
        assert ws.receive_json()["code"] == "unexpected_binary"
        ws.send_json({"type": "user_answer", "id": "x", "audio": base64.b64encode(b"not audio" * 100).decode()})
        error = ws.receive_json()
        assert (error["type"], error["code"], error["reply_to"]) == ("error", "invalid_audio", "x")
        ws.send_json({"type": "user_answer", "audio": "%%%"})
        assert ws.receive_json()["code"] == "invalid_audio"
        ws.send_json({"type": "audio_start", "sample_rate": 4000, "encoding": "pcm16"})
        assert ws.receive_json()["code"] == "invalid_message"
        ws.send_json({"type": "audio_end"})
        assert ws.receive_json()["code"] == "no_audio_stream"
        messages = _stream(ws, np.zeros(16000 * 2, np.float32))  # silence: nothing to answer with
        assert messages[-1]["type"] == "error" and messages[-1]["code"] == "empty_transcript"
        ws.send_json({"type": "user_answer", "answer": "I led the migration and we shipped on time."})
        assert receive_until(ws)[-1]["type"] == "question"


def test_partials_arrive_while_audio_streams_at_real_time_pace(tmp_path: Path) -> None:
    """transcript_partial arrives while the candidate talks, not only after audio_end.

    Behavioural, not a benchmark: 11 s of speech is streamed at a real candidate's pace. The goal (a
    partial at least every 2 s of audio) depends on the machine's speed, so bench/stt.py measures it.
    Here nothing is timed: on a 2-core machine shared with other test runs a pass can take longer than
    the clip, so when the audio is all sent and no partial has come yet, the candidate "pauses" (the
    socket stays open, audio_end not sent) until one comes. It must come before audio_end, i.e. from
    the streaming passes, not from the final one.
    """
    settings = Settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/t.db", NVIDIA_API_KEY=None)  # type: ignore[call-arg]
    audio = load(SPEECH / "clean" / "jfk.flac")
    arrivals: list[tuple[float, dict]] = []
    first_partial = threading.Event()
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/interview") as ws:
        start(ws)

        def reader() -> None:  # the socket's receive queue is thread-safe; sending stays on this thread
            while True:
                message = ws.receive_json()
                arrivals.append((time.perf_counter(), message))
                if message["type"] == "transcript_partial":
                    first_partial.set()
                if message["type"] in ("question", "session_complete", "error"):
                    first_partial.set()
                    return

        thread = threading.Thread(target=reader, daemon=True)
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": 16000, "encoding": "pcm16"})
        thread.start()
        pcm, step = float_to_pcm16(audio), 4000 * 2  # 250 ms frames
        began = time.perf_counter()
        for i, offset in enumerate(range(0, len(pcm), step)):
            ws.send_bytes(pcm[offset:offset + step])
            time.sleep(max(0.0, began + (i + 1) * 0.25 - time.perf_counter()))
        first_partial.wait(120)  # at once on an ordinary machine: partials came while streaming
        ended = time.perf_counter()
        ws.send_json({"type": "audio_end", "id": "e1"})
        thread.join(120)
    kinds = [m["type"] for _, m in arrivals]
    assert "transcript_final" in kinds and kinds[-1] == "question", kinds
    heard = [t - began for t, m in arrivals if m["type"] == "transcript_partial" and t <= ended]
    assert heard, f"no transcript_partial before audio_end: {kinds}"
    final = kinds.index("transcript_final")
    assert kinds[0] == "transcript_partial" and set(kinds[:final]) == {"transcript_partial"}, kinds
