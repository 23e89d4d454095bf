"""Client-side pacing: stay under Google's documented per-minute quotas instead of bouncing off them.

Why: the Directory API allows 2,400 queries per minute per user per project (developers.google.com/workspace/
admin/directory/v1/limits) and tokens.list is one query per user, so a 20,000-user tenant needs about nine
minutes of quota. Sending batches back to back only earns 429s; every throttled part is re-sent after a back-off,
the retries run out and users end up `unknown`. Counting our own calls and waiting for the quota costs nothing
the quota would not cost anyway.

Google documents the quota as "per minute" without saying how the minute is measured (fixed window, sliding
window or token bucket). `QuotaWindow` keeps *any* interval of `window` seconds at or under `limit` calls, which
stays under the quota under each of those readings.

`ConnectionSlots` bounds the round trips in flight across every worker thread, so sections that run at the same
time (tokens.list and the Gmail reads) share `workers` connections instead of adding to them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httplib2


class QuotaWindow:
    """At most `limit` units in any `window` seconds, counted from when each call *completed*. Thread-safe.

    `with quota.spend(n): send()` waits until n more units fit, counts them as in flight while the call runs,
    and stamps them with the time the answer arrived. The server counted them somewhere between sending and
    that moment, so measuring the window from the answer is safe whatever the latency and its jitter.
    """

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError(f"a quota needs limit >= 1 and window > 0, got {limit} per {window} s")
        self.limit = limit
        self.window = window
        self._cond = threading.Condition()
        self._done: deque[tuple[float, int]] = deque()  # (completed at, units), oldest first
        self._done_units = 0
        self._in_flight = 0

    @contextmanager
    def spend(self, units: int = 1) -> Iterator[None]:
        self._acquire(units)
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= units
                self._done.append((time.monotonic(), units))
                self._done_units += units
                self._cond.notify_all()

    def _acquire(self, units: int) -> None:
        if units > self.limit:
            raise ValueError(f"{units} units can never fit a quota of {self.limit} per {self.window} s")
        with self._cond:
            while True:
                now = time.monotonic()
                while self._done and self._done[0][0] <= now - self.window:
                    self._done_units -= self._done.popleft()[1]
                free = self.limit - self._done_units - self._in_flight
                if units <= free:
                    self._in_flight += units
                    return
                wait: float | None = None  # None: only calls still in flight can make room
                for at, n in self._done:
                    free += n
                    if free >= units:
                        wait = max(at + self.window - now, 0.0) + 1e-4
                        break
                self._cond.wait(timeout=wait)


class ConnectionSlots:
    """A shared cap on requests in flight, whichever thread or section sends them."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._semaphore = threading.BoundedSemaphore(slots)

    def http(self, **kwargs: Any) -> httplib2.Http:
        """A new httplib2.Http (one per thread: httplib2 is not thread-safe) whose requests take a slot."""
        return _SlottedHttp(self._semaphore, **kwargs)


class _SlottedHttp(httplib2.Http):
    """httplib2.Http holding one of the shared slots for the duration of each round trip.

    httplib2 follows a redirect by calling `request` again from inside `request`: the nested call keeps the
    slot it already holds (taking a second one could deadlock when every slot is held by a redirect). One
    instance belongs to one thread, so the depth needs no lock.
    """

    def __init__(self, semaphore: threading.BoundedSemaphore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._slot = semaphore
        self._depth = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:
        if self._depth:
            return super().request(*args, **kwargs)
        with self._slot:
            self._depth += 1
            try:
                return super().request(*args, **kwargs)
            finally:
                self._depth -= 1
