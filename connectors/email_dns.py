"""TXT lookups for e-mail authentication (SPF, DMARC, DKIM), provider-neutral, with dnspython.

Every sending domain of the tenant is looked up: its TXT records (SPF) and the `include:` / `redirect=` targets
they name, recursively (so the 10-lookup limit can be counted offline), `_dmarc.<domain>` (and the record of a
parent that is itself one of the tenant's domains, while none is found), and the DKIM key records of the selectors
a provider publishes as TXT (Google: `google._domainkey`). Which names to ask for is decided by the snapshot
format's own planner (idaudit.core.normalise.email_auth.names_needed), so the simulator renders the same section.
Every answer is stored raw in the snapshot section `dns.emailAuth`: re-checking a snapshot never touches DNS.

A lookup that times out or fails is stored as such (status `timeout`, `servfail`, `refused`, `error`) and makes
only the domains that need it `unknown`; when no lookup got an answer at all the section is an error naming the
resolver. The resolver is the system's (/etc/resolv.conf) unless `DnsOptions.resolvers` names one.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from connectors.asyncrun import run_coroutine
from idaudit.core.errors import CollectionError
from idaudit.core.normalise.email_auth import names_needed as plan_names
from idaudit.core.normalise.email_auth import read_lookups

CONCURRENCY = 8
ANSWERED = ("ok", "nxdomain", "nodata")


def parse_resolver(text: str) -> tuple[str, int]:
    """'192.0.2.53', '192.0.2.53:5353', '[2001:db8::53]:53' or '2001:db8::53' -> (address, port)."""
    value = text.strip()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    else:
        host, port = value, ""
    if not host:
        raise CollectionError(f"DNS resolver {text!r}: no address (expected host, host:port or [v6]:port)")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise CollectionError(f"DNS resolver {text!r}: the port must be 1-65535")
    return host, int(port) if port else 53


@dataclass(frozen=True)
class DnsOptions:
    """Where and how to look up TXT records. Empty `resolvers`: the system resolver (/etc/resolv.conf)."""

    resolvers: tuple[str, ...] = ()
    timeout: float = 5.0  # seconds for one name, retries included
    enabled: bool = True

    def __post_init__(self) -> None:
        for r in self.resolvers:
            parse_resolver(r)
        if not 0 < self.timeout <= 120:
            raise CollectionError(f"DNS timeout must be more than 0 and at most 120 seconds, got {self.timeout}")

    @property
    def shown(self) -> str:
        if self.resolvers:
            return ", ".join(self.resolvers)
        env = os.environ.get("IDAUDIT_DNS_RESOLVER", "").strip()
        return f"{env} (IDAUDIT_DNS_RESOLVER)" if env else "the system resolver"


def dns_options_from(resolvers: str | list[str] | None, timeout: str | float | None, *, where: str = "") -> DnsOptions:
    """DnsOptions from a config value or CLI flags: 'host[:port], host2' or a list; timeout in seconds."""
    items = resolvers if isinstance(resolvers, list) else (resolvers or "").split(",")
    chosen = tuple(r.strip() for r in items if r and r.strip())
    try:
        seconds = float(timeout) if timeout not in (None, "") else 5.0
    except ValueError:
        raise CollectionError(f"{where}dns_timeout must be a number of seconds, got {timeout!r}") from None
    return DnsOptions(resolvers=chosen, timeout=seconds)


# A resolver for every run that configures none (`host[:port], ...`): an administrator's default for the machine,
# and what the test suite sets so that no test ever asks a resolver beyond loopback.
RESOLVER_ENV = "IDAUDIT_DNS_RESOLVER"


def _resolver(options: DnsOptions) -> dns.asyncresolver.Resolver:
    chosen = options.resolvers or tuple(r.strip() for r in os.environ.get(RESOLVER_ENV, "").split(",") if r.strip())
    if chosen:
        r = dns.asyncresolver.Resolver(configure=False)
        r.nameservers = [dns.nameserver.Do53Nameserver(*parse_resolver(s)) for s in chosen]
    else:
        r = dns.asyncresolver.Resolver()
    r.lifetime = options.timeout
    r.timeout = min(2.0, options.timeout)
    r.cache = None
    return r


async def lookup_txt(resolver: dns.asyncresolver.Resolver, name: str) -> dict[str, Any]:
    """One TXT lookup as stored: {status, records: [[character-string, ...], ...], detail}."""
    try:
        answer = await resolver.resolve(name.rstrip(".") + ".", dns.rdatatype.TXT, search=False)
    except dns.resolver.NXDOMAIN:
        return {"status": "nxdomain", "records": [], "detail": ""}
    except dns.resolver.NoAnswer:
        return {"status": "nodata", "records": [], "detail": ""}
    except dns.exception.Timeout as exc:
        return {"status": "timeout", "records": [], "detail": str(exc)[:300]}
    except dns.resolver.NoNameservers as exc:
        text = str(exc)
        status = "servfail" if "SERVFAIL" in text else "refused" if "REFUSED" in text else "error"
        return {"status": status, "records": [], "detail": text[:300]}
    except (dns.exception.DNSException, OSError) as exc:
        return {"status": "error", "records": [], "detail": f"{type(exc).__name__}: {exc}"[:300]}
    records = [[s.decode("utf-8", "backslashreplace") for s in rr.strings] for rr in answer]  # type: ignore[attr-defined]
    return {"status": "ok", "records": sorted(records), "detail": ""}  # an RRset has no order (RFC 2181 §5)


async def collect_email_auth(domains: Iterable[str], options: DnsOptions, *, source: str,
                             dkim_selectors: Iterable[str] = ()) -> dict[str, Any]:
    """Look up SPF, DMARC and DKIM TXT records for `domains`: the dns.emailAuth section's content."""
    names = sorted({d.strip().rstrip(".").casefold() for d in domains if d and d.strip()})
    selectors = list(dict.fromkeys(s.strip() for s in dkim_selectors if s.strip()))
    resolver = _resolver(options)
    sem = asyncio.Semaphore(CONCURRENCY)
    results: dict[str, dict[str, Any]] = {}

    async def one(name: str) -> None:
        async with sem:
            results[name] = await lookup_txt(resolver, name)

    while True:
        todo = plan_names(names, selectors, read_lookups(results))
        if not todo:
            break
        await asyncio.gather(*(one(n) for n in todo))
    return {"domainSource": source, "domains": names, "dkimSelectors": selectors,
            "lookups": dict(sorted(results.items()))}


def collect_email_auth_sync(domains: Iterable[str], options: DnsOptions, *, source: str,
                            dkim_selectors: Iterable[str] = ()) -> dict[str, Any]:
    """collect_email_auth for synchronous callers (the Google connector), also inside Jupyter's running loop."""
    coro = collect_email_auth(list(domains), options, source=source, dkim_selectors=list(dkim_selectors))
    return dict(run_coroutine(coro, thread_name="idaudit-dns"))


def unanswered(section: Mapping[str, Any], shown: str) -> str:
    """Why the whole section is unusable ('' when at least one name got an answer, or nothing was asked)."""
    lookups = section.get("lookups") or {}
    statuses = [str(v.get("status")) for v in lookups.values() if isinstance(v, Mapping)]
    if not statuses or any(s in ANSWERED for s in statuses):
        return ""
    counts: dict[str, int] = {}
    for s in statuses:
        counts[s] = counts.get(s, 0) + 1
    seen = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return f"no TXT lookup got an answer from {shown} ({seen})"
