"""Smart Turn v3.2 (Daily, BSD-2-Clause): a Whisper-tiny-encoder classifier of whether a turn is complete,
from the sound alone (intonation, pace, fillers), run with onnxruntime; Silero VAD for voice activity."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.inference.turn.base import SAMPLE_RATE, VadState
from app.inference.turn.features import last_window, log_mel
from app.inference.turn.vad import SileroVad
from app.inference.workers import InferenceWorkers
from app.settings import TurnSettings

log = logging.getLogger(__name__)
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "data" / "models" / "smart-turn-v3.2-cpu.onnx"
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"  # pipecat-ai 1.14.0's file


class SileroTurnEngine:
    """Voice activity only: the turn ends after `TURNS__MAX_PAUSE_S` of silence (the baseline)."""

    name = "silence"

    def __init__(self, settings: TurnSettings) -> None:
        self.settings = settings
        self.vad = SileroVad()
        self._workers = InferenceWorkers(settings.concurrency, "turn")
        self._calls = 0

    def speech_probabilities_sync(self, state: VadState, audio: np.ndarray) -> np.ndarray:
        return self.vad(state, audio)

    async def speech_probabilities(self, state: VadState, audio: np.ndarray) -> np.ndarray:
        return await self._workers.run(self.speech_probabilities_sync, state, audio)

    def end_of_turn_sync(self, audio: np.ndarray) -> float | None:
        return None

    async def end_of_turn(self, audio: np.ndarray) -> float | None:
        return None

    def health(self) -> dict[str, Any]:
        return {"status": "ok" if self.vad.loaded else "loading", "backend": self.name, "calls": self._calls}

    async def warm(self) -> None:
        await self.speech_probabilities(VadState(), np.zeros(1024, np.float32))

    async def aclose(self) -> None:
        await self._workers.close()


class SmartTurnEngine(SileroTurnEngine):
    """Silero VAD plus Smart Turn v3.2 on the last 8 s of the turn at each pause."""

    name = "smart-turn-v3"

    def __init__(self, settings: TurnSettings) -> None:
        super().__init__(settings)
        self.model_path = Path(settings.model_path) if settings.model_path else DEFAULT_MODEL
        if not self.model_path.is_file():
            raise FileNotFoundError(f"Smart Turn model not found: {self.model_path}")
        self._session: Any = None
        self._lock = threading.Lock()
        self._load_s: float | None = None
        self._last_ms: float | None = None

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime

                started = time.perf_counter()
                opts = onnxruntime.SessionOptions()
                opts.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
                opts.inter_op_num_threads = 1
                opts.intra_op_num_threads = self.settings.threads
                opts.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
                opts.log_severity_level = 3
                self._session = onnxruntime.InferenceSession(str(self.model_path), sess_options=opts,
                                                             providers=["CPUExecutionProvider"])
                self._load_s = round(time.perf_counter() - started, 3)
                log.info("smart turn model %s loaded in %.2fs", self.model_path.name, self._load_s)
        return self._session

    def end_of_turn_sync(self, audio: np.ndarray) -> float | None:
        session = self._load()
        started = time.perf_counter()
        features = log_mel(last_window(audio))[None, :, :]
        (logits,) = session.run(None, {"input_features": features})
        self._calls += 1
        self._last_ms = round((time.perf_counter() - started) * 1000, 1)
        return float(np.asarray(logits).reshape(-1)[0])  # the exported graph ends in a sigmoid

    async def end_of_turn(self, audio: np.ndarray) -> float | None:
        return await self._workers.run(self.end_of_turn_sync, audio)

    def health(self) -> dict[str, Any]:
        return {"status": "ok" if self._session is not None else "loading", "backend": self.name,
                "model": self.model_path.name, "threads": self.settings.threads, "load_s": self._load_s,
                "calls": self._calls, "last_inference_ms": self._last_ms}

    async def warm(self) -> None:
        await super().warm()
        t = np.arange(SAMPLE_RATE, dtype=np.float32) / SAMPLE_RATE
        await self.end_of_turn(0.1 * np.sin(2 * np.pi * 220 * t).astype(np.float32))
