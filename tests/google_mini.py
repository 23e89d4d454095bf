"""A minimal Google Workspace tenant written by hand as raw API objects (the documented Directory, Policy API and
membership shapes), normalised by the real normaliser and checked by the real engine.

This is the "minimal tenant" the Google rows of docs/semantics.md are stated on: one rule, a few users, an OU tree
of four units, and the policies the rule is about.

    t = MiniGoogle().user("ann", ou="/Clinical").policy("gmail.imap_access", {"enableImapAccess": True},
                                                         ou="/Clinical", order=20)
    assert t.verdict("IDA-MAIL-007") == "fail"
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from checks import CATALOGUE
from idaudit.core.engine import CheckSettings, run_checks
from idaudit.core.normalise import normalise
from idaudit.core.snapshot import Manifest, SectionRecord, SectionStatus, Snapshot, snapshot_from_memory
from idaudit.core.tables import AuditData

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
OU_IDS = {"/": "root", "/Clinical": "clin", "/Clinical/Nursing": "nurse", "/Front Desk": "desk"}
ENFORCED = "2025-01-01T00:00:00Z"
EPOCH = "1970-01-01T00:00:00Z"


def _orgunits() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path, oid in OU_IDS.items():
        node: dict[str, Any] = {"kind": "admin#directory#orgUnit", "name": path.rsplit("/", 1)[1] or "Clinic",
                                "orgUnitPath": path, "orgUnitId": f"id:{oid}"}
        if path != "/":
            parent = path.rsplit("/", 1)[0] or "/"
            node.update(parentOrgUnitPath=parent, parentOrgUnitId=f"id:{OU_IDS[parent]}")
        out.append(node)
    return out


class MiniGoogle:
    """Fluent builder of a raw Google snapshot; every method returns self."""

    def __init__(self) -> None:
        self.users: list[dict[str, Any]] = []
        self.policies: list[dict[str, Any]] = []
        self.roles: list[dict[str, Any]] = [
            {"kind": "admin#directory#role", "roleId": "91", "roleName": "_SEED_ADMIN_ROLE",
             "isSuperAdminRole": True, "isSystemRole": True,
             "rolePrivileges": [{"privilegeName": "SUPER_ADMIN", "serviceId": "00haapch16h1ysv"}]},
            {"kind": "admin#directory#role", "roleId": "92", "roleName": "_HELP_DESK_ADMIN_ROLE",
             "roleDescription": "Help Desk Administrator", "isSystemRole": True,
             "rolePrivileges": [{"privilegeName": "USERS_RETRIEVE", "serviceId": "00haapch16h1ysv"}]}]
        self.assignments: list[dict[str, Any]] = []
        self.groups: dict[str, dict[str, Any]] = {}
        self.members: dict[str, list[dict[str, Any]]] = {}
        self.raw: dict[str, Any] = {}
        self.failed: dict[str, SectionRecord] = {}
        self.failed_groups: dict[str, str] = {}

    # ---- directory -----------------------------------------------------------------------------------------
    def user(self, uid: str, ou: str = "/", *, enrolled: bool = True, enforced: bool | None = None,
             admin: bool = False, delegated_admin: bool = False, created: str = "2020-01-01T00:00:00.000Z"
             ) -> MiniGoogle:
        u: dict[str, Any] = {"id": uid, "primaryEmail": f"{uid}@clinic.org", "name": {"fullName": uid.title()},
                             "orgUnitPath": ou, "isEnrolledIn2Sv": enrolled, "creationTime": created,
                             "isAdmin": admin, "isDelegatedAdmin": delegated_admin, "suspended": False,
                             "archived": False, "lastLoginTime": "2026-11-20T08:00:00.000Z", "customerId": "C01"}
        if enforced is not None:
            u["isEnforcedIn2Sv"] = enforced
        self.users.append(u)
        return self

    def group(self, gid: str, *members: str, email: str = "", nested: tuple[str, ...] = ()) -> MiniGoogle:
        """A group with direct user members (and nested groups, whose users appear as derived members)."""
        self.groups[gid] = {"kind": "admin#directory#group", "id": gid, "email": email or f"{gid}@clinic.org",
                            "name": gid.replace("-", " ").title()}
        rows = [{"kind": "admin#directory#member", "id": m, "email": f"{m}@clinic.org", "role": "MEMBER",
                 "type": "USER", "status": "ACTIVE"} for m in members]
        for sub in nested:
            rows.append({"kind": "admin#directory#member", "id": sub, "email": f"{sub}@clinic.org", "role": "MEMBER",
                         "type": "GROUP", "status": "ACTIVE"})
            rows += [dict(r) for r in self.members.get(sub, []) if r["type"] == "USER"]
        self.members[gid] = rows
        return self

    def group_failed(self, gid: str, why: str = "HTTP 500 backendError") -> MiniGoogle:
        """A targeted group whose membership could not be read (a failed subject of groupMembers)."""
        self.groups.setdefault(gid, {"kind": "admin#directory#group", "id": gid, "email": f"{gid}@clinic.org",
                                     "name": gid})
        self.failed_groups[gid] = why
        return self

    def assign(self, role_id: str, to: str, *, group: bool = False) -> MiniGoogle:
        self.assignments.append({"kind": "admin#directory#roleAssignment", "roleAssignmentId": f"ra{len(self.assignments)}",
                                 "roleId": role_id, "assignedTo": to, "assigneeType": "group" if group else "user",
                                 "scopeType": "CUSTOMER"})
        return self

    # ---- Policy API ----------------------------------------------------------------------------------------
    def policy(self, setting: str, value: dict[str, Any], *, ou: str | None = "/", group: str = "",
               order: float = 10, kind: str = "ADMIN") -> MiniGoogle:
        """One Policy API policy; `ou=None` leaves policyQuery.orgUnit out (as Google sometimes does)."""
        query: dict[str, Any] = {"sortOrder": order}
        clauses = []
        if ou is not None:
            query["orgUnit"] = f"orgUnits/{OU_IDS[ou]}"
            clauses.append(f"entity.org_units.exists(org_unit, org_unit.org_unit_id == orgUnitId('{OU_IDS[ou]}'))")
        if group:
            query["group"] = f"groups/{group}"
            clauses.append(f"entity.groups.exists(group, group.group_id == groupId('{group}'))")
        query["query"] = " && ".join(clauses)
        self.policies.append({"name": f"policies/p{len(self.policies)}", "customer": "customers/C01",
                              "policyQuery": query, "setting": {"type": f"settings/{setting}", "value": value},
                              "type": kind})
        return self

    def fail(self, section: str, status: str = "forbidden", detail: str = "refused in test") -> MiniGoogle:
        self.failed[section] = SectionRecord(section, SectionStatus(status), None, 0, detail)
        return self

    # ---- results -------------------------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        raw: dict[str, Any] = {"users": self.users, "orgUnits": _orgunits(), "policies": self.policies,
                               "roles": self.roles, "roleAssignments": self.assignments,
                               "domains": [{"domainName": "clinic.org", "isPrimary": True, "verified": True}]}
        if self.groups or self.members:
            raw["groups"] = {gid: g for gid, g in self.groups.items()}
            raw["groupMembers"] = {gid: rows for gid, rows in self.members.items() if gid not in self.failed_groups}
        raw.update(self.raw)
        sections: dict[str, SectionRecord] = {}
        for name, data in raw.items():
            failed = self.failed_groups if name == "groupMembers" else {}
            sections[name] = SectionRecord(name, SectionStatus.OK, f"{name}.json", len(data), "", "", failed)
        for name, rec in self.failed.items():
            sections[name] = rec
            raw.pop(name, None)
        manifest = Manifest(provider="google", tenant_id="C01", tenant_name="clinic.org", collected_at=NOW,
                            sections=sections, source="test")
        return snapshot_from_memory(manifest, raw)

    def data(self) -> AuditData:
        return normalise(self.snapshot())

    def findings(self, check_id: str) -> pd.DataFrame:
        return run_checks(self.data(), CheckSettings(now=NOW), only=[check_id], registry=CATALOGUE).findings

    def verdict(self, check_id: str, subject: str = "tenant") -> str:
        """The status of one finding row (`tenant` for a tenant-level check, else a user id)."""
        f = self.findings(check_id)
        hit = f[f["subject_id"] == subject]
        assert len(hit) == 1, f"{check_id}: no single row for {subject!r}:\n{f[['subject_id', 'status', 'evidence']]}"
        return str(hit.iloc[0]["status"])

    def evidence(self, check_id: str, subject: str = "tenant") -> str:
        f = self.findings(check_id)
        return " | ".join(f[f["subject_id"] == subject]["evidence"].astype(str))

    def enforcement(self, uid: str) -> pd.Series:
        """The user's mfa_enforcement row (enforced yes / no / unknown, with the reason)."""
        df = self.data().tables["mfa_enforcement"]
        return df[df["user_id"] == uid].iloc[0]
