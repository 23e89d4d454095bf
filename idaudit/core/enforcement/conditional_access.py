"""The Microsoft MFA-enforcement evaluator: for one user, is MFA required on every sign-in, and by what?

Tools IT people use ask "is there a policy for all users?" and let exclusions, report-only states and narrowed
conditions pass. This evaluator walks every route by which a policy can include or exclude a user — All users,
directly, through a group (transitively), through an active tenant-wide built-in directory role, through the
guest / external user types — and judges every sign-in path separately: browser, mobile and desktop apps,
Exchange ActiveSync and other (legacy) clients. A user is covered only when each path requires a second factor
or is blocked, by whichever sources together do it:

- security defaults on => MFA on modern clients, legacy authentication blocked;
- an enabled Conditional Access policy whose grant takes a second factor (MFA, an MFA authentication strength),
  that includes the user, does not exclude them, targets all resources (bar a documented benign exclusion) and is
  not narrowed => its client paths are covered (legacy clients cannot satisfy MFA: for them it is a block);
  OR-ed with a device control it is a `weaker_alternative`; OR-ed with a control a stolen password satisfies
  (terms of use, an approved app, a single-factor strength) it covers nothing;
- an enabled block policy => its client paths are closed;
- per-user MFA `enforced` => every path; `enabled` => modern clients once a method is registered, never legacy
  clients (they still accept the password alone);
- otherwise `no` with the reasons — unless data that could prove coverage is missing (policies not collected, a
  group's members unknown, per-user state unknown): then `unknown`, never `no`.

The same path verdict answers IDA-AUTH-006: are legacy protocols closed for this user (`legacy`)?
Pure: plain dicts in, frozen dataclasses out. Every rule is cited in docs/semantics.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from idaudit.core.enforcement.ca_policy import (
    CLIENT_PATHS,
    LEGACY_PATHS,
    MAIL_AND_FILE_APPS,
    MFA,
    PHISHING_RESISTANT,
    WEAKER,
    CompiledPolicy,
    UserCondition,
    paths_phrase,
)
from idaudit.core.enforcement.paths import BLOCKED, Coverage, Source

YES, NO, UNKNOWN = "yes", "no", "unknown"
MODERN = frozenset(CLIENT_PATHS) - LEGACY_PATHS


@dataclass(frozen=True)
class Enforcement:
    enforced: str  # yes | no | unknown
    enforced_by: str = ""
    strength: str = ""  # mfa | phishing_resistant | weaker_alternative | ''
    reason: str = ""
    phishing_resistant: str = UNKNOWN  # yes | no | unknown
    legacy: str = UNKNOWN  # yes | no | unknown: legacy clients (Exchange ActiveSync, other) cannot sign in alone
    legacy_detail: str = ""  # what closes them (yes), or why they stay open / cannot be told


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
    # roles Conditional Access can see: active (not PIM-eligible) assignments at tenant scope ('/'), direct or via
    # a group; None = unknown
    roles: frozenset[str] | None = frozenset()
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
    custom_roles: frozenset[str] = frozenset()  # role ids known to be custom: role targeting ignores them
    unknown_kind_roles: Mapping[str, str] = field(default_factory=dict)  # role id -> why built-in is not known
    unresolved_roles: Mapping[str, str] = field(default_factory=dict)  # role id -> "through group 'X', whose ..."


@dataclass(frozen=True)
class _Match:
    hit: bool | None  # True matched, False not, None cannot tell
    route: str = ""  # how it matched: 'directly', "through group 'X'", ...
    unknown: str = ""  # why it cannot tell


@dataclass(frozen=True)
class _Applies:
    covers: bool | None  # the policy's grant reaches this user on its client paths (None: cannot tell)
    why: str = ""
    order: int = 1  # reasons are listed: exclusions (0), conditions (1), not included (3)


class MicrosoftEvaluator:
    """Compile the tenant's policies once; then `evaluate(user)` for every enabled user."""

    def __init__(self, tenant: TenantFacts) -> None:
        self.tenant = tenant
        compiled = [CompiledPolicy.read(p) for p in (tenant.policies or ()) if isinstance(p, Mapping)]
        self.policies = compiled
        self.mfa_policies = [p for p in compiled if p.grant.requests_mfa and not p.grant.blocks]
        self.block_policies = [p for p in compiled if p.grant.blocks]
        self._ordered = self.mfa_policies + self.block_policies
        self._labels = {id(p): self._label(p) for p in self._ordered}
        # Users whose every policy match and per-user facts are alike share one verdict: 100k users in seconds.
        self._verdicts: dict[tuple[Any, ...], Enforcement] = {}

    # ---- matching a user condition ----------------------------------------------------------------------------
    def _match(self, cond: UserCondition, user: UserFacts) -> _Match:
        t = self.tenant
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
        groups = t.groups
        for gid in cond.groups:
            inside = groups.contains(gid, user.user_id)
            if inside:
                return _Match(True, f"through group '{groups.name(gid)}'")
            if inside is None:
                gap = f": {groups.gap}" if groups.gap else ""
                unknown.append(f"members of group '{groups.name(gid)}' were not collected{gap}")
        if cond.roles:
            if user.roles is None:
                gap = f": {t.roles_gap}" if t.roles_gap else ""
                unknown.append(f"the user's directory roles were not collected{gap}")
            else:
                for rid in cond.roles:
                    name = t.role_names.get(rid, rid)
                    if rid in t.custom_roles:
                        continue  # Conditional Access supports built-in roles only: a custom role targets nobody
                    if rid in user.roles:
                        if rid not in t.unknown_kind_roles:
                            return _Match(True, f"through role '{name}'")
                        unknown.append(f"whether role '{name}' is a built-in role (Conditional Access ignores "
                                       f"custom roles) is not known: {t.unknown_kind_roles[rid]}")
                    elif rid in t.unresolved_roles:
                        unknown.append(f"whether the user holds role '{name}' {t.unresolved_roles[rid]}")
        if unknown:
            return _Match(None, unknown="; ".join(unknown))
        return _Match(False)

    # ---- one policy for one user ------------------------------------------------------------------------------
    def _exclusions_phrase(self, pol: CompiledPolicy) -> str:
        harmful = pol.harmful_exclusions
        if not harmful:
            return ""
        vital = [MAIL_AND_FILE_APPS[a.casefold()] for a in harmful if a.casefold() in MAIL_AND_FILE_APPS]
        other = [self.tenant.app_names.get(a, a) for a in harmful if a.casefold() not in MAIL_AND_FILE_APPS]
        parts = [f"excludes {', '.join(vital)}, where the mail and files are"] if vital else []
        if other:
            parts.append(f"excludes app(s) {', '.join(other)}, which it then does not protect")
        return "; ".join(parts)

    def _reaches(self, pol: CompiledPolicy, user: UserFacts) -> _Applies:
        """Does this policy apply to this user's sign-ins on its client paths, whatever its grant asks?"""
        inc = self._match(pol.include, user)
        if inc.hit is False:
            return _Applies(False, f"policy '{pol.name}' does not include this user", 3)
        exc = self._match(pol.exclude, user) if not pol.exclude.empty else _Match(False)
        if exc.hit:
            return _Applies(False, f"excluded {exc.route} in policy '{pol.name}'", 0)
        narrowing = [*pol.narrowing, *filter(None, [self._exclusions_phrase(pol)])]
        if narrowing:
            return _Applies(False, f"policy '{pol.name}' {'; '.join(narrowing)}")
        if not pol.enabled:
            return _Applies(False, f"policy '{pol.name}' {pol.state_phrase}")
        if inc.hit is None:
            return _Applies(None, f"policy '{pol.name}': cannot tell whether it includes this user ({inc.unknown})")
        if exc.hit is None:
            return _Applies(None, f"policy '{pol.name}': cannot tell whether it excludes this user ({exc.unknown})")
        return _Applies(True)

    @staticmethod
    def _grant_gap(pol: CompiledPolicy) -> _Applies:
        """Does satisfying this policy's grant take a second factor (True), not (False), or cannot tell (None)?"""
        g = pol.grant
        if g.bypass:
            return _Applies(False, f"policy '{pol.name}' is also satisfied by {' or '.join(g.bypass)} instead of "
                                   "MFA, which needs no second factor")
        if g.strength_gap:
            return _Applies(False, f"policy '{pol.name}': {g.strength_gap}")
        if g.undecided:
            return _Applies(None, f"policy '{pol.name}': cannot tell whether {' or '.join(g.undecided)} asks for a "
                                  "second factor")
        return _Applies(True)

    def _label(self, pol: CompiledPolicy) -> str:
        text = f"CA policy '{pol.name}'"
        if pol.grant.blocks:
            text += " (blocks sign-in)"
        if pol.grant.strength_name:
            text += f" (authentication strength '{pol.grant.strength_name}')"
        if pol.benign_exclusions:
            text += f" — excludes {', '.join(pol.benign_exclusions)} (a documented benign exclusion)"
        if pol.grant.weaker:
            text += f" — also satisfied by {' or '.join(pol.grant.weaker)} instead of MFA"
        return text

    # ---- the sources, path by path ----------------------------------------------------------------------------
    def _coverage(self, user: UserFacts, reaches: Sequence[_Applies]) -> Coverage:
        t = self.tenant
        cov = Coverage()
        if t.policies is None:
            cov.unknown(CLIENT_PATHS, f"Conditional Access policies not collected ({t.policies_gap or 'no data'})")
        for index, (pol, reach) in enumerate(zip(self._ordered, reaches, strict=True)):
            self._policy_paths(cov, index, pol, reach)
        if t.security_defaults:
            src = Source("security defaults", len(CLIENT_PATHS), -1)
            for path in CLIENT_PATHS:
                cov.cover(path, BLOCKED if path in LEGACY_PATHS else MFA, src)
        elif t.security_defaults is None:
            cov.unknown(CLIENT_PATHS, f"security defaults state not collected ({t.security_defaults_gap or 'no data'})")
        self._per_user(user, cov)
        if t.security_defaults is False:
            cov.tail(CLIENT_PATHS, "security defaults are off")
        return cov

    def _policy_paths(self, cov: Coverage, index: int, pol: CompiledPolicy, reach: _Applies) -> None:
        """What one policy does on each of this user's client paths. Legacy clients can send neither MFA nor
        device state, so any grant control a policy reaching them sets (even one a stolen password satisfies on a
        modern client) blocks them."""
        if reach.covers is False:
            cov.reason(CLIENT_PATHS, reach.why, reach.order, policy=pol)
            return
        outside = [p for p in CLIENT_PATHS if p not in pol.clients]
        cov.reason(outside, f"policy '{pol.name}' {pol.client_phrase}", 1, policy=pol)
        if reach.covers is None:
            cov.unknown(pol.clients, reach.why, policy=pol)
            return
        grant = _Applies(True) if pol.grant.blocks else self._grant_gap(pol)
        src = Source(self._labels[id(pol)], len(pol.clients), index, policy=pol)
        for path in pol.clients:
            if path in LEGACY_PATHS:
                cov.cover(path, BLOCKED, src)
            elif grant.covers:
                cov.cover(path, BLOCKED if pol.grant.blocks else pol.grant.label, src)
            elif grant.covers is None:
                cov.unknown([path], grant.why, policy=pol)
            else:
                cov.reason([path], grant.why, grant.order, policy=pol)

    @staticmethod
    def _per_user(user: UserFacts, cov: Coverage) -> None:
        state = user.per_user_mfa
        if state is None:
            cov.unknown(CLIENT_PATHS, f"per-user MFA state not collected ({user.per_user_gap or 'no data'})")
        elif state == "enforced":
            src = Source("per-user MFA (enforced)", len(CLIENT_PATHS), -2)
            for path in CLIENT_PATHS:  # legacy clients then need an app password, not the account password
                cov.cover(path, MFA, src)
        elif state == "enabled":
            cov.tail(LEGACY_PATHS, "per-user MFA is 'enabled', which still accepts the password alone from legacy "
                                   "clients (only 'enforced' closes them)")
            if user.mfa_registered:
                src = Source("per-user MFA (enabled; a method is registered)", len(MODERN), -2)
                for path in MODERN:
                    cov.cover(path, MFA, src)
            elif user.mfa_registered is None:
                cov.unknown(MODERN, "per-user MFA is 'enabled', which asks for MFA only once a method is registered, "
                                    "and registration was not collected")
            else:
                cov.tail(MODERN, "per-user MFA is 'enabled' but no method is registered: the next sign-in lets "
                                 "whoever holds the password register their own method")
        else:
            cov.tail(CLIENT_PATHS, f"per-user MFA is {state or 'disabled'}")

    # ---- the verdict ------------------------------------------------------------------------------------------
    def _rewrite(self, reasons: list[str]) -> list[str]:
        """Name the lone MFA policy's state the way an auditor reads it."""
        t = self.tenant
        if not self.mfa_policies and t.policies is not None:
            return ["no Conditional Access policy requires MFA", *reasons]
        if len(self.mfa_policies) == 1 and not self.mfa_policies[0].enabled:
            pol = self.mfa_policies[0]
            plain = f"policy '{pol.name}' {pol.state_phrase}"
            return [f"the only policy requiring MFA, '{pol.name}', {pol.state_phrase}" if r == plain else r
                    for r in reasons]
        return reasons

    def evaluate(self, user: UserFacts) -> Enforcement:
        reaches = tuple(self._reaches(p, user) for p in self._ordered)
        key = (reaches, user.per_user_mfa, user.per_user_gap if user.per_user_mfa is None else "",
               user.mfa_registered)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = self._verdicts[key] = self._evaluate(user, reaches)
        return verdict

    def _evaluate(self, user: UserFacts, reaches: Sequence[_Applies]) -> Enforcement:
        t = self.tenant
        cov = self._coverage(user, reaches)
        pr_policies = [p for p in self.mfa_policies if p.grant.label == PHISHING_RESISTANT]
        pr_reasons = cov.policy_reasons(pr_policies)
        pr_unknown = any(cov.policy_unknown(p) for p in pr_policies)
        pr_yes = cov.all_at_least(PHISHING_RESISTANT)

        def pr(value_if_not_yes: str) -> str:
            if pr_yes:
                return YES
            if t.security_defaults:
                return NO  # Conditional Access cannot be used while security defaults are on
            return UNKNOWN if (t.policies is None or pr_unknown) else value_if_not_yes

        def pr_gap() -> str:
            """For an enforced user: why no phishing-resistant strength is required (read by the admin check)."""
            if pr_yes:
                return ""
            if t.security_defaults:
                return "security defaults require MFA but not a phishing-resistant method"
            if t.policies is None:
                return f"Conditional Access policies not collected ({t.policies_gap or 'no data'})"
            if not pr_reasons:
                return "no Conditional Access policy requires a phishing-resistant authentication strength"
            return "phishing-resistant strength not required: " + "; ".join(pr_reasons)

        legacy, legacy_detail = self._legacy(cov)
        verdict = cov.verdict(CLIENT_PATHS)
        if verdict == YES:
            by = cov.sources_text(CLIENT_PATHS)
            strength = {1: WEAKER, 2: MFA}.get(cov.weakest_rank(CLIENT_PATHS), PHISHING_RESISTANT)
            return Enforcement(YES, by, strength, pr_gap(), pr(NO), legacy, legacy_detail)
        if verdict == UNKNOWN:
            known = self._rewrite(cov.reasons(CLIENT_PATHS))
            context = f" (known: {'; '.join(known)})" if known else ""
            return Enforcement(UNKNOWN, "", "", "; ".join(cov.unknowns(CLIENT_PATHS)) + context, pr(NO),
                               legacy, legacy_detail)
        open_paths = cov.open_paths(CLIENT_PATHS)
        reasons = self._rewrite(cov.reasons(open_paths))
        covered = [p for p in CLIENT_PATHS if cov.covered(p)]
        prefix = ""
        if covered:
            prefix = (f"covered only on {paths_phrase(set(covered))} sign-ins ({cov.sources_text(covered)}); "
                      f"not on {paths_phrase(set(open_paths))} sign-ins: ")
        unknowns = cov.unknowns(CLIENT_PATHS)
        tail = f" (not known either: {'; '.join(unknowns)})" if unknowns else ""
        return Enforcement(NO, "", "", prefix + "; ".join(reasons) + tail, pr(NO), legacy, legacy_detail)

    @staticmethod
    def _legacy(cov: Coverage) -> tuple[str, str]:
        """Are Exchange ActiveSync and other (IMAP, POP, SMTP AUTH, MAPI) clients closed for this user?"""
        paths = [p for p in CLIENT_PATHS if p in LEGACY_PATHS]
        verdict = cov.verdict(paths)
        if verdict == YES:
            return YES, cov.sources_text(paths, per_path=False)
        if verdict == UNKNOWN:
            return UNKNOWN, "; ".join(cov.unknowns(paths))
        open_paths = cov.open_paths(paths)
        reasons = cov.reasons(open_paths)
        if not cov.has_policy_reason(open_paths):
            reasons.insert(0, "no Conditional Access policy blocks legacy authentication")
        return NO, f"{paths_phrase(set(open_paths))} sign-ins accept the password alone: " + "; ".join(reasons)
