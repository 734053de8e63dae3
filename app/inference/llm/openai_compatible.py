"""OpenAI-compatible chat completions over async httpx.

Works with any OpenAI-compatible server (NVIDIA's API catalogue or a NIM, the default URL;
vLLM, Ollama, llama.cpp's server) by changing the URL and model (`LLM__URL`, `LLM__MODEL`).
Every call ends by its deadline: the per-attempt timeouts, the retries and the back-off all fit
inside it, or the call gives up early.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.inference.llm.base import ChatMessage, Completion, DeltaCallback, FailureKind, LlmError
from app.inference.llm.breaker import CircuitBreaker
from app.settings import LlmSettings

MAX_RETRY_AFTER_S = 3600.0


class _AttemptFailed(Exception):
    def __init__(self, kind: FailureKind, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def completions_url(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


class OpenAICompatibleChatClient:
    """`LlmEngine` over HTTP with bounded retries, Retry-After and a circuit breaker."""

    def __init__(
        self, *, url: str, api_key: str, model: str, timeout_s: float, settings: LlmSettings,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self._url = completions_url(url)
        self._client = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s, connect=min(settings.connect_timeout_s, timeout_s)),
            transport=transport,
        )
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_open_s)
        self._rng = random.Random()
        self.calls = 0
        self.failures: dict[str, int] = {}
        self.last_latency_ms: float | None = None

    def _backoff(self, attempt: int) -> float:
        # Jitter spreads retries of many sessions so they do not hit a recovering server together.
        delay = min(self.settings.backoff_base_s * 2 ** (attempt - 1), self.settings.backoff_max_s)
        return delay * self._rng.uniform(0.5, 1.5)

    def _body(self, messages: Sequence[ChatMessage], json_mode: bool, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": self.settings.max_tokens,
            "temperature": self.settings.temperature,
            "stream": stream,
        }
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    async def complete(
        self, messages: Sequence[ChatMessage], *, deadline: float, json_mode: bool = False,
        on_delta: DeltaCallback | None = None,
    ) -> Completion:
        loop = asyncio.get_running_loop()
        started = loop.time()
        self.calls += 1
        if not self.breaker.allow():
            self._count("circuit_open")
            raise LlmError("circuit_open", f"circuit open for {self.breaker.seconds_until_retry():.0f} s more",
                           latency_ms=0.0)
        body = self._body(messages, json_mode, stream=on_delta is not None)
        attempts = 0
        streamed = [False]
        try:
            while True:
                attempts += 1
                try:
                    async with asyncio.timeout_at(deadline):
                        text, model = await self._attempt(body, on_delta, streamed)
                except TimeoutError:
                    failure = _AttemptFailed("timeout", "no reply before the turn deadline", retryable=True)
                except httpx.TimeoutException as exc:
                    failure = _AttemptFailed("timeout", type(exc).__name__, retryable=True)
                except httpx.TransportError as exc:
                    failure = _AttemptFailed("connection", f"{type(exc).__name__}: {exc}", retryable=True)
                except _AttemptFailed as exc:
                    failure = exc
                else:
                    latency = (loop.time() - started) * 1000
                    self.breaker.success()
                    self.last_latency_ms = latency
                    return Completion(text=text, model=model, latency_ms=latency, attempts=attempts)
                delay = self._backoff(attempts)
                if failure.retry_after is not None and failure.retry_after > 0:
                    delay = max(delay, failure.retry_after)
                # No retry once text was streamed (it would repeat), and never wait past the deadline.
                if (not failure.retryable or streamed[0] or attempts > self.settings.max_retries
                        or loop.time() + delay >= deadline):
                    raise self._fail(failure, attempts, started)
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            # Cancelled by the caller's own deadline: a failure all the same (keeps half-open honest).
            self.breaker.failure()
            self._count("timeout")
            raise

    def _fail(self, failure: _AttemptFailed, attempts: int, started: float) -> LlmError:
        self.breaker.failure()
        self._count(failure.kind)
        latency = (asyncio.get_running_loop().time() - started) * 1000
        return LlmError(failure.kind, str(failure), attempts=attempts, latency_ms=latency)

    def _count(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1

    async def _attempt(
        self, body: dict[str, Any], on_delta: DeltaCallback | None, streamed: list[bool]
    ) -> tuple[str, str]:
        if on_delta is None:
            response = await self._client.post(self._url, json=body)
            self._check_status(response)
            return self._parse(response)
        async with self._client.stream("POST", self._url, json=body) as response:
            if response.status_code != 200:
                await response.aread()
                self._check_status(response)
            parts: list[str] = []
            model = self.model
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                    model = chunk.get("model") or model
                    piece = (chunk["choices"][0].get("delta") or {}).get("content") or ""
                except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                    raise _AttemptFailed("bad_response", "malformed stream chunk", retryable=False) from None
                if piece:
                    parts.append(piece)
                    streamed[0] = True
                    await on_delta(piece)
            return "".join(parts), str(model)

    @staticmethod
    def _check_status(response: httpx.Response) -> None:
        code = response.status_code
        if code == 200:
            return
        if code == 429 or code >= 500:
            raise _AttemptFailed("http_status", f"HTTP {code}", retryable=True,
                                 retry_after=parse_retry_after(response.headers.get("Retry-After")))
        raise _AttemptFailed("http_status", f"HTTP {code}", retryable=False)  # other 4xx: retrying cannot help

    def _parse(self, response: httpx.Response) -> tuple[str, str]:
        try:
            payload = response.json()
            content = payload["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _AttemptFailed("bad_response", "response is not a chat completion", retryable=False) from None
        if not isinstance(content, str):
            raise _AttemptFailed("bad_response", "completion has no text content", retryable=False)
        return content, str(payload.get("model") or self.model)

    def health(self) -> dict[str, Any]:
        parts = urlsplit(self._url)
        state = self.breaker.state
        return {
            "status": "ok" if state == "closed" else "degraded",
            "backend": "openai-compatible chat completions",
            "endpoint": f"{parts.scheme}://{parts.netloc}{parts.path}",
            "model": self.model,
            "circuit": state,
            "consecutive_failures": self.breaker.consecutive,
            "calls": self.calls,
            "failures": dict(self.failures),
            "last_latency_ms": round(self.last_latency_ms, 1) if self.last_latency_ms is not None else None,
        }

    async def warm(self) -> None:
        """A remote model: nothing to load (the first request opens the connection)."""

    async def aclose(self) -> None:
        await self._client.aclose()
