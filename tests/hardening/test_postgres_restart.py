"""PostgreSQL restarts under a running service: the pool (pre-ping) recovers, nothing is lost.

A private PostgreSQL cluster is started for this test (initdb in a temp folder, its own port), so
restarting it disturbs nothing else on the machine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.live_server import free_port, start_server

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
ANSWER = "At my last job I led a database migration, and as a result our reports ran four times faster."


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True, capture_output=True, timeout=120)


@pytest.fixture
def private_postgres() -> Iterator[tuple[Path, int]]:
    assert PG_BIN is not None, "PostgreSQL server binaries are missing (Debian package postgresql)"
    # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    tmp_path = Path(tempfile.mkdtemp(prefix="pg-restart-"))
    data = tmp_path / "pgdata"
    data.mkdir()
    subprocess.run(["chown", "-R", "postgres", str(tmp_path)], check=True)
    port = free_port()
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    start = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-o", f"-p {port} -k {tmp_path} -c listen_addresses=127.0.0.1"]
    _as_postgres(*start, "-l", str(tmp_path / "pg.log"), "start")
    try:
        yield data, port
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60)
        shutil.rmtree(tmp_path, ignore_errors=True)


def _answer(ws: object, msg_id: str) -> dict[str, object]:
    ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": msg_id}))  # type: ignore[attr-defined]
    while True:
        message = json.loads(ws.recv(timeout=60))  # type: ignore[attr-defined]
        if message["type"] in {"question", "session_complete", "error"}:
            return message


def test_service_recovers_after_postgres_restart(private_postgres: tuple[Path, int]) -> None:
    data, port = private_postgres
    sockets = data.parent
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    server = start_server({"DATABASE_URL": url, "TTS__ENABLED": "false", "STT__ENABLED": "false",
                           "HEAD_POSE__ENABLED": "false", "SPEECH__ENABLED": "false"})
    try:
        with connect(server.ws) as ws:
            ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "control", "question_count": 8}))
            started = json.loads(ws.recv(timeout=30))
            ws.recv(timeout=30)
            assert _answer(ws, "before")["type"] == "question"
            pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-w"]  # type: ignore[operator]
            _as_postgres(*pg_ctl, "-m", "fast", "stop")
            down = _answer(ws, "while-down")
            assert down["type"] == "error" and down["code"] == "database_unavailable"  # the socket stays open
            _as_postgres(*pg_ctl, "-o", f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1",
                         "-l", str(sockets / "pg2.log"), "start")
            again = _answer(ws, "while-down")  # the client resends; the pool reconnects (pre-ping)
            assert again["type"] == "question", again
            assert _answer(ws, "after")["type"] == "question"
        with connect(server.ws) as ws:
            ws.send(json.dumps({"type": "resume_session", "session_id": started["session_id"],
                                "resume_token": started["resume_token"]}))
            resumed = json.loads(ws.recv(timeout=30))
            assert resumed["type"] == "session_resumed" and resumed["answered"] == 3
    finally:
        assert server.stop() == 0
