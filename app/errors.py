"""Domain exceptions. Mapped once to HTTP (app/api/errors.py) and once to the WebSocket `error` message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the service reports to a client."""

    code = "error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps `code` (a keyword argument) when pickled across processes, e.g. from a Ray Serve replica.
        return (_restore, (type(self), self.message, dict(self.__dict__)))


def _restore(cls: type[DomainError], message: str, state: dict[str, Any]) -> DomainError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class InvalidInput(DomainError):
    code = "invalid_message"
    http_status = 422


class PayloadTooLarge(DomainError):
    code = "message_too_large"
    http_status = 413


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Unauthorized(DomainError):
    """No or wrong credentials for a protected endpoint."""

    code = "unauthorized"
    http_status = 401

    def __init__(self, message: str, *, code: str | None = None, challenge: str = "Bearer") -> None:
        super().__init__(message, code=code)
        self.challenge = challenge  # the WWW-Authenticate header value


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403


class Conflict(DomainError):
    """The request is well formed but does not fit the session's current state."""

    code = "conflict"
    http_status = 409


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429


class EngineUnavailable(DomainError):
    code = "engine_unavailable"
    http_status = 503
