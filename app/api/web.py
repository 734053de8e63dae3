"""The browser client: `/` serves the interview page, `/static` its scripts and styles (no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
router = APIRouter()


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    # no-cache: a redeploy must not leave participants on an old page talking to a new protocol
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})
