"""Run the real service (`python -m app serve`) in a subprocess on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/interview"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


@contextlib.contextmanager
def running_server(
    env: dict[str, str], timeout: float = 240, app_factory: str | None = None, factory: bool = True
) -> Iterator[LiveServer]:
    """A server for the duration of a `with` block (the timeout allows model loads on a busy machine)."""
    server = start_server(env, timeout=timeout, app_factory=app_factory, factory=factory)
    try:
        yield server
    finally:
        try:
            server.stop(timeout=40)
        except subprocess.TimeoutExpired:
            server.process.kill()


def start_server(
    env: dict[str, str], port: int | None = None, timeout: float = 120, app_factory: str | None = None,
    factory: bool = True, log_path: Path | None = None,
) -> LiveServer:
    """`python -m app serve`, or plain uvicorn on `app_factory` (e.g. a comparison app in a benchmark;
    `factory=False`: an app object such as `app.main:app`).

    `log_path`: the server's stdout and stderr go to this file (for tests that read its log)."""
    port = port or free_port()
    full_env = {**os.environ, "LOG_LEVEL": "WARNING", "NVIDIA_API_KEY": "", **env}
    argv = [sys.executable, "-m", "app", "serve", "--port", str(port)]
    if app_factory is not None:
        argv = [sys.executable, "-m", "uvicorn", *(["--factory"] if factory else []), app_factory,
                "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--ws-per-message-deflate", "false"]
    log = log_path.open("ab") if log_path is not None else None
    try:
        process = subprocess.Popen(argv, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT if log else None)
    finally:
        if log is not None:
            log.close()  # the child holds its own descriptor
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return LiveServer(process, port)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}") from None
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("server did not become healthy") from None
            time.sleep(0.2)
