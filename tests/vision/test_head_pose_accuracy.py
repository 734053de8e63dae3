"""Head pose against AFLW2000 labels, and the sign conventions under a mirror image."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.inference.head_pose.mediapipe_engine import MediaPipeHeadPose
from tests.vision.conftest import encode

MAX_MAE_DEG = 6.0


def test_every_face_found_and_mae_within_6_degrees_per_axis(head_pose: MediaPipeHeadPose, aflw: list) -> None:
    errors = []
    for name, data, label in aflw:
        face = head_pose.estimate_sync(data)
        assert face.face_detected, f"no face found in {name}"
        assert face.yaw is not None and face.pitch is not None and face.roll is not None
        errors.append(np.subtract((face.yaw, face.pitch, face.roll), label))
    mae = np.abs(np.array(errors)).mean(axis=0)
    print(f"AFLW2000 sample MAE yaw={mae[0]:.2f} pitch={mae[1]:.2f} roll={mae[2]:.2f} deg over {len(errors)} images")
    assert all(mae <= MAX_MAE_DEG), f"MAE yaw/pitch/roll = {mae.round(2)}"


def test_mirrored_face_flips_yaw_and_roll_not_pitch(head_pose: MediaPipeHeadPose, aflw: list) -> None:
    name, data, _ = next(item for item in aflw if abs(item[2][0]) > 20)  # a clearly turned head
    original = head_pose.estimate_sync(data)
    mirrored = head_pose.estimate_sync(encode(ImageOps.mirror(Image.open(io.BytesIO(data)))))
    assert original.yaw is not None and mirrored.yaw is not None
    assert mirrored.yaw == pytest.approx(-original.yaw, abs=4), name
    assert mirrored.roll == pytest.approx(-original.roll, abs=4), name  # type: ignore[operator]
    assert mirrored.pitch == pytest.approx(original.pitch, abs=4), name
    assert mirrored.gaze_yaw == pytest.approx(-original.gaze_yaw, abs=6), name  # type: ignore[operator]


def test_largest_face_is_the_candidate(head_pose: MediaPipeHeadPose, aflw: list) -> None:
    """Two faces side by side: the pose is the bigger one's, not the one behind."""
    (_, big, big_label), (_, small, _) = aflw[3], aflw[1]  # a head rolled ~29 deg and one rolled ~-13 deg
    # The big face stays on the optical axis, as in its original photo: off-axis, perspective changes its pose.
    canvas = Image.new("RGB", (1350, 450), (90, 90, 90))
    canvas.paste(Image.open(io.BytesIO(big)), (450, 0))
    canvas.paste(Image.open(io.BytesIO(small)).resize((330, 330)), (990, 60))
    face = head_pose.estimate_sync(encode(canvas, "JPEG"))
    assert face.faces == 2
    assert face.roll == pytest.approx(big_label[2], abs=6)


def test_no_face(head_pose: MediaPipeHeadPose) -> None:
    noise = np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    face = head_pose.estimate_sync(encode(Image.fromarray(noise)))
    assert not face.face_detected and face.yaw is None
