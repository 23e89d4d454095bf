"""One Conditional Access policy, read once: what it grants, whom it names, and how it is narrowed.

Shapes follow the Graph v1.0 `conditionalAccessPolicy` resource: `conditions.users` (include/exclude Users, Groups,
Roles, include/excludeGuestsOrExternalUsers), `conditions.applications`, `clientAppTypes`, `platforms`,
`locations`, risk levels, `devices.deviceFilter`, `authenticationFlows`; `grantControls` (operator, builtInControls,
authenticationStrength.allowedCombinations, customAuthenticationFactors, termsOfUse).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ENABLED = "enabled"
REPORT_ONLY = "enabledForReportingButNotEnforced"

# Authentication strength combinations bound to the sign-in origin (Microsoft's built-in "Phishing-resistant MFA").
PHISHING_RESISTANT_COMBINATIONS = frozenset({"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"})
# Grant controls that let a sign-in through without any second factor when OR-ed with MFA.
NON_MFA_CONTROLS = {
    "compliantDevice": "a compliant device",
    "domainJoinedDevice": "a hybrid-joined device",
    "approvedApplication": "an approved client app",
    "compliantApplication": "an app protection policy",
    "passwordChange": "a password change",
}
CLIENT_APP_LABELS = {
    "browser": "browser",
    "mobileAppsAndDesktopClients": "mobile and desktop app",
    "exchangeActiveSync": "Exchange ActiveSync",
    "easSupported": "Exchange ActiveSync",
    "other": "other (legacy) client",
}

# Excluding one of these from an "All resources" policy leaves the mail and files themselves without MFA.
MAIL_AND_FILE_APPS = {
    "office365": "Office 365",
    "00000002-0000-0ff1-ce00-000000000000": "Exchange Online",
    "00000003-0000-0ff1-ce00-000000000000": "SharePoint Online",
    "00000003-0000-0000-c000-000000000000": "Microsoft Graph",
    "00000002-0000-0000-c000-000000000000": "Azure AD Graph",
}

MFA = "mfa"
PHISHING_RESISTANT = "phishing_resistant"
WEAKER = "weaker_alternative"


def _strs(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return []


def _ci(values: Sequence[str]) -> frozenset[str]:
    return frozenset(v.casefold() for v in values)


@dataclass(frozen=True)
class UserCondition:
    """Either the include or the exclude half of `conditions.users`."""

    users: frozenset[str]  # casefolded ids plus the keywords 'all', 'none', 'guestsorexternalusers'
    groups: tuple[str, ...]
    roles: tuple[str, ...]
    guest_types: frozenset[str]  # casefolded guestOrExternalUserTypes
    guest_tenants_all: bool  # externalTenants.membershipKind == 'all' (False: enumerated tenants)

    @staticmethod
    def read(users: Mapping[str, Any], side: str) -> UserCondition:
        guests = users.get(f"{side}GuestsOrExternalUsers") or {}
        types = str(guests.get("guestOrExternalUserTypes") or "") if isinstance(guests, Mapping) else ""
        tenants = guests.get("externalTenants") if isinstance(guests, Mapping) else None
        kind = str((tenants or {}).get("membershipKind") or "all") if isinstance(tenants, Mapping) else "all"
        return UserCondition(
            users=_ci(_strs(users.get(f"{side}Users"))),
            groups=tuple(_strs(users.get(f"{side}Groups"))),
            roles=tuple(_strs(users.get(f"{side}Roles"))),
            guest_types=frozenset(t.strip().casefold() for t in types.split(",") if t.strip()),
            guest_tenants_all=kind.casefold() == "all",
        )

    @property
    def empty(self) -> bool:
        return not (self.users - {"none"}) and not self.groups and not self.roles and not self.guest_types


@dataclass(frozen=True)
class Grant:
    kind: str  # '' (does not require MFA) | mfa | phishing_resistant
    weaker: tuple[str, ...]  # non-MFA alternatives OR-ed with the MFA control
    strength_name: str  # authentication strength display name, or ''
    blocks: bool

    @property
    def label(self) -> str:
        if self.weaker:
            return WEAKER
        return self.kind

    @staticmethod
    def read(grant: Mapping[str, Any] | None) -> Grant:
        grant = grant or {}
        controls = _strs(grant.get("builtInControls"))
        ci = {c.casefold() for c in controls}
        strength = grant.get("authenticationStrength") if isinstance(grant.get("authenticationStrength"), Mapping) \
            else None
        combos = _strs((strength or {}).get("allowedCombinations"))
        pr_strength = bool(combos) and all(c in PHISHING_RESISTANT_COMBINATIONS for c in combos)
        operator = str(grant.get("operator") or "OR").upper()
        requires_mfa = "mfa" in ci or strength is not None
        kind = ""
        if requires_mfa:
            # Under OR, plain 'mfa' next to a phishing-resistant strength lets any MFA through.
            kind = PHISHING_RESISTANT if pr_strength and (operator == "AND" or "mfa" not in ci) else MFA
        weaker: list[str] = []
        if requires_mfa and operator == "OR":
            weaker = [NON_MFA_CONTROLS.get(c, c) for c in controls if c.casefold() not in ("mfa", "block")]
            if _strs(grant.get("customAuthenticationFactors")):
                weaker.append("a custom control")
            if _strs(grant.get("termsOfUse")):
                weaker.append("accepting terms of use")
        name = str((strength or {}).get("displayName") or "")
        return Grant(kind=kind, weaker=tuple(weaker), strength_name=name, blocks="block" in ci)


def _narrowing(cond: Mapping[str, Any]) -> list[str]:
    """Conditions that make the policy apply to only some sign-ins (each a phrase after "policy 'X' ...")."""
    out: list[str] = []
    apps = cond.get("applications") or {}
    include_apps = _strs(apps.get("includeApplications"))
    actions = _strs(apps.get("includeUserActions"))
    contexts = _strs(apps.get("includeAuthenticationContextClassReferences"))
    app_filter = apps.get("applicationFilter") if isinstance(apps.get("applicationFilter"), Mapping) else None
    if actions:
        out.append(f"applies to user actions ({', '.join(actions)}), not to sign-ins")
    elif contexts:
        out.append(f"applies only to authentication contexts ({', '.join(contexts)})")
    elif "all" not in _ci(include_apps):
        shown = ", ".join(include_apps[:3]) + (" ..." if len(include_apps) > 3 else "")
        out.append(f"targets only selected apps ({shown or 'none'}), not all resources")
    if app_filter and str(app_filter.get("mode", "")).casefold() == "include":
        out.append("targets only apps matching a filter")
    vital = [MAIL_AND_FILE_APPS[a.casefold()] for a in _strs(apps.get("excludeApplications"))
             if a.casefold() in MAIL_AND_FILE_APPS]
    if vital:
        out.append(f"excludes {', '.join(vital)}, where the mail and files are")
    client = _strs(cond.get("clientAppTypes"))
    if client and "all" not in _ci(client):
        labels = list(dict.fromkeys(CLIENT_APP_LABELS.get(c, c) for c in client))
        out.append(f"limited to {' and '.join(labels)} sign-ins")
    platforms = cond.get("platforms") or {}
    if isinstance(platforms, Mapping):
        inc, exc = _strs(platforms.get("includePlatforms")), _strs(platforms.get("excludePlatforms"))
        if inc and "all" not in _ci(inc):
            out.append(f"limited to platforms {', '.join(inc)}")
        if exc:
            out.append(f"skips platforms {', '.join(exc)}")
    locations = cond.get("locations") or {}
    if isinstance(locations, Mapping):
        inc, exc = _strs(locations.get("includeLocations")), _strs(locations.get("excludeLocations"))
        if inc and "all" not in _ci(inc):
            out.append("limited to selected locations")
        if exc:
            shown = "trusted locations" if _ci(exc) == {"alltrusted"} else f"{len(exc)} excluded location(s)"
            out.append(f"skips sign-ins from {shown}")
    for key, label in (("userRiskLevels", "user risk"), ("signInRiskLevels", "sign-in risk"),
                       ("insiderRiskLevels", "insider risk")):
        levels = cond.get(key)
        levels = _strs(levels) if isinstance(levels, list) else ([str(levels)] if levels else [])
        if levels:
            out.append(f"applies only at {label} {', '.join(levels)}")
    devices = cond.get("devices") or {}
    if isinstance(devices, Mapping) and isinstance(devices.get("deviceFilter"), Mapping):
        mode = str(devices["deviceFilter"].get("mode", "")).casefold()
        out.append("applies only to devices matching a filter" if mode == "include"
                   else "skips devices matching a filter")
    flows = cond.get("authenticationFlows")
    if isinstance(flows, Mapping) and flows.get("transferMethods"):
        out.append(f"limited to authentication flows ({flows['transferMethods']})")
    return out


@dataclass(frozen=True)
class CompiledPolicy:
    policy_id: str
    name: str
    state: str
    grant: Grant
    include: UserCondition
    exclude: UserCondition
    narrowing: tuple[str, ...]
    excluded_apps: tuple[str, ...]
    all_apps: bool
    all_users: bool
    legacy_clients: bool

    @property
    def enabled(self) -> bool:
        return self.state == ENABLED

    @property
    def state_phrase(self) -> str:
        return {REPORT_ONLY: "is report-only (enabledForReportingButNotEnforced)",
                "disabled": "is disabled"}.get(self.state, f"is in state '{self.state}'")

    @staticmethod
    def read(raw: Mapping[str, Any]) -> CompiledPolicy:
        cond = raw.get("conditions") or {}
        users = cond.get("users") or {}
        apps = cond.get("applications") or {}
        excluded = _strs(apps.get("excludeApplications"))
        app_filter = apps.get("applicationFilter") if isinstance(apps.get("applicationFilter"), Mapping) else None
        if app_filter and str(app_filter.get("mode", "")).casefold() == "exclude":
            excluded.append("apps matching a filter")
        client = _ci(_strs(cond.get("clientAppTypes")))
        include = UserCondition.read(users, "include")
        return CompiledPolicy(
            policy_id=str(raw.get("id") or ""), name=str(raw.get("displayName") or raw.get("id") or "(unnamed)"),
            state=str(raw.get("state") or ""), grant=Grant.read(raw.get("grantControls")),
            include=include, exclude=UserCondition.read(users, "exclude"),
            narrowing=tuple(_narrowing(cond)), excluded_apps=tuple(excluded),
            all_apps="all" in _ci(_strs(apps.get("includeApplications"))),
            all_users="all" in include.users,
            legacy_clients=bool(client & {"exchangeactivesync", "other", "all"}),
        )
