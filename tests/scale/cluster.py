"""Several real service instances (`python -m app serve`) on one throwaway PostgreSQL database.

Used by the multi-instance tests and by bench/scale.py. No containers: each instance is a
process on its own loopback port, as a load balancer would see them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg2
from websockets.sync.client import ClientConnection

from tests.live_server import LiveServer, start_server

PG_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")

# Text turns only: the engines stay off so instances start in seconds and the database path is what runs.
NO_ENGINES = {"STT__ENABLED": "false", "TTS__ENABLED": "false", "HEAD_POSE__ENABLED": "false", "SPEECH__ENABLED": "false"}


def pg_admin(sql: str) -> None:
    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def pg_query(database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(f"{PG_DSN.rsplit('/', 1)[0]}/{database}")
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        conn.close()


@contextlib.contextmanager
def throwaway_database() -> Iterator[tuple[str, str]]:
    """(name, asyncpg URL) of an empty database, dropped afterwards. The instances migrate it themselves."""
    name = f"interview_scale_{uuid.uuid4().hex[:12]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    url = f"{PG_DSN.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    try:
        yield name, url
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def instances(count: int, env: dict[str, str], timeout: float = 240) -> Iterator[list[LiveServer]]:
    """`count` instances started at the same time (so their start-up migrations really race)."""
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(start_server, env, timeout=timeout) for _ in range(count)]
        servers: list[LiveServer] = []
        errors: list[BaseException] = []
        for future in futures:
            try:
                servers.append(future.result())
            except Exception as exc:  # noqa: BLE001 - stop the others, then re-raise
                errors.append(exc)
    try:
        if errors:
            raise errors[0]
        yield servers
    finally:
        for server in servers:
            try:
                server.stop(timeout=40)
            except subprocess.TimeoutExpired:
                server.process.kill()


def receive_until_turn_end(ws: ClientConnection, timeout: float = 60) -> list[dict[str, Any]]:
    """Messages up to the one that ends a turn (the next question, the end of the interview, or an error)."""
    replies: list[dict[str, Any]] = []
    while not replies or replies[-1]["type"] not in {"question", "session_complete", "session_ended", "error"}:
        message = json.loads(ws.recv(timeout=timeout))
        if message["type"] == "interviewer_message_delta":
            continue
        replies.append(message)
    return replies
