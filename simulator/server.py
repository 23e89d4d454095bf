"""The simulators' HTTP(S) machinery, shared by Microsoft and Google: request/response values, a route table,
counters, and a threaded server on 127.0.0.1 (port chosen by the OS) with latency and fault injection.

A provider supplies routes (handlers take a WireRequest and the route's regex match, and return a
WireResponse) plus two small hooks: how its errors look, and how to make a page's "next" link loop.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from simulator.faults import FaultPlan, FaultRule
from simulator.tls import TlsMaterial


@dataclass
class WireRequest:
    method: str
    path: str  # decoded path, no query
    raw_query: str
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes
    base_url: str  # scheme://host:port of the listener
    inner: bool = False  # a request inside a batch
    context: dict[str, Any] = field(default_factory=dict)  # e.g. the verified token claims

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.raw_query, keep_blank_values=True))

    @property
    def target(self) -> str:
        """Path with query: what fault rules are matched against."""
        return f"{self.path}?{self.raw_query}" if self.raw_query else self.path

    @property
    def url(self) -> str:
        return self.base_url + self.target

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class WireResponse:
    status: int
    body: Any = None  # dict / list -> JSON; str -> text; bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    reset: bool = False  # send part of the body, then drop the connection
    truncate: bool = False  # cut the encoded body in half (a well-formed HTTP message with broken JSON)

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


Handler = Callable[[WireRequest, "re.Match[str]"], WireResponse]
Tap = Callable[[WireRequest, str, WireResponse], None]  # (request, route class, answer)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    name: str  # route class, counted in Stats


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, name: str) -> None:
        self.routes.append(Route(method.upper(), re.compile(pattern + r"\Z"), handler, name))

    def resolve(self, method: str, path: str) -> tuple[Route, re.Match[str]] | None:
        for route in self.routes:
            if route.method == method.upper():
                m = route.pattern.match(path)
                if m:
                    return route, m
        return None


class Stats:
    """Counters a test or benchmark reads: requests per route class, statuses, 429s, batch, concurrency."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.throttled: Counter[str] = Counter()
        self.batch_requests = 0
        self.batch_inner = 0
        self.faults = 0
        self.latency_overruns = 0  # answers later than the configured latency because the simulator was busy
        self.active = 0
        self.max_concurrency = 0

    def count(self, route: str, status: int) -> None:
        with self.lock:
            self.requests[route] += 1
            self.statuses[status] += 1
            if status == 429:
                self.throttled[route] += 1

    def enter(self) -> None:
        with self.lock:
            self.active += 1
            self.max_concurrency = max(self.max_concurrency, self.active)

    def leave(self) -> None:
        with self.lock:
            self.active -= 1

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    @property
    def throttled_total(self) -> int:
        return sum(self.throttled.values())

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": dict(self.requests), "statuses": dict(self.statuses),
                    "throttled": dict(self.throttled), "batch_requests": self.batch_requests,
                    "batch_inner": self.batch_inner, "faults": self.faults, "max_concurrency": self.max_concurrency,
                    "latency_overruns": self.latency_overruns}


ErrorFactory = Callable[[int, str, str, "float | None"], WireResponse]
LoopLink = Callable[[WireResponse, WireRequest], WireResponse]


def apply_fault(rule: FaultRule, req: WireRequest, call: Callable[[], WireResponse], error: ErrorFactory,
                loop_link: LoopLink | None) -> WireResponse:
    """Turn a matched fault rule into the response (calling the real handler where the fault needs it)."""
    if rule.kind == "delay":
        time.sleep(rule.delay)
        return call()
    if rule.kind == "status":
        if rule.body is not None:
            resp = WireResponse(rule.status, rule.body)
        else:
            resp = error(rule.status, rule.code or _default_code(rule.status), rule.message or "Injected fault",
                         rule.retry_after)
        if rule.retry_after is not None:
            resp.headers["Retry-After"] = str(int(rule.retry_after))
        return resp
    if rule.kind == "expire_token":
        return error(401, rule.code or "InvalidAuthenticationToken",
                     rule.message or "Lifetime validation failed, the token is expired.", None)
    if rule.kind == "malformed_json":
        return WireResponse(200, '{"value": [{"id": "broken", ')
    resp = call()
    if rule.kind == "truncate_page":
        resp.truncate = True
    elif rule.kind == "reset":
        resp.reset = True
    elif rule.kind == "loop_next_link" and loop_link is not None:
        resp = loop_link(resp, req)
    return resp


def _default_code(status: int) -> str:
    return {400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "Forbidden", 404: "NotFound",
            429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway", 503: "ServiceUnavailable",
            504: "GatewayTimeout"}.get(status, "UnknownError")


class SimServer:
    """One listener: routes + faults + latency, on 127.0.0.1 with an OS-chosen port, TLS when `tls` is given."""

    def __init__(self, name: str, router: Router, *, error: ErrorFactory, stats: Stats, faults: FaultPlan,
                 tls: TlsMaterial | None = None, latency: float = 0.0, time_scale: float = 1.0,
                 loop_link: LoopLink | None = None) -> None:
        self.name = name
        self.router = router
        self.error = error
        self.stats = stats
        self.faults = faults
        self.tls = tls
        self.latency = latency
        self.time_scale = time_scale
        self.loop_link = loop_link
        # Observers of every dispatched request (outer and batch-inner) and its answer: the contract tests hold
        # what the simulator serves to the published schemas through this, without touching the handlers.
        self.taps: list[Tap] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(f"{self.name} server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def dispatch(self, req: WireRequest) -> tuple[str, WireResponse]:
        """Route one request (outer or inner) with fault injection; returns (route class, response)."""
        name, resp = self._dispatch(req)
        for tap in self.taps:
            tap(req, name, resp)
        return name, resp

    def _dispatch(self, req: WireRequest) -> tuple[str, WireResponse]:
        found = self.router.resolve(req.method, req.path)
        if found is None:
            return "unrouted", self.error(400, "BadRequest", f"Resource not found for the segment "
                                                              f"'{req.path.rstrip('/').rsplit('/', 1)[-1]}'.", None)
        route, match = found
        rule = self.faults.match(req.method, req.target, inner=req.inner, body=req.body)

        def call() -> WireResponse:
            return route.handler(req, match)

        if rule is not None:
            self.stats.add("faults")
            return route.name, apply_fault(rule, req, call, self.error, self.loop_link)
        return route.name, call()

    def start(self) -> None:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 120  # an idle keep-alive connection is closed after two minutes (frees its thread)
            # headers and body leave in separate writes: without TCP_NODELAY every response waits ~40 ms for
            # the client's delayed ACK (Nagle), which dominates a loopback collection
            disable_nagle_algorithm = True
            server_version = "idaudit-simulator"
            sys_version = ""

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = WireRequest(method=self.command, path=parts.path, raw_query=parts.query,
                                  headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                                  base_url=server.base_url)
                server.stats.enter()
                # The latency is the time from a request's arrival to its answer, the simulator's own work
                # included: a real service's response time is one figure too, and the benchmarks' floors count
                # exactly `latency` per round trip. Work that outlasts it is counted (latency_overruns).
                answer_at = time.monotonic() + server.latency * server.time_scale
                try:
                    try:
                        route, resp = server.dispatch(req)
                    except Exception as exc:  # a simulator bug must surface as a 500, never hang the client
                        route, resp = "error", server.error(500, "InternalServerError",
                                                            f"simulator error: {type(exc).__name__}: {exc}", None)
                    if server.latency:
                        wait = answer_at - time.monotonic()
                        if wait > 0:
                            time.sleep(wait)
                        else:
                            server.stats.add("latency_overruns")
                    server.stats.count(route, resp.status)
                    self._write(resp)
                finally:
                    server.stats.leave()

            def _write(self, resp: WireResponse) -> None:
                data = resp.encoded()
                if resp.truncate:
                    data = data[: max(1, len(data) // 2)]
                self.send_response(resp.status)
                self.send_header("Content-Type", resp.content_type)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if resp.reset:
                    self.wfile.write(data[: len(data) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return  # never log: URLs and headers may carry tokens

            def handle(self) -> None:
                # a client that goes away is not the simulator's problem
                with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
                    super().handle()

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        if self.tls:
            httpd.socket = self.tls.server_context().wrap_socket(httpd.socket, server_side=True,
                                                                 do_handshake_on_connect=False)
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sim-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
