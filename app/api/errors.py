"""Domain errors, mapped once to HTTP responses and once to the socket's `error` message."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from app.errors import DomainError, EngineUnavailable, Unauthorized
from app.schemas.ws import ErrorMessage
from app.services.safe_json import json_safe

# The database is down or restarting: the pool's pre-ping reconnects once it is back, so the
# client can resend the same message (same id) and nothing is lost or duplicated.
DATABASE_DOWN = (OperationalError, InterfaceError, OSError)


def database_unavailable() -> EngineUnavailable:
    return EngineUnavailable("the database is unavailable; resend the message in a moment", code="database_unavailable")


def to_ws_error(exc: DomainError, session_id: str | None, reply_to: str | None) -> ErrorMessage:
    return ErrorMessage(session_id=session_id, reply_to=reply_to, code=exc.code, message=exc.message)


def install_http_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(_request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": exc.challenge} if isinstance(exc, Unauthorized) else None
        return JSONResponse(status_code=exc.http_status, content={"error": {"code": exc.code, "message": exc.message}},
                            headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the input, which may be a lone surrogate, NaN or deeply nested
        # (and then cannot be written as JSON): where and why, never the value itself.
        detail = [{"loc": [str(p) for p in err.get("loc", ())], "msg": str(err.get("msg", "")),
                   "type": str(err.get("type", ""))} for err in exc.errors()[:20]]
        return JSONResponse(status_code=422, content={"detail": json_safe(detail)})

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        return await _domain_error(request, database_unavailable())
