"""Optional backend: openai-whisper (PyTorch) on a local `.pt` checkpoint (extra `openai-whisper`).

openai-whisper fetches its named models ("tiny", "base.en", ...) from the internet on first
use; that cannot work offline and is never done here: STT_MODEL must be a `.pt` file.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.inference.device import resolve_device
from app.inference.stt.base import FILLER_PROMPT, Transcript, Word, join_words
from app.inference.workers import InferenceWorkers
from app.settings import SttSettings

log = logging.getLogger(__name__)
SAMPLE_RATE = 16_000
# (checkpoint, device) -> (model, lock). The lock serialises calls on one model: word
# timestamps hook the cross-attention layers of the shared model for the length of a call,
# so two concurrent calls would read each other's attention weights.
_MODELS: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()


def resolve_checkpoint(model: str) -> Path:
    """The `.pt` file STT_MODEL names; a bare model name is refused (it would mean a hub download)."""
    path = Path(model).expanduser()
    if path.suffix == ".pt" and path.is_file():
        return path.resolve()
    if path.suffix == ".pt":
        raise RuntimeError(f"openai-whisper checkpoint {model!r} does not exist")
    raise RuntimeError(
        f"STT_MODEL={model!r} is not a local .pt checkpoint: openai-whisper downloads named models "
        "from the internet, which cannot work offline. Point STT_MODEL at a local openai-whisper .pt "
        "file, or use the default faster-whisper backend (bundled tiny.en, STT__BACKEND=faster-whisper)."
    )


def _torch_device(device_setting: str) -> str:
    device = resolve_device(device_setting)
    if device == "cuda":
        import torch  # local: heavy import

        if not torch.cuda.is_available():  # CUDA seen by CTranslate2/onnxruntime, but a CPU build of torch
            if device_setting == "cuda":
                raise RuntimeError("DEVICE=cuda but this torch build has no CUDA support")
            log.warning("CUDA present but torch is a CPU build: openai-whisper runs on the CPU")
            return "cpu"
    return device


class OpenAIWhisperEngine:
    """openai-whisper behind a worker pool and a concurrency limit, same contract as faster-whisper.

    Silero VAD (bundled with faster-whisper) cuts non-speech before decoding, as the default
    backend does, and word times are mapped back to the original audio.
    """

    name = "openai-whisper"

    def __init__(self, settings: SttSettings, device_setting: str = "auto") -> None:
        self.settings = settings
        self.checkpoint = resolve_checkpoint(settings.model)  # fail at build time, not on the first answer
        self.device = _torch_device(device_setting)
        self.fp16 = self.device == "cuda"
        self._model: Any = None
        self._model_lock: threading.Lock | None = None
        self._workers = InferenceWorkers(settings.concurrency, "stt")
        self._load_s: float | None = None
        self._calls = 0

    def _load(self) -> tuple[Any, threading.Lock]:
        if self._model is None or self._model_lock is None:
            import torch
            import whisper  # local: heavy import (torch)

            key = (str(self.checkpoint), self.device)
            with _MODELS_LOCK:
                if key not in _MODELS:
                    started = time.perf_counter()
                    if self.device == "cpu" and self.settings.threads > 0:
                        torch.set_num_threads(self.settings.threads)  # process-wide; torch's default is every core
                    _MODELS[key] = (whisper.load_model(str(self.checkpoint), device=self.device), threading.Lock())
                    self._load_s = round(time.perf_counter() - started, 3)
                    log.info("openai-whisper %s loaded on %s in %.2fs", *key, self._load_s)
                self._model, self._model_lock = _MODELS[key]
        return self._model, self._model_lock

    def _speech_only(self, audio: np.ndarray) -> tuple[np.ndarray, Any]:
        """Speech regions joined (and a map back to original times), or an empty array for silence/noise."""
        if not self.settings.vad:
            return audio, None
        from faster_whisper.vad import SpeechTimestampsMap, VadOptions, collect_chunks, get_speech_timestamps

        chunks = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500, speech_pad_ms=200))
        if not chunks:
            return audio[:0], None
        pieces, _ = collect_chunks(audio, chunks)
        return np.concatenate(pieces), SpeechTimestampsMap(chunks, SAMPLE_RATE)

    def transcribe_sync(self, audio: np.ndarray, prompt: str | None = None) -> Transcript:
        """Blocking transcription; call from a worker thread only. `prompt`: None = configured default, "" = none.

        Temperature 0 only, as in the default backend: deterministic and bounded in time.
        """
        if prompt is None:
            prompt = FILLER_PROMPT if self.settings.filler_prompt else None
        model, lock = self._load()
        audio = audio.astype(np.float32, copy=False)
        duration = round(audio.size / SAMPLE_RATE, 3)
        speech, ts_map = self._speech_only(audio) if audio.size >= SAMPLE_RATE // 10 else (audio[:0], None)
        if speech.size < SAMPLE_RATE // 10:
            return Transcript(text="", words=(), duration_s=duration, language="en")
        import whisper

        language = (self.settings.language or None) if model.is_multilingual else "en"
        with lock:
            result = whisper.transcribe(
                model, speech, language=language, fp16=self.fp16, word_timestamps=True,
                initial_prompt=prompt or None, condition_on_previous_text=False,
                temperature=0.0,
                beam_size=self.settings.beam_size if self.settings.beam_size > 1 else None,
            )
        words: list[Word] = []
        for segment in result["segments"]:
            if segment["no_speech_prob"] > 0.5 and segment["avg_logprob"] < -0.8:
                continue  # Whisper's own "not speech" signals, as in the default backend
            for w in segment.get("words", ()):
                start, end = float(w["start"]), float(w["end"])
                if ts_map is not None:
                    chunk = ts_map.get_chunk_index(start)
                    start, end = ts_map.get_original_time(start, chunk), ts_map.get_original_time(end, chunk)
                end = min(end, duration)
                words.append(Word(w["word"], round(min(start, end), 3), round(end, 3), round(float(w["probability"]), 3)))
        self._calls += 1
        return Transcript(text=join_words(words), words=tuple(words), duration_s=duration, language=result.get("language"))

    async def transcribe(self, audio: np.ndarray, *, prompt: str | None = None, preview: bool = False) -> Transcript:
        """`preview` makes no difference here: openai-whisper has no cheaper window."""
        return await self._workers.run(self.transcribe_sync, audio, prompt)

    async def warm(self) -> None:
        """Load the checkpoint and run the decoder and word alignment (numba DTW JIT) once."""
        await self._workers.run(self._warm_sync)

    def _warm_sync(self) -> None:
        import torch
        import whisper

        model, lock = self._load()
        self._speech_only(np.zeros(SAMPLE_RATE, dtype=np.float32))  # loads the Silero VAD session
        # Straight to the decoder: the VAD would (rightly) drop a synthetic tone.
        t = np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
        with lock, torch.no_grad():
            whisper.transcribe(model, 0.1 * np.sin(2 * np.pi * 220 * t).astype(np.float32), language="en" if not
                               model.is_multilingual else (self.settings.language or "en"), fp16=self.fp16,
                               word_timestamps=True, temperature=0.0, condition_on_previous_text=False, sample_len=8)

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok" if self._model is not None else "loading",
            "backend": self.name, "model": str(self.checkpoint), "device": self.device,
            "compute_type": "float16" if self.fp16 else "float32", "threads": self.settings.threads,
            "concurrency": self.settings.concurrency, "load_s": self._load_s, "calls": self._calls,
            "filler_prompt": self.settings.filler_prompt,
        }

    async def aclose(self) -> None:
        await self._workers.close()
