"""Command line: `python -m app serve` runs the service; `python -m app export` writes research exports."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn

from app import cli_export
from app.settings import get_settings


class DrainingServer(uvicorn.Server):
    """On SIGTERM/SIGINT, refuse new sessions at once; uvicorn then closes sockets with 1012
    and gives in-flight turns the graceful-shutdown time to commit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the captured signal after shutdown, so a clean SIGTERM would end
        # with status -15; a finished graceful shutdown is a success and exits 0.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        services = getattr(getattr(self.config.app, "state", None), "services", None)
        if services is not None:
            services.draining = True
        super().handle_exit(sig, frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP/WebSocket service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    cli_export.add_parser(sub)
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.command == "export":
        return cli_export.run(settings, args)
    if args.command == "serve":
        from app.main import create_app

        app = create_app(settings)
        config = uvicorn.Config(
            app,
            host=args.host or settings.host,
            port=args.port or settings.port,
            ws_max_size=settings.limits.max_message_bytes,
            ws_per_message_deflate=False,
            log_level=settings.log_level.lower(),
            timeout_graceful_shutdown=int(settings.edge.shutdown_grace_s),
            # X-Forwarded-For/-Proto are believed only from these proxies (uvicorn's own middleware)
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
        DrainingServer(config).run()
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
