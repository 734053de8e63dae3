"""Fixtures for the LLM tests: one stub chat-completions server and one SQLite database per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.db.migrate import upgrade_to_head
from app.settings import Settings
from tests.conftest import RESEARCH_TOKEN
from tests.llm.stub_llm import StubLlm

MODEL = "stub/model-1"


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLlm]:
    server = StubLlm().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    # The LLM behaviour does not depend on the database; the SQL aggregation test uses both.
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('llm') / 'llm.db'}"
    upgrade_to_head(url)
    return url


def llm_settings(database_url: str, llm_url: str, *, deadline_s: float = 1.0, key: str | None = "test-key",
                 llm_scoring: bool = False, **llm: Any) -> Settings:
    # The coach's tests count the stub's requests: the LLM scorer stays off unless a test asks for it.
    return Settings(  # type: ignore[call-arg]
        DATABASE_URL=database_url, NVIDIA_API_KEY=key, RESEARCH_API_TOKEN=RESEARCH_TOKEN, NVIDIA_LLM_URL=llm_url, NVIDIA_LLM_MODEL=MODEL,
        db={"auto_migrate": False}, coach={"turn_deadline_s": deadline_s},
        llm={"backoff_base_s": 0.05, **llm}, assessment={"llm": llm_scoring, "deadline_s": deadline_s},
    )
