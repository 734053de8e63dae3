"""Builds the speech-metrics engine the settings ask for."""

from __future__ import annotations

from app.inference.speech_metrics.base import SpeechMetricsEngine
from app.settings import Settings


def build_speech_metrics(settings: Settings) -> SpeechMetricsEngine | None:
    if not settings.speech.enabled:
        return None
    from app.inference.speech_metrics.librosa_backend import LibrosaSpeechMetrics

    return LibrosaSpeechMetrics(settings.speech)
