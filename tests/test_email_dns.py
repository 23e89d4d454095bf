"""The DNS part of collection (connectors/email_dns.py, dnspython) against the simulator's loopback DNS server
(simulator/dns_server.py, UDP and TCP): answers, truncation to TCP, timeouts, SERVFAIL / REFUSED, malformed
replies, and the equality of a collected section with the rendered one (the tests' oracle)."""

from __future__ import annotations

import asyncio

import pytest

from connectors.email_dns import DnsOptions, collect_email_auth, lookup_txt, parse_resolver, unanswered
from connectors.email_dns import _resolver as make_resolver
from idaudit.core.errors import CollectionError
from simulator import build_organisation
from simulator.dns_server import DnsZoneServer
from simulator.email_zone import GOOGLE_DKIM_SELECTOR, email_zone, render_email_auth, sending_domains


def _txt(srv: DnsZoneServer, name: str, timeout: float = 2.0) -> dict[str, object]:
    opts = DnsOptions(resolvers=(srv.address,), timeout=timeout)
    return asyncio.run(lookup_txt(make_resolver(opts), name))


@pytest.mark.parametrize("provider", ["microsoft", "google"])
def test_collected_section_equals_the_rendered_one(provider: str) -> None:
    org = build_organisation(40, seed=3)
    z = email_zone(org, provider)
    sel = (GOOGLE_DKIM_SELECTOR,) if provider == "google" else ()
    with DnsZoneServer(z) as srv:
        got = asyncio.run(collect_email_auth(sending_domains(org), DnsOptions(resolvers=(srv.address,)),
                                             source="s", dkim_selectors=sel))
    assert got == render_email_auth(z, sending_domains(org), source="s", dkim_selectors=sel)
    assert got["lookups"][org.secondary_domains[0]]["records"][0][0].endswith("+all")


def test_large_answers_are_retried_over_tcp() -> None:
    big = {"a.org": [[f"v=spf1 ip4:192.0.2.{i} -all"] for i in range(40)]}
    with DnsZoneServer(big) as srv:
        got = _txt(srv, "a.org")
        assert srv.queries["tcp"] >= 1  # the UDP answer came back truncated (TC) and dnspython asked over TCP
    assert got["status"] == "ok" and len(got["records"]) == 40  # type: ignore[arg-type]


def test_nxdomain_and_nodata_are_answers() -> None:
    with DnsZoneServer({"_dmarc.a.org": [["v=DMARC1; p=none"]]}) as srv:
        assert _txt(srv, "b.org")["status"] == "nxdomain"
        assert _txt(srv, "a.org")["status"] == "nodata"  # exists (a name below it does), no TXT


@pytest.mark.parametrize(("kind", "code", "expected"), [("status", "SERVFAIL", "servfail"),
                                                         ("status", "REFUSED", "refused"),
                                                         # a reply that is not a DNS message is dropped by
                                                         # dnspython, which keeps waiting for a real one (an
                                                         # off-path spoof looks the same): it ends as a timeout
                                                         ("malformed_json", "", "timeout"),
                                                         ("delay", "", "timeout")])
def test_failures_are_stored_with_their_kind(kind: str, code: str, expected: str) -> None:
    with DnsZoneServer({"a.org": [["v=spf1 -all"]]}) as srv:
        srv.faults.add(kind=kind, path=r"^a\.org$", method="DNS", code=code, delay=1.5, times=None)
        got = _txt(srv, "a.org", timeout=1.0)
    assert got["status"] == expected, got


def test_no_answer_at_all_makes_the_section_an_error() -> None:
    with DnsZoneServer({"a.org": [["v=spf1 -all"]]}) as srv:
        srv.faults.add(kind="delay", path=".*", method="DNS", delay=1.5, times=None)
        data = asyncio.run(collect_email_auth(["a.org"], DnsOptions(resolvers=(srv.address,), timeout=1.0),
                                              source="s"))
    assert "no TXT lookup got an answer from x" in unanswered(data, "x")
    assert unanswered({"lookups": {"a.org": {"status": "nxdomain"}}}, "x") == ""


def test_http_fault_rules_never_fire_on_dns() -> None:
    with DnsZoneServer({"a.org": [["v=spf1 -all"]]}) as srv:
        rule = srv.faults.add(kind="status", path=".*", status=500, times=None)  # an HTTP rule, no method
        assert _txt(srv, "a.org")["status"] == "ok"
    assert rule.fired == 0


def test_resolver_addresses() -> None:
    assert parse_resolver("192.0.2.53") == ("192.0.2.53", 53)
    assert parse_resolver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_resolver("[2001:db8::53]:5353") == ("2001:db8::53", 5353)
    assert parse_resolver("2001:db8::53") == ("2001:db8::53", 53)
    with pytest.raises(CollectionError, match="port"):
        DnsOptions(resolvers=("127.0.0.1:99999",))
    with pytest.raises(CollectionError, match="timeout"):
        DnsOptions(timeout=0)


def test_resolver_from_the_config_file_and_its_errors(tmp_path: object) -> None:
    from pathlib import Path

    from connectors.microsoft.collect import options_from_config
    from idaudit.core.config import parse_config
    from idaudit.core.errors import ConfigError

    base = {"name": "t", "provider": "microsoft", "tenant_id": "x", "client_id": "y", "certificate_file": "/nope"}
    cfg = parse_config({"tenants": [{**base, "dns_resolver": "192.0.2.53:5353, 192.0.2.54", "dns_timeout": 3}]},
                       Path("idaudit.toml"))
    assert cfg.tenants[0].options["dns_timeout"] == "3"
    opts = options_from_config(cfg.tenants[0])
    assert opts.dns.resolvers == ("192.0.2.53:5353", "192.0.2.54") and opts.dns.timeout == 3.0
    with pytest.raises(ConfigError, match=r"tenants\[0\]\.dns_timeout"):
        parse_config({"tenants": [{**base, "dns_timeout": "soon"}]}, Path("idaudit.toml"))
    bad = parse_config({"tenants": [{**base, "dns_resolver": "192.0.2.53:0"}]}, Path("idaudit.toml"))
    with pytest.raises(CollectionError, match="port"):
        options_from_config(bad.tenants[0])
