"""A consecutive-failure circuit breaker, so a dead LLM costs nothing after a few turns."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Opens after `failures` consecutive failed calls and stays open for `open_s` seconds.

    After that one trial call is let through (half-open): success closes the circuit,
    failure opens it again for another `open_s`.
    """

    def __init__(self, failures: int, open_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = failures
        self.open_s = open_s
        self._clock = clock
        self.consecutive = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        return "open" if self._clock() - self._opened_at < self.open_s else "half_open"

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def success(self) -> None:
        self.consecutive = 0
        self._opened_at = None
        self._trial_running = False

    def failure(self) -> None:
        self.consecutive += 1
        if self._trial_running or self.consecutive >= self.failures:
            self._opened_at = self._clock()
        self._trial_running = False

    def seconds_until_retry(self) -> float | None:
        if self._opened_at is None:
            return None
        return max(0.0, self.open_s - (self._clock() - self._opened_at))
