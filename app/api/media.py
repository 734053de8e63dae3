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
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from app.errors import DomainError, InvalidInput, PayloadTooLarge
from app.inference.head_pose.base import HeadPoseEngine
from app.schemas import ws
from app.services.camera import CameraSession
from app.services.voice import VoiceService, split_sentences, unspoken
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


@dataclass
class _Text:
    """A durable message to speak whole (or what is left of it)."""

    seq: int | None
    text: str
    reply_to: str | None


class Utterance:
    """Provisional speech of one reply: texts spoken one after another while the reply is written.

    Implements the services' `InterviewerSpeech`. It joins the pump's queue on its first `say` and
    holds the queue (later texts wait behind it) until it is closed and everything said is spoken.
    """

    def __init__(self, pump: SpeechPump, reply_to: str | None) -> None:
        self.reply_to = reply_to
        self.texts: list[str] = []
        self._said: list[str] = []
        self.closed = False
        self.stopped = False  # interrupted: nothing more of this reply is spoken
        self.more = asyncio.Event()
        self._pump = pump

    @property
    def said(self) -> list[str]:
        return self._said

    def say(self, text: str) -> None:
        if self.closed or self.stopped or not text.strip():
            return
        if not self.texts:
            self._pump.enqueue(self)
        self.texts.append(text)
        self._said.extend(split_sentences(text))
        self.more.set()

    def close(self) -> None:
        self.closed = True
        self.more.set()

    def stop(self) -> None:
        """Barge-in: nothing more of this reply is spoken, its durable message included."""
        self.stopped = True
        self.more.set()  # the pump may be waiting for the next sentence

    def ends_after(self, count: int) -> bool:
        """Nothing follows the first `count` texts (asked at each chunk: more may have been said meanwhile)."""
        return self.closed and count == len(self.texts)


class SpeechPump:
    """Speaks texts in order, sentence by sentence; only `max_pending` texts wait (oldest skipped).

    `interrupt` (barge-in) stops the utterance being sent and drops the waiting ones, provisional
    speech included. A durable interviewer message whose reply was partly spoken ahead of it
    (`provisional`) is spoken only where it goes beyond what was said (`unspoken`).
    """

    PROVISIONAL_KEPT = 4  # replies whose provisional speech waits for its durable message

    def __init__(self, speech: VoiceService, max_pending: int, send: Send, send_error: SendError) -> None:
        self.speech = speech
        self._send = send
        self._send_error = send_error
        self._pending: deque[_Text | Utterance] = deque(maxlen=max_pending)
        self._provisional: OrderedDict[str | None, Utterance] = OrderedDict()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._current: int | None = None  # seq of the utterance being sent (None: provisional)
        self._current_item: _Text | Utterance | None = None  # the one being sent, or the last one sent
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
            if isinstance(self._current_item, Utterance):  # its durable remainder is not spoken either
                self._current_item.stop()
        else:
            first = self._pending[0]
            seq, heard = (first.seq if isinstance(first, _Text) else None), 0
        for item in self._pending:
            if isinstance(item, Utterance):
                item.stop()
        self._pending.clear()
        self._stopped = self._current_active
        self._playing_until = 0.0
        return seq, heard

    def provisional(self, reply_to: str | None) -> Utterance:
        """Speech for the reply to `reply_to` while it is written; it joins the queue when first used."""
        return Utterance(self, reply_to)

    def enqueue(self, utterance: Utterance) -> None:
        self._provisional[utterance.reply_to] = utterance
        self._provisional.move_to_end(utterance.reply_to)
        while len(self._provisional) > self.PROVISIONAL_KEPT:  # replies that never got their durable message
            self._provisional.popitem(last=False)[1].close()
        self._queue(utterance)

    def say(self, seq: int | None, text: str, reply_to: str | None, *, after_provisional: bool = False) -> None:
        """Speak a durable message; `after_provisional`: skip what the reply's provisional speech said."""
        if after_provisional and (ahead := self._provisional.pop(reply_to, None)) is not None:
            ahead.close()
            if ahead.stopped:
                return  # the candidate interrupted this reply: the rest of it is not spoken either
            text = unspoken(text, ahead.said)
        if text:
            self._queue(_Text(seq, text, reply_to))

    def _queue(self, item: _Text | Utterance) -> None:
        if len(self._pending) == self._pending.maxlen and isinstance(skipped := self._pending[0], Utterance):
            # Skipped unheard: its durable message must then be spoken in full.
            if self._provisional.get(skipped.reply_to) is skipped:
                del self._provisional[skipped.reply_to]
            skipped.close()
        self._pending.append(item)
        self._ready.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="speech-pump")

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            if not self._pending:
                self._ready.clear()
                continue
            item = self._pending.popleft()
            reply_to = item.reply_to
            self._current = item.seq if isinstance(item, _Text) else None
            self._current_item, self._current_active, self._sent, self._stopped = item, True, 0, False
            try:
                if isinstance(item, _Text):
                    await self._speak(item.text, item.seq, reply_to, provisional=False, closes=True)
                else:
                    await self._speak_provisional(item)
            except DomainError as exc:  # e.g. engine_unavailable from a remote engine: typed, the session goes on
                await self._send_error(exc, reply_to)
            except Exception:
                log.exception("speech synthesis failed")
                await self._send_error(DomainError("the interviewer's speech could not be synthesised",
                                                   code="tts_failed"), reply_to)
            finally:
                self._current_active = False  # _current_item stays: its playback may still be heard

    async def _speak_provisional(self, utterance: Utterance) -> None:
        """Each text as soon as it is said, until the utterance is closed (or interrupted)."""
        spoken = 0
        while not (self._stopped or utterance.stopped):
            if spoken < len(utterance.texts):
                spoken += 1
                await self._speak(utterance.texts[spoken - 1], None, utterance.reply_to, provisional=True,
                                  closes=partial(utterance.ends_after, spoken))
                continue
            if utterance.closed:
                return
            utterance.more.clear()
            await utterance.more.wait()

    async def _speak(self, text: str, seq: int | None, reply_to: str | None, *, provisional: bool,
                     closes: bool | Callable[[], bool]) -> None:
        async for index, total, chunk in self.speech.stream(text):
            if self._stopped:
                return
            ends = index == total - 1 and (closes() if callable(closes) else closes)
            await self._send(ws.SpeechAudio(
                reply_to=reply_to, reply_to_seq=seq, chunk_index=self._sent, last=ends, provisional=provisional,
                text=chunk.text, sample_rate=chunk.sample_rate, audio=base64.b64encode(chunk.pcm16).decode(),
            ))
            self._sent += 1
            self._playing_until = max(self._playing_until, time.monotonic()) + chunk.duration_s

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
