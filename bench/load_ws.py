"""Load: 200 concurrent text interviews and 4 streamed voice interviews for 2 minutes on a real uvicorn.

    python bench/load_ws.py [--text 200] [--voice 4] [--seconds 120] [--db sqlite|postgresql]

Prints errors, answers sent vs acknowledged vs stored (lost = acknowledged but not stored), p50/p99
turn latency (text: answer sent -> next question; voice: audio_end -> next question), messages per
second, and the server's RSS before and after (a leak shows as growth between two equal phases).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._servers import LOAD_GENERATOR  # noqa: E402
from tests.live_server import start_server  # noqa: E402

ANSWER = ("In my last role I owned the on-call process. I wrote runbooks, I automated the paging rules and "
          "as a result our incident response time fell by 40 percent within a quarter.")
SPEECH = ROOT / "tests" / "data" / "speech"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_voice_pcm() -> bytes:
    import av  # local: only the voice sessions need it

    container = av.open(str(SPEECH / "clean" / "61-70968-0000.flac"))
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    chunks = [bytes(f.planes[0])[: f.samples * 2] for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    return b"".join(chunks)


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {"text": [], "voice": []}
        self.errors: list[str] = []
        self.sent = self.acked = self.messages = 0
        self.sessions: list[str] = []
        self.acked_ids: dict[str, set[str]] = {}


async def run_session(url: str, kind: str, deadline: float, tally: Tally, pcm: bytes, think_s: float) -> None:
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        while time.monotonic() < deadline:
            await ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment", "question_count": 20}))
            sid = ""
            while True:
                message = json.loads(await ws.recv())
                tally.messages += 1
                if message["type"] == "session_started":
                    sid = message["session_id"]
                    tally.sessions.append(sid)
                    tally.acked_ids[sid] = set()
                if message["type"] == "question":
                    break
            turn = 0
            while time.monotonic() < deadline:
                turn += 1
                msg_id = f"{kind}{turn}"
                tally.sent += 1
                if kind == "text":
                    await asyncio.sleep(think_s)  # the candidate "thinks"; 0.5 s is a stress pace
                    sent = time.perf_counter()
                    await ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": msg_id}))
                else:
                    await ws.send(json.dumps({"type": "audio_start", "sample_rate": 16000, "encoding": "pcm16"}))
                    step = 16000 // 4 * 2
                    for i in range(0, len(pcm), step):  # real time: 250 ms of audio every 250 ms
                        await ws.send(pcm[i:i + step])
                        await asyncio.sleep(0.25)
                    sent = time.perf_counter()
                    await ws.send(json.dumps({"type": "audio_end", "id": msg_id}))
                while True:
                    message = json.loads(await ws.recv())
                    tally.messages += 1
                    if message["type"] == "error":
                        tally.errors.append(message["code"])
                        break
                    if message["type"] in ("question", "session_complete"):
                        tally.latencies[kind].append((time.perf_counter() - sent) * 1000)
                        tally.acked += 1
                        tally.acked_ids[sid].add(msg_id)
                        break
                if message["type"] != "question":
                    break


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def phase(url: str, args: argparse.Namespace, tally: Tally, pcm: bytes, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    tasks = [run_session(url, "text", deadline, tally, pcm, args.think_s) for _ in range(args.text)]
    tasks += [run_session(url, "voice", deadline, tally, pcm, args.think_s) for _ in range(args.voice)]
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, BaseException):
            tally.errors.append(type(outcome).__name__)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--text", type=int, default=200)
    parser.add_argument("--voice", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--think-s", type=float, default=0.5, help="pause before each text answer")
    args = parser.parse_args()
    pcm = load_voice_pcm()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.db"
        server = start_server({"DATABASE_URL": f"sqlite+aiosqlite:///{db}", **LOAD_GENERATOR})
        try:
            pid = server.process.pid
            rss = [rss_mb(pid)]
            tally = Tally()
            started = time.monotonic()
            for _ in range(2):  # two equal halves: memory after each shows growth, if any
                asyncio.run(phase(server.ws, args, tally, pcm, args.seconds / 2))
                rss.append(rss_mb(pid))
            elapsed = time.monotonic() - started
        finally:
            code = server.stop()
        with sqlite3.connect(db) as conn:
            stored: dict[str, set[str]] = {}
            for sid, cid in conn.execute("SELECT session_id, client_message_id FROM answers"):
                stored.setdefault(sid, set()).add(cid)
    lost = sum(len(ids - stored.get(sid, set())) for sid, ids in tally.acked_ids.items())
    print(f"text sessions={args.text} (think {args.think_s:g} s) voice sessions={args.voice} duration={elapsed:.0f} s, "
          f"SQLite, server exit {code}")
    print(f"answers sent={tally.sent} acknowledged={tally.acked} stored={sum(map(len, stored.values()))} lost={lost}")
    print(f"errors={len(tally.errors)} {sorted(set(tally.errors))}")
    for kind, values in tally.latencies.items():
        if values:
            print(f"{kind:5s} turns={len(values):6d} p50={pct(values, .5):8.1f} ms p99={pct(values, .99):8.1f} ms "
                  f"mean={statistics.fmean(values):8.1f} ms")
    print(f"server messages/s={tally.messages / elapsed:.0f}")
    print(f"server RSS MB: start={rss[0]:.0f} after half 1={rss[1]:.0f} after half 2={rss[2]:.0f} "
          f"(growth in half 2: {rss[2] - rss[1]:+.0f} MB)")


if __name__ == "__main__":
    main()
