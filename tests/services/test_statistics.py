"""/metrics/summary against scipy on a seeded data set stored in the real database."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from scipy import stats
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.orm import Session

from app.db.models import Answer, AskedQuestion, CheckIn, InterviewSession
from tests.conftest import sync_url

START = datetime(2026, 3, 1, tzinfo=UTC)


def _seed(url: str, n_sessions: int = 40, seed: int = 7) -> dict[str, dict[str, list[float]]]:
    """Insert sessions with 1-4 answers each; return per-session means per group and metric."""
    rng = random.Random(seed)
    expected: dict[str, dict[str, list[float]]] = {"control": {}, "treatment": {}}
    engine = create_sync_engine(sync_url(url))
    with Session(engine) as db, db.begin():
        for i in range(n_sessions):
            group = "treatment" if i % 2 else "control"
            created = START + timedelta(hours=i)
            sid = f"s{i:04d}"
            style = "supportive" if i % 3 else "challenging"
            db.add(InterviewSession(
                id=sid, resume_token_hash="x" * 64, participant_id=f"P{i}", group=group, style=style, initial_style=style,
                question_plan=[], question_count=4, plan_position=0, follow_up_pending=False, status="completed",
                tts=False, next_seq=1, created_at=created, updated_at=created,
            ))
            db.flush()
            rates: list[float] = []
            for k in range(rng.randint(1, 4)):
                q = AskedQuestion(session_id=sid, index=k, plan_position=k, question_id=f"q{k}", text="q", category="general",
                                  is_follow_up=False, style=style, seq=k, asked_at=created)
                db.add(q)
                db.flush()
                rate = rng.gauss(150 if group == "treatment" else 135, 15)
                gaze = None if rng.random() < 0.2 else min(1.0, max(0.0, rng.gauss(0.7, 0.1)))
                rates.append(rate)
                db.add(Answer(session_id=sid, asked_question_id=q.id, input_mode="text", text="a", style=style,
                              speaking_rate_wpm=rate, gaze=gaze, server_metrics={}, tips=[], coach_source="heuristic",
                              interviewer_message="ok", created_at=created))
            expected[group].setdefault("speaking_rate_wpm", []).append(float(np.mean(rates)))
            conf = rng.randint(1, 7)
            db.add(CheckIn(session_id=sid, confidence=conf, stress=rng.randint(1, 7), style=style, created_at=created))
            expected[group].setdefault("confidence", []).append(conf)
    engine.dispose()
    return expected


def _hedges_g(t: list[float], c: list[float]) -> float:
    n1, n2 = len(t), len(c)
    pooled = math.sqrt(((n1 - 1) * np.var(t, ddof=1) + (n2 - 1) * np.var(c, ddof=1)) / (n1 + n2 - 2))
    return (1 - 3 / (4 * (n1 + n2) - 9)) * (np.mean(t) - np.mean(c)) / pooled


@pytest.mark.parametrize("metric", ["speaking_rate_wpm", "confidence"])
def test_summary_matches_scipy(client: TestClient, clean_database: str, metric: str) -> None:
    expected = _seed(clean_database)
    summary = client.get("/metrics/summary").json()
    assert summary["groups"]["control"]["sessions"] == 20 and summary["groups"]["treatment"]["sessions"] == 20
    result = summary["metrics"][metric]
    t_vals, c_vals = expected["treatment"][metric], expected["control"][metric]
    for name, values in (("treatment", t_vals), ("control", c_vals)):
        g = result["groups"][name]
        assert g["n"] == len(values)
        assert g["mean"] == pytest.approx(np.mean(values), rel=1e-9)
        assert g["sd"] == pytest.approx(np.std(values, ddof=1), rel=1e-9)
        low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
        assert g["ci95"] == pytest.approx([low, high], rel=1e-9)
    diff = result["treatment_minus_control"]
    welch = stats.ttest_ind(t_vals, c_vals, equal_var=False)
    assert diff["difference"] == pytest.approx(np.mean(t_vals) - np.mean(c_vals), rel=1e-9)
    assert diff["t"] == pytest.approx(welch.statistic, rel=1e-9)
    assert diff["p"] == pytest.approx(welch.pvalue, rel=1e-8)
    ci = welch.confidence_interval(0.95)
    assert diff["ci95"] == pytest.approx([ci.low, ci.high], rel=1e-9)
    assert diff["hedges_g"] == pytest.approx(_hedges_g(t_vals, c_vals), rel=1e-9)
    low, high = diff["hedges_g_ci95"]
    assert low < diff["hedges_g"] < high


def test_summary_filters_by_date_and_style(client: TestClient, clean_database: str) -> None:
    _seed(clean_database)
    until = (START + timedelta(hours=10)).isoformat()
    summary = client.get("/metrics/summary", params={"until": until}).json()
    assert summary["groups"]["control"]["sessions"] + summary["groups"]["treatment"]["sessions"] == 10
    styled = client.get("/metrics/summary", params={"style": "challenging"}).json()
    assert styled["groups"]["control"]["sessions"] + styled["groups"]["treatment"]["sessions"] == 14  # i % 3 == 0
    assert styled["metrics"]["gaze"]["groups"]["control"]["n"] <= 7


def test_unmeasured_metric_is_null_not_zero(client: TestClient) -> None:
    summary = client.get("/metrics/summary").json()
    pause = summary["metrics"]["pause_ratio"]
    assert pause["groups"]["control"] == {"n": 0, "mean": None, "sd": None, "ci95": None}
    assert pause["treatment_minus_control"] is None


def _style_seed(url: str) -> dict[tuple[str, str], list[float]]:
    """Per (style, group): each session's mean speaking rate over its answers in that style."""
    from tests.research.seed import seed_study

    seed_study(url, n_sessions=36, seed=5)
    engine = create_sync_engine(sync_url(url))
    per: dict[tuple[str, str, str], list[float]] = {}
    with Session(engine) as db:
        for a, s in db.query(Answer, InterviewSession).join(InterviewSession, Answer.session_id == InterviewSession.id):
            per.setdefault((a.style, s.group, s.id), []).append(a.speaking_rate_wpm)
    engine.dispose()
    out: dict[tuple[str, str], list[float]] = {}
    for (style, group, _), rates in per.items():
        out.setdefault((style, group), []).append(float(np.mean(rates)))
    return out


def test_per_style_breakdown_matches_scipy(client: TestClient, clean_database: str) -> None:
    expected = _style_seed(clean_database)
    summary = client.get("/metrics/summary").json()
    assert set(summary["by_style"]) == {style for style, _ in expected}
    for style, block in summary["by_style"].items():
        result = block["metrics"]["speaking_rate_wpm"]
        t_vals, c_vals = expected[(style, "treatment")], expected[(style, "control")]
        assert block["groups"]["treatment"]["sessions"] == len(t_vals)
        for name, values in (("treatment", t_vals), ("control", c_vals)):
            assert result["groups"][name]["n"] == len(values)
            assert result["groups"][name]["mean"] == pytest.approx(np.mean(values), rel=1e-9)
            assert result["groups"][name]["sd"] == pytest.approx(np.std(values, ddof=1), rel=1e-9)
        welch = stats.ttest_ind(t_vals, c_vals, equal_var=False)
        diff = result["treatment_minus_control"]
        assert diff["t"] == pytest.approx(welch.statistic, rel=1e-9) and diff["p"] == pytest.approx(welch.pvalue, rel=1e-8)
        ci = welch.confidence_interval(0.95)
        assert diff["ci95"] == pytest.approx([ci.low, ci.high], rel=1e-9)
        assert diff["hedges_g"] == pytest.approx(_hedges_g(t_vals, c_vals), rel=1e-9)
    # The style filter and the breakdown agree.
    filtered = client.get("/metrics/summary", params={"style": "neutral"}).json()
    alone, within = filtered["metrics"]["speaking_rate_wpm"], summary["by_style"]["neutral"]["metrics"]["speaking_rate_wpm"]
    for g in ("control", "treatment"):
        assert alone["groups"][g]["n"] == within["groups"][g]["n"]
        assert alone["groups"][g]["mean"] == pytest.approx(within["groups"][g]["mean"], rel=1e-12)
    assert alone["treatment_minus_control"]["t"] == pytest.approx(within["treatment_minus_control"]["t"], rel=1e-12)


def test_consort_counts_per_group(client: TestClient, clean_database: str) -> None:
    from tests.research.seed import seed_study

    seed_study(clean_database, n_sessions=30)  # created in 2026-03: every active session is long idle
    consort = client.get("/metrics/summary").json()["consort"]
    assert consort["abandoned_after_minutes"] == 60
    statuses = [("completed", "ended", "active")[i % 3] if i % 5 else "completed" for i in range(30)]
    for g, parity in (("control", 0), ("treatment", 1)):
        mine = [s for i, s in enumerate(statuses) if i % 2 == parity]
        counts = consort["groups"][g]
        assert counts["started"] == len(mine) and counts["completed"] == mine.count("completed")
        assert counts["ended_early"] == mine.count("ended") and counts["abandoned"] == mine.count("active")
        assert counts["in_progress"] == 0 and counts["randomised_by_server"] == 0
    with client.websocket_connect("/ws/interview") as ws:  # a fresh active session is in progress, not abandoned
        ws.send_json({"type": "start_session", "group": "control", "question_count": 1})
        ws.receive_json()
    assert client.get("/metrics/summary").json()["consort"]["groups"]["control"]["in_progress"] == 1


def test_distribution_and_timeline_series(client: TestClient, clean_database: str) -> None:
    expected = _seed(clean_database)
    series = client.get("/metrics/sessions", params={"metric": "speaking_rate_wpm"}).json()
    for g in ("control", "treatment"):
        assert sorted(series["values"][g]) == pytest.approx(sorted(expected[g]["speaking_rate_wpm"]), rel=1e-9)
    assert client.get("/metrics/sessions", params={"metric": "nope"}).status_code == 422
    days = client.get("/metrics/timeline").json()["days"]
    assert sum(d["started"] for d in days) == 40 and {d["day"] for d in days} == {"2026-03-01", "2026-03-02"}


def test_turn_latency_counts_only_the_question_text_event(client: TestClient) -> None:
    from tests.wsclient import start

    for group, latencies in (("control", (400.0, 600.0)), ("treatment", (300.0, 500.0))):
        with client.websocket_connect("/ws/interview") as ws:
            start(ws, group=group)
            for ms in latencies:
                ws.send_json({"type": "telemetry", "event": "question_text_latency", "latencyMs": ms})
                assert ws.receive_json()["type"] == "telemetry_logged"
            ws.send_json({"type": "telemetry", "event": "question_audio_latency", "latencyMs": 9000})
            assert ws.receive_json()["type"] == "telemetry_logged"
    turn = client.get("/metrics/summary").json()["metrics"]["turn_latency_ms"]["groups"]
    assert turn["control"]["mean"] == pytest.approx(500.0) and turn["control"]["n"] == 1
    assert turn["treatment"]["mean"] == pytest.approx(400.0)
