"""Which Cloud Identity Policy API setting applies to an OU, a group's members and a user; whether 2SV is enforced.

Rules (as Google documents them; each is a row of docs/semantics.md):
- A policy binds one setting (`setting.type`, e.g. `settings/security.two_step_verification_enforcement`) to an OU
  (`policyQuery.orgUnit` = `orgUnits/<id>`) or to a group (`policyQuery.group` = `groups/<id>`, possibly also
  limited to an OU). A policy naming neither applies to the top-level OU (ScubaGoggles' reading).
- Several policies may target the same OU and setting: the one with the highest `policyQuery.sortOrder` wins.
- An OU without a policy for a setting inherits its parent's; the root without one has Google's default.
- A user's group settings always override their OU's settings; among the groups a user belongs to, the
  highest-priority group (highest sortOrder) wins (Admin help "Customize service settings using configuration
  groups"; Policy API concepts, "Reduction").
- Group membership comes from the `groupMembers` section (google_groups.py). Where a group's membership was not
  read, a user's value is decided only if it is the same whether or not the user is a member; otherwise unknown.
- 2SV enforcement: `enforcedFrom` in the past means enforced; `1970-01-01T00:00:00Z` (the epoch) means off; a
  date in the future means enforcement is scheduled, not in effect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

from idaudit.core.normalise.google_groups import GroupDirectory, group_id

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
    """A setting's value for an OU (or a user) and where it came from."""

    value: Mapping[str, Any] | None  # None: no policy and no documented default
    ou: str  # the OU path whose policy applies ('' when defaulted)
    policy: str  # policy name ('' when defaulted)
    group: str = ""  # the group label when a group policy decides

    @property
    def source(self) -> str:
        if self.group:
            return f"Policy API ({self.policy}, group {self.group})"
        if self.policy:
            return f"Policy API ({self.policy}, OU {self.ou})"
        return "Google documented default (no policy returned)" if self.value is not None else ""


@dataclass(frozen=True)
class GroupPolicy:
    """A policy for the members of a group (limited to an OU's subtree when it also names one)."""

    group: str  # group id
    ou: str  # '/' unless the policy is also limited to an OU
    order: float
    name: str
    value: Mapping[str, Any]


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


def under(ou: str, scope: str) -> bool:
    """Is OU path `ou` the OU `scope` or below it?"""
    return scope == "/" or ou == scope or ou.startswith(scope.rstrip("/") + "/")


class PolicyResolver:
    """Resolves settings per OU path, per group and per user from raw Policy API objects, the Directory OU list
    and the memberships of the targeted groups."""

    def __init__(self, policies: Iterable[Mapping[str, Any]], orgunits: Iterable[Mapping[str, Any]],
                 groups: GroupDirectory | None = None) -> None:
        self.groups = groups if groups is not None else GroupDirectory.not_collected(
            [], "group memberships were not collected")
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
        self._by_group: dict[str, list[GroupPolicy]] = {}  # setting -> group policies, highest sortOrder first
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
            order = _order(query.get("sortOrder"))
            ou_id = str(query.get("orgUnit") or "").removeprefix("orgUnits/")
            # No orgUnit: the policy applies to the top-level OU (ScubaGoggles' reading, policy_api.py).
            path = self.path_by_id.get(ou_id) if ou_id else "/"
            name = str(pol.get("name", ""))
            if query.get("group"):
                self._by_group.setdefault(setting, []).append(
                    GroupPolicy(group_id(query["group"]), path or "/", order, name, value))
                continue
            if path is None:
                self.unmapped.append(name)
                continue
            best = self._by_ou.get((setting, path))
            if best is None or order > best[0]:
                self._by_ou[(setting, path)] = (order, name, value)
        for items in self._by_group.values():
            items.sort(key=lambda g: g.order, reverse=True)

    # ---- per OU ------------------------------------------------------------------------------------------
    def resolve(self, setting: str, ou_path: str) -> Resolved:
        """The winning OU policy on the OU or its nearest ancestor; Google's documented default otherwise."""
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

    def ou_paths(self) -> list[str]:
        return sorted(set(self.path_by_id.values()) | {"/"})

    def ous_where(self, setting: str, predicate: Any) -> list[str]:
        """Every known OU path whose effective value satisfies predicate(value)."""
        out = []
        for path in self.ou_paths():
            res = self.resolve(setting, path)
            if res.value is not None and predicate(res.value):
                out.append(path)
        return out

    # ---- per group and per user --------------------------------------------------------------------------
    def group_policies(self, setting: str) -> list[GroupPolicy]:
        """The group policies for a setting, highest sortOrder first."""
        return list(self._by_group.get(setting, ()))

    def resolve_for(self, setting: str, user: Mapping[str, Any], assume: frozenset[str] = frozenset()) -> Resolved:
        """The user's value: the highest-sortOrder policy of a group they belong to (groups whose membership was not
        read count as joined when named in `assume`), else their OU's."""
        ou = str(user.get("orgUnitPath") or "/")
        for gp in self._by_group.get(setting, ()):
            if not under(ou, gp.ou):
                continue
            inside = self.groups.contains(gp.group, user)
            if inside or (inside is None and gp.group in assume):
                return Resolved(gp.value, gp.ou, gp.name, self.groups.label(gp.group))
        return self.resolve(setting, ou)

    def undecided_groups(self, settings: Iterable[str], user: Mapping[str, Any]) -> list[str]:
        """Groups with a policy for one of `settings` that may apply to the user, whose membership was not read."""
        ou = str(user.get("orgUnitPath") or "/")
        out: dict[str, None] = {}
        for setting in settings:
            for gp in self._by_group.get(setting, ()):
                if under(ou, gp.ou) and self.groups.contains(gp.group, user) is None:
                    out[gp.group] = None
        return list(out)

    def settled(self, setting: str, user: Mapping[str, Any]) -> tuple[Resolved | None, list[str]]:
        """(the user's value, []) — or (None, the undecided groups) when their membership decides the value.

        With a max reducer the winner under any set of memberships is the winner under one of them, so trying each
        undecided group alone covers every case."""
        base = self.resolve_for(setting, user)
        undecided = self.undecided_groups((setting,), user)
        differ = [g for g in undecided if self.resolve_for(setting, user, frozenset({g})).value != base.value]
        return (None, differ) if differ else (base, [])

    def why_undecided(self, groups: Iterable[str]) -> str:
        return "; ".join(f"{self.groups.label(g)}: {self.groups.why_unknown(g)}" for g in groups)


def _order(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


@dataclass(frozen=True)
class TwoSvVerdict:
    enforced: str  # yes | no | unknown
    enforced_by: str
    reason: str
    strength: str  # mfa | phishing_resistant | ''
    phishing_resistant: str  # yes | no | unknown


TWO_SV_SETTINGS = (ENFORCEMENT, FACTORS, GRACE, DEVICE_TRUST)
MAX_UNDECIDED = 6  # undecided groups tried in every combination (2**6 evaluations); beyond: unknown


def two_sv_for_user(resolver: PolicyResolver, user: Mapping[str, Any], now: datetime) -> TwoSvVerdict:
    """Effective 2SV enforcement for one user from the OU and group policies, cross-checked with isEnforcedIn2Sv.

    Groups whose membership was not read are tried as joined and as not joined, in every combination: the verdict
    stands only if every combination gives the same answer; otherwise it is unknown, naming the groups."""
    undecided = resolver.undecided_groups(TWO_SV_SETTINGS, user)
    if len(undecided) > MAX_UNDECIDED:
        return TwoSvVerdict("unknown", "", f"{len(undecided)} group-based 2SV policies may apply and their "
                                           f"memberships were not read: {resolver.why_undecided(undecided)}",
                            "", "unknown")
    base = _two_sv(resolver, user, now, frozenset())
    alternatives = [_two_sv(resolver, user, now, frozenset(c))
                    for n in range(1, len(undecided) + 1) for c in combinations(undecided, n)]
    if any(v.enforced != base.enforced for v in alternatives):
        return TwoSvVerdict("unknown", "", "a group-based 2SV policy decides whether 2SV is enforced for this user, "
                                           f"and the group membership was not read ({resolver.why_undecided(undecided)})",
                            "", "unknown")
    if any(v.phishing_resistant != base.phishing_resistant or v.strength != base.strength for v in alternatives):
        strength = base.strength if all(v.strength == base.strength for v in alternatives) else \
            ("mfa" if base.enforced == "yes" else "")
        return replace(base, strength=strength, phishing_resistant="unknown")
    return base


def _two_sv(resolver: PolicyResolver, user: Mapping[str, Any], now: datetime, assume: frozenset[str]) -> TwoSvVerdict:
    """The verdict for one assumption about the undecided groups."""
    enrolled = bool(user.get("isEnrolledIn2Sv"))
    flag = user.get("isEnforcedIn2Sv")
    enf = resolver.resolve_for(ENFORCEMENT, user, assume)
    start = parse_time((enf.value or {}).get("enforcedFrom"))
    factors = resolver.resolve_for(FACTORS, user, assume)
    factor_set = str((factors.value or {}).get("allowedSignInFactorSet", "")) if factors.value else ""
    strong = factor_set in ("PASSKEY_ONLY", "ONLY_SECURITY_KEY")
    strength = "phishing_resistant" if strong else "mfa"
    pr = "yes" if strong else ("no" if factor_set else "unknown")
    trust = resolver.resolve_for(DEVICE_TRUST, user, assume)
    trusted_skip = bool((trust.value or {}).get("allowTrustingDevice"))
    where = f"group {enf.group}" if enf.group else (f"OU {enf.ou or '/'}" if enf.policy else "Google default")

    if start is None or start.year <= 1970:
        policy_state, why = "off", f"2SV enforcement is off for {where} (enforcedFrom is the epoch or absent)"
    elif start > now:
        policy_state, why = "scheduled", (f"2SV enforcement for {where} only starts on "
                                          f"{start.strftime('%Y-%m-%d')}: until then a password alone signs in")
    else:
        policy_state, why = "on", ""
        grace = parse_duration((resolver.resolve_for(GRACE, user, assume).value or {}).get("enrollmentGracePeriod")) \
            or timedelta(0)
        created = parse_time(user.get("creationTime"))
        if not enrolled and created is not None and created + grace > now:
            policy_state = "grace"
            why = (f"new user in the 2SV enrolment grace period until {(created + grace).strftime('%Y-%m-%d')}: "
                   f"signs in with a password alone and has not enrolled")
    by = f"2SV enforced ({where})" + ("; trusted devices may skip 2SV" if trusted_skip else "")

    if policy_state == "on":
        if flag is False:
            return TwoSvVerdict("no", "", f"the {where} policy enforces 2SV, but Google reports isEnforcedIn2Sv="
                                           "false for this user (an exception Google applies)", "", pr)
        return TwoSvVerdict("yes", by, "", strength, pr)
    if flag is True:
        return TwoSvVerdict("yes", "2SV enforced (Directory isEnforcedIn2Sv; not explained by the OU or group "
                                   "policies collected)", "", strength, pr)
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
