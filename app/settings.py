"""One settings object for the whole service, read from the environment and `.env`.

Top-level names (`DATABASE_URL`, `NVIDIA_API_KEY`, ...) are the ones existing
deployments use; nested groups use `GROUP__FIELD` (e.g. `LIMITS__MAX_TEXT_CHARS`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseModel):
    pool_size: int = Field(10, ge=1, description="PostgreSQL connection pool size")
    max_overflow: int = Field(10, ge=0)
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)
    # NORMAL is durable across application crashes in WAL mode; only an OS crash or
    # power loss can lose the last commits. FULL trades throughput for that case.
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "NORMAL"
    auto_migrate: bool = Field(True, description="run Alembic upgrade head at start-up")


class LimitSettings(BaseModel):
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="largest WebSocket frame accepted")
    max_text_chars: int = Field(10_000, ge=1, description="longest text answer")
    max_client_metrics_keys: int = Field(32, ge=1)
    max_telemetry_data_bytes: int = Field(8_192, ge=16)
    max_id_chars: int = Field(128, ge=8)
    outbox_replay_window: int = Field(500, ge=0, description="server messages kept for replay per session")


class CoachSettings(BaseModel):
    default_question_count: int = Field(5, ge=1, le=20)
    turn_deadline_s: float = Field(4.0, gt=0, description="LLM deadline per turn before heuristics answer")


class Settings(BaseSettings):
    """Service configuration."""

    model_config = SettingsConfigDict(
        env_file=".env", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    database_url: str = Field("sqlite+aiosqlite:///./data.db", alias="DATABASE_URL")
    nvidia_api_key: SecretStr | None = Field(None, alias="NVIDIA_API_KEY")
    nvidia_llm_model: str = Field("meta/llama-3.1-8b-instruct", alias="NVIDIA_LLM_MODEL")
    nvidia_llm_url: str = Field("https://integrate.api.nvidia.com/v1", alias="NVIDIA_LLM_URL")
    nvidia_llm_timeout: float = Field(4.0, gt=0, alias="NVIDIA_LLM_TIMEOUT")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", alias="DEVICE")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    host: str = Field("127.0.0.1", alias="HOST")
    port: int = Field(8000, alias="PORT")

    db: DatabaseSettings = DatabaseSettings()
    limits: LimitSettings = LimitSettings()
    coach: CoachSettings = CoachSettings()


@lru_cache
def get_settings() -> Settings:
    return Settings()
