"""Microsoft 365 / Entra ID snapshot -> the provider-neutral tables every check reads (idaudit.core.tables).

Works on any snapshot that follows docs/snapshot-format.md — collected by idaudit, rendered by the simulator or
built from a customer's own export — so nothing here imports a connector. Each table's availability comes from
the sections it was built from (availability.py): a section that was forbidden or unlicensed makes its table
`missing` with the fix, and users whose part of a per-user section failed make it `partial`, never a silent pass.

The work is split by subject: ms_users (users, MFA registration), ms_roles (role holders, groups), ms_mail (rules
and forwarding), ms_apps (OAuth grants), ms_settings (domains, tenant settings, Conditional Access); the MFA
enforcement verdict per user comes from idaudit.core.enforcement.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from idaudit.core.enforcement import Enforcement, GroupDirectory, MicrosoftEvaluator, TenantFacts, UserFacts
from idaudit.core.enforcement.ca_policy import CompiledPolicy
from idaudit.core.normalise.availability import built, failed_subjects
from idaudit.core.normalise.ms_apps import app_names, oauth_table
from idaudit.core.normalise.ms_autoforward import auto_forward_tables
from idaudit.core.normalise.ms_context import Tables, text
from idaudit.core.normalise.ms_email import email_tables
from idaudit.core.normalise.ms_logs import log_tables
from idaudit.core.normalise.ms_mail import mail_tables
from idaudit.core.normalise.ms_roles import RoleHolders, RoleInfo, group_directory, role_tables
from idaudit.core.normalise.ms_settings import conditional_access_table, domains_table, settings_tables
from idaudit.core.normalise.ms_users import mfa_tables, users_table
from idaudit.core.snapshot import Snapshot
from idaudit.core.tables import AuditData


def _external_kind(user: dict[str, Any]) -> str:
    """Graph's guestOrExternalUserTypes value for this account ('' for an ordinary member)."""
    guest = text(user.get("userType")).casefold() == "guest"
    external = "#ext#" in text(user.get("userPrincipalName")).casefold()
    if guest:
        return "b2bCollaborationGuest" if external else "internalGuest"
    return "b2bCollaborationMember" if external else ""


def _per_user_states(t: Tables) -> tuple[dict[str, str | None], dict[str, str]]:
    raw = t.per_user("perUserMfaState")
    if raw is None:
        return {}, {}
    failed = failed_subjects(t.snap, "perUserMfaState")
    states: dict[str, str | None] = {}
    for uid, value in raw.items():
        if uid in failed:
            continue
        state = text(value.get("perUserMfaState")).casefold() if isinstance(value, dict) else ""
        states[uid] = state or None
    return states, failed


def _role_kinds(info: RoleInfo, role_ids: set[str]) -> tuple[frozenset[str], dict[str, str]]:
    """Custom roles (Conditional Access ignores them) and roles whose kind cannot be told, among those policies name."""
    custom: set[str] = set()
    unknown: dict[str, str] = {}
    for rid in role_ids:
        kind, why = info.kind(rid)
        if kind == "custom":
            custom.add(rid)
        elif kind == "unknown":
            unknown[rid] = why
    return frozenset(custom), unknown


def enforcement_table(t: Tables, groups: GroupDirectory, registered: dict[str, bool | None],
                      roles: RoleHolders | None, policies: list[CompiledPolicy] | None) -> None:
    if not t.users_ok:
        t.missing("mfa_enforcement", "users")
        return
    sd_raw = t.data("securityDefaults")
    sd = sd_raw.get("isEnabled") if isinstance(sd_raw, dict) else None
    info = RoleInfo(t)
    ca_raw = t.data("conditionalAccessPolicies")
    role_ids = {r for p in (policies or []) for r in (*p.include.roles, *p.exclude.roles)}
    custom, unknown_kind = _role_kinds(info, role_ids)
    tenant = TenantFacts(
        security_defaults=sd if isinstance(sd, bool) else None,
        security_defaults_gap=t.why("securityDefaults") or "isEnabled absent",
        policies=ca_raw if isinstance(ca_raw, list) else None,
        policies_gap=t.why("conditionalAccessPolicies"),
        groups=groups, roles_gap=t.why("roleAssignments"),
        role_names={r: info.name(r) for r in role_ids}, app_names=app_names(t),
        custom_roles=custom, unknown_kind_roles=unknown_kind,
        unresolved_roles=dict(roles.unresolved) if roles is not None else {})
    evaluator = MicrosoftEvaluator(tenant)
    states, failed = _per_user_states(t)
    state_gap = t.why("perUserMfaState")
    rows = []
    cache: dict[tuple[Any, ...], Enforcement] = {}
    needs_identity = any(p.include.users - {"all", "none", "guestsorexternalusers"} or p.include.groups
                         or p.exclude.users or p.exclude.groups
                         for p in (*evaluator.mfa_policies, *evaluator.block_policies))
    for u in t.users:
        if u.get("accountEnabled") is False:
            continue
        uid = text(u.get("id"))
        state = states.get(uid) if not state_gap else None
        gap = state_gap or failed.get(uid, "" if uid in states else "perUserMfaState: no entry for this user")
        user = UserFacts(user_id=uid, external_kind=_external_kind(u),
                         roles=None if roles is None else roles.by_user.get(uid, frozenset()),
                         per_user_mfa=state, per_user_gap=gap, mfa_registered=registered.get(uid))
        # Users who differ only in id share a verdict unless a policy names users or groups: 100k users in seconds.
        key = (user.external_kind, user.roles, state, gap if state is None else "", user.mfa_registered,
               uid if needs_identity else "")
        verdict = cache.get(key)
        if verdict is None:
            verdict = cache[key] = evaluator.evaluate(user)
        rows.append({"user_id": uid, "enforced": verdict.enforced, "enforced_by": verdict.enforced_by,
                     "strength": verdict.strength, "reason": verdict.reason,
                     "phishing_resistant": verdict.phishing_resistant, "legacy_blocked": verdict.legacy,
                     "legacy_detail": verdict.legacy_detail})
    t.put("mfa_enforcement", rows, built(("users", "securityDefaults", "conditionalAccessPolicies",
                                          "perUserMfaState", "groupMembers", "roleAssignments")))


def normalise(snapshot: Snapshot) -> AuditData:
    t = Tables(snapshot)
    users_table(t)
    registered = mfa_tables(t)
    groups = group_directory(t)
    roles = role_tables(t, groups)
    policies = conditional_access_table(t)
    enforcement_table(t, groups, registered, roles, policies)
    mail_tables(t)
    auto_forward_tables(t, groups)
    oauth_table(t)
    domains_table(t)
    settings_tables(t, policies)
    window = log_tables(t)
    email_tables(t)
    m = snapshot.manifest
    return AuditData(provider="microsoft", tenant_id=m.tenant_id, tenant_name=m.tenant_name,
                     collected_at=pd.Timestamp(m.collected_at).tz_convert("UTC"), tables=t.tables,
                     status=t.status, setting_gaps=dict(t.gaps), manifest=m, log_window=window)
