"""The collection floor: the shortest time the provider's throttling and latency allow for a complete collection.

For a collection that needs, per throttle class c, N_c requests counted against a limit of `limit_c` requests per
fixed window of `window_c` seconds (the simulators' model, after time-scaling), and R round trips of latency L:

    quota_c   = (ceil(N_c / limit_c) − 1) × window_c + L
                the last window that must be opened starts (ceil(N/limit) − 1) windows after the first request,
                and its last request still takes one round trip;
    bucket_c  = max(0, N_c − capacity_c) / rate_c + L
                for a token bucket (Graph's classes): it starts full, then refills at rate_c = capacity/window;
    latency   = max(S, ceil(R / C)) × L
                S the longest chain of round trips that must follow each other (pages linked by nextLink /
                pageToken), R all round trips (a $batch or multipart batch is one), C the concurrent
                connections allowed;
    query     = polls × poll_interval + (1 + polls + record_pages) × L
                an asynchronous query (Graph's audit log query): created, polled until done, records read;
    floor     = max(latency, max_c quota_c, max_c bucket_c, query)

Classes run concurrently in the floor (nothing in the providers' rules forbids reading Gmail settings while
tokens.list is throttled), so the floor is the maximum, not the sum — a collector that runs them one after the
other pays the sum and shows it in the ratio. CPU time (JSON, TLS, JWT signing) is not in the floor: it is what
the ratio above 1 is made of, together with the scheduling slack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WindowClass:
    """A throttle class with a fixed-window quota (Google's per-minute quotas, Graph's per-10-s limits)."""

    name: str
    requests: int
    limit: int
    window_s: float

    def seconds(self, latency: float) -> float:
        if self.requests <= 0:
            return 0.0
        return max(0, math.ceil(self.requests / self.limit) - 1) * self.window_s + latency


@dataclass(frozen=True)
class BucketClass:
    """A throttle class with a token bucket: `capacity` units, refilled continuously over `window_s`."""

    name: str
    units: float
    capacity: float
    window_s: float

    def seconds(self, latency: float) -> float:
        if self.units <= 0:
            return 0.0
        return max(0.0, self.units - self.capacity) / (self.capacity / self.window_s) + latency


@dataclass(frozen=True)
class QueryWait:
    """An asynchronous query (Graph's audit log query): created, polled every `poll_s` until it finishes after
    `polls` reads, then its records read; a chain of round trips with the waits between the polls."""

    name: str
    polls: int
    poll_s: float
    record_pages: int

    @property
    def requests(self) -> int:
        return 1 + self.polls + self.record_pages

    def seconds(self, latency: float) -> float:
        return self.polls * self.poll_s + self.requests * latency


@dataclass(frozen=True)
class Floor:
    seconds: float
    binding: str  # which term sets the floor
    terms: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 3), "binding": self.binding,
                "terms": {k: round(v, 3) for k, v in self.terms.items()}}


def collection_floor(classes: Sequence[WindowClass | BucketClass | QueryWait], *, longest_chain: int, round_trips: int,
                     concurrency: int, latency: float) -> Floor:
    terms: dict[str, float] = {"latency": max(longest_chain, math.ceil(round_trips / concurrency)) * latency}
    for c in classes:
        terms[f"quota:{c.name}"] = c.seconds(latency)
    binding = max(terms, key=lambda k: terms[k])
    return Floor(seconds=terms[binding], binding=binding, terms=terms)
