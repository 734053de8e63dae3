"""Speaking while the LLM writes: the acknowledgement at once, the streamed message sentence by sentence,
the durable message only where it goes beyond what was said. Real Piper voice, real stub LLM server."""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from app.inference.audio import float_to_pcm16
from app.main import create_app
from app.services.coaching.speaking import SpokenDraft
from app.services.content import load_content
from app.services.voice import SentenceStream, split_sentences, style_texts, unspoken
from tests.conftest import RESEARCH_AUTH
from tests.inference.speech_helpers import SPEECH, load
from tests.llm.conftest import llm_settings
from tests.llm.interview import STAR_ANSWER
from tests.llm.stub_llm import Scenario, StubLlm
from tests.wsclient import start

MESSAGE = ("The release numbers make the result easy to follow. I would still like to hear how you chose "
           "which tests to automate first. Let us keep going.")
Timed = list[tuple[float, dict[str, Any]]]


# --- the parts, without a socket -----------------------------------------------------------


@pytest.mark.parametrize("step", [1, 3, 7, 50])
def test_sentences_cut_from_a_stream_are_the_sentences_of_the_whole(step: int) -> None:
    text = 'He said "stop." Then he left!  Why? (Nobody knew.) The end… really. 3.5 percent is fine. Last one'
    stream = SentenceStream()
    got = list(itertools.chain.from_iterable(stream.feed(text[i:i + step]) for i in range(0, len(text), step)))
    assert got + stream.flush() == split_sentences(text)


def test_only_what_goes_beyond_what_was_said_is_left_to_say() -> None:
    said = ["Thank you.", "The result is clear."]
    assert unspoken("Thank you. The result is clear. One more thing.", said) == "One more thing."
    assert unspoken("Thank you.  The result\nis clear.", said) == ""  # white space may differ
    assert unspoken("Thank you.", said) == ""  # the fallback's acknowledgement: said already, and more
    assert unspoken("Thank you. Something else. The result is clear.", said) == "Something else. The result is clear."
    assert unspoken("Okay. The result is clear.", said) == "Okay. The result is clear."
    assert unspoken("Anything.", []) == "Anything."


def test_every_acknowledgement_ends_a_sentence() -> None:
    """The durable message is the acknowledgement + the LLM's message: the acknowledgement must end a
    sentence, or the sentences said ahead would not be the message's sentences and it would be said twice."""
    for text in style_texts(load_content().styles.values()):
        assert split_sentences(f"{text} Next sentence.")[-1] == "Next sentence.", text


class _Voice:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.closed = False

    def say(self, text: str) -> None:
        self.said.extend(split_sentences(text))

    def close(self) -> None:
        self.closed = True


def test_a_draft_that_the_schema_will_reject_stops_being_spoken() -> None:
    voice = _Voice()
    draft = SpokenDraft(voice)
    for piece in ["Good. That", " is clear. <b>HIR", "ED</b> now. More."]:
        draft.feed(piece)
    draft.finish()
    assert voice.said == ["Good.", "That is clear."] and voice.closed
    long = _Voice()
    draft = SpokenDraft(long)
    draft.feed("Short one. " + "word " * 100 + "end. After.")
    draft.finish()
    assert long.said == ["Short one."]  # over the 400-character cap: the rest is not said


# --- over the socket -------------------------------------------------------------------------


def _collect(ws: WebSocketTestSession) -> Timed:
    """Every message up to the last speech chunk of the next question, with the time it arrived."""
    got: Timed = []
    question: dict[str, Any] | None = None
    while True:
        message = ws.receive_json()
        got.append((time.monotonic(), message))
        assert message["type"] not in ("error", "session_complete"), message
        if message["type"] == "question":
            question = message
        if (question is not None and message["type"] == "speech_audio" and message["last"]
                and message["reply_to_seq"] == question["seq"]):
            return got


def _of(got: Timed, kind: str) -> dict[str, Any]:
    return next(m for _, m in got if m["type"] == kind)


def _acknowledgements() -> set[str]:
    return set(style_texts(load_content().styles.values()))


def _answer(client: TestClient, **start_fields: Any) -> tuple[Timed, dict[str, Any]]:
    with client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, tts=True, question_count=2, **start_fields)
        while not (m := ws.receive_json())["last"]:  # the first question's own speech
            assert m["reply_to_seq"] == question["seq"]
        ws.send_json({"type": "user_answer", "id": "a1", "answer": STAR_ANSWER})
        return _collect(ws), started


def test_the_reply_is_spoken_while_the_llm_is_still_writing(stub: StubLlm, sqlite_url: str) -> None:
    # Thinks 1.5 s before the first piece, then writes 12 characters every 80 ms (about 3.5 s in all).
    stub.reset(Scenario(reply="good", message=MESSAGE, delay_s=1.5, chunk_delay_s=0.08))
    settings = llm_settings(sqlite_url, stub.url, deadline_s=15.0)
    assert settings.llm.stream is False and settings.llm.speak_while_writing is True
    with TestClient(create_app(settings)) as client:
        got, _ = _answer(client)
    messages = [m for _, m in got]
    final, question = _of(got, "interviewer_message"), _of(got, "question")
    acknowledgement = final["text"].removesuffix(" " + MESSAGE)
    assert acknowledgement in _acknowledgements()  # the durable message: the acknowledgement, then the LLM's text
    audio = [(t, m) for t, m in got if m["type"] == "speech_audio"]
    provisional = [m for _, m in audio if m["provisional"]]
    assert all(m["reply_to"] == "a1" and m["reply_to_seq"] is None and m["seq"] is None for m in provisional)
    assert [m["chunk_index"] for m in provisional] == list(range(len(provisional)))
    # The acknowledgement was heard before the LLM had written anything, its first sentence before it was done.
    (request,) = stub.requests
    first_sentence = split_sentences(MESSAGE)[0]
    t_ack = audio[0][0]
    t_first = next(t for t, m in audio if m["text"] == first_sentence)
    assert audio[0][1]["text"] == split_sentences(acknowledgement)[0] and audio[0][1]["provisional"]
    assert t_first < stub.streamed_until[0]
    assert messages.index(next(m for _, m in audio if m["text"] == first_sentence)) < messages.index(final)
    assert t_ack < t_first
    # Nothing is said twice: the reply's speech is the final message's sentences, once each, in order.
    reply_speech = [m["text"] for _, m in audio if m["provisional"] or m["reply_to_seq"] == final["seq"]]
    assert reply_speech == split_sentences(final["text"])
    assert [m["text"] for _, m in audio if m["reply_to_seq"] == question["seq"]] == split_sentences(question["text"])
    # Asked to stream although LLM__STREAM is off (nothing of it reaches the client as text), and told what was said.
    assert request["stream"] is True and "interviewer_message_delta" not in {m["type"] for m in messages}
    user = request["messages"][1]["content"]
    assert "acknowledgement: already spoken" in user and acknowledgement in user.split("<<<INTERVIEW_DATA")[0]


def test_without_speaking_while_writing_speech_waits_for_the_durable_message(stub: StubLlm, sqlite_url: str) -> None:
    stub.reset(Scenario(reply="good", message=MESSAGE, delay_s=0.5))
    settings = llm_settings(sqlite_url, stub.url, deadline_s=15.0, speak_while_writing=False)
    with TestClient(create_app(settings)) as client:
        got, _ = _answer(client)
    messages = [m for _, m in got]
    final = _of(got, "interviewer_message")
    audio = [m for m in messages if m["type"] == "speech_audio"]
    assert final["text"] == MESSAGE and not any(m["provisional"] for m in audio)
    assert messages.index(audio[0]) > messages.index(final) and audio[0]["reply_to_seq"] == final["seq"]
    assert stub.requests[0]["stream"] is False and "acknowledgement" not in stub.requests[0]["messages"][1]["content"]


def _export(client: TestClient, session_id: str) -> dict[str, Any]:
    return client.get(f"/export/session/{session_id}", headers=RESEARCH_AUTH).json()  # type: ignore[no-any-return]


def test_rejected_output_falls_back_without_saying_anything_twice(stub: StubLlm, sqlite_url: str) -> None:
    # The message streams well and is spoken; the tips after it break the schema: the heuristic reply is kept.
    stub.reset(Scenario(reply="late_schema", message=MESSAGE, chunk_delay_s=0.03))
    with TestClient(create_app(llm_settings(sqlite_url, stub.url, deadline_s=15.0))) as client:
        got, started = _answer(client)
        (answer,) = _export(client, started["session_id"])["answers"]
    final = _of(got, "interviewer_message")
    assert final["text"] in _acknowledgements()  # the heuristic reply: the acknowledgement already said
    speech = [m for _, m in got if m["type"] == "speech_audio" and m["reply_to_seq"] != _of(got, "question")["seq"]]
    assert all(m["provisional"] for m in speech)  # nothing of the durable message was left to say
    assert [m["text"] for m in speech] == split_sentences(final["text"]) + split_sentences(MESSAGE)
    coach = answer["server_metrics"]["coach"]
    assert coach["fallback_reason"] == "invalid_output" and coach["spoken_not_kept"] == split_sentences(MESSAGE)


def test_markup_from_an_obedient_model_is_never_spoken(stub: StubLlm, sqlite_url: str) -> None:
    stub.reset(Scenario(reply="markup"))
    with TestClient(create_app(llm_settings(sqlite_url, stub.url, deadline_s=15.0))) as client:
        got, _ = _answer(client)
    final = _of(got, "interviewer_message")
    speech = [m["text"] for _, m in got if m["type"] == "speech_audio" and m["reply_to"] == "a1"]
    assert final["text"] in _acknowledgements()
    assert speech[:len(split_sentences(final["text"]))] == split_sentences(final["text"])
    assert not any("<" in text or "HIRED" in text for text in speech)


# --- a spoken answer: the latency record and barge-in ----------------------------------------

RATE = 16000


def _frames(ws: WebSocketTestSession, audio: np.ndarray) -> None:
    pcm = float_to_pcm16(audio)
    step = int(RATE * 0.1) * 2
    for i in range(0, len(pcm), step):
        ws.send_bytes(pcm[i:i + step])


def test_speaking_over_provisional_speech_stops_it_and_first_audio_counts_it(
        stub: StubLlm, sqlite_url: str) -> None:
    # A slow writer: the acknowledgement is spoken at once and the candidate talks over it.
    stub.reset(Scenario(reply="good", message=MESSAGE, delay_s=1.0, chunk_delay_s=0.15))
    settings = llm_settings(sqlite_url, stub.url, deadline_s=20.0)
    speech = load(SPEECH / "clean" / "61-70968-0000.flac")
    silence = (np.random.default_rng(0).standard_normal(4 * RATE) * 1e-3).astype(np.float32)
    with TestClient(create_app(settings)) as client, client.websocket_connect("/ws/interview") as ws:
        started, question = start(ws, tts=True, question_count=2, turn_detection="auto")
        while not (m := ws.receive_json())["last"]:
            assert m["type"] == "speech_audio"
        ws.send_json({"type": "audio_start", "id": "a1", "sample_rate": RATE, "question_id": question["question_id"]})
        _frames(ws, np.concatenate([speech, silence]))  # no audio_end: the server ends the turn
        seen: list[dict[str, Any]] = []
        while not ((m := ws.receive_json())["type"] == "speech_audio" and m["provisional"]):
            assert m["type"] not in ("interviewer_message", "error"), m
            seen.append(m)
        assert m["reply_to"] == "a1" and m["text"] in " ".join(_acknowledgements())
        ws.send_json({"type": "audio_start", "id": "a2", "sample_rate": RATE})
        _frames(ws, speech[: 2 * RATE])  # 2 s of speech over the interviewer
        before = [m]
        while (m := ws.receive_json())["type"] != "speech_interrupted":
            before.append(m)
        interrupted = m
        after: list[dict[str, Any]] = []
        while (m := ws.receive_json())["type"] != "question":
            after.append(m)
        next_question = m
        time.sleep(0.5)  # anything still on its way
        ws.send_json({"type": "ping", "id": "p1"})
        while (m := ws.receive_json())["type"] != "pong":
            after.append(m)
        final = next(x for x in after + before if x["type"] == "interviewer_message")
        heard = [x for x in before if x["type"] == "speech_audio" and x["provisional"]]
        assert interrupted["reply_to_seq"] is None and interrupted["heard_chunks"] == len(heard) >= 1
        # Neither the rest of the provisional speech nor the durable message is spoken after the interruption.
        assert not any(x["type"] == "speech_audio" and (x["provisional"] or x["reply_to_seq"] == final["seq"])
                       for x in after)
        assert final["text"].endswith(MESSAGE)
        assert all(x["reply_to_seq"] == next_question["seq"] for x in after if x["type"] == "speech_audio")
        deadline = time.monotonic() + 10
        while not (latencies := _export(client, started["session_id"])["latencies"]) and time.monotonic() < deadline:
            time.sleep(0.2)
    (latency,) = latencies  # one record for the one answer given, written once
    # The first audio was the acknowledgement, spoken before the coach (the LLM) had finished.
    assert latency["first_audio_ms"] is not None and latency["coach_ms"] is not None
    assert latency["transcript_ms"] < latency["first_audio_ms"] < latency["coach_ms"] <= latency["question_ms"]
