"""Typed messages of `/ws/interview`: one pydantic model per `type`, joined in discriminated unions."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

Group = Literal["control", "treatment"]
MAX_SAFE_INTEGER = 2**53 - 1  # beyond it JavaScript (and many JSON readers) round integers


def json_value_problem(value: Any, max_depth: int) -> str | None:
    """Why a parsed client JSON value cannot be stored and exported faithfully, or None.

    Every string (keys too) must be valid Unicode without NUL (a lone surrogate from a `\\ud800`
    escape cannot be encoded as UTF-8; PostgreSQL refuses NUL); every number finite and within
    +-(2^53 - 1); nesting at most `max_depth` deep. Iterative, so depth costs no recursion.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return "strings must be valid Unicode (lone surrogate escapes are refused)"
            if "\x00" in item:
                return "strings must not contain NUL (\\u0000)"
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                return f"integers must be within +-{MAX_SAFE_INTEGER}"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "numbers must be finite (NaN and Infinity are not JSON)"
        elif isinstance(item, dict | list):
            if depth > max_depth:
                return f"objects and arrays may be nested at most {max_depth} deep"
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
    return None
ClientId = Annotated[str, Field(min_length=1, max_length=128)]
Likert = Annotated[int, Field(ge=1, le=7)]
TurnDetection = Literal["auto", "manual"]


class _Client(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: ClientId | None = None


# --- client -> server -------------------------------------------------------------------


class StartSession(_Client):
    type: Literal["start_session"]
    style: str = Field("neutral", max_length=32)
    group: Group | None = None
    participant_id: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    role: str | None = Field(None, max_length=200)
    job_description: str | None = Field(None, max_length=4000)
    question_count: int | None = Field(None, ge=1, le=20)
    tts: bool = False
    turn_detection: TurnDetection = Field("manual", description="auto: the server decides when a streamed answer is "
                                          "over (turn_detected), and candidate speech interrupts the interviewer's voice")
    mode: Literal["study", "practice"] = Field(
        "study", description="practice: someone practising alone (everything on, kept out of study summaries)")
    randomise: bool = Field(False, description="without a group: let the server assign one by block randomisation")
    attributes: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=64)]] | None = Field(
        None, max_length=16,
        description="optional self-reported attributes declared in the study policy (e.g. native_english: yes)")

    @field_validator("participant_id", mode="before")
    @classmethod
    def _pseudonymous(cls, value: Any) -> Any:
        # Checked before the pattern so the participant learns why, not just which characters.
        if isinstance(value, str) and "@" in value:
            raise ValueError("participant ids are pseudonymous codes (e.g. P-017); e-mail addresses are not stored")
        return value


class ResumeSession(_Client):
    type: Literal["resume_session"]
    session_id: str = Field(min_length=1, max_length=64)
    resume_token: str = Field(min_length=1, max_length=128)
    last_seq: int | None = Field(None, ge=0)
    turn_detection: TurnDetection = "manual"


class ClientMetrics(BaseModel):
    """Metrics measured in the browser. Kept as sent; server measurements take precedence."""

    model_config = ConfigDict(extra="allow")
    speakingRate: float | None = Field(None, ge=0, le=600, description="words per minute")
    pauseRatio: float | None = Field(None, ge=0, le=1)
    gaze: float | None = Field(None, ge=0, le=1, description="share of time looking at the camera")
    fillers: int | None = Field(None, ge=0, le=10_000, description="filler words counted")
    fillersPerMin: float | None = Field(None, ge=0, le=600)
    durationSec: float | None = Field(None, ge=0, le=3600)
    latencyMs: float | None = Field(None, ge=0, le=3_600_000, description="question shown to answer started")


class UserAnswer(_Client):
    type: Literal["user_answer"]
    answer: str | None = None
    audio: str | None = Field(None, description="base64 of a WAV/FLAC/OGG/WebM/MP3 clip")
    question_id: str | None = Field(None, max_length=64)
    metrics: ClientMetrics | None = None


class SwitchStyle(_Client):
    type: Literal["switch_style"]
    style: str = Field(max_length=32)


class CheckInMessage(_Client):
    type: Literal["checkin"]
    group: Group | None = None
    confidence: Likert
    stress: Likert


class Telemetry(_Client):
    type: Literal["telemetry"]
    event: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    latencyMs: float | None = Field(None, ge=0, le=3_600_000)
    data: dict[str, Any] | None = None


class Ping(_Client):
    type: Literal["ping"]


class EndSession(_Client):
    type: Literal["end_session"]


class VideoFrame(_Client):
    """One webcam frame; answered by `head_pose` unless a newer frame replaced it first."""

    type: Literal["video_frame"]
    image: str = Field(min_length=1, description="base64 of a JPEG, PNG or WebP image (a data: URL prefix is accepted)")
    t: float | None = Field(None, description="client timestamp, echoed in head_pose")


class Calibrate(_Client):
    """Take the current pose (faces of the last second) as looking at the camera."""

    type: Literal["calibrate"]


class AudioStart(_Client):
    """Begin a streamed spoken answer: binary frames of mono little-endian PCM16 follow, then `audio_end`."""

    type: Literal["audio_start"]
    sample_rate: int = Field(ge=8000, le=48000)
    encoding: Literal["pcm16"] = "pcm16"
    question_id: str | None = Field(None, max_length=64)
    metrics: ClientMetrics | None = None


class RetryQuestion(_Client):
    """Practise a question of this session once more (also after it ended); the report compares the attempts."""

    type: Literal["retry_question"]
    question_id: str = Field(min_length=1, max_length=64)


class AudioEnd(_Client):
    """The streamed answer is complete: answered by `transcript_final`, then as a text `user_answer`."""

    type: Literal["audio_end"]


ClientMessage = Annotated[
    StartSession | ResumeSession | UserAnswer | SwitchStyle | CheckInMessage | Telemetry | Ping | EndSession
    | VideoFrame | Calibrate | AudioStart | AudioEnd | RetryQuestion,
    Field(discriminator="type"),
]
client_message_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
CLIENT_TYPES = frozenset(
    m.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for m in (StartSession, ResumeSession, UserAnswer, SwitchStyle, CheckInMessage, Telemetry, Ping, EndSession,
              VideoFrame, Calibrate, AudioStart, AudioEnd, RetryQuestion)
)


# --- server -> client -------------------------------------------------------------------


class _Server(BaseModel):
    session_id: str | None = None
    seq: int | None = Field(None, description="per-session number of durable (replayable) messages")
    reply_to: str | None = None


class QuestionPayload(BaseModel):
    question_id: str
    index: int
    text: str
    category: str
    follow_up: bool = False


class QuestionMessage(_Server, QuestionPayload):
    type: Literal["question"] = "question"


class SessionStarted(_Server):
    type: Literal["session_started"] = "session_started"
    resume_token: str
    style: str
    group: Group
    styles: list[str]
    question_count: int
    participant_id: str | None = None
    tts: bool = False
    turn_detection: TurnDetection = "manual"


class SessionResumed(_Server):
    type: Literal["session_resumed"] = "session_resumed"
    participant_id: str | None = None
    style: str
    group: Group
    styles: list[str]
    question_count: int
    status: str
    answered: int
    question: QuestionPayload | None
    replayed: int = 0
    replay_complete: bool = True
    tts: bool = False
    turn_detection: TurnDetection = "manual"


class InterviewerMessage(_Server):
    type: Literal["interviewer_message"] = "interviewer_message"
    text: str
    follow_up: bool = False


class InterviewerMessageDelta(_Server):
    """Ephemeral (no seq, never replayed): a piece of the interviewer message while an LLM writes it.
    Provisional: the `interviewer_message` that follows is the one to keep and replaces the pieces."""

    type: Literal["interviewer_message_delta"] = "interviewer_message_delta"
    text: str


class Tip(BaseModel):
    kind: str
    text: str
    evidence: str


class TipsMessage(_Server):
    type: Literal["tips"] = "tips"
    items: list[Tip]
    source: Literal["heuristic", "llm"]


class AnswerMetricsMessage(_Server):
    type: Literal["answer_metrics"] = "answer_metrics"
    answer_id: int
    metrics: dict[str, Any]
    client_metrics: dict[str, Any] | None = None


class AssessmentMessage(_Server):
    """The answer's scores on the published rubric (GET /rubric), after its answer_metrics."""

    type: Literal["assessment"] = "assessment"
    answer_id: int
    scores: dict[str, int | None] = Field(description="dimension -> 1..5; null when not measured")
    overall: float | None
    evidence: dict[str, str | None] = Field(description="dimension -> the candidate's words (quoted) or the measures")
    reasons: dict[str, str]
    improve: str = Field(description="what a stronger answer would add")
    source: Literal["heuristic", "llm"]
    rubric_version: int
    delivery_parts: dict[str, int | None] = Field(default_factory=dict)


class SessionComplete(_Server):
    type: Literal["session_complete"] = "session_complete"
    summary: dict[str, Any]
    report_url: str | None = Field(None, description="the report (add ?token=<resume_token>); .pdf for the PDF")


class StyleSwitched(_Server):
    type: Literal["style_switched"] = "style_switched"
    style: str
    previous: str


class CheckInLogged(_Server):
    type: Literal["checkin_logged"] = "checkin_logged"
    checkin_id: int


class TelemetryLogged(_Server):
    type: Literal["telemetry_logged"] = "telemetry_logged"
    event: str


class Pong(_Server):
    type: Literal["pong"] = "pong"


class SessionEnded(_Server):
    type: Literal["session_ended"] = "session_ended"
    summary: dict[str, Any]
    report_url: str | None = Field(None, description="the report (add ?token=<resume_token>); .pdf for the PDF")


class HeadPose(_Server):
    """Ephemeral (seq None): the analysis of one video_frame (reply_to = its id)."""

    type: Literal["head_pose"] = "head_pose"
    face_detected: bool
    yaw: float | None = Field(None, description="degrees, > 0 = face turned toward the image's left")
    pitch: float | None = Field(None, description="degrees, > 0 = looking up")
    roll: float | None = Field(None, description="degrees, > 0 = eye line rotated clockwise in the image")
    looking_at_camera: bool
    eye_contact_score: float = Field(ge=0, le=1)
    attention_score: float = Field(ge=0, le=1)
    t: float | None = None
    frames_dropped: int = Field(0, description="frames of this socket replaced by newer ones so far")


class Calibrated(_Server):
    """The neutral pose now in use; reply_to is the calibrate id, or None after automatic calibration."""

    type: Literal["calibrated"] = "calibrated"
    yaw: float
    pitch: float
    roll: float
    source: Literal["client", "auto"] = "client"


class SpeechAudio(_Server):
    """Ephemeral: one sentence of the interviewer speaking the message numbered reply_to_seq.
    Provisional speech (`provisional`: true, reply_to_seq null) is spoken while the reply is still being
    written, before its durable `interviewer_message` exists; reply_to names the answer it replies to."""

    type: Literal["speech_audio"] = "speech_audio"
    reply_to_seq: int | None = Field(description="the seq of the question or interviewer_message spoken; null for "
                                                 "provisional speech")
    chunk_index: int = Field(description="0-based sentence number within reply_to_seq's speech (provisional: within "
                                         "the reply's provisional speech)")
    last: bool = Field(description="no further chunk of this utterance comes (provisional speech may also end "
                                   "without one: its interviewer_message ends it)")
    provisional: bool = Field(False, description="spoken ahead of the durable interviewer_message of reply_to, "
                                                 "which is then spoken only where it goes beyond what was said")
    text: str
    sample_rate: int
    encoding: Literal["pcm16"] = "pcm16"
    channels: int = 1
    audio: str = Field(description="base64 of mono signed 16-bit little-endian PCM (no header)")


class TranscriptPartial(_Server):
    """Ephemeral: the transcript so far of the answer being streamed (at least every 2 s of speech)."""

    type: Literal["transcript_partial"] = "transcript_partial"
    text: str


class TranscriptWord(BaseModel):
    word: str
    start: float = Field(description="seconds from the start of the answer")
    end: float
    probability: float


class TranscriptFinal(_Server):
    """Ephemeral: the full transcript of a spoken answer; the answer replies (stored, numbered) follow."""

    type: Literal["transcript_final"] = "transcript_final"
    text: str
    words: list[TranscriptWord]
    duration_s: float


class TurnDetected(_Server):
    """Ephemeral, auto mode: the server decided the streamed answer is over (as if audio_end had come);
    transcript_final and the answer replies follow. reply_to is the audio_start id."""

    type: Literal["turn_detected"] = "turn_detected"
    reason: Literal["smart_turn", "silence"] = Field(description="smart_turn: the end-of-turn model at a pause; "
                                                     "silence: TURNS__MAX_PAUSE_S without speech")
    silence_ms: int = Field(description="silence between the end of speech and the decision")
    probability: float | None = Field(None, description="the end-of-turn model's last probability")


class TurnState(_Server):
    """Ephemeral, auto mode: what the server hears of the streamed answer (for the client's display)."""

    type: Literal["turn_state"] = "turn_state"
    state: Literal["speaking", "thinking_pause"]
    probability: float | None = None


class SpeechInterrupted(_Server):
    """Durable: the candidate spoke over the interviewer, whose message reply_to_seq stops being spoken;
    heard_chunks of its speech_audio chunks had been sent."""

    type: Literal["speech_interrupted"] = "speech_interrupted"
    reply_to_seq: int | None
    heard_chunks: int


class ErrorMessage(_Server):
    type: Literal["error"] = "error"
    code: str
    message: str


ServerMessage = Annotated[
    SessionStarted
    | SessionResumed
    | QuestionMessage
    | InterviewerMessage
    | InterviewerMessageDelta
    | TipsMessage
    | AnswerMetricsMessage
    | AssessmentMessage
    | SessionComplete
    | StyleSwitched
    | CheckInLogged
    | TelemetryLogged
    | Pong
    | SessionEnded
    | HeadPose
    | Calibrated
    | SpeechAudio
    | TranscriptPartial
    | TranscriptFinal
    | TurnDetected
    | TurnState
    | SpeechInterrupted
    | ErrorMessage,
    Field(discriminator="type"),
]
server_message_adapter: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)


def protocol_schema() -> dict[str, Any]:
    """JSON Schema of every client and server message."""
    return {
        "client": client_message_adapter.json_schema(),
        "server": server_message_adapter.json_schema(),
    }
