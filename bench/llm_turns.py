"""Turn latency with the LLM coach, against a stub chat-completions server, in one run.

    python bench/llm_turns.py [--sessions 4] [--turns 6] [--deadline 2.0] [--delays 0.25,0.5,1.0]

The service and the stub LLM run as real uvicorn processes on 127.0.0.1. A turn is
`user_answer` sent -> next `question` (or `session_complete`) received, answer committed.
Cases: heuristics only (no key); the stub answering in a fixed time d (our overhead is
turn - d); the stub hanging (the turn must take the deadline plus a small margin).
The circuit breaker is set out of reach so that every hung turn really waits for the deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._servers import uvicorn_server
from bench.ws_turns import ANSWER, pct


def control(stub: str, **scenario: object) -> None:
    request = urllib.request.Request(stub + "/control", data=json.dumps(scenario).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=5).read()


async def session(url: str, turns: int, out: list[float]) -> None:
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment",
                                  "question_count": turns, "role": "Data engineer"}))
        while json.loads(await ws.recv())["type"] != "question":
            pass
        for i in range(turns):
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": f"a{i}"}))
            kind = ""
            while kind not in ("question", "session_complete", "error"):
                kind = json.loads(await ws.recv())["type"]
            out.append(time.perf_counter() - sent)
            if kind != "question":
                return


async def run(url: str, sessions: int, turns: int) -> list[float]:
    samples: list[float] = []
    await asyncio.gather(*(session(url, turns, samples) for _ in range(sessions)))
    return samples


def row(name: str, values: list[float], reference: float | None) -> str:
    p50, p95, top = pct(values, 0.5), pct(values, 0.95), max(values)
    line = f"{name:28s} n={len(values):4d}  p50={p50 * 1000:8.1f}  p95={p95 * 1000:8.1f}  max={top * 1000:8.1f} ms"
    if reference is not None:
        line += f"   minus {reference:.2f} s: p50 {(p50 - reference) * 1000:+7.1f}  max {(top - reference) * 1000:+7.1f} ms"
        line += f"   ratio p50 {p50 / reference:.3f}x"
    return line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=4, help="concurrent interviews")
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--deadline", type=float, default=2.0, help="COACH__TURN_DEADLINE_S")
    parser.add_argument("--delays", default="0.25,0.5,1.0", help="stub answer times (s), each below the deadline")
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    lines = [f"sessions={args.sessions} (concurrent) turns/session={args.turns} deadline={args.deadline:.2f} s, SQLite"]
    with tempfile.TemporaryDirectory() as tmp, uvicorn_server("tests.llm.stub_llm:create_stub_app") as stub:
        base_env = {"LOG_LEVEL": "WARNING", "NVIDIA_LLM_URL": stub + "/v1", "NVIDIA_LLM_MODEL": "stub/bench",
                    "COACH__TURN_DEADLINE_S": str(args.deadline), "LLM__BREAKER_FAILURES": "1000000"}
        with uvicorn_server("app.main:create_app", base_env | {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/heuristic.db", "NVIDIA_API_KEY": ""}) as service:
            ws_url = service.replace("http", "ws") + "/ws/interview"
            asyncio.run(run(ws_url, 1, 2))  # warm-up
            lines.append(row("heuristics only (no key)", asyncio.run(run(ws_url, args.sessions, args.turns)), None))
        with uvicorn_server("app.main:create_app", base_env | {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/llm.db", "NVIDIA_API_KEY": "bench"}) as service:
            ws_url = service.replace("http", "ws") + "/ws/interview"
            control(stub, reply="good")
            asyncio.run(run(ws_url, 1, 2))
            for delay in delays:
                control(stub, reply="good", delay_s=delay)
                lines.append(row(f"LLM answers in {delay:.2f} s", asyncio.run(run(ws_url, args.sessions, args.turns)), delay))
            control(stub, reply="good", delay_s=3600)
            lines.append(row("LLM hangs", asyncio.run(run(ws_url, args.sessions, args.turns)), args.deadline))
            control(stub, reply="good")
    print("\n".join(lines))
    print("(minus: turn latency minus the LLM time, i.e. our overhead; for the hang, minus the deadline)")


if __name__ == "__main__":
    main()
