"""Microsoft tenant settings -> `domains`, `tenant_settings` (+ `setting_gaps`), `conditional_access`.

A setting is written only when its source was read; otherwise it goes to `setting_gaps` with the section's reason,
so the check reading it says `unknown` and how to fix the gap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idaudit.core.enforcement.ca_policy import LEGACY_PATHS, CompiledPolicy
from idaudit.core.normalise.availability import built
from idaudit.core.normalise.ms_context import Tables, as_list, text

GUEST_ROLES = {"a0b1b346-4d3e-4e8b-98f8-753987be4970": "member", "10dae51f-b6af-4016-8d66-8c2a99b929b3": "guest",
               "2af84b1e-32c8-42b7-82bc-daa82404023b": "restricted_guest"}
SELF_CONSENT = "managepermissiongrantsforself."
LEGACY_CONSENT = "microsoft-user-default-legacy"
LOW_RISK_CONSENT = "microsoft-user-default-low"
RECOMMENDED_CONSENT = "microsoft-user-default-recommended"  # Microsoft-managed ("Let Microsoft manage ...")
# Six named mail clients for mail permissions only; Microsoft's page spells the id both ways.
MAIL_CLIENT_CONSENT = frozenset({"microsoft-user-default-allow-consent-apps", "microsoft-user-allow-default-consent-apps"})


def domains_table(t: Tables) -> None:
    raw = t.data("domains")
    if not isinstance(raw, list):
        t.missing("domains", "domains")
        return
    rows = [{"domain": text(d.get("id")).casefold(), "verified": d.get("isVerified"), "default": d.get("isDefault")}
            for d in raw if isinstance(d, dict) and d.get("id")]
    t.put("domains", rows, built(("domains",)))


def user_consent(policy: dict[str, Any]) -> str:
    """permissionGrantPoliciesAssigned -> off | mail_clients_only | verified_publishers_low_risk |
    microsoft_managed | any_app | custom:<policy ids>.

    The broadest documented policy assigned decides (a user needs only one policy to allow a consent); the
    mail-client policy widens nothing beyond six named mail apps. An id Microsoft does not document as a user
    consent option stays `custom:` (IDA-APPS-001 unknown). Sources in docs/semantics.md.
    """
    perms = policy.get("defaultUserRolePermissions") or {}
    assigned = [text(p) for p in as_list(perms.get("permissionGrantPoliciesAssigned"))]
    own = [p for p in assigned if p.casefold().startswith(SELF_CONSENT)]  # ...ForOwnedResource... is Teams RSC
    names = {p[len(SELF_CONSENT):].casefold() for p in own}
    if LEGACY_CONSENT in names:
        return "any_app"
    rest = names - MAIL_CLIENT_CONSENT
    if not names:
        return "off"
    if not rest:
        return "mail_clients_only"
    if rest == {RECOMMENDED_CONSENT}:
        return "microsoft_managed"
    if rest == {LOW_RISK_CONSENT}:
        return "verified_publishers_low_risk"
    return "custom:" + ",".join(own)


def forwarding_exceptions(policies: list[Any], rules: list[Any]) -> str:
    """Custom outbound spam policies with AutoForwardingMode On, and who their enabled rules cover."""
    out = []
    for p in policies:
        if not isinstance(p, dict) or p.get("IsDefault") is True:
            continue
        if text(p.get("AutoForwardingMode")).casefold() != "on":
            continue
        name = text(p.get("Name") or p.get("Identity"))
        who: list[str] = []
        for r in rules:
            if not isinstance(r, dict) or text(r.get("HostedOutboundSpamFilterPolicy")) != name:
                continue
            if text(r.get("State")).casefold() not in ("enabled", ""):
                continue
            for key in ("From", "FromMemberOf", "SenderDomainIs"):
                who.extend(text(v) for v in as_list(r.get(key)))
        out.append(f"{name} ({', '.join(who) if who else 'no enabled rule: applies to nobody'})")
    return "; ".join(out)


def _legacy_block(policies: list[CompiledPolicy]) -> bool:
    """One enabled policy blocks both legacy client types (Exchange ActiveSync and other) for All users with no
    exclusion, on all resources with no harmful app exclusion, and no other narrowing condition (locations,
    platforms, risk, devices). Whether legacy clients are closed for each user — by any mix of policies, security
    defaults or per-user MFA — is mfa_enforcement.legacy_blocked (IDA-AUTH-006); this setting is the summary."""
    return any(p.enabled and p.grant.blocks and p.all_users and p.exclude.empty and p.all_apps
               and not p.harmful_exclusions and p.clients >= LEGACY_PATHS and not p.narrowing for p in policies)


def _method_states(policy: dict[str, Any]) -> dict[str, str]:
    out = {}
    for cfg in as_list(policy.get("authenticationMethodConfigurations")):
        if isinstance(cfg, dict) and cfg.get("id"):
            out[text(cfg["id"]).casefold()] = text(cfg.get("state")).casefold()
    return out


def settings_tables(t: Tables, policies: list[CompiledPolicy] | None) -> None:
    rows: list[dict[str, str]] = []

    def put(key: str, section: str, read: Callable[[Any], str | None]) -> None:
        raw = t.data(section)
        value = read(raw) if raw is not None else None
        if value is None:
            t.gaps[key] = t.why(section) or f"{section}: the value is absent from the collected data"
        else:
            rows.append({"setting": key, "value": value, "source": section})

    def flag(v: Any) -> str | None:
        return ("true" if v else "false") if isinstance(v, bool) else None

    put("security_defaults_enabled", "securityDefaults",
        lambda d: flag(d.get("isEnabled")) if isinstance(d, dict) else None)
    put("user_consent", "authorizationPolicy", lambda d: user_consent(d) if isinstance(d, dict) else None)
    put("guest_invites_from", "authorizationPolicy",
        lambda d: text(d.get("allowInvitesFrom")) or None if isinstance(d, dict) else None)
    put("guest_user_role", "authorizationPolicy",
        lambda d: GUEST_ROLES.get(text(d.get("guestUserRoleId")).casefold(), text(d.get("guestUserRoleId")) or None)
        if isinstance(d, dict) else None)

    def auto_forward(d: Any) -> str | None:
        default = [p for p in as_list(d) if isinstance(p, dict) and p.get("IsDefault") is True]
        return text(default[0].get("AutoForwardingMode")).casefold() or None if default else None
    put("external_auto_forwarding", "exchange.outboundSpamPolicies", auto_forward)

    def exceptions(d: Any) -> str | None:
        rules = t.data("exchange.outboundSpamRules")
        if not isinstance(rules, list):
            return None  # which senders a permissive policy covers is unknown
        return forwarding_exceptions(as_list(d), rules)
    put("external_auto_forwarding_exceptions", "exchange.outboundSpamPolicies", exceptions)
    if "external_auto_forwarding_exceptions" in t.gaps and t.data("exchange.outboundSpamPolicies") is not None:
        t.gaps["external_auto_forwarding_exceptions"] = t.why("exchange.outboundSpamRules")

    def remote_default(d: Any) -> str | None:
        star = [r for r in as_list(d) if isinstance(r, dict) and text(r.get("DomainName")) == "*"]
        return flag(star[0].get("AutoForwardEnabled")) if star else None
    put("remote_domain_default_auto_forward", "exchange.remoteDomains", remote_default)

    for key, method in (("sms_sign_in_enabled", "sms"), ("voice_enabled", "voice"), ("email_otp_enabled", "email")):
        def read_method(d: Any, method: str = method) -> str | None:
            state = _method_states(d).get(method) if isinstance(d, dict) else None
            return None if state is None else ("true" if state == "enabled" else "false")
        put(key, "authenticationMethodsPolicy", read_method)

    if policies is None:
        t.gaps["legacy_auth_blocked"] = t.why("conditionalAccessPolicies")
    else:
        rows.append({"setting": "legacy_auth_blocked", "value": "true" if _legacy_block(policies) else "false",
                     "source": "conditionalAccessPolicies"})
    sections = ("securityDefaults", "authorizationPolicy", "authenticationMethodsPolicy",
                "exchange.outboundSpamPolicies", "exchange.remoteDomains", "conditionalAccessPolicies")
    t.put("tenant_settings", rows, built(sections))


def _summary(p: CompiledPolicy) -> str:
    g = p.grant
    if g.blocks:
        what = "blocks access"
    elif g.requests_mfa:
        what = "requires " + (f"authentication strength '{g.strength_name}'" if g.strength_name else "MFA")
        alternatives = [*g.weaker, *g.bypass, *g.undecided]
        if alternatives:
            what += f" or {' or '.join(alternatives)}"
        if g.strength_gap:
            what += f" ({g.strength_gap})"
    else:
        what = "does not require MFA"
    who = "All users" if p.all_users else "selected users"
    excl = p.exclude
    n_excl = len(excl.users) + len(excl.groups) + len(excl.roles) + (1 if excl.guest_types else 0)
    if n_excl:
        who += f" minus {n_excl} exclusion(s)"
    apps = "all resources" if p.all_apps else "selected resources"
    if p.excluded_apps:
        apps += f" minus {len(p.excluded_apps)} app(s)"
    parts = [f"{what} for {who} on {apps}", *filter(None, [p.client_phrase]), *p.narrowing]
    return "; ".join(parts)


def conditional_access_table(t: Tables) -> list[CompiledPolicy] | None:
    raw = t.data("conditionalAccessPolicies")
    if not isinstance(raw, list):
        t.missing("conditional_access", "conditionalAccessPolicies")
        return None
    compiled = [CompiledPolicy.read(p) for p in raw if isinstance(p, dict)]
    rows = [{"policy_id": p.policy_id, "name": p.name, "state": p.state,
             "requires_mfa": bool(p.grant.kind) and not (p.grant.bypass or p.grant.strength_gap or p.grant.undecided),
             "blocks": p.grant.blocks, "targets_legacy_clients": p.legacy_clients, "all_users": p.all_users,
             "all_apps": p.all_apps, "summary": _summary(p)} for p in compiled]
    t.put("conditional_access", rows, built(("conditionalAccessPolicies",)))
    return compiled
