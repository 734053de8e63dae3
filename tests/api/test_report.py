"""The report: who may open it, what it holds (HTML, PDF via pdftotext, JSON), progress, retried questions."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from app.main import create_app
from app.settings import Settings
from tests.api.test_assessment import STRONG, WEAK
from tests.conftest import RESEARCH_AUTH
from tests.wsclient import answer, send, start

FILLERS = "Um, so I think we, you know, kind of fixed the build and stuff, maybe."


def _finish(ws: WebSocketTestSession, texts: list[str], metrics: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Answer (cycling through texts) until the session completes; returns every reply."""
    seen: list[dict[str, Any]] = []
    turn = 0
    while True:
        replies = answer(ws, texts[turn % len(texts)], metrics=metrics or {})
        seen += replies
        turn += 1
        if replies[-1]["type"] == "session_complete":
            return seen
        assert replies[-1]["type"] == "question", replies[-1]


def _session(client: TestClient, participant: str | None, texts: list[str], **fields: Any) -> tuple[str, str, list]:
    with client.websocket_connect("/ws/interview") as ws:
        started, first = start(ws, question_count=2, **({"participant_id": participant} if participant else {}),
                               **fields)
        replies = _finish(ws, texts, {"speakingRate": 150, "gaze": 0.7, "fillersPerMin": 2.0})
    questions = [first["text"]] + [m["text"] for m in replies if m["type"] == "question"]
    return started["session_id"], started["resume_token"], questions


def test_access_by_resume_token_or_researcher_and_nobody_else(client: TestClient, settings: Settings) -> None:
    sid, token, _ = _session(client, "P-R0", [STRONG])
    other_sid, other_token, _ = _session(client, "P-R9", [WEAK])
    with TestClient(create_app(settings)) as anon:
        assert anon.get(f"/sessions/{sid}/report").status_code == 401
        assert anon.get(f"/sessions/{sid}/report", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        page = anon.get(f"/sessions/{sid}/report", params={"token": token})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert anon.get(f"/sessions/{sid}/report", params={"token": other_token}).status_code == 403
        assert anon.get(f"/sessions/{sid}/report.pdf", params={"token": "nope"}).status_code == 403
        assert anon.get("/sessions/0123abcd/report", params={"token": token}).status_code == 404
        assert anon.get(f"/sessions/{other_sid}/report.json", headers=RESEARCH_AUTH).json()["reader"] == "researcher"
    assert client.get(f"/sessions/{sid}/report").status_code == 200  # researcher token


def test_control_sees_the_report_only_after_the_end(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws, group="control", question_count=2)
        answer(ws, STRONG)
        url = f"/sessions/{started['session_id']}/report"
        with TestClient(client.app) as anon:
            early = anon.get(url, params={"token": started["resume_token"]})
            assert early.status_code == 403 and early.json()["error"]["code"] == "report_after_end"
            send(ws, type="end_session", id="e1")
            ended = ws.receive_json()
            assert ended["type"] == "session_ended" and ended["report_url"] == url
            assert anon.get(url, params={"token": started["resume_token"]}).status_code == 200


def test_html_holds_scores_strengths_priorities_transcripts_and_plots(client: TestClient) -> None:
    sid, token, questions = _session(client, "P-R1", [FILLERS, STRONG])
    html = client.get(f"/sessions/{sid}/report", params={"token": token}).text
    for q in questions:
        assert q.replace("'", "&#39;") in html
    assert re.search(r'data-score="overall">\d\.\d<', html)
    assert "What went well" in html and "What to work on first" in html
    assert '<mark class="filler" title="filler">Um</mark>' in html and '<mark class="hedge" title="hedge">maybe</mark>' in html
    for plot in ("overall", "pace", "fillers", "eye_contact"):
        assert f'data-plot="{plot}"' in html
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    data = client.get(f"/sessions/{sid}/report.json", params={"token": token}).json()
    assert data["reader"] == "participant" and len(data["answers"]) == len(questions)
    assert data["strengths"] and data["priorities"]
    assert {p["dimension"] for p in data["strengths"]}.isdisjoint(p["dimension"] for p in data["priorities"])
    assert all(p["advice"] and p["answer"] for p in data["priorities"])
    assert any(p["evidence"] for p in data["priorities"] + data["strengths"])
    assert set(data["plots"]) >= {"overall", "pace", "fillers", "eye_contact"}


def test_pdf_text_holds_the_questions_and_scores(client: TestClient, tmp_path: Path) -> None:
    assert shutil.which("pdftotext"), "poppler-utils is missing: `make system-test-deps` installs it"
    sid, token, questions = _session(client, "P-R2", [STRONG])
    response = client.get(f"/sessions/{sid}/report.pdf", params={"token": token})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.content)
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    data = client.get(f"/sessions/{sid}/report.json", params={"token": token}).json()
    for q in questions:
        assert " ".join(q.split())[:40] in text
    assert f"{data['overall']:.1f} Overall" in text or f"{data['overall']:.1f}" in text
    for dim in ("Structure", "Specificity", "Relevance", "Ownership", "Conciseness", "Delivery"):
        assert dim in text
    assert "Pace (words/min)" in text and "Eye contact (%)" in text


def test_progress_lists_only_this_participants_sessions(client: TestClient) -> None:
    first, _, _ = _session(client, "P-R3", [WEAK])
    _session(client, "P-OTHER", [STRONG])
    second, token, _ = _session(client, "P-R3", [STRONG])
    data = client.get(f"/sessions/{second}/report.json", params={"token": token}).json()
    assert [p["session_id"] for p in data["progress"]] == [first, second]
    assert data["progress"][-1]["current"] and data["progress"][1]["overall"] > data["progress"][0]["overall"]
    assert "progress" in data["plots"]
    # the earlier report shows no later session
    anonymous_sid, anonymous_token, _ = _session(client, None, [STRONG])
    alone = client.get(f"/sessions/{anonymous_sid}/report.json", params={"token": anonymous_token}).json()
    assert [p["session_id"] for p in alone["progress"]] == [anonymous_sid]


def test_retry_question_asks_it_again_and_the_report_compares_attempts(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, first = start(ws, question_count=1)
        _finish(ws, [WEAK])
        send(ws, type="retry_question", question_id="nope", id="r0")
        assert ws.receive_json()["code"] == "question_not_found"
        send(ws, type="retry_question", question_id=first["question_id"], id="r1")
        again = ws.receive_json()
        assert again["type"] == "question" and again["question_id"] == first["question_id"]
        assert again["text"] == first["text"] and again["reply_to"] == "r1"
        done = _finish(ws, [STRONG])
        assert done[-1]["type"] == "session_complete"
    token, sid = started["resume_token"], started["session_id"]
    data = client.get(f"/sessions/{sid}/report.json", params={"token": token}).json()
    attempts = data["attempts"][first["question_id"]]
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert attempts[1]["overall"] > attempts[0]["overall"]
    assert "Questions you practised again" in client.get(f"/sessions/{sid}/report", params={"token": token}).text


def test_a_session_ended_before_any_answer_still_has_a_report(client: TestClient) -> None:
    with client.websocket_connect("/ws/interview") as ws:
        started, _ = start(ws)
        send(ws, type="end_session")
        assert ws.receive_json()["type"] == "session_ended"
    params = {"token": started["resume_token"]}
    page = client.get(f"/sessions/{started['session_id']}/report", params=params)
    assert page.status_code == 200 and "Nothing stood out yet" in page.text
    assert client.get(f"/sessions/{started['session_id']}/report.pdf", params=params).content.startswith(b"%PDF")
