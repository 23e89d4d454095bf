"""Which Cloud Identity Policy API setting applies to an OU, and whether 2SV is really enforced for a user.

Rules (Policy API concepts, as Google documents them):
- A policy binds one setting (`setting.type`, e.g. `settings/security.two_step_verification_enforcement`) to an OU
  (`policyQuery.orgUnit` = `orgUnits/<id>`) or to a group (`policyQuery.group`).
- Several policies may target the same OU and setting: the one with the highest `policyQuery.sortOrder` wins.
- An OU without a policy for a setting inherits its parent's; the root without one has Google's default.
- 2SV enforcement: `enforcedFrom` in the past means enforced; `1970-01-01T00:00:00Z` (the epoch) means off; a
  date in the future means enforcement is scheduled, not in effect.
- Group policies override OU ones for the group's members. Group membership is not collected, so where a group
  policy exists for a setting, a user's value for that setting is uncertain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SETTING_PREFIX = "settings/"
ENFORCEMENT = "security.two_step_verification_enforcement"
FACTORS = "security.two_step_verification_enforcement_factor"
GRACE = "security.two_step_verification_grace_period"
DEVICE_TRUST = "security.two_step_verification_device_trust"
ENROLLMENT = "security.two_step_verification_enrollment"

# Google's documented default values for settings missing from the Policy API answer ("Default field values"),
# plus 2SV enforcement off (a new tenant does not enforce 2SV).
DOCUMENTED_DEFAULTS: dict[str, dict[str, Any]] = {
    "gmail.auto_forwarding": {"enableAutoForwarding": True},
    "security.less_secure_apps": {"allowLessSecureApps": False},
    DEVICE_TRUST: {"allowTrustingDevice": True},
    FACTORS: {"allowedSignInFactorSet": "ALL"},
    ENROLLMENT: {"allowEnrollment": True},
    ENFORCEMENT: {"enforcedFrom": "1970-01-01T00:00:00Z"},
}


@dataclass(frozen=True)
class Resolved:
    """A setting's value for an OU and where it came from."""

    value: Mapping[str, Any] | None  # None: no policy and no documented default
    ou: str  # the OU path whose policy applies ('' when defaulted)
    policy: str  # policy name ('' when defaulted)

    @property
    def source(self) -> str:
        if self.policy:
            return f"Policy API ({self.policy}, OU {self.ou})"
        return "Google documented default (no policy returned)" if self.value is not None else ""


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_duration(value: Any) -> timedelta | None:
    """Google durations: '604800s' (also accepts '7d', '12h', '30m')."""
    if not isinstance(value, str):
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", value.strip())
    if not m:
        return None
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return timedelta(seconds=float(m.group(1)) * unit)


class PolicyResolver:
    """Resolves settings per OU path from raw Policy API objects and the Directory OU list."""

    def __init__(self, policies: Iterable[Mapping[str, Any]], orgunits: Iterable[Mapping[str, Any]]) -> None:
        self.path_by_id: dict[str, str] = {}
        for ou in orgunits:
            if not isinstance(ou, Mapping):
                continue
            oid = str(ou.get("orgUnitId", "")).removeprefix("id:")
            if oid:
                self.path_by_id[oid] = str(ou.get("orgUnitPath", ""))
            pid = str(ou.get("parentOrgUnitId", "")).removeprefix("id:")
            if pid and ou.get("parentOrgUnitPath") == "/":
                self.path_by_id.setdefault(pid, "/")  # root id is known from its children
        self._by_ou: dict[tuple[str, str], tuple[float, str, Mapping[str, Any]]] = {}
        self.group_policies: dict[str, list[str]] = {}  # setting -> group ids with a policy
        self.unmapped: list[str] = []  # policies naming an OU id that is not in the OU list
        for pol in policies:
            if not isinstance(pol, Mapping):
                continue
            spec: Mapping[str, Any] = pol["setting"] if isinstance(pol.get("setting"), Mapping) else {}
            setting = str(spec.get("type", "")).removeprefix(SETTING_PREFIX)
            value = spec.get("value")
            query: Mapping[str, Any] = pol["policyQuery"] if isinstance(pol.get("policyQuery"), Mapping) else {}
            if not setting or not isinstance(value, Mapping):
                continue
            if query.get("group"):
                self.group_policies.setdefault(setting, []).append(str(query["group"]))
                continue
            ou_id = str(query.get("orgUnit") or "").removeprefix("orgUnits/")
            # No orgUnit and no group: the policy applies to the top-level OU (ScubaGoggles' reading, policy_api.py).
            path = self.path_by_id.get(ou_id) if ou_id else "/"
            if path is None:
                self.unmapped.append(str(pol.get("name", "")))
                continue
            order = float(query.get("sortOrder") or 0)
            best = self._by_ou.get((setting, path))
            if best is None or order > best[0]:
                self._by_ou[(setting, path)] = (order, str(pol.get("name", "")), value)

    def resolve(self, setting: str, ou_path: str) -> Resolved:
        """The winning policy on the OU or its nearest ancestor; Google's documented default otherwise."""
        node = ou_path or "/"
        while True:
            hit = self._by_ou.get((setting, node))
            if hit is not None:
                return Resolved(hit[2], node, hit[1])
            if node == "/":
                break
            # A malformed path without a leading "/" (an export's typo, a number) must still climb to the root.
            node = node.rsplit("/", 1)[0] if "/" in node else "/"
            node = node or "/"
        default = DOCUMENTED_DEFAULTS.get(setting)
        return Resolved(default, "", "")

    def ous_where(self, setting: str, predicate: Any) -> list[str]:
        """Every known OU path whose effective value satisfies predicate(value)."""
        out = []
        for path in sorted(set(self.path_by_id.values()) | {"/"}):
            res = self.resolve(setting, path)
            if res.value is not None and predicate(res.value):
                out.append(path)
        return out


@dataclass(frozen=True)
class TwoSvVerdict:
    enforced: str  # yes | no | unknown
    enforced_by: str
    reason: str
    strength: str  # mfa | phishing_resistant | ''
    phishing_resistant: str  # yes | no | unknown


def two_sv_for_user(resolver: PolicyResolver, user: Mapping[str, Any], now: datetime) -> TwoSvVerdict:
    """Effective 2SV enforcement for one user from the OU policies, cross-checked with isEnforcedIn2Sv."""
    ou = str(user.get("orgUnitPath") or "/")
    enrolled = bool(user.get("isEnrolledIn2Sv"))
    flag = user.get("isEnforcedIn2Sv")
    enf = resolver.resolve(ENFORCEMENT, ou)
    start = parse_time((enf.value or {}).get("enforcedFrom"))
    factors = resolver.resolve(FACTORS, ou)
    factor_set = str((factors.value or {}).get("allowedSignInFactorSet", "")) if factors.value else ""
    strong = factor_set in ("PASSKEY_ONLY", "ONLY_SECURITY_KEY")
    strength = "phishing_resistant" if strong else "mfa"
    pr = "yes" if strong else ("no" if factor_set else "unknown")
    trust = resolver.resolve(DEVICE_TRUST, ou)
    trusted_skip = bool((trust.value or {}).get("allowTrustingDevice"))
    where = f"OU {enf.ou or '/'}" if enf.policy else "Google default"
    group_note = resolver.group_policies.get(ENFORCEMENT)

    if start is None or start.year <= 1970:
        policy_state, why = "off", f"2SV enforcement is off for {where} (enforcedFrom is the epoch or absent)"
    elif start > now:
        policy_state, why = "scheduled", (f"2SV enforcement for {where} only starts on "
                                          f"{start.strftime('%Y-%m-%d')}: until then a password alone signs in")
    else:
        policy_state, why = "on", ""
        grace = parse_duration((resolver.resolve(GRACE, ou).value or {}).get("enrollmentGracePeriod")) \
            or timedelta(0)
        created = parse_time(user.get("creationTime"))
        if not enrolled and created is not None and created + grace > now:
            policy_state = "grace"
            why = (f"new user in the 2SV enrolment grace period until {(created + grace).strftime('%Y-%m-%d')}: "
                   f"signs in with a password alone and has not enrolled")
    by = f"2SV enforced ({where})" + ("; trusted devices may skip 2SV" if trusted_skip else "")

    if policy_state == "on":
        if flag is False and not group_note:
            return TwoSvVerdict("no", "", f"the {where} policy enforces 2SV, but Google reports isEnforcedIn2Sv="
                                           "false for this user (an exception or group setting)", "", pr)
        if flag is False and group_note:
            return TwoSvVerdict("unknown", "", "a group-based 2SV policy may turn enforcement off for this user "
                                               "(group membership is not collected)", "", pr)
        return TwoSvVerdict("yes", by, "", strength, pr)
    if flag is True:
        return TwoSvVerdict("yes", "2SV enforced (Directory isEnforcedIn2Sv; not explained by the OU policy, "
                                   "probably a group-based policy)", "", strength, pr)
    if group_note:
        return TwoSvVerdict("unknown", "", why + "; a group-based 2SV policy may apply (group membership is not "
                                                "collected)", "", pr)
    return TwoSvVerdict("no", "", why, "", pr)


def two_sv_from_flag(user: Mapping[str, Any], missing_reason: str) -> TwoSvVerdict:
    """Without the Policy API: Google's own per-user flag, with the strength unknown."""
    if user.get("isEnforcedIn2Sv") is True:
        return TwoSvVerdict("yes", "2SV enforced (Directory isEnforcedIn2Sv)", "", "mfa", "unknown")
    if user.get("isEnforcedIn2Sv") is False:
        return TwoSvVerdict("no", "", "Google reports 2SV is not enforced for this user (isEnforcedIn2Sv=false); "
                                      f"policy details not collected: {missing_reason}", "", "unknown")
    return TwoSvVerdict("unknown", "", f"isEnforcedIn2Sv not returned and policies not collected: {missing_reason}",
                        "", "unknown")
