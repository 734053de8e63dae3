"""Fuzzing hostile values inside otherwise valid messages, on SQLite and PostgreSQL (issue 14).

Lone surrogates, NUL, NaN/Infinity/1e400, integers far beyond 2^53, nesting up to 100 000 deep
and huge strings go into every kind of field (ids, text, metrics names and values, telemetry
data, participant ids). Every reply must be processed or a typed error, never `internal_error`;
the server logs no traceback; afterwards every export is complete, strict JSON and UTF-8.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from app.schemas.ws import client_message_adapter
from tests.hardening.rawclient import http_request
from tests.live_server import LiveServer, start_server
from tests.schema_strategies import from_json_schema

COUNT = {"frames": 0}
TOKENS = {"@@NAN@@": "NaN", "@@INF@@": "Infinity", "@@NINF@@": "-Infinity", "@@BIGF@@": "1e400"}
DEEP = re.compile(r'"@@DEEP(\d+)@@"')


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    log_path = tmp_path_factory.mktemp("fuzz-values") / "server.log"
    live = start_server({
        "DATABASE_URL": database_url, "RESEARCH_API_TOKEN": "", "DB__AUTO_MIGRATE": "false",
        "EDGE__RATE_LIMITS_PER_MINUTE": json.dumps({"*": 10_000_000}), "EDGE__SESSIONS_PER_CLIENT_PER_HOUR": "100000",
        "LIMITS__MAX_MESSAGE_BYTES": str(1024 * 1024), "STT__ENABLED": "false", "TTS__ENABLED": "false",
        "SPEECH__ENABLED": "false", "HEAD_POSE__ENABLED": "false",
    }, timeout=240, log_path=log_path)
    yield live, log_path
    assert live.stop() == 0


class Probe:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.ws: ClientConnection = connect(server.ws, max_size=None, compression=None, legacy=True)  # type: ignore[call-arg]
        self.session: dict[str, Any] | None = None

    def start(self) -> None:
        self.ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment",
                                 "question_count": 20}))
        self.session = json.loads(self.ws.recv(timeout=30))
        assert self.session["type"] == "session_started", self.session
        self.ws.recv(timeout=30)

    def exchange(self, frame: str) -> list[dict[str, Any]]:
        COUNT["frames"] += 1
        marker = uuid.uuid4().hex
        self.ws.send(frame)
        self.ws.send(json.dumps({"type": "ping", "id": marker}))
        received = []
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("reply_to") == marker and message["type"] == "pong":
                return received
            received.append(message)
            if message["type"] in {"session_complete", "session_ended"}:
                self.start()  # keep a live session for the next message


@pytest.fixture(scope="module")
def probe(server: tuple[LiveServer, Path]) -> Iterator[Probe]:
    COUNT["frames"] = 0  # per database
    probe = Probe(server[0])
    probe.start()
    yield probe
    probe.ws.close()


def encode(message: Any) -> str:
    text = json.dumps(message)  # ensure_ascii: a lone surrogate travels as a \ud800 escape
    for token, literal in TOKENS.items():
        text = text.replace(f'"{token}"', literal)
    return DEEP.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)


surrogates = st.builds(lambda a, s, b: a + s + b, st.text(max_size=8),
                       st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d"]), st.text(max_size=8))
hostile = st.one_of(
    surrogates,
    st.builds(lambda a, b: a + "\x00" + b, st.text(max_size=8), st.text(max_size=8)),
    st.sampled_from(list(TOKENS)),
    st.integers(min_value=2**53, max_value=10**4000) | st.integers(max_value=-(2**53), min_value=-(10**4000)),
    st.integers(min_value=17, max_value=100_000).map(lambda n: f"@@DEEP{n}@@"),
    st.integers(min_value=1_000, max_value=300_000).map(lambda n: "x" * n),
)
hostile_key = st.one_of(surrogates, st.just("k\x00"), st.text(min_size=65, max_size=200))
MESSAGES = from_json_schema(client_message_adapter.json_schema())
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _check(replies: list[dict[str, Any]], frame: str) -> None:
    for reply in replies:
        assert reply.get("code") != "internal_error", (frame[:300], reply)


@FUZZ
@given(message=MESSAGES, value=hostile, pick=st.integers(min_value=0, max_value=100))
def test_hostile_value_in_any_field(probe: Probe, message: dict[str, Any], value: Any, pick: int) -> None:
    keys = [k for k in message if k != "type"] + ["id", "answer", "participant_id", "metrics", "data"]
    mutated = dict(message)
    mutated[keys[pick % len(keys)]] = value
    frame = encode(mutated)
    _check(probe.exchange(frame), frame)


@FUZZ
@given(value=hostile, key=st.one_of(st.text(min_size=1, max_size=12), hostile_key), where=st.sampled_from(
    ["user_answer", "telemetry", "audio_start"]))
def test_hostile_value_inside_free_form_objects(probe: Probe, value: Any, key: str, where: str) -> None:
    answer = "I led the team through a hard migration and we shipped on time, cutting costs by a fifth."
    message: dict[str, Any] = {
        "user_answer": {"type": "user_answer", "answer": answer, "metrics": {key: value, "gaze": 0.5}},
        "telemetry": {"type": "telemetry", "event": "probe", "data": {key: [value, {"nested": value}]}},
        "audio_start": {"type": "audio_start", "sample_rate": 16000, "metrics": {key: value}},
    }[where]
    frame = encode(message)
    _check(probe.exchange(frame), frame)
    if where == "audio_start":
        probe.exchange(json.dumps({"type": "audio_end"}))  # whatever it answered, nothing is left open


def test_exports_are_complete_strict_json_and_nothing_was_logged_as_a_traceback(
        probe: Probe, server: tuple[LiveServer, Path]) -> None:
    live, log_path = server
    assert COUNT["frames"] >= 600, COUNT
    status, body = http_request(live.port, "GET", "/export/sessions")
    assert status == 200

    def refuse(token: str) -> Any:
        raise ValueError(token)

    lines = [json.loads(line, parse_constant=refuse) for line in body.decode("utf-8").splitlines()]
    assert lines and not any("export_error" in line for line in lines)
    assert probe.session is not None and probe.session["session_id"] in {line["session"]["id"] for line in lines}
    status, body = http_request(live.port, "GET", f"/export/session/{probe.session['session_id']}")
    assert status == 200
    json.loads(body, parse_constant=refuse)
    status, body = http_request(live.port, "GET", "/export/answers.csv")
    assert status == 200 and body.decode("utf-8").count("\n") >= 2
    assert "Traceback" not in log_path.read_text(errors="replace")
