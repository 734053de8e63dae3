"""Calibration, eye contact and per-answer shares of CameraSession, on hand-made observations."""

from __future__ import annotations

import pytest

from app.errors import Conflict
from app.inference.head_pose.base import FaceObservation
from app.services.camera import CameraSession
from app.settings import HeadPoseSettings


def face(yaw: float = 0.0, pitch: float = 0.0, gaze_yaw: float = 0.0, gaze_pitch: float = 0.0) -> FaceObservation:
    return FaceObservation(True, yaw=yaw, pitch=pitch, roll=0.0, gaze_yaw=gaze_yaw, gaze_pitch=gaze_pitch, faces=1)


NO_FACE = FaceObservation.no_face()


def session(**overrides: float) -> CameraSession:
    return CameraSession(HeadPoseSettings(**overrides))  # type: ignore[arg-type]


def calibrated(**overrides: float) -> CameraSession:
    """A session whose neutral pose is straight into the lens (so automatic calibration stays out)."""
    camera = session(**overrides)
    camera.observe(face(), at=-0.5)
    camera.calibrate(at=-0.5)
    camera.start_answer(at=-0.5)
    return camera


def test_automatic_calibration_takes_the_median_of_the_first_seconds() -> None:
    camera = session(auto_calibration_s=2.0, gaze_tolerance_deg=10.0)
    completed = []
    # Someone whose camera sits beside the screen: looking "at" it reads as 15 deg of gaze yaw.
    for i in range(25):
        reading = camera.observe(face(yaw=12, gaze_yaw=15 + (i % 3 - 1), gaze_pitch=-4), at=i * 0.1)
        if reading.auto_calibrated:
            completed.append((i, reading.auto_calibrated))
    assert len(completed) == 1 and completed[0][0] == 20  # at the first frame 2 s after the first face
    neutral = completed[0][1]
    assert neutral.gaze_yaw == pytest.approx(15) and neutral.gaze_pitch == pytest.approx(-4) and neutral.yaw == 12
    assert camera.observe(face(yaw=12, gaze_yaw=15, gaze_pitch=-4), at=3.0).looking_at_camera
    assert not camera.observe(face(yaw=12, gaze_yaw=-5, gaze_pitch=-4), at=3.1).looking_at_camera


def test_far_off_frames_do_not_calibrate() -> None:
    camera = session(auto_calibration_s=1.0)
    for i in range(20):
        assert camera.observe(face(gaze_yaw=40), at=i * 0.1).auto_calibrated is None
    assert camera.neutral.gaze_yaw == 0 and camera.calibrated_by is None


def test_calibrate_uses_the_last_second_and_needs_a_face() -> None:
    camera = session()
    with pytest.raises(Conflict) as exc:
        camera.calibrate(at=0.0)
    assert exc.value.code == "no_face"
    camera.observe(face(gaze_yaw=-30, pitch=-20), at=0.0)  # too old to count at t=5
    for i in range(5):
        camera.observe(face(yaw=3, pitch=-22, gaze_yaw=2, gaze_pitch=-18), at=4.5 + i * 0.1)
    neutral = camera.calibrate(at=5.0)
    assert (neutral.yaw, neutral.pitch, neutral.gaze_pitch) == (3, -22, -18)
    assert camera.calibrated_by == "client"
    looking = camera.observe(face(yaw=3, pitch=-22, gaze_yaw=2, gaze_pitch=-18), at=5.1)
    assert looking.looking_at_camera and looking.eye_contact_score == 1.0
    with pytest.raises(Conflict):
        camera.calibrate(at=20.0)  # no face in the last second


def test_eye_contact_score_falls_through_one_half_at_the_tolerance() -> None:
    camera = calibrated(gaze_tolerance_deg=10.0)
    scores = [camera.observe(face(gaze_yaw=d), at=0.0).eye_contact_score for d in (0, 5, 10, 20)]
    assert scores[0] == 1.0 and scores[1] > 0.9 and scores[2] == 0.5 and scores[3] < 0.1
    assert camera.observe(NO_FACE, at=0.1).eye_contact_score == 0.0


def test_attention_is_smoothed_over_time() -> None:
    camera = calibrated(attention_half_life_s=1.0)
    assert camera.observe(face(), at=0.0).attention_score == 1.0
    assert camera.observe(NO_FACE, at=1.0).attention_score == pytest.approx(0.5)
    assert camera.observe(face(yaw=60), at=2.0).attention_score == pytest.approx(0.25)  # turned away
    assert camera.observe(face(), at=3.0).attention_score == pytest.approx(0.625)


def test_answer_shares_are_time_weighted() -> None:
    camera = calibrated(max_fps=10.0)  # a frame stands for at most 1 s
    camera.start_answer(at=0.0)
    assert camera.answer_metrics(at=1.0) == {}
    camera.observe(face(yaw=-10), at=0.0)  # looking, 2 s
    camera.observe(face(yaw=10, gaze_yaw=30), at=2.0)  # face visible, looking away, 1 s
    camera.observe(NO_FACE, at=3.0)  # no face, 1 s
    camera.observe(face(yaw=-10), at=4.0)  # looking until 5 s
    metrics = camera.answer_metrics(at=5.0)
    assert metrics["camera_seconds"] == 4.0  # the first 2 s count as 1: a frame stands for at most 1 s
    assert metrics["gaze"] == 0.5 and metrics["face_visible_ratio"] == 0.75
    assert metrics["head_movement_deg"] == pytest.approx(9.43, abs=0.01)  # pstdev of -10, 10, -10
    assert metrics["camera_frames"] == 4
    camera.start_answer(at=6.0)
    assert camera.answer_metrics(at=7.0) == {}
