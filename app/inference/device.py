"""Resolve DEVICE=auto|cpu|cuda once, the same way for every engine."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache
def gpu_report() -> dict[str, Any]:
    """What our stack sees of the GPU (torch is not a dependency, so `torch.cuda.is_available()` is not
    the check): CTranslate2's CUDA device count (Whisper) and ONNX Runtime's providers (Piper)."""
    report: dict[str, Any] = {}
    try:
        import ctranslate2  # local: heavy import, only engines need it

        report["ctranslate2_cuda_devices"] = int(ctranslate2.get_cuda_device_count())
    except Exception as exc:  # noqa: BLE001 - no CUDA runtime is an ordinary answer here
        report["ctranslate2_cuda_devices"] = 0
        report["ctranslate2_error"] = type(exc).__name__
    try:
        import onnxruntime

        report["onnxruntime_providers"] = list(onnxruntime.get_available_providers())
    except Exception as exc:  # noqa: BLE001
        report["onnxruntime_providers"] = []
        report["onnxruntime_error"] = type(exc).__name__
    report["cuda_available"] = (report["ctranslate2_cuda_devices"] > 0
                                or "CUDAExecutionProvider" in report["onnxruntime_providers"])
    return report


def cuda_available() -> bool:
    return bool(gpu_report()["cuda_available"])


def resolve_device(setting: str) -> str:
    """'cuda' or 'cpu'. Asking for cuda where there is none is a configuration error."""
    if setting == "cpu":
        return "cpu"
    if setting == "cuda":
        if not cuda_available():
            raise RuntimeError("DEVICE=cuda but no CUDA device is available")
        return "cuda"
    return "cuda" if cuda_available() else "cpu"
