"""The Ray Serve side: one deployment per engine family, wrapping the local engines.

Each replica builds its engine with the same factory as the local backend, from the engine
settings the service passes (or, for a Serve config file / KubeRay RayService, from the
environment of the Ray workers), and warms it once: the model loads once per replica.
Application builders at the bottom (`stt_app`, ...) are the `import_path`s of deploy/serve.yaml.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from typing import Any

import numpy as np
from ray import serve
from ray.serve.deployment import Application

from app.inference.head_pose.base import FaceObservation
from app.inference.speech_metrics.base import AcousticMeasures
from app.inference.stt.base import Transcript
from app.inference.tts.base import SpeechChunk
from app.settings import RayDeploymentSettings, Settings

ENGINE_GROUPS = ("stt", "tts", "head_pose", "speech")


def engine_settings(settings: Settings) -> dict[str, Any]:
    """The part of the settings a replica needs (no secrets, no database)."""
    return {
        **{group: getattr(settings, group).model_dump(mode="json") for group in ENGINE_GROUPS},
        "device": settings.device,
    }


def _settings(config: dict[str, Any] | None) -> Settings:
    return Settings(**(config or {}))


class _Replica:
    """What every replica answers besides inference: who it is (tests, health)."""

    engine: Any

    def describe(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "engine": self.engine.health()}

    async def _warm(self) -> None:
        warm = getattr(self.engine, "warm", None)
        if warm is not None:
            await warm()


@serve.deployment(name="stt")
class SttReplica(_Replica):
    """Speech to text. Final transcriptions are batched across sessions with @serve.batch when the
    batch size is over 1 (on a GPU); preview passes (transcript_partial) go straight through."""

    async def __init__(self, config: dict[str, Any] | None = None, max_batch_size: int = 1, batch_wait_s: float = 0.01) -> None:  # type: ignore[misc]
        from app.inference.stt.factory import build_stt

        settings = _settings(config)
        if max_batch_size > 1:  # the engine's worker pool runs a whole batch at once
            settings = settings.model_copy(update={"stt": settings.stt.model_copy(update={"concurrency": max_batch_size})})
        engine = build_stt(settings.model_copy(update={"stt": settings.stt.model_copy(update={"enabled": True})}))
        assert engine is not None
        self.engine = engine
        self.max_batch_size = max_batch_size
        self._transcribe_batch.set_max_batch_size(max_batch_size)  # type: ignore[attr-defined]
        self._transcribe_batch.set_batch_wait_timeout_s(batch_wait_s)  # type: ignore[attr-defined]
        await self._warm()  # the model loads once per replica, before it takes requests

    async def transcribe(self, audio: np.ndarray, prompt: str | None = None, preview: bool = False) -> Transcript:
        started = time.perf_counter()
        if preview or self.max_batch_size == 1:
            result: Transcript = await self.engine.transcribe(audio, prompt=prompt, preview=preview)
        else:
            result = await self._transcribe_batch((audio, prompt))
        # The time spent here, so that callers can tell the hop from the work (bench/scale.py).
        return dataclasses.replace(result, extras={**result.extras, "replica_ms": round((time.perf_counter() - started) * 1000, 2)})

    @serve.batch(max_batch_size=1, batch_wait_timeout_s=0.01)
    async def _transcribe_batch(self, requests: list[tuple[np.ndarray, str | None]]) -> list[Transcript]:
        return list(await asyncio.gather(*(self.engine.transcribe(audio, prompt=prompt) for audio, prompt in requests)))


@serve.deployment(name="speech_metrics")
class SpeechMetricsReplica(_Replica):
    async def __init__(self, config: dict[str, Any] | None = None) -> None:  # type: ignore[misc]
        from app.inference.speech_metrics.factory import build_speech_metrics

        settings = _settings(config)
        engine = build_speech_metrics(settings.model_copy(update={"speech": settings.speech.model_copy(update={"enabled": True})}))
        assert engine is not None
        self.engine = engine
        await self._warm()  # the model loads once per replica, before it takes requests

    async def analyse(self, audio: np.ndarray) -> AcousticMeasures:
        return await self.engine.analyse(audio)


@serve.deployment(name="head_pose")
class HeadPoseReplica(_Replica):
    async def __init__(self, config: dict[str, Any] | None = None) -> None:  # type: ignore[misc]
        from app.inference.head_pose.factory import build_head_pose

        settings = _settings(config)
        engine = build_head_pose(settings.model_copy(update={"head_pose": settings.head_pose.model_copy(update={"enabled": True})}))
        assert engine is not None
        self.engine = engine
        await self._warm()  # the model loads once per replica, before it takes requests

    async def estimate(self, image: bytes) -> FaceObservation:
        return await self.engine.estimate(image)


@serve.deployment(name="tts")
class TtsReplica(_Replica):
    async def __init__(self, config: dict[str, Any] | None = None) -> None:  # type: ignore[misc]
        from app.inference.tts.factory import build_tts

        settings = _settings(config)
        engine = build_tts(settings.model_copy(update={"tts": settings.tts.model_copy(update={"enabled": True})}))
        assert engine is not None
        self.engine = engine
        await self._warm()  # the model loads once per replica, before it takes requests

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "voice": self.engine.voice, "sample_rate": self.engine.sample_rate}

    async def synthesize(self, sentence: str) -> SpeechChunk:
        return await self.engine.synthesize(sentence)


REPLICAS: dict[str, Any] = {"stt": SttReplica, "speech_metrics": SpeechMetricsReplica, "head_pose": HeadPoseReplica, "tts": TtsReplica}


def deployment_options(config: RayDeploymentSettings) -> dict[str, Any]:
    """Serve options from one deployment's settings: fixed replicas, or autoscaling between bounds."""
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": config.num_cpus, "num_gpus": config.num_gpus},
        "max_ongoing_requests": config.max_ongoing_requests,
    }
    if config.min_replicas is not None or config.max_replicas is not None:
        low = config.min_replicas if config.min_replicas is not None else 1
        options["autoscaling_config"] = {
            "min_replicas": low, "max_replicas": max(config.max_replicas or low, low, 1),
            "target_ongoing_requests": config.target_ongoing_requests,
        }
        options["num_replicas"] = "auto"
    else:
        options["num_replicas"] = config.replicas
    return options


def application(family: str, settings: Settings) -> Application:
    """The Serve application of one engine family, configured by `settings.inference`."""
    inference = settings.inference
    deployment = REPLICAS[family].options(**deployment_options(getattr(inference, family)))
    if family == "stt":
        return deployment.bind(engine_settings(settings), inference.stt_max_batch_size, inference.stt_batch_wait_s)
    return deployment.bind(engine_settings(settings))


# Application builders for `serve run` / Serve config files / KubeRay (settings from the workers' environment).
def stt_app(args: dict[str, Any]) -> Application:
    return application("stt", Settings())


def speech_metrics_app(args: dict[str, Any]) -> Application:
    return application("speech_metrics", Settings())


def head_pose_app(args: dict[str, Any]) -> Application:
    return application("head_pose", Settings())


def tts_app(args: dict[str, Any]) -> Application:
    return application("tts", Settings())
