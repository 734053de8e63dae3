"""Settings: one group per concern, and the old environment names still work as aliases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.inference.llm.factory import build_llm_engine
from app.inference.llm.openai_compatible import OpenAICompatibleChatClient
from app.settings import LEGACY_NAMES, Settings

OLD_NAMES = {
    "DATABASE_URL": "sqlite+aiosqlite:///./old.db",
    "NVIDIA_API_KEY": "old-key",
    "NVIDIA_LLM_URL": "http://127.0.0.1:9/v1",
    "NVIDIA_LLM_MODEL": "old/model",
    "NVIDIA_LLM_TIMEOUT": "7.5",
    "STT_MODEL": "base",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No setting from the machine's environment or a .env file leaks in."""
    monkeypatch.chdir(tmp_path)
    for name in [*LEGACY_NAMES, "LLM__API_KEY", "LLM__URL", "LLM__MODEL", "LLM__TIMEOUT_S", "DB__URL", "STT__MODEL"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _assert_old_values(s: Settings) -> None:
    assert s.db.url == s.database_url == "sqlite+aiosqlite:///./old.db"
    assert s.llm.api_key is not None and s.llm.api_key.get_secret_value() == "old-key"
    assert (s.llm.url, s.llm.model, s.llm.timeout_s) == ("http://127.0.0.1:9/v1", "old/model", 7.5)
    assert s.stt.model == "base"


def test_old_environment_names_fill_their_groups(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in OLD_NAMES.items():
        clean_env.setenv(name, value)
    _assert_old_values(Settings())


def test_old_names_in_a_dot_env_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("".join(f"{k}={v}\n" for k, v in OLD_NAMES.items()))
    _assert_old_values(Settings())


def test_old_names_as_keywords(clean_env: pytest.MonkeyPatch) -> None:
    _assert_old_values(Settings(**OLD_NAMES))  # type: ignore[arg-type]


def test_in_one_place_the_groups_own_name_wins(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NVIDIA_LLM_TIMEOUT=9\nLLM__TIMEOUT_S=3\nLLM__URL=http://127.0.0.1:8/v1\n")
    clean_env.setenv("NVIDIA_LLM_MODEL", "old/model")
    clean_env.setenv("LLM__MODEL", "new/model")
    clean_env.setenv("STT_MODEL", "base")
    clean_env.setenv("STT__MODEL", "small")
    clean_env.setenv("NVIDIA_LLM_URL", "http://127.0.0.1:9/v1")
    s = Settings()
    assert s.llm.model == "new/model" and s.stt.model == "small" and s.llm.timeout_s == 3
    # Across places the environment wins, as it always has (a server started with DATABASE_URL=... in its
    # environment must not fall back to a .env that names the group's field).
    assert s.llm.url == "http://127.0.0.1:9/v1"


def test_the_environment_beats_dot_env_for_old_names_too(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NVIDIA_LLM_MODEL=from-dot-env\n")
    assert Settings().llm.model == "from-dot-env"
    clean_env.setenv("NVIDIA_LLM_MODEL", "from-environment")
    assert Settings().llm.model == "from-environment"


def test_one_place_per_setting(clean_env: pytest.MonkeyPatch) -> None:
    fields = set(Settings.model_fields)
    assert not {"stt_model", "database_url", "nvidia_api_key", "nvidia_llm_url", "nvidia_llm_model",
                "nvidia_llm_timeout"} & fields
    assert {"api_key", "url", "model", "timeout_s"} <= set(Settings.model_fields["llm"].annotation.model_fields)  # type: ignore[union-attr]


def test_the_llm_client_is_built_from_the_llm_group(clean_env: pytest.MonkeyPatch) -> None:
    assert build_llm_engine(Settings()) is None  # no key: heuristics only
    clean_env.setenv("NVIDIA_API_KEY", "old-key")
    clean_env.setenv("LLM__MODEL", "new/model")
    engine = build_llm_engine(Settings())
    assert isinstance(engine, OpenAICompatibleChatClient)
    assert engine.model == "new/model"
    asyncio.run(engine.aclose())


def test_the_example_file_loads(clean_env: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[1] / ".env.example"
    s = Settings(_env_file=example)  # type: ignore[call-arg]
    assert s.db.url == "sqlite+aiosqlite:///./data.db" and s.stt.model == "tiny.en" and s.llm.api_key is None
