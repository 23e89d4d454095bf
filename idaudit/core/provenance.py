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
    """The newest matching events (at most 3): operation and object, actor, time, address and country."""
    parts = []
    for r in ev.sort_values("time", ascending=False, kind="stable").head(MAX_EVENTS).itertuples(index=False):
        actor = str(r.actor) or str(r.actor_id) or "an actor not logged"
        place = f"{str(r.ip) or 'an address not logged'} ({str(r.country) or 'country not in the sign-in log'})"
        what = f"{r.operation} '{r.object}'" if str(r.object) else str(r.operation)
        parts.append(f"{what} by {actor} on {_when(r.time)} from {place}")
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


class Explainer:
    """Answers "how did this get there" for one provenance kind, from events indexed once (a 20,000-user tenant's
    sheets ask once per row). Keys: a mail rule by (user id, rule name), mailbox forwarding and a role by user id
    (a role also by its name when given), a consent by app name; names compare case-insensitively."""

    def __init__(self, kind: str, data: AuditData) -> None:
        self.kind = kind
        self.absent = _absent(data, kind) if kind in KINDS else ""
        ev_all = data.tables.get("change_events")
        self._by: dict[tuple[str, ...], list[int]] = {}
        self._ev = pd.DataFrame()
        if kind in KINDS and ev_all is not None and not ev_all.empty:
            ev = ev_all[ev_all["kind"].isin(KINDS[kind][0])].reset_index(drop=True)
            self._ev = ev
            for i, (uid, obj) in enumerate(zip(ev["user_id"].astype(str), ev["object"].astype(str), strict=True)):
                for key in self._keys(uid, obj.casefold()):
                    self._by.setdefault(key, []).append(i)

    def _keys(self, uid: str, obj: str) -> list[tuple[str, ...]]:
        if self.kind == "mail_rule":
            return [(uid, obj)]
        if self.kind == "consent":
            return [(obj,)]
        if self.kind == "role":
            return [(uid,), (uid, obj)]
        return [(uid,)]

    def _text(self, key: tuple[str, ...]) -> str:
        rows = self._by.get(key)
        return describe(self._ev.iloc[rows]) if rows else self.absent

    def rule(self, user_id: str, rule_name: str) -> str:
        return self._text((user_id, rule_name.casefold())) if rule_name else self.absent

    def user(self, user_id: str, name: str = "") -> str:
        """Mailbox forwarding or a role of the user (the role by its name when `name` is given)."""
        return self._text((user_id, name.casefold()) if name else (user_id,))

    def app(self, app_name: str) -> str:
        return self._text((app_name.casefold(),)) if app_name else self.absent


def annotate(kind: str, data: AuditData, out: pd.DataFrame) -> pd.Series:
    """The 'how it got there' text for each row of a check's result (empty for passes and tenant rows)."""
    texts = [""] * len(out)
    if kind not in KINDS or out.empty:
        return pd.Series(texts, index=out.index, dtype="str")
    ex = Explainer(kind, data)
    rule_name, app_name = _rule_name(data), _app_name(data)
    owners = out["owner_id"].astype(str).tolist() if "owner_id" in out.columns else [""] * len(out)
    for pos, (status, sid, owner) in enumerate(zip(out["status"].astype(str), out["subject_id"].astype(str),
                                                   owners, strict=True)):
        if status not in ANNOTATED_STATUSES or sid in ("tenant", "*", ""):
            continue
        owner = "" if owner in ("nan", "None", "<NA>") else owner
        if kind == "mail_rule":
            uid, _, rid = sid.partition(":")
            texts[pos] = ex.rule(uid, rule_name(uid, rid))
        elif kind == "consent":
            texts[pos] = ex.app(app_name(sid))
        else:  # mailbox_forwarding, role: the user the finding is about
            texts[pos] = ex.user(owner or sid)
    return pd.Series(texts, index=out.index, dtype="str")
