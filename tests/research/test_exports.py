"""Tidy CSV with its codebook, NDJSON with keyset paging, and the command line; on both databases."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from app.services.codebook import COLUMNS, CheckInPoint, nearest
from tests.research.seed import START, seed_study

ROOT = Path(__file__).resolve().parents[2]


def _csv(client: TestClient, **params: str) -> list[dict[str, str]]:
    response = client.get("/export/answers.csv", params=params)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


def test_csv_columns_are_exactly_the_codebook(client: TestClient, clean_database: str) -> None:
    seed_study(clean_database, n_sessions=6)
    codebook = client.get("/export/codebook.json").json()
    header = client.get("/export/answers.csv").text.splitlines()[0].split(",")
    assert header == [c["name"] for c in codebook["columns"]] == [c.name for c in COLUMNS]
    for column in codebook["columns"]:
        assert column["type"] in {"string", "integer", "number", "boolean", "datetime"} and column["description"]
    assert codebook["service"]["version"] and codebook["service"]["schema_revision"]
    assert codebook["models"]["stt"]["model"] and codebook["packages"]["scipy"]


def test_csv_rows_hold_answers_metrics_and_the_nearest_checkin(client: TestClient, clean_database: str) -> None:
    ids = seed_study(clean_database, n_sessions=12)
    rows = _csv(client)
    sessions = {sid: client.get(f"/export/session/{sid}").json() for sid in ids}
    assert len(rows) == sum(len(s["answers"]) for s in sessions.values())
    assert [int(r["answer_id"]) for r in rows] == sorted(int(r["answer_id"]) for r in rows)
    types = {c.name: c.type for c in COLUMNS}
    for row in rows:
        record = sessions[row["session_id"]]
        stored = next(a for a in record["answers"] if a["id"] == int(row["answer_id"]))
        question = next(q for q in record["questions"] if q["id"] == stored["asked_question_id"])
        assert row["group"] == record["session"]["group"] and row["participant_id"] == record["session"]["participant_id"]
        assert row["style"] == stored["style"] and int(row["question_index"]) == question["index"]
        assert row["input_mode"] == stored["input_mode"] and row["follow_up"] == str(question["is_follow_up"]).lower()
        assert float(row["speaking_rate_wpm"]) == stored["speaking_rate_wpm"]
        assert row["speaking_rate_wpm_source"] == ("server" if stored["input_mode"] == "voice" else "client")
        assert row["pause_ratio"] == (str(stored["pause_ratio"]) if stored["input_mode"] == "voice" else "")  # NA, not 0
        assert row["star_action"] == "true" and row["star_task"] == "false"
        answered = datetime.fromisoformat(row["answered_at"])
        checkins = [(abs((datetime.fromisoformat(c["created_at"]) - answered).total_seconds()), c["id"], c)
                    for c in record["checkins"]]
        best = min(checkins)[2]
        assert int(row["checkin_confidence"]) == best["confidence"] and int(row["checkin_stress"]) == best["stress"]
        assert row["tip_count"] == "1" and row["tip_kinds"] == "pace_fast"
        for name, value in row.items():  # every cell parses as its declared type
            if value == "":
                continue
            if types[name] == "integer":
                int(value)
            elif types[name] == "number":
                float(value)
            elif types[name] == "boolean":
                assert value in {"true", "false"}
            elif types[name] == "datetime":
                assert datetime.fromisoformat(value).tzinfo is not None


def test_csv_filters_by_date_and_style(client: TestClient, clean_database: str) -> None:
    seed_study(clean_database, n_sessions=12)
    until = (START + timedelta(hours=7 * 4)).isoformat()
    early = _csv(client, until=until)
    assert {r["session_id"] for r in early} == {f"seed11{i:05d}" for i in range(4)}
    assert {r["style"] for r in _csv(client, style="challenging")} == {"challenging"}


def test_nearest_checkin_prefers_the_closer_then_the_earlier() -> None:
    t0 = START
    points = [CheckInPoint(t0, 1, 1), CheckInPoint(t0 + timedelta(seconds=60), 2, 2)]
    assert nearest(points, t0 + timedelta(seconds=20)).confidence == 1  # type: ignore[union-attr]
    assert nearest(points, t0 + timedelta(seconds=40)).confidence == 2  # type: ignore[union-attr]
    assert nearest(points, t0 + timedelta(seconds=30)).confidence == 1  # type: ignore[union-attr]
    assert nearest([], t0) is None


def test_ndjson_pages_through_every_session_once(client: TestClient, clean_database: str) -> None:
    ids = seed_study(clean_database, n_sessions=11)
    client.app.state.services.export.session_page = 3  # type: ignore[attr-defined]  # several pages per response
    lines = [json.loads(x) for x in client.get("/export/sessions").text.splitlines()]
    assert [r["session"]["id"] for r in lines] == ids  # (created_at, id) order
    assert all("resume_token_hash" not in r["session"] for r in lines) and all(r["answers"] for r in lines)
    paged: list[str] = []
    after: str | None = None
    while True:
        params = {"limit": "4"} | ({"after": after} if after else {})
        page = [json.loads(x)["session"]["id"] for x in client.get("/export/sessions", params=params).text.splitlines()]
        if not page:
            break
        assert len(page) <= 4
        paged += page
        after = page[-1]
    assert paged == ids
    ranged = client.get("/export/sessions", params={"since": (START + timedelta(hours=7 * 3)).isoformat(),
                                                     "until": (START + timedelta(hours=7 * 5)).isoformat()})
    assert [json.loads(x)["session"]["id"] for x in ranged.text.splitlines()] == ids[3:5]
    assert client.get("/export/sessions", params={"after": "missing"}).status_code == 404


def test_command_line_writes_the_same_csv(client: TestClient, clean_database: str, tmp_path: Path) -> None:
    seed_study(clean_database, n_sessions=5)
    since = (START + timedelta(hours=7)).isoformat()
    out = tmp_path / "answers.csv"
    env = {**os.environ, "DATABASE_URL": clean_database, "DB__AUTO_MIGRATE": "false"}
    done = subprocess.run([sys.executable, "-m", "app", "export", "--format", "csv", "--since", since, "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == client.get("/export/answers.csv", params={"since": since}).text
    nd = tmp_path / "sessions.ndjson"
    done = subprocess.run([sys.executable, "-m", "app", "export", "--format", "ndjson", "--out", str(nd)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "exported 5 sessions" in done.stderr
    assert len(nd.read_text().splitlines()) == 5
