"""Head-pose frames per second through our service vs plain MediaPipe, and TTS time to first audio.

    python bench/vision_tts.py [--frames 120] [--rounds 5] [--repeats 5]

Head pose, on the same frames (the AFLW2000 sample photos from FACE_TEST_DATA, else the astronaut portrait; JPEG, cycled):
  * plain MediaPipe: decode + Face Mesh (still-image mode, iris landmarks) in a loop, one thread;
  * ours over the WebSocket: a real uvicorn on 127.0.0.1 (rate cap lifted), one client sending
    `video_frame`s with two in flight (streaming), and again waiting for each `head_pose`;
  * ours through the engine wrapper (decode + Face Mesh + solvePnP + gaze), one thread.
TTS: three-sentence questions; time until the first sentence's audio is ready (what a client
waits before playback) vs the time Piper takes to synthesise the whole text at once.
Run it on a quiet machine (or under `nice -n -10`): other load moves every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.services.voice import split_sentences
from bench._servers import uvicorn_server
from tests.media_paths import face_test_data, face_test_data_missing, portrait_jpeg

ROOT = Path(__file__).resolve().parents[1]
# Two three-sentence questions: sentences of similar length, and a long first sentence. Streaming
# sentence by sentence cannot beat the first sentence's share of the text, so both are shown.
QUESTIONS = (
    "Let's talk about a project that changed direction. How did you adapt the plan and keep the team aligned? "
    "Looking back, what would you do differently next time?",
    "Tell me about a project where the requirements changed halfway through. "
    "How did you adapt the plan and keep the team aligned? Looking back, what would you do differently next time?",
)


def load_frames(count: int) -> tuple[list[bytes], str]:
    """The AFLW2000 sample when FACE_TEST_DATA (or ../shared/data/faces/aflw2000) has it, else the
    repository's own portrait (scikit-image's astronaut); and a line saying which."""
    if face_test_data_missing() is None:
        images = [p.read_bytes() for p in sorted(face_test_data().glob("*.jpg"))]
        source = f"the AFLW2000 sample in {face_test_data()} (JPEG 450x450)"
    else:
        images = [portrait_jpeg()]
        source = "the astronaut portrait (JPEG 240x240; set FACE_TEST_DATA for the AFLW2000 sample)"
    return [images[i % len(images)] for i in range(count)], source


def timed_fps(analyse: Callable[[bytes], object], frames: list[bytes]) -> float:
    started = time.perf_counter()
    for data in frames:
        analyse(data)
    return len(frames) / (time.perf_counter() - started)


def plain_mediapipe() -> Callable[[bytes], object]:
    """Decode + Face Mesh, nothing else: what a bare MediaPipe loop over these frames costs."""
    import cv2
    import mediapipe as mp
    import numpy as np

    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True)
    return lambda data: mesh.process(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB))


async def websocket_fps(url: str, frames: list[bytes], window: int) -> float:
    """Frames answered per second with `window` frames in flight (1 = wait for each reply).

    A window of 2 is how a streaming client behaves: the next frame waits in the socket's
    one-slot mailbox while the current one is analysed, so nothing is dropped and the
    engine never idles on the network.
    """
    payloads = [json.dumps({"type": "video_frame", "id": f"f{i}", "image": base64.b64encode(d).decode()})
                for i, d in enumerate(frames)]
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        await ws.send(payloads[0])
        await ws.recv()
        started = time.perf_counter()
        sent = answered = 0
        while sent < min(window, len(payloads)):
            await ws.send(payloads[sent])
            sent += 1
        while answered < len(payloads):
            message = json.loads(await ws.recv())
            if message["type"] == "calibrated":  # automatic calibration completed: not a frame's answer
                continue
            assert message["type"] == "head_pose", message
            answered += 1
            if sent < len(payloads):
                await ws.send(payloads[sent])
                sent += 1
        return len(frames) / (time.perf_counter() - started)


async def tts_times(texts: tuple[str, ...], repeats: int) -> list[tuple[float, float, float]]:
    """(first sentence ready, all streamed, whole text at once) per text, medians of `repeats` interleaved runs."""
    from app.inference.tts.piper_engine import PiperTts, default_voice
    from app.services.voice import VoiceService

    engine = PiperTts(*default_voice())
    voice = VoiceService(engine, frozenset(), cache_entries=0)  # no cache: every run synthesises
    engine.synthesize_sync("Warm up.")
    runs: list[list[tuple[float, float, float]]] = [[] for _ in texts]
    for _ in range(repeats):
        for text, out in zip(texts, runs, strict=True):
            started = time.perf_counter()
            first = 0.0
            async for index, _total, _chunk in voice.stream(text):
                if index == 0:
                    first = time.perf_counter() - started
            streamed = time.perf_counter() - started
            started = time.perf_counter()
            b"".join(c.audio_int16_bytes for c in engine._voice.synthesize(text))
            out.append((first, streamed, time.perf_counter() - started))
    return [tuple(statistics.median(r[i] for r in out) for i in range(3)) for out in runs]  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=5, help="TTS runs")
    parser.add_argument("--rounds", type=int, default=5, help="head-pose rounds, interleaved")
    args = parser.parse_args()
    frames, source = load_frames(args.frames)

    from app.inference.head_pose.mediapipe_engine import MediaPipeHeadPose

    plain_analyse, engine = plain_mediapipe(), MediaPipeHeadPose(workers=1)
    plain_analyse(frames[0]), engine.estimate_sync(frames[0])
    results: dict[str, list[float]] = {"plain": [], "wrapper": [], "streaming": [], "closed": []}
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "HEAD_POSE__MAX_FPS": "1000",
               "TTS__ENABLED": "false", "NVIDIA_API_KEY": "", "LOG_LEVEL": "WARNING"}
        with uvicorn_server("app.main:create_app", env) as base:
            url = base.replace("http", "ws") + "/ws/interview"
            # Interleaved rounds, medians: other load on the machine hits every method alike.
            for _ in range(args.rounds):
                results["plain"].append(timed_fps(plain_analyse, frames))
                results["wrapper"].append(timed_fps(engine.estimate_sync, frames))
                results["streaming"].append(asyncio.run(websocket_fps(url, frames, window=2)))
                results["closed"].append(asyncio.run(websocket_fps(url, frames, window=1)))
    plain, wrapper, streaming, closed_loop = (statistics.median(results[k]) for k in ("plain", "wrapper", "streaming", "closed"))
    tts = asyncio.run(tts_times(QUESTIONS, args.repeats))

    print(f"head pose, {len(frames)} frames of {source}, one client, CPU, "
          f"median of {args.rounds} interleaved rounds")
    print(f"  plain MediaPipe (decode + Face Mesh)          {plain:7.1f} fps")
    print(f"  ours, engine wrapper (+ solvePnP + gaze)      {wrapper:7.1f} fps   {wrapper / plain:.2f}x plain")
    print(f"  ours, WebSocket, streaming (2 in flight)      {streaming:7.1f} fps   {streaming / plain:.2f}x plain  (goal >= 0.8x)")
    print(f"  ours, WebSocket, wait for each reply          {closed_loop:7.1f} fps   {closed_loop / plain:.2f}x plain")
    print(f"TTS, Piper en_US-joe-medium, three-sentence questions, median of {args.repeats} interleaved runs")
    for text, (first, streamed, whole) in zip(QUESTIONS, tts, strict=True):
        sentences = split_sentences(text)
        print(f"  {text[:60]}...  ({len(text.split())} words, first sentence {len(sentences[0]) / len(text):.0%} of the characters)")
        print(f"    first sentence's audio ready                {first * 1000:7.0f} ms")
        print(f"    all sentences, streamed                     {streamed * 1000:7.0f} ms")
        print(f"    whole text in one synthesis                 {whole * 1000:7.0f} ms")
        print(f"    first chunk / whole synthesis               {first / whole:7.2f}x  (goal <= 0.4x)")

if __name__ == "__main__":
    main()
