"""MicrosoftSimulator: three HTTPS listeners on loopback (login, Graph, Exchange) sharing one throwaway CA, serving
one synthetic organisation. Used by the demo, the tests (the real msal and msgraph-sdk talk to it) and the
benchmark. See docs/simulator.md for routes, knobs and limits.

    with MicrosoftSimulator(build_organisation(300)) as sim:
        ...  # sim.authority, sim.graph_url, sim.exchange_url, sim.ca_file, sim.client_id, sim.client_secret
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from simulator.dns_server import DnsZoneServer
from simulator.email_zone import email_zone
from simulator.faults import FaultPlan
from simulator.microsoft.exchange_responses import ExchangeApi, exchange_error
from simulator.microsoft.graph_throttle import GraphThrottle
from simulator.microsoft.graph_wire import graph_error
from simulator.microsoft.identity import IdentityPlatform, aad_error
from simulator.microsoft.log_responses import LogApi
from simulator.microsoft.logs import AuditQueries, MicrosoftLogs
from simulator.microsoft.models import MicrosoftTenant
from simulator.microsoft.responses import GraphApi
from simulator.microsoft.urls import exchange_routes, graph_routes, login_routes
from simulator.org import Organisation
from simulator.server import SimServer, Stats, Tap, WireRequest, WireResponse
from simulator.tls import TlsMaterial, make_client_certificate, make_tls


def _login_error(status: int, code: str, message: str, retry_after: float | None) -> WireResponse:
    resp = aad_error(status, "invalid_request" if status < 500 else "temporarily_unavailable", 90000, message)
    if retry_after is not None:
        resp.headers["Retry-After"] = str(int(retry_after))
    return resp


def _graph_loop_link(resp: WireResponse, req: WireRequest) -> WireResponse:
    if resp.status == 200 and isinstance(resp.body, dict) and "value" in resp.body:
        resp.body["@odata.nextLink"] = req.url
    return resp


class MicrosoftSimulator:
    """A simulated Microsoft 365 tenant. `permissions=None` grants every read permission idaudit asks for;
    `licences` overrides the organisation's P1/P2 flags (TenantPolicy.p1/p2, both on by default);
    `throttle=False` turns every limit off."""

    def __init__(self, org: Organisation, *, latency: float = 0.0, time_scale: float = 1.0, throttle: bool = True,
                 faults: FaultPlan | None = None, licences: Mapping[str, bool] | None = None,
                 permissions: Iterable[str] | None = None, token_lifetime: int = 3600,
                 device_code_polls: int = 1) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.org = org
        self.latency = latency
        self.time_scale = time_scale
        self.throttle_enabled = throttle
        self.faults = faults if faults is not None else FaultPlan()
        self.tenant = MicrosoftTenant(org, licences)  # None: the organisation's own flags (default P1 + P2)
        self.logs = MicrosoftLogs(self.tenant)
        # The audit log queries' life cycle; tests set .stuck / .fail / .polls_to_finish (docs/simulator.md).
        self.audit_queries = AuditQueries()
        self._permissions = None if permissions is None else tuple(permissions)
        self.token_lifetime = token_lifetime
        self.device_code_polls = device_code_polls
        self.stats = Stats()
        self._tls: TlsMaterial | None = None
        self._servers: dict[str, SimServer] = {}
        self.taps: list[Tap] = []  # observers of every request and answer on the three listeners (contract tests)
        self.identity: IdentityPlatform | None = None
        self.graph: GraphApi | None = None
        self.exchange: ExchangeApi | None = None
        self.dns: DnsZoneServer | None = None  # the organisation's public DNS zone (SPF, DMARC), UDP + TCP

    # ---- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> MicrosoftSimulator:
        if self._servers:
            return self
        tls = self._tls = make_tls()
        cert = make_client_certificate(tls.directory)
        auditor = next(a for a in self.org.apps if a.id == self.org.auditor_app_id)
        admin = next((p for p in self.org.people if p.kind == "admin"), self.org.people[0])
        self.identity = IdentityPlatform(
            tenant_id=self.org.tenant_id, tenant_names=self.org.domains, client_id=auditor.id,
            app_object_id=auditor.object_id, certificate=cert, permissions=self._permissions,
            token_lifetime=self.token_lifetime, device_code_polls=self.device_code_polls,
            device_user=(admin.id, admin.mail, admin.display_name))
        throttle = GraphThrottle(len(self.org.people), self.time_scale) if self.throttle_enabled else None
        self.graph = GraphApi(self.tenant, self.identity, throttle, self.stats)
        log_api = LogApi(self.logs, self.audit_queries, self.graph.served)
        self.exchange = ExchangeApi(self.tenant, self.identity)
        common: dict[str, Any] = {"stats": self.stats, "faults": self.faults, "tls": tls, "latency": self.latency,
                                  "time_scale": self.time_scale}
        self._servers = {
            "login": SimServer("login", login_routes(self.identity), error=_login_error, **common),
            "graph": SimServer("graph", graph_routes(self.graph, log_api), error=graph_error,
                               loop_link=_graph_loop_link,
                               **common),
            "exchange": SimServer("exchange", exchange_routes(self.exchange), error=exchange_error,
                                  loop_link=self.exchange.loop_link, **common),
        }
        self.graph.server = self._servers["graph"]
        for server in self._servers.values():
            server.taps = self.taps
        try:
            for s in self._servers.values():
                s.start()
            self.dns = DnsZoneServer(email_zone(self.org, "microsoft"), self.faults).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for s in self._servers.values():
            s.stop()
        self._servers = {}
        if self.dns is not None:
            self.dns.stop()
            self.dns = None
        if self._tls is not None:
            self._tls.cleanup()
            self._tls = None

    def __enter__(self) -> MicrosoftSimulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ---- what a client needs ------------------------------------------------------------------------------------

    def _server(self, name: str) -> SimServer:
        if name not in self._servers:
            raise RuntimeError("the simulator is not running: use `with MicrosoftSimulator(org) as sim:`")
        return self._servers[name]

    def _identity(self) -> IdentityPlatform:
        if self.identity is None:
            raise RuntimeError("the simulator is not running")
        return self.identity

    @property
    def tenant_id(self) -> str:
        return self.org.tenant_id

    @property
    def client_id(self) -> str:
        return self.org.auditor_app_id

    @property
    def client_secret(self) -> str:
        return self._identity().client_secret

    @property
    def certificate_pem_path(self) -> Path:
        return self._identity().certificate.pem_path

    @property
    def certificate_thumbprint(self) -> str:
        return self._identity().certificate.thumbprint

    @property
    def authority_host(self) -> str:
        return self._server("login").base_url

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def token_url(self) -> str:
        return f"{self.authority}/oauth2/v2.0/token"

    @property
    def graph_url(self) -> str:
        return self._server("graph").base_url

    @property
    def exchange_url(self) -> str:
        return self._server("exchange").base_url

    @property
    def dns_address(self) -> str:
        """host:port of the loopback DNS server (UDP and TCP) serving the organisation's public zone."""
        if self.dns is None:
            raise RuntimeError("the simulator is not running")
        return self.dns.address

    @property
    def ca_file(self) -> Path:
        if self._tls is None:
            raise RuntimeError("the simulator is not running")
        return self._tls.ca_file

    @property
    def served(self) -> dict[str, int]:
        """Objects served per section name (Graph) and per cmdlet (Exchange), for coverage assertions."""
        out: dict[str, int] = {}
        if self.graph is not None:
            out.update(self.graph.served)
        if self.exchange is not None:
            out.update({f"exchange:{k}": v for k, v in self.exchange.served.items()})
        return out

    def issue_token(self, audience: str = "https://graph.microsoft.com", *, roles: Iterable[str] | None = None,
                    lifetime: int | None = None) -> str:
        """A token straight from the simulator (tests of expiry and permissions without a sign-in)."""
        ident = self._identity()
        chosen = list(roles) if roles is not None else ident._roles_for(audience)
        return ident.issue(audience, roles=chosen, lifetime=lifetime)[0]
