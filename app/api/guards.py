"""The socket's edge: origin allowlist, per-type rate limits, sockets per participant.

Starlette's CORS middleware does not apply to WebSockets, so the Origin header is checked
here at the handshake. Security events are logged without message contents or tokens.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from app.errors import DomainError, RateLimited
from app.settings import EdgeSettings

security_log = logging.getLogger("app.security")


def parse_origins(raw: str) -> frozenset[str]:
    return frozenset(o.strip().rstrip("/").lower() for o in raw.split(",") if o.strip())


def origin_allowed(websocket: WebSocket, allowed: frozenset[str]) -> bool:
    """Browsers always send Origin; clients that send none (scripts, servers) are not a CSRF risk."""
    origin = websocket.headers.get("origin")
    if origin is None or "*" in allowed:
        return True
    origin = origin.rstrip("/").lower()
    if origin in allowed:
        return True
    host = websocket.headers.get("host", "").lower()
    parts = urlsplit(origin)
    return bool(host) and parts.netloc == host and parts.scheme in {"http", "https"}


class RateLimiter:
    """Token buckets per message type: a burst of up to a minute's allowance, refilled continuously."""

    def __init__(self, per_minute: dict[str, int]) -> None:
        self._per_minute = per_minute
        self._tokens: dict[str, float] = {}
        self._stamp: dict[str, float] = {}

    def check(self, kind: str) -> None:
        limit = self._per_minute.get(kind, self._per_minute.get("*", 600))
        now = time.monotonic()
        tokens = self._tokens.get(kind, float(limit))
        tokens = min(float(limit), tokens + (now - self._stamp.get(kind, now)) * limit / 60.0)
        self._stamp[kind] = now
        if tokens < 1.0:
            self._tokens[kind] = tokens
            security_log.warning("rate limited: type=%s limit=%d/min", kind, limit)
            raise RateLimited(f"too many {kind} messages: at most {limit} per minute", code="rate_limited")
        self._tokens[kind] = tokens - 1.0


class ParticipantSockets:
    """Open sockets per participant in this process (a cap against runaway reconnect loops)."""

    def __init__(self, settings: EdgeSettings) -> None:
        self._settings = settings
        self._open: Counter[str] = Counter()

    def acquire(self, participant_id: str | None) -> None:
        if participant_id is None:
            return
        if self._open[participant_id] >= self._settings.max_sockets_per_participant:
            security_log.warning("socket cap reached for a participant")
            raise DomainError(
                f"at most {self._settings.max_sockets_per_participant} open sockets per participant",
                code="too_many_sockets",
            )
        self._open[participant_id] += 1

    def release(self, participant_id: str | None) -> None:
        if participant_id is not None and self._open[participant_id] > 0:
            self._open[participant_id] -= 1
            if not self._open[participant_id]:
                del self._open[participant_id]
