"""Microsoft's takeover logs -> sign_in_countries, sign_in_summary, change_events, risky_users, risk_detections.

What each source can show is said in docs/semantics.md ("Signs of takeover"); here the readings are:
  * a directory audit event is about the user in its targetResources (the account changed) and was done by
    initiatedBy (user, or app); its address is initiatedBy.user.ipAddress;
  * a Purview record is about the mailbox its parameters name (Mailbox / Identity, or the part of ObjectId before
    the rule name, or MailboxOwnerUPN), done by userId from clientIp (a ":port" suffix dropped);
  * the country of an event's address is the country Entra logged for a successful sign-in from that address in
    the window — the user's own first, anyone's otherwise — and empty when no sign-in came from it: never looked
    up elsewhere, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import pandas as pd

from idaudit.core.normalise.availability import built
from idaudit.core.normalise.ms_context import Tables, as_list, text

MFA_ADDED = {"user registered security info", "admin registered security info", "add fido2 security key",
             "add windows hello for business credential", "add passwordless phone sign-in credential",
             "add platform credential", "user registered all required security info"}
MFA_REMOVED = {"user deleted security info", "admin deleted security info", "delete fido2 security key(s)",
               "delete windows hello for business credential", "delete passwordless phone sign-in credential",
               "delete platform credential"}
PASSWORD = {"change user password", "reset password", "reset user password", "user started password reset",
            "reset password (self-service)", "change password (self-service)", "set force change user password"}
CONSENT = {"consent to application", "add delegated permission grant",
           "add app role assignment to service principal"}
APP_CREDENTIAL = {"add service principal credentials", "update application - certificates and secrets management",
                  "update application – certificates and secrets management"}
ROLE_ADDED = {"add member to role", "add eligible member to role", "add scoped member to role",
              "add member to role completed (pim activation)"}
FORWARDING_PARAMETERS = {"forwardingsmtpaddress", "forwardingaddress", "delivertomailboxandforward"}
_SCOPE = re.compile(r"Scope:\s*([^,\]]*)")
_PORT = re.compile(r"^(\d{1,3}(?:\.\d{1,3}){3}):\d+$|^\[([0-9a-fA-F:]+)\]:\d+$")


def _as_obj(value: Any) -> dict[str, Any]:
    """A JSON object, or {} for anything else (a malformed export must not crash the reader)."""
    return value if isinstance(value, dict) else {}


def bare_ip(value: Any) -> str:
    """An address as logged, without a ':port' suffix (Exchange logs 'a.b.c.d:port' and '[v6]:port')."""
    ip = text(value).strip()
    m = _PORT.match(ip)
    return (m.group(1) or m.group(2)) if m else ip


def _directory_kind(activity: str) -> str:
    a = activity.strip().casefold()
    for kind, names in (("mfa_added", MFA_ADDED), ("mfa_removed", MFA_REMOVED), ("password_change", PASSWORD),
                        ("consent", CONSENT), ("app_credential", APP_CREDENTIAL), ("role_added", ROLE_ADDED)):
        if a in names:
            return kind
    return ""


def _modified(target: dict[str, Any], name: str) -> str:
    for m in as_list(target.get("modifiedProperties")):
        if isinstance(m, dict) and text(m.get("displayName")).casefold() == name.casefold():
            return text(m.get("newValue")).strip().strip('"')
    return ""


class _Users:
    """Principal -> user id, for logs that name people by UPN."""

    def __init__(self, t: Tables) -> None:
        self.by_upn: dict[str, str] = {}
        for u in t.users:
            uid = text(u.get("id"))
            for key in ("userPrincipalName", "mail"):
                v = text(u.get(key)).casefold()
                if v and uid:
                    self.by_upn.setdefault(v, uid)

    def id_of(self, principal: str) -> str:
        return self.by_upn.get(principal.strip().casefold(), "")


def _directory_events(raw: Iterable[Any], users: _Users) -> list[dict[str, Any]]:
    rows = []
    for e in raw:
        if not isinstance(e, dict) or text(e.get("result")).casefold() not in ("success", ""):
            continue
        activity = text(e.get("activityDisplayName"))
        kind = _directory_kind(activity)
        if not kind:
            continue
        initiated = _as_obj(e.get("initiatedBy"))
        by_user = _as_obj(initiated.get("user"))
        by_app = _as_obj(initiated.get("app"))
        actor_id = text(by_user.get("id"))
        actor = text(by_user.get("userPrincipalName")) or text(by_user.get("displayName")) \
            or text(by_app.get("displayName")) or text(by_app.get("appId"))
        targets = [t for t in as_list(e.get("targetResources")) if isinstance(t, dict)]
        user_target = next((t for t in targets if text(t.get("type")).casefold() == "user"), None)
        other = next((t for t in targets if t is not user_target), None)
        user_id = text(user_target.get("id")) if user_target else ""
        obj, detail = "", text(e.get("resultReason"))
        if kind == "consent":
            sp = other or {}
            obj = text(sp.get("displayName"))
            perms = _modified(sp, "ConsentAction.Permissions")
            scopes = " ".join(s.strip() for s in _SCOPE.findall(perms) if s.strip())
            admin = _modified(sp, "ConsentContext.IsAdminConsent").casefold() == "true"
            everyone = _modified(sp, "ConsentContext.OnBehalfOfAll").casefold() == "true"
            detail = f"scopes: {scopes or 'not logged'}" + ("; admin consent" if admin else "") \
                + ("; on behalf of all users" if everyone else "")
            user_id = "" if everyone else (user_id or actor_id)
        elif kind == "role_added" and user_target:
            obj = _modified(user_target, "Role.DisplayName")
        elif kind == "app_credential":
            obj = text((other or user_target or {}).get("displayName"))
            user_id = ""
        elif kind in ("mfa_added", "mfa_removed"):
            obj = detail.removeprefix("User registered ").removeprefix("User deleted ")
        rows.append({"event_id": text(e.get("id")), "time": text(e.get("activityDateTime")), "user_id": user_id,
                     "actor_id": actor_id or users.id_of(actor), "actor": actor, "kind": kind,
                     "operation": activity, "object": obj, "detail": detail, "ip": bare_ip(by_user.get("ipAddress")),
                     "source": "directoryAudits"})
    return rows


def _parameters(data: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for p in as_list(data.get("Parameters")) + as_list(data.get("OperationProperties")):
        if isinstance(p, dict) and text(p.get("Name")):
            out[text(p.get("Name")).casefold()] = text(p.get("Value"))
    return out


def _purview_events(raw: Iterable[Any], users: _Users) -> list[dict[str, Any]]:
    rows = []
    for r in raw:
        if not isinstance(r, dict):
            continue
        data = _as_obj(r.get("auditData"))
        # the published schema puts the record's own fields under auditData.dynamicProperties (an open
        # dictionary); records seen in the wild carry them on auditData itself: read both
        data = {**data, **_as_obj(data.get("dynamicProperties"))}
        op = text(r.get("operation") or data.get("Operation"))
        params = _parameters(data)
        actor = text(r.get("userPrincipalName") or r.get("userId") or data.get("UserId"))
        object_id = text(r.get("objectId") or data.get("ObjectId"))
        mailbox = params.get("mailbox") or params.get("identity") or text(data.get("MailboxOwnerUPN")) \
            or (object_id.split("\\")[0] if "\\" in object_id else "") or actor
        lop = op.casefold()
        if lop in ("new-inboxrule", "set-inboxrule", "updateinboxrules"):
            kind = "inbox_rule"
            obj = params.get("name") or params.get("rulename") or (object_id.split("\\", 1)[1]
                                                                    if "\\" in object_id else "")
            shown = [f"{k}={v}" for k, v in params.items() if k not in ("mailbox", "name", "identity", "rulename")]
            detail = "; ".join(shown)
        elif lop == "set-mailbox":
            fwd = {k: v for k, v in params.items() if k in FORWARDING_PARAMETERS}
            kind = "mailbox_forwarding" if fwd else "mailbox_change"
            obj = params.get("forwardingsmtpaddress", params.get("forwardingaddress", "")).removeprefix("smtp:")
            detail = "; ".join(f"{k}={v}" for k, v in fwd.items())
        elif lop == "add-mailboxpermission":
            kind, obj = "mailbox_permission", params.get("user", "")
            detail = f"access rights: {params.get('accessrights', 'not logged')}"
        else:
            continue
        rows.append({"event_id": text(r.get("id")), "time": text(r.get("createdDateTime") or data.get("CreationTime")),
                     "user_id": users.id_of(mailbox), "actor_id": users.id_of(actor), "actor": actor, "kind": kind,
                     "operation": op, "object": obj, "detail": detail,
                     "ip": bare_ip(r.get("clientIp") or data.get("ClientIP")), "source": "exchangeAuditRecords"})
    return rows


def sign_in_tables(t: Tables) -> dict[tuple[str, str], str]:
    """sign_in_countries and sign_in_summary from the aggregates; returns (user, ip) -> country and ('', ip)."""
    raw = t.per_user("signIns")
    if raw is None:
        t.missing("sign_in_countries", "signIns")
        t.missing("sign_in_summary", "signIns")
        return {}
    countries, summary = [], []
    where: dict[tuple[str, str], str] = {}
    for uid, agg in raw.items():
        if not isinstance(agg, dict):
            continue
        seen = []
        for country, c in (agg.get("countries") or {}).items():
            if not isinstance(c, dict):
                continue
            ips = [text(i) for i in as_list(c.get("ips"))]
            for ip in ips:
                where.setdefault((uid, ip), country)
                where.setdefault(("", ip), country)
            seen.append(country)
            countries.append({"user_id": uid, "country": text(country), "first_seen": c.get("first"),
                              "last_seen": c.get("last"), "sign_ins": c.get("count"),
                              "first_ip": text(c.get("firstIp")), "ips": "; ".join(ips)})
        legacy = _as_obj(agg.get("legacy"))
        single = _as_obj(agg.get("singleFactor"))
        summary.append({"user_id": uid, "sign_ins": agg.get("signIns"), "countries": "; ".join(sorted(seen)),
                        "legacy_successes": legacy.get("count", 0), "legacy_clients": "; ".join(
                            text(c) for c in as_list(legacy.get("clients"))),
                        "legacy_last": legacy.get("last"), "legacy_last_ip": text(legacy.get("lastIp")),
                        "single_factor_successes": single.get("count", 0), "single_factor_last": single.get("last"),
                        "single_factor_last_ip": text(single.get("lastIp"))})
    t.put("sign_in_countries", countries, built(("signIns",)))
    t.put("sign_in_summary", summary, built(("signIns",)))
    return where


def change_events_table(t: Tables, where: dict[tuple[str, str], str]) -> None:
    users = _Users(t)
    audits, purview = t.data("directoryAudits"), t.data("exchangeAuditRecords")
    if not isinstance(audits, list) and not isinstance(purview, list):
        t.missing("change_events", "directoryAudits", "exchangeAuditRecords")
        return
    rows = (_directory_events(audits, users) if isinstance(audits, list) else []) \
        + (_purview_events(purview, users) if isinstance(purview, list) else [])
    for r in rows:
        r["country"] = where.get((r["user_id"], r["ip"])) or where.get((r["actor_id"], r["ip"])) \
            or where.get(("", r["ip"]), "")
    gaps = [t.why(n) for n in ("directoryAudits", "exchangeAuditRecords") if not t.usable(n)]
    t.put("change_events", rows, built(("directoryAudits", "exchangeAuditRecords"), gaps=gaps))


def risk_tables(t: Tables) -> None:
    risky = t.data("riskyUsers")
    if isinstance(risky, list):
        t.put("risky_users", [{"user_id": text(r.get("id")), "risk_level": text(r.get("riskLevel")),
                               "risk_state": text(r.get("riskState")), "risk_detail": text(r.get("riskDetail")),
                               "updated": r.get("riskLastUpdatedDateTime")}
                              for r in risky if isinstance(r, dict) and not r.get("isDeleted")],
              built(("riskyUsers",)))
    else:
        t.missing("risky_users", "riskyUsers")
    dets = t.data("riskDetections")
    if isinstance(dets, list):
        rows = []
        for d in dets:
            if not isinstance(d, dict):
                continue
            loc = _as_obj(d.get("location"))
            rows.append({"user_id": text(d.get("userId")), "time": d.get("activityDateTime"),
                         "event_type": text(d.get("riskEventType")), "level": text(d.get("riskLevel")),
                         "state": text(d.get("riskState")), "ip": bare_ip(d.get("ipAddress")),
                         "country": text(loc.get("countryOrRegion"))})
        t.put("risk_detections", rows, built(("riskDetections",)))
    else:
        t.missing("risk_detections", "riskDetections")


def log_window(t: Tables) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    for name in ("signIns", "directoryAudits", "exchangeAuditRecords", "riskDetections"):
        rec = t.snap.section(name)
        if rec is not None and rec.usable and rec.window is not None:
            return pd.Timestamp(rec.window[0]).tz_convert("UTC"), pd.Timestamp(rec.window[1]).tz_convert("UTC")
    return None


def log_tables(t: Tables) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    where = sign_in_tables(t)
    change_events_table(t, where)
    risk_tables(t)
    return log_window(t)
