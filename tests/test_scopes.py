"""The exact token scopes idaudit asks for at runtime, read from what the simulators received.

A reader app is only as safe as the scopes it requests: a connector asking for a broader token than the documented
read-only list would work against a tenant where an admin over-granted, and nobody would notice. These tests run the
real connectors (msal / google-auth) against the simulators over loopback and compare what reached the token
endpoints with the documented constants — exactly, not "contains".
"""

from __future__ import annotations

from pathlib import Path

from connectors.email_dns import DnsOptions
from connectors.google.collect import collect_google
from connectors.google.options import REQUIRED_SCOPES, GoogleOptions
from connectors.microsoft.collect import collect_microsoft
from connectors.microsoft.options import (
    GLOBAL_EXCHANGE,
    GLOBAL_GRAPH,
    OPTIONAL_PERMISSIONS,
    REQUIRED_PERMISSIONS,
)
from idaudit.core.snapshot import load_snapshot
from simulator import build_organisation
from simulator.google import GoogleSimulator
from simulator.microsoft import MicrosoftSimulator
from tests.conftest_ms import options_for

# Google offers no read-only variant of these; each is documented as used for reads only (docs/google.md).
GOOGLE_NO_READONLY_VARIANT = {
    "https://www.googleapis.com/auth/admin.directory.user.security",
    "https://www.googleapis.com/auth/gmail.settings.basic",
}


def _operation(name: str) -> str:
    """`User.Read.All` -> `Read`: Graph permission names are Resource.Operation[.Constraint]."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_microsoft_requests_exactly_graph_and_exchange_default_scopes(tmp_path: Path) -> None:
    org = build_organisation(users=12, seed=5)
    with MicrosoftSimulator(org, throttle=False) as sim:
        out = collect_microsoft(options_for(sim), tmp_path / "snap", progress=False)
        requested = list(sim.identity.requested_scopes)  # type: ignore[union-attr]
    assert load_snapshot(out).manifest.complete
    assert requested, "the simulator saw no token request: the record is not wired"
    assert set(requested) == {f"{GLOBAL_GRAPH}/.default", f"{GLOBAL_EXCHANGE}/.default"}
    # every request names one resource's .default: no extra scope rides along (offline_access, a Mail.* scope, ...)
    assert all(len(s.split()) == 1 for s in requested), requested


def test_microsoft_without_exchange_requests_only_graph(tmp_path: Path) -> None:
    org = build_organisation(users=12, seed=5)
    with MicrosoftSimulator(org, throttle=False) as sim:
        collect_microsoft(options_for(sim, collect_exchange=False), tmp_path / "snap", progress=False)
        requested = set(sim.identity.requested_scopes)  # type: ignore[union-attr]
    assert requested == {f"{GLOBAL_GRAPH}/.default"}


def test_microsoft_permission_lists_hold_no_write_permission() -> None:
    # .default grants whatever the app registration holds, so the documented list is the real limit.
    for name in [*REQUIRED_PERMISSIONS, *OPTIONAL_PERMISSIONS]:
        graph_name = name.split(" (")[0]
        if graph_name == "Exchange.ManageAsApp":
            continue  # the only way to call the Exchange admin API as an app; the role assigned limits it to view-only
        assert _operation(graph_name) in ("Read", "ReadBasic"), f"{name} is not a read-only permission"
        assert "Write" not in graph_name, name


def test_google_assertions_carry_exactly_the_documented_read_only_scopes(tmp_path: Path) -> None:
    org = build_organisation(users=12, seed=11)
    with GoogleSimulator(org) as sim:
        opts = GoogleOptions(service_account_info=sim.service_account_info, admin_subject=sim.admin_subject,
                             api_endpoint=sim.api_endpoint, backoff_base=0.01, backoff_cap=0.05,
                             gmail_batch_size=8, log_window_end=org.as_of,
                             dns=DnsOptions(resolvers=(sim.dns_address,)))
        out = collect_google(opts, tmp_path / "snap", progress=False)
        claims = list(sim.issuer.assertion_scopes)
    assert load_snapshot(out).manifest.complete
    assert claims, "the simulator saw no signed assertion: the record is not wired"
    asked = {scope for claim in claims for scope in claim.split()}
    assert asked == set(REQUIRED_SCOPES), (asked ^ set(REQUIRED_SCOPES))
    for scope in asked:
        assert scope.endswith(".readonly") or scope in GOOGLE_NO_READONLY_VARIANT, scope
    # no assertion asks for a broader scope than it needs: the full-mail scope never appears
    assert "https://mail.google.com/" not in asked
