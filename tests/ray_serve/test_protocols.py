"""The Ray-backed engines offer exactly the local engines' protocols (no Ray needed to check)."""

from __future__ import annotations

import inspect

import pytest

from app.inference.head_pose.base import HeadPoseEngine
from app.inference.ray_serve.client import RayHeadPose, RaySpeechMetrics, RaySpeechToText, RayTts
from app.inference.speech_metrics.base import SpeechMetricsEngine
from app.inference.stt.base import SpeechToText
from app.inference.tts.base import TtsEngine


@pytest.mark.parametrize(("protocol", "engine"), [
    (SpeechToText, RaySpeechToText), (SpeechMetricsEngine, RaySpeechMetrics), (HeadPoseEngine, RayHeadPose),
    (TtsEngine, RayTts),
])
def test_same_methods_same_signatures(protocol: type, engine: type) -> None:
    methods = [name for name, value in vars(protocol).items() if inspect.isfunction(value) and not name.startswith("_")]
    assert methods
    for name in methods:
        theirs, ours = inspect.signature(getattr(protocol, name)), inspect.signature(getattr(engine, name))
        assert ours == theirs, f"{engine.__name__}.{name}{ours} differs from {protocol.__name__}.{name}{theirs}"
        assert inspect.iscoroutinefunction(getattr(engine, name)) == inspect.iscoroutinefunction(getattr(protocol, name))
