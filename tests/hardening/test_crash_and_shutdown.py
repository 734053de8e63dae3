"""kill -9 mid-session and SIGTERM mid-answer against a real uvicorn: no acknowledged answer is lost."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.live_server import start_server

ANSWER = "At my last job I led a migration of our billing system and as a result we cut costs by 20 percent."


def _start(ws: ClientConnection, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment", "question_count": 6} | fields))
    started = json.loads(ws.recv(timeout=30))
    question = json.loads(ws.recv(timeout=30))
    return started, question


def _answer(ws: ClientConnection, msg_id: str) -> list[dict[str, Any]]:
    ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": msg_id}))
    replies = []
    while not replies or replies[-1]["type"] not in {"question", "session_complete", "error"}:
        replies.append(json.loads(ws.recv(timeout=30)))
    return replies


def _stored_answer_ids(db: Path, session_id: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT client_message_id FROM answers WHERE session_id = ?", (session_id,)).fetchall()
    return {r[0] for r in rows}


def test_kill_9_mid_session_then_resume(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    server = start_server(env)
    acknowledged: list[str] = []
    with connect(server.ws) as ws:
        started, _ = _start(ws)
        for i in range(2):
            replies = _answer(ws, f"a{i}")
            assert replies[-1]["type"] == "question"
            acknowledged.append(f"a{i}")
        last_seq = replies[-1]["seq"]
        ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": "a2"}))  # in flight when killed
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
    restarted = start_server(env, port=server.port)
    try:
        assert set(acknowledged) <= _stored_answer_ids(db, started["session_id"])
        with connect(restarted.ws) as ws:
            ws.send(json.dumps({"type": "resume_session", "session_id": started["session_id"],
                                "resume_token": started["resume_token"], "last_seq": last_seq}))
            resumed = json.loads(ws.recv(timeout=30))
            assert resumed["type"] == "session_resumed" and resumed["replay_complete"]
            replayed = [json.loads(ws.recv(timeout=30)) for _ in range(resumed["replayed"])]
            assert [m["seq"] for m in replayed] == list(range(last_seq + 1, last_seq + 1 + len(replayed)))
            # the in-flight answer either committed (its replies are replayed) or not (resend it): never both
            replies = _answer(ws, "a2")
            assert replies[-1]["type"] == "question"
            if replayed:
                assert replies == replayed
            replies = _answer(ws, "a3")
            assert replies[-1]["type"] == "question"
        assert {"a0", "a1", "a2", "a3"} == _stored_answer_ids(db, started["session_id"])
    finally:
        assert restarted.stop() == 0


def test_sigterm_with_20_sessions_mid_answer(tmp_path: Path) -> None:
    db = tmp_path / "shutdown.db"
    server = start_server({"DATABASE_URL": f"sqlite+aiosqlite:///{db}"})
    sessions = 20
    ready = threading.Barrier(sessions + 1)
    results: list[dict[str, Any]] = [{} for _ in range(sessions)]

    def participant(k: int) -> None:
        acked: list[str] = []
        with connect(server.ws) as ws:
            started, _ = _start(ws)
            results[k]["session_id"] = started["session_id"]
            replies = _answer(ws, "first")
            acked.append("first")
            ready.wait(timeout=60)
            try:
                ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": "second"}))
                while True:
                    message = json.loads(ws.recv(timeout=60))
                    if message["type"] == "question" and message.get("reply_to") == "second":
                        acked.append("second")
            except ConnectionClosed as closed:
                results[k]["close"] = closed.rcvd.code if closed.rcvd else None
        results[k]["acked"] = acked
        results[k]["first_replies"] = replies

    threads = [threading.Thread(target=participant, args=(k,)) for k in range(sessions)]
    for t in threads:
        t.start()
    ready.wait(timeout=120)
    started = time.monotonic()
    code = server.stop(signal.SIGTERM, timeout=60)
    elapsed = time.monotonic() - started
    for t in threads:
        t.join(timeout=60)
    assert code == 0
    assert elapsed < 25 + 5
    for result in results:
        assert result["close"] == 1012, result.get("close")
        assert set(result["acked"]) <= _stored_answer_ids(db, result["session_id"]), result
