"""speech_audio after question and interviewer_message when the session asked for speech."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from app.main import create_app
from app.services.voice import split_sentences
from app.settings import Settings
from tests.wsclient import start


def speech_of(ws: WebSocketTestSession, message: dict[str, Any]) -> list[dict[str, Any]]:
    """The speech_audio chunks for `message`, which must come next, in order."""
    chunks: list[dict[str, Any]] = []
    while not chunks or not chunks[-1]["last"]:
        chunk = ws.receive_json()
        assert chunk["type"] == "speech_audio", chunk
        chunks.append(chunk)
    assert all(c["reply_to_seq"] == message["seq"] for c in chunks)
    assert [c["chunk_index"] for c in chunks] == list(range(len(split_sentences(message["text"]))))
    assert " ".join(c["text"] for c in chunks) == message["text"]
    return chunks


def test_questions_and_interviewer_messages_are_spoken(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, tts=True, question_count=2)  # the question itself comes before any audio
        assert started["tts"] is True
        chunks = speech_of(ws, question)
        for chunk in chunks:
            assert chunk["sample_rate"] == 22050 and chunk["encoding"] == "pcm16" and chunk["seq"] is None
            pcm = base64.b64decode(chunk["audio"])
            seconds = len(pcm) / 2 / chunk["sample_rate"]
            assert len(chunk["text"].split()) / 5 <= seconds <= len(chunk["text"].split()) / 1.5 + 0.5
        ws.send_json({"type": "user_answer", "id": "a1", "answer": "We split the work and shipped two days early."})
        # Text messages are never held back for audio: collect everything up to the next question's last chunk.
        received: list[dict[str, Any]] = []
        while True:
            received.append(ws.receive_json())
            spoken = [m for m in received if m["type"] in {"interviewer_message", "question"}]
            if spoken and spoken[-1]["type"] == "question" and received[-1]["type"] == "speech_audio" \
                    and received[-1]["reply_to_seq"] == spoken[-1]["seq"] and received[-1]["last"]:
                break
        assert [m["type"] for m in spoken] == ["interviewer_message", "question"]
        audio = [m for m in received if m["type"] == "speech_audio"]
        for message in spoken:
            mine = [c for c in audio if c["reply_to_seq"] == message["seq"]]
            assert received.index(message) < received.index(mine[0])
            assert [c["chunk_index"] for c in mine] == list(range(len(split_sentences(message["text"]))))
            assert mine[-1]["last"] and not any(c["last"] for c in mine[:-1])
        # One text is spoken after the other, never interleaved.
        assert [c["reply_to_seq"] for c in audio] == sorted(c["reply_to_seq"] for c in audio)


@pytest.mark.parametrize("tts", [False])
def test_no_speech_unless_asked(client: TestClient, tts: bool) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        start(ws, tts=tts)
        ws.send_json({"type": "ping", "id": "p"})
        assert ws.receive_json()["type"] == "pong"


def test_resumed_session_keeps_speaking(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, tts=True)
        speech_of(ws, question)
    with client.websocket_connect("/ws/interview") as ws:
        ws.send_json({"type": "resume_session", "session_id": started["session_id"],
                      "resume_token": started["resume_token"], "last_seq": question["seq"]})
        resumed = ws.receive_json()
        assert resumed["type"] == "session_resumed" and resumed["tts"] is True
        ws.send_json({"type": "user_answer", "answer": "I would ask for feedback earlier next time."})
        while (message := ws.receive_json())["type"] != "interviewer_message":
            assert message["type"] in {"answer_metrics", "assessment"}
        while not ((chunk := ws.receive_json())["type"] == "speech_audio" and chunk["reply_to_seq"] == message["seq"]):
            assert chunk["type"] in {"tips", "question", "speech_audio"}, chunk
        assert chunk["chunk_index"] == 0


def test_engines_are_warmed_at_start_up(client: TestClient) -> None:
    """Model loads and first runs happen in the lifespan, before any client asks."""
    engines = client.get("/health").json()["engines"]
    assert engines["tts"]["status"] == "ok" and engines["tts"]["sentences"] >= 1
    assert engines["tts"]["sample_rate"] == 22050 and engines["tts"]["voice"] == "en_US-joe-medium"
    assert engines["head_pose"]["status"] == "ok" and engines["head_pose"]["frames"] >= 1


def test_speech_without_an_engine_is_an_error_and_the_interview_goes_on(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/t.db", NVIDIA_API_KEY=None,  # type: ignore[call-arg]
                        tts={"enabled": False}, head_pose={"enabled": False})
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/interview") as ws:
        ws.send_json({"type": "start_session", "id": "s", "group": "control", "tts": True})
        assert ws.receive_json()["type"] == "session_started"
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "engine_unavailable" and error["reply_to"] == "s"
        assert ws.receive_json()["type"] == "question"
        ws.send_json({"type": "video_frame", "id": "v", "image": "AAAA"})
        assert ws.receive_json()["code"] == "engine_unavailable"
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"
        health = client.get("/health").json()["engines"]
        assert health["tts"]["status"] == "unavailable" and health["head_pose"]["status"] == "unavailable"
