"""Scored answers over the socket: who gets them, where they are stored, exported and described."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from app.services.assessment.rubric import DIMENSIONS
from tests.wsclient import answer, send, start

STRONG = (
    "At my previous job our team was missing deadlines because releases were manual. My task was to fix the "
    "release process. I wrote a deployment script in Python, I set up automated tests and I trained two colleagues "
    "to use them. As a result we cut release time by 60 percent and delivered the next three releases on time."
)
WEAK = "Um, I think we kind of worked hard and stuff, I guess."


def test_treatment_gets_an_assessment_after_the_metrics_control_gets_none_but_both_are_stored(
        client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        treated, _ = start(ws, group="treatment", question_count=1)
        replies = answer(ws, STRONG, id="t1", metrics={"gaze": 0.9})
        last = replies
        while last[-1]["type"] == "question":  # a follow-up (the question is drawn at random)
            last = answer(ws, STRONG)
    types = [m["type"] for m in replies]
    assert types.index("assessment") == types.index("answer_metrics") + 1
    metrics, scored = replies[types.index("answer_metrics")], replies[types.index("assessment")]
    assert scored["answer_id"] == metrics["answer_id"] and scored["reply_to"] == "t1" and scored["seq"]
    assert list(scored["scores"]) == list(DIMENSIONS) and scored["source"] == "heuristic"
    assert scored["scores"]["delivery"] == 5 and scored["evidence"]["delivery"] == "eye contact 90%"
    assert scored["delivery_parts"]["eye_contact"] == 5 and scored["delivery_parts"]["pace"] is None
    assert scored["evidence"]["specificity"].strip('"').rstrip(" …") in STRONG
    assert 3.5 <= scored["overall"] <= 5 and scored["improve"].startswith("A stronger answer would")
    assert last[-1]["type"] == "session_complete"
    assert last[-1]["report_url"] == f"/sessions/{treated['session_id']}/report"

    with client.websocket_connect("/ws/interview") as ws:
        control, _ = start(ws, group="control", question_count=1)
        replies = answer(ws, WEAK)
        assert "assessment" not in [m["type"] for m in replies]
        while replies[-1]["type"] == "question":  # a follow-up
            replies = answer(ws, WEAK)
    assert replies[-1]["report_url"] == f"/sessions/{control['session_id']}/report"  # policy: after the end

    shown = client.get(f"/export/session/{treated['session_id']}").json()["assessments"]
    hidden = client.get(f"/export/session/{control['session_id']}").json()["assessments"]
    assert shown[0]["shown"] is True and hidden[0]["shown"] is False
    assert shown[0]["overall"] > hidden[0]["overall"] and hidden[0]["delivery"] is None
    assert hidden[0]["details"]["evidence"]["structure"].startswith('"')

    rows = list(csv.DictReader(io.StringIO(client.get("/export/answers.csv").text)))
    by_session: dict[str, dict[str, str]] = {}
    for r in rows:  # each session's first answer
        by_session.setdefault(r["session_id"], r)
    strong, weak = by_session[treated["session_id"]], by_session[control["session_id"]]
    for name in DIMENSIONS[:-1]:
        assert 1 <= int(strong[f"score_{name}"]) <= 5 and 1 <= int(weak[f"score_{name}"]) <= 5
    assert weak["score_delivery"] == "" and strong["score_delivery"] == "5"
    assert float(strong["score_overall"]) > float(weak["score_overall"])
    assert strong["assessment_shown"] == "true" and weak["assessment_shown"] == "false"
    assert strong["assessment_source"] == "heuristic" and strong["session_mode"] == "study"
    codebook = client.get("/export/codebook.json").json()
    assert codebook["rubric"] == client.get("/rubric").json()
    assert [d["name"] for d in codebook["rubric"]["dimensions"]] == list(DIMENSIONS)
    assert codebook["study_policy"]["groups"]["control"]["assessment"] == "none"
    assert codebook["study_policy"]["attributes"]["native_english"]["values"] == ["yes", "no"]


def test_attributes_must_be_declared_and_are_stored_apart(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        send(ws, type="start_session", group="treatment", attributes={"shoe_size": "44"}, id="s1")
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "unknown_attribute" and error["reply_to"] == "s1"
        send(ws, type="start_session", group="treatment", attributes={"native_english": "maybe"})
        assert ws.receive_json()["code"] == "invalid_attribute"
        started, _ = start(ws, attributes={"native_english": "no", "age_band": "25-34"})
    record = client.get(f"/export/session/{started['session_id']}").json()
    assert record["attributes"] == {"native_english": "no", "age_band": "25-34"}
    assert "native_english" not in str(record["answers"])
    schema = client.get("/ws/interview/schema").json()
    assert "attributes" in str(schema["client"]) and "retry_question" in str(schema["client"])


def test_practice_sessions_have_everything_on_and_no_study_group(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        send(ws, type="start_session", mode="practice", group="control")
        assert ws.receive_json()["code"] == "practice_has_no_group"
        ws.send_json({"type": "start_session", "mode": "practice", "question_count": 1})
        started = ws.receive_json()
        assert started["group"] == "treatment"
        ws.receive_json()
        replies = answer(ws, STRONG)
    assert {"assessment", "tips"} <= {m["type"] for m in replies}
    record = client.get(f"/export/session/{started['session_id']}").json()
    assert record["session"]["mode"] == "practice"


def test_a_study_link_may_ask_the_server_to_randomise(client: TestClient) -> None:
    groups = []
    for _ in range(4):  # one block of the shipped policy: two of each group
        with client.websocket_connect("/ws/interview") as ws:
            send(ws, type="start_session", style="neutral")
            assert ws.receive_json()["code"] == "group_required"  # the policy still wants a group otherwise
            ws.send_json({"type": "start_session", "style": "neutral", "randomise": True, "question_count": 1})
            started = ws.receive_json()
            assert started["type"] == "session_started"
            groups.append(started["group"])
        record = client.get(f"/export/session/{started['session_id']}").json()
        assert record["session"]["assignment"] == "block_randomised" and record["session"]["mode"] == "study"
    assert sorted(groups) == ["control", "control", "treatment", "treatment"]
