"""The participant's report: `GET /sessions/{id}/report` (HTML), `.pdf` and `.json` (the end screen's data).

Access: the session's resume token (`Authorization: Bearer <token>` or `?token=`), or the researcher
token (researchers also from loopback while no token is configured, as for the other research routes).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.api.auth import local_caller, presented_token
from app.api.container import Services
from app.errors import Unauthorized
from app.services.report import ReportAccess, ReportService

router = APIRouter(tags=["report"])
Token = Annotated[str | None, Query(max_length=256, description="the session's resume token (or use a Bearer header)")]
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
            # Everything is inline; nothing may be fetched (the plots are inline SVG).
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"}


def _svc(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def _reports(request: Request) -> ReportService:
    svc = _svc(request)
    if svc.reports is None:
        svc.reports = ReportService(svc.sessionmaker, svc.content)
    return svc.reports


async def _open(request: Request, session_id: str, token: str | None) -> tuple[ReportAccess, str | None]:
    presented = token or presented_token(request.headers)
    secret = _svc(request).settings.research_api_token
    configured = secret.get_secret_value() if secret is not None else ""
    host = request.client.host if request.client else None
    if configured:
        researcher = presented is not None and hmac.compare_digest(
            hashlib.sha256(presented.encode()).digest(), hashlib.sha256(configured.encode()).digest())
    else:
        researcher = presented is None and local_caller(host, request.headers, _svc(request).settings.forwarded_allow_ips)
    if presented is None and not researcher:
        raise Unauthorized("the report needs the session's resume token (Authorization: Bearer <token> or ?token=)",
                           code="unauthorized")
    access = await _reports(request).open(session_id, presented, researcher=researcher)
    return access, presented if access.reader == "participant" else None


@router.get("/sessions/{session_id}/report", response_class=HTMLResponse)
async def report_html(request: Request, session_id: str, token: Token = None) -> HTMLResponse:
    """The report as a page: printable, readable on a phone, no external requests."""
    access, shown_token = await _open(request, session_id, token)
    reports = _reports(request)
    html = reports.html(await reports.data(access), token=shown_token if token else None)
    return HTMLResponse(html, headers=_HEADERS)


@router.get("/sessions/{session_id}/report.pdf")
async def report_pdf(request: Request, session_id: str, token: Token = None) -> Response:
    """The same report as PDF (WeasyPrint, from the same template)."""
    access, _ = await _open(request, session_id, token)
    reports = _reports(request)
    html = reports.html(await reports.data(access), pdf=True)
    pdf = await asyncio.to_thread(reports.pdf, html)
    return Response(pdf, media_type="application/pdf", headers={
        "Cache-Control": "no-store", "Content-Disposition": f'inline; filename="interview-report-{session_id[:8]}.pdf"'})


@router.get("/sessions/{session_id}/report.json")
async def report_json(request: Request, session_id: str, token: Token = None) -> dict[str, Any]:
    """The report's data: what the browser's end screen draws (plots as SVG strings)."""
    access, _ = await _open(request, session_id, token)
    reports = _reports(request)
    return reports.json_view(await reports.data(access))
