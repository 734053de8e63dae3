"""The socket's edge: origins, rate limits, sockets per participant, idle timeout."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.main import create_app
from app.settings import EdgeSettings, Settings
from tests.wsclient import start


def _client(settings: Settings, **changes: object) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes)))


def test_foreign_origin_is_refused_at_the_handshake(settings: Settings) -> None:
    with _client(settings) as client:
        with pytest.raises(WebSocketDisconnect) as refused, \
                client.websocket_connect("/ws/interview", headers={"origin": "https://evil.example"}):
            pass
        assert refused.value.code == 1008
        with client.websocket_connect("/ws/interview", headers={"origin": "http://testserver"}) as ws:
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"


def test_configured_origins_are_allowed(settings: Settings) -> None:
    with _client(settings, allowed_origins="https://study.example.org, https://lab.example.org") as client:
        with client.websocket_connect("/ws/interview", headers={"origin": "https://lab.example.org"}) as ws:
            ws.send_json({"type": "ping"})
            assert ws.receive_json()["type"] == "pong"
        with pytest.raises(WebSocketDisconnect), \
                client.websocket_connect("/ws/interview", headers={"origin": "https://other.example.org"}):
            pass


def test_rate_limit_answers_rate_limited_and_the_session_goes_on(settings: Settings) -> None:
    edge = EdgeSettings(rate_limits_per_minute={"ping": 5, "*": 600})
    with _client(settings, edge=edge) as client, client.websocket_connect("/ws/interview") as ws:
        start(ws)
        codes = []
        for i in range(8):
            ws.send_json({"type": "ping", "id": f"p{i}"})
            reply = ws.receive_json()
            codes.append(reply.get("code", reply["type"]))
        assert codes[:5] == ["pong"] * 5 and codes[5:] == ["rate_limited"] * 3
        ws.send_json({"type": "checkin", "confidence": 4, "stress": 4})
        assert ws.receive_json()["type"] == "checkin_logged"


def test_sockets_per_session_are_capped_and_a_valid_resume_takes_over(settings: Settings) -> None:
    edge = EdgeSettings(max_sockets_per_session=1)
    with _client(settings, edge=edge) as client:
        with client.websocket_connect("/ws/interview") as first:
            started, _ = start(first, participant_id="P-9")
            with client.websocket_connect("/ws/interview") as second:
                # Someone else may use the same participant label: a new session, not a lockout.
                start(second, participant_id="P-9")
                with client.websocket_connect("/ws/interview") as third:
                    third.send_json({"type": "resume_session", "session_id": started["session_id"],
                                     "resume_token": started["resume_token"]})
                    assert third.receive_json()["type"] == "session_resumed"
                    superseded = first.receive_json()
                    assert superseded["code"] == "superseded"
                    with pytest.raises(WebSocketDisconnect) as closed:
                        first.receive_json()
                    assert closed.value.code == 1008
                    third.send_json({"type": "ping"})
                    assert third.receive_json()["type"] == "pong"


def test_idle_socket_is_closed(settings: Settings) -> None:
    edge = EdgeSettings(idle_timeout_s=0.3)
    with _client(settings, edge=edge) as client, client.websocket_connect("/ws/interview") as ws:
        time.sleep(0.6)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1001
