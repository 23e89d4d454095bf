"""Microsoft users and MFA registration -> `users`, `mfa_registration`, `mfa_methods`.

- Last sign-in: `signInActivity.lastSuccessfulSignInDateTime` whenever Graph returns the field (null: no success
  since 2023-12-01); the attempt fields only for an export without it, marked as such in `sign_in_source` (see
  `sign_in`). Without Entra ID P1 the whole field is absent: `sign_in_known` False.
- Mailbox: `mailboxSettings.userPurpose`, else Exchange `RecipientTypeDetails`, else 'unknown'; a user stored as
  `null` in a mailbox section (Graph 404 MailboxNotEnabledForRESTAPI) has no mailbox: 'none'.
- Registration: `userRegistrationDetails` (P1) — `isMfaRegistered` decides `registered`; without it, the per-user
  `authentication/methods` list (phone methods: mobile / alternateMobile -> sms, office -> voice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from idaudit.core.methods import (
    METHOD_STRENGTH,
    MICROSOFT_METHOD_TYPES,
    MICROSOFT_REGISTERED,
    MICROSOFT_SECOND_FACTORS,
    MICROSOFT_SINGLE_FACTOR,
    STRENGTH_ORDER,
)
from idaudit.core.normalise.availability import built, failed_subjects
from idaudit.core.normalise.ms_context import Tables, as_list, text

PURPOSE = {"user": "user", "shared": "shared", "room": "room", "equipment": "equipment", "linked": "user"}
RECIPIENT_TYPE = {"usermailbox": "user", "sharedmailbox": "shared", "roommailbox": "room",
                  "equipmentmailbox": "equipment", "linkedmailbox": "user", "teammailbox": "shared",
                  "schedulingmailbox": "room"}
UNKNOWN_STRENGTH = "unknown"


SUCCESS_FIELD = "lastSuccessfulSignInDateTime"
ATTEMPT_FIELDS = ("lastSignInDateTime", "lastNonInteractiveSignInDateTime")


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SignIn:
    """What signInActivity proves: the last success (or, without that field, the last attempt) and its field."""

    last: str | None = None
    source: str = ""
    attempt: str | None = None  # newest interactive or non-interactive attempt, successful or not


def sign_in(user: dict[str, Any]) -> SignIn:
    """Graph's signInActivity -> the time that decides staleness, and which field it came from.

    lastSignInDateTime and lastNonInteractiveSignInDateTime record attempts, failed ones included, so a
    password-sprayed dormant account looks active there. lastSuccessfulSignInDateTime (interactive or not,
    recorded since 2023-12-01, not backfilled) is the documented measure of real use: when the field is present
    it decides, and null means no success since it was introduced. Only an export without the field falls back
    to the newest attempt, and says so (the check then cannot call a recent attempt activity)."""
    act = user.get("signInActivity")
    if not isinstance(act, dict):
        return SignIn()
    attempts = [(when, name) for name in ATTEMPT_FIELDS if (when := _when(act.get(name))) is not None]
    newest = max(attempts, default=None)
    attempt = text(act.get(newest[1])) if newest else None
    if SUCCESS_FIELD in act:
        success = act.get(SUCCESS_FIELD)
        return SignIn(text(success) if _when(success) else None, SUCCESS_FIELD, attempt)
    if newest is None:
        return SignIn(None, "", None)
    return SignIn(attempt, newest[1], attempt)


def _mailbox_kinds(t: Tables) -> dict[str, str]:
    """user id -> user | shared | room | equipment | none, from whichever mail section says so."""
    out: dict[str, str] = {}
    exchange = t.data("exchange.mailboxes")
    if isinstance(exchange, list):
        for mb in exchange:
            if isinstance(mb, dict) and mb.get("ExternalDirectoryObjectId"):
                kind = RECIPIENT_TYPE.get(text(mb.get("RecipientTypeDetails")).casefold())
                if kind:
                    out[text(mb["ExternalDirectoryObjectId"])] = kind
        exchange_failed = False
    else:
        exchange_failed = True
    rules = t.per_user("inboxRules") or {}
    settings = t.per_user("mailboxSettings") or {}
    for uid in t.user_ids:
        if uid in settings:
            value = settings[uid]
            if value is None:
                out[uid] = "none"
                continue
            purpose = PURPOSE.get(text(value.get("userPurpose") if isinstance(value, dict) else "").casefold())
            if purpose:
                out[uid] = purpose
                continue
        if uid in rules and rules[uid] is None:
            out[uid] = "none"
        elif uid not in out and not exchange_failed:
            out[uid] = "none"  # Get-Mailbox lists every Exchange Online mailbox: this user has none
    return out


def users_table(t: Tables) -> None:
    if not t.users_ok:
        t.missing("users", "users")
        return
    sign_in_known = t.usable("signInActivity")
    mailboxes = _mailbox_kinds(t)
    rows = []
    for u in t.users:
        uid = text(u.get("id"))
        kind = text(u.get("userType")).casefold()
        activity = sign_in(u) if sign_in_known else SignIn()
        rows.append({
            "user_id": uid, "principal": u.get("userPrincipalName"), "display_name": u.get("displayName"),
            "mail": u.get("mail"), "enabled": u.get("accountEnabled") if "accountEnabled" in u else None,
            "user_type": kind if kind in ("member", "guest") else "",
            "created_at": u.get("createdDateTime"),
            "last_sign_in": activity.last,
            "sign_in_source": activity.source, "last_sign_in_attempt": activity.attempt,
            # null means never signed in; a missing key (an export without the field) means not known
            "sign_in_known": sign_in_known and "signInActivity" in u,
            "on_premises_synced": bool(u.get("onPremisesSyncEnabled")) if "onPremisesSyncEnabled" in u else None,
            "licensed": bool(as_list(u.get("assignedLicenses"))) if "assignedLicenses" in u else None,
            "mailbox": mailboxes.get(uid, "unknown"), "org_unit": "",
        })
    t.put("users", rows, built(("users", "signInActivity")))


def _strongest(methods: list[str]) -> str:
    best, unknown = "none", False
    for m in methods:
        s = METHOD_STRENGTH.get(m)
        if s is None:
            unknown = True
        elif STRENGTH_ORDER[s] > STRENGTH_ORDER[best]:
            best = s
    # An unrecognised method might be stronger than what we recognised: do not call the user weak-only.
    return UNKNOWN_STRENGTH if unknown and best in ("none", "weak") else best


def _from_registration_details(t: Tables, raw: list[Any]) -> dict[str, bool | None]:
    reg_rows: list[dict[str, Any]] = []
    method_rows: list[dict[str, Any]] = []
    registered: dict[str, bool | None] = {}
    for r in raw:
        if not isinstance(r, dict) or not r.get("id"):
            continue
        uid = text(r["id"])
        methods: list[str] = []
        for name in as_list(r.get("methodsRegistered")):
            mapped = MICROSOFT_REGISTERED.get(text(name), text(name))
            if mapped and mapped not in methods:
                methods.append(mapped)
        is_reg = r.get("isMfaRegistered")
        registered[uid] = is_reg if isinstance(is_reg, bool) else None
        reg_rows.append({"user_id": uid, "registered": registered[uid], "strongest": _strongest(methods),
                         "methods": "; ".join(methods), "source": "userRegistrationDetails"})
        method_rows.extend({"user_id": uid, "method": m, "strength": METHOD_STRENGTH.get(m, UNKNOWN_STRENGTH)}
                           for m in methods)
    status = built(("userRegistrationDetails",))
    t.put("mfa_registration", reg_rows, status)
    t.put("mfa_methods", method_rows, status)
    return registered


def method_name(obj: dict[str, Any]) -> str:
    """One authentication/methods object -> our vocabulary ('' for the password)."""
    odata = text(obj.get("@odata.type"))
    name = MICROSOFT_METHOD_TYPES.get(odata)
    if name is None:
        short = odata.rsplit(".", 1)[-1]
        return "" if short == "passwordAuthenticationMethod" else short
    if name == "sms" and text(obj.get("phoneType")).casefold() == "office":
        return "voice"
    return name


def _registered_by_methods(methods: list[str]) -> bool | None:
    """Only a documented second factor registers a user; an unknown type (or a certificate, single- or multi-factor
    by the tenant's binding policy) with nothing documented beside it leaves the answer unknown, never yes."""
    if any(m in MICROSOFT_SECOND_FACTORS for m in methods):
        return True
    if any(m not in MICROSOFT_SINGLE_FACTOR for m in methods):
        return None
    return False


def _from_methods(t: Tables, per_user: dict[str, Any]) -> dict[str, bool | None]:
    failed = failed_subjects(t.snap, "authenticationMethods")
    reg_rows: list[dict[str, Any]] = []
    method_rows: list[dict[str, Any]] = []
    registered: dict[str, bool | None] = {}
    for uid, objs in per_user.items():
        if uid in failed or not isinstance(objs, list):
            continue
        methods: list[str] = []
        for obj in objs:
            m = method_name(obj) if isinstance(obj, dict) else ""
            if m and m not in methods:
                methods.append(m)
        registered[uid] = _registered_by_methods(methods)
        reg_rows.append({"user_id": uid, "registered": registered[uid], "strongest": _strongest(methods),
                         "methods": "; ".join(methods), "source": "authenticationMethods"})
        method_rows.extend({"user_id": uid, "method": m, "strength": METHOD_STRENGTH.get(m, UNKNOWN_STRENGTH)}
                           for m in methods)
    absent = {uid: "authenticationMethods: no entry for this user in the snapshot"
              for uid in t.user_ids if uid not in per_user and uid not in failed}
    status = built(("authenticationMethods",), {**failed, **absent})
    t.put("mfa_registration", reg_rows, status)
    t.put("mfa_methods", method_rows, status)
    return registered


def mfa_tables(t: Tables) -> dict[str, bool | None]:
    """Fill mfa_registration / mfa_methods; return user id -> MFA registered (None unknown) for the evaluator."""
    details = t.data("userRegistrationDetails")
    if isinstance(details, list):
        return _from_registration_details(t, details)
    methods = t.per_user("authenticationMethods")
    if methods is not None:
        return _from_methods(t, methods)
    reason = "; ".join(r for r in (t.why("userRegistrationDetails"), t.why("authenticationMethods")) if r)
    t.missing("mfa_registration", "userRegistrationDetails", "authenticationMethods", reason=reason)
    t.missing("mfa_methods", "userRegistrationDetails", "authenticationMethods", reason=reason)
    return {}
