"""Researcher endpoints: summary, dashboard series, exports, codebook, erasure and the dashboard.

Every route here depends on `require_researcher` (a Bearer token, or loopback when none is set).
Exports and deletions are written to the append-only audit log: who, when, which parameters.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse

from app.api.auth import Researcher, require_researcher
from app.api.container import Services
from app.api.web import SECURITY_HEADERS
from app.db.repositories.statistics import SummaryFilters
from app.errors import NotFound
from app.services.research import ResearchService

router = APIRouter(tags=["research"])
Caller = Annotated[Researcher, Depends(require_researcher)]
DASHBOARD_HTML = Path(__file__).with_name("dashboard.html")
# Script and styles are files under /static (no 'unsafe-inline'); the page may not be framed.
DASHBOARD_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                 "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

Since = Annotated[datetime | None, Query(description="sessions created at or after (ISO 8601)")]
Until = Annotated[datetime | None, Query(description="sessions created before (ISO 8601)")]
Style = Annotated[str | None, Query(max_length=32, description="style in effect when each record was made")]


def _svc(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _research(request: Request) -> ResearchService:
    return ResearchService(_svc(request).sessionmaker)


def _params(**values: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items() if v is not None}


@router.get("/metrics/summary")
async def metrics_summary(
    request: Request, _: Caller, since: Since = None, until: Until = None, style: Style = None,
    by: Annotated[str | None, Query(max_length=64, description="a self-reported attribute declared in the study "
                                                                 "policy: every measure per value (fairness)")] = None,
) -> dict[str, Any]:
    filters = SummaryFilters(since=since, until=until, style=style)
    summary = await _svc(request).statistics.summary(filters, by)
    summary["latency"] = await _svc(request).latency.summary(filters)
    return summary


@router.get("/metrics/sessions")
async def metrics_sessions(
    request: Request, _: Caller, metric: Annotated[str, Query(max_length=64)], since: Since = None,
    until: Until = None, style: Style = None, limit: Annotated[int, Query(ge=1, le=200_000)] = 20_000,
) -> dict[str, Any]:
    """Per-session means of one metric by group, newest sessions first (for distribution plots)."""
    return await _svc(request).statistics.session_means(metric, SummaryFilters(since, until, style), limit)


@router.get("/metrics/timeline")
async def metrics_timeline(request: Request, _: Caller, since: Since = None, until: Until = None,
                           style: Style = None) -> dict[str, Any]:
    """Sessions started and completed per UTC day and group."""
    return await _svc(request).statistics.timeline(SummaryFilters(since, until, style))


@router.get("/export/session/{session_id}")
async def export_session(request: Request, session_id: str, who: Caller) -> dict[str, Any]:
    research = _research(request)
    try:
        record = await _svc(request).export.session(session_id)
    except NotFound:
        await research.audit(who.actor, "export.session", target=session_id, outcome="not_found")
        raise
    await research.audit(who.actor, "export.session", target=session_id)
    return record


@router.get("/export/sessions")
async def export_sessions(
    request: Request, who: Caller, since: Since = None, until: Until = None,
    after: Annotated[str | None, Query(max_length=64, description="session id of the previous page's last line")] = None,
    limit: Annotated[int | None, Query(ge=1, le=1_000_000, description="most sessions in this response")] = None,
) -> StreamingResponse:
    """Sessions in (created_at, id) order as NDJSON, streamed page by page."""
    export = _svc(request).export
    cursor = await export.sessions_cursor(after)
    await _research(request).audit(who.actor, "export.sessions",
                                   params=_params(since=since, until=until, after=after, limit=limit), outcome="streamed")
    return StreamingResponse(export.sessions_ndjson(SummaryFilters(since, until), cursor, limit),
                             media_type="application/x-ndjson")


@router.get("/export/answers.csv")
async def export_answers_csv(request: Request, who: Caller, since: Since = None, until: Until = None,
                             style: Style = None) -> StreamingResponse:
    """One row per answer (tidy long form); columns described by /export/codebook.json."""
    await _research(request).audit(who.actor, "export.answers_csv", params=_params(since=since, until=until, style=style),
                                   outcome="streamed")
    return StreamingResponse(
        _svc(request).export.answers_csv(SummaryFilters(since, until, style)), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="answers.csv"'},
    )


@router.get("/export/codebook.json")
async def export_codebook(request: Request, _: Caller) -> dict[str, Any]:
    svc = _svc(request)
    identity = ("engine", "backend", "model", "voice", "device", "compute_type", "status")
    engines = {name: {k: v for k, v in health.items() if k in identity}
               for name, health in svc.engines.health().items() if isinstance(health, dict)}
    return await _research(request).codebook(svc.settings, svc.content.policy, engines)


@router.delete("/sessions/{session_id}", status_code=204)
async def delete_session(request: Request, session_id: str, who: Caller) -> Response:
    """Erase the session and every row that belongs to it. Idempotent: 204 whether or not it existed."""
    await _research(request).erase_session(session_id, who.actor)
    return Response(status_code=204)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(_: Caller) -> HTMLResponse:
    """Self-contained page (no external scripts): plots drawn as SVG by its own script."""
    return HTMLResponse(DASHBOARD_HTML.read_text(encoding="utf-8"),
                        headers={"Cache-Control": "no-store", **SECURITY_HEADERS, "Content-Security-Policy": DASHBOARD_CSP})
