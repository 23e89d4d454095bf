"""Microsoft 365 mail security and audit facts -> `mail_domains`, `mail_protections`, and tenant settings.

Facts, not verdicts: which policy covers whom and whether its protection is on, as Exchange Online reports it
(docs/semantics.md, "Email authentication, filtering and audit logging"). The checks decide (checks/email_*.py).

Who a policy covers (`applies_to`):
- the default policy (IsDefault) applies to every recipient no custom policy covers: `all`;
- a custom anti-phishing / Safe Links / Safe Attachments policy applies through its rule (AntiPhishPolicy /
  SafeLinksPolicy / SafeAttachmentPolicy names it): an enabled rule whose recipient conditions (SentTo,
  SentToMemberOf, RecipientDomainIs) are empty or list every sending domain, with no exception, covers `all`; an
  enabled rule with narrower conditions `some`; a disabled or missing rule `none`;
- the Built-in protection preset (IsBuiltInProtection) covers every recipient no other Safe Links / Safe
  Attachments policy covers: `all` (its exclusions, Get-ATPBuiltInProtectionRule, are not read: the checks say so);
- a Standard / Strict preset policy (RecommendedPolicyType) is assigned through Get-ATPProtectionPolicyRule /
  Get-EOPProtectionPolicyRule, which idaudit does not read: `unknown`;
- a custom malware / spam filter policy's rule is not read either: `unknown`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import pandas as pd

from idaudit.core.normalise.availability import built
from idaudit.core.normalise.email_auth import dkim_key_present, dmarc_facts, read_lookups, spf_facts
from idaudit.core.normalise.ms_context import Tables, as_list, text
from idaudit.core.tables import make_table

PROTECTION_SECTIONS = (
    "exchange.antiPhishPolicies", "exchange.antiPhishRules", "exchange.safeLinksPolicies", "exchange.safeLinksRules",
    "exchange.safeAttachmentPolicies", "exchange.safeAttachmentRules", "exchange.malwareFilterPolicies",
    "exchange.contentFilterPolicies", "exchange.connectionFilterPolicies",
)
SETTINGS_SECTIONS = {
    "unified_audit_log_ingestion": "exchange.adminAuditLogConfig",
    "mailbox_audit_disabled": "exchange.organizationConfig",
    "mailbox_audit_bypass": "exchange.mailboxAuditBypass",
    "external_in_outlook": "exchange.externalInOutlook",
    "external_tag_transport_rules": "exchange.transportRules",
}
_PRESETS = {"standard": "standard", "strict": "strict"}
Assigned = tuple[dict[str, Any], str, str, str, bool | None]  # policy, applies_to, scope, preset, is_default


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _list_text(value: Any) -> list[str]:
    return [text(v) for v in as_list(value) if text(v).strip()]


# ------------------------------------------------------------------------------------------------ domains --

def _dkim_by_domain(t: Tables) -> dict[str, dict[str, Any]] | None:
    raw = t.data("exchange.dkimSigningConfig")
    if not isinstance(raw, list):
        return None
    return {text(c.get("Domain") or c.get("Name")).casefold(): c for c in raw if isinstance(c, dict)}


def mail_domains_table(t: Tables, dns_section: str = "dns.emailAuth",
                       dkim: Callable[[str, Any], tuple[bool | None, str, str]] | None = None) -> None:
    """One row per domain the DNS section looked up; `dkim(domain, lookups)` gives (enabled, detail, gap)."""
    raw = t.data(dns_section)
    if not isinstance(raw, dict) or not isinstance(raw.get("domains"), list):
        t.missing("mail_domains", dns_section)
        return
    lookups = read_lookups(raw.get("lookups"))
    domains = [text(d).casefold() for d in raw["domains"] if isinstance(d, str) and d.strip()]
    tenant = frozenset(domains)
    dkim = dkim or _microsoft_dkim(t)
    rows = []
    for d in domains:
        spf = spf_facts(lookups, d)
        dmarc = dmarc_facts(lookups, d, tenant)
        enabled, detail, gap = dkim(d, lookups)
        rows.append({
            "domain": d, "spf_records": " | ".join(spf.records), "spf_count": len(spf.records) if not spf.gap or
            spf.records else None, "spf_all": spf.all_qualifier, "spf_all_via": spf.all_via,
            "spf_lookups": spf.lookups, "spf_problems": "; ".join(spf.problems), "spf_gap": spf.gap,
            "dmarc_records": " | ".join(dmarc.records), "dmarc_count": None if dmarc.gap else len(dmarc.records),
            "dmarc_source": dmarc.source, "dmarc_policy": dmarc.policy, "dmarc_pct": dmarc.pct,
            "dmarc_rua": ", ".join(dmarc.rua), "dmarc_gap": dmarc.gap,
            "dkim_enabled": enabled, "dkim_detail": detail, "dkim_gap": gap})
    t.put("mail_domains", rows, built((dns_section, *_dkim_sections(t))))


def _dkim_sections(t: Tables) -> tuple[str, ...]:
    return ("exchange.dkimSigningConfig",) if t.snap.manifest.provider == "microsoft" else ()


def _microsoft_dkim(t: Tables) -> Callable[[str, Any], tuple[bool | None, str, str]]:
    configs = _dkim_by_domain(t)
    gap = t.why("exchange.dkimSigningConfig")

    def answer(domain: str, _lookups: Any) -> tuple[bool | None, str, str]:
        if configs is None:
            return None, "", gap or "exchange.dkimSigningConfig: not readable"
        cfg = configs.get(domain)
        if cfg is None:
            return False, "no DKIM signing configuration for this domain (Get-DkimSigningConfig)", ""
        on = _flag(cfg.get("Enabled"))
        status = text(cfg.get("Status"))
        return on, f"Get-DkimSigningConfig Enabled={cfg.get('Enabled')}" + (f", Status={status}" if status else ""), \
            "" if on is not None else "Get-DkimSigningConfig: Enabled is not a boolean"
    return answer


def google_dkim(selectors: Iterable[str]) -> Callable[[str, Any], tuple[bool | None, str, str]]:
    """Google: a DKIM key record (non-empty p=) at <selector>._domainkey.<domain> for any stored selector."""
    chosen = list(selectors)

    def answer(domain: str, lookups: Any) -> tuple[bool | None, str, str]:
        if not chosen:
            return None, "", "no DKIM selector was looked up"
        gaps = []
        for sel in chosen:
            name = f"{sel}._domainkey.{domain}"
            found = lookups.get(name)
            if found is None:
                gaps.append(f"{name} was not looked up")
            elif not found.answered:
                gaps.append(found.why(name))
            elif dkim_key_present(found.records):
                return True, f"DKIM key published at {name}", ""
        if gaps:
            return None, "", "; ".join(gaps)
        names = ", ".join(f"{s}._domainkey.{domain}" for s in chosen)
        return False, f"no DKIM key record at {names}", ""
    return answer


# -------------------------------------------------------------------------------------------- protections --

def _rule_scope(rule: dict[str, Any] | None, sending: frozenset[str] | None) -> tuple[str, str]:
    if rule is None:
        return "none", "no rule assigns this policy to anyone"
    if text(rule.get("State")).casefold() not in ("enabled", ""):
        return "none", f"its rule '{text(rule.get('Name'))}' is {text(rule.get('State')).lower() or 'disabled'}"
    to, groups = _list_text(rule.get("SentTo")), _list_text(rule.get("SentToMemberOf"))
    domains = [d.casefold() for d in _list_text(rule.get("RecipientDomainIs"))]
    excepted = [x for k in ("ExceptIfSentTo", "ExceptIfSentToMemberOf", "ExceptIfRecipientDomainIs")
                for x in _list_text(rule.get(k))]
    parts = []
    if to:
        parts.append("recipients " + ", ".join(to))
    if groups:
        parts.append("members of " + ", ".join(groups))
    if domains:
        parts.append("domains " + ", ".join(domains))
    shown = "; ".join(parts) or "every recipient"
    if excepted:
        shown += "; except " + ", ".join(excepted)
    if not to and not groups and not excepted and domains and sending is None:
        return "unknown", shown + " (whether that is every sending domain is not known: exchange.acceptedDomains " \
                                  "was not read)"
    everyone = not to and not groups and not excepted and (not domains or set(sending or ()) <= set(domains))
    return ("all" if everyone else "some"), shown


def _assign(policies: list[Any], rules: Any, rule_key: str, sending: frozenset[str] | None,
            rules_gap: str) -> list[Assigned]:
    """(policy, applies_to, scope, preset, is_default) per policy."""
    by_policy: dict[str, dict[str, Any]] = {}
    for r in as_list(rules) if isinstance(rules, list) else []:
        if isinstance(r, dict):
            by_policy.setdefault(text(r.get(rule_key)).casefold(), r)
    out: list[Assigned] = []
    for p in policies:
        if not isinstance(p, dict):
            continue
        name = text(p.get("Name") or p.get("Identity"))
        kind = text(p.get("RecommendedPolicyType")).casefold()
        if p.get("IsDefault") is True:
            out.append((p, "all", "everyone no other policy covers (default policy)", "", True))
        elif p.get("IsBuiltInProtection") is True:
            out.append((p, "all", "everyone no other policy covers (Built-in protection preset; its exclusions "
                                  "are not read)", "builtin", False))
        elif kind in _PRESETS:
            out.append((p, "unknown", f"{kind.title()} preset security policy (its assignment is not read)",
                        _PRESETS[kind], False))
        elif not isinstance(rules, list):
            out.append((p, "unknown", f"its rule could not be read: {rules_gap}", "", False))
        else:
            applies, scope = _rule_scope(by_policy.get(name.casefold()), sending)
            out.append((p, applies, scope, "", False))
    return out


def _sending_domains(t: Tables) -> frozenset[str] | None:
    raw = t.data("exchange.acceptedDomains")
    if not isinstance(raw, list):
        return None
    return frozenset(text(d.get("DomainName")).casefold() for d in raw if isinstance(d, dict)
                     and not text(d.get("DomainName")).casefold().endswith(".onmicrosoft.com"))


def protections_table(t: Tables) -> None:
    if not any(t.usable(s) for s in PROTECTION_SECTIONS):
        t.missing("mail_protections", *PROTECTION_SECTIONS)
        return
    sending = _sending_domains(t)
    rows: list[dict[str, Any]] = []

    def add(facet: str, assigned: list[Assigned],
            value: Callable[[dict[str, Any]], tuple[bool | None, str]]) -> None:
        for p, applies, scope, preset, default in assigned:
            if p.get("Enabled") is False and not default:  # a switched-off custom policy protects nobody
                applies, scope = "none", "the policy itself is turned off (Enabled=False)"
            on, detail = value(p)
            rows.append({"facet": facet, "policy": text(p.get("Name") or p.get("Identity")), "is_default": default,
                         "preset": preset, "applies_to": applies, "scope": scope, "on": on, "detail": detail})

    def flag(key: str) -> Callable[[dict[str, Any]], tuple[bool | None, str]]:
        return lambda p: (_flag(p.get(key)), f"{key}={p.get(key)}")

    anti = t.data("exchange.antiPhishPolicies")
    if isinstance(anti, list):
        assigned = _assign(anti, t.data("exchange.antiPhishRules"), "AntiPhishPolicy", sending,
                           t.why("exchange.antiPhishRules"))
        add("spoof_intelligence", assigned, flag("EnableSpoofIntelligence"))

        def impersonation(p: dict[str, Any]) -> tuple[bool | None, str]:
            on = _flag(p.get("EnableTargetedUserProtection"))
            users = _list_text(p.get("TargetedUsersToProtect"))
            action = text(p.get("TargetedUserProtectionAction"))
            if on is None:
                return None, "EnableTargetedUserProtection not reported"
            shown = (f"protects {len(users)} user(s): " + ", ".join(users[:20])) if users else "protects nobody"
            active = on and bool(users) and action.casefold() not in ("", "noaction")
            return active, f"EnableTargetedUserProtection={on}; {shown}; action {action or 'not set'}"
        add("impersonation_users", assigned, impersonation)
    for section, rule_section, rule_key, facet, value in (
            ("exchange.safeLinksPolicies", "exchange.safeLinksRules", "SafeLinksPolicy", "safe_links",
             flag("EnableSafeLinksForEmail")),
            ("exchange.safeAttachmentPolicies", "exchange.safeAttachmentRules", "SafeAttachmentPolicy",
             "safe_attachments", _safe_attachments)):
        pols = t.data(section)
        if isinstance(pols, list):
            add(facet, _assign(pols, t.data(rule_section), rule_key, sending, t.why(rule_section)), value)
    malware = t.data("exchange.malwareFilterPolicies")
    if isinstance(malware, list):
        assigned = _assign(malware, None, "", sending, "Get-MalwareFilterRule is not collected")
        add("attachment_filter", assigned, lambda p: (_flag(p.get("EnableFileFilter")),
                                                       f"EnableFileFilter={p.get('EnableFileFilter')}; "
                                                       f"{len(_list_text(p.get('FileTypes')))} file types"))
        add("zap", assigned, flag("ZapEnabled"))
    content = t.data("exchange.contentFilterPolicies")
    if isinstance(content, list):
        assigned = _assign(content, None, "", sending, "Get-HostedContentFilterRule is not collected")
        add("allowed_sender_domains", assigned, lambda p: _listed(p, "AllowedSenderDomains"))
    conn = t.data("exchange.connectionFilterPolicies")
    if isinstance(conn, list):
        assigned = _assign(conn, None, "", sending, "")
        add("ip_allow_list", assigned, lambda p: _listed(p, "IPAllowList"))
        add("safe_list", assigned, flag("EnableSafeList"))
    t.put("mail_protections", rows, built(PROTECTION_SECTIONS))


def _listed(p: dict[str, Any], key: str) -> tuple[bool | None, str]:
    value = p.get(key)
    if value is not None and not isinstance(value, list | str):
        return None, f"{key} is not a list"
    items = _list_text(value)
    return bool(items), f"{key}: " + (", ".join(items[:20]) + (f" and {len(items) - 20} more" if len(items) > 20
                                                                else "") if items else "empty")


def _safe_attachments(p: dict[str, Any]) -> tuple[bool | None, str]:
    enable, action = _flag(p.get("Enable")), text(p.get("Action"))
    if enable is None:
        return None, "Enable not reported"
    # Action Allow delivers the attachment even when malware is detected: it protects nobody (Microsoft Learn).
    return enable and action.casefold() in ("block", "dynamicdelivery"), f"Enable={enable}; Action={action}"


# -------------------------------------------------------------------------------------------- settings --

def email_settings(t: Tables) -> None:
    """Audit and tagging facts appended to tenant_settings (gaps name the section when it was not read)."""
    rows: list[dict[str, str]] = []

    def first(section: str) -> dict[str, Any] | None:
        raw = t.data(section)
        items = [x for x in raw if isinstance(x, dict)] if isinstance(raw, list) else []
        return items[0] if items else None

    def put(key: str, value: str | None, absent: str) -> None:
        section = SETTINGS_SECTIONS[key]
        if value is None:
            t.gaps[key] = t.why(section) or f"{section}: {absent}"
        else:
            rows.append({"setting": key, "value": value, "source": section})

    def boolean(section: str, field: str) -> str | None:
        obj = first(section)
        v = obj.get(field) if obj else None
        return ("true" if v else "false") if isinstance(v, bool) else None

    put("unified_audit_log_ingestion", boolean("exchange.adminAuditLogConfig", "UnifiedAuditLogIngestionEnabled"),
        "UnifiedAuditLogIngestionEnabled is absent or not a boolean")
    put("mailbox_audit_disabled", boolean("exchange.organizationConfig", "AuditDisabled"),
        "AuditDisabled is absent or not a boolean")
    put("external_in_outlook", boolean("exchange.externalInOutlook", "Enabled"), "Enabled is absent")
    bypass = t.data("exchange.mailboxAuditBypass")
    put("mailbox_audit_bypass", "; ".join(text(b.get("Identity") or b.get("Name")) for b in bypass
                                          if isinstance(b, dict) and b.get("AuditBypassEnabled") is True)
        if isinstance(bypass, list) else None, "not a list")
    rules = t.data("exchange.transportRules")
    tagging = None
    if isinstance(rules, list):
        tagging = "; ".join(text(r.get("Name")) for r in rules if isinstance(r, dict)
                            and text(r.get("State")).casefold() == "enabled"
                            and text(r.get("Mode") or "Enforce").casefold() == "enforce"
                            and text(r.get("FromScope")).casefold() == "notinorganization"
                            and (text(r.get("PrependSubject")).strip() or text(r.get("ApplyHtmlDisclaimerText")).strip()))
    put("external_tag_transport_rules", tagging, "not a list")
    if not rows:
        return
    current = t.tables.get("tenant_settings")
    extra = make_table("tenant_settings", rows)
    t.tables["tenant_settings"] = extra if current is None or current.empty else \
        pd.concat([current, extra], ignore_index=True)
    st = t.status.get("tenant_settings")
    extra_sections = tuple(sorted(set(SETTINGS_SECTIONS.values())))
    t.status["tenant_settings"] = built(extra_sections) if st is None else \
        replace(st, sections=(*st.sections, *extra_sections))


def email_tables(t: Tables) -> None:
    mail_domains_table(t)
    protections_table(t)
    email_settings(t)
