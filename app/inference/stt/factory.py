"""Builds the speech-to-text engine the settings ask for."""

from __future__ import annotations

from app.inference.stt.base import SpeechToText
from app.settings import Settings


def build_stt(settings: Settings) -> SpeechToText | None:
    config = settings.stt
    if not config.enabled:
        return None
    if settings.stt_model:
        config = config.model_copy(update={"model": settings.stt_model})
    if config.backend == "openai-whisper":
        raise RuntimeError("the openai-whisper backend is not part of this build; use STT__BACKEND=faster-whisper")
    from app.inference.stt.faster import FasterWhisperEngine

    return FasterWhisperEngine(config, settings.device)
