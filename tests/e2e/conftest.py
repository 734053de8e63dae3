"""The real service on a free loopback port and Debian's Chromium with a fake camera and microphone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.media import make_wav, make_y4m
from tests.live_server import running_server
from tests.media_paths import SPEECH, portrait_jpeg

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"
CHROMIUM = "/usr/bin/chromium"
RESEARCH_TOKEN = "e2e-research-token"


@dataclass(frozen=True)
class Media:
    wav: Path
    y4m: Path
    speech_s: float
    lead_s: float
    reference: str


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    folder = tmp_path_factory.mktemp("media")
    wav, y4m = folder / "jfk.wav", folder / "face.y4m"
    lead_s = 0.5
    speech_s = make_wav(SPEECH / "clean" / "jfk.flac", wav, lead_s=lead_s)
    face = folder / "face.jpg"  # nearly frontal (yaw ~1, pitch ~-6 degrees as the engine measures it)
    face.write_bytes(portrait_jpeg())
    make_y4m(face, y4m)
    reference = (SPEECH / "clean" / "jfk.txt").read_text().strip()
    return Media(wav, y4m, speech_s, lead_s, reference)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m app serve` with its real engines on a SQLite file; yields the base URL."""
    db = tmp_path_factory.mktemp("e2e-db") / "e2e.db"
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "RESEARCH_API_TOKEN": RESEARCH_TOKEN}
    with running_server(env) as live:
        yield live.http


# Module scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and later tests that call asyncio.run() would fail.
@pytest.fixture(scope="module")
def chromium(media: Media) -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), "Debian's chromium is missing: `make system-test-deps` installs it"
    args = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={media.wav}", f"--use-file-for-fake-video-capture={media.y4m}",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
