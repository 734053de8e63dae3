"""The /ws/interview protocol end to end on the real app and a real database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.wsclient import answer, send, start

STAR_ANSWER = (
    "At my previous job our team was missing deadlines because releases were manual. "
    "My task was to fix the release process. I wrote a deployment script, I set up automated tests "
    "and I trained two colleagues to use them. As a result we cut release time by 60 percent "
    "and delivered the next three releases on time, which the client noticed."
)
HEDGY_SHORT = "Um, I think maybe I, like, sort of helped, I guess. Probably."


def test_full_interview_round_trip(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, id="c1", participant_id="P-001", question_count=2)
        assert started["reply_to"] == "c1" and started["question_count"] == 2
        assert set(started["styles"]) >= {"supportive", "neutral", "challenging"}
        assert started["resume_token"] and started["session_id"]
        assert question["index"] == 0 and question["text"] and question["category"]
        assert started["seq"] == 1 and question["seq"] == 2

        asked = 1
        replies = answer(ws, STAR_ANSWER, id="a1", question_id=question["question_id"])
        types = [m["type"] for m in replies]
        assert types[:4] == ["answer_metrics", "assessment", "interviewer_message", "tips"]
        assert all(m["reply_to"] == "a1" and m["session_id"] == started["session_id"] for m in replies)
        seqs = [m["seq"] for m in replies]
        assert seqs == sorted(seqs) and seqs[0] == 3
        metrics = replies[0]["metrics"]
        assert metrics["word_count"] == len(STAR_ANSWER.split())
        assert metrics["speaking_rate_wpm"] is None  # a typed answer has no measured pace
        while replies[-1]["type"] == "question":
            asked += 1
            replies = answer(ws, STAR_ANSWER)
        assert replies[-1]["type"] == "session_complete"
        assert replies[-1]["summary"]["answers"] == asked

        send(ws, type="ping", id="p1")
        pong = ws.receive_json()
        assert pong == {"type": "pong", "reply_to": "p1", "session_id": started["session_id"], "seq": None}

    export = client.get(f"/export/session/{started['session_id']}").json()
    assert export["session"]["status"] == "completed"
    assert export["session"]["participant_id"] == "P-001"
    assert len(export["answers"]) == asked
    assert export["answers"][0]["client_message_id"] == "a1"
    assert "resume_token_hash" not in export["session"]


def test_tips_follow_group_policy_and_name_evidence(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        start(ws, group="control")
        replies = answer(ws, HEDGY_SHORT, metrics={"speakingRate": 190, "gaze": 0.3})
        assert "tips" not in [m["type"] for m in replies]
    with client.websocket_connect("/ws/interview") as ws:
        start(ws, group="treatment")
        replies = answer(ws, HEDGY_SHORT, metrics={"speakingRate": 190, "gaze": 0.3})
        tips = next(m for m in replies if m["type"] == "tips")
        assert tips["source"] == "heuristic"
        kinds = {t["kind"]: t["evidence"] for t in tips["items"]}
        assert kinds["pace_fast"] == "190 words/min"
        assert kinds["eye_contact"] == "gaze 30% of the time"
        assert "too_short" in kinds
        metrics = next(m for m in replies if m["type"] == "answer_metrics")
        assert metrics["client_metrics"]["speakingRate"] == 190
        assert metrics["metrics"]["sources"]["speaking_rate_wpm"] == "client"


def test_switch_style_checkin_telemetry_end(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws, style="supportive")
        send(ws, type="switch_style", style="challenging", id="sw")
        switched = ws.receive_json()
        expected = {"type": "style_switched", "style": "challenging", "previous": "supportive", "reply_to": "sw"}
        assert switched == switched | expected
        send(ws, type="checkin", confidence=5, stress=2, id="ck")
        logged = ws.receive_json()
        assert logged["type"] == "checkin_logged" and isinstance(logged["checkin_id"], int)
        send(ws, type="telemetry", event="question_audio_started", latencyMs=420.5, data={"k": 1})
        assert ws.receive_json()["type"] == "telemetry_logged"
        answer(ws, STAR_ANSWER)
        send(ws, type="end_session", id="end")
        ended = ws.receive_json()
        assert ended["type"] == "session_ended" and ended["summary"]["status"] == "ended"
        assert ended["summary"]["answers"] == 1
    export = client.get(f"/export/session/{started['session_id']}").json()
    assert export["answers"][0]["style"] == "challenging"
    assert [e["kind"] for e in export["events"]] == ["started", "style_switched", "ended"]
    assert export["checkins"][0]["confidence"] == 5 and export["checkins"][0]["stress"] == 2
    assert export["telemetry"][0]["latency_ms"] == 420.5


def test_resume_on_second_app_instance_continues(client: TestClient, settings: Settings) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, first = start(ws, question_count=3)
        replies = answer(ws, STAR_ANSWER, id="a1")
        current = replies[-1]
    last_seq = replies[-2]["seq"]  # pretend the last message (the question) was lost with the socket
    with TestClient(create_app(settings)) as other, other.websocket_connect("/ws/interview") as ws2:
        send(ws2, type="resume_session", session_id=started["session_id"], resume_token=started["resume_token"],
             last_seq=last_seq, id="r1")
        resumed = ws2.receive_json()
        assert resumed["type"] == "session_resumed" and resumed["reply_to"] == "r1"
        assert resumed["question"]["question_id"] == current["question_id"]
        assert resumed["answered"] == 1 and resumed["replayed"] == 1 and resumed["replay_complete"]
        assert ws2.receive_json() == current  # the replayed question, same seq
        replies = answer(ws2, STAR_ANSWER, question_id=current["question_id"])
        assert replies[-1]["type"] in {"question", "session_complete"}
        assert replies[0]["seq"] == current["seq"] + 1
    export = client.get(f"/export/session/{started['session_id']}").json()
    assert len(export["answers"]) == 2
    assert first["question_id"] == export["questions"][0]["question_id"]


def test_resend_with_same_id_creates_nothing_new(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws)
        first = answer(ws, STAR_ANSWER, id="same")
        again = answer(ws, STAR_ANSWER, id="same")
        assert again == first
        send(ws, type="checkin", confidence=3, stress=3, id="ck")
        once = ws.receive_json()
        send(ws, type="checkin", confidence=3, stress=3, id="ck")
        assert ws.receive_json() == once
    export = client.get(f"/export/session/{started['session_id']}").json()
    assert len(export["answers"]) == 1 and len(export["checkins"]) == 1
