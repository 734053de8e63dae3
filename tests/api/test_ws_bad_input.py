"""Bad input of every kind gets a typed error; the connection and the session go on, nothing is lost."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.wsclient import answer, start

GOOD = "At my last job I led a migration and as a result we saved 20 percent of our hosting costs."

BAD_MESSAGES: list[tuple[str | dict[str, object], str]] = [
    ("not json at all", "invalid_json"),
    ("[1, 2, 3]", "invalid_message"),
    ('"a string"', "invalid_message"),
    ({"no": "type"}, "unknown_type"),
    ({"type": "launch_rockets"}, "unknown_type"),
    ({"type": 42}, "unknown_type"),
    ({"type": "checkin", "confidence": 9, "stress": 2}, "invalid_message"),
    ({"type": "checkin", "confidence": "high", "stress": 2}, "invalid_message"),
    ({"type": "checkin", "confidence": 4}, "invalid_message"),
    ({"type": "checkin", "confidence": 4, "stress": 4, "group": "placebo"}, "invalid_message"),
    ({"type": "checkin", "confidence": 4, "stress": 4, "group": "control"}, "group_mismatch"),
    ({"type": "switch_style", "style": "sarcastic"}, "unknown_style"),
    ({"type": "user_answer"}, "invalid_message"),
    ({"type": "user_answer", "answer": "   "}, "empty_answer"),
    ({"type": "user_answer", "answer": "x" * 10_001}, "answer_too_long"),
    ({"type": "user_answer", "answer": "hi", "question_id": "nope"}, "question_mismatch"),
    ({"type": "user_answer", "answer": "hi", "metrics": {"gaze": 7}}, "invalid_message"),
    ({"type": "ping", "surprise": True}, "invalid_message"),
    ({"type": "user_answer", "answer": "hi", "metrics": {f"k{i}": i for i in range(40)}}, "too_many_metrics"),
    ({"type": "start_session", "style": "neutral", "group": "treatment"}, "session_already_started"),
    ({"type": "resume_session", "session_id": "x", "resume_token": "y"}, "invalid_resume_token"),
    ({"type": "telemetry", "event": "e", "data": {"blob": "x" * 9000}}, "telemetry_too_large"),
]


def test_every_kind_of_bad_input_gets_an_error_and_the_session_goes_on(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws, question_count=5)
        stored = answer(ws, GOOD, id="kept")
        for raw, code in BAD_MESSAGES:
            ws.send_text(raw if isinstance(raw, str) else json.dumps({"id": "bad", **raw}))
            reply = ws.receive_json()
            assert reply["type"] == "error", (raw, reply)
            assert reply["code"] == code, (raw, reply)
            assert reply["message"]
            if isinstance(raw, dict):
                assert reply["reply_to"] == "bad"
        ws.send_bytes(b"\x00\x01binary")
        assert ws.receive_json()["code"] == "unexpected_binary"
        ws.send_json({"type": "ping", "id": "alive"})
        assert ws.receive_json()["type"] == "pong"
        replies = answer(ws, GOOD, question_id=stored[-1]["question_id"])
        assert replies[-1]["type"] in {"question", "session_complete"}
    export = client.get(f"/export/session/{started['session_id']}").json()
    assert [a["client_message_id"] for a in export["answers"]] == ["kept", None]


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ({"type": "user_answer", "answer": "hello"}, "no_session"),
        ({"type": "switch_style", "style": "neutral"}, "no_session"),
        ({"type": "checkin", "confidence": 1, "stress": 1}, "no_session"),
        ({"type": "end_session"}, "no_session"),
        ({"type": "start_session", "style": "neutral"}, "group_required"),
        ({"type": "start_session", "style": "neutral", "group": "treatment", "question_count": 0}, "invalid_message"),
    ],
)
def test_out_of_order_messages(client: TestClient, message: dict[str, object], code: str) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        ws.send_json(message)
        assert ws.receive_json()["code"] == code
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"


def test_answers_after_completion_are_refused_and_nothing_changes(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws, question_count=1, style="neutral")
        replies = answer(ws, GOOD)
        while replies[-1]["type"] != "session_complete":
            replies = answer(ws, GOOD)
        replies = answer(ws, GOOD)
        assert replies[-1]["code"] == "session_finished"
    export = client.get(f"/export/session/{started['session_id']}").json()
    assert export["session"]["status"] == "completed"
    assert len(export["answers"]) == len(export["questions"])
