"""Builds the speech-to-text engine the settings ask for."""

from __future__ import annotations

import importlib.util

from app.inference.stt.base import SpeechToText
from app.settings import Settings


def build_stt(settings: Settings) -> SpeechToText | None:
    config = settings.stt
    if not config.enabled:
        return None
    if config.backend == "openai-whisper" or config.model.endswith(".pt"):  # a .pt file only openai-whisper reads
        from app.inference.stt.openai_whisper import OpenAIWhisperEngine, resolve_checkpoint

        resolve_checkpoint(config.model)  # a bare name ("tiny") would be a hub download: refused first
        if importlib.util.find_spec("whisper") is None:
            raise RuntimeError("the openai-whisper backend needs its extra: pip install '.[openai-whisper]'")
        return OpenAIWhisperEngine(config, settings.device)
    from app.inference.stt.faster import FasterWhisperEngine

    return FasterWhisperEngine(config, settings.device)
