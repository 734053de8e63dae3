"""Pose from Face Mesh landmarks: solvePnP against MediaPipe's canonical face; gaze from the irises.

Pure numpy/OpenCV, no model: the engine feeds it landmarks in pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PATH = Path(__file__).resolve().parents[2] / "data" / "models" / "canonical_face_model.obj"
MESH_POINTS = 468
# Iris centres from refine_landmarks=True: 468 in the subject's right eye (image left), 473 in the left.
IRIS_CENTRES = (468, 473)
# Eyeball centres in the canonical model (camera axes, ~cm): behind the middle of each eye's lids
# (landmarks 159/145 and 386/374), set back from the lid surface by about an eyeball radius, and
# raised 1.7 mm so that faces looking into the lens in AFLW2000 photos read ~0 deg gaze pitch.
EYEBALL_CENTRES = (np.array([-3.18, -2.79, -2.66]), np.array([3.18, -2.79, -2.66]))
IRIS_RADIUS = 1.1  # eyeball centre -> iris centre, cm


@lru_cache
def canonical_model() -> np.ndarray:
    """The 468 canonical vertices in camera axes (x right, y down, z away from the camera).

    The .obj has y up and z toward the viewer; flipping both makes a face looking straight
    at the camera the identity rotation.
    """
    vertices = [
        [float(v) for v in line.split()[1:4]]
        for line in MODEL_PATH.read_text().splitlines()
        if line.startswith("v ")
    ]
    model = np.asarray(vertices, dtype=np.float64)
    if model.shape != (MESH_POINTS, 3):
        raise RuntimeError(f"{MODEL_PATH} has {model.shape[0]} vertices, expected {MESH_POINTS}")
    return model * np.array([1.0, -1.0, -1.0])


def camera_matrix(width: int, height: int, focal_scale: float) -> np.ndarray:
    """Pinhole intrinsics for an unknown webcam: focal length = focal_scale x image width."""
    focal = focal_scale * width
    return np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])


def rotation_to_angles(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees for R = Rx(a) @ Ry(b) @ Rz(c), the AFLW2000 convention.

    Camera axes are y-down, so the labels' "positive pitch = looking up" is -a.
    """
    b = math.asin(max(-1.0, min(1.0, rotation[0, 2])))
    a = math.atan2(-rotation[1, 2], rotation[2, 2])
    c = math.atan2(-rotation[0, 1], rotation[0, 0])
    return math.degrees(b), -math.degrees(a), math.degrees(c)


@dataclass(frozen=True)
class Pose:
    yaw: float
    pitch: float
    roll: float
    rotation: np.ndarray  # model -> camera
    translation: np.ndarray  # model origin in camera coordinates (model units, ~cm)


def solve_pose(points: np.ndarray, intrinsics: np.ndarray) -> Pose:
    """Head pose from the 468 mesh landmarks in pixels (N x 2 or more columns)."""
    import cv2  # local: keeps the module importable for pure-geometry tests

    # SQPnP is a global solver: it cannot settle on the mirrored local minimum that the iterative
    # (Levenberg-Marquardt) solver reaches without a frontal initial guess, and on the AFLW2000
    # sample it matches that solver's accuracy at about a fifth of its cost (0.1 ms for 468 points).
    ok, rvec, tvec = cv2.solvePnP(  # type: ignore[call-overload]  # None = no lens distortion
        canonical_model(), np.ascontiguousarray(points[:MESH_POINTS, :2], dtype=np.float64), intrinsics, None,
        flags=cv2.SOLVEPNP_SQPNP,
    )
    if not ok or not np.all(np.isfinite(tvec)) or tvec[2, 0] <= 0:
        raise ArithmeticError("solvePnP found no pose in front of the camera")
    rotation, _ = cv2.Rodrigues(rvec)
    return Pose(*rotation_to_angles(rotation), rotation=rotation, translation=tvec.reshape(3))


def _direction_angles(vector: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) of a direction pointing roughly toward the camera, head-angle signs."""
    x, y, z = (float(v) for v in vector)
    return math.degrees(math.atan2(-x, -z)), math.degrees(math.atan2(-y, math.hypot(x, z)))


def gaze_angles(points: np.ndarray, pose: Pose, intrinsics: np.ndarray) -> tuple[float, float] | None:
    """Where the eyes look relative to the line from the eyes to the camera: (yaw, pitch) in degrees.

    (0, 0) is looking straight into the lens, whatever the head does. Each iris centre is
    cast back from the image onto its eyeball, a sphere placed in the fitted head model, and
    the eyeball-centre -> iris direction is compared with the direction to the camera.
    Averaged over both eyes; None without iris landmarks.
    """
    if points.shape[0] <= max(IRIS_CENTRES):
        return None
    inverse = np.linalg.inv(intrinsics)
    yaws, pitches = [], []
    for centre_model, iris in zip(EYEBALL_CENTRES, IRIS_CENTRES, strict=True):
        centre = pose.rotation @ centre_model + pose.translation
        ray = inverse @ np.array([points[iris, 0], points[iris, 1], 1.0])
        ray /= np.linalg.norm(ray)
        # Nearest intersection of the ray with the sphere |p - centre| = r; a ray that misses
        # (landmark noise) uses the sphere point closest to it.
        along = float(ray @ centre)
        miss2 = float(centre @ centre) - along * along
        depth = along - math.sqrt(max(IRIS_RADIUS**2 - miss2, 0.0))
        gaze = ray * depth - centre
        norm = float(np.linalg.norm(gaze))
        if norm < 1e-9:
            return None
        gaze_yaw, gaze_pitch = _direction_angles(gaze / norm)
        camera_yaw, camera_pitch = _direction_angles(-centre)
        yaws.append(gaze_yaw - camera_yaw)
        pitches.append(gaze_pitch - camera_pitch)
    return sum(yaws) / len(yaws), sum(pitches) / len(pitches)


def face_area(points: np.ndarray) -> float:
    span = points[:, :2].max(axis=0) - points[:, :2].min(axis=0)
    return float(span[0] * span[1])
