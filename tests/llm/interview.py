"""Drive a whole interview over /ws/interview and time each turn."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import RESEARCH_AUTH
from tests.wsclient import answer, start

STAR_ANSWER = (
    "At my previous job our team was missing deadlines because releases were manual. "
    "My task was to fix the release process. I wrote a deployment script, I set up automated tests "
    "and I trained two colleagues to use them. As a result we cut release time by 60 percent "
    "and delivered the next three releases on time, which the client noticed."
)
ROLE = "Data engineer"
JOB = "Build and run batch and streaming pipelines in Python and SQL for an analytics team."
MAX_TURNS = 25


@dataclass
class Run:
    session_id: str
    turn_s: list[float]
    replies: list[list[dict[str, Any]]]
    questions: list[dict[str, Any]]


def interview(client: TestClient, answers: list[str] | None = None, **start_fields: Any) -> Run:
    fields = {"role": ROLE, "job_description": JOB, "question_count": 2} | start_fields
    with client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, **fields)
        run = Run(started["session_id"], [], [], [question])
        for turn in range(MAX_TURNS):
            text = answers[turn % len(answers)] if answers else STAR_ANSWER
            t0 = time.perf_counter()
            replies = answer(ws, text)
            run.turn_s.append(time.perf_counter() - t0)
            run.replies.append(replies)
            last = replies[-1]
            assert last["type"] in ("question", "session_complete"), last
            if last["type"] == "session_complete":
                return run
            run.questions.append(last)
    raise AssertionError("the interview did not finish")


def exported_answers(client: TestClient, session_id: str) -> list[dict[str, Any]]:
    export = client.get(f"/export/session/{session_id}", headers=RESEARCH_AUTH).json()
    assert export["session"]["status"] == "completed"
    return export["answers"]  # type: ignore[no-any-return]
