"""Small helpers to talk to /ws/interview in tests."""

from __future__ import annotations

from typing import Any

from starlette.testclient import WebSocketTestSession

FINAL_TYPES = {"question", "session_complete", "error"}


def send(ws: WebSocketTestSession, **message: Any) -> None:
    ws.send_json(message)


def receive_until(ws: WebSocketTestSession, types: set[str] = FINAL_TYPES) -> list[dict[str, Any]]:
    """Messages up to and including the first whose type is in `types`."""
    out: list[dict[str, Any]] = []
    while True:
        message = ws.receive_json()
        out.append(message)
        if message["type"] in types:
            return out


def start(ws: WebSocketTestSession, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    payload = {"type": "start_session", "style": "neutral", "group": "treatment", "question_count": 3} | fields
    ws.send_json(payload)
    started = ws.receive_json()
    assert started["type"] == "session_started", started
    question = ws.receive_json()
    assert question["type"] == "question", question
    return started, question


def answer(ws: WebSocketTestSession, text: str, **fields: Any) -> list[dict[str, Any]]:
    ws.send_json({"type": "user_answer", "answer": text} | fields)
    return receive_until(ws)
