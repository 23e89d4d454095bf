"""How it got there: the logged change behind a forwarding rule, a consent or a privileged role — or why none is
shown. The engine adds this column to the findings of checks whose metadata names a `provenance` kind.

Never guessed: a finding gains an event only when the log holds one that matches it (same user and rule name,
same mailbox, same app name, same user and role). Otherwise it says "not in the log window (start to end)" when
the log that would hold it was read, or "log not collected: <why>" when it was not — the two are different
statements, and neither is "nobody changed it".
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from idaudit.core.tables import AuditData

# provenance kind -> (change_events kinds that explain it, the log sections that would hold them, per provider)
KINDS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "mail_rule": (("inbox_rule",), {"microsoft": ("exchangeAuditRecords",), "google": ()}),
    "mailbox_forwarding": (("mailbox_forwarding",), {"microsoft": ("exchangeAuditRecords",), "google": ()}),
    "consent": (("consent",), {"microsoft": ("directoryAudits",), "google": ("reports.tokenAuthorize",)}),
    "role": (("role_added",), {"microsoft": ("directoryAudits",), "google": ("reports.admin",)}),
}
NOT_LOGGED_BY_GOOGLE = "not in Google's logs: they do not record a user creating a Gmail filter or forwarding"
MAX_EVENTS = 3
ANNOTATED_STATUSES = frozenset({"fail", "unknown", "waived"})


def _when(ts: object) -> str:
    t = pd.Timestamp(ts)  # type: ignore[arg-type]
    return "time not logged" if pd.isna(t) else t.strftime("%Y-%m-%d %H:%M UTC")


def describe(ev: pd.DataFrame) -> str:
    """The newest matching events (at most 3): operation, actor, time, address and country."""
    parts = []
    for r in ev.sort_values("time", ascending=False, kind="stable").head(MAX_EVENTS).itertuples(index=False):
        actor = str(r.actor) or str(r.actor_id) or "an actor not logged"
        place = f"{str(r.ip) or 'an address not logged'} ({str(r.country) or 'country not in the sign-in log'})"
        parts.append(f"{r.operation} by {actor} on {_when(r.time)} from {place}")
    more = len(ev) - MAX_EVENTS
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _absent(data: AuditData, kind: str) -> str:
    """What to say when no event matches: outside the window, or the log was not read (and why)."""
    sections = KINDS[kind][1].get(data.provider, ())
    if data.provider == "google" and kind in ("mail_rule", "mailbox_forwarding"):
        return NOT_LOGGED_BY_GOOGLE
    manifest = data.manifest
    for name in sections:
        rec = manifest.sections.get(name) if manifest is not None else None
        if rec is None or not rec.usable:
            why = (rec.detail or rec.status.value) if rec is not None else "not in the snapshot"
            return f"log not collected: {name} {why}"
    if not data.available("change_events"):
        return f"log not collected: {data.status['change_events'].reason if 'change_events' in data.status else ''}"
    if data.log_window is None:
        return "not in the log window"
    start, end = data.log_window
    return f"not in the log window ({start:%Y-%m-%d} to {end:%Y-%m-%d})"


def _rule_name(data: AuditData) -> Callable[[str, str], str]:
    rules = data.tables.get("mail_rules")
    names: dict[tuple[str, str], str] = {}
    if rules is not None and not rules.empty:
        names = dict(zip(zip(rules["user_id"], rules["rule_id"], strict=True), rules["rule_name"], strict=True))
    return lambda uid, rid: names.get((uid, rid), "")


def _app_name(data: AuditData) -> Callable[[str], str]:
    grants = data.tables.get("oauth_grants")
    names: dict[str, str] = {}
    if grants is not None and not grants.empty:
        names = dict(zip(grants["app_id"], grants["app_name"], strict=False))
    return lambda app_id: names.get(app_id, "")


def annotate(kind: str, data: AuditData, out: pd.DataFrame) -> pd.Series:
    """The 'how it got there' text for each row of a check's result (empty for passes and tenant rows)."""
    texts = [""] * len(out)
    if kind not in KINDS or out.empty:
        return pd.Series(texts, index=out.index, dtype="str")
    ev_all = data.tables.get("change_events")
    ev = ev_all[ev_all["kind"].isin(KINDS[kind][0])] if ev_all is not None else None
    absent = _absent(data, kind)
    rule_name, app_name = _rule_name(data), _app_name(data)
    for pos, (_, row) in enumerate(out.iterrows()):
        if str(row["status"]) not in ANNOTATED_STATUSES or str(row["subject_id"]) in ("tenant", "*", ""):
            continue
        sid, owner = str(row["subject_id"]), str(row.get("owner_id", ""))
        hit = None
        if ev is not None and not ev.empty:
            if kind == "mail_rule":
                uid, _, rid = sid.partition(":")
                name = rule_name(uid, rid).casefold()
                hit = ev[(ev["user_id"] == uid) & (ev["object"].str.casefold() == name)] if name else None
            elif kind == "mailbox_forwarding":
                hit = ev[ev["user_id"] == (owner or sid)]
            elif kind == "consent":
                name = app_name(sid).casefold()
                hit = ev[ev["object"].str.casefold() == name] if name else None
            elif kind == "role":
                hit = ev[ev["user_id"] == (owner or sid)]
        texts[pos] = describe(hit) if hit is not None and not hit.empty else absent
    return pd.Series(texts, index=out.index, dtype="str")
