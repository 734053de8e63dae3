"""Streaming: the interviewer message appears as ephemeral deltas, then the durable message."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.services.coaching.stream_text import JsonFieldStream
from tests.llm.conftest import llm_settings
from tests.llm.interview import exported_answers, interview
from tests.llm.stub_llm import GOOD_MESSAGE, Scenario, StubLlm


@pytest.mark.parametrize("step", [1, 2, 3, 5, 64])
def test_field_stream_decodes_escapes_split_anywhere(step: int) -> None:
    message = 'Say "why" \\ then\nnext 😀 café'
    source = json.dumps({"tips": [], "interviewer_message": message, "follow_up": "x"}, ensure_ascii=True)
    decoder = JsonFieldStream("interviewer_message")
    assert "".join(decoder.feed(source[i:i + step]) for i in range(0, len(source), step)) == message
    assert decoder.done


def test_streamed_deltas_precede_the_durable_message(stub: StubLlm, sqlite_url: str) -> None:
    stub.reset(Scenario(reply="good"))
    with TestClient(create_app(llm_settings(sqlite_url, stub.url, stream=True))) as client:
        run = interview(client)
        answers = exported_answers(client, run.session_id)
    assert all(r["stream"] is True for r in stub.requests)
    for replies in run.replies:
        types = [m["type"] for m in replies]
        deltas = [m for m in replies if m["type"] == "interviewer_message_delta"]
        assert len(deltas) > 1 and types.index("interviewer_message") > types.index("interviewer_message_delta")
        assert "".join(d["text"] for d in deltas) == GOOD_MESSAGE
        assert all(d["seq"] is None and d["reply_to"] == replies[-1]["reply_to"] for d in deltas)
        final = next(m for m in replies if m["type"] == "interviewer_message")
        assert final["text"] == GOOD_MESSAGE and final["seq"] is not None
    assert all(a["coach_source"] == "llm" for a in answers)


def test_a_broken_stream_is_replaced_by_the_heuristic_message(stub: StubLlm, sqlite_url: str) -> None:
    stub.reset(Scenario(reply="malformed"))
    with TestClient(create_app(llm_settings(sqlite_url, stub.url, stream=True))) as client:
        run = interview(client)
        answers = exported_answers(client, run.session_id)
    first = run.replies[0]
    assert "".join(m["text"] for m in first if m["type"] == "interviewer_message_delta") == "Thanks"
    final = next(m for m in first if m["type"] == "interviewer_message")
    assert final["text"] != "Thanks" and final["text"] == answers[0]["interviewer_message"]
    assert all(a["server_metrics"]["coach"]["fallback_reason"] == "invalid_output" for a in answers)
