"""The live voice loop: N concurrent candidates speak recorded answers at real-time pace, in one run,
with the server's end-of-turn detection (auto: natural trailing silence, no audio_end) and, side by
side on the same server, with the button (manual: audio_end right after the speech).

    python bench/voice_loop.py [--sessions 3] [--answers 2] [--rounds 2] [--no-tts]

Per answer, from the client's clock, in ms after the end of speech (the moment the frame holding the
last speech sample was sent): turn_detected (auto), the first audio of the interviewer's reply (the cue
that takes the turn, "All right.", in auto mode with TURNS__CUE on; else the reply itself), transcript_final,
next question, and the first audio of the reply proper (the interviewer_message). A false cut is a
turn_detected received before the answer's speech had all been sent.
The server's own stage times (GET /metrics/summary -> latency) are printed too.

Each answer: after the question arrives the client sends audio_start (auto mode streams the microphone
from there), streams room noise until the question has been spoken (its last speech_audio + 0.5 s),
then the recording, then room noise. Answers are the development recordings up to 12 s (the LibriSpeech
one with a 1.5 s thinking pause inserted mid-sentence), else sentences spoken by the bundled Piper voice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.inference.audio import float_to_pcm16
from bench._servers import uvicorn_server
from bench.turn_eval import SENTENCES, piper_sentences, recordings

RATE = 16000
FRAME_S = 0.05
TOKEN = "bench-voice-loop"
STAGES = ("turn", "first_audio", "transcript", "question", "reply_audio")


@dataclass
class Clip:
    name: str
    audio: np.ndarray
    speech_end_s: float  # where the last speech sample is


@dataclass
class Measured:
    mode: str
    clip: str
    stages: dict[str, float] = field(default_factory=dict)
    false_cut: bool = False


def _noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    return (rng.standard_normal(int(seconds * RATE)) * 1e-3).astype(np.float32)


def _speech_end(audio: np.ndarray) -> float:
    frames = audio[: audio.size // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt(np.mean(frames ** 2, axis=1)) > 0.01)
    return float((loud[-1] + 1) * 160 / RATE) if loud.size else audio.size / RATE


def clips() -> list[Clip]:
    rng = np.random.default_rng(1)
    found = [(n, a) for n, a in recordings() if a.size <= 12 * RATE]
    if not found:
        found = piper_sentences(SENTENCES[:4])
    out = []
    for name, audio in found:
        if name == "61-70968-0000":  # a thinking pause after "...against the wizard"
            cut = int(2.9 * RATE)
            audio = np.concatenate([audio[:cut], _noise(1.5, rng), audio[cut:]])
        out.append(Clip(name, audio, _speech_end(audio)))
    return out


async def one_session(url: str, mode: str, tts: bool, answers: list[Clip], out: list[Measured]) -> None:
    rng = np.random.default_rng(len(out))
    async with websockets.connect(url, compression=None, max_size=None) as ws:
        inbox: asyncio.Queue[tuple[float, dict]] = asyncio.Queue()

        async def reader() -> None:
            async for raw in ws:
                if isinstance(raw, str):
                    await inbox.put((time.perf_counter(), json.loads(raw)))

        reading = asyncio.create_task(reader())
        await ws.send(json.dumps({"type": "start_session", "style": "neutral", "group": "treatment", "tts": tts,
                                  "question_count": len(answers) + 1, "turn_detection": mode}))
        question_seq = None
        while question_seq is None:
            _, m = await inbox.get()
            if m["type"] == "question":
                question_seq = m["seq"]
        for i, clip in enumerate(answers):
            await ws.send(json.dumps({"type": "audio_start", "id": f"a{i}", "sample_rate": RATE}))
            spoken = not tts
            speak_from: float | None = None
            pending: list[tuple[float, dict]] = []
            began = time.perf_counter()
            while not spoken or speak_from is None or time.perf_counter() < speak_from:  # the question is being read
                while not inbox.empty():
                    at, m = inbox.get_nowait()
                    if m["type"] == "speech_audio" and m["reply_to_seq"] == question_seq and m["last"]:
                        spoken = True
                    pending.append((at, m))
                if spoken and speak_from is None:
                    speak_from = time.perf_counter() + 0.5
                if time.perf_counter() - began > 30:
                    spoken = True
                await ws.send(float_to_pcm16(_noise(FRAME_S, rng)))
                await asyncio.sleep(FRAME_S)
            result = Measured(mode, clip.name)
            audio = np.concatenate([clip.audio, _noise(5.0, rng)]) if mode == "auto" else clip.audio
            step = int(FRAME_S * RATE)
            t0 = time.perf_counter()
            speech_end_at: float | None = None
            done = False
            for start in range(0, audio.size, step):
                await ws.send(float_to_pcm16(audio[start:start + step]))
                if speech_end_at is None and start + step >= clip.speech_end_s * RATE:
                    speech_end_at = time.perf_counter()
                while not inbox.empty():
                    at, m = inbox.get_nowait()
                    pending.append((at, m))
                    if m["type"] == "turn_detected":
                        result.false_cut = speech_end_at is None
                        done = True
                if done:
                    break
                await asyncio.sleep(max(0.0, t0 + (start + step) / RATE - time.perf_counter()))
            if mode == "manual":
                await ws.send(json.dumps({"type": "audio_end", "id": f"e{i}"}))
            if result.false_cut:  # timed from the cut, not from an end of speech that had not come
                speech_end_at = None
            origin = speech_end_at or time.perf_counter()
            next_seq = None
            while True:
                at, m = pending.pop(0) if pending else await asyncio.wait_for(inbox.get(), 60)
                kind = m["type"]
                if kind == "turn_detected":
                    result.stages.setdefault("turn", 1000 * (at - origin))
                elif kind == "transcript_final":
                    result.stages.setdefault("transcript", 1000 * (at - origin))
                elif kind == "interviewer_message" and next_seq is None:
                    next_seq = m["seq"]
                elif kind in ("question", "session_complete"):
                    result.stages.setdefault("question", 1000 * (at - origin))
                    question_seq = m.get("seq")
                    if not tts:
                        break
                elif kind == "speech_audio" and m["reply_to_seq"] is None and m.get("reply_to") == f"a{i}":
                    result.stages.setdefault("first_audio", 1000 * (at - origin))  # the cue
                elif kind == "speech_audio" and next_seq is not None and m["reply_to_seq"] == next_seq:
                    result.stages.setdefault("first_audio", 1000 * (at - origin))
                    result.stages.setdefault("reply_audio", 1000 * (at - origin))
                elif kind == "error":
                    print("error:", m, file=sys.stderr)
                    break
                if tts and "question" in result.stages and "reply_audio" in result.stages:
                    break
            out.append(result)
        reading.cancel()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


async def main_async(args: argparse.Namespace) -> None:
    answers = clips()
    print(f"{len(answers)} answers: " + ", ".join(f"{c.name} ({c.audio.size / RATE:.1f} s)" for c in answers))
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.db", "RESEARCH_API_TOKEN": TOKEN}
        with uvicorn_server("app.main:create_app", env) as http:
            url = http.replace("http", "ws", 1) + "/ws/interview"
            results: list[Measured] = []
            started = time.perf_counter()
            for r in range(args.rounds):
                for mode in (("auto", "manual") if r % 2 == 0 else ("manual", "auto")):  # alternate: no order bias
                    await asyncio.gather(*(one_session(url, mode, not args.no_tts, answers[: args.answers] if args.answers
                                                       else answers, results) for _ in range(args.sessions)))
            request = urllib.request.Request(http + "/metrics/summary", headers={"Authorization": f"Bearer {TOKEN}"})
            server = json.loads(urllib.request.urlopen(request, timeout=30).read())["latency"]
    print(f"{args.sessions} concurrent sessions x {args.rounds} rounds per mode, {time.perf_counter() - started:.0f} s; "
          f"ms after the end of speech (client clock)")
    for mode in ("auto", "manual"):
        chosen = [r for r in results if r.mode == mode]
        cells = []
        for stage in STAGES:
            values = [r.stages[stage] for r in chosen if stage in r.stages]
            if values:
                cells.append(f"{stage} p50 {pct(values, 50):6.0f} p95 {pct(values, 95):6.0f}")
        cuts = sum(r.false_cut for r in chosen)
        where = sorted({r.clip for r in chosen if r.false_cut})
        print(f"  {mode:6s} n={len(chosen):3d} false cuts {cuts}/{len(chosen)} {where or ''} | " + " | ".join(cells))
    print("server stage times (p50/p95 ms):")
    for mode in ("auto", "manual"):
        print(f"  {mode:6s} " + " | ".join(f"{s} {v['p50']}/{v['p95']}" for s, v in server[mode].items() if v["n"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=3, help="concurrent sessions per mode")
    parser.add_argument("--answers", type=int, default=0, help="answers per session (0 = every clip)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per mode, alternating which mode goes first")
    parser.add_argument("--no-tts", action="store_true", help="no interviewer voice (no first_audio stage)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
