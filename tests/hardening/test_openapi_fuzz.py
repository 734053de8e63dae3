"""schemathesis against the REST OpenAPI of a real uvicorn: no generated request yields a 5xx."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.live_server import start_server


def test_rest_api_has_no_server_errors(tmp_path: Path) -> None:
    server = start_server({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"})
    try:
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{server.http}/openapi.json",
             "--checks", "not_a_server_error", "--max-examples", "40", "--seed", "20261202"],
            capture_output=True, text=True, timeout=600,
        )
    finally:
        assert server.stop() == 0
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "passed" in run.stdout and "Tested:" in run.stdout


