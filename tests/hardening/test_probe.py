"""Issue 14: every finding of the outside probe, reproduced against a real uvicorn (`python -m app serve`
on 127.0.0.1, no RESEARCH_API_TOKEN, so the loopback rule is in force) and shown fixed.

Row numbers refer to the issue's table. Row 7 (a long Opus clip delaying other sessions'
transcription) is the speech issue's (issue 11); its per-session binary-frame limit is row 13 here.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import http.client
import io
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.hardening.rawclient import RawSocket, http_request
from tests.live_server import ROOT, LiveServer, start_server
from tests.media_paths import portrait_jpeg

ANSWER = "At my last job I led a migration of our billing system and as a result we cut costs by 20 percent."
QUIET = {"STT__ENABLED": "false", "TTS__ENABLED": "false", "SPEECH__ENABLED": "false"}


def _strict(line: str) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")
    return json.loads(line, parse_constant=refuse)


def _recv(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(ws.recv(timeout=30))  # type: ignore[no-any-return]


def _until(ws: ClientConnection, types: set[str]) -> list[dict[str, Any]]:
    out = [_recv(ws)]
    while out[-1]["type"] not in types:
        out.append(_recv(ws))
    return out


def _start(ws: ClientConnection, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment", "question_count": 5} | fields))
    started = _recv(ws)
    assert started["type"] == "session_started", started
    question = _recv(ws)
    assert question["type"] == "question", question
    return started, question


def _alive(ws: ClientConnection, marker: str = "alive") -> None:
    ws.send(json.dumps({"type": "ping", "id": marker}))
    replies = _until(ws, {"pong"})
    assert replies[-1]["reply_to"] == marker
    assert all(r.get("code") != "internal_error" for r in replies), replies


def _error(ws: ClientConnection, raw: str) -> dict[str, Any]:
    """Send a raw frame; its answer must be one typed error (not internal_error); the socket lives on."""
    ws.send(raw)
    reply = _recv(ws)
    assert reply["type"] == "error" and reply["code"] != "internal_error", reply
    _alive(ws)
    return reply


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe") / "probe.db"


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe-log") / "server.log"


@pytest.fixture(scope="module")
def server(db: Path, log_path: Path) -> Iterator[LiveServer]:
    live = start_server({"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "RESEARCH_API_TOKEN": "", **QUIET},
                        timeout=240, log_path=log_path)
    yield live
    assert live.stop() == 0


def _get(server: LiveServer, path: str, headers: list[tuple[str, str]] | None = None) -> tuple[int, bytes]:
    return http_request(server.port, "GET", path, headers)


# --- row 1: lone surrogates -------------------------------------------------------------------------


def test_row1_lone_surrogates_are_refused_at_the_edge_and_nothing_is_committed(server: LiveServer) -> None:
    with connect(server.ws) as ws:
        started, question = _start(ws, participant_id="P-surrogate")
        sid = started["session_id"]
        telemetry = _error(ws, '{"type":"telemetry","event":"x","id":"t1","data":{"k":"\\ud800"}}')
        assert telemetry["code"] == "invalid_message" and telemetry["reply_to"] == "t1"
        in_metrics = '{"type":"user_answer","id":"a1","answer":"@A","metrics":{"\\udc00x":1}}'.replace("@A", ANSWER)
        assert _error(ws, in_metrics)["code"] == "invalid_message"
        assert _error(ws, in_metrics)["code"] == "invalid_message"  # the resend is refused the same way
        in_text = '{"type":"user_answer","id":"a2","answer":"I led \\ud83d it"}'
        assert _error(ws, in_text)["code"] == "invalid_message"
        ws.send(json.dumps({"type": "user_answer", "id": "a3", "answer": ANSWER}))
        replies = _until(ws, {"question", "session_complete"})
        assert replies[-1]["index"] == question["index"] + 1  # the refused answers moved nothing on
    with connect(server.ws) as ws:  # resume replays everything; no internal_error anywhere
        ws.send(json.dumps({"type": "resume_session", "session_id": sid, "resume_token": started["resume_token"],
                            "last_seq": 0}))
        resumed = _recv(ws)
        assert resumed["answered"] == 1 and resumed["question"]["index"] == question["index"] + 1
        replayed = [_recv(ws) for _ in range(resumed["replayed"])]
        assert all(m["type"] != "error" for m in replayed)
    status, body = _get(server, f"/export/session/{sid}")
    assert status == 200
    record = _strict(body.decode())
    assert [a["client_message_id"] for a in record["answers"]] == ["a3"] and record["telemetry"] == []


def test_row1_rows_stored_before_the_fix_cannot_break_an_export_or_a_replay(server: LiveServer, db: Path,
                                                                             tmp_path: Path) -> None:
    with connect(server.ws) as ws:
        started, _ = _start(ws, participant_id="P-legacy")
        ws.send(json.dumps({"type": "telemetry", "event": "probe", "id": "t1", "data": {"k": "ok"}}))
        logged = _recv(ws)
        assert logged["type"] == "telemetry_logged"
    sid = started["session_id"]
    with sqlite3.connect(db) as conn:  # what an older version accepted: a lone surrogate escape and NaN
        conn.execute("UPDATE telemetry_events SET data = ? WHERE session_id = ?", ('{"k": "\\ud800", "n": NaN}', sid))
        conn.execute("UPDATE outbox_messages SET payload = ? WHERE session_id = ? AND seq = ?",
                     (json.dumps({"type": "telemetry_logged", "seq": logged["seq"], "session_id": sid,
                                  "event": "@S"}).replace("@S", "\\udfff"), sid, logged["seq"]))
    with connect(server.ws) as ws:
        ws.send(json.dumps({"type": "resume_session", "session_id": sid, "resume_token": started["resume_token"],
                            "last_seq": 0}))
        resumed = _recv(ws)
        replayed = [_recv(ws) for _ in range(resumed["replayed"])]
        assert replayed[-1] == {**replayed[-1], "type": "telemetry_logged", "event": "\ufffd"}
        _alive(ws)
    status, body = _get(server, f"/export/session/{sid}")
    assert status == 200
    assert _strict(body.decode())["telemetry"][0]["data"] == {"k": "\ufffd", "n": None}
    status, body = _get(server, "/export/sessions")
    assert status == 200
    lines = [_strict(line) for line in body.decode().splitlines()]
    assert sid in {line["session"]["id"] for line in lines} and not any("export_error" in line for line in lines)
    out = tmp_path / "sessions.ndjson"
    cli = subprocess.run([sys.executable, "-m", "app", "export", "--format", "ndjson", "--out", str(out)], cwd=ROOT,
                         env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"}, capture_output=True,
                         timeout=120, text=True)
    assert cli.returncode == 0, cli.stderr
    assert [_strict(line)["session"]["id"] for line in out.read_text().splitlines()] == \
        [line["session"]["id"] for line in lines]


# --- row 2: Host header and Origin (DNS rebinding) --------------------------------------------------------


def test_row2_a_foreign_host_header_is_refused_for_http_and_websocket(server: LiveServer) -> None:
    attacker = [("Host", f"attacker.example:{server.port}")]
    for path in ("/export/sessions", "/export/answers.csv", "/metrics/summary", "/dashboard", "/", "/static/js/app.js",
                 "/ws/interview/schema"):
        status, body = _get(server, path, attacker)
        assert status == 400 and json.loads(body)["error"]["code"] == "invalid_host", (path, status)
    status, _ = http_request(server.port, "DELETE", "/sessions/x", attacker)
    assert status == 400
    status, _ = _get(server, "/export/sessions")
    assert status == 200  # loopback by its own name still works
    status, _ = _get(server, "/export/sessions", [("Host", f"localhost:{server.port}")])
    assert status == 200
    # /health alone answers any Host (no participant data; HAProxy and Kubernetes probes name no allowed host)
    assert _get(server, "/health", attacker)[0] == 200
    rebinding = RawSocket.open(server.port, [*attacker, ("Origin", f"http://attacker.example:{server.port}")])
    assert rebinding.status == 403
    rebinding.close()


@pytest.mark.parametrize(("origin", "accepted"), [
    ("http://127.0.0.1:{port}", True), ("http://localhost:{port}", True),
    ("http://attacker.example:{port}", False), ("https://127.0.0.1:{port}", False),  # scheme differs
    ("http://127.0.0.1:1", False), ("http://127.0.0.1", False),  # another origin on the same machine
    ("null", False),
])
def test_row2_origin_is_compared_with_the_allowlist_scheme_and_port(server: LiveServer, origin: str,
                                                                    accepted: bool) -> None:
    raw = RawSocket.open(server.port, [("Origin", origin.format(port=server.port))])
    assert raw.status == (101 if accepted else 403)
    raw.close()


# --- row 3: proxy headers ---------------------------------------------------------------------------


def test_row3_forwarded_lines_are_not_merged_and_refuse_loopback_access(server: LiveServer) -> None:
    path = "/sessions/nonexistent-session"
    two_lines = [("Forwarded", "for=127.0.0.1"), ("Forwarded", "for=8.8.8.8")]
    status, body = http_request(server.port, "DELETE", path, two_lines)
    assert status == 403 and json.loads(body)["error"]["code"] == "research_loopback_only"
    # X-Forwarded-For from a trusted proxy (FORWARDED_ALLOW_IPS = 127.0.0.1): uvicorn's middleware
    # reads every line and the client becomes the address the proxy appended.
    for headers in ([("X-Forwarded-For", "8.8.8.8")], [("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "8.8.8.8")],
                    [("X-Forwarded-For", "8.8.8.8, 127.0.0.1")]):
        status, _ = http_request(server.port, "DELETE", path, headers)
        assert status == 403, headers
    status, _ = http_request(server.port, "DELETE", path, [("X-Forwarded-For", "127.0.0.1")])
    assert status == 204
    status, _ = http_request(server.port, "DELETE", path)
    assert status == 204


def test_row3_the_report_applies_the_same_loopback_rule(server: LiveServer) -> None:
    with connect(server.ws) as ws:
        started, _ = _start(ws)
        ws.send(json.dumps({"type": "end_session"}))
        _until(ws, {"session_ended"})
    path = f"/sessions/{started['session_id']}/report.json"
    assert http_request(server.port, "GET", path)[0] == 200  # loopback researcher, no token configured
    for headers in ([("Forwarded", "for=127.0.0.1"), ("Forwarded", "for=8.8.8.8")], [("X-Forwarded-For", "8.8.8.8")]):
        assert http_request(server.port, "GET", path, headers)[0] == 401, headers
    assert http_request(server.port, "GET", path, [("Authorization", f"Bearer {started['resume_token']}"),
                                                   ("Forwarded", "for=8.8.8.8")])[0] == 200  # the participant's own


# --- row 4: a 10 MB metrics value ---------------------------------------------------------------------


def test_row4_each_metrics_value_is_bounded(server: LiveServer, db: Path) -> None:
    with connect(server.ws, max_size=None) as ws:
        started, _ = _start(ws)
        huge = json.dumps({"type": "user_answer", "id": "big", "answer": ANSWER, "metrics": {"blob": "x" * 10_000_000}})
        reply = _error(ws, huge)
        assert reply["code"] == "metric_too_large" and reply["reply_to"] == "big"
        many = {f"k{i}": "y" * 900 for i in range(20)}  # 20 values of 900 bytes: within every limit
        ws.send(json.dumps({"type": "user_answer", "id": "ok", "answer": ANSWER, "metrics": many}))
        metrics = _until(ws, {"answer_metrics"})[-1]
        assert metrics["client_metrics"] == many
    with sqlite3.connect(db) as conn:
        sizes = conn.execute("SELECT length(client_metrics) FROM answers WHERE session_id = ?",
                             (started["session_id"],)).fetchall()
        outbox = conn.execute("SELECT max(length(payload)) FROM outbox_messages WHERE session_id = ?",
                              (started["session_id"],)).fetchone()[0]
    assert len(sizes) == 1 and sizes[0][0] < 30_000 and outbox < 40_000


# --- row 8: participant ids cannot be squatted -----------------------------------------------------------


def test_row8_a_participant_id_cannot_be_squatted(server: LiveServer) -> None:
    with connect(server.ws) as victim:
        own, _ = _start(victim, participant_id="P-victim")
    with contextlib.ExitStack() as stack:
        squatters = [stack.enter_context(connect(server.ws)) for _ in range(3)]
        for ws in squatters:
            _start(ws, participant_id="P-victim")  # a label anyone can type: it claims nothing
        with connect(server.ws) as victim:
            _start(victim, participant_id="P-victim")
        resumes = [stack.enter_context(connect(server.ws)) for _ in range(4)]  # one over EDGE__MAX_SOCKETS_PER_SESSION
        for ws in resumes:
            ws.send(json.dumps({"type": "resume_session", "session_id": own["session_id"],
                                "resume_token": own["resume_token"]}))
            assert _recv(ws)["type"] == "session_resumed"  # a valid resume always works
        assert _recv(resumes[0])["code"] == "superseded"  # the oldest gave way
        with pytest.raises(ConnectionClosed) as closed:
            resumes[0].recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        for ws in resumes[1:]:
            _alive(ws)


# --- row 9: deep nesting -----------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [20, 900, 1000, 100_000])
def test_row9_deep_nesting_is_a_typed_error_without_a_traceback(server: LiveServer, log_path: Path, depth: int) -> None:
    before = log_path.read_text(errors="replace").count("Traceback")
    nested = "[" * depth + "]" * depth
    with connect(server.ws) as ws:
        _start(ws)
        for raw in ('{"type":"telemetry","event":"x","data":{"d":@N}}'.replace("@N", nested), nested,
                    '{"type":"ping","id":@N}'.replace("@N", nested)):
            assert _error(ws, raw)["code"] in {"invalid_json", "invalid_message"}
    assert log_path.read_text(errors="replace").count("Traceback") == before


# --- row 10: NaN and Infinity ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_row10_non_finite_numbers_are_refused_and_exports_are_strict_json(server: LiveServer, value: str) -> None:
    with connect(server.ws) as ws:
        _start(ws)
        raw = '{"type":"telemetry","event":"x","data":{"v":@V}}'.replace("@V", value)
        assert _error(ws, raw)["code"] == "invalid_message"
        raw = '{"type":"user_answer","answer":"@A","metrics":{"m":@V}}'.replace("@A", ANSWER).replace("@V", value)
        assert _error(ws, raw)["code"] == "invalid_message"
    status, body = _get(server, "/export/sessions")
    assert status == 200
    for line in body.decode().splitlines():
        _strict(line)


# --- row 11: CSV formula prefixes --------------------------------------------------------------------


def test_row11_csv_cells_with_formula_prefixes_are_neutralised(server: LiveServer) -> None:
    ids = ["-2-3", "-A1:B2", "P-plain"]
    for pid in ids:
        with connect(server.ws) as ws:
            _start(ws, participant_id=pid)
            ws.send(json.dumps({"type": "user_answer", "answer": ANSWER}))
            _until(ws, {"question", "session_complete"})
    status, body = _get(server, "/export/answers.csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    written = {r["participant_id"] for r in rows}
    assert {"'-2-3", "'-A1:B2", "P-plain"} <= written and not written & {"-2-3", "-A1:B2"}
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for r in rows for cell in r.values())
    status, body = _get(server, "/export/codebook.json")
    assert "OWASP" in json.loads(body)["encoding"]["text"]


# --- row 12: EXIF orientation --------------------------------------------------------------------------


def test_row12_an_exif_rotated_camera_frame_is_analysed_upright(server: LiveServer) -> None:
    face = Image.open(io.BytesIO(portrait_jpeg())).convert("RGB")
    upright = face.crop((0, 20, face.width, face.height - 20))  # not square, so a sideways frame differs
    assert upright.width != upright.height
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display": the pixels are stored sideways
    buffer = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buffer, "JPEG", quality=90, exif=exif)
    with connect(server.ws) as ws:
        _start(ws)
        ws.send(json.dumps({"type": "video_frame", "id": "f1", "image": base64.b64encode(buffer.getvalue()).decode()}))
        reply = _until(ws, {"head_pose", "error"})[-1]
        assert reply["type"] == "head_pose", reply
        assert reply["face_detected"] is True and abs(reply["roll"]) < 20, reply


# --- row 13: binary frames and HTTP check-ins ------------------------------------------------------------


def test_row13_unexpected_binary_frames_are_answered_once_then_the_socket_is_closed(server: LiveServer) -> None:
    with connect(server.ws) as ws:
        _start(ws)
        for _ in range(2000):
            try:
                ws.send(b"\x00\x01" * 160)
            except ConnectionClosed:
                break
        replies = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                replies.append(_recv(ws))
        assert [r["code"] for r in replies] == ["unexpected_binary"]
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_row13_http_checkins_share_the_sockets_limit(server: LiveServer) -> None:
    with connect(server.ws) as ws:
        started, _ = _start(ws)
        statuses = []
        began = time.monotonic()
        for i in range(200):
            body = json.dumps({"session_id": started["session_id"], "resume_token": started["resume_token"],
                               "confidence": 4, "stress": 3, "id": f"c{i}"}).encode()
            status, _ = http_request(server.port, "POST", "/checkins", [("Content-Type", "application/json")], body)
            statuses.append(status)
        elapsed = time.monotonic() - began
        # a burst of a minute's allowance (30), then 30 per minute: what refilled while the loop ran
        assert 30 <= statuses.count(201) <= 30 + elapsed / 2 + 1 and set(statuses) == {201, 429}, (statuses, elapsed)
        codes = []
        for _ in range(5):  # this socket sent no check-in yet: only the shared per-session budget refuses
            ws.send(json.dumps({"type": "checkin", "confidence": 4, "stress": 3}))
            codes.append(_recv(ws).get("code"))
        assert codes.count("rate_limited") >= 3, codes


def test_row13_http_checkins_refuse_hostile_values_with_422(server: LiveServer) -> None:
    for body in ('{"session_id":"\\ud800","resume_token":"x","confidence":4,"stress":3}',
                 '{"session_id":"s","resume_token":"x","confidence":NaN,"stress":3}',
                 '{"session_id":"s\\u0000","resume_token":"x","confidence":4,"stress":3}',
                 '{"session_id":@N,"resume_token":"x","confidence":4,"stress":3}'.replace("@N", "[" * 900 + "]" * 900)):
        status, reply = http_request(server.port, "POST", "/checkins", [("Content-Type", "application/json")],
                                     body.encode())
        assert status in {400, 422}, (status, reply[:300])
        json.loads(reply)


# --- row 14: CSP -------------------------------------------------------------------------------------


def test_row14_pages_have_a_csp_without_unsafe_inline_and_cannot_be_framed(server: LiveServer) -> None:
    for path in ("/", "/dashboard"):
        conn_status, headers, body = _page(server, path)
        assert conn_status == 200
        csp = headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, csp
        html = body.decode()
        assert "<script>" not in html and "style=" not in html and "<style" not in html  # nothing inline to allow


def _page(server: LiveServer, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


# --- rows 5 and 6: their own servers (small limits) ---------------------------------------------------------


def test_row5_a_client_that_does_not_read_is_closed_and_released(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}", "EDGE__SEND_TIMEOUT_S": "2",
           "EDGE__RATE_LIMITS_PER_MINUTE": json.dumps({"*": 100_000}), **QUIET, "HEAD_POSE__ENABLED": "false"}
    server = start_server(env, timeout=240)
    try:
        metrics = {f"m{i}": "z" * 1000 for i in range(30)}  # ~30 KB per answer_metrics: a large replay
        with connect(server.ws) as ws:
            started, _ = _start(ws, question_count=20)
            for i in range(20):
                ws.send(json.dumps({"type": "user_answer", "id": f"a{i}", "answer": ANSWER, "metrics": metrics}))
                if _until(ws, {"question", "session_complete"})[-1]["type"] == "session_complete":
                    break
            last = started["session_id"], started["resume_token"]
        slow = RawSocket.open(server.port, rcvbuf=4096)
        assert slow.status == 101
        resume = json.dumps({"type": "resume_session", "session_id": last[0], "resume_token": last[1], "last_seq": 0})
        for _ in range(30):  # ~30 replays of ~0.6-1.2 MB: far beyond what socket buffers hold
            slow.send_text(resume)
        started_at = time.monotonic()
        time.sleep(8)  # never reading meanwhile: the server gives up after EDGE__SEND_TIMEOUT_S
        total, code = slow.read_until_closed(timeout=60)
        slow.close()
        assert time.monotonic() - started_at < 60
        assert code in {None, 1008, 1013}  # a close frame cannot reach a client that does not read
        assert total < 10_000_000, total  # only what the buffers held was delivered; the rest was dropped
        with connect(server.ws) as ws:  # the service is fine
            _alive(ws)
    finally:
        assert server.stop() == 0


def test_row6_sockets_and_new_sessions_are_capped_per_client_address(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'caps.db'}", "EDGE__MAX_SOCKETS_PER_CLIENT": "10",
           "EDGE__SESSIONS_PER_CLIENT_PER_HOUR": "5", **QUIET, "HEAD_POSE__ENABLED": "false"}
    server = start_server(env, timeout=240)
    stack = contextlib.ExitStack()
    opened: list[ClientConnection] = []
    try:
        refused = 0
        for _ in range(200):
            ws = stack.enter_context(connect(server.ws))
            opened.append(ws)
            try:
                _alive(ws)
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 1013
                refused += 1
        assert refused == 190
        codes = []
        for k, ws in enumerate(opened[:8]):
            ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "control",
                                "participant_id": f"P-{k}"}))
            codes.append(_recv(ws).get("code", "started"))
        assert codes == ["started"] * 5 + ["too_many_sessions"] * 3
        # Another client behind the trusted local proxy (uvicorn's X-Forwarded-For handling) has its own caps.
        with connect(server.ws, additional_headers={"X-Forwarded-For": "203.0.113.7"}) as other:
            _start(other)
    finally:
        stack.close()
        assert server.stop() == 0


def test_row6_the_cap_frees_when_sockets_close(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'caps2.db'}", "EDGE__MAX_SOCKETS_PER_CLIENT": "2",
           **QUIET, "HEAD_POSE__ENABLED": "false"}
    server = start_server(env, timeout=240)
    try:
        for _ in range(5):
            with connect(server.ws) as a, connect(server.ws) as b:
                _alive(a)
                _alive(b)
            time.sleep(1.0)  # the server releases a closed socket's slot when its handler returns
        with connect(server.ws) as c:
            _alive(c)
    finally:
        assert server.stop() == 0


def test_row2_a_websocket_library_sees_403_for_a_foreign_origin(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused, connect(server.ws, origin="http://attacker.example"):  # type: ignore[arg-type]
        pass
    assert refused.value.response.status_code == 403
