"""`/metrics/summary` reports who answered the turns, per group, from SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import RESEARCH_AUTH
from tests.llm.conftest import llm_settings
from tests.llm.interview import exported_answers, interview
from tests.llm.stub_llm import Scenario, StubLlm


def test_summary_has_fallback_rate_and_llm_latency_per_group(stub: StubLlm, clean_database: str) -> None:
    with TestClient(create_app(llm_settings(clean_database, stub.url))) as client:
        stub.reset(Scenario(reply="good", delay_s=0.1))
        treatment = exported_answers(client, interview(client, group="treatment").session_id)
        stub.reset(Scenario(reply="malformed"))
        control = exported_answers(client, interview(client, group="control").session_id)
        stub.reset(Scenario(reply="good"))
        mixed_first = interview(client, group="control", question_count=1)  # one more LLM answer in control
        summary = client.get("/metrics/summary", headers=RESEARCH_AUTH).json()["coach"]
        control += exported_answers(client, mixed_first.session_id)
    t, c = summary["treatment"], summary["control"]
    latencies = [a["llm_latency_ms"] for a in treatment]
    assert t["answers"] == t["llm_attempted"] == t["llm_answered"] == len(treatment)
    assert t["fallback_rate"] == 0.0
    assert abs(t["llm_latency_ms_mean"] - sum(latencies) / len(latencies)) < 1e-6
    assert t["llm_latency_ms_max"] == max(latencies) and min(latencies) >= 100
    llm_in_control = sum(a["coach_source"] == "llm" for a in control)
    assert c["answers"] == c["llm_attempted"] == len(control) and c["llm_answered"] == llm_in_control >= 1
    assert abs(c["fallback_rate"] - (len(control) - llm_in_control) / len(control)) < 1e-9


def test_summary_without_llm_has_no_fallback_rate(clean_database: str) -> None:
    with TestClient(create_app(llm_settings(clean_database, "http://127.0.0.1:9/v1", key=None))) as client:
        answers = exported_answers(client, interview(client).session_id)
        summary = client.get("/metrics/summary", headers=RESEARCH_AUTH).json()["coach"]
    assert summary["treatment"]["answers"] == len(answers) and summary["treatment"]["llm_attempted"] == 0
    assert summary["treatment"]["fallback_rate"] is None and summary["control"]["answers"] == 0
