"""Rubric scores as outcomes, the within-session change per group, and the fairness breakdown by attribute."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.test_assessment import STRONG, WEAK
from tests.wsclient import answer, start


def _session(client: TestClient, first: str, rest: str, **fields: Any) -> str:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws, question_count=2, **fields)
        replies = answer(ws, first)
        while replies[-1]["type"] == "question":
            replies = answer(ws, rest)
    return str(started["session_id"])


def test_rubric_outcomes_change_within_sessions_and_fairness_by_attribute(client: TestClient) -> None:
    for i in range(3):  # treatment improves, control gets worse; half of each says English is their first language
        native = "yes" if i % 2 == 0 else "no"
        _session(client, WEAK, STRONG, group="treatment", attributes={"native_english": native})
        _session(client, STRONG, WEAK, group="control", attributes={"native_english": native, "age_band": "25-34"})
    _session(client, STRONG, STRONG, mode="practice")  # not study data
    summary = client.get("/metrics/summary").json()
    assert summary["groups"]["treatment"]["sessions"] == 3 and summary["groups"]["control"]["sessions"] == 3
    outcomes = summary["outcomes"]
    overall = outcomes["rubric_scores"]["overall"]
    assert overall["groups"]["treatment"]["n"] == 3 and overall["groups"]["control"]["n"] == 3
    assert overall["groups"]["treatment"]["ci95"] is not None
    assert set(outcomes["rubric_scores"]) >= {"structure", "specificity", "relevance", "ownership", "conciseness",
                                              "delivery", "overall"}
    assert outcomes["rubric_scores"]["delivery"]["groups"]["treatment"]["n"] == 0  # typed: never measured
    change = outcomes["within_session_change"]["overall"]
    assert change["groups"]["treatment"]["mean"] > 0 > change["groups"]["control"]["mean"]
    diff = change["treatment_minus_control"]
    assert diff["difference"] > 0 and diff["hedges_g"] is not None and diff["p"] is not None

    fair = client.get("/metrics/summary", params={"by": "native_english"}).json()["fairness"]
    assert fair["values"] == ["yes", "no"] and fair["sessions"] == {"yes": 4, "no": 2}
    assert fair["measures"]["score_overall"]["yes"]["n"] == 4 and fair["measures"]["score_overall"]["no"]["n"] == 2
    assert fair["measures"]["asr_confidence"]["yes"]["n"] == 0  # typed answers: no speech recognised
    assert fair["tip_share"] and all(0 <= v["yes"]["mean"] <= 1 for v in fair["tip_share"].values()
                                     if v["yes"]["mean"] is not None)
    ages = client.get("/metrics/summary", params={"by": "age_band"}).json()["fairness"]
    assert ages["sessions"]["25-34"] == 3 and ages["sessions"]["18-24"] == 0
    bad = client.get("/metrics/summary", params={"by": "shoe_size"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_attribute"


def test_dashboard_shows_rubric_outcomes_and_the_fairness_table(clean_database: str) -> None:
    from datetime import UTC, datetime

    from playwright.sync_api import sync_playwright
    from sqlalchemy import create_engine as create_sync_engine
    from sqlalchemy import text

    from tests.conftest import sync_url
    from tests.research.seed import seed_study
    from tests.research.test_dashboard import CHROMIUM_ARGS, serve

    seed_study(clean_database, n_sessions=12)
    engine = create_sync_engine(sync_url(clean_database))
    with engine.begin() as conn:
        sessions = [r[0] for r in conn.execute(text("SELECT id FROM interview_sessions ORDER BY id"))]
        for i, sid in enumerate(sessions):
            conn.execute(text("INSERT INTO participant_attributes (session_id, name, value) VALUES (:s, 'native_english', :v)"),
                         {"s": sid, "v": "yes" if i % 3 else "no"})
        for n, (aid, sid) in enumerate(conn.execute(text("SELECT id, session_id FROM answers ORDER BY id")).all()):
            score = 1 + n % 5
            conn.execute(text(
                "INSERT INTO answer_assessments (answer_id, session_id, rubric_version, source, structure, specificity, "
                "relevance, ownership, conciseness, delivery, overall, improve, details, shown, created_at) VALUES "
                "(:a, :s, 1, 'heuristic', :x, :x, :x, :x, :x, NULL, :x, 'A stronger answer would…', '{}', :shown, :t)"),
                {"a": aid, "s": sid, "x": score, "shown": n % 2 == 0, "t": datetime.now(UTC)})
    engine.dispose()
    with serve(clean_database, token=None) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1300})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/dashboard")
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert page.locator("#rubric-plot circle.mean").count() > 0
            assert page.locator("#change-plot").count() == 1
            assert page.locator("#fairness-section").is_hidden()
            page.select_option("#by", "native_english")
            page.click("#filters button[type=submit]")
            page.wait_for_selector("#fairness-table", timeout=30_000)
            header = page.locator("#fairness-table thead").inner_text()
            assert "yes (8 sessions)" in header and "no (4 sessions)" in header
            assert "rubric: overall" in page.locator("#fairness-table tbody").inner_text()
            assert not errors, errors
        finally:
            browser.close()
