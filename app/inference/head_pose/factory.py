"""Builds the head-pose engine chosen by settings."""

from __future__ import annotations

from app.inference.device import resolve_device
from app.inference.head_pose.base import HeadPoseEngine
from app.settings import Settings


def build_head_pose(settings: Settings) -> HeadPoseEngine | None:
    config = settings.head_pose
    if not config.enabled:
        return None
    # The legacy Face Mesh solution runs on the CPU (its Python wheel has no GPU graph);
    # resolving the device still validates DEVICE=cuda like every other engine.
    resolve_device(settings.device)
    from app.inference.head_pose.mediapipe_engine import MediaPipeHeadPose

    return MediaPipeHeadPose(
        workers=config.workers, max_faces=config.max_faces, max_pixels=config.max_pixels,
        focal_scale=config.focal_scale,
    )
