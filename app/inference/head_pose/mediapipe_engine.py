"""Head pose with MediaPipe Face Mesh (legacy solution, iris landmarks) + solvePnP."""

from __future__ import annotations

import asyncio
import io
import logging
import queue
import time
from typing import Any

import numpy as np

from app.inference.head_pose.base import FaceObservation
from app.inference.head_pose.frames import decode_image
from app.inference.head_pose.geometry import camera_matrix, canonical_model, face_area, gaze_angles, solve_pose
from app.inference.workers import InferenceWorkers

log = logging.getLogger(__name__)


class MediaPipeHeadPose:
    """Face Mesh in still-image mode, so one instance can serve frames from any session.

    Face Mesh objects are not thread-safe: the engine keeps one per worker thread in a pool,
    and the asyncio semaphore keeps callers from queueing behind busy workers unseen.
    """

    name = "mediapipe-facemesh"

    def __init__(self, *, workers: int = 1, max_faces: int = 3, max_pixels: int = 4_000_000,
                 focal_scale: float = 1.0, min_confidence: float = 0.5) -> None:
        import mediapipe as mp  # local: heavy import, only this engine needs it

        canonical_model()  # fail at start-up, not on the first frame, if the model file is missing
        self.max_pixels = max_pixels
        self.focal_scale = focal_scale
        self.workers = workers
        self._meshes: queue.Queue[Any] = queue.Queue()
        for _ in range(workers):
            self._meshes.put(mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=max_faces, refine_landmarks=True,
                min_detection_confidence=min_confidence,
            ))
        self._workers = InferenceWorkers(workers, "head-pose")
        self.frames = 0
        self.busy_s = 0.0

    async def estimate(self, image: bytes) -> FaceObservation:
        return await self._workers.run(self.estimate_sync, image)

    def estimate_sync(self, image: bytes) -> FaceObservation:
        return self.analyse(decode_image(image, self.max_pixels))

    def analyse(self, rgb: np.ndarray) -> FaceObservation:
        """Pose of the largest face in an RGB uint8 image."""
        started = time.perf_counter()
        mesh = self._meshes.get()
        try:
            result = mesh.process(rgb)
        finally:
            self._meshes.put(mesh)
        height, width = rgb.shape[:2]
        faces = result.multi_face_landmarks or []
        observation = FaceObservation.no_face()
        if faces:
            candidates = [np.array([(p.x * width, p.y * height) for p in face.landmark]) for face in faces]
            points = max(candidates, key=face_area)  # the candidate, not someone behind them
            intrinsics = camera_matrix(width, height, self.focal_scale)
            try:
                pose = solve_pose(points, intrinsics)
            except ArithmeticError:
                log.debug("solvePnP failed on a detected face")
            else:
                gaze = gaze_angles(points, pose, intrinsics)
                observation = FaceObservation(
                    face_detected=True, yaw=pose.yaw, pitch=pose.pitch, roll=pose.roll,
                    gaze_yaw=gaze[0] if gaze else None, gaze_pitch=gaze[1] if gaze else None, faces=len(faces),
                )
        self.frames += 1
        self.busy_s += time.perf_counter() - started
        return observation

    async def warm(self) -> None:
        """Run every Face Mesh once so graph set-up and XNNPACK init are paid at start-up."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (128, 128, 128)).save(buffer, format="PNG")
        await asyncio.gather(*(self.estimate(buffer.getvalue()) for _ in range(self.workers)))

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok", "engine": self.name, "device": "cpu", "workers": self.workers,
            "frames": self.frames, "mean_ms": round(1000 * self.busy_s / self.frames, 2) if self.frames else None,
        }

    async def aclose(self) -> None:
        # Let a frame in progress finish before its Face Mesh is closed under it.
        await self._workers.close(wait=True)
        while not self._meshes.empty():
            self._meshes.get_nowait().close()
