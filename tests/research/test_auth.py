"""Researcher endpoints: a Bearer token when one is configured, else loopback clients only."""

from __future__ import annotations

import base64
import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from starlette.datastructures import Headers

from app.api.auth import authorize, token_fingerprint
from app.errors import Forbidden, Unauthorized
from tests.conftest import RESEARCH_TOKEN

TOKEN = SecretStr("s3cret-token")
PROTECTED = ["/metrics/summary", "/metrics/timeline", "/metrics/sessions?metric=gaze", "/export/sessions",
             "/export/answers.csv", "/export/codebook.json", "/export/session/x", "/dashboard"]


def _headers(**values: str) -> Headers:
    return Headers({k.replace("_", "-"): v for k, v in values.items()})


def test_without_a_token_only_loopback_clients_are_served() -> None:
    for host in ("127.0.0.1", "::1", "127.0.0.2"):
        assert authorize(None, host, _headers(), "/metrics/summary").actor == "loopback"
    for host in ("10.0.0.5", "192.168.1.20", "2001:db8::1", "testclient", None):
        with pytest.raises(Forbidden):
            authorize(None, host, _headers(), "/metrics/summary")
    with pytest.raises(Forbidden):  # a local reverse proxy forwarding a remote client
        authorize(None, "127.0.0.1", _headers(x_forwarded_for="203.0.113.9"), "/export/answers.csv")
    with pytest.raises(Forbidden):
        authorize(None, "127.0.0.1", _headers(forwarded='for="203.0.113.9:4711"'), "/export/answers.csv")
    with pytest.raises(Forbidden):  # an empty token is no token
        authorize(SecretStr(""), "10.0.0.5", _headers(), "/metrics/summary")
    with pytest.raises(Forbidden):  # two Forwarded lines are not merged: any of them refuses
        authorize(None, "127.0.0.1", Headers(raw=[(b"forwarded", b"for=127.0.0.1"), (b"forwarded", b"for=8.8.8.8")]),
                  "/export/answers.csv")
    with pytest.raises(Forbidden):  # every proxy trusted: anyone could claim 127.0.0.1, so nobody is local
        authorize(None, "127.0.0.1", _headers(), "/metrics/summary", forwarded_allow_ips="*")


def test_with_a_token_every_client_needs_it_even_on_loopback() -> None:
    good = authorize(TOKEN, "203.0.113.9", _headers(authorization="Bearer s3cret-token"), "/metrics/summary")
    assert good.actor == token_fingerprint("s3cret-token") and "s3cret" not in good.actor
    basic = base64.b64encode(b"researcher:s3cret-token").decode()
    assert authorize(TOKEN, "10.0.0.1", _headers(authorization=f"Basic {basic}"), "/dashboard").actor == good.actor
    for header in ("", "Bearer wrong", "Bearer s3cret-token-and-more", "Token s3cret-token", "Basic !!notbase64"):
        with pytest.raises(Unauthorized) as refused:
            authorize(TOKEN, "127.0.0.1", _headers(authorization=header), "/metrics/summary")
        assert refused.value.challenge.startswith("Bearer")
    with pytest.raises(Unauthorized) as refused:
        authorize(TOKEN, "127.0.0.1", _headers(), "/dashboard")
    assert refused.value.challenge.startswith("Basic")  # so a browser asks for it


@pytest.mark.parametrize("path", PROTECTED)
def test_every_researcher_endpoint_refuses_without_the_token(client: TestClient, path: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="app.api.auth"):
        anonymous = client.get(path, headers={"Authorization": ""})
        wrong = client.get(path, headers={"Authorization": "Bearer guess-123"})
    for response in (anonymous, wrong):
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "unauthorized" and "WWW-Authenticate" in response.headers
    assert client.delete("/sessions/x", headers={"Authorization": ""}).status_code == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused" in logged and "wrong token" in logged and "guess-123" not in logged


def test_participant_endpoints_stay_open(client: TestClient) -> None:
    assert client.get("/health", headers={"Authorization": ""}).status_code == 200
    assert client.get("/ws/interview/schema", headers={"Authorization": ""}).status_code == 200
    assert client.get("/metrics/summary").status_code == 200  # the fixture's client sends RESEARCH_TOKEN
    assert RESEARCH_TOKEN not in client.get("/export/codebook.json").text


def test_email_like_participant_ids_are_refused(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        ws.send_json({"type": "start_session", "group": "control", "participant_id": "jane.doe@example.org"})
        error = ws.receive_json()
    assert error["type"] == "error" and error["code"] == "invalid_message"
    assert "participant_id" in error["message"] and "e-mail" in error["message"]
