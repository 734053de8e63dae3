"""Builds the process's services and engines from settings (the composition root)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.api.guards import ClientCaps, SessionLimits, SessionSockets, parse_hosts, parse_origins
from app.db.engine import create_engine, create_sessionmaker
from app.db.migrate import upgrade_to_head
from app.inference.head_pose.factory import build_head_pose
from app.inference.registry import Engines
from app.inference.speech_metrics.factory import build_speech_metrics
from app.inference.stt.factory import build_stt
from app.inference.tts.factory import build_tts
from app.inference.turn.factory import build_turn
from app.services.answering import AnsweringService
from app.services.assessment.service import build_assessor
from app.services.coaching.factory import build_coach
from app.services.content import Content, load_content, with_study_overrides
from app.services.export import ExportService
from app.services.interview import InterviewService
from app.services.latency import LatencyService
from app.services.speech import SpeechService
from app.services.statistics import StatisticsService
from app.services.voice import VoiceService, style_texts
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    content: Content
    engines: Engines
    interview: InterviewService
    statistics: StatisticsService
    export: ExportService
    latency: LatencyService
    answering: AnsweringService
    voice: VoiceService | None = None
    speech: SpeechService | None = None
    reports: Any = None  # the ReportService, built on first use (app/api/report.py)
    draining: bool = False  # set on SIGTERM: no new sessions, turns in flight finish
    presynthesis: asyncio.Task[None] | None = None  # TTS__PRESYNTHESISE: fills the voice cache after start-up
    session_sockets: SessionSockets = field(init=False)
    client_caps: ClientCaps = field(init=False)
    session_limits: SessionLimits = field(init=False)
    allowed_origins: frozenset[str] = field(init=False)
    allowed_hosts: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.session_sockets = SessionSockets(self.settings.edge)
        self.client_caps = ClientCaps(self.settings.edge)
        self.session_limits = SessionLimits(self.settings.edge.rate_limits_per_minute)
        self.allowed_origins = parse_origins(self.settings.allowed_origins)
        self.allowed_hosts = parse_hosts(self.settings.allowed_hosts, self.settings.host)

    async def aclose(self) -> None:
        if self.presynthesis is not None:
            self.presynthesis.cancel()
            await asyncio.gather(self.presynthesis, return_exceptions=True)
        await self.engines.aclose()
        await self.engine.dispose()


def build_engines(settings: Settings) -> Engines:
    engines = Engines(coach=build_coach(settings))
    families: tuple[tuple[str, Callable[[Settings], Any]], ...] = (
        ("head_pose", build_head_pose), ("tts", build_tts), ("stt", build_stt), ("speech_metrics", build_speech_metrics),
        ("turn", build_turn),
    )
    if settings.inference.backend == "ray":  # the same protocols, served by Ray Serve deployments
        from app.inference.ray_serve.client import build_ray_engines

        engines = build_ray_engines(settings, engines)
        families = (("turn", build_turn),)  # per-stream state, a few ms a call: always in this process
    for name, factory in families:
        try:
            setattr(engines, name, factory(settings))
        except Exception as exc:  # a missing engine is reported by /health; the rest still runs
            log.exception("the %s engine could not be built", name)
            engines.errors[name] = f"{type(exc).__name__}: {exc}"
    return engines


def _llm_engine(engines: Engines) -> Any:
    """The coach's LLM engine, shared by the LLM scorer (one client, one circuit breaker)."""
    llm = getattr(engines.coach, "llm", None)
    return llm.engine if llm is not None else None


async def build_services(settings: Settings) -> Services:
    if settings.db.auto_migrate:
        await asyncio.to_thread(upgrade_to_head, settings.database_url)
    engine = create_engine(settings.database_url, settings.db)
    sessionmaker = create_sessionmaker(engine)
    content = with_study_overrides(load_content(), settings.study)
    engines = build_engines(settings)
    await engines.warm()
    interview = InterviewService(sessionmaker, content, engines.coach, settings.limits, settings.coach,
                                 build_assessor(settings, _llm_engine(engines)))
    speech = SpeechService(engines.stt, engines.speech_metrics, settings.speech, settings.stt)
    latency = LatencyService(sessionmaker)
    voice = _voice(engines, content, settings)
    services = Services(
        settings=settings,
        engine=engine,
        sessionmaker=sessionmaker,
        content=content,
        engines=engines,
        interview=interview,
        statistics=StatisticsService(sessionmaker, content.policy.abandoned_after_minutes, content.policy.attributes),
        export=ExportService(sessionmaker),
        latency=latency,
        answering=AnsweringService(interview, speech, engines.turn, latency, settings),
        voice=voice,
        speech=speech,
    )
    if voice is not None and settings.tts.presynthesise:
        # In the background: start-up and /health never wait for it.
        services.presynthesis = asyncio.create_task(_presynthesise(voice, content), name="tts-presynthesis")
    return services


def _voice(engines: Engines, content: Content, settings: Settings) -> VoiceService | None:
    if engines.tts is None:
        return None
    # Texts that recur across sessions: the bank's questions and what the style cards make the interviewer say.
    cacheable = frozenset(q.text for q in content.questions) | style_texts(content.styles.values())
    return VoiceService(engines.tts, cacheable, settings.tts.cache_entries)


async def _presynthesise(voice: VoiceService, content: Content) -> None:
    try:
        await voice.presynthesise(sorted(style_texts(content.styles.values())))
    except Exception:  # a cache that stays cold is no reason to fail anything
        log.exception("pre-synthesising the style cards' texts failed")
