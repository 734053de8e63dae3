"""`uvicorn app.main:app` (the usual FastAPI command) runs the same lifespan as `python -m app serve`."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

from tests.live_server import running_server

# Engines off: this checks the entry point and the lifespan (settings, migrations, services), not the models.
NO_ENGINES = {"STT__ENABLED": "false", "TTS__ENABLED": "false", "HEAD_POSE__ENABLED": "false",
              "SPEECH__ENABLED": "false"}


def test_uvicorn_app_main_app_runs_the_lifespan(tmp_path: Path) -> None:
    db = tmp_path / "entry.db"
    env = {**NO_ENGINES, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    with running_server(env, app_factory="app.main:app", factory=False) as server:
        with urllib.request.urlopen(f"{server.http}/health", timeout=10) as response:
            health = json.load(response)
        assert health["status"] == "ok"
        assert health["database"]["dialect"] == "sqlite"
        assert db.exists()  # created and migrated by the lifespan at start-up
        # The GPU check for our stack (torch is not a dependency): CTranslate2 and ONNX Runtime.
        gpu = health["gpu"]
        assert isinstance(gpu["ctranslate2_cuda_devices"], int)
        assert "CPUExecutionProvider" in gpu["onnxruntime_providers"]
        assert gpu["device_setting"] == "auto"
        assert gpu["device"] == ("cuda" if gpu["cuda_available"] else "cpu")
        # plain uvicorn re-raises SIGTERM after its graceful shutdown (`python -m app serve` exits 0)
        assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
