"""Every request the simulator answers during a demo-shaped collection, captured through the servers' taps.

The contract tests hold these answers to the published schemas. Three collections cover what a real run sees:
the Microsoft demo exactly as `idaudit demo` runs it (300 users, seed 7, Entra ID P1 + P2, one permission withheld),
the same tenant without P1/P2 and with every permission (the per-user methods fallback, 403/400 licence answers,
the authentication methods policy), and the Google demo. Each is collected once per test session (~1-3 s).
"""

from __future__ import annotations

import functools
import json
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.email_dns import DnsOptions
from connectors.google.collect import collect_google
from connectors.google.options import GoogleOptions
from connectors.microsoft.collect import collect_microsoft
from connectors.microsoft.options import MicrosoftOptions
from idaudit.orchestration.demo import DEMO_WITHHELD_PERMISSIONS
from simulator import MicrosoftSimulator, build_organisation
from simulator.google import GoogleSimulator
from simulator.microsoft.identity import ALL_READ_PERMISSIONS
from simulator.server import WireRequest, WireResponse

DEMO_USERS, DEMO_SEED = 300, 7


@dataclass(frozen=True)
class Served:
    """One answered request: where it went, what was asked, and the JSON body sent back (a copy)."""

    server: str  # login | graph | exchange | google
    method: str
    path: str
    query: dict[str, str]
    route: str
    status: int
    body: Any
    inner: bool
    request_body: str


class _Recorder:
    def __init__(self, server: str) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.served: list[Served] = []

    def __call__(self, req: WireRequest, route: str, resp: WireResponse) -> None:
        body = resp.body
        if isinstance(body, dict | list):
            body = json.loads(json.dumps(body))  # a snapshot: cached tenant objects must not change under us
        kind = self.server
        if kind == "microsoft":
            kind = "exchange" if route == "exchange" else "login" if route in ("token", "openid", "devicecode") \
                else "graph"
        item = Served(kind, req.method, req.path, dict(req.query), route, resp.status, body, req.inner,
                      req.body.decode("utf-8", "replace"))
        with self.lock:
            self.served.append(item)


@functools.cache
def microsoft_demo() -> tuple[Served, ...]:
    """The Microsoft demo collection (P1 + P2, the demo's withheld permission)."""
    permissions = [p for p in ALL_READ_PERMISSIONS if p not in DEMO_WITHHELD_PERMISSIONS]
    return _microsoft(permissions=permissions, licences=None)


@functools.cache
def microsoft_without_premium() -> tuple[Served, ...]:
    """The same tenant without Entra ID P1/P2 and with every read permission."""
    return _microsoft(permissions=None, licences={"p1": False, "p2": False})


@functools.cache
def google_demo() -> tuple[Served, ...]:
    org = build_organisation(users=DEMO_USERS, seed=DEMO_SEED)
    rec = _Recorder("google")
    with GoogleSimulator(org) as sim, tempfile.TemporaryDirectory() as out:
        sim.taps.append(rec)
        options = GoogleOptions(service_account_info=sim.service_account_info, admin_subject=sim.admin_subject,
                                api_endpoint=sim.api_endpoint, token_uri=sim.token_uri, log_window_end=org.as_of,
                                dns=DnsOptions(resolvers=(sim.dns_address,)))
        collect_google(options, Path(out), progress=False)
    return tuple(rec.served)


def _microsoft(*, permissions: list[str] | None, licences: dict[str, bool] | None) -> tuple[Served, ...]:
    org = build_organisation(users=DEMO_USERS, seed=DEMO_SEED)
    rec = _Recorder("microsoft")
    scale = 0.01
    with MicrosoftSimulator(org, time_scale=scale, permissions=permissions, licences=licences) as sim, \
            tempfile.TemporaryDirectory() as out:
        sim.taps.append(rec)
        options = MicrosoftOptions(
            tenant_id=sim.tenant_id, client_id=sim.client_id, client_secret=sim.client_secret,
            authority_host=sim.authority_host, graph_endpoint=sim.graph_url, exchange_endpoint=sim.exchange_url,
            ca_bundle=Path(sim.ca_file), time_scale=scale, dns=DnsOptions(resolvers=(sim.dns_address,)))
        collect_microsoft(options, out, progress=False)
    return tuple(rec.served)
