"""One Face Mesh engine for the whole vision test session (model load is the slow part)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from app.inference.head_pose.mediapipe_engine import MediaPipeHeadPose


@pytest.fixture(scope="session")
def head_pose() -> Iterator[MediaPipeHeadPose]:
    engine = MediaPipeHeadPose(workers=1)
    yield engine
    asyncio.run(engine.aclose())


@pytest.fixture(scope="session")
def aflw(shared_data: Path) -> list[tuple[str, bytes, tuple[float, float, float]]]:
    """(name, JPEG bytes, (yaw, pitch, roll) label) of the AFLW2000 sample."""
    folder = shared_data / "faces" / "aflw2000"
    with (folder / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows
    return [
        (r["image"], (folder / r["image"]).read_bytes(), (float(r["yaw_deg"]), float(r["pitch_deg"]), float(r["roll_deg"])))
        for r in rows
    ]


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
