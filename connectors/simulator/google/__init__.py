"""A loopback stand-in for Google Workspace: token endpoint, Directory, Gmail settings, Policy API, Reports, batch.

    sim = GoogleSimulator(build_organisation(300))
    with sim:
        sim.api_endpoint          # http://127.0.0.1:PORT   (client_options={"api_endpoint": ...})
        sim.token_uri             # http://127.0.0.1:PORT/token
        sim.service_account_info  # a service-account key dict (fresh RSA key per simulator)
        sim.admin_subject         # a super admin to impersonate
        sim.customer_id, sim.stats, sim.faults, sim.tenant

Plain http on loopback: google-auth and google-api-python-client accept an http token URI and endpoint, so no
TLS is needed (docs/google.md). `delegated_scopes=None` delegates every scope the connector asks for; pass a set
to simulate an administrator who delegated only some of them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from connectors.simulator.google.auth import ServiceAccount, TokenIssuer, new_service_account
from connectors.simulator.google.models import GoogleTenant, OuPolicy, build_google_tenant
from connectors.simulator.google.responses import (
    GoogleResponses,
    Stats,
    WireRequest,
    WireResponse,
    google_error,
)
from connectors.simulator.org import Organisation

__all__ = ["GoogleFaults", "GoogleSimulator", "render_google_snapshot"]

# Requests per window (seconds, before time_scale) per route class; gmail is per impersonated user.
DEFAULT_QUOTAS: dict[str, tuple[int, float]] = {
    "directory": (2400, 60.0),  # Admin SDK Directory: 2,400 queries per minute per user per project
    "reports": (2400, 60.0),
    "policy": (60, 60.0),
    "gmail": (250, 1.0),  # Gmail: 250 quota units per user per second (a settings read costs 1 unit)
}


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    status: int
    reason: str
    message: str
    times: int | None
    retry_after: float | None
    subject: str  # impersonated user it applies to ('' = anyone)


class GoogleFaults:
    """Injected answers matched by method, path regex and impersonated user (inside batches too).

    `times=None` means always. Gmail paths say `users/me`, so a per-user Gmail fault names the `subject`.
    """

    def __init__(self) -> None:
        self._rules: list[_Fault] = []
        self._lock = threading.Lock()
        self.fired = 0

    def add(self, *, method: str = "GET", path: str, status: int = 500, reason: str = "backendError",
            message: str = "Injected fault", times: int | None = 1, retry_after: float | None = None,
            subject: str = "") -> None:
        with self._lock:
            self._rules.append(_Fault(method.upper(), re.compile(path), status, reason, message, times, retry_after,
                                      subject.casefold()))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def __call__(self, method: str, path: str, subject: str = "") -> WireResponse | None:
        with self._lock:
            for rule in self._rules:
                if rule.subject and rule.subject != subject.casefold():
                    continue
                if rule.method == method and rule.path.search(path) and (rule.times is None or rule.times > 0):
                    if rule.times is not None:
                        rule.times -= 1
                    self.fired += 1
                    headers = {"Retry-After": str(int(rule.retry_after))} if rule.retry_after is not None else None
                    return google_error(rule.status, rule.message, rule.reason, headers=headers)
        return None


class _Quotas:
    """Fixed windows per (route class, subject); returns the seconds to wait when a window is full."""

    def __init__(self, limits: Mapping[str, tuple[int, float]], time_scale: float) -> None:
        self.limits = dict(limits)
        self.scale = time_scale
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, route_class: str, subject: str) -> float | None:
        limit = self.limits.get(route_class)
        if limit is None:
            return None
        count, window = limit
        window *= self.scale
        key = (route_class, subject if route_class == "gmail" else "*")
        now = time.monotonic()
        with self._lock:
            start, used = self._windows.get(key, (now, 0))
            if now - start >= window:
                start, used = now, 0
            if used >= count:
                return max(0.0, window - (now - start))
            self._windows[key] = (start, used + 1)
        return None


class GoogleSimulator:
    """The simulator's lifecycle: start a threaded loopback server, serve, stop."""

    def __init__(self, org: Organisation, *, latency: float = 0.0, time_scale: float = 1.0, throttle: bool = True,
                 faults: GoogleFaults | None = None, delegated_scopes: Iterable[str] | None = None,
                 quotas: Mapping[str, tuple[int, float]] | None = None,
                 policies: tuple[OuPolicy, ...] | None = None, token_lifetime: int = 3600) -> None:
        self.org = org
        self.tenant: GoogleTenant = build_google_tenant(org, policies=policies)
        self.account: ServiceAccount = new_service_account()
        self.stats = Stats()
        self.faults = faults if faults is not None else GoogleFaults()
        delegated = None if delegated_scopes is None else frozenset(delegated_scopes)
        self.issuer = TokenIssuer([self.account], {self.account.client_id: delegated},
                                  user_exists=lambda key: self.tenant.find_user(key) is not None,
                                  token_uri=lambda: self.token_uri, lifetime=token_lifetime)
        quota = _Quotas(quotas or DEFAULT_QUOTAS, time_scale) if throttle else None
        self.responses = GoogleResponses(self.tenant, self.issuer, self.stats, quota=quota, faults=self.faults,
                                         latency=latency, time_scale=time_scale)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- what a client needs -----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running: use `with sim:` or sim.start()")
        return int(self._server.server_address[1])

    @property
    def api_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return f"{self.api_endpoint}/token"

    @property
    def service_account_info(self) -> dict[str, Any]:
        return self.account.key_file(self.token_uri)

    @property
    def customer_id(self) -> str:
        return self.tenant.customer_id

    @property
    def admin_subject(self) -> str:
        """A super admin with a mailbox, as an administrator would choose (not a break-glass account)."""
        admins = [u for u in self.tenant.users if u["isAdmin"] and not u["suspended"]]
        with_mail = [u for u in admins if u.get("isMailboxSetup")]
        return str((with_mail or admins)[0]["primaryEmail"])

    # ---- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> GoogleSimulator:
        if self._server is not None:
            return self
        responses = self.responses
        stats = self.stats

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = WireRequest.from_target(self.command, self.path, dict(self.headers.items()), body)
                stats.enter()
                try:
                    resp = responses.handle(req)
                except Exception as exc:
                    resp = google_error(500, f"simulator error: {type(exc).__name__}: {exc}", "backendError")
                finally:
                    stats.leave()
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                self.wfile.write(resp.body)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="google-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GoogleSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def render_google_snapshot(org: Organisation, out_dir: str | Path, **kwargs: Any) -> Path:
    """Write the snapshot a complete collection of this organisation would produce, without any network."""
    from connectors.simulator.google.snapshot import render_snapshot

    return render_snapshot(org, out_dir, **kwargs)
