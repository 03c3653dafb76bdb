"""How much may be sent, and when a failed request is tried again.

Token buckets for ``rpm`` and ``tpm``, the prompt-token estimate a request is charged before its usage is
known, which HTTP statuses are retried or fatal, and (from :mod:`builder.backoff`, shared with the crawler)
the ``Retry-After`` reading and the exponential backoff.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Mapping, Sequence

from ..backoff import backoff_delay, retry_after_seconds

__all__ = ["DEAD_AFTER", "FATAL_STATUS", "RETRYABLE_STATUS", "UNREACHABLE_AFTER", "RateLimiter", "Slots", "backoff_delay",
           "estimate_prompt_tokens", "is_retryable", "retry_after_seconds"]

RETRYABLE_STATUS = {408, 409, 429}  # and 5xx but 501: every other status fails its request at once
FATAL_STATUS = {401, 403, 404}
UNREACHABLE_AFTER = 2  # connection attempts, before any reply of the run, that make an endpoint unreachable
DEAD_AFTER = 8  # failed requests in a row, before any reply of the run, that stop the run
RETRYABLE_KINDS = frozenset({"timeout", "connection", "rate_limited", "server_error"} | {f"http_{c}" for c in RETRYABLE_STATUS})


def is_retryable(kind: str) -> bool:
    """Whether a failed attempt of this kind (timeout, rate_limited, http_409 …) is worth another try."""
    return kind in RETRYABLE_KINDS


def estimate_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """Prompt tokens as OpenAI counts them for chat: content tokens plus a few per message."""
    from ..text.tokens import count_tokens

    return sum(count_tokens(str(m.get("content") or "")) + 4 for m in messages) + 3


class RateLimiter:
    """A token bucket: ``per_minute`` units refill evenly; a burst of at most one second's worth after a pause.

    ``acquire(n)`` waits while the bucket is empty, then takes ``n`` (the level may go below zero for a
    large request; the debt is paid back before the next one goes). ``settle(delta)`` gives back or takes
    units once the real size of a request is known.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = 1.0  # start with one unit, not a full bucket: a run's first second stays under the rate too
        self.clock = clock
        self.updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    async def acquire(self, n: float = 1.0) -> None:
        async with self._lock:  # one waiter at a time keeps the order fair
            self._refill()
            need = min(n, self.capacity)
            while self.level < need:
                await asyncio.sleep((need - self.level) / self.rate)
                self._refill()
            self.level -= n

    def settle(self, delta: float) -> None:
        self._refill()
        self.level = min(self.capacity, self.level + delta)


class Slots:
    """At most ``n`` requests in flight, like ``asyncio.Semaphore``, except that a waiter asking ``urgent`` is let in
    before the others. A re-ask is urgent: its chunk's first reply has come back, and results are taken in order, so
    a re-ask queued behind a window of fresh requests (~4 rounds) held up every result after it, and once those were
    in, no request was left to send (at concurrency 8, one slot in ten stood idle)."""

    def __init__(self, n: int):
        self._free = max(1, int(n))
        self._urgent: deque[asyncio.Future] = deque()
        self._normal: deque[asyncio.Future] = deque()

    async def acquire(self, urgent: bool = False) -> None:
        if self._free > 0 and not self._urgent and not self._normal:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # let in, then cancelled before it could go: pass the slot on
                self.release()
            raise

    def release(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():  # a cancelled waiter is skipped
                    waiter.set_result(None)
                    return
        self._free += 1

    @asynccontextmanager
    async def hold(self, urgent: bool = False) -> AsyncIterator[None]:
        await self.acquire(urgent)
        try:
            yield
        finally:
            self.release()
