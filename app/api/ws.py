"""`/ws/interview`: accept, parse, dispatch, reply. Decisions live in app/services."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, assert_never

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.api.container import Services
from app.api.errors import DATABASE_DOWN, database_unavailable, to_ws_error
from app.api.guards import RateLimiter, origin_allowed, security_log
from app.api.media import FramePump, SpeechPump, decode_frame
from app.errors import Conflict, DomainError, EngineUnavailable, InvalidInput, PayloadTooLarge
from app.schemas import ws
from app.services.answering import AnswerPorts
from app.services.camera import CameraSession
from app.services.interview import Outcome

log = logging.getLogger(__name__)
router = APIRouter()

_FINISHING = ("session_complete", "session_ended")


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        location = ".".join(str(p) for p in err["loc"] if p not in ws.CLIENT_TYPES) or "message"
        parts.append(f"{location}: {err['msg']}")
    return "; ".join(parts)


class Connection:
    """One client socket. Holds only which session it is bound to; the session lives in the database."""

    def __init__(self, websocket: WebSocket, services: Services) -> None:
        self.websocket = websocket
        self.services = services
        self.session_id: str | None = None
        self.session_open = False
        self.participant_id: str | None = None
        self.limiter = RateLimiter(services.settings.edge.rate_limits_per_minute)
        self._send_lock = asyncio.Lock()
        self.tts = False  # the bound session asked for the interviewer's voice
        self.camera = CameraSession(services.settings.head_pose)
        self._frames: FramePump | None = None
        self._speaker: SpeechPump | None = None
        self.answers = services.answering.desk(AnswerPorts(
            send=self.send, send_outcome=self.send_outcome, guarded=self.guarded, camera_metrics=self.camera_metrics,
            delta_sender=self.delta_sender, voice=lambda: self._speaker,
        ))

    async def send(self, message: ws.ServerMessage) -> None:
        if message.session_id is None and self.session_id is not None:
            message = message.model_copy(update={"session_id": self.session_id})
        async with self._send_lock:
            if self.websocket.application_state != WebSocketState.CONNECTED:
                return
            try:
                await self.websocket.send_text(message.model_dump_json())
                self.answers.sent(message)
            except (WebSocketDisconnect, RuntimeError, OSError):
                # The peer or a shutdown closed the socket; what was committed stays committed
                # and the client gets it again by resuming with last_seq.
                log.debug("send on a closed socket dropped (session=%s)", self.session_id)

    async def send_outcome(self, outcome: Outcome, *, speak: bool = True) -> None:
        for message in outcome.messages:
            await self.send(message)
            if message.type in _FINISHING:
                self.session_open = False
            await self._after_send(message, speak)

    async def _after_send(self, message: ws.ServerMessage, speak: bool) -> None:
        """Camera and voice follow the conversation: a new question starts a new answer window."""
        if isinstance(message, ws.SessionStarted | ws.SessionResumed):
            self.tts = self.answers.tts = message.tts
            self.answers.mode = message.turn_detection
            if self.tts and self.services.voice is None:
                await self.send_error(EngineUnavailable("speech was asked for but the text-to-speech engine is not "
                                                        "available; the interview goes on in text"), message.reply_to)
        if isinstance(message, ws.QuestionMessage | ws.SessionResumed):
            self.camera.start_answer(time.monotonic())
        if speak and self.tts and isinstance(message, ws.QuestionMessage | ws.InterviewerMessage) and message.text:
            self._say(message.seq, message.text, message.reply_to)

    def _say(self, seq: int | None, text: str, reply_to: str | None) -> None:
        if self._speaker is None:
            voice = self.services.voice
            if voice is None:  # the client was told when the session started
                return
            self._speaker = SpeechPump(voice, self.services.settings.tts.max_pending, self.send, self.send_error)
        self._speaker.say(seq, text, reply_to)

    async def aclose(self) -> None:
        await self.answers.aclose()
        for pump in (self._frames, self._speaker):
            if pump is not None:
                await pump.aclose()

    async def send_error(self, exc: DomainError, reply_to: str | None) -> None:
        log.info("ws error code=%s session=%s", exc.code, self.session_id)
        await self.send(to_ws_error(exc, self.session_id, reply_to))

    async def run(self) -> None:
        idle_timeout = self.services.settings.edge.idle_timeout_s
        while True:
            try:
                frame = await asyncio.wait_for(self.websocket.receive(), idle_timeout)
            except TimeoutError:
                log.info("closing idle socket (session=%s)", self.session_id)
                await self.websocket.close(code=1001, reason="idle timeout")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            if frame["type"] == "websocket.disconnect":
                return
            if frame.get("text") is not None:
                await self.on_text(frame["text"])
            elif frame.get("bytes") is not None:
                await self.on_bytes(frame["bytes"])

    async def on_bytes(self, data: bytes) -> None:
        try:
            taken = self.answers.push(data)
        except DomainError as exc:  # the answer is dropped; the session goes on
            await self.send_error(exc, await self.answers.drop_stream())
            return
        if not taken:
            await self.send_error(InvalidInput("binary frames are only accepted between audio_start and audio_end",
                                               code="unexpected_binary"), None)

    async def on_text(self, raw: str) -> None:
        reply_to: str | None = None
        try:
            if len(raw) > self.services.settings.limits.max_message_bytes:
                raise PayloadTooLarge(f"message is over {self.services.settings.limits.max_message_bytes} bytes")
            try:
                data: Any = json.loads(raw)
            except ValueError:
                raise InvalidInput("message is not valid JSON", code="invalid_json") from None
            if not isinstance(data, dict):
                raise InvalidInput("message must be a JSON object", code="invalid_message")
            if isinstance(data.get("id"), str) and len(data["id"]) <= 128:
                reply_to = data["id"]
            kind = data.get("type")
            if not isinstance(kind, str) or kind not in ws.CLIENT_TYPES:
                raise InvalidInput(f"unknown message type {kind!r}", code="unknown_type")
            self.limiter.check(kind)
            try:
                message = ws.client_message_adapter.validate_python(data)
            except ValidationError as exc:
                raise InvalidInput(f"invalid {kind}: {_describe_validation(exc)}") from None
        except DomainError as exc:
            await self.send_error(exc, reply_to)
            return
        await self.guarded(self.dispatch(message), reply_to)

    async def guarded(self, work: Awaitable[None], reply_to: str | None) -> None:
        """Run the work of one message; a failure becomes a typed `error` reply and the socket goes on."""
        try:
            await work
        except DomainError as exc:
            await self.send_error(exc, reply_to)
        except DATABASE_DOWN as exc:
            log.warning("database unavailable (session=%s): %s", self.session_id, type(exc).__name__)
            await self.send_error(database_unavailable(), reply_to)
        except Exception:
            log.exception("unexpected error while handling a message (session=%s)", self.session_id)
            await self.send_error(DomainError("internal error; the message was not processed", code="internal_error"),
                                  reply_to)

    def _claim_participant(self, participant_id: str | None) -> None:
        if participant_id == self.participant_id:
            return
        self.services.participants.acquire(participant_id)
        self.services.participants.release(self.participant_id)
        self.participant_id = participant_id

    def _bound(self) -> str:
        if self.session_id is None:
            raise Conflict("start or resume a session first", code="no_session")
        return self.session_id

    async def dispatch(self, message: ws.ClientMessage) -> None:
        interview = self.services.interview
        match message:
            case ws.StartSession():
                if self.session_open:
                    raise Conflict("this socket already runs a session; end it first", code="session_already_started")
                if self.services.draining:
                    raise EngineUnavailable("the server is shutting down; start again in a moment", code="server_draining")
                self._claim_participant(message.participant_id)
                outcome, _token = await interview.start(message)
                self.session_id, self.session_open = outcome.session_id, True
                await self.send_outcome(outcome)
            case ws.ResumeSession():
                outcome = await interview.resume(message)
                self._claim_participant(outcome.messages[0].participant_id)  # type: ignore[union-attr]
                self.session_id = outcome.session_id
                self.session_open = outcome.messages[0].status == "active"  # type: ignore[union-attr]
                await self.send_outcome(outcome, speak=False)  # replayed text is not read out again
            case ws.UserAnswer():
                await self.answers.answer(self._bound(), message)
            case ws.SwitchStyle():
                await self.send_outcome(await interview.switch_style(self._bound(), message))
            case ws.CheckInMessage():
                await self.send_outcome(
                    await interview.checkin(self._bound(), message.confidence, message.stress, message.group, message.id)
                )
            case ws.Telemetry():
                await self.send_outcome(await interview.telemetry(self._bound(), message))
            case ws.Ping():
                await self.send(ws.Pong(reply_to=message.id))
            case ws.EndSession():
                await self.send_outcome(await interview.end(self._bound(), message.id))
            case ws.RetryQuestion():
                outcome = await interview.retry(self._bound(), message.question_id, message.id)
                self.session_open = True
                await self.send_outcome(outcome)
            case ws.VideoFrame():
                self.on_video_frame(message)
            case ws.AudioStart():
                await self.answers.audio_start(self._bound(), message)
            case ws.AudioEnd():
                await self.answers.audio_end(message)
            case ws.Calibrate():
                neutral = self.camera.calibrate(time.monotonic())
                await self.send(ws.Calibrated(reply_to=message.id, yaw=round(neutral.yaw, 2),
                                              pitch=round(neutral.pitch, 2), roll=round(neutral.roll, 2)))
            case _:
                assert_never(message)

    def on_video_frame(self, message: ws.VideoFrame) -> None:
        engine = self.services.engines.head_pose
        if engine is None:
            raise EngineUnavailable("the head-pose engine is not available", code="engine_unavailable")
        config = self.services.settings.head_pose
        data = decode_frame(message.image, config.max_frame_bytes)
        if self._frames is None:
            self._frames = FramePump(engine, self.camera, config, self.send, self.send_error)
        self._frames.offer(data, message.id, message.t)

    def camera_metrics(self) -> dict[str, Any]:
        """The webcam's figures for the answer being given (server-measured gaze wins over the client's)."""
        return self.camera.answer_metrics(time.monotonic())

    def delta_sender(self, reply_to: str | None) -> Callable[[str], Awaitable[None]] | None:
        """Sends streamed interviewer text as ephemeral deltas (LLM__STREAM=true), else None."""
        if not self.services.settings.llm.stream:
            return None

        async def send_delta(text: str) -> None:
            await self.send(ws.InterviewerMessageDelta(text=text, reply_to=reply_to))

        return send_delta


@router.websocket("/ws/interview")
async def interview_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    if not origin_allowed(websocket, services.allowed_origins):
        security_log.warning("refused WebSocket origin (client=%s)", websocket.client.host if websocket.client else "?")
        await websocket.close(code=1008)  # before accept: the handshake is answered with 403
        return
    await websocket.accept()
    connection = Connection(websocket, services)
    try:
        await connection.run()
    finally:
        services.participants.release(connection.participant_id)
        await connection.aclose()
