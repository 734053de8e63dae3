"""Speaking while the LLM writes, side by side in one run: end of speech -> first audio of the reply.

    python bench/speak_early.py [--rounds 2] [--answers 3] [--first-token 0.4] [--chunk-delay 0.05]

Three services run as real uvicorn processes on 127.0.0.1 (Piper voice, Whisper tiny.en, SQLite), with
one stub chat-completions server that writes slowly (first piece after --first-token s, then 12
characters every --chunk-delay s: about 240 characters/s, a remote 8B model's pace):

- `speak while writing`: LLM__SPEAK_WHILE_WRITING=true (the default): the acknowledgement is spoken at
  once and the streamed interviewer message sentence by sentence;
- `after the reply`: LLM__SPEAK_WHILE_WRITING=false, LLM__STREAM=true (the LLM streams just as slowly; its
  text goes to the client as interviewer_message_delta; speech starts with the durable message);
- `heuristics only`: no LLM key.

Each answer is a recording streamed at real-time pace in a tts session (manual mode, audio_end right after
the speech). Sessions run one at a time and rounds alternate between the services. Printed per service:
the server's stage times (ms after the end of speech, `turn_latencies` via the session export) and, on
the client's clock, audio_end sent -> first speech_audio of the reply and -> the durable interviewer_message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.inference.audio import decode_audio, float_to_pcm16
from bench._servers import uvicorn_server
from bench.llm_turns import control

RATE = 16000
FRAME_S = 0.1
TOKEN = "bench-speak-early"
CLIP = Path(__file__).resolve().parents[1] / "tests" / "data" / "speech" / "clean" / "61-70968-0000.flac"
MESSAGE = ("The release numbers make the result easy to follow. I would still like to hear how you chose "
           "which tests to automate first. Let us keep going.")
STAGES = ("transcript_ms", "coach_ms", "question_ms", "first_audio_ms")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q * 100)) if values else float("nan")


async def _until(ws: websockets.ClientConnection, done) -> dict:  # type: ignore[no-untyped-def,type-arg]
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "error":
            raise RuntimeError(message)
        if done(message):
            return message  # type: ignore[no-any-return]


async def session(url: str, answers: int, audio: np.ndarray, client: dict[str, list[float]]) -> str:
    pcm = float_to_pcm16(audio)
    step = int(RATE * FRAME_S) * 2
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        await ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment", "tts": True,
                                  "question_count": answers + 1, "role": "Data engineer"}))
        started = await _until(ws, lambda m: m["type"] == "session_started")
        question = await _until(ws, lambda m: m["type"] == "question")
        await _until(ws, lambda m: m["type"] == "speech_audio" and m["last"] and m["reply_to_seq"] == question["seq"])
        for i in range(answers):
            await ws.send(json.dumps({"type": "audio_start", "id": f"a{i}", "sample_rate": RATE}))
            for j in range(0, len(pcm), step):  # real-time pace, as from a microphone
                await ws.send(pcm[j:j + step])
                await asyncio.sleep(FRAME_S)
            ended = time.perf_counter()
            await ws.send(json.dumps({"type": "audio_end", "id": f"e{i}"}))
            first_audio = message_at = None
            question = None
            while True:
                message = json.loads(await ws.recv())
                now = time.perf_counter()
                if message["type"] == "error":
                    raise RuntimeError(message)
                if message["type"] == "speech_audio" and first_audio is None:
                    first_audio = now
                if message["type"] == "interviewer_message":
                    message_at = now
                if message["type"] == "question":
                    question = message
                if question is not None and message["type"] == "speech_audio" and message["last"] \
                        and message["reply_to_seq"] == question["seq"]:
                    break
            assert first_audio is not None and message_at is not None
            client["first_audio"].append(1000 * (first_audio - ended))
            client["interviewer_message"].append(1000 * (message_at - ended))
        return str(started["session_id"])


def export(base: str, session_id: str) -> list[dict]:  # type: ignore[type-arg]
    request = urllib.request.Request(f"{base}/export/session/{session_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    for _ in range(50):
        rows = json.loads(urllib.request.urlopen(request, timeout=10).read())["latencies"]
        if rows:
            return rows  # type: ignore[no-any-return]
        time.sleep(0.1)
    return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--answers", type=int, default=3, help="spoken answers per session (one session per round)")
    parser.add_argument("--first-token", type=float, default=0.4, help="stub: seconds before the first piece")
    parser.add_argument("--chunk-delay", type=float, default=0.05, help="stub: seconds per 12 characters")
    args = parser.parse_args()
    audio = decode_audio(CLIP.read_bytes(), max_seconds=60)
    cases = {"speak while writing": {"LLM__SPEAK_WHILE_WRITING": "true", "NVIDIA_API_KEY": "bench"},
             "after the reply": {"LLM__SPEAK_WHILE_WRITING": "false", "LLM__STREAM": "true", "NVIDIA_API_KEY": "bench"},
             "heuristics only": {"NVIDIA_API_KEY": ""}}
    server: dict[str, list[dict]] = {name: [] for name in cases}  # type: ignore[type-arg]
    client: dict[str, dict[str, list[float]]] = {name: {"first_audio": [], "interviewer_message": []} for name in cases}
    with tempfile.TemporaryDirectory() as tmp, uvicorn_server("tests.llm.stub_llm:create_stub_app") as stub:
        control(stub, reply="good", message=MESSAGE, delay_s=args.first_token, chunk_delay_s=args.chunk_delay)
        base = {"LOG_LEVEL": "WARNING", "NVIDIA_LLM_URL": stub + "/v1", "NVIDIA_LLM_MODEL": "stub/bench",
                "COACH__TURN_DEADLINE_S": "10", "LLM__BREAKER_FAILURES": "1000000", "RESEARCH_API_TOKEN": TOKEN,
                "HEAD_POSE__ENABLED": "false", "ASSESSMENT__LLM": "false"}
        with (uvicorn_server("app.main:create_app", base | cases["speak while writing"] | {
                  "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/a.db"}) as a,
              uvicorn_server("app.main:create_app", base | cases["after the reply"] | {
                  "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/b.db"}) as b,
              uvicorn_server("app.main:create_app", base | cases["heuristics only"] | {
                  "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/c.db"}) as c):
            services = dict(zip(cases, (a, b, c), strict=True))
            for http in services.values():  # warm-up: first connections, first synthesis
                asyncio.run(session(http.replace("http", "ws") + "/ws/interview", 1, audio,
                                    {"first_audio": [], "interviewer_message": []}))
            for _ in range(args.rounds):
                for name, http in services.items():
                    sid = asyncio.run(session(http.replace("http", "ws") + "/ws/interview", args.answers, audio,
                                              client[name]))
                    server[name] += export(http, sid)
    print(f"rounds={args.rounds} answers/round={args.answers}, stub: first piece after {args.first_token:.2f} s, "
          f"12 chars per {args.chunk_delay:.3f} s; clip {len(audio) / RATE:.1f} s at real-time pace, audio_end after it")
    print("server stage times, ms after the end of speech (p50 / p95):")
    print(f"{'case':22}" + "".join(f"{s:>22}" for s in STAGES))
    for name in cases:
        rows = server[name]
        cells = []
        for stage in STAGES:
            values = [r[stage] for r in rows if r[stage] is not None]
            cells.append(f"{pct(values, 0.5):8.0f} / {pct(values, 0.95):6.0f} (n={len(values)})")
        print(f"{name:22}" + "".join(f"{c:>22}" for c in cells))
    print("client clock, ms after audio_end was sent (p50 / p95):")
    for name in cases:
        fa, im = client[name]["first_audio"], client[name]["interviewer_message"]
        print(f"{name:22} first speech_audio {pct(fa, 0.5):6.0f} / {pct(fa, 0.95):6.0f}   "
              f"durable interviewer_message {pct(im, 0.5):6.0f} / {pct(im, 0.95):6.0f}")


if __name__ == "__main__":
    main()
