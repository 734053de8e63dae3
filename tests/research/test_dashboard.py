"""The dashboard in real headless Chromium against a real uvicorn on 127.0.0.1 (SQLite and PostgreSQL).

Also the loopback rule end to end: without RESEARCH_API_TOKEN the page and its data are served to
127.0.0.1; with a token the browser must present it (HTTP Basic, as a browser prompt would).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from tests.live_server import running_server
from tests.research.seed import seed_study

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
NO_ENGINES = {"TTS__ENABLED": "false", "STT__ENABLED": "false", "HEAD_POSE__ENABLED": "false",
              "SPEECH__ENABLED": "false", "NVIDIA_API_KEY": "", "LOG_LEVEL": "WARNING", "DB__AUTO_MIGRATE": "false"}


@contextmanager
def serve(database_url: str, token: str | None) -> Iterator[str]:
    env = {**NO_ENGINES, "DATABASE_URL": database_url, "RESEARCH_API_TOKEN": token or ""}
    with running_server(env, timeout=120) as live:
        yield live.http


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        return int(urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10).status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _dialect(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def test_dashboard_renders_plots_from_the_loopback_interface(clean_database: str) -> None:
    seed_study(clean_database, n_sessions=60)
    with serve(clean_database, token=None) as base, sync_playwright() as p:
        assert _status(base + "/metrics/summary") == 200  # loopback, no token configured
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1300})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: errors.append(r.url))
            # A Content-Security-Policy violation is reported as a console error (issue 14: no 'unsafe-inline')
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(base + "/dashboard")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert not errors, errors
            # Means with CIs: 8 metrics x 2 groups of points, each with a CI line when n >= 2.
            assert page.locator("#means-plot circle.mean").count() == 16
            assert page.locator("#means-plot line.ci").count() == 16
            assert page.locator("#dist-plot rect.bar.control").count() > 0
            assert page.locator("#dist-plot rect.bar.treatment").count() > 0
            assert page.locator("#timeline-plot rect.day").count() > 0
            assert page.locator("#latency-plot rect.lat.auto").count() == 10  # p50 and p95 of 5 stages
            assert page.locator("#latency-plot rect.lat.manual").count() == 10
            assert "started" in page.locator("#consort").inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"dashboard-{_dialect(clean_database)}.png"), full_page=True)
            # Filters: one style, then a date range that holds nothing.
            page.select_option("#style", "neutral")
            page.click("button[type=submit]")
            page.wait_for_selector("body[data-ready='1']")
            assert "style=neutral" in (page.get_attribute("#dl-csv", "href") or "")
            page.fill("#since", "2030-01-01")
            page.click("button[type=submit]")
            page.wait_for_selector("body[data-ready='1']")
            assert page.locator("#means-plot circle.mean").count() == 0
            assert "no sessions" in page.locator("#timeline").inner_text()
            # The download links work from the page's origin.
            page.fill("#since", "")
            page.click("button[type=submit]")
            page.wait_for_selector("body[data-ready='1']")
            with page.expect_download() as download:
                page.click("#dl-csv")
            assert download.value.suggested_filename == "answers.csv"
        finally:
            browser.close()


def test_dashboard_with_a_token_needs_it_even_on_loopback(clean_database: str) -> None:
    seed_study(clean_database, n_sessions=8)
    with serve(clean_database, token="dash-token") as base, sync_playwright() as p:
        assert _status(base + "/metrics/summary") == 401
        assert _status(base + "/metrics/summary", {"Authorization": "Bearer dash-token"}) == 200
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            anonymous = browser.new_page()
            with pytest.raises(PlaywrightError, match="AUTH_CREDENTIALS"):  # the Basic challenge: a browser prompts
                anonymous.goto(base + "/dashboard")
            context = browser.new_context(http_credentials={"username": "researcher", "password": "dash-token"})
            page = context.new_page()
            page.goto(base + "/dashboard")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert page.locator("#means-plot circle.mean").count() > 0
        finally:
            browser.close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
