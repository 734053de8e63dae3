"""Scaling figures, in one run on this machine (issue 16):

1. the Ray Serve hop: the same engine called in-process and through a Serve deployment handle
   (a local Ray on 127.0.0.1, one replica each), interleaved call by call: STT of a 10 s answer
   (goal <= 1.15x), TTS of one sentence, head pose of one webcam frame;
2. text turns/s and turn latency (p50/p95) for 1 and 2 service instances on one PostgreSQL
   database, each instance a real `python -m app serve` process (engines off, heuristic coach:
   the database path is what is measured).

    python bench/scale.py [--stt-rounds 8] [--sessions 16] [--turns 8] [--skip-ray] [--skip-db]

Both parts share two CPU cores here with the client: the figures are per-call costs and a
database-bound turn rate, the inputs of the capacity model in docs/operations-capacity.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import websockets

ANSWER = ("At my previous job our releases were manual and slow. My task was to fix that. I wrote a deployment "
          "script and set up automated tests, and as a result we cut release time by 60 percent.")
SENTENCE = "Tell me about a time you had to deliver difficult news to a stakeholder."


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- 1. the Ray hop -------------------------------------------------------------------------


async def _interleaved(rounds: int, local: Callable[[], Awaitable[Any]], remote: Callable[[], Awaitable[Any]]
                       ) -> tuple[list[float], list[float]]:
    """Alternate local and remote calls (order flipped every round) so drift hits both."""
    local_ms: list[float] = []
    remote_ms: list[float] = []
    for r in range(rounds):
        pair = [(local, local_ms), (remote, remote_ms)]
        for call, out in pair if r % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            await call()
            out.append((time.perf_counter() - started) * 1000)
    return local_ms, remote_ms


def ray_hop(stt_rounds: int, small_rounds: int) -> dict[str, tuple[float, float]]:
    import ray
    from ray import serve

    from app.inference.head_pose.factory import build_head_pose
    from app.inference.ray_serve.client import RayCluster, RayHeadPose, RaySpeechToText, RayTts
    from app.inference.stt.factory import build_stt
    from app.inference.tts.factory import build_tts
    from app.settings import Settings
    from tests.inference.speech_helpers import SPEECH, load
    from tests.media_paths import portrait_jpeg

    # Each replica reserves the CPUs its engine's threads use (Ray sets OMP_NUM_THREADS from num_cpus), as
    # the in-process engine may use them too; the Ray node's CPUs are logical, both run on the same 2 cores.
    settings = Settings(inference={"backend": "ray", "ray_address": "local", "app_prefix": "bench",  # type: ignore[call-arg]
                                   "stt": {"num_cpus": 2}, "head_pose": {"num_cpus": 1}, "tts": {"num_cpus": 1}})
    audio = load(SPEECH / "clean" / "jfk.flac")[: 10 * 16_000]  # a 10 s answer
    image = portrait_jpeg()
    ray.init(address="local", num_cpus=4, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, configure_logging=False)
    results: dict[str, tuple[float, float]] = {}

    async def measure() -> None:
        cluster = RayCluster(settings, ["stt", "head_pose", "tts"])
        remote_stt, remote_pose, remote_tts = RaySpeechToText(cluster), RayHeadPose(cluster), RayTts(cluster)
        for engine in (remote_stt, remote_pose, remote_tts):
            await engine.warm()
        local_stt, local_pose, local_tts = build_stt(settings), build_head_pose(settings), build_tts(settings)
        assert local_stt is not None and local_pose is not None and local_tts is not None
        for engine in (local_stt, local_pose, local_tts):
            await engine.warm()  # type: ignore[attr-defined]
        cases: list[tuple[str, int, Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]] = [
            ("stt_10s", stt_rounds, lambda: local_stt.transcribe(audio), lambda: remote_stt.transcribe(audio)),
            ("tts_sentence", small_rounds, lambda: local_tts.synthesize(SENTENCE), lambda: remote_tts.synthesize(SENTENCE)),
            ("head_pose_frame", small_rounds, lambda: local_pose.estimate(image), lambda: remote_pose.estimate(image)),
        ]
        for name, rounds, local, remote in cases:
            await _interleaved(2, local, remote)  # settle caches, JIT, thread pools
            local_ms, remote_ms = await _interleaved(rounds, local, remote)
            results[name] = (statistics.median(local_ms), statistics.median(remote_ms))
        # The hop alone: each STT reply says how long the replica worked on it; the rest is the hop.
        hops = []
        for _ in range(stt_rounds):
            started = time.perf_counter()
            transcript = await remote_stt.transcribe(audio)
            hops.append((time.perf_counter() - started) * 1000 - transcript.extras["replica_ms"])
        results["stt_10s_hop_only"] = (results["stt_10s"][0], results["stt_10s"][0] + statistics.median(hops))
        for engine in (local_stt, local_pose, local_tts, remote_stt):
            await engine.aclose()  # type: ignore[attr-defined]

    try:
        asyncio.run(measure())
    finally:
        serve.shutdown()
        ray.shutdown()
    return results


# --- 2. instances on PostgreSQL ---------------------------------------------------------------


async def _participant(url: str, turns: int, out: list[float]) -> None:
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment",
                                  "question_count": turns}))
        while json.loads(await ws.recv())["type"] != "question":
            pass
        for i in range(turns):
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": f"a{i}"}))
            kind = ""
            while kind not in ("question", "session_complete", "error"):
                kind = json.loads(await ws.recv())["type"]
            assert kind != "error"
            out.append((time.perf_counter() - sent) * 1000)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of these processes so far (Linux /proc); ended ones are left out."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def backend_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving this database (the instances' pooled connections)."""
    from tests.scale.cluster import pg_query

    rows = pg_query(database, "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (database,))
    return [int(r[0]) for r in rows]


async def _load(urls: list[str], sessions: int, turns: int) -> tuple[float, list[float]]:
    samples: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_participant(urls[i % len(urls)], turns, samples) for i in range(sessions)))
    return len(samples) / (time.perf_counter() - started), samples


def _measured(urls: list[str], service_pids: list[int], database: str, sessions: int, turns: int
              ) -> tuple[float, list[float], float, float]:
    """turns/s, latencies, and CPU ms per turn of the service instances and of their PostgreSQL backends."""
    service_before, pg_before = cpu_seconds(service_pids), cpu_seconds(backend_pids(database))
    rate, samples = asyncio.run(_load(urls, sessions, turns))
    service_after = cpu_seconds(service_pids)
    pg_after = cpu_seconds(sorted(set(backend_pids(database)) | set(pg_before)))  # new backends started at 0
    service_ms = sum(service_after[p] - service_before[p] for p in service_after) * 1000 / len(samples)
    pg_ms = sum(pg_after[p] - pg_before.get(p, 0.0) for p in pg_after) * 1000 / len(samples)
    return rate, samples, service_ms, pg_ms


def database_turns(sessions: int, turns: int, rounds: int) -> dict[int, tuple[float, float, float, float, float]]:
    from bench._servers import LOAD_GENERATOR
    from tests.scale.cluster import NO_ENGINES, instances, throwaway_database

    results: dict[int, list[tuple[float, list[float], float, float]]] = {1: [], 2: []}
    with throwaway_database() as (name, url):
        # A pool large enough that no connection closes mid-run (their backends' CPU time would be lost).
        env = {**NO_ENGINES, **LOAD_GENERATOR, "DATABASE_URL": url, "NVIDIA_API_KEY": "",
               "DB__POOL_SIZE": str(sessions + 4)}
        with instances(2, env) as servers:
            urls = [s.ws for s in servers]
            pids = [s.process.pid for s in servers]
            asyncio.run(_load(urls, 4, 2))  # warm both
            for r in range(rounds):  # alternate 1 and 2 instances so drift hits both
                for count in ((1, 2) if r % 2 == 0 else (2, 1)):
                    results[count].append(_measured(urls[:count], pids[:count], name, sessions, turns))
    summary = {}
    for count, runs in results.items():
        latencies = [ms for _, samples, _, _ in runs for ms in samples]
        summary[count] = (statistics.fmean(r[0] for r in runs), pct(latencies, 0.5), pct(latencies, 0.95),
                          statistics.fmean(r[2] for r in runs), statistics.fmean(r[3] for r in runs))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stt-rounds", type=int, default=12)
    parser.add_argument("--small-rounds", type=int, default=30)
    parser.add_argument("--sessions", type=int, default=16, help="concurrent text interviews, no think time")
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-db", action="store_true")
    args = parser.parse_args()
    if not args.skip_ray:
        print("Ray Serve hop (median ms per call; one replica each, local Ray on 127.0.0.1, interleaved):")
        for name, (local, remote) in ray_hop(args.stt_rounds, args.small_rounds).items():
            goal = "  (goal <= 1.15x)" if name.startswith("stt_10s") else ""
            if name == "stt_10s_hop_only":
                name = "stt_10s, hop"  # in-process time + (time via Ray - time in the replica)
            print(f"  {name:16s} in-process {local:8.1f}  via Ray {remote:8.1f}  ratio {remote / local:5.2f}x  "
                  f"hop {remote - local:+6.1f} ms{goal}")
    if not args.skip_db:
        print(f"Text turns on PostgreSQL ({args.sessions} concurrent sessions x {args.turns} turns, no think time, "
              f"{args.rounds} alternating rounds):")
        for count, (rate, p50, p95, service_ms, pg_ms) in database_turns(args.sessions, args.turns, args.rounds).items():
            print(f"  {count} instance{'s' if count > 1 else ' '}  {rate:7.1f} turns/s  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
                  f"CPU per turn: service {service_ms:5.1f} ms, PostgreSQL {pg_ms:5.1f} ms")


if __name__ == "__main__":
    main()
