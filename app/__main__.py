"""Command line: `python -m app serve` runs the service; `python -m app export` writes research exports."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from app import cli_export
from app.settings import get_settings


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

        uvicorn.run(
            create_app(settings),
            host=args.host or settings.host,
            port=args.port or settings.port,
            ws_max_size=settings.limits.max_message_bytes,
            ws_per_message_deflate=False,
            log_level=settings.log_level.lower(),
            timeout_graceful_shutdown=25,
        )
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
