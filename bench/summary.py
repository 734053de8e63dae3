"""Scale of the research endpoints: /metrics/summary and the tidy CSV export at 10k and 100k sessions.

Seeds sessions (10 answers, one check-in and one telemetry event each) with bulk inserts (COPY on
PostgreSQL, executemany on SQLite), times the summary and a full CSV export at the small size, adds
the rest and times them again, on both databases in one run. Export memory: peak RSS growth while
the export streams, sampled every 20 ms. Goal: summary <= 2 s on PostgreSQL at 100k sessions, growth
no worse than linear (x10 for x10 sessions), export memory flat.

    python bench/summary.py                 # 10k -> 100k sessions, 1M answers
    python bench/summary.py --small 1000 --large 5000
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db.engine import create_engine, create_sessionmaker
from app.db.migrate import upgrade_to_head
from app.db.repositories.statistics import SummaryFilters
from app.services.export import ExportService
from app.services.statistics import StatisticsService
from app.settings import DatabaseSettings

PG_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
ANSWERS_PER_SESSION = 10
START = datetime(2026, 1, 1, tzinfo=UTC)
STYLES = ("supportive", "neutral", "challenging")
SERVER_METRICS = json.dumps({"word_count": 80, "filler_count": 2, "star_parts": ["action"], "answer_elapsed_ms": 30000.0})
TIPS = json.dumps([{"kind": "pace_fast", "text": "slow down", "evidence": "172 wpm"}])


def rows(first: int, count: int, seed: int) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Rows per table for sessions first..first+count-1, in chunks of 5 000 sessions."""
    rng = random.Random(seed)
    for chunk in range(first, first + count, 5000):
        sessions, questions, answers, checkins, telemetry = [], [], [], [], []
        for i in range(chunk, min(chunk + 5000, first + count)):
            sid = f"{i:032x}"
            group = "treatment" if i % 2 else "control"
            style = STYLES[i % 3]
            created = START + timedelta(seconds=90 * i)
            status = "completed" if i % 4 else "ended"
            sessions.append((sid, "x" * 64, f"P{i}", group, style, style, "[]", ANSWERS_PER_SESSION, 0, False, status,
                             False, 1, created, created, created, "client"))
            for k in range(ANSWERS_PER_SESSION):
                qid = i * ANSWERS_PER_SESSION + k + 1
                at = created + timedelta(seconds=30 * k)
                questions.append((qid, sid, k, k, f"beh-{k:02d}", "q", "behavioural", False, style, k + 1, at))
                rate = rng.gauss(150 if group == "treatment" else 140, 15)
                answers.append((qid, sid, qid, "text", "a", style, 80, 30.0, rate, rng.random() * 0.5, rng.random(), 2,
                                rng.random() * 5, 1, rng.uniform(300, 3000), SERVER_METRICS, None, TIPS, group == "treatment",
                                "heuristic", None, None, "ok", at))
            checkins.append((i + 1, sid, rng.randint(1, 7), rng.randint(1, 7), style, 3, created + timedelta(seconds=100)))
            telemetry.append((i + 1, sid, "question_text_latency", style, rng.uniform(100, 900), created))
        yield "interview_sessions", sessions
        yield "asked_questions", questions
        yield "answers", answers
        yield "checkins", checkins
        yield "telemetry_events", telemetry


COLUMNS = {
    "interview_sessions": ("id", "resume_token_hash", "participant_id", "group", "style", "initial_style", "question_plan",
                           "question_count", "plan_position", "follow_up_pending", "status", "tts", "next_seq",
                           "created_at", "updated_at", "finished_at", "assignment"),
    "asked_questions": ("id", "session_id", "index", "plan_position", "question_id", "text", "category", "is_follow_up",
                        "style", "seq", "asked_at"),
    "answers": ("id", "session_id", "asked_question_id", "input_mode", "text", "style", "word_count", "duration_s",
                "speaking_rate_wpm", "pause_ratio", "gaze", "filler_count", "fillers_per_min", "hedge_count",
                "response_latency_ms", "server_metrics", "client_metrics", "tips", "tips_shown", "coach_source",
                "llm_model", "llm_latency_ms", "interviewer_message", "created_at"),
    "checkins": ("id", "session_id", "confidence", "stress", "style", "question_index", "created_at"),
    "telemetry_events": ("id", "session_id", "event", "style", "latency_ms", "created_at"),
}


def _pg_text(value: Any) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def seed_pg(dsn: str, first: int, count: int) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            for table, batch in rows(first, count, seed=first):
                buffer = io.StringIO("".join("\t".join(_pg_text(v) for v in r) + "\n" for r in batch))
                cols = ", ".join(f'"{c}"' for c in COLUMNS[table])
                cur.copy_expert(f'COPY "{table}" ({cols}) FROM STDIN', buffer)
            cur.execute("ANALYZE")
    finally:
        conn.close()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


def seed_sqlite(path: str, first: int, count: int) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            for table, batch in rows(first, count, seed=first):
                cols = ", ".join(f'"{c}"' for c in COLUMNS[table])
                marks = ", ".join("?" * len(COLUMNS[table]))
                conn.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',
                                 ([_sqlite_value(v) for v in r] for r in batch))
        conn.execute("ANALYZE")
    finally:
        conn.close()


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def measure(url: str) -> dict[str, float]:
    engine = create_engine(url, DatabaseSettings(pool_size=2))
    sessionmaker = create_sessionmaker(engine)
    stats, export = StatisticsService(sessionmaker), ExportService(sessionmaker)
    try:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            summary = await stats.summary(SummaryFilters())
            times.append(time.perf_counter() - t0)
        assert summary["groups"]["control"]["sessions"] > 0
        async for _ in export.answers_csv(SummaryFilters(until=START + timedelta(hours=2))):
            pass  # warm-up: first-use allocations are not what "flat" is about
        baseline, peak, done = rss_mb(), [0.0], threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_mb())
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0, size, lines = time.perf_counter(), 0, 0
        async for chunk in export.answers_csv(SummaryFilters()):
            size += len(chunk)
            lines += chunk.count("\n")
        export_s = time.perf_counter() - t0
        done.set()
        sampler.join()
        return {"summary_first_s": times[0], "summary_best_s": min(times), "export_s": export_s,
                "export_rows": lines - 1, "export_mb": size / 2**20, "export_rss_growth_mb": max(0.0, peak[0] - baseline)}
    finally:
        await engine.dispose()


def report(name: str, small: dict[str, float], large: dict[str, float], n_small: int, n_large: int) -> None:
    print(f"\n== {name}: {n_small:,} -> {n_large:,} sessions ({n_large * ANSWERS_PER_SESSION:,} answers) ==")
    print(f"{'':28}{n_small:>12,}{n_large:>12,}{'growth':>10}")
    for key, unit in (("summary_first_s", "s"), ("summary_best_s", "s"), ("export_s", "s"), ("export_rows", ""),
                      ("export_mb", "MB"), ("export_rss_growth_mb", "MB")):
        a, b = small[key], large[key]
        growth = f"x{b / a:.2f}" if a else "-"
        print(f"{key + (' (' + unit + ')' if unit else ''):28}{a:>12.3f}{b:>12.3f}{growth:>10}")
    print(f"sessions x{n_large / n_small:.0f}; export rate {large['export_rows'] / large['export_s']:,.0f} rows/s")


def run_one(name: str, url: str, seed: Any, target: Any, n_small: int, n_large: int) -> None:
    upgrade_to_head(url)
    t0 = time.perf_counter()
    seed(target, 0, n_small)
    print(f"{name}: seeded {n_small:,} sessions in {time.perf_counter() - t0:.1f} s", flush=True)
    small = asyncio.run(measure(url))
    t0 = time.perf_counter()
    seed(target, n_small, n_large - n_small)
    print(f"{name}: seeded {n_large - n_small:,} more in {time.perf_counter() - t0:.1f} s", flush=True)
    large = asyncio.run(measure(url))
    report(name, small, large, n_small, n_large)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--only", choices=("postgresql", "sqlite"))
    args = parser.parse_args()
    if args.only in (None, "postgresql"):
        name = f"bench_summary_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(PG_DSN)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        dsn = PG_DSN.rsplit("/", 1)[0] + f"/{name}"
        try:
            run_one("PostgreSQL", dsn.replace("postgresql://", "postgresql+asyncpg://"), seed_pg, dsn, args.small, args.large)
        finally:
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            path = f"{folder}/bench.db"
            run_one("SQLite", f"sqlite+aiosqlite:///{path}", seed_sqlite, path, args.small, args.large)


if __name__ == "__main__":
    main()
