"""Fault injection for the simulators: rules matched by method and a path regex, applied a set number of times.

A FaultPlan is mutable while the server runs (tests add rules between calls) and deterministic: rules are tried
in the order added and each fires exactly `times` times (None = forever). Kinds:

- `status`: answer `status` (any code) with the provider's error body (or `body`), optional Retry-After;
- `delay`: wait `delay` seconds (not time-scaled: it models a client timeout), then answer normally;
- `reset`: send the headers and part of the body, then close the connection;
- `malformed_json`: answer 200 with a body that is not JSON;
- `truncate_page`: answer the real page cut in half (Content-Length matches the cut body);
- `loop_next_link`: answer the real page with its next link pointing back at the same page;
- `expire_token`: answer 401 as for an expired access token.

`target` restricts a rule to outer HTTP requests ("outer"), to requests inside a batch ("inner"), or "any".
`body_match` (a regex on the request body) tells apart requests that share a URL, such as Exchange's
InvokeCommand, whose cmdlet is named only in the body.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset({"status", "delay", "reset", "malformed_json", "truncate_page", "loop_next_link", "expire_token"})
TARGETS = frozenset({"any", "outer", "inner"})


@dataclass
class FaultRule:
    kind: str
    path: re.Pattern[str]
    method: str | None = None
    times: int | None = 1
    status: int = 500
    retry_after: float | None = None
    body: Any = None  # overrides the provider's error body for `status`
    code: str = ""
    message: str = ""
    delay: float = 0.0
    target: str = "any"
    body_match: re.Pattern[str] | None = None
    fired: int = 0

    def matches(self, method: str, path: str, inner: bool, body: bytes = b"") -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.body_match is not None and not self.body_match.search(body.decode("utf-8", "replace")):
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        if (self.target == "outer" and inner) or (self.target == "inner" and not inner):
            return False
        return self.path.search(path) is not None


@dataclass
class FaultPlan:
    rules: list[FaultRule] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, method, path) of every fault fired
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, kind: str = "status", path: str = ".*", method: str | None = None, times: int | None = 1,
            status: int = 500, retry_after: float | None = None, body: Any = None, code: str = "",
            message: str = "", delay: float = 0.0, target: str = "any", body_match: str | None = None
            ) -> FaultRule:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        if target not in TARGETS:
            raise ValueError(f"unknown fault target {target!r}; expected one of {sorted(TARGETS)}")
        rule = FaultRule(kind=kind, path=re.compile(path), method=method, times=times, status=status,
                         retry_after=retry_after, body=body, code=code, message=message, delay=delay, target=target,
                         body_match=re.compile(body_match) if body_match is not None else None)
        with self._lock:
            self.rules.append(rule)
        return rule

    def match(self, method: str, path: str, *, inner: bool = False, body: bytes = b"",
              exact_method: bool = False) -> FaultRule | None:
        """The first live rule for this request, counted as fired; `path` includes the query string.

        `exact_method`: only rules naming this method (the DNS server asks with method "DNS", so an HTTP rule
        without a method never fires on a DNS question)."""
        with self._lock:
            for rule in self.rules:
                if exact_method and (rule.method or "").upper() != method.upper():
                    continue
                if rule.matches(method, path, inner, body):
                    rule.fired += 1
                    self.log.append((rule.kind, method, path))
                    return rule
        return None

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    @property
    def fired(self) -> int:
        return len(self.log)
