"""Silero VAD v6 run window by window on a stream (the ONNX file faster-whisper ships)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from app.inference.turn.base import VAD_CONTEXT, VAD_WINDOW, VadState


def silero_path() -> Path:
    from faster_whisper.utils import get_assets_path  # local: heavy import

    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class SileroVad:
    """One ONNX session shared by every stream; each stream keeps its own `VadState`.

    Feeding a stream in pieces gives the same probabilities as faster-whisper's whole-file pass:
    the model's LSTM state and the 64-sample context carry over from one call to the next.
    """

    def __init__(self) -> None:
        self._session: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                import onnxruntime

                opts = onnxruntime.SessionOptions()
                opts.inter_op_num_threads = 1
                opts.intra_op_num_threads = 1
                opts.enable_cpu_mem_arena = False
                opts.log_severity_level = 4
                self._session = onnxruntime.InferenceSession(str(silero_path()), providers=["CPUExecutionProvider"],
                                                             sess_options=opts)
        return self._session

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def __call__(self, state: VadState, audio: np.ndarray) -> np.ndarray:
        if audio.size == 0:
            return np.zeros(0, np.float32)
        if audio.size % VAD_WINDOW:
            raise ValueError(f"VAD input must be a multiple of {VAD_WINDOW} samples")
        session = self._load()
        windows = np.asarray(audio, np.float32).reshape(-1, VAD_WINDOW)
        contexts = np.concatenate([state.context[None, :], windows[:-1, -VAD_CONTEXT:]], axis=0)
        batch = np.concatenate([contexts, windows], axis=1)
        probs, state.h, state.c = session.run(None, {"input": batch, "h": state.h, "c": state.c})
        state.context = windows[-1, -VAD_CONTEXT:].copy()
        return np.asarray(probs, np.float32).reshape(-1)
