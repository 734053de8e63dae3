"""Pose and gaze geometry on synthetic projections of the canonical face: exact answers are known."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from app.inference.head_pose.geometry import (
    EYEBALL_CENTRES,
    IRIS_CENTRES,
    IRIS_RADIUS,
    camera_matrix,
    canonical_model,
    gaze_angles,
    solve_pose,
)

WIDTH, HEIGHT = 640, 480
K = camera_matrix(WIDTH, HEIGHT, 1.0)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Rx(a) Ry(b) Rz(c) with the labels' signs (pitch up = -a in y-down camera axes)."""
    a, b, c = math.radians(-pitch), math.radians(yaw), math.radians(roll)
    rx = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    ry = np.array([[math.cos(b), 0, math.sin(b)], [0, 1, 0], [-math.sin(b), 0, math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


def project(points: np.ndarray, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    pixels, _ = cv2.projectPoints(points, cv2.Rodrigues(r)[0], t, K, None)
    return pixels.reshape(-1, 2)


def landmarks(r: np.ndarray, t: np.ndarray, gaze_target: np.ndarray | None) -> np.ndarray:
    """478 landmarks: the mesh, then iris centres placed on the eyeballs looking at gaze_target (camera axes)."""
    points = np.zeros((478, 2))
    points[:468] = project(canonical_model(), r, t)
    for centre_model, iris in zip(EYEBALL_CENTRES, IRIS_CENTRES, strict=True):
        centre = r @ centre_model + t
        target = np.zeros(3) if gaze_target is None else gaze_target
        direction = (target - centre) / np.linalg.norm(target - centre)
        points[iris] = project((centre + IRIS_RADIUS * direction)[None, :], np.eye(3), np.zeros(3))[0]
    return points


@pytest.mark.parametrize("angles", [(0, 0, 0), (30, 0, 0), (-40, 10, 5), (15, -25, -20), (-10, 30, 12)])
def test_solve_pose_recovers_known_angles(angles: tuple[float, float, float]) -> None:
    r, t = rotation(*angles), np.array([3.0, -2.0, 55.0])
    pose = solve_pose(landmarks(r, t, None), K)
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx(angles, abs=0.1)


@pytest.mark.parametrize("angles", [(0, 0, 0), (25, 0, 0), (-20, -15, 10)])
def test_eyes_on_the_lens_read_zero_gaze_whatever_the_head_does(angles: tuple[float, float, float]) -> None:
    r, t = rotation(*angles), np.array([-4.0, 3.0, 50.0])
    points = landmarks(r, t, gaze_target=np.zeros(3))  # both eyes look into the lens
    gaze = gaze_angles(points, solve_pose(points, K), K)
    assert gaze == pytest.approx((0.0, 0.0), abs=0.5)


def test_gaze_follows_the_eyes_with_the_head_still() -> None:
    r, t = rotation(0, 0, 0), np.array([0.0, 0.0, 50.0])
    # A point 50 cm away, 20 deg toward the image's left (negative x) and 10 deg up (negative y).
    target = np.array([-math.tan(math.radians(20)), -math.tan(math.radians(10)), 0.0]) * 50
    points = landmarks(r, t, target)
    gaze_yaw, gaze_pitch = gaze_angles(points, solve_pose(points, K), K)  # type: ignore[misc]
    assert gaze_yaw == pytest.approx(20, abs=2.5) and gaze_pitch == pytest.approx(10, abs=2.5)


def test_no_iris_landmarks_no_gaze() -> None:
    points = landmarks(rotation(0, 0, 0), np.array([0.0, 0.0, 50.0]), None)[:468]
    assert gaze_angles(points, solve_pose(points, K), K) is None
