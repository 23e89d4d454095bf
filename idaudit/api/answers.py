"""The auditor's typical questions, each answered from the provider-neutral tables in one call.

"Who has no MFA?", "who is not covered by MFA enforcement, and why?", "which rules forward mail outside?",
"which apps can read mail?" — the questions an IT manager asks in a notebook between two weekly audits. The
answers read the normalised tables (idaudit.core.tables), so they are the same for Microsoft 365 and Google Workspace.

Never a false pass, here too:
- a table an answer needs that was not collected raises `DataNotCollected` with the reason (an empty answer
  would read as "nobody", which is exactly the wrong conclusion);
- per-user answers list the users whose data was not collected as `unknown` rows, with the reason;
- an answer built on a partially collected table says so with an `IncompleteDataWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import pandas as pd

from checks.common import INSIDE, classify_recipients, inside_domains
from idaudit.core import scopes
from idaudit.core.engine import CheckSettings
from idaudit.core.errors import DataUnavailable, IdauditError
from idaudit.core.tables import AuditData, Availability

# Scopes and application permissions that let an app read message content or headers: the shared catalogue
# (idaudit.core.scopes), compared case-insensitively.
MAIL_READING_SCOPES: frozenset[str] = scopes.MAIL_READING_SCOPES


class DataNotCollected(IdauditError):
    """An answer needs a table that was not collected: the reason says which section and how to fix it."""

    def __init__(self, question: str, table: str, reason: str) -> None:
        self.question = question
        self.table = table
        self.reason = reason
        super().__init__(f"cannot answer '{question}': {table} was not collected — {reason}")


class IncompleteDataWarning(UserWarning):
    """The answer is built on a partially collected table: some subjects are missing or marked unknown."""


def _table(data: AuditData, name: str, question: str) -> pd.DataFrame:
    try:
        return data.table(name)
    except DataUnavailable as exc:
        raise DataNotCollected(question, name, exc.reason) from None


def _missing_subjects(data: AuditData, name: str) -> dict[str, str]:
    st = data.status.get(name)
    if st is None or st.availability is not Availability.PARTIAL:
        return {}
    return dict(st.missing_subjects)


def _warn_partial(data: AuditData, question: str, names: Iterable[str]) -> None:
    for name in names:
        st = data.status.get(name)
        if st is not None and st.availability is Availability.PARTIAL:
            n = len(st.missing_subjects)
            detail = f"{n} subject(s) not collected" if n else "partially collected"
            reason = f": {st.reason}" if st.reason else ""
            warnings.warn(f"'{question}' is incomplete: {name} {detail}{reason}", IncompleteDataWarning,
                          stacklevel=3)


def people(data: AuditData) -> pd.DataFrame:
    """user_id -> principal, display name, type and enabled; empty (not an error) when users was not collected."""
    if not data.available("users"):
        return pd.DataFrame({"user_id": pd.Series(dtype="str"), "principal": pd.Series(dtype="str"),
                             "display_name": pd.Series(dtype="str"), "user_type": pd.Series(dtype="str"),
                             "enabled": pd.Series(dtype="boolean")})
    return data.tables["users"][["user_id", "principal", "display_name", "user_type", "enabled"]]


def with_people(data: AuditData, frame: pd.DataFrame, *, keep_enabled: bool = False) -> pd.DataFrame:
    """Put the principal and display name beside a user_id column (left join: no row is lost)."""
    cols = ["user_id", "principal", "display_name"] + (["enabled_account"] if keep_enabled else [])
    who = people(data).rename(columns={"enabled": "enabled_account"})[cols]
    out = frame.merge(who, on="user_id", how="left")
    out["principal"] = out["principal"].fillna("").astype("str")
    out["display_name"] = out["display_name"].fillna("").astype("str")
    front = ["principal", "display_name"]
    return out[front + [c for c in out.columns if c not in front]]


def _enabled_users(data: AuditData, question: str) -> pd.DataFrame:
    users = _table(data, "users", question)
    # An account whose enabled flag is unknown is kept: it might be able to sign in.
    return users[users["enabled"].fillna(True).astype(bool)]


def _break_glass(principals: pd.Series, settings: CheckSettings) -> pd.Series:
    return principals.str.casefold().isin(settings.break_glass).astype("boolean")


def no_mfa(data: AuditData, settings: CheckSettings | None = None, *,
           include_disabled: bool = False) -> pd.DataFrame:
    """Who has no MFA method registered: one row per account, `mfa` = none, or unknown with the reason.

    Only enabled accounts by default: a disabled account cannot sign in (stale accounts are a separate check).
    """
    question = "who has no MFA"
    settings = settings or CheckSettings()
    users = (_table(data, "users", question) if include_disabled else _enabled_users(data, question))
    registration = _table(data, "mfa_registration", question)
    gaps = _missing_subjects(data, "mfa_registration")
    merged = users[["user_id", "principal", "display_name", "user_type", "enabled"]].merge(
        registration[["user_id", "registered", "strongest", "methods", "source"]], on="user_id", how="left",
        indicator=True)
    collected = merged["_merge"] == "both"
    none = collected & ((merged["registered"].fillna(False) == False)  # noqa: E712 - nullable boolean
                        | (merged["strongest"] == "none"))
    unknown = ~collected
    reason = pd.Series("no MFA method registered", index=merged.index, dtype="str")
    reason = reason.mask(unknown, merged["user_id"].map(
        lambda uid: gaps.get(uid, "MFA registration not collected for this user")).astype("str"))
    out = merged.assign(mfa=pd.Series("none", index=merged.index, dtype="str").mask(unknown, "unknown"),
                        reason=reason, break_glass=_break_glass(merged["principal"], settings))
    out = out[none | unknown]
    _warn_partial(data, question, ["users", "mfa_registration"])
    cols = ["principal", "display_name", "user_type", "enabled", "mfa", "reason", "break_glass", "user_id"]
    return out[cols].sort_values(["mfa", "principal"], ascending=[True, True]).reset_index(drop=True)


def not_enforced(data: AuditData, settings: CheckSettings | None = None) -> pd.DataFrame:
    """Who is not covered by MFA enforcement, and why: one row per enabled account whose enforcement is
    `no` or `unknown`, with the reason precise enough to act on (e.g. "excluded from CA policy 'Require MFA'
    by group 'Theatre kiosks'")."""
    question = "who is not covered by MFA enforcement"
    settings = settings or CheckSettings()
    users = _enabled_users(data, question)
    enforcement = _table(data, "mfa_enforcement", question)
    gaps = _missing_subjects(data, "mfa_enforcement")
    merged = users[["user_id", "principal", "display_name", "user_type"]].merge(
        enforcement[["user_id", "enforced", "enforced_by", "strength", "reason"]], on="user_id", how="left",
        indicator=True)
    absent = merged["_merge"] == "left_only"
    merged["enforced"] = merged["enforced"].fillna("unknown").astype("str").mask(absent, "unknown")
    fallback = merged["user_id"].map(
        lambda uid: gaps.get(uid, "MFA enforcement not collected for this user")).astype("str")
    merged["reason"] = merged["reason"].fillna("").astype("str").mask(absent, fallback)
    merged["enforced_by"] = merged["enforced_by"].fillna("").astype("str")
    merged["strength"] = merged["strength"].fillna("").astype("str")
    out = merged[merged["enforced"] != "yes"].assign(break_glass=lambda d: _break_glass(d["principal"], settings))
    _warn_partial(data, question, ["users", "mfa_enforcement"])
    cols = ["principal", "display_name", "user_type", "enforced", "reason", "enforced_by", "break_glass", "user_id"]
    return out[cols].sort_values(["enforced", "principal"]).reset_index(drop=True)


def external_forwarding(data: AuditData, settings: CheckSettings | None = None) -> pd.DataFrame:
    """Which rules and mailbox settings forward mail outside the organisation: one row per (mechanism, recipient).

    Inside and outside are decided exactly as the mail checks decide them (checks.common): a recipient is inside
    when its domain is a verified domain of the tenant (a subdomain only when it is itself verified) or a
    configured trusted partner domain (or one of its subdomains). A recipient without a readable address (e.g. an
    Exchange recipient object) is listed with `destination` = unknown rather than assumed internal. Disabled rules
    are listed too (`enabled` column), after the active ones: an attacker who can sign in can switch one back on.
    """
    question = "which rules forward outside"
    settings = settings or CheckSettings()
    forwarding = _table(data, "forwarding", question)
    _table(data, "domains", question)
    try:
        inside = inside_domains(data, settings)
    except DataUnavailable as exc:
        raise DataNotCollected(question, "domains", exc.reason) from None
    where = classify_recipients(forwarding["recipient"], forwarding["recipient_domain"], inside)
    out = with_people(data, forwarding.assign(destination=where)[where != INSIDE])
    _warn_partial(data, question, ["forwarding", "domains"])
    cols = ["principal", "display_name", "mechanism", "rule_name", "enabled", "recipient", "recipient_domain",
            "destination", "keeps_copy", "rule_id", "user_id"]
    order = out["enabled"].fillna(True).astype(bool)
    return (out.assign(_active=order)[[*cols, "_active"]]
            .sort_values(["_active", "principal", "rule_name"], ascending=[False, True, True])
            .drop(columns="_active").reset_index(drop=True))


def is_mail_reading_scope(scope: str) -> bool:
    return scopes.reads_mail(scope)


def apps_reading_mail(data: AuditData, settings: CheckSettings | None = None) -> pd.DataFrame:
    """Which apps can read mail: one row per (app, kind of grant), with the mail scopes and how many users.

    `consent_scope` all_users or application means every mailbox in the organisation; `users` counts the
    individual users who consented. `allowed` marks apps on the configured allow-list (audit.allowed_apps), by app
    id / client id only.
    """
    question = "which apps can read mail"
    settings = settings or CheckSettings()
    grants = _table(data, "oauth_grants", question)
    hits = grants[grants["scope"].map(is_mail_reading_scope).astype(bool)]
    _warn_partial(data, question, ["oauth_grants"])
    keys = ["app_name", "app_id", "publisher", "publisher_verified", "app_owner", "grant_kind", "consent_scope"]
    columns = [*keys, "scopes", "users", "every_mailbox", "allowed"]
    if hits.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns}).astype(
            {"users": "int64", "every_mailbox": "bool", "allowed": "bool", "publisher_verified": "boolean"})
    grouped = hits.groupby(keys, dropna=False, sort=False).agg(
        scopes=("scope", lambda s: " ".join(sorted(set(s), key=str.casefold))),
        users=("user_id", lambda u: int(u[u != ""].nunique())),
    ).reset_index()
    grouped["every_mailbox"] = grouped["consent_scope"].isin(["all_users", "application"])
    allowed = settings.allowed_apps
    # by app id / client id only, as the checks do: a display name can be copied by any app
    grouped["allowed"] = grouped["app_id"].str.casefold().isin({a.casefold() for a in allowed})
    return (grouped[columns].sort_values(["every_mailbox", "users", "app_name"], ascending=[False, False, True])
            .reset_index(drop=True))
