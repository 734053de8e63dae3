"""Sockets that ask for large replays and never read (issue 14, probe row 5): server memory and closes.

    python bench/slow_readers.py [--sockets 8] [--resumes 30] [--watch-s 20]

One session gets ~20 answers with ~30 KB of client metrics each (a replay of ~0.7 MB); then each of
`--sockets` raw sockets with a 4 KB receive buffer sends `--resumes` resume_session {last_seq: 0} and
never reads. Printed: the server's RSS before, at its peak and at the end of `--watch-s`, how many
sockets the server closed by then, and how many bytes reached them (what socket buffers held).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._servers import LOAD_GENERATOR  # noqa: E402
from tests.hardening.rawclient import RawSocket  # noqa: E402
from tests.live_server import start_server  # noqa: E402

ANSWER = "At my last job I led a migration of our billing system and as a result we cut costs by 20 percent."


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=8)
    parser.add_argument("--resumes", type=int, default=30)
    parser.add_argument("--watch-s", type=float, default=20.0)
    parser.add_argument("--send-timeout-s", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/slow.db", **LOAD_GENERATOR,
               "EDGE__SEND_TIMEOUT_S": str(args.send_timeout_s), "EDGE__RATE_LIMITS_PER_MINUTE": json.dumps({"*": 10**6}),
               "STT__ENABLED": "false", "TTS__ENABLED": "false", "SPEECH__ENABLED": "false", "HEAD_POSE__ENABLED": "false"}
        server = start_server(env, timeout=240)
        try:
            metrics = {f"m{i}": "z" * 1000 for i in range(30)}
            with connect(server.ws) as ws:
                ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment",
                                    "question_count": 20}))
                started = json.loads(ws.recv(timeout=30))
                ws.recv(timeout=30)
                for i in range(40):
                    ws.send(json.dumps({"type": "user_answer", "id": f"a{i}", "answer": ANSWER, "metrics": metrics}))
                    kinds = []
                    while not kinds or kinds[-1] not in {"question", "session_complete"}:
                        kinds.append(json.loads(ws.recv(timeout=60))["type"])
                    if kinds[-1] == "session_complete":
                        break
            resume = json.dumps({"type": "resume_session", "session_id": started["session_id"],
                                 "resume_token": started["resume_token"], "last_seq": 0})
            with connect(server.ws, max_size=None) as ws:  # the size of one replay
                ws.send(resume)
                first = json.loads(ws.recv(timeout=30))
                replay_bytes = sum(len(ws.recv(timeout=30)) for _ in range(first["replayed"]))
            pid = server.process.pid
            before = rss_mb(pid)
            slow = [RawSocket.open(server.port, rcvbuf=4096) for _ in range(args.sockets)]
            for sock in slow:
                for _ in range(args.resumes):
                    sock.send_text(resume)
            began = time.monotonic()
            peak = before
            while time.monotonic() - began < args.watch_s:
                peak = max(peak, rss_mb(pid))
                time.sleep(0.5)
            after = rss_mb(pid)
            closed, delivered = 0, 0
            for sock in slow:
                total, _ = sock.read_until_closed(timeout=2.0)
                delivered += total
                sock.sock.settimeout(0.5)
                try:
                    closed += sock.sock.recv(1) == b""
                except (TimeoutError, OSError):
                    pass
                sock.close()
            asked = args.sockets * args.resumes * replay_bytes
            print(f"replay {replay_bytes / 1e6:.2f} MB; {args.sockets} sockets x {args.resumes} resumes = "
                  f"{asked / 1e6:.0f} MB asked for, never read for {args.watch_s:.0f} s "
                  f"(EDGE__SEND_TIMEOUT_S={args.send_timeout_s:g})")
            print(f"server RSS: before {before:.0f} MB, peak {peak:.0f} MB (+{peak - before:.0f}), "
                  f"after {after:.0f} MB (+{after - before:.0f})")
            print(f"closed by the server within {args.watch_s:.0f} s: {closed}/{args.sockets}; "
                  f"bytes delivered to them: {delivered / 1e6:.1f} MB")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
