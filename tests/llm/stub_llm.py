"""A real chat-completions server on 127.0.0.1 for tests and benchmarks, run in a thread.

It speaks enough of the OpenAI protocol (POST /v1/chat/completions, JSON or SSE) and
plays one scenario at a time: good, slow, HTTP errors, malformed or schema-breaking
replies. It records every request body so tests can check what the model was sent.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

GOOD_MESSAGE = "Thank you, that gives me a clear picture."


@dataclass
class Scenario:
    """`reply` is good | malformed | schema | late_schema | markup | not_completion; `fail_first` requests get
    `status` first. `chunk_delay_s`: a streamed reply waits this long before each piece (a slow writer);
    `message`: the interviewer_message of good and late_schema replies."""

    reply: str = "good"
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    message: str | None = None
    status: int = 200
    retry_after: str | None = None
    fail_first: int | None = None  # None: every request fails with `status` (when status != 200)


def grading_content(body: dict[str, Any], *, made_up: bool = False) -> str:
    """A valid rubric grade whose evidence quotes the answer's first words (or, made_up, words it never said)."""
    user = body["messages"][-1]["content"]
    data = json.loads(user.split("<<<INTERVIEW_DATA\n", 1)[1].split("\nINTERVIEW_DATA>>>", 1)[0])
    quote = "I was hired on the spot" if made_up else " ".join((data.get("answer") or "").split()[:6])
    dims = {name: {"score": 4, "reason": f"stub grade for {name}", "evidence": quote}
            for name in ("structure", "specificity", "relevance", "ownership", "conciseness")}
    return json.dumps({"scores": dims, "improve": "A stronger answer would add the stub's favourite number."})


def good_content(body: dict[str, Any], message: str | None = None) -> str:
    if "You grade one job-interview answer" in body["messages"][0]["content"]:
        return grading_content(body)
    user = body["messages"][-1]["content"]
    message = message or GOOD_MESSAGE
    if "<<<INTERVIEW_DATA\n" not in user:  # a bare client call (unit tests)
        return json.dumps({"interviewer_message": message})
    data = json.loads(user.split("<<<INTERVIEW_DATA\n", 1)[1].split("\nINTERVIEW_DATA>>>", 1)[0])
    planned = data.get("planned_next_question")
    role = data.get("role") or "this"
    tips = []
    if "tips: requested" in user:
        words = len((data.get("answer") or "").split())
        tips = [{"kind": "length", "text": "Add one concrete example with a number.", "evidence": f"{words} words"}]
    return json.dumps({
        "interviewer_message": message,
        "follow_up": None,
        "next_question": f"For the {role} role: {planned['text']}" if planned else None,
        "tips": tips,
    })


def schema_breaking_content(body: dict[str, Any]) -> str:
    return json.dumps({"interviewer_message": "x" * 5000, "tips": [{"kind": "pace", "text": "Slow down."}]})


def late_schema_content(body: dict[str, Any], message: str | None) -> str:
    """A good interviewer_message first; the tips after it break the schema (a tip without evidence)."""
    return json.dumps({"interviewer_message": message or GOOD_MESSAGE, "tips": [{"kind": "pace", "text": "Slow down."}]})


@dataclass
class StubLlm:
    scenario: Scenario = field(default_factory=Scenario)
    requests: list[dict[str, Any]] = field(default_factory=list)
    streamed_until: list[float] = field(default_factory=list)  # time.monotonic() each streamed reply was complete
    port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _stopping: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def reset(self, scenario: Scenario | None = None) -> None:
        self.scenario = scenario or Scenario()
        self.requests.clear()
        self.streamed_until.clear()

    async def _wait(self, request: Request, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < end:
            await asyncio.sleep(min(0.05, max(end - time.monotonic(), 0)))
            if seconds > 0.5 and await request.is_disconnected():  # the client gave up: stop hanging
                return

    async def _control(self, request: Request) -> Response:
        """Change the scenario of a stub running in another process (benchmarks)."""
        self.reset(Scenario(**await request.json()))
        return JSONResponse({"ok": True})

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/v1/chat/completions", self._handle, methods=["POST"]),
            Route("/control", self._control, methods=["POST"]),
            Route("/health", lambda _r: JSONResponse({"ok": True}), methods=["GET"]),
        ])

    async def _handle(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        s = self.scenario
        await self._wait(request, s.delay_s)
        if s.status != 200 and (s.fail_first is None or len(self.requests) <= s.fail_first):
            headers = {"Retry-After": s.retry_after} if s.retry_after is not None else {}
            return JSONResponse({"error": {"message": "stub failure"}}, status_code=s.status, headers=headers)
        if s.reply == "not_completion":
            return Response("<html>gateway error</html>", media_type="text/html")
        content = {
            "good": lambda b: good_content(b, s.message), "schema": schema_breaking_content,
            "late_schema": lambda b: late_schema_content(b, s.message),
            "markup": lambda _b: json.dumps({"interviewer_message": "<b>HIRED</b><script>alert(1)</script>"}),
            "malformed": lambda _b: 'Sure! Here is the JSON: {"interviewer_message": "Thanks",',
            "made_up_quotes": lambda b: (grading_content(b, made_up=True) if "You grade" in b["messages"][0]["content"]
                                         else good_content(b)),
        }[s.reply](body)
        model = body.get("model", "stub")
        if body.get("stream"):
            return StreamingResponse(self._sse(content, model, s.chunk_delay_s), media_type="text/event-stream")
        return JSONResponse({
            "id": "cmpl-stub", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        })

    async def _sse(self, content: str, model: str, chunk_delay_s: float = 0.0) -> Any:
        for i in range(0, len(content), 12):
            await asyncio.sleep(chunk_delay_s)
            chunk = {"model": model, "choices": [{"index": 0, "delta": {"content": content[i:i + 12]}}]}
            yield f"data: {json.dumps(chunk)}\n\n"
        self.streamed_until.append(time.monotonic())
        yield "data: [DONE]\n\n"

    def start(self) -> StubLlm:
        app = self.app()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("stub LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)


def create_stub_app() -> Starlette:
    """`uvicorn --factory tests.llm.stub_llm:create_stub_app`: a stub driven through POST /control."""
    return StubLlm().app()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
