"""The browser client: `/` serves the interview page, `/static` its scripts and styles (no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
router = APIRouter()

# No inline script or style anywhere; the page may not be framed (clickjacking); the socket,
# the audio worklet and the scripts come from this origin only.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "media-src 'self' blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    # no-cache: a redeploy must not leave participants on an old page talking to a new protocol
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache", **SECURITY_HEADERS})
