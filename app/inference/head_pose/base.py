"""The head-pose engine protocol and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class FaceObservation:
    """What one frame shows of the candidate's face.

    Angles are degrees. yaw > 0: face turned toward the image's left; pitch > 0: looking up;
    roll > 0: eye line rotated clockwise in the image (the AFLW2000 conventions).
    gaze_yaw / gaze_pitch: where the eyes look, head and eye rotation together, relative to
    the line from the eyes to the camera (0, 0 = into the lens); same signs; None when the
    irises could not be located.
    """

    face_detected: bool
    yaw: float | None = None
    pitch: float | None = None
    roll: float | None = None
    gaze_yaw: float | None = None
    gaze_pitch: float | None = None
    faces: int = 0

    @classmethod
    def no_face(cls) -> FaceObservation:
        return cls(face_detected=False)


class HeadPoseEngine(Protocol):
    """Estimates head pose and iris position from one encoded image (JPEG, PNG or WebP)."""

    async def estimate(self, image: bytes) -> FaceObservation:
        """Decode and analyse one frame off the event loop. Bad images raise InvalidInput."""
        ...

    def estimate_sync(self, image: bytes) -> FaceObservation:
        """The same, blocking (for worker threads and benchmarks)."""
        ...

    def health(self) -> dict[str, Any]: ...

    async def warm(self) -> None:
        """Pay one-time costs (model load, first run) at start-up."""
        ...

    async def aclose(self) -> None:
        """Release threads, sessions and connections."""
        ...
