"""REST routes: health, the protocol schema and the HTTP twin of check-ins (research routes: research.py)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import text

from app import __version__
from app.api.container import Services
from app.inference.device import gpu_report, resolve_device
from app.schemas.ws import Group, Likert, json_value_problem, protocol_schema
from app.services.assessment.rubric import load_rubric

router = APIRouter()


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    svc = services(request)
    started = time.perf_counter()
    try:
        async with svc.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        database: dict[str, Any] = {"status": "ok", "dialect": svc.engine.dialect.name,
                                    "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
        database = {"status": "error", "dialect": svc.engine.dialect.name, "error": type(exc).__name__}
    engines = svc.engines.health()
    if svc.voice is not None and isinstance(engines.get("tts"), dict):
        engines["tts"] = {**engines["tts"], "cache": svc.voice.health()}
    status = "ok" if database["status"] == "ok" else "degraded"
    gpu = {**gpu_report(), "device_setting": svc.settings.device}
    try:
        gpu["device"] = resolve_device(svc.settings.device)
    except RuntimeError as exc:
        gpu["device"] = None
        gpu["error"] = str(exc)
    return {"status": status, "version": __version__, "database": database, "gpu": gpu, "engines": engines}


@router.get("/rubric")
async def rubric() -> dict[str, Any]:
    """The published rubric every answer is scored on (app/data/rubric.json)."""
    return load_rubric().raw


@router.get("/ws/interview/schema")
async def ws_schema() -> dict[str, Any]:
    """JSON Schema of every WebSocket message, client and server."""
    return protocol_schema()


class CheckInRequest(BaseModel):
    session_id: str = Field(min_length=1, max_length=64)
    resume_token: str = Field(min_length=1, max_length=128)
    confidence: Likert
    stress: Likert
    group: Group | None = None
    id: str | None = Field(None, min_length=1, max_length=128, description="client message id (idempotency)")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        # The same edge rule as the socket: valid Unicode, no NUL, finite numbers, shallow.
        if (problem := json_value_problem(data, 4)) is not None:
            raise ValueError(problem)
        return data


class CheckInResponse(BaseModel):
    checkin_id: int
    seq: int | None


@router.post("/checkins", status_code=201)
async def post_checkin(request: Request, body: CheckInRequest) -> CheckInResponse:
    svc = services(request)
    await svc.interview.authenticate(body.session_id, body.resume_token)
    svc.session_limits.check(body.session_id, "checkin")  # the socket's checkin limit, shared per session
    outcome = await svc.interview.checkin(body.session_id, body.confidence, body.stress, body.group, body.id)
    logged = outcome.messages[0]
    return CheckInResponse(checkin_id=logged.checkin_id, seq=logged.seq)  # type: ignore[union-attr]
