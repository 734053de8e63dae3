"""`/ws/interview`: accept, parse, dispatch, reply. Decisions live in app/services."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, assert_never

from fastapi import APIRouter, WebSocket
from pydantic import ValidationError
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.api.container import Services
from app.api.errors import DATABASE_DOWN, database_unavailable, to_ws_error
from app.api.guards import RateLimiter, client_address, origin_allowed, security_log
from app.api.media import FramePump, SpeechPump, Utterance, decode_frame
from app.errors import Conflict, DomainError, EngineUnavailable, InvalidInput, PayloadTooLarge, RateLimited
from app.inference.workers import inference_owner
from app.schemas import ws
from app.services.answering import AnswerPorts
from app.services.camera import CameraSession
from app.services.interview import Outcome
from app.services.metrics import check_client_metrics
from app.services.safe_json import json_safe

log = logging.getLogger(__name__)
router = APIRouter()

_FINISHING = ("session_complete", "session_ended")
_background: set[asyncio.Task[None]] = set()  # eviction closes in flight (kept referenced until done)


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        location = ".".join(str(p) for p in err["loc"] if p not in ws.CLIENT_TYPES) or "message"
        parts.append(f"{location}: {err['msg']}")
    return "; ".join(parts)


class Connection:
    """One client socket. Holds only which session it is bound to; the session lives in the database."""

    def __init__(self, websocket: WebSocket, services: Services, address: str = "unknown") -> None:
        self.websocket = websocket
        self.services = services
        self.address = address  # the client's address as uvicorn resolved it (trusted proxies only)
        self.session_id: str | None = None
        self.session_open = False
        self.limiter = RateLimiter(services.settings.edge.rate_limits_per_minute)
        self.closing: tuple[int, str] | None = None  # set when the server decided to close: (code, reason)
        self._waiting: asyncio.Task[Any] | None = None  # the receive loop, while it waits for a frame
        self.unexpected_binary = 0
        self._send_lock = asyncio.Lock()
        self.tts = False  # the bound session asked for the interviewer's voice
        self.camera = CameraSession(services.settings.head_pose)
        self._frames: FramePump | None = None
        self._speaker: SpeechPump | None = None
        self.answers = services.answering.desk(AnswerPorts(
            send=self.send, send_outcome=self.send_outcome, guarded=self.guarded, camera_metrics=self.camera_metrics,
            reply_voice=self.reply_voice,
            delta_sender=self.delta_sender, voice=lambda: self._speaker, check_metrics=self._check_metrics,
            say=lambda text, reply_to: self._say(None, text, reply_to),
        ))

    async def send(self, message: ws.ServerMessage) -> None:
        if message.session_id is None and self.session_id is not None:
            message = message.model_copy(update={"session_id": self.session_id})
        try:
            text = message.model_dump_json()
        except ValueError:  # e.g. a lone surrogate stored before the edge refused them: replaced, still sent
            log.warning("a %s message needed cleaning to be sent (session=%s)", message.type, self.session_id)
            text = json.dumps(json_safe(message.model_dump(mode="python")), default=str, ensure_ascii=False)
        async with self._send_lock:
            if self.closing is not None or self.websocket.application_state != WebSocketState.CONNECTED:
                return
            try:
                # uvicorn waits while the transport's buffer is full: a client that does not read
                # holds one bounded buffer for at most send_timeout_s, then the socket is closed.
                async with asyncio.timeout(self.services.settings.edge.send_timeout_s):
                    await self.websocket.send_text(text)
                self.answers.sent(message)
            except TimeoutError:
                security_log.warning("closing a socket that does not read (client=%s)", self.address)
                self._decide_close(1008, "client does not read")
            except (WebSocketDisconnect, RuntimeError, OSError):
                # The peer or a shutdown closed the socket; what was committed stays committed
                # and the client gets it again by resuming with last_seq.
                log.debug("send on a closed socket dropped (session=%s)", self.session_id)

    def _decide_close(self, code: int, reason: str) -> None:
        """Stop this socket: the receive loop closes it at once, or after the message in hand."""
        self.closing = self.closing or (code, reason)
        if self._waiting is not None and self._waiting is not asyncio.current_task():
            self._waiting.cancel()  # only ever while it waits for a frame, never mid-message

    async def close(self, code: int, reason: str) -> None:
        """Close from the server's side; a client that does not read cannot hold this up."""
        self.closing = self.closing or (code, reason)
        async with self._send_lock:
            if self.websocket.application_state != WebSocketState.CONNECTED:
                return
            try:
                await asyncio.wait_for(self.websocket.close(code=code, reason=reason), 1.0)
            except (TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
                pass  # returning from the handler lets uvicorn drop the connection

    async def evict(self) -> None:
        """Another socket resumed this session beyond the cap: this, the oldest, gives way."""
        await self.send_error(Conflict("this session was resumed on a newer connection", code="superseded"), None)
        self._decide_close(1008, "session resumed elsewhere")

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
        if isinstance(message, ws.SessionStarted | ws.SessionResumed | ws.StyleSwitched):
            self.answers.style = message.style
            if self.tts and self.services.voice is None:
                await self.send_error(EngineUnavailable("speech was asked for but the text-to-speech engine is not "
                                                        "available; the interview goes on in text"), message.reply_to)
        if isinstance(message, ws.QuestionMessage | ws.SessionResumed):
            self.camera.start_answer(time.monotonic())
        if speak and self.tts and isinstance(message, ws.QuestionMessage | ws.InterviewerMessage) and message.text:
            # An interviewer message may have been partly spoken while it was written: the rest only.
            self._say(message.seq, message.text, message.reply_to,
                      after_provisional=isinstance(message, ws.InterviewerMessage))

    def _say(self, seq: int | None, text: str, reply_to: str | None, *, after_provisional: bool = False) -> None:
        if (speaker := self._pump()) is not None:
            speaker.say(seq, text, reply_to, after_provisional=after_provisional)

    def _pump(self) -> SpeechPump | None:
        if self._speaker is None:
            voice = self.services.voice
            if voice is None:  # the client was told when the session started
                return None
            self._speaker = SpeechPump(voice, self.services.settings.tts.max_pending, self.send, self.send_error)
        return self._speaker

    def reply_voice(self, reply_to: str | None) -> Utterance | None:
        """Provisional speech for the reply to `reply_to`, when this session speaks."""
        speaker = self._pump() if self.tts else None
        return speaker.provisional(reply_to) if speaker is not None else None

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
            if self.closing is not None:
                await self.close(*self.closing)
                return
            try:
                self._waiting = asyncio.current_task()
                try:
                    frame = await asyncio.wait_for(self.websocket.receive(), idle_timeout)
                finally:
                    self._waiting = None
            except asyncio.CancelledError:
                if self.closing is None:
                    raise
                asyncio.current_task().uncancel()  # type: ignore[union-attr]
                continue
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
        if not self.answers.listening and not self.answers.turn_over:
            # Answered once; the rest are counted silently, and a flood closes the socket.
            self.unexpected_binary += 1
            if self.unexpected_binary == 1:
                await self.send_error(InvalidInput("binary frames are only accepted between audio_start and audio_end",
                                                   code="unexpected_binary"), None)
            elif self.unexpected_binary > self.services.settings.edge.max_unexpected_binary:
                security_log.warning("closing a socket that floods unexpected binary frames (client=%s)", self.address)
                self._decide_close(1008, "too many unexpected binary frames")
            return
        try:
            if not self.limiter.take("binary"):
                limit = self.limiter.limit("binary")
                security_log.warning("rate limited: type=binary limit=%d/min", limit)
                raise RateLimited(f"too many audio frames: at most {limit} per minute", code="rate_limited")
            self.answers.push(data)  # frames still in flight after the server ended the turn are dropped
        except DomainError as exc:  # the answer is dropped; the session goes on
            await self.send_error(exc, await self.answers.drop_stream())

    async def on_text(self, raw: str) -> None:
        reply_to: str | None = None
        try:
            if len(raw) > self.services.settings.limits.max_message_bytes:
                raise PayloadTooLarge(f"message is over {self.services.settings.limits.max_message_bytes} bytes")
            try:
                data: Any = json.loads(raw)
            except ValueError:
                raise InvalidInput("message is not valid JSON", code="invalid_json") from None
            except RecursionError:
                raise InvalidInput("message is nested too deeply", code="invalid_json") from None
            if not isinstance(data, dict):
                raise InvalidInput("message must be a JSON object", code="invalid_message")
            problem = ws.json_value_problem(data, self.services.settings.limits.max_json_depth)
            if isinstance(data.get("id"), str) and len(data["id"]) <= 128 and ws.json_value_problem(data["id"], 1) is None:
                reply_to = data["id"]
            if problem is not None:
                raise InvalidInput(f"invalid message: {problem}", code="invalid_message")
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

    def _bind(self, session_id: str) -> None:
        """This socket now holds the session's resume token; the oldest beyond the cap give way."""
        if session_id != self.session_id:
            self.services.session_sockets.release(self.session_id, self)
        self.session_id = session_id
        for other in self.services.session_sockets.bind(session_id, self):
            task = asyncio.create_task(other.evict())
            _background.add(task)
            task.add_done_callback(_background.discard)

    def _check_metrics(self, metrics: ws.ClientMetrics | None) -> dict[str, Any] | None:
        client = metrics.model_dump(exclude_none=True) if metrics else None
        limits = self.services.settings.limits
        check_client_metrics(client, limits.max_client_metrics_keys, limits.max_client_metric_bytes)
        return client

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
                self.services.client_caps.new_session(self.address)
                outcome, _token = await interview.start(message)
                self._bind(outcome.session_id)
                self.session_open = True
                await self.send_outcome(outcome)
            case ws.ResumeSession():
                outcome = await interview.resume(message)
                self._bind(outcome.session_id)
                self.session_open = outcome.messages[0].status == "active"  # type: ignore[union-attr]
                await self.send_outcome(outcome, speak=False)  # replayed text is not read out again
            case ws.UserAnswer():
                await self.answers.answer(self._bound(), message)
            case ws.SwitchStyle():
                await self.send_outcome(await interview.switch_style(self._bound(), message))
            case ws.CheckInMessage():
                session_id = self._bound()
                self.services.session_limits.check(session_id, "checkin")  # shared with POST /checkins
                await self.send_outcome(
                    await interview.checkin(session_id, message.confidence, message.stress, message.group, message.id)
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
                self.unexpected_binary = 0
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
    address = client_address(websocket.scope.get("client"))
    if not origin_allowed(websocket.headers, websocket.url.scheme, services.allowed_origins, services.allowed_hosts):
        security_log.warning("refused WebSocket origin (client=%s)", address)
        await websocket.close(code=1008)  # before accept: the handshake is answered with 403
        return
    await websocket.accept()
    connection = Connection(websocket, services, address)
    try:
        services.client_caps.open_socket(address)
    except DomainError as exc:
        await connection.send_error(exc, None)
        await connection.close(1013, "too many sockets from this address")
        return
    inference_owner.set(uuid.uuid4().hex)  # engines share their workers fairly between connections
    try:
        await connection.run()
    finally:
        services.client_caps.close_socket(address)
        services.session_sockets.release(connection.session_id, connection)
        await connection.aclose()
