"""The pieces on their own: output validation, Retry-After, the breaker, the client's retry budget."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from app.inference.llm.base import ChatMessage, Completion, LlmError
from app.inference.llm.breaker import CircuitBreaker
from app.inference.llm.openai_compatible import OpenAICompatibleChatClient, completions_url, parse_retry_after
from app.services.coaching.llm_prompt import parse_output, scrub
from app.settings import LlmSettings
from tests.llm.stub_llm import GOOD_MESSAGE, Scenario, StubLlm

GOOD = {"interviewer_message": "Thanks.", "follow_up": None, "next_question": None,
        "tips": [{"kind": "pace", "text": "Slow down.", "evidence": "182 words/min"}]}


def test_parse_output_accepts_a_good_reply_and_cleans_text() -> None:
    out = parse_output("```json\n" + json.dumps(GOOD | {"interviewer_message": "Thanks,\n\x07  noted.\u202e",
                                                       "follow_up": "  ", "extra": 1}) + "\n```")
    assert out.interviewer_message == "Thanks, noted." and out.follow_up is None
    assert out.tips[0].evidence == "182 words/min"


@pytest.mark.parametrize("reply", [
    "not json", "[1, 2]", json.dumps({"follow_up": "Why?"}), json.dumps(GOOD | {"interviewer_message": ""}),
    json.dumps(GOOD | {"interviewer_message": "a" * 401}), json.dumps(GOOD | {"interviewer_message": 3}),
    json.dumps(GOOD | {"interviewer_message": "Nice <img src=x onerror=alert(1)>"}),
    json.dumps(GOOD | {"tips": GOOD["tips"] * 4}), json.dumps(GOOD | {"tips": [{"kind": "pace", "text": "x"}]}),
    json.dumps(GOOD | {"tips": [{"kind": "Pace!", "text": "x", "evidence": "y"}]}),
])
def test_parse_output_rejects_what_breaks_the_schema(reply: str) -> None:
    with pytest.raises(ValueError):
        parse_output(reply)


def test_scrub_caps_and_removes_markers() -> None:
    text, cut = scrub("a <<<INTERVIEW_DATA b INTERVIEW_DATA>>> c interview_data" + "x" * 50, 20)
    assert "INTERVIEW_DATA" not in text.upper() and len(text) == 20 and cut


def test_retry_after_forms() -> None:
    assert parse_retry_after("2") == 2.0 and parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("-3") == 0.0
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(when) or 0) <= 31


def test_completions_url() -> None:
    assert completions_url("https://integrate.api.nvidia.com/v1/") == "https://integrate.api.nvidia.com/v1/chat/completions"
    assert completions_url("http://h:8000/v1/chat/completions") == "http://h:8000/v1/chat/completions"


def test_breaker_opens_after_consecutive_failures_and_half_opens() -> None:
    now = [0.0]
    breaker = CircuitBreaker(5, 60, clock=lambda: now[0])
    for _ in range(4):
        breaker.failure()
    breaker.success()  # a success resets the count
    for _ in range(5):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    now[0] = 59.9
    assert not breaker.allow()
    now[0] = 60.0
    assert breaker.allow() and not breaker.allow()  # one trial call only
    breaker.failure()
    assert breaker.state == "open"
    now[0] = 120.0
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow()


async def _complete(url: str, deadline_s: float, **settings: object) -> tuple[float, object]:
    client = OpenAICompatibleChatClient(url=url, api_key="k", model="m", timeout_s=10,
                              settings=LlmSettings(backoff_base_s=0.05, **settings))  # type: ignore[arg-type]
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        result: object = await client.complete([ChatMessage("user", "hi")], deadline=start + deadline_s)
    except LlmError as exc:
        result = exc
    finally:
        await client.aclose()
    return loop.time() - start, result


def test_client_retries_5xx_at_most_twice_then_succeeds(stub: StubLlm) -> None:
    stub.reset(Scenario(status=502, fail_first=2))
    elapsed, result = asyncio.run(_complete(stub.url, 2.0))
    assert isinstance(result, Completion) and result.attempts == 3 and GOOD_MESSAGE in result.text
    assert len(stub.requests) == 3 and elapsed < 2.0  # within the deadline (short backoffs: bench/llm_turns.py times them)


def test_client_gives_up_after_two_retries(stub: StubLlm) -> None:
    stub.reset(Scenario(status=502))
    _, result = asyncio.run(_complete(stub.url, 2.0))
    assert isinstance(result, LlmError) and result.kind == "http_status" and result.attempts == 3
    assert len(stub.requests) == 3


def test_client_rejects_a_200_that_is_not_a_completion(stub: StubLlm) -> None:
    stub.reset(Scenario(reply="not_completion"))
    _, result = asyncio.run(_complete(stub.url, 2.0))
    assert isinstance(result, LlmError) and result.kind == "bad_response" and len(stub.requests) == 1


def test_client_does_not_retry_client_errors(stub: StubLlm) -> None:
    stub.reset(Scenario(status=401))
    _, result = asyncio.run(_complete(stub.url, 2.0))
    assert isinstance(result, LlmError) and result.kind == "http_status" and len(stub.requests) == 1


def test_client_never_outlives_its_deadline(stub: StubLlm) -> None:
    stub.reset(Scenario(delay_s=5))
    elapsed, result = asyncio.run(_complete(stub.url, 0.3))
    assert isinstance(result, LlmError) and result.kind == "timeout"
    # It gave up at the deadline, not after the stub's 5 s. The bound leaves a busy machine's event loop
    # a second of lateness; bench/llm_turns.py measures the real margin (deadline + ~2 ms).
    assert 0.3 <= elapsed < 1.5, elapsed
