"""Builds the text-to-speech engine chosen by settings."""

from __future__ import annotations

from pathlib import Path

from app.inference.device import resolve_device
from app.inference.tts.base import TtsEngine
from app.settings import Settings


def build_tts(settings: Settings) -> TtsEngine | None:
    config = settings.tts
    if not config.enabled:
        return None
    from app.inference.tts.piper_engine import PiperTts, default_voice

    if config.voice_path:
        model = Path(config.voice_path)
        voice_config = Path(config.voice_config_path) if config.voice_config_path else None
    else:
        model, voice_config = default_voice()
    return PiperTts(model, voice_config, device=resolve_device(settings.device), workers=config.workers)
