"""Server-side group assignment: seeded block randomisation, continued across app instances via the database."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.services.assignment import block_assignment
from app.services.content import load_content
from app.settings import Settings
from tests.conftest import RESEARCH_AUTH


def test_every_block_is_balanced_and_the_sequence_is_reproducible() -> None:
    sequence = [block_assignment(["treatment", "control"], 4, 20261202, i)[0] for i in range(400)]
    for b in range(100):
        assert Counter(sequence[4 * b:4 * b + 4]) == {"control": 2, "treatment": 2}
    assert sequence == [block_assignment(["control", "treatment"], 4, 20261202, i)[0] for i in range(400)]
    assert sequence != [block_assignment(["control", "treatment"], 4, 7, i)[0] for i in range(400)]
    assert len({tuple(sequence[4 * b:4 * b + 4]) for b in range(100)}) > 1  # blocks are not all alike
    with pytest.raises(ValueError):
        block_assignment(["control", "treatment"], 3, 1, 0)


def _start_without_group(client: TestClient) -> dict[str, object]:
    with client.websocket_connect("/ws/interview") as ws:
        ws.send_json({"type": "start_session", "style": "neutral", "question_count": 1})
        return ws.receive_json()  # type: ignore[no-any-return]


def test_block_randomised_assignment_across_processes(settings: Settings) -> None:
    policy = load_content().policy
    randomised = settings.model_copy(update={"study": settings.study.model_copy(update={"assignment": "block_randomised"})})
    groups: list[str] = []
    for _ in range(2):  # two app instances sharing the database: the sequence continues, it does not restart
        with TestClient(create_app(randomised), headers=RESEARCH_AUTH) as client:
            for _ in range(6):
                started = _start_without_group(client)
                assert started["type"] == "session_started", started
                groups.append(str(started["group"]))
                export = client.get(f"/export/session/{started['session_id']}").json()
                assert export["session"]["assignment"] == "block_randomised"
                event = next(e for e in export["events"] if e["kind"] == "assigned")
                assert event["data"]["position"] == len(groups) - 1 and event["data"]["group"] == groups[-1]
            summary = client.get("/metrics/summary").json()
    expected = [block_assignment(sorted(policy.groups), policy.block_size, policy.seed, i)[0] for i in range(12)]
    assert groups == expected
    consort = summary["consort"]["groups"]
    assert consort["control"]["randomised_by_server"] + consort["treatment"]["randomised_by_server"] == 12
    with TestClient(create_app(randomised), headers=RESEARCH_AUTH) as client, client.websocket_connect("/ws/interview") as ws:
        ws.send_json({"type": "start_session", "group": "control", "question_count": 1})  # a named group is kept
        started = ws.receive_json()
        assert started["group"] == "control"
        assert client.get(f"/export/session/{started['session_id']}").json()["session"]["assignment"] == "client"


def test_client_assignment_requires_the_group(settings: Settings) -> None:
    client_mode = settings.model_copy(update={"study": settings.study.model_copy(update={"assignment": "client"})})
    with TestClient(create_app(client_mode)) as client:
        error = _start_without_group(client)
    assert error["type"] == "error" and error["code"] == "group_required"


def test_environment_overrides_the_policy_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.content import with_study_overrides

    shipped = load_content()
    assert shipped.policy.when_group_missing == "error"
    monkeypatch.setenv("STUDY__ASSIGNMENT", "block_randomised")
    monkeypatch.setenv("STUDY__BLOCK_SIZE", "6")
    monkeypatch.setenv("PRIVACY__RETAIN_AUDIO", "false")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    policy = with_study_overrides(shipped, settings.study).policy
    assert (policy.when_group_missing, policy.block_size, policy.seed) == ("block_randomised", 6, shipped.policy.seed)
    assert settings.privacy.retain_audio is False
    monkeypatch.setenv("STUDY__ASSIGNMENT", "client")
    assert with_study_overrides(shipped, Settings(_env_file=None).study).policy.when_group_missing == "error"  # type: ignore[call-arg]
    monkeypatch.setenv("STUDY__BLOCK_SIZE", "5")
    with pytest.raises(ValueError, match="multiple"):
        with_study_overrides(shipped, Settings(_env_file=None).study)  # type: ignore[call-arg]
