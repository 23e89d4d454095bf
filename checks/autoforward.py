"""IDA-MAIL-004 for Microsoft: may any sender's mail be forwarded automatically to an outside domain?

Reads the per-sender outcome of the outbound spam policies (`auto_forward_senders`) and the remote domains
(`remote_domains`), both built by idaudit/core/normalise/ms_autoforward.py from the documented precedence. Forwarding
is open where both allow it: a sender whose policy says On, to a destination whose remote domain says
AutoForwardEnabled true. The verdict names the senders and the domains; a sender whose policy could not be decided
makes the check `unknown` unless another sender already fails it or every destination is blocked.
"""

from __future__ import annotations

import pandas as pd

from checks.common import (
    FAIL,
    HIGH,
    PASS,
    UNKNOWN,
    InsideDomains,
    inside_domains,
    label_users,
    setting_or_none,
    tenant_row,
)
from idaudit.core.engine import CheckSettings
from idaudit.core.errors import DataUnavailable
from idaudit.core.tables import AuditData

SHOW = 10


def _shown(items: list[str], more: str = "more") -> str:
    return ", ".join(items[:SHOW]) + (f" and {len(items) - SHOW} {more}" if len(items) > SHOW else "")


def _inside(data: AuditData, settings: CheckSettings) -> InsideDomains:
    """Verified and trusted domains when collected; only the trusted ones otherwise (remote domains name outside
    domains, so a missing domains table costs at most a partner named as outside)."""
    try:
        return inside_domains(data, settings)
    except DataUnavailable:
        return InsideDomains(frozenset(), frozenset(d.strip().strip(".").casefold() for d in settings.trusted_domains))


def _outside(domain: str, inside: InsideDomains) -> bool:
    """Does a remote domain name an outside destination? '*.contoso.com' is "all subdomains of" contoso.com
    (New-RemoteDomain -DomainName); a subdomain is inside only when it is itself verified, which a wildcard's
    subdomains are not all — so a wildcard is inside only under a trusted partner domain (matched with its
    subdomains)."""
    if domain.startswith("*."):
        return InsideDomains(frozenset(), inside.trusted).place(domain[2:]) != "inside"
    return inside.place(domain) != "inside"


def _destinations(data: AuditData, settings: CheckSettings) -> tuple[bool | None, str]:
    """(open to some outside domain?, which): True / False, or None when the default remote domain is unknown."""
    remote = data.table("remote_domains")
    inside = _inside(data, settings)
    star = remote[remote["domain"] == "*"]
    specific = remote[remote["domain"] != "*"]
    allowed = specific["auto_forward"].fillna(False).astype(bool)
    blocked = ~specific["auto_forward"].fillna(True).astype(bool)
    outside = specific["domain"].map(lambda d: _outside(str(d), inside)).astype(bool)
    opened = sorted(specific.loc[allowed & outside, "domain"].astype(str))
    partners = sorted(specific.loc[allowed & ~outside, "domain"].astype(str))
    closed = sorted(specific.loc[blocked, "domain"].astype(str))
    # AutoForwardEnabled missing: $true is the default for new remote domains (Set-RemoteDomain), so never "blocks"
    unread = sorted(specific.loc[specific["auto_forward"].isna() & outside, "domain"].astype(str))
    star_on = None if star.empty or pd.isna(star["auto_forward"].iloc[0]) else bool(star["auto_forward"].iloc[0])
    if star_on:
        extra = f" except {_shown(closed)}" if closed else ""
        return True, f"to any outside domain{extra} (remote domain '*' AutoForwardEnabled True)"
    if opened:
        base = "'*' blocks the rest" if star_on is False else "remote domain '*' not known"
        return True, f"to {_shown(opened)} (remote domain(s) with AutoForwardEnabled True; {base})"
    if star_on is None:
        return None, "the default remote domain '*' was not found or has no AutoForwardEnabled value"
    if unread:
        return None, (f"remote domain(s) {_shown(unread)} have no AutoForwardEnabled value (a new remote domain "
                      "allows automatic forwarding by default)")
    note = f"; only trusted / verified domains allow it: {_shown(partners)}" if partners else ""
    return False, f"every remote domain blocks it (remote domain '*' AutoForwardEnabled False{note})"


def microsoft_auto_forwarding(data: AuditData, settings: CheckSettings) -> dict[str, str]:
    """Both controls must allow for forwarding to be open, so either one read and blocking everything decides a
    pass on its own ("the block typically wins"); a control not read is unknown only when the other allows."""
    try:
        destinations_open, where = _destinations(data, settings)
    except DataUnavailable as exc:
        try:
            senders = data.table("auto_forward_senders")
        except DataUnavailable as both:
            raise DataUnavailable(f"{both}; {exc}") from both  # neither control read
        if not senders.empty and (senders["allowed"] == "no").all():
            return tenant_row(PASS, "the outbound spam policy of every sender blocks automatic external forwarding "
                                    f"(remote domains not read: {exc})", HIGH)
        raise
    try:
        senders = data.table("auto_forward_senders")
    except DataUnavailable as exc:
        if destinations_open is False:
            return tenant_row(PASS, f"{where} (outbound spam policies not read: {exc})", HIGH)
        raise
    yes = senders[senders["allowed"] == "yes"]
    undecided = senders[senders["allowed"] == "unknown"]
    labels = data.user_labels()
    if not yes.empty:
        if len(yes) == len(senders):
            policies = ", ".join(f"'{p}'" for p in sorted(set(yes["policy"])))
            who = f"every sender ({len(senders)} mailboxes; outbound spam policy {policies} AutoForwardingMode On)"
        else:
            parts = []
            for policy, group in yes.groupby("policy", sort=True):
                names = sorted(label_users(group["user_id"], labels))
                parts.append(f"policy '{policy}' (On): {_shown(names)}")
            who = f"{len(yes)} of {len(senders)} senders — " + "; ".join(parts)
        if destinations_open:
            reasons = sorted(set(undecided["reason"].astype(str)))
            note = (f"; for {len(undecided)} more sender(s) it could not be decided: {'; '.join(reasons[:2])}"
                    if len(undecided) else "")
            return tenant_row(FAIL, f"automatic forwarding to outside addresses is open for {who}, {where}{note}")
        if destinations_open is None:
            return tenant_row(UNKNOWN, f"outbound spam policies allow automatic forwarding for {who}; {where}")
        return tenant_row(PASS, f"outbound spam policies allow automatic forwarding for {who}, but {where}", HIGH)
    if not undecided.empty and destinations_open is not False:
        why = sorted(set(undecided["reason"].astype(str)))
        return tenant_row(UNKNOWN, f"no sender is known to be allowed automatic external forwarding, but for "
                                   f"{len(undecided)} sender(s) it could not be decided: {'; '.join(why[:3])}")
    seen = sorted(set(senders["policy"].astype(str)) - {""})
    mode, _ = setting_or_none(data, "external_auto_forwarding")
    default = f" (Default: AutoForwardingMode {mode.capitalize()}; Automatic is Off)" if mode else ""
    if senders.empty:
        return tenant_row(PASS, "no mailbox to forward from was collected; outbound spam policies "
                                f"{', '.join(seen) or 'none'}")
    if not undecided.empty:  # destinations blocked: those senders' policy does not matter
        why = sorted(set(undecided["reason"].astype(str)))
        return tenant_row(PASS, f"{where}; the outbound spam policy of {len(undecided)} sender(s) could not be "
                                f"decided ({'; '.join(why[:2])}), every other sender's blocks it{default}")
    return tenant_row(PASS, "the outbound spam policy of every sender blocks automatic external forwarding"
                            f"{default}" + (f"; {where}" if destinations_open is False else ""))
