"""Two service instances as separate processes on one PostgreSQL database, no sticky sessions.

Sessions move between instances on every turn; one answer is sent to both instances at once;
an instance is killed with -9 while its turns wait for the coach and its clients resume on the
others. Every acknowledged answer is stored exactly once and `seq` never repeats or goes back.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.live_server import LiveServer, start_server
from tests.llm.stub_llm import Scenario, StubLlm
from tests.scale.cluster import NO_ENGINES, instances, pg_query, receive_until_turn_end, throwaway_database

ANSWER = "At my last job I led a migration of our billing system and as a result we cut costs by 20 percent."
QUESTIONS = 4
BLOCK_SIZE = 4


@pytest.fixture(scope="module")
def stub() -> Iterator[StubLlm]:
    server = StubLlm().start()
    yield server
    server.stop()


@dataclass
class Cluster:
    database: str
    env: dict[str, str]
    servers: list[LiveServer]


@pytest.fixture(scope="module")
def cluster(stub: StubLlm) -> Iterator[Cluster]:
    """Two instances started at once on an empty database: their start-up migrations race for real."""
    with throwaway_database() as (name, url):
        env = {
            **NO_ENGINES, "DATABASE_URL": url, "NVIDIA_API_KEY": "test-key", "NVIDIA_LLM_URL": stub.url,
            "COACH__TURN_DEADLINE_S": "30", "LLM__MAX_RETRIES": "0", "STUDY__ASSIGNMENT": "block_randomised",
            "STUDY__BLOCK_SIZE": str(BLOCK_SIZE),
        }
        with instances(2, env) as servers:
            yield Cluster(name, env, servers)


@dataclass
class Participant:
    """A client that remembers what it was acknowledged and the seqs it saw."""

    session_id: str
    token: str
    seqs: list[int] = field(default_factory=list)
    acknowledged: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def last_seq(self) -> int:
        return self.seqs[-1]

    def take(self, messages: list[dict[str, Any]]) -> None:
        self.seqs += [m["seq"] for m in messages if m.get("seq") is not None]

    def resume(self, ws: ClientConnection) -> dict[str, Any]:
        ws.send(json.dumps({"type": "resume_session", "session_id": self.session_id, "resume_token": self.token,
                            "last_seq": self.last_seq, "id": f"resume-{len(self.seqs)}"}))
        resumed = json.loads(ws.recv(timeout=60))
        assert resumed["type"] == "session_resumed", resumed
        assert resumed["replay_complete"]
        replayed = [json.loads(ws.recv(timeout=60)) for _ in range(resumed["replayed"])]
        self.take(replayed)
        return resumed

    def answer(self, ws: ClientConnection, msg_id: str) -> list[dict[str, Any]]:
        ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": msg_id}))
        replies = receive_until_turn_end(ws)
        assert replies[-1]["type"] in {"question", "session_complete"}, replies
        self.take(replies)
        self.acknowledged[msg_id] = replies
        return replies


def start(server: LiveServer) -> Participant:
    with connect(server.ws) as ws:
        ws.send(json.dumps({"type": "start_session", "style": "neutral", "question_count": QUESTIONS, "id": "start"}))
        started, question = json.loads(ws.recv(timeout=60)), json.loads(ws.recv(timeout=60))
    assert started["type"] == "session_started" and question["type"] == "question", (started, question)
    participant = Participant(started["session_id"], started["resume_token"])
    participant.take([started, question])
    return participant


def coach_requests(stub: StubLlm) -> int:
    """The interviewer's requests to the LLM (a scorer may send its own)."""
    return sum(r["messages"][0]["content"].startswith("You are the interviewer") for r in list(stub.requests))


def stored_answers(database: str, session_id: str) -> Counter[str]:
    rows = pg_query(database, "SELECT client_message_id FROM answers WHERE session_id = %s", (session_id,))
    return Counter(r[0] for r in rows)


def outbox_seqs(database: str, session_id: str) -> list[int]:
    rows = pg_query(database, "SELECT seq FROM outbox_messages WHERE session_id = %s ORDER BY seq", (session_id,))
    return [r[0] for r in rows]


def check_session(database: str, participant: Participant, answer_ids: list[str]) -> None:
    assert participant.seqs == sorted(set(participant.seqs)), participant.seqs  # strictly increasing as received
    assert participant.seqs == list(range(1, participant.last_seq + 1))  # and nothing missed
    assert outbox_seqs(database, participant.session_id) == participant.seqs
    assert stored_answers(database, participant.session_id) == Counter(answer_ids)  # each exactly once


def test_sessions_alternate_instances_between_turns(cluster: Cluster, stub: StubLlm) -> None:
    stub.reset(Scenario())
    b = cluster.servers[1]
    sessions = 2 * BLOCK_SIZE
    # Started concurrently on both instances: the block-randomisation counter is shared.
    with ThreadPoolExecutor(4) as pool:
        participants = list(pool.map(lambda i: start(cluster.servers[i % 2]), range(sessions)))

    def play(i: int) -> None:
        participant = participants[i]
        for turn in range(QUESTIONS):
            with connect(cluster.servers[(i + turn) % 2].ws) as ws:  # a different instance every turn
                participant.resume(ws)
                participant.answer(ws, f"t{turn}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(play, range(sessions)))

    for participant in participants:
        assert participant.acknowledged[f"t{QUESTIONS - 1}"][-1]["type"] == "session_complete"
        check_session(cluster.database, participant, [f"t{k}" for k in range(QUESTIONS)])
    # A resend of an acknowledged answer, on the instance that did not take it, replays the same replies.
    first = participants[0]
    with connect(b.ws) as ws:
        first.resume(ws)
        ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": "t0"}))
        assert receive_until_turn_end(ws) == first.acknowledged["t0"]
    assert stored_answers(cluster.database, first.session_id) == Counter(f"t{k}" for k in range(QUESTIONS))

    assigned = pg_query(cluster.database, "SELECT data FROM session_events WHERE kind = 'assigned' AND session_id = ANY(%s)",
                        ([p.session_id for p in participants],))
    positions = sorted(int(row[0]["position"]) for row in assigned)
    assert positions == list(range(positions[0], positions[0] + sessions))  # no position taken twice, no gap
    by_block = Counter((row[0]["block"], row[0]["group"]) for row in assigned)
    for block in {row[0]["block"] for row in assigned}:
        if all(p in positions for p in range(block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE)):
            assert by_block[(block, "control")] == by_block[(block, "treatment")] == BLOCK_SIZE // 2


def test_one_answer_sent_to_both_instances_at_once_is_stored_once(cluster: Cluster, stub: StubLlm) -> None:
    a, b = cluster.servers
    participant = start(a)
    stub.reset(Scenario(delay_s=1.0))  # both turns wait for the coach, then race to commit
    try:
        with connect(a.ws) as ws_a, connect(b.ws) as ws_b:
            participant.resume(ws_a)
            participant.resume(ws_b)
            for ws in (ws_a, ws_b):
                ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": "same"}))
            with ThreadPoolExecutor(2) as pool:
                replies_a, replies_b = pool.map(receive_until_turn_end, (ws_a, ws_b))
        # The interviewer's requests (an LLM scorer may send its own): one per instance.
        coached = coach_requests(stub)
    finally:
        stub.reset(Scenario())
    assert replies_a[-1]["type"] == "question", replies_a
    assert replies_a == replies_b  # the loser gets the winner's replies (same seqs), not a stale_turn error
    assert coached == 2  # both instances really ran the turn
    participant.take(replies_a)
    check_session(cluster.database, participant, ["same"])


def test_kill_9_mid_turn_then_resume_on_the_other_instances(cluster: Cluster, stub: StubLlm) -> None:
    victim = start_server(cluster.env)  # a third instance on the same (already migrated) database
    sessions = 4
    participants = [start(victim) for _ in range(sessions)]
    answered_t0 = threading.Barrier(sessions + 1)
    coach_slowed = threading.Barrier(sessions + 1)
    closed: list[bool] = [False] * sessions

    def until_killed(i: int) -> None:
        participant = participants[i]
        with connect(victim.ws) as ws:
            participant.resume(ws)
            participant.answer(ws, "t0")
            answered_t0.wait(timeout=120)
            coach_slowed.wait(timeout=120)
            ws.send(json.dumps({"type": "user_answer", "answer": ANSWER, "id": "t1"}))
            try:
                participant.take(receive_until_turn_end(ws, timeout=120))
            except ConnectionClosed:
                closed[i] = True

    try:
        with ThreadPoolExecutor(sessions) as pool:
            futures = [pool.submit(until_killed, i) for i in range(sessions)]
            answered_t0.wait(timeout=120)
            stub.reset(Scenario(delay_s=30))  # t1 turns now hang in the coach: mid-turn, nothing committed
            coach_slowed.wait(timeout=120)
            deadline = time.monotonic() + 60
            while coach_requests(stub) < sessions and time.monotonic() < deadline:
                time.sleep(0.05)
            assert coach_requests(stub) == sessions
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait(timeout=30)
            for future in futures:
                future.result(timeout=120)
    finally:
        if victim.process.poll() is None:
            victim.process.kill()
        stub.reset(Scenario())
    assert all(closed)
    for i, participant in enumerate(participants):
        assert set(participant.acknowledged) == {"t0"}
        assert stored_answers(cluster.database, participant.session_id) == Counter(["t0"])  # t1 died with its turn
        for turn in range(1, QUESTIONS):  # resend t1 on a surviving instance, then go on, alternating
            with connect(cluster.servers[(i + turn) % 2].ws) as ws:
                participant.resume(ws)
                participant.answer(ws, f"t{turn}")
        check_session(cluster.database, participant, [f"t{k}" for k in range(QUESTIONS)])
