"""SPF, DMARC and DKIM facts from the TXT records a snapshot stores: parsed, never judged.

The rules below are the published standards', applied to the raw TXT answers in the `dns.emailAuth` section, so a
re-check needs no network. What makes a domain pass or fail is decided by the checks (checks/email_security.py);
here only the facts a receiving mail server would derive:

- SPF (RFC 7208): the TXT records at the domain whose text starts with the version section `v=spf1` (followed by a
  space or the end), the character-strings of one record joined without separator (§3.3). Exactly one such record
  may exist (§4.5: more than one is a permanent error). The result for a sender the record does not list is the
  qualifier of the first `all` mechanism (§5.1: nothing after `all` is tested); without `all`, a `redirect=`
  modifier hands the question to the target's record (§6.1); without either, the result is neutral. The terms that
  cost a DNS lookup — `include`, `a`, `mx`, `ptr`, `exists` and `redirect` — are counted through every included
  record; more than 10 is a permanent error (§4.6.4). An `include` or `redirect` whose target has no SPF record is a
  permanent error (§5.2, §6.1).
- DMARC (RFC 7489): the TXT records at `_dmarc.<domain>` starting with `v=DMARC1`; more than one means no policy
  (§6.6.3). Without one at the domain, the record of the organisational domain applies with its `sp` tag (§6.6.3;
  idaudit only walks up to a parent that is itself one of the tenant's domains, so it never reads a public
  suffix's record). `p` is required; a record without a valid `p` but with a `rua` is treated as `p=none`
  (§6.6.3). `pct` defaults to 100 (§6.3).
- DKIM (RFC 6376 §3.6.1): a key record is a TXT record with a non-empty `p=` tag (empty `p=` means revoked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_SPF_LOOKUPS = 10  # RFC 7208 §4.6.4
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists"})  # plus the redirect modifier
ANSWERED = frozenset({"ok", "nxdomain", "nodata"})  # an authoritative answer: the name's TXT set is known
_SPF_VERSION = re.compile(r"^v=spf1(?: |$)", re.IGNORECASE)
_DMARC_VERSION = re.compile(r"^v\s*=\s*DMARC1\s*(?:;|$)")
_QUALIFIERS = "+-~?"


@dataclass(frozen=True)
class Lookup:
    """One stored TXT answer: status ok | nxdomain | nodata | timeout | servfail | refused | error."""

    status: str
    records: tuple[str, ...] = ()  # each record's character-strings joined (RFC 7208 §3.3)
    detail: str = ""

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED

    def why(self, name: str) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"TXT lookup of {name} gave no answer: {self.status}{extra}"


def read_lookups(raw: Any) -> dict[str, Lookup]:
    """The `lookups` object of a dns.emailAuth section; malformed entries are left out (then 'not looked up')."""
    out: dict[str, Lookup] = {}
    if not isinstance(raw, Mapping):
        return out
    for name, entry in raw.items():
        if not isinstance(name, str) or not isinstance(entry, Mapping):
            continue
        status = entry.get("status")
        if not isinstance(status, str):
            continue
        records = []
        for rec in entry.get("records") or []:
            if isinstance(rec, list) and all(isinstance(s, str) for s in rec):
                records.append("".join(rec))
            elif isinstance(rec, str):
                records.append(rec)
        detail = entry.get("detail")
        out[name.strip().rstrip(".").casefold()] = Lookup(status, tuple(records),
                                                          detail if isinstance(detail, str) else "")
    return out


def _get(lookups: Mapping[str, Lookup], name: str) -> Lookup | None:
    return lookups.get(name.strip().rstrip(".").casefold())


# ----------------------------------------------------------------------------------------------------------- SPF --

def spf_records(records: tuple[str, ...]) -> list[str]:
    return [r.strip() for r in records if _SPF_VERSION.match(r.strip())]


@dataclass(frozen=True)
class Term:
    qualifier: str  # '+', '-', '~', '?' for mechanisms; '' for modifiers
    name: str  # mechanism or modifier name, case-folded
    value: str  # text after ':' or '=' ('' when none)
    modifier: bool


def spf_terms(record: str) -> list[Term]:
    terms = []
    for raw in record.split()[1:]:  # the version section is first
        m = re.match(r"^([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)$", raw)
        if m:
            terms.append(Term("", m.group(1).casefold(), m.group(2), True))
            continue
        q = raw[0] if raw[:1] in _QUALIFIERS else "+"
        body = raw[1:] if raw[:1] in _QUALIFIERS else raw
        name, _, value = body.partition(":")
        if "/" in name and not value:  # a/24, mx/24
            name = name.split("/", 1)[0]
        terms.append(Term(q, name.casefold(), value, False))
    return terms


@dataclass
class SpfWalk:
    lookups: int = 0
    problems: list[str] = field(default_factory=list)  # permanent errors: the record is broken for receivers
    gaps: list[str] = field(default_factory=list)  # what could not be read, so the answer is not known
    seen: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class SpfFacts:
    records: tuple[str, ...]  # every v=spf1 record at the domain
    all_qualifier: str  # '-', '~', '+', '?' of the effective `all`; '' when none (neutral)
    all_via: str  # '' or 'redirect=<target>' when the effective all comes from a redirect target
    lookups: int | None  # DNS-querying terms through every include/redirect; None when not computable
    problems: tuple[str, ...]
    gap: str  # why SPF cannot be decided ('' when known)


def _walk(lookups: Mapping[str, Lookup], name: str, walk: SpfWalk, depth: int) -> tuple[str, str] | None:
    """Count lookups in `name`'s record and its includes; return (all qualifier, via) of this record."""
    if depth > 20 or name in walk.seen:
        walk.problems.append(f"{name} is included in a loop")
        return None
    walk.seen.add(name)
    found = _get(lookups, name)
    if found is None:
        walk.gaps.append(f"{name} was not looked up")
        return None
    if not found.answered:
        walk.gaps.append(found.why(name))
        return None
    recs = spf_records(found.records)
    if not recs:
        walk.problems.append(f"{name} has no SPF record (permanent error for the including record)")
        return None
    if len(recs) > 1:
        walk.problems.append(f"{name} publishes {len(recs)} SPF records (permanent error)")
        return None
    terms = spf_terms(recs[0])
    first_all = next((t for t in terms if not t.modifier and t.name == "all"), None)
    redirect = next((t for t in terms if t.modifier and t.name == "redirect"), None)
    for t in terms:
        if t.modifier:
            continue
        if t.name in LOOKUP_TERMS:
            walk.lookups += 1
        if t.name == "include":
            if not t.value or "%" in t.value:
                walk.gaps.append(f"include:{t.value} uses a macro: its lookups cannot be counted offline")
                continue
            _walk(lookups, t.value.casefold().rstrip("."), walk, depth + 1)
    if first_all is not None:
        return first_all.qualifier, ""
    if redirect is not None:
        walk.lookups += 1
        target = redirect.value.casefold().rstrip(".")
        if not target or "%" in target:
            walk.gaps.append(f"redirect={redirect.value} uses a macro: cannot be followed offline")
            return None
        inner = _walk(lookups, target, walk, depth + 1)
        if inner is None:
            return None
        return inner[0], f"redirect={target}" + (f" -> {inner[1]}" if inner[1] else "")
    return "", ""


def spf_facts(lookups: Mapping[str, Lookup], domain: str) -> SpfFacts:
    found = _get(lookups, domain)
    if found is None:
        return SpfFacts((), "", "", None, (), f"{domain} was not looked up")
    if not found.answered:
        return SpfFacts((), "", "", None, (), found.why(domain))
    recs = tuple(spf_records(found.records))
    if len(recs) != 1:
        return SpfFacts(recs, "", "", 0 if not recs else None, (), "")
    walk = SpfWalk()
    result = _walk(lookups, domain.casefold(), walk, 0)
    lookups_done: int | None = walk.lookups
    gap = "; ".join(walk.gaps)
    if gap and walk.lookups <= MAX_SPF_LOOKUPS:
        lookups_done = None  # the count so far is a floor, not the answer
    qualifier, via = result if result is not None else ("", "")
    return SpfFacts(recs, qualifier, via, lookups_done, tuple(walk.problems), gap)


# --------------------------------------------------------------------------------------------------------- DMARC --

def dmarc_records(records: tuple[str, ...]) -> list[str]:
    return [r.strip() for r in records if _DMARC_VERSION.match(r.strip())]


def dmarc_tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            tags.setdefault(key.strip().casefold(), value.strip())
    return tags


@dataclass(frozen=True)
class DmarcFacts:
    records: tuple[str, ...]  # the v=DMARC1 records found where the policy comes from
    source: str  # the domain whose _dmarc record applies ('' none)
    policy: str  # none | quarantine | reject | '' (no usable policy); sp= when inherited from a parent
    pct: int | None  # None when the tag is not a number 0-100
    rua: tuple[str, ...]  # the mailto: aggregate report addresses
    gap: str


def _policy_of(record: str, inherited: bool) -> tuple[str, int | None, tuple[str, ...]]:
    tags = dmarc_tags(record)
    rua = tuple(u.strip() for u in tags.get("rua", "").split(",") if u.strip().casefold().startswith("mailto:"))
    p = tags.get("p", "").casefold()
    if inherited and tags.get("sp", "").casefold() in ("none", "quarantine", "reject"):
        p = tags["sp"].casefold()
    if p not in ("none", "quarantine", "reject"):
        p = "none" if rua else ""  # RFC 7489 §6.6.3: invalid p with a valid rua acts as p=none
    raw_pct = tags.get("pct", "100")
    pct = int(raw_pct) if raw_pct.isdigit() and 0 <= int(raw_pct) <= 100 else None
    return p, pct, rua


def dmarc_facts(lookups: Mapping[str, Lookup], domain: str, tenant_domains: frozenset[str]) -> DmarcFacts:
    """The DMARC policy receivers apply to mail from `domain`, walking up only to the tenant's own domains."""
    for i, name in enumerate(dmarc_candidates(domain.casefold(), tenant_domains)):
        found = _get(lookups, f"_dmarc.{name}")
        if found is None:
            return DmarcFacts((), "", "", None, (), f"_dmarc.{name} was not looked up")
        if not found.answered:
            return DmarcFacts((), "", "", None, (), found.why(f"_dmarc.{name}"))
        recs = tuple(dmarc_records(found.records))
        if not recs:
            continue
        if len(recs) > 1:  # receivers apply no DMARC at all
            return DmarcFacts(recs, name, "", None, (), "")
        policy, pct, rua = _policy_of(recs[0], inherited=i > 0)
        return DmarcFacts(recs, name, policy, pct, rua, "")
    return DmarcFacts((), "", "", None, (), "")


# ---------------------------------------------------------------------------------------------------------- DKIM --

def dkim_key_present(records: tuple[str, ...]) -> bool:
    """A DKIM key record: a `p=` tag with a non-empty value (RFC 6376 §3.6.1; empty p= is a revoked key)."""
    for rec in records:
        tags = dmarc_tags(rec)  # the same tag=value; list syntax
        if tags.get("p", "").strip():
            return True
    return False


# ------------------------------------------------------------------------------------------- what to look up --

MAX_NAMES_PER_DOMAIN = 40  # an include chain is cut here (RFC 7208 allows 10 lookups; loops must end)


def dkim_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}"


def dmarc_candidates(domain: str, tenant_domains: frozenset[str]) -> list[str]:
    """`domain`, then each parent that is itself one of the tenant's domains (never a public suffix)."""
    labels = domain.split(".")
    parents = [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
    return [domain] + [p for p in parents if p in tenant_domains]


def names_needed(domains: Iterable[str], dkim_selectors: Iterable[str], known: Mapping[str, Lookup]) -> list[str]:
    """The TXT names still to look up, given the answers `known` so far; [] when the plan is complete.

    The collector (connectors/email_dns.py) and the simulator's snapshot renderer both loop "look up what is
    needed, repeat" over this one function, so a rendered snapshot holds exactly the names a collection does:
    each domain's own TXT set and, while its single SPF record is readable, every include / redirect target
    (bounded); `_dmarc.` of the domain and, while none is found, of each parent in the tenant; each DKIM selector.
    """
    tenant = frozenset(d.casefold() for d in domains)
    needed: list[str] = []

    def need(name: str) -> None:
        if name not in known and name not in needed:
            needed.append(name)

    for domain in sorted(tenant):
        queue, seen = [domain], set[str]()
        while queue and len(seen) < MAX_NAMES_PER_DOMAIN:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            found = known.get(name)
            if found is None:
                need(name)
                continue
            recs = spf_records(found.records) if found.answered else []
            if len(recs) != 1:
                continue
            for t in spf_terms(recs[0]):
                if t.name in ("include", "redirect") and t.value and "%" not in t.value:
                    queue.append(t.value.casefold().rstrip("."))
        for cand in dmarc_candidates(domain, tenant):
            found = known.get(f"_dmarc.{cand}")
            if found is None:
                need(f"_dmarc.{cand}")
                break
            if not found.answered or dmarc_records(found.records):
                break
        for sel in dkim_selectors:
            need(dkim_name(sel, domain))
    return needed
