"""One Face Mesh engine for the whole vision test session (model load is the slow part)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from app.inference.head_pose.mediapipe_engine import MediaPipeHeadPose
from tests.media_paths import face_test_data_missing, labelled_faces, portrait_jpeg


@pytest.fixture(scope="session")
def head_pose() -> Iterator[MediaPipeHeadPose]:
    engine = MediaPipeHeadPose(workers=1)
    yield engine
    asyncio.run(engine.aclose())


@pytest.fixture(scope="session")
def aflw() -> list[tuple[str, bytes, tuple[float, float, float]]]:
    """(name, JPEG bytes, (yaw, pitch, roll) label) of the AFLW2000 sample, from FACE_TEST_DATA
    (default ../shared/data/faces/aflw2000). Not redistributable, so absent from a plain clone: skip."""
    missing = face_test_data_missing()
    if missing:
        pytest.skip(missing)
    return labelled_faces()


@pytest.fixture(scope="session")
def portrait() -> bytes:
    """A nearly frontal face that ships with the tests' dependencies (scikit-image's astronaut), JPEG."""
    return portrait_jpeg()


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
