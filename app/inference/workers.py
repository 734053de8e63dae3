"""Where every engine's blocking inference runs: its own threads, behind an asyncio limit."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class InferenceWorkers:
    """A thread pool for one engine and a per-event-loop semaphore of the same size.

    Work waits on the semaphore in the event loop (cheaply, in order) rather than piling up in the
    pool's queue, so a cancelled request never leaves a job behind. The semaphore is per loop
    because tests and benchmarks may drive one engine from several loops.
    """

    def __init__(self, workers: int, name: str) -> None:
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.setdefault(loop, asyncio.Semaphore(self.workers))
        async with semaphore:
            return await loop.run_in_executor(self._executor, fn, *args)

    async def close(self, *, wait: bool = False) -> None:
        """Stop the threads; with `wait`, let the job in progress finish first (off the event loop)."""
        if wait:
            await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)
        else:
            self._executor.shutdown(wait=False, cancel_futures=True)
