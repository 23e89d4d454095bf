"""Sheets about people and their exposure: Users, Forwarding, Apps and consents, Privileged access.

They read the normalised tables directly. A table that was not collected shows "not collected" in its columns —
an empty cell would read as "nothing there", which is exactly the false comfort the auditor must not give.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from openpyxl.workbook import Workbook

from idaudit.core import scopes
from idaudit.core.engine import AuditRun
from idaudit.core.model import Status
from idaudit.core.provenance import Explainer
from idaudit.core.tables import AuditData
from reports.sheetio import Column, SheetWriter, Styled, prepare_column, status_cell
from reports.subjects import user_resolver

NOT_COLLECTED = "not collected"
NOT_READ = "not read: idaudit reads no log of transport rule changes"
# Scopes that let an app read or send mail or files, or take over the tenant: the shared catalogue.
RISKY_SCOPES = frozenset(scopes.RISKY_SCOPES)


def _records(df: pd.DataFrame) -> Iterator[Any]:
    """Rows as named tuples (typed Any: the columns are the schema's, see idaudit.core.tables)."""
    return iter(df.itertuples(index=False))


def _yn(value: Any) -> str:
    """A nullable boolean for a reader: yes / no / '' when not known."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    return "yes" if bool(value) else "no"


def is_risky_scope(scope: str) -> bool:
    return scopes.is_risky(scope)


def _table(data: AuditData, name: str) -> pd.DataFrame | None:
    return data.tables.get(name) if data.available(name) else None


def _joined(df: pd.DataFrame, key: str, col: str) -> pd.Series:
    """'; '-joined distinct values of `col` per `key` (sorted, so the output is deterministic)."""
    if df.empty:
        return pd.Series(dtype="str")
    return df.groupby(key)[col].agg(lambda v: "; ".join(sorted({str(x) for x in v if str(x)})))


def _principals(data: AuditData) -> pd.Series:
    users = data.tables.get("users")
    if users is None or users.empty:
        return pd.Series(dtype="str")
    return users.set_index("user_id")["principal"]


def _map_or(ids: pd.Series, mapping: pd.Series | None, missing: str, default: str = "") -> pd.Series:
    if mapping is not None and not mapping.index.is_unique:
        mapping = mapping[~mapping.index.duplicated(keep="first")]
    if mapping is None:
        return pd.Series(missing, index=ids.index, dtype="object")
    return ids.map(mapping).astype("object").where(ids.isin(mapping.index), default)


def write_users(wb: Workbook, run: AuditRun) -> None:
    data = run.data
    s = SheetWriter(wb, "Users", [
        Column("User", 34, wrap=True), Column("Enabled", 8), Column("Type", 9), Column("MFA registered", 10, wrap=True),
        Column("Strongest method", 17, wrap=True), Column("MFA enforced", 10, wrap=True),
        Column("Enforced by", 32, wrap=True), Column("Roles", 18, wrap=True), Column("Last sign-in (UTC)", 16),
        Column("Forwarding to", 22, wrap=True), Column("Risky apps", 16, wrap=True), Column("Open findings", 8),
        Column("Display name", 26, printed=False), Column("Methods", 44, printed=False),
        Column("User id", 38, printed=False),
    ], freeze_header=True, auto_filter=True)
    s.header()
    users = data.tables.get("users")
    if users is None or not data.available("users"):
        st = data.status.get("users")
        _not_collected(s, st.reason if st else "")
        return
    users = users.assign(_k=users["principal"].str.casefold()).sort_values("_k", kind="stable").drop(columns="_k")
    users = users.reset_index(drop=True)
    ids = users["user_id"]
    gap = "not collected for this user"
    reg = _table(data, "mfa_registration")
    enf = _table(data, "mfa_enforcement")
    roles = _table(data, "role_assignments")
    fwd = _table(data, "forwarding")
    grants = _table(data, "oauth_grants")
    registered = _map_or(ids, None if reg is None else reg.set_index("user_id")["registered"].map(
        lambda v: "" if pd.isna(v) else "yes" if v else "no"), NOT_COLLECTED, gap)
    methods = _map_or(ids, None if reg is None else reg.set_index("user_id")["methods"], NOT_COLLECTED, gap)
    strongest = _map_or(ids, None if reg is None else reg.set_index("user_id")["strongest"], NOT_COLLECTED, gap)
    enforced = _map_or(ids, None if enf is None else enf.set_index("user_id")["enforced"], NOT_COLLECTED, gap)
    enforced_by = _map_or(ids, None if enf is None else enf.set_index("user_id")["enforced_by"].where(
        enf.set_index("user_id")["enforced_by"] != "", enf.set_index("user_id")["reason"]), NOT_COLLECTED, gap)
    role_names = _map_or(ids, None if roles is None else _joined(roles.assign(
        label=roles["role_name"] + roles["assignment"].map(lambda a: " (eligible)" if a == "eligible" else "")),
        "user_id", "label"), NOT_COLLECTED)
    forwards = _map_or(ids, None if fwd is None else _joined(fwd, "user_id", "recipient"), NOT_COLLECTED)
    risky = None
    if grants is not None:
        g = grants[grants["scope"].map(is_risky_scope) & (grants["user_id"] != "")]
        risky = _joined(g, "user_id", "app_name")
    risky_apps = _map_or(ids, risky, NOT_COLLECTED)
    f = run.findings
    failing = f[f["status"] == Status.FAIL.value]
    resolve = user_resolver(data)
    # A failing rule finding counts against the user whose mailbox holds the rule.
    per_user = failing["subject_id"].map(lambda sid: resolve(str(sid)))
    open_counts = per_user.value_counts()
    opened = ids.map(open_counts).fillna(0).astype(int)
    known = users["sign_in_known"].fillna(False).astype(bool).tolist()
    last_seen = [(ts.to_pydatetime() if not pd.isna(ts) else "never") if k else NOT_COLLECTED
                 for ts, k in zip(users["last_sign_in"], known, strict=True)]
    columns: list[Any] = [users["principal"], users["enabled"].map(_yn), users["user_type"], registered, strongest,
                          enforced, enforced_by, role_names, last_seen, forwards, risky_apps, opened,
                          users["display_name"], methods, users["user_id"]]
    # Column-wise, like the Findings sheet: a 100,000-user tenant is one row per user.
    s.prepared_rows([prepare_column(list(c)) for c in columns])
    s.finish_table()


def _not_collected(s: SheetWriter, reason: str) -> None:
    """The one row of a sheet whose table was not collected: the reason runs across the page, not down a column."""
    s.row([NOT_COLLECTED, Styled(reason, wrap=True, span=max(s.printed_columns() - 1, 1))])


def _domain_kind(data: AuditData) -> tuple[set[str] | None, str]:
    domains = _table(data, "domains")
    if domains is None:
        return None, "unknown (domains not collected)"
    verified = domains[domains["verified"].fillna(False).astype(bool)]["domain"].str.casefold()
    return set(verified), ""


def write_forwarding(wb: Workbook, run: AuditRun) -> None:
    data = run.data
    s = SheetWriter(wb, "Forwarding", [
        Column("User", 28, wrap=True), Column("Mechanism", 20, wrap=True), Column("Rule name", 24, wrap=True),
        Column("Enabled", 8), Column("Recipient", 28, wrap=True), Column("Recipient domain", 20, wrap=True),
        Column("Inside or outside", 11), Column("Keeps a copy", 8), Column("How it got there", 30, wrap=True),
        Column("Rule id", 38, printed=False),
    ], freeze_header=True, auto_filter=True)
    s.header()
    fwd = _table(data, "forwarding")
    if fwd is None:
        st = data.status.get("forwarding")
        _not_collected(s, st.reason if st else "no forwarding table for this provider")
        return
    internal, unknown_label = _domain_kind(data)
    principals = _principals(data)
    rules, boxes = Explainer("mail_rule", data), Explainer("mailbox_forwarding", data)
    for r in _records(fwd):
        dom = str(r.recipient_domain).casefold()
        where = unknown_label if internal is None else ("inside" if dom in internal else "OUTSIDE")
        who = principals.get(r.user_id, r.user_id) if r.user_id else "(organisation-wide)"
        s.row([who, r.mechanism, r.rule_name,
               _yn(r.enabled), r.recipient, r.recipient_domain,
               Styled(where, fill=status_cell("fail").fill) if where == "OUTSIDE" else where,
               _yn(r.keeps_copy), _how_forwarded(r, rules, boxes), r.rule_id])
    s.finish_table()


def _how_forwarded(r: Any, rules: Explainer, boxes: Explainer) -> str:
    mechanism = str(r.mechanism)
    if mechanism.startswith("inbox_rule") or mechanism == "gmail_filter_forward":
        return rules.rule(str(r.user_id), str(r.rule_name))
    if mechanism in ("mailbox_forwarding", "gmail_auto_forward"):
        return boxes.user(str(r.user_id))
    return NOT_READ  # transport rules: their changes are in logs idaudit does not read


def write_apps(wb: Workbook, run: AuditRun) -> None:
    data = run.data
    s = SheetWriter(wb, "Apps and consents", [
        Column("App", 26, wrap=True), Column("Publisher", 20, wrap=True), Column("Publisher verified", 9),
        Column("Grant", 11), Column("Consented for", 12), Column("User", 26, wrap=True),
        Column("Risky scopes", 28, wrap=True), Column("Scopes", 40, wrap=True),
        Column("How it got there", 30, wrap=True), Column("Owner", 12, printed=False), Column("Resource", 22, printed=False), Column("App id", 38, printed=False),
    ], freeze_header=True, auto_filter=True)
    s.header()
    grants = _table(data, "oauth_grants")
    if grants is None:
        st = data.status.get("oauth_grants")
        _not_collected(s, st.reason if st else "no app grants table for this provider")
        return
    principals = _principals(data)
    consents = Explainer("consent", data)
    keys = ["app_id", "app_name", "publisher", "publisher_verified", "app_owner", "grant_kind", "consent_scope",
            "user_id", "resource"]
    g = grants.assign(publisher_verified=grants["publisher_verified"].map(_yn))
    grouped = g.groupby(keys, dropna=False, sort=True)["scope"].agg(list).reset_index()
    grouped = grouped.assign(_risky=grouped["scope"].map(lambda sc: any(is_risky_scope(x) for x in sc)))
    grouped = grouped.sort_values(["_risky", "app_name"], ascending=[False, True])
    for r in _records(grouped):
        scopes = sorted(set(r.scope))
        risky = [x for x in scopes if is_risky_scope(x)]
        user = principals.get(r.user_id, r.user_id) if r.user_id else (
            "all users" if r.consent_scope == "all_users" else
            "no user needed (application permission)" if r.grant_kind == "application" else "")
        s.row([r.app_name, r.publisher, r.publisher_verified, r.grant_kind, r.consent_scope, user,
               Styled(" ".join(risky), fill=status_cell("fail").fill, wrap=True) if risky else "",
               " ".join(scopes), consents.app(str(r.app_name)), r.app_owner, r.resource, r.app_id])
    s.finish_table()


def write_privileged(wb: Workbook, run: AuditRun) -> None:
    data = run.data
    s = SheetWriter(wb, "Privileged access", [
        Column("User", 28, wrap=True), Column("Role", 26, wrap=True), Column("Privileged", 9),
        Column("Assignment", 10), Column("Via group", 18, wrap=True), Column("Scope", 8, wrap=True),
        Column("Strongest MFA method", 14, wrap=True), Column("Phishing-resistant MFA required", 12),
        Column("Enabled", 8), Column("Last sign-in (UTC)", 16), Column("How it got there", 30, wrap=True),
    ], freeze_header=True, auto_filter=True)
    s.header()
    roles = _table(data, "role_assignments")
    if roles is None:
        st = data.status.get("role_assignments")
        _not_collected(s, st.reason if st else "no role table for this provider")
        return
    users = data.tables.get("users")
    reg = _table(data, "mfa_registration")
    enf = _table(data, "mfa_enforcement")
    strongest = reg.set_index("user_id")["strongest"] if reg is not None else None
    pr = enf.set_index("user_id")["phishing_resistant"] if enf is not None else None
    uinfo = users.set_index("user_id") if users is not None and not users.empty else None
    added = Explainer("role", data)
    r = roles.sort_values(["privileged", "role_name"], ascending=[False, True], na_position="last")
    for a in _records(r):
        u: Any = uinfo.loc[a.user_id] if uinfo is not None and a.user_id in uinfo.index else None
        principal = u["principal"] if u is not None else a.user_id
        enabled = "" if u is None else _yn(u["enabled"])
        last: object = NOT_COLLECTED
        if u is not None and _yn(u["sign_in_known"]) == "yes":
            last = "never" if pd.isna(u["last_sign_in"]) else u["last_sign_in"]
        s.row([principal, a.role_name, _yn(a.privileged),
               a.assignment, a.via_group, a.scope,
               NOT_COLLECTED if strongest is None else strongest.get(a.user_id, "not collected for this user"),
               NOT_COLLECTED if pr is None else pr.get(a.user_id, "not collected for this user"),
               enabled, last, added.user(str(a.user_id), str(a.role_name))])
    s.finish_table()
