"""Where every engine's blocking inference runs: its own threads, behind a fair asyncio limit."""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# Who the work is for (a connection or session). Set once by whoever serves a client; every task it starts
# inherits it. Work with no owner shares one queue.
inference_owner: contextvars.ContextVar[Hashable | None] = contextvars.ContextVar("inference_owner", default=None)
# Work someone is waiting on right now (the transcript the turn detector reads at a pause): served before
# the round-robin queue. Kept for short jobs, or it would starve everyone else.
inference_urgent: contextvars.ContextVar[bool] = contextvars.ContextVar("inference_urgent", default=False)


class FairLimiter:
    """At most `slots` jobs at once; waiting jobs are granted round-robin between owners, FIFO within one.

    A plain semaphore serves in arrival order, so one session that queued twenty windows of a long clip
    holds every other session back until all twenty are done. Here each owner with work waiting gets one
    job per round.
    """

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiting: OrderedDict[Hashable | None, deque[asyncio.Future[None]]] = OrderedDict()
        self._urgent: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        return sum(len(q) for q in self._waiting.values()) + len(self._urgent)

    async def acquire(self, owner: Hashable | None, *, urgent: bool = False) -> None:
        if self._free > 0 and not self._waiting and not self._urgent:
            self._free -= 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if urgent:
            self._urgent.append(granted)
        else:
            self._waiting.setdefault(owner, deque()).append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self.release()  # granted just as we were cancelled: pass the slot on
            elif urgent:
                if granted in self._urgent:
                    self._urgent.remove(granted)
            else:
                queue = self._waiting.get(owner)
                if queue is not None and granted in queue:
                    queue.remove(granted)
                    if not queue:
                        del self._waiting[owner]
            raise

    def release(self) -> None:
        while self._urgent:
            granted = self._urgent.popleft()
            if not granted.done():
                granted.set_result(None)
                return
        while self._waiting:
            owner, queue = next(iter(self._waiting.items()))
            granted = queue.popleft()
            if queue:
                self._waiting.move_to_end(owner)  # the next job of this owner waits for everyone else's turn
            else:
                del self._waiting[owner]
            if not granted.done():
                granted.set_result(None)
                return
        self._free += 1


class InferenceWorkers:
    """A thread pool for one engine and a per-event-loop fair limiter of the same size.

    Work waits in the event loop (cheaply, fairly between owners) rather than piling up in the pool's
    queue, so a cancelled request never leaves a job behind. The limiter is per loop because tests and
    benchmarks may drive one engine from several loops.
    """

    def __init__(self, workers: int, name: str) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FairLimiter] = weakref.WeakKeyDictionary()

    def queued(self) -> int:
        return sum(limiter.queued for limiter in self._limiters.values())

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        limiter = self._limiters.setdefault(loop, FairLimiter(self.workers))
        await limiter.acquire(inference_owner.get(), urgent=inference_urgent.get())
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        finally:
            limiter.release()

    async def close(self, *, wait: bool = False) -> None:
        """Stop the threads; with `wait`, let the job in progress finish first (off the event loop)."""
        if wait:
            await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        else:
            self._executor.shutdown(wait=False, cancel_futures=True)
