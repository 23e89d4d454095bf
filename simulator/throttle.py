"""Throttling for the simulators: token buckets and concurrency limits, with a time scale.

Every window and wait is multiplied by `time_scale`, so a benchmark at time_scale=0.01 meets the same limits
in a hundredth of the time. Retry-After values are whole seconds (HTTP and the Graph SDK RetryHandler accept
only integers), rounded up, at least 1.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """`capacity` units per `window` seconds (unscaled, as documented by the provider)."""

    capacity: float
    window: float


class TokenBucket:
    """A continuously refilling bucket; thread-safe."""

    def __init__(self, limit: Limit, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(limit.capacity)
        self.window = limit.window * time_scale
        self.rate = self.capacity / self.window if self.window > 0 else math.inf
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()
        self.lock = threading.Lock()

    def take(self, cost: float = 1.0) -> float:
        """Take `cost` units; returns 0.0 on success, else the (scaled) seconds until they would be available."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= cost - 1e-9:  # float refill must not refuse an exactly-due unit
                self.tokens -= cost
                return 0.0
            return (cost - self.tokens) / self.rate


class BucketSet:
    """Buckets created on first use per key (app+tenant, app+mailbox ...)."""

    def __init__(self, limit: Limit, time_scale: float = 1.0) -> None:
        self.limit = limit
        self.time_scale = time_scale
        self.buckets: dict[str, TokenBucket] = {}
        self.lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> float:
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = TokenBucket(self.limit, self.time_scale)
        return bucket.take(cost)


class ConcurrencyLimit:
    """At most `limit` requests in flight per key (Outlook: 4 per mailbox)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active: dict[str, int] = {}
        self.lock = threading.Lock()

    def enter(self, key: str) -> bool:
        with self.lock:
            n = self.active.get(key, 0)
            if n >= self.limit:
                return False
            self.active[key] = n + 1
            return True

    def leave(self, key: str) -> None:
        with self.lock:
            n = self.active.get(key, 1) - 1
            if n <= 0:
                self.active.pop(key, None)
            else:
                self.active[key] = n


def retry_after_seconds(wait: float) -> int:
    """Whole seconds for a Retry-After header: rounded up, at least 1."""
    return max(1, math.ceil(wait))


def scaled_sleep(seconds: float, time_scale: float) -> None:
    if seconds > 0 and time_scale > 0:
        time.sleep(seconds * time_scale)
