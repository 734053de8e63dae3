"""Turn latency of N concurrent text interviews against a bare FastAPI echo WebSocket, in one run.

    python bench/ws_turns.py [--sessions 50] [--turns 5] [--think-ms 0]

Both servers run as real uvicorn processes on 127.0.0.1; the same client process drives them.
Our turn: `user_answer` sent -> next `question` (or `session_complete`) received, with the answer
committed to the database. Echo turn: the same JSON sent -> echoed back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._servers import uvicorn_server

ANSWER = ("At my previous job our releases were manual and slow. My task was to fix that. I wrote a deployment "
          "script and set up automated tests, and as a result we cut release time by 60 percent.")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def service_session(url: str, turns: int, think_s: float, out: list[float]) -> None:
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment",
                                  "question_count": turns}))
        while json.loads(await ws.recv())["type"] != "question":
            pass
        for i in range(turns):
            await asyncio.sleep(think_s * random.uniform(0.5, 1.5))  # jitter: candidates are not in lockstep
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": f"a{i}"}))
            kind = ""
            while kind not in ("question", "session_complete", "error"):
                kind = json.loads(await ws.recv())["type"]
            out.append((time.perf_counter() - sent) * 1000)
            if kind != "question":
                return


async def echo_session(url: str, turns: int, think_s: float, out: list[float]) -> None:
    payload = json.dumps({"type": "user_answer", "answer": ANSWER, "id": "a"})
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        for _ in range(turns):
            await asyncio.sleep(think_s * random.uniform(0.5, 1.5))
            sent = time.perf_counter()
            await ws.send(payload)
            await ws.recv()
            out.append((time.perf_counter() - sent) * 1000)


async def run(kind: str, url: str, sessions: int, turns: int, think_s: float) -> list[float]:
    samples: list[float] = []
    session = service_session if kind == "service" else echo_session
    await asyncio.gather(*(session(url, turns, think_s, samples) for _ in range(sessions)))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--think-ms", type=float, default=0.0, help="mean pause before each answer (±50 %% jitter)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of each server")
    args = parser.parse_args()
    think = args.think_ms / 1000
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "LOG_LEVEL": "WARNING", "NVIDIA_API_KEY": ""}
        with uvicorn_server("app.main:create_app", env) as service, uvicorn_server("bench.echo_app:create_echo_app") as echo:
            results: dict[str, list[float]] = {"service": [], "echo": []}
            for _ in range(args.rounds):  # alternate so drift on a noisy machine hits both
                for kind, base in (("echo", echo), ("service", service)):
                    path = "/ws" if kind == "echo" else "/ws/interview"
                    results[kind] += asyncio.run(run(kind, base.replace("http", "ws") + path, args.sessions, args.turns, think))
    print(f"sessions={args.sessions} turns/session={args.turns} think={args.think_ms:.0f} ms, SQLite")
    for kind, values in results.items():
        print(f"{kind:8s} n={len(values):5d}  p50={pct(values, 0.5):8.2f} ms  p99={pct(values, 0.99):8.2f} ms  "
              f"mean={statistics.fmean(values):8.2f} ms")
    print(f"ratio service/echo: p50 {pct(results['service'], 0.5) / pct(results['echo'], 0.5):.2f}x  "
          f"p99 {pct(results['service'], 0.99) / pct(results['echo'], 0.99):.2f}x  (goal p50 <= 3x)")


if __name__ == "__main__":
    main()
