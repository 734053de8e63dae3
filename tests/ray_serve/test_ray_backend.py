"""INFERENCE__BACKEND=ray: speech to text, speech metrics, head pose and TTS as Ray Serve deployments.

One local Ray instance on 127.0.0.1 for the module (small: 2 CPUs, one replica per deployment),
started by the test; the service deploys its four Serve applications into it and calls them
through handles. The same paths as the local engines run through it (voice, camera, speech),
with the same results; a replica killed mid-request is retried, a deployment that is gone gives
`engine_unavailable` while the session goes on, and comes back.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import ray
from fastapi.testclient import TestClient
from ray import serve

from app.db.migrate import upgrade_to_head
from app.errors import EngineUnavailable
from app.inference.audio import float_to_pcm16
from app.inference.head_pose.mediapipe_engine import MediaPipeHeadPose
from app.inference.ray_serve.client import RayEngine
from app.inference.stt.faster import FasterWhisperEngine
from app.main import create_app
from app.settings import Settings
from tests.inference.speech_helpers import SPEECH, load, normalise
from tests.media_paths import portrait_jpeg
from tests.wsclient import receive_until, start

SMALL = {"num_cpus": 0.25, "replicas": 1}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        serve.shutdown()
        ray.shutdown()


@pytest.fixture(scope="module")
def ray_settings(local_ray: None, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('ray') / 'ray.db'}"
    upgrade_to_head(url)
    return Settings(  # type: ignore[call-arg]
        DATABASE_URL=url, NVIDIA_API_KEY=None, db={"auto_migrate": False}, stt={"threads": 1},
        inference={"backend": "ray", "ray_address": "local", "request_timeout_s": 90, "app_prefix": "test",
                   "stt": SMALL, "speech_metrics": SMALL, "head_pose": SMALL, "tts": SMALL},
    )


@pytest.fixture(scope="module")
def client(ray_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(ray_settings)) as test_client:
        yield test_client


def engine(client: TestClient, family: str) -> RayEngine:
    found = getattr(client.app.state.services.engines, family)  # type: ignore[attr-defined]
    assert isinstance(found, RayEngine)
    return found


def run(client: TestClient, coroutine: Any) -> Any:
    """Await on the app's own event loop (the handles and engines live there)."""
    return client.portal.call(lambda: coroutine)  # type: ignore[union-attr]


def replica_pid(client: TestClient, family: str) -> int:
    return int(run(client, engine(client, family)._call("describe"))["pid"])


def test_engines_run_in_ray_replicas_and_health_says_so(client: TestClient) -> None:
    health = client.get("/health").json()
    for family in ("stt", "speech_metrics", "head_pose", "tts"):
        report = health["engines"][family]
        assert report["backend"] == "ray" and report["status"] == "ok", report
        assert report["application_status"].endswith("RUNNING") and report["ray"]["connected"] is True
        assert report["replica_engine"]["status"] == "ok"  # the model was loaded (warmed) in the replica
        assert replica_pid(client, family) != os.getpid()


def test_spoken_answer_through_ray_matches_the_local_engine(client: TestClient, ray_settings: Settings) -> None:
    path = SPEECH / "clean" / "jfk.flac"
    audio = load(path)
    local = FasterWhisperEngine(ray_settings.stt)
    expected = asyncio.run(local.transcribe(audio))
    asyncio.run(local.aclose())
    with client.websocket_connect("/ws/interview") as ws:
        start(ws)
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": 16000, "encoding": "pcm16"})
        pcm = float_to_pcm16(audio)
        for i in range(0, len(pcm), 8000):
            ws.send_bytes(pcm[i:i + 8000])
        ws.send_json({"type": "audio_end", "id": "e1"})
        messages = receive_until(ws)
    final = next(m for m in messages if m["type"] == "transcript_final")
    # The same model: the same words (streaming cuts windows at pauses, which may change punctuation only).
    assert normalise(final["text"]) == normalise(expected.text)
    metrics = next(m for m in messages if m["type"] == "answer_metrics")["metrics"]
    assert metrics["sources"]["speaking_rate_wpm"] == "server" and metrics["pitch_median_hz"] is not None  # speech metrics ran
    assert messages[-1]["type"] == "question"
    assert engine(client, "stt").calls >= 1 and engine(client, "speech_metrics").calls >= 1


def test_camera_frames_through_ray_match_the_local_engine(client: TestClient) -> None:
    image = portrait_jpeg()
    local = MediaPipeHeadPose(workers=1)
    expected = local.estimate_sync(image)
    asyncio.run(local.aclose())
    with client.websocket_connect("/ws/interview") as ws:
        ws.send_json({"type": "video_frame", "id": "f1", "image": base64.b64encode(image).decode()})
        pose = next(m for m in iter(ws.receive_json, None) if m.get("reply_to") == "f1")
        ws.send_json({"type": "video_frame", "id": "bad", "image": base64.b64encode(b"not an image").decode()})
        bad = next(m for m in iter(ws.receive_json, None) if m.get("reply_to") == "bad")
    assert pose["type"] == "head_pose" and pose["face_detected"] is True
    assert pose["yaw"] == pytest.approx(expected.yaw, abs=0.01) and pose["pitch"] == pytest.approx(expected.pitch, abs=0.01)
    assert bad["type"] == "error" and bad["code"] == "invalid_image"  # the engine's own error, not a Ray failure
    assert engine(client, "head_pose").retried == 0


def test_interviewer_speech_through_ray(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        _, question = start(ws, tts=True)
        chunks = []
        while not chunks or not chunks[-1]["last"]:
            message = ws.receive_json()
            assert message["type"] == "speech_audio", message
            chunks.append(message)
    assert all(c["reply_to_seq"] == question["seq"] for c in chunks)
    assert " ".join(c["text"] for c in chunks) == question["text"]
    seconds = sum(len(base64.b64decode(c["audio"])) / 2 / c["sample_rate"] for c in chunks)
    assert chunks[0]["sample_rate"] == 22050 and len(question["text"].split()) / 5 <= seconds <= len(question["text"].split())
    assert engine(client, "tts").voice == "en_US-joe-medium"


def test_replica_killed_mid_request_is_retried_on_its_replacement(client: TestClient) -> None:
    audio = load(SPEECH / "fillers" / "acoustic_corpus.wav")
    audio = np.concatenate([audio, audio])  # ~53 s: several seconds of decoding on this machine
    stt = engine(client, "stt")
    expected = run(client, stt.transcribe(audio))
    victim = replica_pid(client, "stt")
    retried = stt.retried

    async def transcribe_and_kill() -> Any:
        task = asyncio.ensure_future(stt.transcribe(audio))
        await asyncio.sleep(1.0)
        assert not task.done()
        os.kill(victim, signal.SIGKILL)
        return await task

    result = run(client, transcribe_and_kill())
    assert result.text == expected.text
    assert stt.retried == retried + 1
    assert replica_pid(client, "stt") != victim  # Serve replaced the replica; the retry ran there


def test_deployment_gone_gives_engine_unavailable_then_recovers(client: TestClient) -> None:
    image = portrait_jpeg()
    head_pose = engine(client, "head_pose")
    serve.delete(head_pose.cluster.app_name("head_pose"))
    with client.websocket_connect("/ws/interview") as ws:
        start(ws)
        ws.send_json({"type": "video_frame", "id": "f1", "image": base64.b64encode(image).decode()})
        error = next(m for m in iter(ws.receive_json, None) if m.get("reply_to") == "f1")
        assert error["type"] == "error" and error["code"] == "engine_unavailable", error
        ws.send_json({"type": "user_answer", "id": "a1", "answer": "I planned the release and we shipped on time."})
        assert receive_until(ws)[-1]["type"] == "question"  # the session goes on
    assert head_pose.unavailable >= 1
    # The failed call put the application back (INFERENCE__DEPLOY); frames work again and health says so.
    deadline = time.monotonic() + 240
    while True:
        try:
            observation = run(client, head_pose.estimate(image))
            break
        except EngineUnavailable:
            assert time.monotonic() < deadline, "head pose did not come back"
            time.sleep(2)
    assert observation.face_detected
    deadline = time.monotonic() + 30
    while client.get("/health").json()["engines"]["head_pose"]["status"] != "ok":
        assert time.monotonic() < deadline
        time.sleep(1)
