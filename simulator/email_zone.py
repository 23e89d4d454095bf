"""The simulated organisation's public DNS zone for e-mail authentication, and the answers it gives.

The zone holds what a small clinic typically publishes, mistakes included (they are planted like the other
problems, docs/simulator.md): the primary domain is in order (SPF ending `-all` / `~all`, DMARC `p=quarantine` /
`p=reject` with `pct=100` and a report address, DKIM), while the secondary domain — the old name the centre still
sends a few messages from — has an SPF record ending `+all` (anyone may send as it), DMARC `p=none`, and no DKIM
(Microsoft: signing disabled in Get-DkimSigningConfig; Google: no `google._domainkey` key record). The mail
provider's own SPF records (`spf.protection.outlook.com`, `_spf.google.com` and its netblocks) are synthetic
stand-ins with documentation address ranges, so an include chain can be counted the way a receiver counts it.

`zone_answer` is the one definition of what the loopback DNS server (simulator/dns_server.py) answers, used also
by the snapshot renderers, so a rendered `dns.emailAuth` section equals a collected one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from idaudit.core.normalise.email_auth import names_needed, read_lookups
from simulator.org import Organisation

Zone = Mapping[str, Sequence[Sequence[str]]]
GOOGLE_DKIM_SELECTOR = "google"
_KEY = ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsimulatedkeyNOTREALsimulatedkeyNOTREALsimulatedkeyNOTREALsim"
        "ulatedkeyNOTREALsimulatedkeyNOTREALsimulatedkeyNOTREALsimulatedkeyNOTREALsimulatedkeyNOTREALsimulatedkeyNO"
        "TREALsimulatedkeyNOTREALsimulatedkeyNOTREALsimulatedkeyNOTREALsimulatedkeyNOTREALsimulatedkeyNOTREALQIDAQAB")


def sending_domains(org: Organisation) -> list[str]:
    """The organisation's own mail domains (the *.onmicrosoft.com initial domain is Microsoft's, not theirs)."""
    return [org.domain, *org.secondary_domains]


def email_zone(org: Organisation, provider: str) -> dict[str, list[list[str]]]:
    """TXT records by name; each record a list of character-strings (≤ 255 octets each)."""
    primary, *secondary = sending_domains(org)
    zone: dict[str, list[list[str]]] = {}
    if provider == "google":
        zone[primary] = [["v=spf1 include:_spf.google.com ~all"],
                         [f"google-site-verification={org.tenant_id.replace('-', '')[:43]}"]]
        zone[f"_dmarc.{primary}"] = [[f"v=DMARC1; p=reject; pct=100; rua=mailto:dmarc-reports@{primary}"]]
        zone[f"{GOOGLE_DKIM_SELECTOR}._domainkey.{primary}"] = [["v=DKIM1; k=rsa; p=" + _KEY[:200], _KEY[200:]]]
        zone["_spf.google.com"] = [["v=spf1 include:_netblocks.google.com include:_netblocks2.google.com "
                                    "include:_netblocks3.google.com ~all"]]
        zone["_netblocks.google.com"] = [["v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/25 ~all"]]
        zone["_netblocks2.google.com"] = [["v=spf1 ip6:2001:db8:4860::/48 ~all"]]
        zone["_netblocks3.google.com"] = [["v=spf1 ip4:192.0.2.0/26 ~all"]]
        outlook = ""
    else:
        zone[primary] = [["v=spf1 include:spf.protection.outlook.com -all"],
                         [f"MS=ms{int(org.tenant_id[:8], 16) % 100000000:08d}"]]
        zone[f"_dmarc.{primary}"] = [[f"v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc-reports@{primary}"]]
        zone["spf.protection.outlook.com"] = [["v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/24 "
                                               "ip6:2001:db8:f400::/48 include:spfd.protection.outlook.com -all"]]
        zone["spfd.protection.outlook.com"] = [["v=spf1 ip4:192.0.2.0/24 -all"]]
        outlook = " include:spf.protection.outlook.com"
    for dom in secondary:  # the old name: anyone may send as it, and receivers are told to do nothing about it
        zone[dom] = [[f"v=spf1 ip4:203.0.113.25{outlook or ' include:_spf.google.com'} +all"]]
        zone[f"_dmarc.{dom}"] = [[f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{primary}"]]
    return zone


def zone_answer(zone: Zone, name: str) -> dict[str, Any]:
    """What the loopback server answers for TXT `name`, in the stored form {status, records, detail}."""
    key = name.strip().rstrip(".").casefold()
    if key in zone:
        return {"status": "ok", "records": sorted(list(r) for r in zone[key]), "detail": ""}  # RRsets are unordered
    if any(k.endswith("." + key) for k in zone):
        return {"status": "nodata", "records": [], "detail": ""}
    return {"status": "nxdomain", "records": [], "detail": ""}


def render_email_auth(zone: Zone, domains: Iterable[str], *, source: str,
                      dkim_selectors: Sequence[str] = ()) -> dict[str, Any]:
    """The dns.emailAuth section a fault-free collection against the loopback server stores."""
    names = sorted({d.casefold() for d in domains})
    results: dict[str, dict[str, Any]] = {}
    while True:
        todo = names_needed(names, dkim_selectors, read_lookups(results))
        if not todo:
            break
        for n in todo:
            results[n] = zone_answer(zone, n)
    return {"domainSource": source, "domains": names, "dkimSelectors": list(dkim_selectors),
            "lookups": dict(sorted(results.items()))}
