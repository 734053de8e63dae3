"""Fuzzing a real uvicorn: schema-generated messages, mutated JSON, random text and binary frames.

After every fuzz message a `ping` with a fresh id must come back as `pong`; no reply may be an
`internal_error`, and the only closes allowed are the documented ones (1009: frame too big; 1008: a flood of
binary frames outside audio_start..audio_end).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from app.schemas.ws import client_message_adapter
from tests.live_server import LiveServer, start_server
from tests.schema_strategies import from_json_schema

# 1009: frame too big; 1008 after EDGE__MAX_UNEXPECTED_BINARY binary frames outside audio_start..audio_end
DOCUMENTED_CLOSES = {1009: None, 1008: "too many unexpected binary frames"}
BUDGET = {"messages": 0}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    live = start_server({
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "EDGE__RATE_LIMITS_PER_MINUTE": json.dumps({"*": 10_000_000}),
        "EDGE__SESSIONS_PER_CLIENT_PER_HOUR": "100000",  # the fuzzer starts many sessions from one address
        "LIMITS__MAX_MESSAGE_BYTES": str(256 * 1024),
    })
    yield live
    assert live.stop() == 0


class Probe:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self._open = contextlib.ExitStack()
        self.ws: ClientConnection = self._connect()

    def _connect(self) -> ClientConnection:
        return self._open.enter_context(connect(self.server.ws, max_size=None, compression=None))

    def reconnect(self) -> None:
        self._open.close()
        self.ws = self._connect()

    def close(self) -> None:
        self._open.close()

    def exchange(self, frame: str | bytes) -> list[dict[str, Any]]:
        """Send a frame, then a ping; return everything received before its pong."""
        BUDGET["messages"] += 1
        marker = uuid.uuid4().hex
        try:
            self.ws.send(frame)
            self.ws.send(json.dumps({"type": "ping", "id": marker}))
            received = []
            while True:
                message = json.loads(self.ws.recv(timeout=30))
                if message.get("reply_to") == marker and message["type"] == "pong":
                    return received
                received.append(message)
        except ConnectionClosed as closed:
            code, reason = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, "")
            assert code in DOCUMENTED_CLOSES and DOCUMENTED_CLOSES[code] in {None, reason}, \
                f"undocumented close {code} {reason!r} after {str(frame)[:200]!r}"
            assert code == 1009 or isinstance(frame, bytes), frame
            self.reconnect()
            return []


@pytest.fixture(scope="module")
def probe(server: LiveServer) -> Iterator[Probe]:
    probe = Probe(server)
    yield probe
    probe.close()


def _check(replies: list[dict[str, Any]], frame: object) -> None:
    for reply in replies:
        assert reply.get("code") != "internal_error", (str(frame)[:300], reply)
        if reply["type"] == "error":
            assert reply["message"] and reply["code"]


SCHEMA = client_message_adapter.json_schema()
messages = from_json_schema(SCHEMA)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FUZZ = settings(max_examples=700, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@FUZZ
@given(message=messages)
def test_schema_valid_messages(probe: Probe, message: dict[str, Any]) -> None:
    _check(probe.exchange(json.dumps(message)), message)


@FUZZ
@given(message=messages, key=st.text(max_size=12), value=json_values)
def test_mutated_messages(probe: Probe, message: dict[str, Any], key: str, value: Any) -> None:
    mutated = dict(message)
    if key and mutated and key in mutated:
        del mutated[key]
    else:
        mutated[key or "type"] = value
    _check(probe.exchange(json.dumps(mutated)), mutated)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(frame=st.one_of(st.binary(max_size=2048), st.text(max_size=300), json_values.map(json.dumps)))
def test_random_frames(probe: Probe, frame: bytes | str) -> None:
    _check(probe.exchange(frame), frame)


def test_oversized_frame_is_closed_with_1009_and_service_goes_on(probe: Probe, server: LiveServer) -> None:
    replies = probe.exchange(json.dumps({"type": "user_answer", "answer": "x" * (300 * 1024)}))
    assert replies == []
    with connect(server.ws) as ws:
        ws.send(json.dumps({"type": "ping", "id": "after"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "pong"


def test_at_least_2000_messages_were_fuzzed(probe: Probe) -> None:
    assert BUDGET["messages"] >= 2000, BUDGET


