"""Which user a finding is about, whatever its subject kind, for "users affected" and per-user counts.

Checks name their subjects differently: a user finding carries the user id, a rule finding `user_id:rule_id`
(or a bare rule id), an app finding the app id. The action plan and the Users sheet need the people behind them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from idaudit.core.tables import AuditData


def user_resolver(data: AuditData) -> Callable[[str], str | None]:
    """A function from a finding's subject id to the user id it concerns (None when it concerns no one user)."""
    users_df = data.tables.get("users")
    users = set(users_df["user_id"].astype(str)) if users_df is not None and not users_df.empty else set()
    rule_owner: dict[str, str] = {}
    for name in ("mail_rules", "forwarding"):
        df = data.tables.get(name)
        if df is not None and not df.empty:
            rule_owner.update({str(r): str(u) for r, u in zip(df["rule_id"], df["user_id"], strict=True) if r})

    def resolve(subject_id: str) -> str | None:
        if subject_id in users:
            return subject_id
        if subject_id in rule_owner:
            return rule_owner[subject_id]
        head, sep, _ = subject_id.partition(":")
        if sep and head in users:
            return head
        return None

    return resolve


def users_of_apps(data: AuditData, app_ids: Iterable[str]) -> int | None:
    """Users whose data the apps can reach: each consenting user, or every enabled user for an org-wide grant."""
    grants = data.tables.get("oauth_grants")
    if grants is None or not data.available("oauth_grants"):
        return None
    hit = grants[grants["app_id"].isin(set(app_ids))]
    if hit.empty:
        return None
    if (hit["consent_scope"].isin(["all_users", "application"])).any():
        users = data.tables.get("users")
        if users is None or users.empty:
            return None
        return int(users["enabled"].fillna(False).astype(bool).sum())
    return int(hit.loc[hit["user_id"] != "", "user_id"].nunique())
