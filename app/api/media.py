"""Per-socket background work of `/ws/interview`: webcam frames in, interviewer speech out.

Both run as one task per socket so the receive loop never waits for a model, and both
hold bounded state: one waiting frame, a few waiting texts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.errors import DomainError, InvalidInput, PayloadTooLarge
from app.inference.head_pose.base import HeadPoseEngine
from app.schemas import ws
from app.services.camera import CameraSession
from app.services.voice import VoiceService
from app.settings import HeadPoseSettings

log = logging.getLogger(__name__)

Send = Callable[[ws.ServerMessage], Awaitable[None]]
SendError = Callable[[DomainError, str | None], Awaitable[None]]


def decode_frame(image: str, max_bytes: int) -> bytes:
    """The bytes of a base64 frame (optionally a data: URL), refused when over max_bytes."""
    if image.startswith("data:"):
        image = image.partition(",")[2]
    if len(image) // 4 * 3 > max_bytes + 3:  # checked before decoding anything
        raise PayloadTooLarge(f"frame is over {max_bytes} bytes", code="frame_too_large")
    try:
        data = base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("frame image is not valid base64", code="invalid_image") from None
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"frame is over {max_bytes} bytes", code="frame_too_large")
    return data


@dataclass(frozen=True)
class _Frame:
    data: bytes
    id: str | None
    t: float | None
    at: float  # server monotonic time of arrival


class FramePump:
    """A one-slot mailbox: a frame that arrives while another waits replaces it.

    So the delay is at most one frame's analysis plus the rate cap's interval, however fast
    the client sends; at most `max_fps` frames per second of this socket are analysed.
    """

    def __init__(self, engine: HeadPoseEngine, camera: CameraSession, settings: HeadPoseSettings,
                 send: Send, send_error: SendError) -> None:
        self.engine = engine
        self.camera = camera
        self.interval = 1.0 / settings.max_fps
        self._send = send
        self._send_error = send_error
        self._slot: _Frame | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_start = 0.0
        self.dropped = 0
        self.analysed = 0

    def offer(self, data: bytes, message_id: str | None, t: float | None) -> None:
        if self._slot is not None:
            self.dropped += 1
        self._slot = _Frame(data, message_id, t, time.monotonic())
        self._ready.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="frame-pump")

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            wait = self._next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)  # newer frames may replace the waiting one meanwhile
            frame, self._slot = self._slot, None
            self._ready.clear()
            if frame is None:
                continue
            self._next_start = time.monotonic() + self.interval
            try:
                face = await self.engine.estimate(frame.data)
            except DomainError as exc:
                await self._send_error(exc, frame.id)
                continue
            except Exception:
                log.exception("head-pose analysis failed")
                await self._send_error(DomainError("the frame could not be analysed", code="internal_error"), frame.id)
                continue
            self.analysed += 1
            reading = self.camera.observe(face, frame.at)
            await self._send(ws.HeadPose(
                reply_to=frame.id, face_detected=reading.face_detected, yaw=_round(reading.yaw),
                pitch=_round(reading.pitch), roll=_round(reading.roll), looking_at_camera=reading.looking_at_camera,
                eye_contact_score=reading.eye_contact_score, attention_score=reading.attention_score, t=frame.t,
                frames_dropped=self.dropped,
            ))
            if (neutral := reading.auto_calibrated) is not None:
                await self._send(ws.Calibrated(yaw=round(neutral.yaw, 2), pitch=round(neutral.pitch, 2),
                                               roll=round(neutral.roll, 2), source="auto"))

    async def aclose(self) -> None:
        await _cancel(self._task)


class SpeechPump:
    """Speaks texts in order, sentence by sentence; only `max_pending` texts wait (oldest skipped).

    `interrupt` (barge-in) stops the utterance being sent and drops the waiting ones.
    """

    def __init__(self, speech: VoiceService, max_pending: int, send: Send, send_error: SendError) -> None:
        self.speech = speech
        self._send = send
        self._send_error = send_error
        self._pending: deque[tuple[int | None, str, str | None]] = deque(maxlen=max_pending)
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._current: int | None = None  # seq of the utterance being sent
        self._current_active = False
        self._sent = 0  # its chunks sent so far
        self._stopped = False  # the current utterance was interrupted
        self._playing_until = 0.0

    @property
    def playing_until(self) -> float:
        return self._playing_until

    def speaking(self) -> bool:
        return self._current_active or bool(self._pending) or time.monotonic() < self._playing_until

    def interrupt(self) -> tuple[int | None, int] | None:
        if not self.speaking():
            return None
        if self._current_active or not self._pending:
            seq, heard = self._current, self._sent
        else:
            seq, heard = self._pending[0][0], 0
        self._pending.clear()
        self._stopped = self._current_active
        self._playing_until = 0.0
        return seq, heard

    def say(self, seq: int | None, text: str, reply_to: str | None) -> None:
        self._pending.append((seq, text, reply_to))
        self._ready.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="speech-pump")

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            if not self._pending:
                self._ready.clear()
                continue
            seq, text, reply_to = self._pending.popleft()
            self._current, self._current_active, self._sent, self._stopped = seq, True, 0, False
            try:
                async for index, total, chunk in self.speech.stream(text):
                    if self._stopped:
                        break
                    await self._send(ws.SpeechAudio(
                        reply_to=reply_to, reply_to_seq=seq, chunk_index=index, last=index == total - 1,
                        text=chunk.text, sample_rate=chunk.sample_rate, audio=base64.b64encode(chunk.pcm16).decode(),
                    ))
                    self._sent += 1
                    self._playing_until = max(self._playing_until, time.monotonic()) + chunk.duration_s
            except DomainError as exc:  # e.g. engine_unavailable from a remote engine: typed, the session goes on
                await self._send_error(exc, reply_to)
            except Exception:
                log.exception("speech synthesis failed")
                await self._send_error(DomainError("the interviewer's speech could not be synthesised",
                                                   code="tts_failed"), reply_to)
            finally:
                self._current_active = False

    async def aclose(self) -> None:
        await _cancel(self._task)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
