"""The service's edge: Host allowlist, origin allowlist, rate limits, caps per client address and per session.

Starlette's CORS middleware does not apply to WebSockets, so the Origin header is checked
here at the handshake. Security events are logged without message contents or tokens.
Proxy headers are not read here: uvicorn's ProxyHeadersMiddleware (FORWARDED_ALLOW_IPS)
has already put the real client address and scheme into the ASGI scope when a trusted
proxy sent them.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import DomainError, RateLimited
from app.settings import EdgeSettings

security_log = logging.getLogger("app.security")

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


# --- Host and Origin -----------------------------------------------------------------------


def split_host(value: str) -> tuple[str, int | None]:
    """`Example.org:8000` -> ("example.org", 8000); `[::1]:80` -> ("::1", 80); a bad port -> (name, -1)."""
    value = value.strip().lower()
    port: str | None = None
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        if rest.startswith(":"):
            port = rest[1:]
        elif rest:
            return value, -1
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
    else:
        name = value  # a bare name, or an IPv6 address without brackets (no port then)
    if port is None:
        return name.rstrip("."), None
    return (name.rstrip("."), int(port)) if port.isdigit() and len(port) <= 5 else (name, -1)


def parse_hosts(raw: str, configured_host: str) -> frozenset[str]:
    """ALLOWED_HOSTS plus the loopback names and the address the service binds to (unless a wildcard)."""
    hosts = {h.strip().lower().rstrip(".") for h in raw.split(",") if h.strip()}
    hosts.update(LOOPBACK_NAMES)
    bound = split_host(configured_host)[0] if configured_host.strip() else ""
    if bound and bound not in {"0.0.0.0", "::", "*"}:  # a wildcard bind names no host
        hosts.add(bound)
    return frozenset(h.strip("[]") for h in hosts)


def host_allowed(name: str, allowed: frozenset[str]) -> bool:
    if "*" in allowed:
        return True
    name = name.lower().rstrip(".")
    if not name:
        return False
    if name in allowed:
        return True
    return any(a.startswith("*.") and name.endswith(a[1:]) for a in allowed)


def parse_origins(raw: str) -> frozenset[str]:
    return frozenset(o.strip().rstrip("/").lower() for o in raw.split(",") if o.strip())


def _default_port(scheme: str) -> int:
    return 443 if scheme in {"https", "wss"} else 80


def origin_allowed(headers: Headers, scheme: str, allowed_origins: frozenset[str], allowed_hosts: frozenset[str]) -> bool:
    """Browsers always send Origin; clients that send none (scripts, servers) are not a CSRF risk.

    An Origin is accepted when it is listed in ALLOWED_ORIGINS, or when its host is an allowed
    host and its scheme and port are the request's own (http for ws, https for wss). It is never
    compared with the request's Host header alone: that header is the attacker's to choose.
    """
    origin = headers.get("origin")
    if origin is None or "*" in allowed_origins:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin in allowed_origins:
        return True
    try:
        parts = urlsplit(origin)
        origin_port = parts.port
    except ValueError:
        return False
    expected_scheme = "https" if scheme in {"wss", "https"} else "http"
    if parts.scheme != expected_scheme or parts.hostname is None or parts.path or parts.query:
        return False
    if not host_allowed(parts.hostname, allowed_hosts):
        return False
    _, request_port = split_host(headers.get("host", ""))
    return (origin_port or _default_port(expected_scheme)) == (request_port or _default_port(expected_scheme))


class HostGuard:
    """Answers only requests whose Host header names an allowed host (DNS-rebinding defence).

    HTTP: 400 {"error": {"code": "invalid_host"}}. WebSocket: refused before the handshake (403).
    `GET /health` is exempt: it holds no participant data, and orchestrators' probes (HAProxy's
    HTTP/1.0 checks without Host, Kubernetes probes naming the pod IP) must reach it.
    """

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"} or "*" in self.allowed or (
                scope["type"] == "http" and scope.get("path") == "/health" and scope.get("method") in {"GET", "HEAD"}):
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope["headers"] if k == b"host"]
        name, port = split_host(values[0].decode("latin-1")) if len(values) == 1 else ("", None)
        if port != -1 and host_allowed(name, self.allowed):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        security_log.warning("refused Host header %r (client=%s)", b",".join(values)[:100].decode("latin-1"),
                             client[0] if client else "?")
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008, "reason": ""})
            return
        body = json.dumps({"error": {"code": "invalid_host", "message": "this Host header is not served here "
                                                                        "(see ALLOWED_HOSTS)"}}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


# --- rate limits --------------------------------------------------------------------------


class RateLimiter:
    """Token buckets per message type: a burst of up to a minute's allowance, refilled continuously."""

    def __init__(self, per_minute: dict[str, int]) -> None:
        self._per_minute = per_minute
        self._tokens: dict[str, float] = {}
        self._stamp: dict[str, float] = {}

    def limit(self, kind: str) -> int:
        return self._per_minute.get(kind, self._per_minute.get("*", 600))

    def take(self, kind: str) -> bool:
        """One token of `kind` if there is one (no log, no error: for frames that cannot be answered each)."""
        limit = self.limit(kind)
        now = time.monotonic()
        tokens = self._tokens.get(kind, float(limit))
        tokens = min(float(limit), tokens + (now - self._stamp.get(kind, now)) * limit / 60.0)
        self._stamp[kind] = now
        if tokens < 1.0:
            self._tokens[kind] = tokens
            return False
        self._tokens[kind] = tokens - 1.0
        return True

    def check(self, kind: str) -> None:
        if not self.take(kind):
            limit = self.limit(kind)
            security_log.warning("rate limited: type=%s limit=%d/min", kind, limit)
            raise RateLimited(f"too many {kind} messages: at most {limit} per minute", code="rate_limited")


class SharedBuckets:
    """Token buckets keyed by a string (a client address, a session id), shared by every socket and
    HTTP request of this process. Memory is bounded: beyond `max_keys` the least recently used go."""

    def __init__(self, capacity: int, period_s: float, max_keys: int = 100_000) -> None:
        self.capacity = capacity
        self.rate = capacity / period_s
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, stamp)

    def take(self, key: str) -> bool:
        now = time.monotonic()
        tokens, stamp = self._buckets.pop(key, (float(self.capacity), now))
        tokens = min(float(self.capacity), tokens + (now - stamp) * self.rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return allowed


class SessionLimits:
    """Per-session limits shared by the socket and the HTTP twins of its messages (POST /checkins)."""

    def __init__(self, per_minute: dict[str, int], kinds: Iterable[str] = ("checkin",)) -> None:
        self._buckets = {k: SharedBuckets(per_minute.get(k, per_minute.get("*", 600)), 60.0) for k in kinds}

    def check(self, session_id: str, kind: str) -> None:
        buckets = self._buckets.get(kind)
        if buckets is not None and not buckets.take(session_id):
            security_log.warning("rate limited: type=%s limit=%d/min per session", kind, buckets.capacity)
            raise RateLimited(f"too many {kind} messages for this session: at most {buckets.capacity} per minute",
                              code="rate_limited")


# --- caps per client address and per session ---------------------------------------------------


class ClientCaps:
    """Open sockets and new sessions per client address (the proxy-resolved one) in this process."""

    def __init__(self, settings: EdgeSettings) -> None:
        self._settings = settings
        self._open: Counter[str] = Counter()
        self._sessions = SharedBuckets(settings.sessions_per_client_per_hour, 3600.0)

    def open_socket(self, address: str) -> None:
        if self._open[address] >= self._settings.max_sockets_per_client:
            security_log.warning("socket cap per client address reached (client=%s)", address)
            raise DomainError(f"at most {self._settings.max_sockets_per_client} open sockets per client address",
                              code="too_many_sockets")
        self._open[address] += 1

    def close_socket(self, address: str) -> None:
        if self._open[address] > 0:
            self._open[address] -= 1
            if not self._open[address]:
                del self._open[address]

    def new_session(self, address: str) -> None:
        if not self._sessions.take(address):
            security_log.warning("new-session cap per client address reached (client=%s)", address)
            raise RateLimited(f"at most {self._settings.sessions_per_client_per_hour} new sessions per hour from one "
                              "client address", code="too_many_sessions")


class Evictable(Protocol):
    async def evict(self) -> None: ...


class SessionSockets:
    """Sockets bound to each session (by starting it, or by its resume token).

    A participant id is only a label anyone can type, so the cap is kept per session: sockets
    that hold the session's resume token. A valid resume always succeeds; beyond the cap the
    oldest socket of that session is closed instead (a reconnect loop cannot pile up sockets).
    """

    def __init__(self, settings: EdgeSettings) -> None:
        self._settings = settings
        self._bound: dict[str, list[Evictable]] = {}

    def bind(self, session_id: str, socket: Evictable) -> list[Evictable]:
        """Bind the socket; returns the sockets to close (the oldest beyond the cap)."""
        sockets = self._bound.setdefault(session_id, [])
        if socket in sockets:
            return []
        sockets.append(socket)
        evicted: list[Evictable] = []
        while len(sockets) > self._settings.max_sockets_per_session:
            evicted.append(sockets.pop(0))
        if evicted:
            security_log.warning("socket cap per session reached: %d oldest socket(s) closed", len(evicted))
        return evicted

    def release(self, session_id: str | None, socket: Evictable) -> None:
        if session_id is None:
            return
        sockets = self._bound.get(session_id, [])
        if socket in sockets:
            sockets.remove(socket)
        if not sockets:
            self._bound.pop(session_id, None)

    def count(self, session_id: str) -> int:
        return len(self._bound.get(session_id, ()))


def client_address(scope_client: Any) -> str:
    """The client's address as uvicorn resolved it (through trusted proxies only)."""
    if not scope_client:
        return "unknown"
    host = str(scope_client[0])
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if not address.is_loopback:  # one IPv6 client usually holds a whole /64: counted as one address
            return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
