"""`python -m app export`: the same streamed exports as the HTTP endpoints, written to a file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from app.db.engine import create_engine, create_sessionmaker
from app.db.migrate import upgrade_to_head
from app.db.repositories.statistics import SummaryFilters
from app.services.export import ExportService
from app.services.research import ResearchService, cli_actor
from app.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    export = sub.add_parser("export", help="export answers (tidy CSV) or sessions (NDJSON) to a file")
    export.add_argument("--format", choices=("csv", "ndjson"), required=True)
    export.add_argument("--since", type=datetime.fromisoformat, help="sessions created at or after (ISO 8601)")
    export.add_argument("--until", type=datetime.fromisoformat, help="sessions created before (ISO 8601)")
    export.add_argument("--style", help="csv only: answers given in this style")
    export.add_argument("--out", required=True, help="file to write, or - for standard output")


async def _export(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    if settings.db.auto_migrate:
        await asyncio.to_thread(upgrade_to_head, settings.database_url)
    engine = create_engine(settings.database_url, settings.db)
    try:
        sessionmaker = create_sessionmaker(engine)
        export = ExportService(sessionmaker)
        filters = SummaryFilters(since=args.since, until=args.until, style=args.style if args.format == "csv" else None)
        params = {k: v for k, v in {"since": args.since, "until": args.until, "style": filters.style}.items() if v}
        await ResearchService(sessionmaker).audit(
            cli_actor(), f"export.{'answers_csv' if args.format == 'csv' else 'sessions'}",
            params={k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}, outcome="cli",
        )
        chunks = export.answers_csv(filters) if args.format == "csv" else export.sessions_ndjson(filters, None)
        lines = 0
        async for chunk in chunks:
            out.write(chunk)
            lines += chunk.count("\n")
        return lines - (1 if args.format == "csv" else 0)
    finally:
        await engine.dispose()


def run(settings: Settings, args: argparse.Namespace) -> int:
    tmp: Path | None = None
    try:
        if args.out == "-":
            records = asyncio.run(_export(settings, args, sys.stdout))
        else:
            path = Path(args.out)
            tmp = path.with_name(path.name + ".partial")
            with tmp.open("w", encoding="utf-8", newline="") as out:
                records = asyncio.run(_export(settings, args, out))
            tmp.replace(path)  # a half-written export never sits under the requested name
    except Exception as exc:  # noqa: BLE001 - reported, and the exit status says it failed
        where = f"; what was written is in {tmp}" if tmp is not None and tmp.exists() else ""
        print(f"export failed: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
        return 1
    print(f"exported {records} {'answers' if args.format == 'csv' else 'sessions'} to {args.out}", file=sys.stderr)
    return 0
