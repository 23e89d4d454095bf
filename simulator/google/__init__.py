"""A loopback stand-in for Google Workspace: token endpoint, Directory, Gmail settings, Policy API, Reports, batch.

    sim = GoogleSimulator(build_organisation(300))
    with sim:
        sim.api_endpoint          # http://127.0.0.1:PORT   (client_options={"api_endpoint": ...})
        sim.token_uri             # http://127.0.0.1:PORT/token
        sim.service_account_info  # a service-account key dict (fresh RSA key per simulator)
        sim.admin_subject         # a super admin to impersonate
        sim.customer_id, sim.stats, sim.faults, sim.tenant

Built on the shared simulator machinery (simulator/server.py, faults.py, throttle.py): one plain-http
listener on loopback serves every API. google-auth and google-api-python-client accept an http token URI and
endpoint, so no TLS is needed (docs/google.md). `delegated_scopes=None` delegates every scope the connector asks
for; pass a set to simulate an administrator who delegated only some of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from simulator.dns_server import DnsZoneServer
from simulator.email_zone import email_zone
from simulator.faults import FaultPlan
from simulator.google.auth import ServiceAccount, TokenIssuer, new_service_account
from simulator.google.models import GoogleTenant, OuPolicy, build_google_tenant
from simulator.google.responses import GoogleResponses, GoogleStats, error_factory, loop_page_token
from simulator.google.snapshot import render_snapshot
from simulator.org import Organisation
from simulator.server import SimServer
from simulator.throttle import Limit

__all__ = ["DEFAULT_QUOTAS", "GoogleSimulator", "render_google_snapshot"]

# Documented limits per route class: (capacity, window in seconds, before time_scale); Gmail is per user.
DEFAULT_QUOTAS: dict[str, tuple[int, float]] = {
    "directory": (2400, 60.0),  # Admin SDK Directory: 2,400 queries per minute per user per project
    "reports": (2400, 60.0),
    "policy": (60, 60.0),
    "gmail": (250, 1.0),  # Gmail: 250 quota units per user per second (a settings read costs 1 unit)
}


class GoogleSimulator:
    """The simulator's lifecycle: start the shared loopback server with the Google routes, serve, stop."""

    def __init__(self, org: Organisation, *, latency: float = 0.0, time_scale: float = 1.0, throttle: bool = True,
                 faults: FaultPlan | None = None, delegated_scopes: Iterable[str] | None = None,
                 quotas: Mapping[str, Limit | tuple[float, float]] | None = None,
                 policies: tuple[OuPolicy, ...] | None = None, token_lifetime: int = 3600) -> None:
        self.org = org
        self.tenant: GoogleTenant = build_google_tenant(org, policies=policies)
        self.account: ServiceAccount = new_service_account()
        self.stats = GoogleStats()
        self.faults = faults if faults is not None else FaultPlan()
        delegated = None if delegated_scopes is None else frozenset(delegated_scopes)
        self.issuer = TokenIssuer([self.account], {self.account.client_id: delegated},
                                  user_exists=lambda key: self.tenant.find_user(key) is not None,
                                  token_uri=lambda: self.token_uri, lifetime=token_lifetime)
        limits = {k: v if isinstance(v, Limit) else Limit(*v) for k, v in (quotas or DEFAULT_QUOTAS).items()}
        self.responses = GoogleResponses(self.tenant, self.issuer, self.stats,
                                         quotas=limits if throttle else None, time_scale=time_scale)
        self.server = SimServer("google", self.responses.routes(), error=error_factory, stats=self.stats,
                                faults=self.faults, latency=latency, time_scale=time_scale,
                                loop_link=loop_page_token)
        self.responses.server = self.server
        self.dns = DnsZoneServer(email_zone(org, "google"), self.faults)  # the public zone: SPF, DMARC, DKIM
        self.taps = self.server.taps  # observers of every request and answer (contract tests)
        self._running = False

    # ---- what a client needs -----------------------------------------------------------------------------
    @property
    def api_endpoint(self) -> str:
        if not self._running:
            raise RuntimeError("the simulator is not running: use `with sim:` or sim.start()")
        return self.server.base_url

    @property
    def dns_address(self) -> str:
        """host:port of the loopback DNS server (UDP and TCP) serving the organisation's public zone."""
        if not self._running:
            raise RuntimeError("the simulator is not running: use `with sim:` or sim.start()")
        return self.dns.address

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
        if not self._running:
            self.server.start()
            self.dns.start()
            self._running = True
        return self

    def stop(self) -> None:
        if self._running:
            self.server.stop()
            self.dns.stop()
            self._running = False

    def __enter__(self) -> GoogleSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def render_google_snapshot(org: Organisation, out_dir: str | Path, **kwargs: Any) -> Path:
    """Write the snapshot a complete collection of this organisation would produce, without any network."""
    return render_snapshot(org, out_dir, **kwargs)
