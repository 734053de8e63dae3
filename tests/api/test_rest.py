"""REST endpoints: health, protocol schema, the HTTP twin of check-ins, export errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.wsclient import start


def test_health_reports_database_and_engines(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok" and body["database"]["dialect"] in {"sqlite", "postgresql"}
    assert "coach" in body["engines"]


def test_protocol_schema_lists_every_message(client: TestClient) -> None:
    schema = client.get("/ws/interview/schema").json()
    client_types = {d["properties"]["type"]["const"] for d in schema["client"]["$defs"].values() if "type" in d.get("properties", {})}
    assert {"start_session", "resume_session", "user_answer", "switch_style", "checkin", "telemetry", "ping",
            "end_session"} <= client_types
    server_types = {d["properties"]["type"]["const"] for d in schema["server"]["$defs"].values() if "type" in d.get("properties", {})}
    assert {"session_started", "question", "interviewer_message", "tips", "session_complete", "error", "pong"} <= server_types


def test_http_checkin_needs_the_resume_token(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws)
    body = {"session_id": started["session_id"], "resume_token": started["resume_token"], "confidence": 6, "stress": 3}
    created = client.post("/checkins", json=body)
    assert created.status_code == 201 and created.json()["checkin_id"] > 0
    wrong = client.post("/checkins", json=body | {"resume_token": "guess"})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "invalid_resume_token"
    invalid = client.post("/checkins", json=body | {"stress": 0})
    assert invalid.status_code == 422
    export = client.get(f"/export/session/{started['session_id']}").json()
    assert [(c["confidence"], c["stress"]) for c in export["checkins"]] == [(6, 3)]


def test_export_unknown_session_is_404(client: TestClient) -> None:
    response = client.get("/export/session/does-not-exist")
    assert response.status_code == 404 and response.json()["error"]["code"] == "session_not_found"
