"""Google's takeover logs (Reports API activities of the window) -> sign_in_countries, change_events.

What each Reports application can show is said in docs/semantics.md ("Signs of takeover"); the readings here:
  * login: `login_success` is a successful sign-in of the actor (`actor.profileId`), from `ipAddress`, in the
    country Google derives from it (`networkInfo.regionCode`); one with `is_suspicious` true is a successful
    sign-in Google rates suspicious. `suspicious_login`, `suspicious_login_less_secure_app` and
    `suspicious_programmatic_login` are account warnings about the account in `affected_email_address` (the actor
    may be Google itself) — an attempt Google flagged, possibly blocked;
  * user_accounts (and the same names in login): `2sv_enroll` / `2sv_disable`, `recovery_email_edit` /
    `recovery_phone_edit` / `recovery_secret_qa_edit`, `password_edit`, and `email_forwarding_out_of_domain`
    (`email_forwarding_destination_address`), each done by the actor to their own account;
  * admin: `ASSIGN_ROLE` grants `ROLE_NAME` to `USER_EMAIL`, done by the actor;
  * token: an `authorize` event inside the window is a consent by the actor to `app_name` for `scope`.
No Reports application records a user creating a Gmail filter: rules have no change event on Google.
The country of an event is Google's own `networkInfo.regionCode`; when absent, the country of a successful sign-in
from the same address in the window; otherwise empty — never looked up elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from idaudit.core.normalise.availability import built, missing, usable
from idaudit.core.snapshot import Snapshot
from idaudit.core.tables import TableStatus

MAX_IPS = 10
ACCOUNT_EVENTS: dict[str, str] = {
    "2sv_enroll": "mfa_added", "2sv_disable": "mfa_removed", "recovery_email_edit": "recovery_changed",
    "recovery_phone_edit": "recovery_changed", "recovery_secret_qa_edit": "recovery_changed",
    "password_edit": "password_change", "email_forwarding_out_of_domain": "mailbox_forwarding",
}
WARNINGS = frozenset({"suspicious_login", "suspicious_login_less_secure_app", "suspicious_programmatic_login"})
CHANGE_SECTIONS = ("reports.userAccounts", "reports.login", "reports.admin", "reports.tokenAuthorize")
WINDOWED = ("reports.login", "reports.userAccounts", "reports.admin")


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _seq(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _params(event: Mapping[str, Any]) -> dict[str, Any]:
    """name -> value (value, boolValue, intValue or multiValue, whichever is there)."""
    out: dict[str, Any] = {}
    for p in _seq(event.get("parameters")):
        if not isinstance(p, dict) or not p.get("name"):
            continue
        for key in ("value", "boolValue", "intValue", "multiValue"):
            if key in p:
                out[str(p["name"])] = p[key]
                break
    return out


@dataclass(frozen=True)
class _Act:
    """One activity, flattened to what the tables need."""

    time: str
    actor_id: str
    actor: str
    ip: str
    country: str
    events: tuple[dict[str, Any], ...]
    source: str


def _activities(raw: Any, source: str) -> list[_Act]:
    out = []
    for a in _seq(raw):
        if not isinstance(a, dict):
            continue
        actor = _obj(a.get("actor"))
        out.append(_Act(_text(_obj(a.get("id")).get("time")), _text(actor.get("profileId")),
                        _text(actor.get("email") or actor.get("key")), _text(a.get("ipAddress")),
                        _text(_obj(a.get("networkInfo")).get("regionCode")),
                        tuple(e for e in _seq(a.get("events")) if isinstance(e, dict)), source))
    return out


class GoogleLogs:
    """Builds the takeover tables from a Google snapshot; `users` are the Directory users of the snapshot."""

    def __init__(self, snap: Snapshot, users: Iterable[Mapping[str, Any]]) -> None:
        self.snap = snap
        self.by_email: dict[str, str] = {}
        self.ids: set[str] = set()
        for u in users:
            uid = _text(u.get("id"))
            self.ids.add(uid)
            for address in [u.get("primaryEmail"), *_seq(u.get("aliases"))]:
                if address:
                    self.by_email[_text(address).casefold()] = uid
        self.where: dict[tuple[str, str], str] = {}
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.status: dict[str, TableStatus] = {}

    def _data(self, name: str) -> Any:
        return self.snap.data(name) if usable(self.snap, name) else None

    def _user(self, profile_id: str, email: str = "") -> str:
        if profile_id in self.ids:
            return profile_id
        return self.by_email.get(email.casefold(), profile_id)

    def window(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        for name in WINDOWED:
            rec = self.snap.section(name)
            if rec is not None and rec.usable and rec.window is not None:
                return pd.Timestamp(rec.window[0]).tz_convert("UTC"), pd.Timestamp(rec.window[1]).tz_convert("UTC")
        return None

    # ---- sign-ins ----------------------------------------------------------------------------------------
    def sign_ins(self) -> None:
        raw = self._data("reports.login")
        if raw is None:
            self.status["sign_in_countries"] = missing(self.snap, "reports.login")
            return
        per: dict[tuple[str, str], dict[str, Any]] = {}
        for a in sorted(_activities(raw, "reports.login"), key=lambda a: a.time):
            if not any(e.get("name") == "login_success" for e in a.events):
                continue
            uid = self._user(a.actor_id, a.actor)
            self.where.setdefault((uid, a.ip), a.country)
            self.where.setdefault(("", a.ip), a.country)
            row = per.setdefault((uid, a.country), {"user_id": uid, "country": a.country, "first_seen": a.time,
                                                    "last_seen": a.time, "sign_ins": 0, "first_ip": a.ip,
                                                    "_ips": []})
            row["sign_ins"] += 1
            row["last_seen"] = a.time
            if a.ip and a.ip not in row["_ips"] and len(row["_ips"]) < MAX_IPS:
                row["_ips"].append(a.ip)
        rows = [{**{k: v for k, v in r.items() if k != "_ips"}, "ips": "; ".join(r["_ips"])} for r in per.values()]
        self.tables["sign_in_countries"] = rows
        self.status["sign_in_countries"] = built(("reports.login",))

    # ---- changes -----------------------------------------------------------------------------------------
    def changes(self, window: tuple[pd.Timestamp, pd.Timestamp] | None) -> None:
        if not any(usable(self.snap, n) for n in CHANGE_SECTIONS):
            self.status["change_events"] = missing(self.snap, *CHANGE_SECTIONS)
            return
        rows: list[dict[str, Any]] = []
        for name in ("reports.userAccounts", "reports.login"):
            for a in _activities(self._data(name), name):
                rows += self._account_rows(a)
        for a in _activities(self._data("reports.admin"), "reports.admin"):
            rows += self._admin_rows(a)
        if window is not None:  # the token log reaches back six months: only the window's consents are changes
            lo, hi = window
            for a in _activities(self._data("reports.tokenAuthorize"), "reports.tokenAuthorize"):
                t = pd.Timestamp(a.time) if a.time else pd.NaT
                if not pd.isna(t) and lo <= t <= hi:
                    rows += self._consent_rows(a)
        for r in rows:
            if not r["country"]:
                r["country"] = self.where.get((r["user_id"], r["ip"])) or self.where.get((r["actor_id"], r["ip"])) \
                    or self.where.get(("", r["ip"]), "")
        gaps = [r for r in (self._why(n) for n in CHANGE_SECTIONS) if r]
        if window is None and usable(self.snap, "reports.tokenAuthorize"):
            gaps.append("reports.tokenAuthorize: consents not placed in a window (no windowed Reports section was "
                        "collected)")
        self.tables["change_events"] = rows
        self.status["change_events"] = built(CHANGE_SECTIONS, gaps=gaps)

    def _why(self, name: str) -> str:
        if usable(self.snap, name):
            return ""
        return missing(self.snap, name).reason

    @staticmethod
    def _row(a: _Act, user_id: str, kind: str, operation: str, obj: str = "", detail: str = "",
             uid_actor: str = "") -> dict[str, Any]:
        qualifier = f"{a.source}:{a.time}:{a.actor_id}:{operation}:{obj}"
        return {"event_id": qualifier, "time": a.time or None, "user_id": user_id, "actor_id": uid_actor,
                "actor": a.actor, "kind": kind, "operation": operation, "object": obj, "detail": detail,
                "ip": a.ip, "country": a.country, "source": a.source}

    def _account_rows(self, a: _Act) -> list[dict[str, Any]]:
        out = []
        actor_uid = self._user(a.actor_id, a.actor)
        for e in a.events:
            name = _text(e.get("name"))
            params = _params(e)
            if name in ACCOUNT_EVENTS:
                obj = _text(params.get("email_forwarding_destination_address")) \
                    if name == "email_forwarding_out_of_domain" else ""
                out.append(self._row(a, actor_uid, ACCOUNT_EVENTS[name], name, obj, uid_actor=actor_uid))
            elif name == "login_success" and params.get("is_suspicious") is True:
                out.append(self._row(a, actor_uid, "suspicious_login", "login_success (rated suspicious)",
                                     detail="a successful sign-in Google rates suspicious", uid_actor=actor_uid))
            elif name in WARNINGS:
                affected = _text(params.get("affected_email_address"))
                uid = self.by_email.get(affected.casefold(), "") if affected else actor_uid
                out.append(self._row(a, uid, "suspicious_login", name,
                                     detail="Google's warning; the attempt may have been blocked",
                                     uid_actor=self._user(a.actor_id, a.actor) if a.actor_id else ""))
        return out

    def _admin_rows(self, a: _Act) -> list[dict[str, Any]]:
        out = []
        actor_uid = self._user(a.actor_id, a.actor)
        for e in a.events:
            if _text(e.get("name")) != "ASSIGN_ROLE":
                continue
            params = _params(e)
            target = _text(params.get("USER_EMAIL"))
            out.append(self._row(a, self.by_email.get(target.casefold(), ""), "role_added", "ASSIGN_ROLE",
                                 _text(params.get("ROLE_NAME")), detail=f"to {target}" if target else "",
                                 uid_actor=actor_uid))
        return out

    def _consent_rows(self, a: _Act) -> list[dict[str, Any]]:
        out = []
        actor_uid = self._user(a.actor_id, a.actor)
        for e in a.events:
            if _text(e.get("name")) != "authorize":
                continue
            params = _params(e)
            scopes = " ".join(_text(s) for s in _seq(params.get("scope")))
            out.append(self._row(a, actor_uid, "consent", "authorize", _text(params.get("app_name")),
                                 detail=f"scopes: {scopes or 'not logged'}", uid_actor=actor_uid))
        return out
