"""The report page in Debian's Chromium: no console errors, no requests, and the plots are drawn.

The page comes from the real app (TestClient) and is served to the browser with its own headers
(its Content-Security-Policy included) through request interception, at desktop and phone width.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image, ImageStat
from playwright.sync_api import Browser, Route

from app.main import create_app
from app.settings import Settings
from tests.api.test_assessment import STRONG
from tests.api.test_report import FILLERS, _session
from tests.e2e.test_browser import coach, open_page, type_answer, wait  # noqa: F401 (open_page is a fixture)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "e2e"


def test_report_renders_without_console_errors_and_shows_the_plots(chromium: Browser, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'report.db'}"
    settings = Settings(DATABASE_URL=url, NVIDIA_API_KEY=None, RESEARCH_API_TOKEN="t")  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        _session(client, "P-B1", [FILLERS])
        sid, token, _ = _session(client, "P-B1", [FILLERS, STRONG])
        response = client.get(f"/sessions/{sid}/report", params={"token": token})
    assert response.status_code == 200
    page_url = f"http://report.test/sessions/{sid}/report?token={token}"
    requests: list[str] = []

    def serve(route: Route) -> None:
        requests.append(route.request.url)
        if route.request.url == page_url:
            route.fulfill(status=200, body=response.text, headers=dict(response.headers))
        else:
            route.abort()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("desktop", {"width": 1200, "height": 900}), ("phone", {"width": 390, "height": 844})):
        context = chromium.new_context(viewport=viewport)  # type: ignore[arg-type]
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m, out=problems: out.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e, out=problems: out.append(str(e)))
        page.route("**/*", serve)
        page.goto(page_url)
        page.wait_for_load_state("load")
        assert problems == [], problems
        assert requests == [page_url], requests  # nothing but the page itself: plots are inline
        requests.clear()
        plots = page.locator("svg.plot")
        assert plots.count() >= 5  # overall, pace, fillers, eye contact, progress
        for i in range(plots.count()):
            box = plots.nth(i).bounding_box()
            assert box is not None and box["width"] > 150 and box["height"] > 70
        assert page.locator("svg.plot circle").count() >= 6  # data points drawn
        # no sideways scrolling on a phone
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        section = page.locator("section[aria-labelledby=plots-h]")
        section.scroll_into_view_if_needed()
        shot = section.screenshot(path=str(ARTIFACTS / f"report-plots-{name}.png"))
        image = Image.open(io.BytesIO(shot)).convert("RGB")
        px = np.asarray(image).reshape(-1, 3).astype(int)
        blue = int(((px[:, 2] > 140) & (px[:, 0] < 80) & (px[:, 1] > 60) & (px[:, 1] < 130)).sum())  # the lines
        assert blue > 200, blue
        assert max(ImageStat.Stat(image).stddev) > 20
        context.close()


def test_practice_end_screen_shows_scores_plots_links_and_retries_a_question(
        open_page: Any, artifacts: Path) -> None:  # noqa: F811 (the fixture imported above)
    page = open_page("tts=0&camera=0&questions=1&participant=P-e2e-report&handsfree=0")
    assert page.locator("#group-row").is_hidden(), "practising alone: no group picker"
    page.click("#start")
    wait(page, "c.question !== null")
    assert coach(page, "group") == "treatment"
    first_question = coach(page, "question.question_id")

    def answer_until_finished(text: str) -> None:
        for _ in range(4):
            seen = coach(page, "answers")
            type_answer(page, text)
            wait(page, f"c.answers > {seen} && (c.state === 'finished' || "
                       "!document.querySelector('#answer-text').disabled)")
            page.wait_for_timeout(300)
            if coach(page, "state") == "finished":
                return
        raise AssertionError("the session did not finish")

    answer_until_finished(FILLERS)
    assert coach(page, "assessments") >= 1, "practice gets the scores during the interview"
    wait(page, "c.report !== undefined")
    assert page.locator("#report-box").is_visible()
    assert page.locator("#score-grid .score-box").count() == 7
    assert page.locator("#plots svg").count() >= 4
    assert page.locator("#priorities li").count() >= 1
    html_link = page.locator("#report-link").get_attribute("href") or ""
    assert "?token=" in html_link and page.locator("#report-pdf").get_attribute("href", timeout=1000)
    report = page.request.get(page.url.split("/?")[0] + html_link)
    assert report.status == 200 and "Your interview practice report" in report.text()
    page.locator("#report-box").screenshot(path=str(artifacts / "end-screen.png"))

    page.locator(f"#retry-list button[data-question-id='{first_question}']").click()
    wait(page, f"c.state !== 'finished' && c.question && c.question.question_id === '{first_question}'")
    answer_until_finished(STRONG)
    wait(page, "c.report !== undefined && document.querySelector('#retry-list li') !== null")
    data = page.request.get(page.url.split("/?")[0] + html_link.replace("/report?", "/report.json?")).json()
    assert [a["attempt"] for a in data["attempts"][first_question]] == [1, 2]
