"""Real uvicorn servers on free loopback ports for benchmarks (the tests' launcher, shared)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.live_server import running_server  # noqa: E402


@contextlib.contextmanager
def uvicorn_server(target: str, env: dict[str, str] | None = None, timeout_s: float = 240) -> Iterator[str]:
    """Run `uvicorn --factory <target>` in a subprocess; yield its base URL."""
    with running_server(env or {}, timeout=timeout_s, app_factory=target) as live:
        yield live.http
