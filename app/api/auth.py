"""Who may call the researcher endpoints.

With `RESEARCH_API_TOKEN` set: `Authorization: Bearer <token>` (or HTTP Basic with the token as
the password, so a browser can open the dashboard and its download links). Without a token:
only clients on the loopback interface, so the embedded default stays usable on a laptop and
refuses the network on a server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
from dataclasses import dataclass

from fastapi import Request
from pydantic import SecretStr
from starlette.datastructures import Headers

from app.errors import Forbidden, Unauthorized

log = logging.getLogger(__name__)

BEARER_CHALLENGE = 'Bearer realm="research"'
BASIC_CHALLENGE = 'Basic realm="research", charset="UTF-8"'


@dataclass(frozen=True)
class Researcher:
    """The caller, as the audit log names it: a token fingerprint or "loopback"."""

    actor: str


def token_fingerprint(token: str) -> str:
    """Names a token in the audit log without revealing it."""
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:12]


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name (e.g. Starlette's "testclient") is not an address on the loopback interface


def proxied_from_elsewhere(headers: Headers) -> bool:
    """Whether proxy headers say the request did not start on this machine.

    The client address itself comes from uvicorn, which applies X-Forwarded-For only from the
    proxies in FORWARDED_ALLOW_IPS. This check only ever refuses: any `Forwarded` line (RFC 7239,
    which uvicorn does not read, so its origin cannot be trusted), or any X-Forwarded-For line
    naming a non-loopback address (a proxy uvicorn was not told to trust), means "not local".
    """
    if headers.getlist("forwarded"):
        return True
    for line in headers.getlist("x-forwarded-for"):
        if not all(is_loopback(h) for h in line.split(",")):
            return True
    return False


def local_caller(client_host: str | None, headers: Headers, forwarded_allow_ips: str = "127.0.0.1") -> bool:
    """The loopback rule used when no RESEARCH_API_TOKEN is set (researcher endpoints, reports).

    With FORWARDED_ALLOW_IPS=* any client could name 127.0.0.1 in X-Forwarded-For, so then no
    caller counts as local and a token is needed."""
    if "*" in {p.strip() for p in forwarded_allow_ips.split(",")}:
        return False
    return is_loopback(client_host) and not proxied_from_elsewhere(headers)


def presented_token(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def authorize(configured: SecretStr | None, client_host: str | None, headers: Headers, path: str,
              forwarded_allow_ips: str = "127.0.0.1") -> Researcher:
    """The access rule itself, free of FastAPI so it can be tested with any host and headers."""
    challenge = BASIC_CHALLENGE if path.rstrip("/") == "/dashboard" else BEARER_CHALLENGE
    secret = configured.get_secret_value() if configured is not None else ""
    if secret:
        token = presented_token(headers)
        # Compare digests: constant time, and the same length whatever was presented.
        if token is not None and hmac.compare_digest(hashlib.sha256(token.encode()).digest(),
                                                     hashlib.sha256(secret.encode()).digest()):
            return Researcher(token_fingerprint(secret))
        log.warning("refused %s from %s: %s", path, client_host, "no token" if token is None else "wrong token")
        raise Unauthorized("a research API token is required (Authorization: Bearer <token>)",
                           code="unauthorized", challenge=challenge)
    # Behind a local proxy every connection comes from loopback: uvicorn has already replaced the
    # address with the trusted proxy's X-Forwarded-For; other proxy headers only ever refuse.
    if local_caller(client_host, headers, forwarded_allow_ips):
        return Researcher("loopback")
    log.warning("refused %s from %s: not loopback and RESEARCH_API_TOKEN is not set", path, client_host)
    raise Forbidden("researcher endpoints answer only to loopback clients until RESEARCH_API_TOKEN is set",
                    code="research_loopback_only")


async def require_researcher(request: Request) -> Researcher:
    """FastAPI dependency guarding every researcher endpoint."""
    settings = request.app.state.services.settings
    host = request.client.host if request.client else None
    return authorize(settings.research_api_token, host, request.headers, request.url.path,
                     settings.forwarded_allow_ips)
