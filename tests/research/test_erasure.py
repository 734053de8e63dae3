"""DELETE /sessions/{id} erases every row of the session on both databases; the audit log is append-only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.api.auth import token_fingerprint
from app.db.models import Base
from tests.conftest import RESEARCH_TOKEN, sync_url
from tests.wsclient import answer, start

CHILD_TABLES = sorted(t.name for t in Base.metadata.sorted_tables if "session_id" in t.columns)


def _rows(url: str, table: str, session_id: str) -> int:
    engine = create_sync_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f'SELECT count(*) FROM "{table}" WHERE session_id = :s'), {"s": session_id}).scalar_one())
    finally:
        engine.dispose()


def _audit(url: str, target: str) -> list[tuple[str, str, str]]:
    engine = create_sync_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT actor, action, outcome FROM audit_log WHERE target = :t ORDER BY id"), {"t": target})
            return [(r[0], r[1], r[2]) for r in rows]
    finally:
        engine.dispose()


def _full_session(client: TestClient) -> str:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws, question_count=2, participant_id="P-900", attributes={"native_english": "no"})
        ws.send_json({"type": "checkin", "confidence": 4, "stress": 3})
        assert ws.receive_json()["type"] == "checkin_logged"
        ws.send_json({"type": "telemetry", "event": "turn", "latencyMs": 420})
        assert ws.receive_json()["type"] == "telemetry_logged"
        ws.send_json({"type": "switch_style", "style": "challenging"})
        assert ws.receive_json()["type"] == "style_switched"
        answer(ws, "When I was at my last job I led a migration, so I planned it and we delivered on time.")
    return str(started["session_id"])


def _spoken_answer_stage_times(url: str, session_id: str) -> None:
    """turn_latencies rows come only from spoken answers (a typed session has none): add one, as the voice path would."""
    engine = create_sync_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            answer_id = conn.execute(text("SELECT min(id) FROM answers WHERE session_id = :s"), {"s": session_id}).scalar_one()
            conn.execute(text("INSERT INTO turn_latencies (answer_id, session_id, turn_detection, turn_reason, turn_ms, created_at)"
                              " VALUES (:a, :s, 'manual', 'audio_end', 12.0, CURRENT_TIMESTAMP)"), {"a": answer_id, "s": session_id})
    finally:
        engine.dispose()


def test_delete_erases_every_row_and_is_idempotent(client: TestClient, clean_database: str) -> None:
    keep, gone = _full_session(client), _full_session(client)
    for session_id in (keep, gone):
        _spoken_answer_stage_times(clean_database, session_id)
    assert set(CHILD_TABLES) >= {"asked_questions", "answers", "checkins", "telemetry_events", "session_events",
                                 "outbox_messages"}
    for table in CHILD_TABLES:
        assert _rows(clean_database, table, gone) > 0, table
    first = client.delete(f"/sessions/{gone}")
    second = client.delete(f"/sessions/{gone}")
    assert first.status_code == second.status_code == 204 and first.content == b""
    for table in CHILD_TABLES:
        assert _rows(clean_database, table, gone) == 0, table
        assert _rows(clean_database, table, keep) > 0, table  # the other session is untouched
    assert client.get(f"/export/session/{gone}").status_code == 404
    assert client.get(f"/export/session/{keep}").status_code == 200
    actor = token_fingerprint(RESEARCH_TOKEN)
    assert _audit(clean_database, gone) == [
        (actor, "session.delete", "deleted"), (actor, "session.delete", "not_found"),
        (actor, "export.session", "not_found"),
    ]
    assert _audit(clean_database, keep) == [(actor, "export.session", "ok")]


def test_exports_are_audited_with_parameters_not_data(client: TestClient, clean_database: str) -> None:
    sid = _full_session(client)
    client.get("/export/answers.csv", params={"since": "2020-01-01T00:00:00Z", "style": "neutral"})
    engine = create_sync_engine(sync_url(clean_database))
    with engine.connect() as conn:
        row = conn.execute(text("SELECT action, params, outcome, at FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    engine.dispose()
    params = row[1] if isinstance(row[1], dict) else __import__("json").loads(row[1])
    assert row[0] == "export.answers_csv" and row[2] == "streamed" and row[3] is not None
    assert params == {"since": "2020-01-01T00:00:00+00:00", "style": "neutral"}
    assert sid not in str(params) and "P-900" not in str(params)


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"])
def test_audit_log_refuses_updates_and_deletes(client: TestClient, clean_database: str, statement: str) -> None:
    client.delete("/sessions/nothing-here")
    engine = create_sync_engine(sync_url(clean_database))
    try:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_log WHERE actor = 'someone else'")).scalar_one() == 0
    finally:
        engine.dispose()
