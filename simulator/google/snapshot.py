"""render_google_snapshot: the snapshot a complete, successful collection of the organisation would store.

Used by the demo and the benchmark when no network round trip is wanted; tests assert that a real collection
through the simulator stores exactly these objects.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS, GOOGLE_LOG_APPLICATIONS, LogWindow
from idaudit.core.sections import GOOGLE_USER_FIELDS as USER_FIELDS
from idaudit.core.sections import google_targeted_groups, section_spec
from idaudit.core.snapshot import SnapshotWriter
from simulator.email_zone import GOOGLE_DKIM_SELECTOR, email_zone, render_email_auth
from simulator.google.groups import derived_members
from simulator.google.ids import iso
from simulator.google.models import OuPolicy, build_google_tenant
from simulator.google.partial import apply_fields
from simulator.org import Organisation

_GMAIL = {"gmail.autoForwarding": "autoForwarding", "gmail.forwardingAddresses": "forwardingAddresses",
          "gmail.filters": "filters", "gmail.delegates": "delegates"}


def google_sending_domains(domains: list[dict[str, Any]]) -> list[str]:
    """Verified domains and verified aliases, as the connector looks them up."""
    out = [d["domainName"] for d in domains if d.get("verified")]
    out += [a["domainAliasName"] for d in domains for a in d.get("domainAliases") or [] if a.get("verified")]
    return out


def render_snapshot(org: Organisation, out_dir: str | Path, *, collected_at: datetime | None = None,
                    policies: tuple[OuPolicy, ...] | None = None, lookback_days: int = DEFAULT_LOOKBACK_DAYS,
                    log_window_end: datetime | None = None) -> Path:
    """The Reports activities of the takeover checks cover `lookback_days` up to `log_window_end` (default: the
    organisation's `as_of`, where its activity ends), as a collection with that window stores them."""
    t = build_google_tenant(org, policies=policies)
    window = LogWindow.ending(log_window_end or org.as_of, lookback_days)
    users = apply_fields({"users": sorted(t.users, key=lambda u: u["primaryEmail"])}, USER_FIELDS)["users"]
    writer = SnapshotWriter(out_dir, "google", t.customer_id, t.primary_domain, source="simulator",
                            collected_at=collected_at or org.as_of)

    def add(name: str, data: Any, window: tuple[datetime, datetime] | None = None) -> None:
        spec = section_spec("google", name)
        writer.add(name, data, request=spec.request if spec else "", window=window)

    add("users", users)
    add("domains", t.domains)
    add("dns.emailAuth", render_email_auth(email_zone(org, "google"), google_sending_domains(t.domains),
                                           source="domains", dkim_selectors=(GOOGLE_DKIM_SELECTOR,)))
    add("orgUnits", t.orgunits)
    add("roles", t.roles)
    add("roleAssignments", t.role_assignments)
    add("policies", t.policies)
    targeted = google_targeted_groups(t.policies, t.role_assignments)
    add("groups", {g: t.groups[g] for g in targeted if g in t.groups})
    add("groupMembers", {g: derived_members(t.group_members, g) for g in targeted if g in t.groups})
    add("reports.tokenAuthorize", t.activities_for("token"))
    start, end = iso(window.start), iso(window.end)
    for name, app in GOOGLE_LOG_APPLICATIONS.items():
        add(name, [a for a in t.activities_for(app) if start <= a["id"]["time"] <= end],
            window=(window.start, window.end))
    add("tokens", {u["id"]: t.tokens.get(u["id"], []) for u in users})
    active = [u for u in users if not u.get("suspended") and not u.get("archived")]
    for section, key in _GMAIL.items():
        per_user: dict[str, Any] = {}
        for u in active:
            settings = t.gmail.get(u["id"])
            per_user[u["id"]] = None if settings is None else settings[key]
        add(section, per_user)
    writer.finish(complete=True)
    return Path(out_dir)
