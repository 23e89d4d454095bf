"""Documented Microsoft semantics, end to end on a minimal tenant: raw Graph JSON -> snapshot -> normalise -> check.

Each case edits the small tenant of tests/ms_raw.py the way a real tenant can be (every shape is one Graph
documents), runs one check through the real engine and states the verdict Microsoft's documentation implies.
The rule and its source are in docs/semantics.md, section "Microsoft: who MFA really covers". Every case here
failed before the fix that introduced it, except those marked `guard` (already right; kept so it stays right).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from idaudit.core.engine import CheckSettings
from idaudit.core.normalise import normalise
from idaudit.core.snapshot import SectionStatus
from tests.checkkit import row, run
from tests.ms_raw import (
    ADA,
    BEN,
    BREAK_GLASS,
    CARA,
    EXCHANGE_ADMIN,
    HELPDESK,
    HELPDESK_GROUP,
    _ca,
    raw_tenant,
)
from tests.ms_raw import write_snapshot as snap

NOW = CheckSettings(now=datetime(2026, 11, 28, 12, tzinfo=UTC))
Edit = Callable[[dict[str, Any]], None]


def _user(raw: dict[str, Any], uid: str) -> dict[str, Any]:
    return next(u for u in raw["users"] if u["id"] == uid)


def sign_in(uid: str, created: str = "2023-01-10T09:00:00Z", **activity: Any) -> Edit:
    """Replace one user's signInActivity (keys absent from `activity` are absent from the object)."""
    def edit(raw: dict[str, Any]) -> None:
        user = _user(raw, uid)
        user["createdDateTime"] = created
        user["signInActivity"] = dict(activity)
    return edit


CUSTOM_ROLE = "5a0c2d1e-0000-4000-8000-00000000c057"
ATTACK_SIM_ADMIN = "c430b396-e693-46cc-96f3-db01bf8bb62a"  # built-in, absent from idaudit's fallback lists
TEAMS = "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"
INTUNE_ENROLLMENT = "d4ebce55-015a-49b5-a083-c84d1797ae8c"
WEAK_STRENGTH = {"id": "s-weak", "displayName": "Password or key", "policyType": "custom",
                 "requirementsSatisfied": "none", "allowedCombinations": ["fido2", "password"]}
FORBIDDEN = (SectionStatus.FORBIDDEN, "403 Authorization_RequestDenied")


def policies(*pols: dict[str, Any]) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        raw["conditionalAccessPolicies"] = list(pols)
    return edit


def both(*edits: Edit) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        for e in edits:
            e(raw)
    return edit


def ca(name: str, clients: list[str] | None = None, grant: dict[str, Any] | None = None,
       conditions: dict[str, Any] | None = None, apps: dict[str, Any] | None = None, **users: Any) -> dict[str, Any]:
    pol = _ca(name, **users)
    if clients is not None:
        pol["conditions"]["clientAppTypes"] = clients
    pol["grantControls"].update(grant or {})
    pol["conditions"].update(conditions or {})
    pol["conditions"]["applications"].update(apps or {})
    return pol


def block_legacy(clients: list[str] | None = None, conditions: dict[str, Any] | None = None,
                 **users: Any) -> dict[str, Any]:
    return ca("Block legacy", clients or ["exchangeActiveSync", "other"], {"builtInControls": ["block"]},
              conditions, **users)


def assign(principal: str, role: str, scope: str = "/", kind: str = "user") -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        raw["roleAssignments"].append({"id": f"ra-{principal}-{role}", "principalId": principal,
                                       "roleDefinitionId": role, "directoryScopeId": scope,
                                       "principal": {"@odata.type": f"#microsoft.graph.{kind}", "id": principal}})
    return edit


def rescope_helpdesk(scope: str) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        next(a for a in raw["roleAssignments"] if a["roleDefinitionId"] == HELPDESK)["directoryScopeId"] = scope
    return edit


def per_user(uid: str, state: str) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        raw["perUserMfaState"][uid] = {"perUserMfaState": state}
    return edit


def custom_role(raw: dict[str, Any]) -> None:
    raw["roleDefinitions"].append({"id": CUSTOM_ROLE, "templateId": CUSTOM_ROLE, "displayName": "Front desk admin",
                                   "isBuiltIn": False, "isPrivileged": False})


@dataclass(frozen=True)
class Case:
    edit: Edit
    check: str
    subject: str
    expect: str
    evidence: str = ""
    fail: dict[str, tuple[SectionStatus, str]] | None = None
    failed_subjects: dict[str, dict[str, str]] | None = None
    guard: bool = False  # already right before issue 15; kept so it stays right


CASES: dict[str, Case] = {
    # ---- IDA-ACCT-001: stale accounts decide on lastSuccessfulSignInDateTime --------------------------------
    "password-sprayed dormant account is stale": Case(
        sign_in(BEN, lastSignInDateTime="2026-11-27T03:00:00Z", lastSuccessfulSignInDateTime=None,
                lastNonInteractiveSignInDateTime=None),
        "IDA-ACCT-001", BEN, "fail", "no successful sign-in recorded"),
    "successful sign-in decides, not the attempt": Case(
        sign_in(BEN, lastSignInDateTime="2026-11-27T03:00:00Z", lastSuccessfulSignInDateTime="2026-03-01T08:00:00Z",
                lastNonInteractiveSignInDateTime="2026-03-01T08:00:00Z"),
        "IDA-ACCT-001", BEN, "fail", "lastSuccessfulSignInDateTime"),
    "non-interactive success keeps an account active": Case(
        sign_in(BEN, lastSignInDateTime="2026-01-02T08:00:00Z", lastSuccessfulSignInDateTime="2026-11-25T08:00:00Z",
                lastNonInteractiveSignInDateTime="2026-11-25T08:00:00Z"),
        "IDA-ACCT-001", BEN, "pass", "last successful sign-in 2026-11-25"),
    "recent attempt without the success field is unknown": Case(
        sign_in(BEN, lastSignInDateTime="2026-11-27T03:00:00Z", lastNonInteractiveSignInDateTime=None),
        "IDA-ACCT-001", BEN, "unknown", "successful or not"),
    "old attempts without the success field are stale": Case(
        sign_in(BEN, lastSignInDateTime="2026-01-02T08:00:00Z",
                lastNonInteractiveSignInDateTime="2026-02-02T08:00:00Z"),
        "IDA-ACCT-001", BEN, "fail", "lastNonInteractiveSignInDateTime"),
    # ---- 1. role-targeted Conditional Access: active, built-in, tenant-scope assignments only -------------------
    "AU-scoped role is not targeted by includeRoles": Case(
        both(policies(ca("Helpdesk MFA", includeUsers=[], includeRoles=[HELPDESK])),
             rescope_helpdesk("/administrativeUnits/au-clinic-a")),
        "IDA-AUTH-002", CARA, "fail", "does not include"),
    "AU-scoped role is not excluded by excludeRoles": Case(
        both(policies(ca("Require MFA for all", excludeRoles=[HELPDESK])),
             rescope_helpdesk("/administrativeUnits/au-clinic-a")),
        "IDA-AUTH-002", CARA, "pass", "CA policy 'Require MFA for all'"),
    "custom role in includeRoles targets nobody": Case(
        both(custom_role, assign(BEN, CUSTOM_ROLE), policies(ca("Front desk MFA", includeUsers=[],
                                                                  includeRoles=[CUSTOM_ROLE]))),
        "IDA-AUTH-002", BEN, "fail", "does not include"),
    "PIM-eligible holder is not covered until activation": Case(
        policies(ca("Exchange admins MFA", includeUsers=[], includeRoles=[EXCHANGE_ADMIN])),
        "IDA-AUTH-002", BEN, "fail", "does not include", guard=True),
    # ---- 2. per-user MFA 'enabled' is not enforcement ----------------------------------------------------------
    "per-user enabled without registration data is decided": Case(
        both(policies(), per_user(BEN, "enabled")), "IDA-AUTH-002", BEN, "fail",
        "still accepts the password alone from legacy clients",
        fail={"userRegistrationDetails": FORBIDDEN, "authenticationMethods": FORBIDDEN}),
    "per-user enabled and registered leaves legacy clients open": Case(
        both(policies(), per_user(BEN, "enabled")), "IDA-AUTH-002", BEN, "fail", "legacy"),
    # ---- 3. IDA-AUTH-006: the legacy block, per user, with the same engine ------------------------------------
    "legacy block excluding a group leaves its members open": Case(
        policies(ca("Require MFA for all", ["browser", "mobileAppsAndDesktopClients"]),
                 block_legacy(excludeGroups=[BREAK_GLASS])),
        "IDA-AUTH-006", ADA, "fail", "excluded through group 'Break Glass' in policy 'Block legacy'"),
    "legacy block skipping trusted locations": Case(
        policies(block_legacy(conditions={"locations": {"includeLocations": ["All"],
                                                        "excludeLocations": ["AllTrusted"]}})),
        "IDA-AUTH-006", BEN, "fail", "skips sign-ins from trusted locations"),
    "legacy block limited to one platform": Case(
        policies(block_legacy(conditions={"platforms": {"includePlatforms": ["windows"], "excludePlatforms": []}})),
        "IDA-AUTH-006", BEN, "fail", "limited to platforms windows"),
    "legacy block of Exchange ActiveSync only": Case(
        policies(block_legacy(["exchangeActiveSync"])), "IDA-AUTH-006", BEN, "fail",
        "limited to Exchange ActiveSync sign-ins"),
    "MFA on every client app closes legacy clients": Case(
        lambda raw: None, "IDA-AUTH-006", BEN, "pass", "CA policy 'Require MFA for all'"),
    # ---- 4. grant controls and coverage across policies --------------------------------------------------------
    "mfa or terms of use is not MFA": Case(
        policies(ca("Require MFA for all", grant={"termsOfUse": ["tou-clinic"]})), "IDA-AUTH-002", BEN, "fail",
        "also satisfied by accepting terms of use instead of MFA"),
    "a strength that allows a password alone is not MFA": Case(
        policies(ca("Require MFA for all", grant={"builtInControls": [], "authenticationStrength": WEAK_STRENGTH})),
        "IDA-AUTH-002", BEN, "fail", "does not require MFA (it allows password)"),
    "excluding Teams leaves users uncovered": Case(
        policies(ca("Require MFA for all", apps={"excludeApplications": [TEAMS]})), "IDA-AUTH-002", BEN, "fail",
        "excludes app(s)"),
    "excluding Intune Enrollment is a documented caveat": Case(
        policies(ca("Require MFA for all", apps={"excludeApplications": [INTUNE_ENROLLMENT]})), "IDA-AUTH-002",
        BEN, "pass", "Microsoft Intune Enrollment (a documented benign exclusion)"),
    "MFA for modern clients plus a legacy block cover every path": Case(
        policies(ca("Require MFA for all", ["browser", "mobileAppsAndDesktopClients"]), block_legacy()),
        "IDA-AUTH-002", BEN, "pass", "+ CA policy 'Block legacy'"),
    # ---- 5. partial data stays unknown ----------------------------------------------------------------------
    "role held through a group whose members were not read": Case(
        policies(ca("Require MFA for all", excludeRoles=[HELPDESK])), "IDA-AUTH-002", BEN, "unknown",
        "through group 'IT Helpdesk Admins', whose members were not collected",
        failed_subjects={"groupMembers": {HELPDESK_GROUP: "error: 503 after 3 retries"}}),
    "exclusion group whose members failed is unknown": Case(
        lambda raw: None, "IDA-AUTH-002", BEN, "unknown", "members of group 'Break Glass' were not collected",
        failed_subjects={"groupMembers": {BREAK_GLASS: "error: 503 after 3 retries"}}, guard=True),
    "holder of a role the fallback list lacks stays in the privileged checks": Case(
        assign(BEN, ATTACK_SIM_ADMIN), "IDA-AUTH-003", BEN, "unknown",
        "cannot tell whether these roles are privileged (section 'roleDefinitions' forbidden",
        fail={"roleDefinitions": FORBIDDEN}),
}


def verdict(tmp_path: Path, case: Case) -> Any:
    raw = raw_tenant()
    case.edit(raw)
    data = normalise(snap(tmp_path / "snap", raw, fail=case.fail, failed_subjects=case.failed_subjects))
    return row(run(data, case.check, NOW), case.subject)


@pytest.mark.parametrize("name", list(CASES))
def test_documented_semantics(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    got = verdict(tmp_path, case)
    assert got["status"] == case.expect, f"{name}: {got['status']} — {got['evidence']}"
    assert case.evidence.casefold() in str(got["evidence"]).casefold(), f"{name}: {got['evidence']}"
