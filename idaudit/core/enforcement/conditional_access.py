"""The Microsoft MFA-enforcement evaluator: for one user, is MFA required on every sign-in, and by what?

Tools IT people use ask "is there a policy for all users?" and let exclusions, report-only states and narrowed
conditions pass. This evaluator walks every route by which a policy can include or exclude a user — All users,
directly, through a group (transitively), through an active directory role, through the guest / external user
types — and names the exact reason when nothing covers the user:

- security defaults on => enforced ('security defaults');
- an enabled Conditional Access policy that requires MFA (the `mfa` control or an authentication strength),
  includes the user, does not exclude them, targets all resources and is not narrowed => enforced by that policy;
  OR-ed with a non-MFA control (compliant device, approved app) it is a `weaker_alternative`;
- per-user MFA `enforced` => enforced; `enabled` counts only once the user has registered a method (until then the
  next sign-in lets whoever signs in register their own method);
- otherwise `no` with the reasons — unless data that could prove enforcement is missing (policies not collected,
  a group's members unknown, per-user state unknown): then `unknown`, never `no`.

Pure: plain dicts in, frozen dataclasses out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from idaudit.core.enforcement.ca_policy import MFA, PHISHING_RESISTANT, WEAKER, CompiledPolicy, UserCondition

YES, NO, UNKNOWN = "yes", "no", "unknown"
_RANK = {WEAKER: 1, MFA: 2, PHISHING_RESISTANT: 3}


@dataclass(frozen=True)
class Enforcement:
    enforced: str  # yes | no | unknown
    enforced_by: str = ""
    strength: str = ""  # mfa | phishing_resistant | weaker_alternative | ''
    reason: str = ""
    phishing_resistant: str = UNKNOWN  # yes | no | unknown


@dataclass(frozen=True)
class GroupDirectory:
    """Transitive members of the groups a policy names; a group absent from `members` is unknown."""

    members: Mapping[str, frozenset[str]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    gap: str = ""  # why members may be missing (groupMembers section status)

    def name(self, group_id: str) -> str:
        return self.names.get(group_id) or group_id

    def contains(self, group_id: str, user_id: str) -> bool | None:
        members = self.members.get(group_id)
        if members is None:
            return None
        return user_id in members


@dataclass(frozen=True)
class UserFacts:
    user_id: str
    external_kind: str = ""  # '' member | internalGuest | b2bCollaborationGuest | b2bCollaborationMember | ...
    roles: frozenset[str] | None = frozenset()  # active role template ids (direct or via group); None = unknown
    per_user_mfa: str | None = "disabled"  # disabled | enabled | enforced; None when not collected
    per_user_gap: str = ""
    mfa_registered: bool | None = None


@dataclass(frozen=True)
class TenantFacts:
    security_defaults: bool | None
    security_defaults_gap: str = ""
    policies: Sequence[Mapping[str, Any]] | None = ()
    policies_gap: str = ""
    groups: GroupDirectory = field(default_factory=GroupDirectory)
    roles_gap: str = ""
    role_names: Mapping[str, str] = field(default_factory=dict)
    app_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Match:
    hit: bool | None  # True matched, False not, None cannot tell
    route: str = ""  # how it matched: 'directly', "through group 'X'", ...
    unknown: str = ""  # why it cannot tell


class MicrosoftEvaluator:
    """Compile the tenant's policies once; then `evaluate(user)` for every enabled user."""

    def __init__(self, tenant: TenantFacts) -> None:
        self.tenant = tenant
        compiled = [CompiledPolicy.read(p) for p in (tenant.policies or ()) if isinstance(p, Mapping)]
        self.mfa_policies = [p for p in compiled if p.grant.kind]
        self.policies = compiled

    # ---- matching a user condition ----------------------------------------------------------------------------
    def _match(self, cond: UserCondition, user: UserFacts) -> _Match:
        if "all" in cond.users:
            return _Match(True, "as 'All users'")
        if user.user_id.casefold() in cond.users:
            return _Match(True, "directly")
        if user.external_kind and "guestsorexternalusers" in cond.users:
            return _Match(True, "as a guest or external user")
        unknown: list[str] = []
        if user.external_kind and user.external_kind.casefold() in cond.guest_types:
            if cond.guest_tenants_all:
                return _Match(True, f"as a guest or external user ({user.external_kind})")
            unknown.append("the policy names specific external tenants and the guest's home tenant is not known")
        groups = self.tenant.groups
        for gid in cond.groups:
            inside = groups.contains(gid, user.user_id)
            if inside:
                return _Match(True, f"through group '{groups.name(gid)}'")
            if inside is None:
                gap = f": {groups.gap}" if groups.gap else ""
                unknown.append(f"members of group '{groups.name(gid)}' were not collected{gap}")
        if cond.roles:
            if user.roles is None:
                gap = f": {self.tenant.roles_gap}" if self.tenant.roles_gap else ""
                unknown.append(f"the user's directory roles were not collected{gap}")
            else:
                for rid in cond.roles:
                    if rid in user.roles:
                        return _Match(True, f"through role '{self.tenant.role_names.get(rid, rid)}'")
        if unknown:
            return _Match(None, unknown="; ".join(unknown))
        return _Match(False)

    # ---- one policy for one user ------------------------------------------------------------------------------
    def _applies(self, pol: CompiledPolicy, user: UserFacts) -> tuple[bool | None, str]:
        """(covers, why not / why unknown): does this MFA policy require MFA on every sign-in of this user?"""
        inc = self._match(pol.include, user)
        if inc.hit is False:
            return False, f"policy '{pol.name}' does not include this user"
        exc = self._match(pol.exclude, user) if not pol.exclude.empty else _Match(False)
        if exc.hit:
            return False, f"excluded {exc.route} in policy '{pol.name}'"
        if pol.narrowing:
            return False, f"policy '{pol.name}' {'; '.join(pol.narrowing)}"
        if not pol.enabled:
            return False, f"policy '{pol.name}' {pol.state_phrase}"
        if inc.hit is None:
            return None, f"policy '{pol.name}': cannot tell whether it includes this user ({inc.unknown})"
        if exc.hit is None:
            return None, f"policy '{pol.name}': cannot tell whether it excludes this user ({exc.unknown})"
        return True, ""

    def _label(self, pol: CompiledPolicy) -> str:
        text = f"CA policy '{pol.name}'"
        if pol.grant.strength_name:
            text += f" (authentication strength '{pol.grant.strength_name}')"
        if pol.excluded_apps:
            names = [self.tenant.app_names.get(a, a) for a in pol.excluded_apps]
            text += f" — but it excludes app(s): {', '.join(names)}"
        if pol.grant.weaker:
            text += f" — also satisfied by {' or '.join(pol.grant.weaker)} instead of MFA"
        return text

    # ---- the verdict ------------------------------------------------------------------------------------------
    def evaluate(self, user: UserFacts) -> Enforcement:
        t = self.tenant
        covering: list[CompiledPolicy] = []
        ca_reasons: list[tuple[int, str]] = []
        ca_unknown: list[str] = []
        pr_reasons: list[str] = []
        pr_unknown = False
        if t.policies is not None:
            for pol in self.mfa_policies:
                covers, why = self._applies(pol, user)
                is_pr = pol.grant.label == PHISHING_RESISTANT
                if covers:
                    covering.append(pol)
                elif covers is None:
                    ca_unknown.append(why)
                    pr_unknown = pr_unknown or is_pr
                else:
                    order = 3 if why.endswith("does not include this user") else (
                        0 if why.startswith("excluded") else 1)
                    ca_reasons.append((order, why))
                if is_pr and not covers:
                    pr_reasons.append(why)
        ca_missing = t.policies is None
        best = max(covering, key=lambda p: _RANK[p.grant.label], default=None)
        pr_yes = best is not None and best.grant.label == PHISHING_RESISTANT

        def pr(value_if_not_yes: str) -> str:
            if pr_yes:
                return YES
            if t.security_defaults:
                return NO  # Conditional Access cannot be used while security defaults are on
            return UNKNOWN if (ca_missing or pr_unknown) else value_if_not_yes

        def pr_gap() -> str:
            """For an enforced user: why no phishing-resistant strength is required (read by the admin check)."""
            if pr_yes:
                return ""
            if t.security_defaults:
                return "security defaults require MFA but not a phishing-resistant method"
            if ca_missing:
                return f"Conditional Access policies not collected ({t.policies_gap or 'no data'})"
            if not pr_reasons:
                return "no Conditional Access policy requires a phishing-resistant authentication strength"
            return "phishing-resistant strength not required: " + "; ".join(pr_reasons)

        if best is not None:
            others = [p.name for p in covering if p is not best]
            by = self._label(best) + (f" (also: {', '.join(repr(n) for n in others[:3])})" if others else "")
            return Enforcement(YES, by, best.grant.label, pr_gap(), pr(NO))
        if t.security_defaults:
            return Enforcement(YES, "security defaults", MFA, pr_gap(), NO)
        if user.per_user_mfa == "enforced":
            return Enforcement(YES, "per-user MFA (enforced)", MFA, pr_gap(), pr(NO))
        if user.per_user_mfa == "enabled" and user.mfa_registered:
            return Enforcement(YES, "per-user MFA (enabled; counts as enforced because a method is registered)",
                               MFA, pr_gap(), pr(NO))
        return self._not_covered(user, ca_reasons, ca_unknown, ca_missing, pr(NO))

    def _not_covered(self, user: UserFacts, ca_reasons: list[tuple[int, str]], ca_unknown: list[str],
                     ca_missing: bool, pr_value: str) -> Enforcement:
        t = self.tenant
        unknown: list[str] = []
        if ca_missing:
            unknown.append(f"Conditional Access policies not collected ({t.policies_gap or 'no data'})")
        unknown.extend(ca_unknown)
        if t.security_defaults is None:
            unknown.append(f"security defaults state not collected ({t.security_defaults_gap or 'no data'})")
        per_user = ""
        if user.per_user_mfa is None:
            unknown.append(f"per-user MFA state not collected ({user.per_user_gap or 'no data'})")
        elif user.per_user_mfa == "enabled":
            if user.mfa_registered is None:
                unknown.append("per-user MFA is 'enabled', which only enforces MFA once a method is registered, "
                               "and registration was not collected")
            else:
                per_user = ("per-user MFA is 'enabled' but no method is registered: the next sign-in lets whoever "
                            "holds the password register their own method")
        else:
            per_user = f"per-user MFA is {user.per_user_mfa or 'disabled'}"
        known = [why for _, why in sorted(ca_reasons, key=lambda r: r[0])]
        if not self.mfa_policies and not ca_missing:
            known.insert(0, "no Conditional Access policy requires MFA")
        elif len(self.mfa_policies) == 1 and not self.mfa_policies[0].enabled and known:
            pol = self.mfa_policies[0]
            known = [f"the only policy requiring MFA, '{pol.name}', {pol.state_phrase}"
                     if k == f"policy '{pol.name}' {pol.state_phrase}" else k for k in known]
        if unknown:
            context = "; ".join(known)
            return Enforcement(UNKNOWN, "", "", "; ".join(unknown) + (f" (known: {context})" if context else ""),
                               pr_value)
        tail = [per_user] if per_user else []
        if t.security_defaults is False:
            tail.append("security defaults are off")
        return Enforcement(NO, "", "", "; ".join([*known, *tail]), pr_value)
