"""Resolve DEVICE=auto|cpu|cuda once, the same way for every engine."""

from __future__ import annotations

from functools import lru_cache


@lru_cache
def cuda_available() -> bool:
    try:
        import ctranslate2  # local: heavy import, only engines need it

        if ctranslate2.get_cuda_device_count() > 0:
            return True
    except Exception:  # noqa: BLE001 - no CUDA runtime is an ordinary answer here
        pass
    try:
        import onnxruntime

        return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    except Exception:  # noqa: BLE001
        return False


def resolve_device(setting: str) -> str:
    """'cuda' or 'cpu'. Asking for cuda where there is none is a configuration error."""
    if setting == "cpu":
        return "cpu"
    if setting == "cuda":
        if not cuda_available():
            raise RuntimeError("DEVICE=cuda but no CUDA device is available")
        return "cuda"
    return "cuda" if cuda_available() else "cpu"
