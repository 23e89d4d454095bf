"""Table-driven tests of the Microsoft MFA-enforcement evaluator (idaudit.core.enforcement).

Policies are raw Graph v1.0 conditionalAccessPolicy objects (every condition key present, as Graph returns them);
each case changes one thing and states the verdict, the strength and a phrase the reason must contain.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from idaudit.core.enforcement import Enforcement, GroupDirectory, MicrosoftEvaluator, TenantFacts, UserFacts

GA = "62e90394-69f5-4237-9190-012177145e10"
SEC_ADMIN = "194ae4cb-b126-40b2-bd5b-6091b380977d"
ALICE = "11111111-1111-1111-1111-111111111111"
BOB = "22222222-2222-2222-2222-222222222222"
BREAK_GLASS = "bbbbbbbb-0000-0000-0000-000000000001"
STAFF = "bbbbbbbb-0000-0000-0000-000000000002"
NESTED = "bbbbbbbb-0000-0000-0000-000000000003"
UNCOLLECTED = "bbbbbbbb-0000-0000-0000-00000000dead"
CUSTOM_ROLE = "cccccccc-0000-0000-0000-0000000c0570"
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
INTUNE_ENROLLMENT = "d4ebce55-015a-49b5-a083-c84d1797ae8c"
LEGACY = ["exchangeActiveSync", "other"]
MODERN = ["browser", "mobileAppsAndDesktopClients"]
PR_STRENGTH = {"id": "00000000-0000-0000-0000-000000000004", "displayName": "Phishing-resistant MFA",
               "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]}
MFA_STRENGTH = {"id": "00000000-0000-0000-0000-000000000002", "displayName": "Multifactor authentication",
                "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor",
                                        "password,microsoftAuthenticatorPush", "password,sms"]}
# A custom strength that also lets a password alone through (Graph: requirementsSatisfied 'none').
WEAK_STRENGTH = {"id": "s-weak", "displayName": "Password or key", "policyType": "custom",
                 "requirementsSatisfied": "none", "allowedCombinations": ["fido2", "password"]}
FUTURE_STRENGTH = {"id": "s-future", "displayName": "Future methods", "policyType": "custom",
                   "allowedCombinations": ["fido2", "someFutureMethod"]}


def block(name: str = "Block legacy", clients: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    """An enabled 'block legacy authentication for All users on All resources' policy."""
    return policy(name, conditions__clientAppTypes=LEGACY if clients is None else clients,
                  grantControls__builtInControls=["block"], **changes)


def policy(name: str = "Require MFA", **changes: Any) -> dict[str, Any]:
    """A complete, enabled 'MFA for All users on All resources' policy; `changes` use dotted paths."""
    pol: dict[str, Any] = {
        "id": f"pol-{name}", "displayName": name, "state": "enabled", "templateId": None,
        "conditions": {
            "userRiskLevels": [], "signInRiskLevels": [], "clientAppTypes": ["all"], "platforms": None,
            "locations": None, "times": None, "deviceStates": None, "devices": None, "clientApplications": None,
            "servicePrincipalRiskLevels": [], "insiderRiskLevels": None,
            "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [],
                             "includeAuthenticationContextClassReferences": [], "applicationFilter": None},
            "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
                      "includeRoles": [], "excludeRoles": [], "includeGuestsOrExternalUsers": None,
                      "excludeGuestsOrExternalUsers": None},
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [],
                          "termsOfUse": [], "authenticationStrength": None},
        "sessionControls": None,
    }
    for path, value in changes.items():
        node = pol
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = copy.deepcopy(value)
    return pol


GROUPS = GroupDirectory(
    members={BREAK_GLASS: frozenset({ALICE}), STAFF: frozenset({BOB}), NESTED: frozenset({ALICE})},
    names={BREAK_GLASS: "Break Glass", STAFF: "Staff", NESTED: "Nested admins", UNCOLLECTED: "Contractors"},
    gap="groupMembers: forbidden — 403; fix: grant GroupMember.Read.All (application)")
GUESTS_ALL = {"guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest,b2bCollaborationMember",
              "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants",
                                  "membershipKind": "all"}}
GUESTS_ENUMERATED = {"guestOrExternalUserTypes": "b2bCollaborationGuest",
                     "externalTenants": {"@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants",
                                         "membershipKind": "enumerated", "members": ["contoso-tenant-id"]}}


@dataclass
class Case:
    policies: list[dict[str, Any]] | None
    expect: str
    strength: str = ""
    reason: str = ""  # must appear in reason (for no / unknown) or enforced_by (for yes)
    pr: str = "no"
    user: dict[str, Any] = field(default_factory=dict)
    tenant: dict[str, Any] = field(default_factory=dict)


CASES: dict[str, Case] = {
    # ---- include routes ---------------------------------------------------------------------------------------
    "all users": Case([policy()], "yes", "mfa", "CA policy 'Require MFA'"),
    "included directly": Case([policy(conditions__users__includeUsers=[ALICE])], "yes", "mfa"),
    "not included directly": Case([policy(conditions__users__includeUsers=[BOB])], "no", "",
                                  "policy 'Require MFA' does not include this user"),
    "included through group": Case([policy(conditions__users__includeUsers=[],
                                           conditions__users__includeGroups=[NESTED])], "yes", "mfa"),
    "included through role": Case([policy(conditions__users__includeUsers=[], conditions__users__includeRoles=[GA])],
                                  "yes", "mfa", user={"roles": frozenset({GA})}),
    "role not held": Case([policy(conditions__users__includeUsers=[], conditions__users__includeRoles=[GA])],
                          "no", "", "does not include", user={"roles": frozenset({SEC_ADMIN})}),
    "guest keyword includes guest": Case([policy(conditions__users__includeUsers=["GuestsOrExternalUsers"])],
                                         "yes", "mfa", user={"external_kind": "b2bCollaborationGuest"}),
    "guest keyword skips member": Case([policy(conditions__users__includeUsers=["GuestsOrExternalUsers"])],
                                       "no", "", "does not include"),
    "guest types include guest": Case([policy(conditions__users__includeUsers=[],
                                              conditions__users__includeGuestsOrExternalUsers=GUESTS_ALL)],
                                      "yes", "mfa", user={"external_kind": "b2bCollaborationGuest"}),
    "guest types for enumerated tenants": Case(
        [policy(conditions__users__includeUsers=[], conditions__users__includeGuestsOrExternalUsers=GUESTS_ENUMERATED)],
        "unknown", "", "home tenant is not known", pr="no", user={"external_kind": "b2bCollaborationGuest"}),
    # ---- exclude routes ---------------------------------------------------------------------------------------
    "excluded directly": Case([policy(conditions__users__excludeUsers=[ALICE])], "no", "",
                              "excluded directly in policy 'Require MFA'"),
    "excluded through group": Case([policy("Require MFA for all", conditions__users__excludeGroups=[BREAK_GLASS])],
                                   "no", "", "excluded through group 'Break Glass' in policy 'Require MFA for all'"),
    "excluded through nested group": Case([policy(conditions__users__excludeGroups=[NESTED])], "no", "",
                                          "excluded through group 'Nested admins'"),
    "other group's exclusion does not apply": Case([policy(conditions__users__excludeGroups=[STAFF])], "yes", "mfa"),
    "excluded through role": Case([policy(conditions__users__excludeRoles=[GA])], "no", "",
                                  "excluded through role 'Global Administrator'", user={"roles": frozenset({GA})}),
    "excluded as guest": Case([policy(conditions__users__excludeGuestsOrExternalUsers=GUESTS_ALL)], "no", "",
                              "excluded as a guest or external user", user={"external_kind": "internalGuest"}),
    "guest exclusion spares members": Case([policy(conditions__users__excludeGuestsOrExternalUsers=GUESTS_ALL)],
                                           "yes", "mfa"),
    # ---- state and narrowing ----------------------------------------------------------------------------------
    "only policy is report-only": Case([policy(state="enabledForReportingButNotEnforced")], "no", "",
                                       "the only policy requiring MFA, 'Require MFA', is report-only"),
    "disabled policy": Case([policy(state="disabled")], "no", "", "is disabled"),
    "browser only": Case([policy("X", conditions__clientAppTypes=["browser"])], "no", "",
                         "policy 'X' limited to browser sign-ins"),
    "modern clients only": Case([policy(conditions__clientAppTypes=["browser", "mobileAppsAndDesktopClients"])],
                                "no", "", "limited to browser and mobile and desktop app sign-ins"),
    "platforms": Case([policy(conditions__platforms={"includePlatforms": ["android", "iOS"], "excludePlatforms": []})],
                      "no", "", "limited to platforms android, iOS"),
    "platform excluded": Case([policy(conditions__platforms={"includePlatforms": ["all"],
                                                             "excludePlatforms": ["macOS"]})],
                              "no", "", "skips platforms macOS"),
    "trusted locations skipped": Case([policy(conditions__locations={"includeLocations": ["All"],
                                                                     "excludeLocations": ["AllTrusted"]})],
                                      "no", "", "skips sign-ins from trusted locations"),
    "selected locations": Case([policy(conditions__locations={"includeLocations": ["loc-1"], "excludeLocations": []})],
                               "no", "", "limited to selected locations"),
    "user risk": Case([policy(conditions__userRiskLevels=["high"])], "no", "", "applies only at user risk high"),
    "sign-in risk": Case([policy(conditions__signInRiskLevels=["medium", "high"])], "no", "",
                         "applies only at sign-in risk medium, high"),
    "device filter": Case([policy(conditions__devices={"deviceFilter": {"mode": "exclude",
                                                                        "rule": "device.isCompliant -eq True"}})],
                          "no", "", "skips devices matching a filter"),
    "selected apps": Case([policy(conditions__applications__includeApplications=["Office365"])], "no", "",
                          "targets only selected apps (Office365)"),
    "user action": Case([policy(conditions__applications__includeApplications=[],
                                conditions__applications__includeUserActions=["urn:user:registersecurityinfo"])],
                        "no", "", "applies to user actions"),
    "excluded exchange is not covered": Case(
        [policy(conditions__applications__excludeApplications=["00000002-0000-0ff1-ce00-000000000000"])], "no", "",
        "policy 'Require MFA' excludes Exchange Online, where the mail and files are"),
    # ---- grant ------------------------------------------------------------------------------------------------
    "or compliant device": Case([policy(grantControls__builtInControls=["mfa", "compliantDevice"])], "yes",
                                "weaker_alternative", "also satisfied by a compliant device instead of MFA"),
    "and compliant device": Case([policy(grantControls__operator="AND",
                                         grantControls__builtInControls=["mfa", "compliantDevice"])], "yes", "mfa"),
    "phishing-resistant strength": Case([policy(grantControls__builtInControls=[],
                                                grantControls__authenticationStrength=PR_STRENGTH)],
                                        "yes", "phishing_resistant", "Phishing-resistant MFA", pr="yes"),
    "ordinary strength": Case([policy(grantControls__builtInControls=[],
                                      grantControls__authenticationStrength=MFA_STRENGTH)],
                              "yes", "mfa", "Multifactor authentication"),
    "pr strength or plain mfa": Case([policy(grantControls__authenticationStrength=PR_STRENGTH)], "yes", "mfa"),
    "strongest of two policies": Case([policy("weak", grantControls__builtInControls=["mfa", "compliantDevice"]),
                                       policy("strong")], "yes", "mfa", "CA policy 'strong'"),
    "block everywhere closes every path": Case([policy("Lockdown", grantControls__builtInControls=["block"])], "yes",
                                               "phishing_resistant", "CA policy 'Lockdown' (blocks sign-in)", pr="yes"),
    "block alone is not mfa for modern clients": Case([block()], "no", "",
                                                      "no Conditional Access policy requires MFA"),
    "pr policy excludes user, mfa covers": Case(
        [policy("Admins PR", grantControls__builtInControls=[], grantControls__authenticationStrength=PR_STRENGTH,
                conditions__users__excludeGroups=[BREAK_GLASS]), policy()], "yes", "mfa", "CA policy 'Require MFA'"),
    # ---- other sources ----------------------------------------------------------------------------------------
    "security defaults": Case([], "yes", "mfa", "security defaults", tenant={"security_defaults": True}),
    "per-user enforced": Case([], "yes", "mfa", "per-user MFA (enforced)", user={"per_user_mfa": "enforced"}),
    "per-user enabled, not registered": Case([], "no", "", "no method is registered",
                                             user={"per_user_mfa": "enabled", "mfa_registered": False}),
    "no policies at all": Case([], "no", "", "no Conditional Access policy requires MFA; per-user MFA is disabled; "
                                             "security defaults are off"),
    # ---- missing data: unknown, never no ----------------------------------------------------------------------
    "policies not collected": Case(None, "unknown", "", "Conditional Access policies not collected", pr="unknown",
                                   tenant={"policies_gap": "conditionalAccessPolicies: unlicensed"}),
    "policies not collected, defaults on": Case(None, "yes", "mfa", "security defaults",
                                                tenant={"security_defaults": True}),
    "policies not collected, per-user enforced": Case(None, "yes", "mfa", "per-user MFA", pr="unknown",
                                                      user={"per_user_mfa": "enforced"}),
    "exclusion group not collected": Case([policy(conditions__users__excludeGroups=[UNCOLLECTED])], "unknown", "",
                                          "members of group 'Contractors' were not collected: groupMembers: forbidden"),
    "inclusion group not collected": Case([policy(conditions__users__includeUsers=[],
                                                  conditions__users__includeGroups=[UNCOLLECTED])],
                                          "unknown", "", "cannot tell whether it includes this user"),
    "proven exclusion beats unknown group": Case(
        [policy(conditions__users__excludeGroups=[UNCOLLECTED, BREAK_GLASS])], "no", "", "excluded through group"),
    "excluded roles not collected": Case([policy(conditions__users__excludeRoles=[GA])], "unknown", "",
                                         "directory roles were not collected", user={"roles": None}),
    "per-user state not collected": Case([], "unknown", "", "per-user MFA state not collected",
                                         user={"per_user_mfa": None, "per_user_gap": "perUserMfaState: error"}),
    "security defaults unknown": Case([], "unknown", "", "security defaults state not collected",
                                      tenant={"security_defaults": None}),
    "pr policy unknown for a covered user": Case(
        [policy("Admins PR", grantControls__builtInControls=[], grantControls__authenticationStrength=PR_STRENGTH,
                conditions__users__excludeGroups=[UNCOLLECTED]), policy()], "yes", "mfa", pr="unknown"),
    # ---- issue 15: documented semantics (each case failed before its fix) --------------------------------------
    # 1. role targeting: only built-in roles; a custom role id targets nobody; a role of unknown kind is unknown
    "custom role in includeRoles targets nobody": Case(
        [policy(conditions__users__includeUsers=[], conditions__users__includeRoles=[CUSTOM_ROLE])], "no", "",
        "does not include", user={"roles": frozenset({CUSTOM_ROLE})}, tenant={"custom_roles": frozenset({CUSTOM_ROLE})}),
    "custom role in excludeRoles excludes nobody": Case(
        [policy(conditions__users__excludeRoles=[CUSTOM_ROLE])], "yes", "mfa",
        user={"roles": frozenset({CUSTOM_ROLE})}, tenant={"custom_roles": frozenset({CUSTOM_ROLE})}),
    "role of unknown kind is unknown": Case(
        [policy(conditions__users__excludeRoles=[CUSTOM_ROLE])], "unknown", "",
        "whether role 'cccccccc-0000-0000-0000-0000000c0570' is a built-in role", pr="no",
        user={"roles": frozenset({CUSTOM_ROLE})},
        tenant={"unknown_kind_roles": {CUSTOM_ROLE: "roleDefinitions: forbidden"}}),
    # 5. a role held through a group whose members were not read: any user may hold it
    "role through unreadable group is unknown": Case(
        [policy(conditions__users__excludeRoles=[HELPDESK])], "unknown", "", "through group 'Helpdesk'", pr="no",
        tenant={"unresolved_roles": {HELPDESK: "through group 'Helpdesk', whose members were not collected"}}),
    "unreadable group of another role does not matter": Case(
        [policy(conditions__users__excludeRoles=[GA])], "yes", "mfa",
        tenant={"unresolved_roles": {HELPDESK: "through group 'Helpdesk', whose members were not collected"}}),
    # 2. per-user MFA 'enabled' still accepts the password alone from legacy clients
    "per-user enabled leaves legacy clients open": Case(
        [], "no", "", "still accepts the password alone from legacy clients",
        user={"per_user_mfa": "enabled", "mfa_registered": True}),
    "per-user enabled, registration unknown, is decided": Case(
        [], "no", "", "legacy clients", user={"per_user_mfa": "enabled", "mfa_registered": None}),
    "per-user enabled plus a legacy block": Case(
        [block()], "yes", "mfa", "per-user MFA (enabled", user={"per_user_mfa": "enabled", "mfa_registered": True}),
    "per-user enabled, registration unknown, legacy blocked": Case(
        [block()], "unknown", "", "registration was not collected",
        user={"per_user_mfa": "enabled", "mfa_registered": None}),
    # 4. grant controls an attacker satisfies without a second factor
    "mfa or terms of use is not mfa": Case(
        [policy(grantControls__termsOfUse=["tou-1"])], "no", "", "also satisfied by accepting terms of use instead of MFA"),
    "mfa or approved app is not mfa": Case(
        [policy(grantControls__builtInControls=["mfa", "approvedApplication"])], "no", "", "an approved client app"),
    "mfa or app protection is not mfa": Case(
        [policy(grantControls__builtInControls=["mfa", "compliantApplication"])], "no", "", "an app protection policy"),
    "mfa or password change is mfa": Case(
        [policy(grantControls__builtInControls=["mfa", "passwordChange"])], "yes", "mfa"),
    "mfa or custom control is unknown": Case(
        [policy(grantControls__customAuthenticationFactors=["Duo"])], "unknown", "", "custom control", pr="no"),
    "strength with a single-factor combination": Case(
        [policy(grantControls__builtInControls=[], grantControls__authenticationStrength=WEAK_STRENGTH)], "no", "",
        "authentication strength 'Password or key' does not require MFA"),
    "strength with an unknown combination": Case(
        [policy(grantControls__builtInControls=[], grantControls__authenticationStrength=FUTURE_STRENGTH)],
        "unknown", "", "someFutureMethod", pr="no"),
    "excluded app is not covered": Case(
        [policy(conditions__applications__excludeApplications=["app-1"])], "no", "",
        "excludes app(s) Legacy Billing", tenant={"app_names": {"app-1": "Legacy Billing"}}),
    "excluded intune enrollment is a caveat": Case(
        [policy(conditions__applications__excludeApplications=[INTUNE_ENROLLMENT])], "yes", "mfa",
        "Microsoft Intune Enrollment (a documented benign exclusion)"),
    # 4. coverage across policies: every client path needs MFA or a block
    "mfa for modern clients plus a legacy block": Case(
        [policy("MFA modern", conditions__clientAppTypes=MODERN), block()], "yes", "mfa",
        "CA policy 'MFA modern' (browser and mobile and desktop app sign-ins) + CA policy 'Block legacy'"),
    "mfa for browsers plus a legacy block": Case(
        [policy("MFA web", conditions__clientAppTypes=["browser"]), block()], "no", "",
        "not on mobile and desktop app sign-ins"),
    "pr for modern clients plus a legacy block": Case(
        [policy("PR modern", conditions__clientAppTypes=MODERN, grantControls__builtInControls=[],
                grantControls__authenticationStrength=PR_STRENGTH), block()], "yes", "phishing_resistant", pr="yes"),
}


def evaluate(case: Case) -> Enforcement:
    tenant = TenantFacts(**{"security_defaults": False, "policies": case.policies, "groups": GROUPS,
                            "role_names": {GA: "Global Administrator"}, **case.tenant})
    user = UserFacts(**{"user_id": ALICE, "roles": frozenset(), "per_user_mfa": "disabled", **case.user})
    return MicrosoftEvaluator(tenant).evaluate(user)


@pytest.mark.parametrize("name", list(CASES))
def test_evaluator(name: str) -> None:
    case = CASES[name]
    got = evaluate(case)
    assert got.enforced == case.expect, got
    assert got.strength == case.strength, got
    assert got.phishing_resistant == case.pr, got
    where = got.enforced_by if case.expect == "yes" else got.reason
    assert case.reason in where, got
    if case.expect != "yes":
        assert got.enforced_by == "" and got.reason, got


def test_every_route_is_named_for_the_same_user() -> None:
    """Bob is staff; a policy that excludes both Alice directly and the Staff group names the route that hit him."""
    pol = policy("All staff", conditions__users__excludeUsers=[ALICE], conditions__users__excludeGroups=[STAFF])
    tenant = TenantFacts(security_defaults=False, policies=[pol], groups=GROUPS)
    ev = MicrosoftEvaluator(tenant)
    bob = ev.evaluate(UserFacts(user_id=BOB))
    alice = ev.evaluate(UserFacts(user_id=ALICE))
    carol = ev.evaluate(UserFacts(user_id="33333333-3333-3333-3333-333333333333"))
    assert "excluded through group 'Staff' in policy 'All staff'" in bob.reason
    assert "excluded directly in policy 'All staff'" in alice.reason
    assert carol.enforced == "yes" and carol.enforced_by == "CA policy 'All staff'"


def test_pr_gap_is_explained_for_enforced_admins() -> None:
    """An admin covered by plain MFA learns why no phishing-resistant strength applies (report-only here)."""
    pr_policy = policy("Admins PR", state="enabledForReportingButNotEnforced", grantControls__builtInControls=[],
                       grantControls__authenticationStrength=PR_STRENGTH, conditions__users__includeUsers=[],
                       conditions__users__includeRoles=[GA])
    tenant = TenantFacts(security_defaults=False, policies=[policy(), pr_policy], groups=GROUPS)
    got = MicrosoftEvaluator(tenant).evaluate(UserFacts(user_id=ALICE, roles=frozenset({GA})))
    assert got.enforced == "yes" and got.phishing_resistant == "no"
    assert "policy 'Admins PR' is report-only" in got.reason


# ---- issue 15 item 3: is legacy authentication (Exchange ActiveSync + other clients) closed for this user? -------
LEGACY_CASES: dict[str, Case] = {
    "block for all users": Case([block()], "yes", reason="CA policy 'Block legacy'"),
    "block excluding the user's group": Case(
        [block(conditions__users__excludeGroups=[BREAK_GLASS])], "no",
        reason="excluded through group 'Break Glass' in policy 'Block legacy'"),
    "block only exchange activesync": Case([block(clients=["exchangeActiveSync"])], "no",
                                           reason="policy 'Block legacy' limited to Exchange ActiveSync sign-ins"),
    "block narrowed by location": Case(
        [block(conditions__locations={"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]})], "no",
        reason="policy 'Block legacy' skips sign-ins from trusted locations"),
    "block narrowed by platform": Case(
        [block(conditions__platforms={"includePlatforms": ["windows"], "excludePlatforms": []})], "no",
        reason="limited to platforms windows"),
    "block of selected apps": Case([block(conditions__applications__includeApplications=["Office365"])], "no",
                                   reason="targets only selected apps"),
    "report-only block": Case([block(state="enabledForReportingButNotEnforced")], "no", reason="report-only"),
    "mfa on all client apps blocks legacy indirectly": Case([policy()], "yes", reason="CA policy 'Require MFA'"),
    "mfa on modern clients only": Case([policy(conditions__clientAppTypes=MODERN)], "no",
                                       reason="limited to browser and mobile and desktop app sign-ins"),
    # Microsoft: legacy clients cannot send MFA or device state, so any grant control on them blocks them
    "mfa or terms of use still blocks legacy clients": Case([policy(grantControls__termsOfUse=["tou-1"])], "yes",
                                                            reason="CA policy 'Require MFA'"),
    "security defaults": Case([], "yes", reason="security defaults", tenant={"security_defaults": True}),
    "per-user enforced needs app passwords": Case([], "yes", reason="per-user MFA (enforced)",
                                                  user={"per_user_mfa": "enforced"}),
    "per-user enabled": Case([], "no", reason="still accepts the password alone",
                             user={"per_user_mfa": "enabled", "mfa_registered": True}),
    "no policy at all": Case([], "no", reason="security defaults are off"),
    "policies not collected": Case(None, "unknown", reason="Conditional Access policies not collected"),
    "exclusion group not collected": Case([block(conditions__users__excludeGroups=[UNCOLLECTED])], "unknown",
                                          reason="members of group 'Contractors' were not collected"),
}


@pytest.mark.parametrize("name", list(LEGACY_CASES))
def test_legacy_block(name: str) -> None:
    case = LEGACY_CASES[name]
    got = evaluate(case)
    assert got.legacy == case.expect, got
    assert case.reason in got.legacy_detail, got
