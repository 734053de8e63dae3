"""What the webcam says about one candidate: calibration, eye contact, attention, per-answer shares.

One `CameraSession` per socket, fed the head-pose engine's observations in arrival order.
Times are the server's monotonic clock at frame arrival, never the client's.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from typing import Any

from app.errors import Conflict
from app.inference.head_pose.base import FaceObservation
from app.settings import HeadPoseSettings

CALIBRATION_WINDOW_S = 1.0  # `calibrate` uses the faces seen this long before it
AUTO_CALIBRATION_MAX_GAZE_DEG = 25.0  # frames further off than this are not a neutral pose
MIN_CALIBRATION_FRAMES = 3


@dataclass(frozen=True)
class Neutral:
    """The pose that counts as looking at the camera for this person and set-up."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    gaze_yaw: float = 0.0
    gaze_pitch: float = 0.0

    @classmethod
    def median_of(cls, faces: list[FaceObservation]) -> Neutral:
        def med(name: str) -> float:
            values = [getattr(f, name) for f in faces if getattr(f, name) is not None]
            return statistics.median(values) if values else 0.0

        return cls(med("yaw"), med("pitch"), med("roll"), med("gaze_yaw"), med("gaze_pitch"))


@dataclass(frozen=True)
class Reading:
    face_detected: bool
    yaw: float | None
    pitch: float | None
    roll: float | None
    looking_at_camera: bool
    eye_contact_score: float
    attention_score: float
    auto_calibrated: Neutral | None = None  # set on the frame that completed automatic calibration


class CameraSession:
    """Per-socket state of the camera analysis. Not thread-safe: use from the event loop only."""

    def __init__(self, settings: HeadPoseSettings) -> None:
        self.settings = settings
        self.neutral = Neutral()
        self.calibrated_by: str | None = None  # "auto" | "client"
        self._auto_samples: list[FaceObservation] = []
        self._auto_started: float | None = None
        self._recent: deque[tuple[float, FaceObservation]] = deque(maxlen=120)
        self._attention: float | None = None
        self._last_at: float | None = None
        self._answer = _AnswerTally(max_hold_s=max(1.0, 2.0 / settings.max_fps))

    # --- per frame ---------------------------------------------------------------------

    def observe(self, face: FaceObservation, at: float) -> Reading:
        self._recent.append((at, face))
        completed = self._auto_calibrate(face, at)
        gaze_dev = self.gaze_deviation(face)
        head_dev = self._head_deviation(face)
        tolerance = self.settings.gaze_tolerance_deg
        looking = gaze_dev is not None and gaze_dev <= tolerance
        # 1 on target, 0.5 at the tolerance, falling steeply beyond it.
        score = 0.0 if gaze_dev is None else 1.0 / (1.0 + (gaze_dev / tolerance) ** 4)
        facing = 1.0 if head_dev is not None and head_dev <= self.settings.attention_tolerance_deg else 0.0
        self._attention = self._smooth(facing, at)
        self._last_at = at
        self._answer.add(at, face, looking)
        return Reading(
            face_detected=face.face_detected, yaw=face.yaw, pitch=face.pitch, roll=face.roll,
            looking_at_camera=looking, eye_contact_score=round(score, 3), attention_score=round(self._attention, 3),
            auto_calibrated=completed,
        )

    def gaze_deviation(self, face: FaceObservation) -> float | None:
        """Degrees between where the eyes look and where they looked in the neutral pose."""
        if not face.face_detected:
            return None
        if face.gaze_yaw is not None and face.gaze_pitch is not None:
            return math.hypot(face.gaze_yaw - self.neutral.gaze_yaw, face.gaze_pitch - self.neutral.gaze_pitch)
        return self._head_deviation(face)  # no irises found: the head direction is the best evidence left

    def _head_deviation(self, face: FaceObservation) -> float | None:
        if not face.face_detected or face.yaw is None or face.pitch is None:
            return None
        return math.hypot(face.yaw - self.neutral.yaw, face.pitch - self.neutral.pitch)

    def _smooth(self, value: float, at: float) -> float:
        if self._attention is None or self._last_at is None:
            return value
        keep = 0.5 ** (max(at - self._last_at, 0.0) / self.settings.attention_half_life_s)
        return keep * self._attention + (1 - keep) * value

    # --- calibration -------------------------------------------------------------------

    def _auto_calibrate(self, face: FaceObservation, at: float) -> Neutral | None:
        if self.calibrated_by is not None or not face.face_detected:
            return None
        if self._auto_started is None:
            self._auto_started = at
        if face.gaze_yaw is not None and face.gaze_pitch is not None \
                and math.hypot(face.gaze_yaw, face.gaze_pitch) <= AUTO_CALIBRATION_MAX_GAZE_DEG:
            self._auto_samples.append(face)
        if len(self._auto_samples) >= MIN_CALIBRATION_FRAMES:
            # Until the window closes, the median so far is a better neutral than none.
            self.neutral = Neutral.median_of(self._auto_samples)
            if at - self._auto_started >= self.settings.auto_calibration_s:
                self.calibrated_by = "auto"
                self._auto_samples.clear()
                return self.neutral
        return None

    def calibrate(self, at: float) -> Neutral:
        """Take the faces of the last second as the neutral pose (the `calibrate` message)."""
        faces = [f for t, f in self._recent if f.face_detected and at - t <= CALIBRATION_WINDOW_S]
        if not faces:
            raise Conflict("no face seen in the last second; send video frames while looking at the camera",
                           code="no_face")
        self.neutral = Neutral.median_of(faces)
        self.calibrated_by = "client"
        return self.neutral

    # --- per answer --------------------------------------------------------------------

    def start_answer(self, at: float) -> None:
        """A question was asked: the next answer's camera figures start now."""
        self._answer.reset(at)

    def answer_metrics(self, at: float) -> dict[str, Any]:
        """Camera figures of the answer so far; empty when no frame was analysed."""
        return self._answer.summary(at)


class _AnswerTally:
    """Time-weighted shares over the frames of one answer.

    Each analysed frame stands for the time until the next one, at most `max_hold_s`
    (a camera that stopped sending frames is not evidence either way).
    """

    def __init__(self, max_hold_s: float) -> None:
        self.max_hold_s = max_hold_s
        self.reset(None)

    def reset(self, at: float | None) -> None:
        self.started = at
        self.frames = 0
        self.total = self.face = self.looking = 0.0
        self.angles: list[tuple[float, float]] = []
        self._last: tuple[float, bool, bool] | None = None

    def _close(self, until: float) -> None:
        if self._last is None:
            return
        at, face, looking = self._last
        span = min(max(until - at, 0.0), self.max_hold_s)
        self.total += span
        self.face += span if face else 0.0
        self.looking += span if looking else 0.0

    def add(self, at: float, face: FaceObservation, looking: bool) -> None:
        self._close(at)
        self._last = (at, face.face_detected, looking)
        self.frames += 1
        if face.face_detected and face.yaw is not None and face.pitch is not None:
            self.angles.append((face.yaw, face.pitch))

    def summary(self, at: float) -> dict[str, Any]:
        if self.frames == 0:
            return {}
        total, face, looking = self.total, self.face, self.looking
        if self._last is not None:  # the last frame counts up to now, without being consumed
            span = min(max(at - self._last[0], 0.0), self.max_hold_s)
            total, face = total + span, face + (span if self._last[1] else 0.0)
            looking += span if self._last[2] else 0.0
        if total <= 0:
            return {}
        movement = None
        if len(self.angles) >= 2:
            yaws, pitches = zip(*self.angles, strict=True)
            movement = round(math.hypot(statistics.pstdev(yaws), statistics.pstdev(pitches)), 2)
        return {
            "gaze": round(looking / total, 3),
            "face_visible_ratio": round(face / total, 3),
            "head_movement_deg": movement,
            "camera_frames": self.frames,
            "camera_seconds": round(total, 2),
        }
