"""Microsoft directory roles and groups -> `role_assignments`, plus the group directory the evaluator needs.

Active assignments come from `roleAssignments` (principal expanded: a user, or a role-assignable group whose
members are read from `groupMembers`); PIM-eligible ones from `roleEligibilities` (Entra ID P2 — a tenant without
P2 cannot have eligible assignments, so that gap does not make the table partial). `privileged` is the beta
`roleDefinitions.isPrivileged` flag, or a built-in list of privileged role template ids when definitions are
absent (a role in neither list: privilege not known, never "not privileged"). For Conditional Access only active,
tenant-scope assignments count (`RoleHolders`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from idaudit.core.enforcement import GroupDirectory
from idaudit.core.normalise.availability import built
from idaudit.core.normalise.ms_context import Tables, text
from idaudit.core.snapshot import SectionStatus

USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"

# Built-in role template ids (Microsoft Entra built-in roles reference) that Microsoft marks privileged.
PRIVILEGED_ROLES: dict[str, str] = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": "Hybrid Identity Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
    "e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8": "Partner Tier2 Support",
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
    "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f": "Security Operator",
    "8329153b-31d0-4727-b945-745eb3bc5f31": "Domain Name Administrator",
    "be2f45a1-457d-42af-a067-6ec1fa63bc45": "External Identity Provider Administrator",
    "9360feb5-f418-4baa-8175-e2a00bac4301": "Directory Writers",
    "d29b2b05-8046-44ba-8758-1e26182fcf32": "Directory Synchronization Accounts",
}
# Not flagged privileged by Microsoft, but named so a report reads well when definitions were not collected.
OTHER_ROLE_NAMES: dict[str, str] = {
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
    "69091246-20e8-4a56-aa4d-066075b2a7a8": "Teams Administrator",
    "4a5d8f65-41da-4de4-8968-e035b65339cf": "Reports Reader",
    "88d8e3e3-8f55-4a1e-953a-9b9898b8876b": "Directory Readers",
}


def group_directory(t: Tables) -> GroupDirectory:
    """Transitive user members of every collected group (nested groups in the listing are followed too)."""
    raw = t.per_user("groupMembers") or {}
    rec = t.snap.section("groupMembers")
    failed = rec.failed_subjects if rec is not None else {}
    names: dict[str, str] = {}
    for g in t.data("groups") or []:
        if isinstance(g, dict) and g.get("id"):
            names[text(g["id"])] = text(g.get("displayName")) or text(g["id"])
    direct_users: dict[str, set[str]] = {}
    nested: dict[str, set[str]] = {}
    for gid, members in raw.items():
        if gid in failed or not isinstance(members, list):
            continue
        users, groups = direct_users.setdefault(gid, set()), nested.setdefault(gid, set())
        for m in members:
            if not isinstance(m, dict) or not m.get("id"):
                continue
            mid, kind = text(m["id"]), text(m.get("@odata.type"))
            if kind == GROUP_TYPE:
                groups.add(mid)
                names.setdefault(mid, text(m.get("displayName")) or mid)
            elif kind == USER_TYPE or (not kind and mid in t.user_ids):
                users.add(mid)

    resolved: dict[str, frozenset[str]] = {}

    def expand(gid: str, seen: frozenset[str]) -> frozenset[str] | None:
        if gid in resolved:
            return resolved[gid]
        if gid not in direct_users:
            return None
        out = set(direct_users[gid])
        for sub in nested[gid] - seen:
            sub_members = expand(sub, seen | {gid})
            if sub_members is not None:  # a listing is transitive already; nested keys only add certainty
                out |= sub_members
        return frozenset(out)

    for gid in direct_users:
        resolved[gid] = expand(gid, frozenset()) or frozenset()
    gap = t.why("groupMembers")
    return GroupDirectory(members=resolved, names=names, gap=gap or "group not in the groupMembers section")


TENANT_SCOPE = "/"


def _definitions(t: Tables) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for d in t.data("roleDefinitions") or []:
        if isinstance(d, dict):
            for key in (d.get("id"), d.get("templateId")):
                if key:
                    out[text(key)] = d
    return out


class RoleInfo:
    """Names, privilege and kind (built-in or custom) of directory roles: from roleDefinitions when it was read,
    else from the built-in lists above, else not known (never guessed)."""

    def __init__(self, t: Tables) -> None:
        self.defs = _definitions(t)
        self.gap = t.why("roleDefinitions")

    def name(self, rid: str) -> str:
        d = self.defs.get(rid)
        if d and d.get("displayName"):
            return text(d["displayName"])
        return PRIVILEGED_ROLES.get(rid) or OTHER_ROLE_NAMES.get(rid) or rid

    def privileged(self, rid: str) -> bool | None:
        """Microsoft's isPrivileged; the built-in lists when the definition is absent; None (not known) for a role
        in neither: its holders must stay in the privileged checks as unknown, not drop out of them."""
        d = self.defs.get(rid)
        if d is not None and isinstance(d.get("isPrivileged"), bool):
            return bool(d["isPrivileged"])
        if rid in PRIVILEGED_ROLES:
            return True
        if rid in OTHER_ROLE_NAMES:
            return False
        return None

    def kind(self, rid: str) -> tuple[str, str]:
        """('builtin' | 'custom' | 'unknown', why unknown): Conditional Access targets built-in roles only."""
        d = self.defs.get(rid)
        if d is not None and isinstance(d.get("isBuiltIn"), bool):
            return ("builtin" if d["isBuiltIn"] else "custom"), ""
        if rid in PRIVILEGED_ROLES or rid in OTHER_ROLE_NAMES:
            return "builtin", ""
        return "unknown", self.gap or "roleDefinitions does not define this role"


@dataclass(frozen=True)
class RoleHolders:
    """What Conditional Access role targeting can see: active (not PIM-eligible) assignments at tenant scope ('/'),
    direct or through a role-assignable group. Administrative-unit- or object-scoped assignments do not count."""

    by_user: Mapping[str, frozenset[str]]
    # role id -> "through group 'X', whose members were not collected: <gap>": any user may hold the role
    unresolved: Mapping[str, str]


def role_tables(t: Tables, groups: GroupDirectory) -> RoleHolders | None:
    """Fill role_assignments; return the active tenant-wide role holders (None when roles were not collected)."""
    info = RoleInfo(t)
    active = t.data("roleAssignments")
    if not isinstance(active, list):
        t.missing("role_assignments", "roleAssignments")
        return None
    rows: list[dict[str, Any]] = []
    gaps: list[str] = []
    active_roles: dict[str, set[str]] = {}
    unresolved: dict[str, str] = {}

    def add(principal_id: str, kind: str, principal_name: str, rid: str, assignment: str, scope: str) -> None:
        tenant_wide = assignment == "active" and scope == TENANT_SCOPE
        if kind == USER_TYPE or (not kind and principal_id in t.user_ids):
            holders = [(principal_id, "")]
        elif kind == GROUP_TYPE or (not kind and principal_id in groups.names):
            members = groups.members.get(principal_id)
            gname = principal_name or groups.name(principal_id)
            if members is None:
                gaps.append(f"members of group '{gname}' ({assignment} {info.name(rid)}) were not collected: "
                            f"{groups.gap}")
                if tenant_wide:
                    unresolved.setdefault(rid, f"through group '{gname}', whose members were not collected "
                                               f"({groups.gap})")
                return
            holders = [(m, gname) for m in sorted(members)]
        else:
            return  # a service principal or an unknown object: not a person
        for uid, via in holders:
            rows.append({"user_id": uid, "role_id": rid, "role_name": info.name(rid),
                         "privileged": info.privileged(rid), "assignment": assignment, "via_group": via,
                         "scope": scope})
            if tenant_wide:
                active_roles.setdefault(uid, set()).add(rid)

    for a in active:
        if not isinstance(a, dict):
            continue
        principal: Mapping[str, Any] = a["principal"] if isinstance(a.get("principal"), Mapping) else {}
        add(text(a.get("principalId") or principal.get("id")), text(principal.get("@odata.type")),
            text(principal.get("displayName")), text(a.get("roleDefinitionId")), "active",
            text(a.get("directoryScopeId")) or TENANT_SCOPE)
    eligible = t.data("roleEligibilities")
    if isinstance(eligible, list):
        for e in eligible:
            if isinstance(e, dict):
                add(text(e.get("principalId")), "", "", text(e.get("roleDefinitionId")), "eligible",
                    text(e.get("directoryScopeId")) or TENANT_SCOPE)
    else:
        rec = t.snap.section("roleEligibilities")
        if rec is None or rec.status is not SectionStatus.UNLICENSED:
            gaps.append(f"PIM-eligible assignments not collected: {t.why('roleEligibilities')}")
    t.put("role_assignments", rows, built(("roleAssignments", "roleEligibilities", "roleDefinitions",
                                           "groupMembers"), gaps=gaps))
    return RoleHolders({uid: frozenset(r) for uid, r in active_roles.items()}, unresolved)
