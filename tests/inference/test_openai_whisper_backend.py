"""The openai-whisper backend: loading a local .pt checkpoint and the decoding path, on a tiny random model.

Random weights give arbitrary text, so the tests check the structure of what comes back and
that decoding happens off the event loop; accuracy belongs to real checkpoints.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
import whisper
from whisper.model import ModelDimensions, Whisper

from app.inference.stt.base import SpeechToText, Transcript
from app.inference.stt.factory import build_stt
from app.inference.stt.openai_whisper import OpenAIWhisperEngine
from app.settings import Settings
from tests.inference.speech_helpers import SPEECH, load

TINY = ModelDimensions(
    n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=1,
    n_vocab=51864, n_text_ctx=448, n_text_state=64, n_text_head=2, n_text_layer=1,  # 51864: English-only tokenizer
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    model = Whisper(TINY)
    # Whisper leaves some parameters as torch.empty (uninitialised memory): give every one seeded
    # values, or the "random" decoder differs from run to run and may emit nothing at all.
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.02)
    path = tmp_path_factory.mktemp("ow") / "tiny-random.pt"
    torch.save({"dims": asdict(TINY), "model_state_dict": model.state_dict()}, path)
    return path


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Settings read from the environment, the way a deployment sets them."""
    for key, value in {"DEVICE": "cpu", **env}.items():
        monkeypatch.setenv(key, value)
    return Settings()


def test_checkpoint_loads_through_the_factory(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_stt(_settings(monkeypatch, STT_MODEL=str(checkpoint)))  # a .pt path alone picks the backend
    assert isinstance(engine, OpenAIWhisperEngine) and isinstance(engine, SpeechToText)
    model, _ = engine._load()
    assert model.dims == TINY and not model.is_multilingual
    assert next(model.parameters()).device.type == "cpu"
    health = engine.health()
    assert health["backend"] == "openai-whisper" and health["status"] == "ok"
    assert health["compute_type"] == "float32" and health["model"] == str(checkpoint.resolve())


@pytest.mark.parametrize("name", ["tiny", "base.en", "tiny.en"])
def test_a_bare_model_name_is_refused_as_a_hub_download(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError, match="downloads named models from the internet, which cannot work offline"):
        build_stt(_settings(monkeypatch, STT__BACKEND="openai-whisper", STT_MODEL=name))


def test_a_missing_checkpoint_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        build_stt(_settings(monkeypatch, STT__BACKEND="openai-whisper", STT_MODEL=str(tmp_path / "nope.pt")))


@pytest.mark.asyncio
async def test_decoding_runs_in_the_worker_and_gives_a_well_formed_transcript(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(monkeypatch, STT__BACKEND="openai-whisper", STT_MODEL=str(checkpoint), STT__BEAM_SIZE="1")
    engine = build_stt(settings)
    assert isinstance(engine, OpenAIWhisperEngine)
    audio = load(SPEECH / "clean" / "jfk.flac")[: 4 * 16_000]  # a few seconds keep the random decoder short
    threads: list[str] = []
    work: list[float] = []  # start and end of the model's work, in the worker thread
    original = engine.transcribe_sync

    def spy(*args: object) -> Transcript:
        threads.append(threading.current_thread().name)
        work.append(time.perf_counter())
        try:
            return original(*args)  # type: ignore[arg-type]
        finally:
            work.append(time.perf_counter())

    engine.transcribe_sync = spy  # type: ignore[method-assign]
    ticks: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        transcript = await engine.transcribe(audio)
    finally:
        done.set()
        await task
        await engine.aclose()

    assert threads and threads[0].startswith("stt") and threads[0] != threading.main_thread().name
    assert isinstance(transcript, Transcript) and isinstance(transcript.text, str)
    assert transcript.duration_s == pytest.approx(audio.size / 16_000, abs=1e-3)
    assert transcript.language == "en"
    assert transcript.words, "the random decoder still emits tokens, so there are words to align"
    for w in transcript.words:
        assert 0.0 <= w.start <= w.end <= transcript.duration_s + 1e-6
        assert 0.0 <= w.probability <= 1.0
        assert isinstance(w.word, str)
    # The loop kept ticking while the model ran. Measured against the work itself, not a wall-clock
    # bound, so a busy machine (which slows both) cannot fail it: a loop blocked by the model would
    # tick not once between the work's start and end, i.e. one gap as long as the whole work.
    start, end = work
    during = [t for t in ticks if start < t < end]
    longest_stall = float(np.diff([start, *during, end]).max())
    assert len(during) >= 2, (len(during), end - start)
    assert longest_stall < 0.5 * (end - start), (longest_stall, end - start)


@pytest.mark.asyncio
async def test_silence_gives_an_empty_transcript(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_stt(_settings(monkeypatch, STT_MODEL=str(checkpoint)))
    assert isinstance(engine, OpenAIWhisperEngine)
    try:
        transcript = await engine.transcribe(np.zeros(3 * 16_000, dtype=np.float32))
    finally:
        await engine.aclose()
    assert transcript == Transcript(text="", words=(), duration_s=3.0, language="en")


def test_whisper_never_reaches_for_the_hub(checkpoint: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Loading goes through whisper.load_model with the file path, never its downloader."""

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("openai-whisper tried to download a model")

    monkeypatch.setattr(whisper, "_download", no_download)
    fresh = tmp_path / "copy.pt"  # a path no earlier test loaded, so the process-wide model cache cannot answer
    fresh.write_bytes(checkpoint.read_bytes())
    engine = OpenAIWhisperEngine(_settings(monkeypatch).stt.model_copy(update={"model": str(fresh)}), "cpu")
    model, _ = engine._load()
    assert model.dims.n_vocab == TINY.n_vocab
