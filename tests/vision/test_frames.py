"""Frames that must be refused before or while decoding."""

from __future__ import annotations

import base64

import pytest
from PIL import Image

from app.api.media import decode_frame
from app.errors import InvalidInput, PayloadTooLarge
from app.inference.head_pose.frames import decode_image
from app.inference.head_pose.mediapipe_engine import MediaPipeHeadPose
from tests.vision.conftest import encode


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_supported_formats_decode(fmt: str) -> None:
    rgb = decode_image(encode(Image.new("RGB", (32, 24), (10, 200, 30)), fmt), 4_000_000)
    assert rgb.shape == (24, 32, 3)
    assert abs(int(rgb[5, 5, 1]) - 200) < 8


def test_not_an_image() -> None:
    with pytest.raises(InvalidInput) as exc:
        decode_image(b"hello, this is text", 4_000_000)
    assert exc.value.code == "invalid_image"


def test_other_formats_are_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        decode_image(encode(Image.new("RGB", (8, 8)), "BMP"), 4_000_000)
    assert exc.value.code == "invalid_image"


def test_truncated_jpeg(portrait: bytes) -> None:
    data = portrait
    with pytest.raises(InvalidInput) as exc:
        decode_image(data[: len(data) // 2], 4_000_000)
    assert exc.value.code == "invalid_image"


def test_over_four_megapixels_refused_from_the_header() -> None:
    big = encode(Image.new("L", (2001, 2000)), "PNG")  # 4.002 MP, a few kB compressed
    assert len(big) < 100_000
    with pytest.raises(InvalidInput) as exc:
        decode_image(big, 4_000_000)
    assert exc.value.code == "frame_too_large"


def test_base64_checks() -> None:
    assert decode_frame(base64.b64encode(b"abc").decode(), 10) == b"abc"
    assert decode_frame("data:image/png;base64," + base64.b64encode(b"abc").decode(), 10) == b"abc"
    with pytest.raises(InvalidInput):
        decode_frame("not base64!!", 100)
    with pytest.raises(PayloadTooLarge):
        decode_frame(base64.b64encode(b"x" * 2000).decode(), 1000)


def test_engine_refuses_bad_bytes(head_pose: MediaPipeHeadPose) -> None:
    with pytest.raises(InvalidInput):
        head_pose.estimate_sync(b"\xff\xd8\xff\xe0 broken jpeg")


def test_cv2_is_the_headless_build() -> None:
    """mediapipe pulls opencv-contrib-python (GUI); the install step must leave only the headless cv2."""
    import importlib.metadata

    import cv2

    installed = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    assert "opencv-python-headless" in installed
    assert not installed & {"opencv-python", "opencv-contrib-python", "opencv-contrib-python-headless"}
    gui = next(line for line in cv2.getBuildInformation().splitlines() if line.strip().startswith("GUI:"))
    assert gui.split(":", 1)[1].strip().upper() == "NONE", gui
