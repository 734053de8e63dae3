"""The FastAPI application.

`create_app(settings)` builds an app; the module attribute `app` is the one for
`uvicorn app.main:app` (and `--reload`), built on first access from the environment, with the same
lifespan (models, engines, migrations) as `python -m app serve`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import __version__
from app.api import report, research, rest, web, ws
from app.api.container import build_services
from app.api.errors import install_http_handlers
from app.api.guards import HostGuard, parse_hosts
from app.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = await build_services(settings)
        try:
            yield
        finally:
            await app.state.services.aclose()

    app = FastAPI(title="Interview coach", version=__version__, lifespan=lifespan)
    install_http_handlers(app)
    app.include_router(rest.router)
    app.include_router(research.router)
    app.include_router(report.router)
    app.include_router(ws.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    # Outermost: a request for a Host this service does not answer to goes no further.
    app.add_middleware(HostGuard, allowed=parse_hosts(settings.allowed_hosts, settings.host))
    return app


_default_app: FastAPI | None = None


def __getattr__(name: str) -> Any:
    # `uvicorn app.main:app` reads the attribute `app`. It is built on first access, not at import,
    # so importing create_app (tests, the CLI) neither reads the environment nor configures logging.
    global _default_app
    if name == "app":
        if _default_app is None:
            _default_app = create_app()
        return _default_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
