"""Shared fixtures: the same suite runs on SQLite and on the machine's PostgreSQL.

The PostgreSQL database is a throwaway one created for this run and dropped after it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

from app.db.migrate import upgrade_to_head
from app.db.models import Base
from app.main import create_app
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# Starlette's TestClient sends `Host: testserver`; the production default answers loopback names only.
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
PG_DSN = os.environ.get("TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# Researcher endpoints need a token: Starlette's TestClient is not on the loopback interface.
RESEARCH_TOKEN = "test-research-token"
RESEARCH_AUTH = {"Authorization": f"Bearer {RESEARCH_TOKEN}"}


def _pg_admin(sql: str) -> None:
    conn = psycopg2.connect(PG_DSN)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database of each kind, shared by the tests of this session."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade_to_head(url)
        yield url
        return
    name = f"interview_test_{uuid.uuid4().hex[:12]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_DSN.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    try:
        upgrade_to_head(url)
        yield url
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg2")


@pytest.fixture
def clean_database(database_url: str) -> str:
    """Empty every table before the test (tests through the app commit for real)."""
    engine = create_sync_engine(sync_url(database_url))
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.info.get("append_only"):  # the audit log refuses DELETE; tests filter their own rows
                continue
            conn.execute(text(f'DELETE FROM "{table.name}"'))
    engine.dispose()
    return database_url


@pytest.fixture
def settings(clean_database: str) -> Settings:
    return Settings(DATABASE_URL=clean_database, NVIDIA_API_KEY=None, RESEARCH_API_TOKEN=RESEARCH_TOKEN,  # type: ignore[call-arg]
                    db={"auto_migrate": False})


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=RESEARCH_AUTH) as test_client:
        yield test_client
