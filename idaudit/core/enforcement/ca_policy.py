"""One Conditional Access policy, read once: what it grants, whom it names, which sign-ins it reaches.

Shapes follow the Graph v1.0 `conditionalAccessPolicy` resource: `conditions.users` (include/exclude Users, Groups,
Roles, include/excludeGuestsOrExternalUsers), `conditions.applications`, `clientAppTypes`, `platforms`,
`locations`, risk levels, `devices.deviceFilter`, `authenticationFlows`; `grantControls` (operator, builtInControls,
authenticationStrength, customAuthenticationFactors, termsOfUse). Every rule here is cited in docs/semantics.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from idaudit.core.enforcement.grant import MFA, PHISHING_RESISTANT, WEAKER, Grant

__all__ = ["MFA", "PHISHING_RESISTANT", "WEAKER", "CompiledPolicy", "Grant", "UserCondition"]

ENABLED = "enabled"
REPORT_ONLY = "enabledForReportingButNotEnforced"

# The client app types a sign-in can come from (Graph conditionalAccessClientApp). Modern authentication: browser,
# mobileAppsAndDesktopClients; legacy authentication: exchangeActiveSync and other (IMAP, POP, SMTP AUTH, MAPI,
# older Office clients). A sign-in is protected only if every one of these paths is.
BROWSER, MODERN_APPS, EAS, OTHER = "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other"
CLIENT_PATHS: tuple[str, ...] = (BROWSER, MODERN_APPS, EAS, OTHER)
LEGACY_PATHS = frozenset({EAS, OTHER})
PATH_LABELS = {BROWSER: "browser", MODERN_APPS: "mobile and desktop app", EAS: "Exchange ActiveSync",
               OTHER: "other (legacy) client"}
_CLIENT_ALIASES = {"browser": BROWSER, "mobileappsanddesktopclients": MODERN_APPS, "exchangeactivesync": EAS,
                   "eassupported": EAS, "other": OTHER}

# Excluding one of these from an "All resources" policy leaves the mail and files themselves without MFA.
MAIL_AND_FILE_APPS = {
    "office365": "Office 365",
    "00000002-0000-0ff1-ce00-000000000000": "Exchange Online",
    "00000003-0000-0ff1-ce00-000000000000": "SharePoint Online",
    "00000003-0000-0000-c000-000000000000": "Microsoft Graph",
    "00000002-0000-0000-c000-000000000000": "Azure AD Graph",
}
# Exclusions Microsoft documents for an all-resources policy that hold no mail or files: a pass with a caveat.
BENIGN_EXCLUSIONS = {
    "d4ebce55-015a-49b5-a083-c84d1797ae8c": "Microsoft Intune Enrollment",
    "45a330b1-b1ec-4cc1-9161-9f03992aa49f": "Universal Store Service APIs and Web Application",
}
APP_FILTER = "apps matching a filter"


def strs(value: Any) -> list[str]:
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
            users=_ci(strs(users.get(f"{side}Users"))),
            groups=tuple(strs(users.get(f"{side}Groups"))),
            roles=tuple(strs(users.get(f"{side}Roles"))),
            guest_types=frozenset(t.strip().casefold() for t in types.split(",") if t.strip()),
            guest_tenants_all=kind.casefold() == "all",
        )

    @property
    def empty(self) -> bool:
        return not (self.users - {"none"}) and not self.groups and not self.roles and not self.guest_types


def client_paths(cond: Mapping[str, Any]) -> frozenset[str]:
    """The client app types a policy reaches; none configured (or 'all') is every type."""
    values = _ci(strs(cond.get("clientAppTypes")))
    if not values or "all" in values:
        return frozenset(CLIENT_PATHS)
    return frozenset(_CLIENT_ALIASES[v] for v in values if v in _CLIENT_ALIASES)


def paths_phrase(paths: frozenset[str] | set[str]) -> str:
    """'browser, mobile and desktop app and Exchange ActiveSync' for a set of client paths, in documented order."""
    labels = [PATH_LABELS[p] for p in CLIENT_PATHS if p in paths]
    return " and ".join(labels) if len(labels) < 3 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def _narrowing(cond: Mapping[str, Any]) -> list[str]:
    """Conditions other than the client app type that make the policy reach only some sign-ins (phrases after
    "policy 'X' ..."). Excluded applications are judged by the evaluator, which knows their names."""
    out: list[str] = []
    apps = cond.get("applications") or {}
    include_apps = strs(apps.get("includeApplications"))
    actions = strs(apps.get("includeUserActions"))
    contexts = strs(apps.get("includeAuthenticationContextClassReferences"))
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
    platforms = cond.get("platforms") or {}
    if isinstance(platforms, Mapping):
        inc, exc = strs(platforms.get("includePlatforms")), strs(platforms.get("excludePlatforms"))
        if inc and "all" not in _ci(inc):
            out.append(f"limited to platforms {', '.join(inc)}")
        if exc:
            out.append(f"skips platforms {', '.join(exc)}")
    locations = cond.get("locations") or {}
    if isinstance(locations, Mapping):
        inc, exc = strs(locations.get("includeLocations")), strs(locations.get("excludeLocations"))
        if inc and "all" not in _ci(inc):
            out.append("limited to selected locations")
        if exc:
            shown = "trusted locations" if _ci(exc) == {"alltrusted"} else f"{len(exc)} excluded location(s)"
            out.append(f"skips sign-ins from {shown}")
    for key, label in (("userRiskLevels", "user risk"), ("signInRiskLevels", "sign-in risk"),
                       ("insiderRiskLevels", "insider risk")):
        levels = cond.get(key)
        levels = strs(levels) if isinstance(levels, list) else ([str(levels)] if levels else [])
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
    narrowing: tuple[str, ...]  # conditions other than client app type and excluded apps
    excluded_apps: tuple[str, ...]  # app ids (or APP_FILTER) excluded from the targeted resources
    clients: frozenset[str]  # client paths (CLIENT_PATHS) the policy reaches
    all_apps: bool
    all_users: bool

    @property
    def enabled(self) -> bool:
        return self.state == ENABLED

    @property
    def legacy_clients(self) -> bool:
        return bool(self.clients & LEGACY_PATHS)

    @property
    def client_phrase(self) -> str:
        """"limited to browser sign-ins" when the policy reaches only some client paths, else ''."""
        if self.clients == frozenset(CLIENT_PATHS):
            return ""
        return f"limited to {paths_phrase(self.clients) or 'no'} sign-ins"

    @property
    def harmful_exclusions(self) -> tuple[str, ...]:
        """Excluded apps outside Microsoft's documented benign list: sign-ins to them escape this policy."""
        return tuple(a for a in self.excluded_apps if a.casefold() not in BENIGN_EXCLUSIONS)

    @property
    def benign_exclusions(self) -> tuple[str, ...]:
        return tuple(BENIGN_EXCLUSIONS[a.casefold()] for a in self.excluded_apps if a.casefold() in BENIGN_EXCLUSIONS)

    @property
    def state_phrase(self) -> str:
        return {REPORT_ONLY: "is report-only (enabledForReportingButNotEnforced)",
                "disabled": "is disabled"}.get(self.state, f"is in state '{self.state}'")

    @staticmethod
    def read(raw: Mapping[str, Any]) -> CompiledPolicy:
        cond = raw.get("conditions") or {}
        users = cond.get("users") or {}
        apps = cond.get("applications") or {}
        excluded = strs(apps.get("excludeApplications"))
        app_filter = apps.get("applicationFilter") if isinstance(apps.get("applicationFilter"), Mapping) else None
        if app_filter and str(app_filter.get("mode", "")).casefold() == "exclude":
            excluded.append(APP_FILTER)
        include = UserCondition.read(users, "include")
        return CompiledPolicy(
            policy_id=str(raw.get("id") or ""), name=str(raw.get("displayName") or raw.get("id") or "(unnamed)"),
            state=str(raw.get("state") or ""), grant=Grant.read(raw.get("grantControls")),
            include=include, exclude=UserCondition.read(users, "exclude"),
            narrowing=tuple(_narrowing(cond)), excluded_apps=tuple(excluded), clients=client_paths(cond),
            all_apps="all" in _ci(strs(apps.get("includeApplications"))),
            all_users="all" in include.users,
        )
