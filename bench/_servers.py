"""Real uvicorn servers on free loopback ports for benchmarks (the tests' launcher, shared)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.live_server import running_server  # noqa: E402

# A benchmark is one client address opening hundreds of sockets and sessions: lift the per-address caps.
LOAD_GENERATOR = {"EDGE__MAX_SOCKETS_PER_CLIENT": "100000", "EDGE__SESSIONS_PER_CLIENT_PER_HOUR": "10000000"}


@contextlib.contextmanager
def uvicorn_server(target: str, env: dict[str, str] | None = None, timeout_s: float = 240) -> Iterator[str]:
    """Run `uvicorn --factory <target>` in a subprocess; yield its base URL."""
    with running_server(LOAD_GENERATOR | (env or {}), timeout=timeout_s, app_factory=target) as live:
        yield live.http
