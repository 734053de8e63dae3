"""Head pose on a photo every clone has (scikit-image's public-domain `astronaut`, cropped to the face):
the pipeline, a frontal pose, known in-plane rotations and a mirror image, and a round trip over the
real /ws/interview. The AFLW2000 tests (labelled poses) need FACE_TEST_DATA; these do not."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.inference.head_pose.mediapipe_engine import MediaPipeHeadPose
from app.settings import Settings
from tests.vision.conftest import encode
from tests.vision.test_ws_video import frame, reply


def _jpeg(image: Image.Image) -> bytes:
    return encode(image.convert("RGB"), "JPEG")


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_the_portrait_is_a_frontal_face(head_pose: MediaPipeHeadPose, portrait: bytes) -> None:
    face = head_pose.estimate_sync(portrait)
    assert face.face_detected and face.faces == 1
    assert face.yaw is not None and face.pitch is not None and face.roll is not None
    # Looking at the camera, head upright: a few degrees on each axis (measured 1, -6, 2).
    assert abs(face.yaw) <= 8 and abs(face.pitch) <= 12 and abs(face.roll) <= 8, face


@pytest.mark.parametrize("degrees", [-25, -10, 10, 25])
def test_rotating_the_photo_in_its_plane_turns_roll_by_the_same_angle(
    head_pose: MediaPipeHeadPose, portrait: bytes, degrees: int,
) -> None:
    upright = head_pose.estimate_sync(portrait)
    # PIL turns counter-clockwise for positive angles; positive roll is clockwise in the image.
    turned = head_pose.estimate_sync(_jpeg(_image(portrait).rotate(degrees, resample=Image.Resampling.BICUBIC)))
    assert turned.face_detected
    assert turned.roll - upright.roll == pytest.approx(-degrees, abs=3)  # type: ignore[operator]
    assert abs(turned.pitch - upright.pitch) < 4  # type: ignore[operator]


def test_a_mirror_image_flips_yaw_and_roll_but_not_pitch(head_pose: MediaPipeHeadPose, portrait: bytes) -> None:
    face = head_pose.estimate_sync(portrait)
    mirrored = head_pose.estimate_sync(_jpeg(_image(portrait).transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    assert mirrored.face_detected
    assert mirrored.roll == pytest.approx(-face.roll, abs=2)  # type: ignore[operator]
    assert mirrored.yaw == pytest.approx(-face.yaw, abs=3)  # type: ignore[operator]
    assert mirrored.pitch == pytest.approx(face.pitch, abs=3)


@pytest.fixture
def settings(clean_database: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        DATABASE_URL=clean_database, NVIDIA_API_KEY=None, db={"auto_migrate": False}, tts={"enabled": False},
    )


def test_portrait_over_the_socket_calibrated_is_eye_contact(
    client: TestClient, head_pose: MediaPipeHeadPose, portrait: bytes,
) -> None:
    direct = head_pose.estimate_sync(portrait)
    blank = _jpeg(Image.new("RGB", (240, 240), (128, 128, 128)))
    with client.websocket_connect("/ws/interview") as ws:
        frame(ws, portrait, "f1", t=1.0)
        pose = reply(ws, "f1")
        assert pose["type"] == "head_pose" and pose["face_detected"] is True and pose["t"] == 1.0
        # The service reports what the engine sees, whatever thread and socket it runs in.
        assert pose["yaw"] == pytest.approx(direct.yaw, abs=0.5)
        assert pose["pitch"] == pytest.approx(direct.pitch, abs=0.5)
        assert pose["roll"] == pytest.approx(direct.roll, abs=0.5)
        ws.send_json({"type": "calibrate", "id": "c"})
        calibrated = reply(ws, "c")
        assert calibrated["type"] == "calibrated" and calibrated["yaw"] == pytest.approx(direct.yaw, abs=0.5)
        frame(ws, portrait, "f2")
        looking = reply(ws, "f2")
        assert looking["looking_at_camera"] is True and looking["eye_contact_score"] > 0.9
        frame(ws, blank, "f3")
        nobody = reply(ws, "f3")
        assert nobody["face_detected"] is False and nobody["eye_contact_score"] == 0
        assert nobody["yaw"] is None
