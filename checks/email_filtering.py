"""Email security, part 2: the filters between a phishing message and the inbox — anti-phishing (spoof
intelligence, impersonation protection), Safe Links, Safe Attachments, the common attachment filter and zero-hour
auto purge, allow lists that skip all of it; and Gmail's safety settings per organisational unit.

Every check reads `mail_protections` (one row per protection facet and policy / OU, idaudit.core.normalise.
ms_email and google_email) and decides from who each policy covers (`applies_to`) and whether the protection is
on: a policy that covers some recipients with the protection off fails (custom policies win over the default for
the people they cover); a policy whose assignment idaudit cannot read never makes a pass. A section that could
not be read — including a Defender cmdlet that does not exist without the licence — is `unknown` with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from checks import references as R
from checks.catalogue import check
from checks.common import FAIL, HIGH, MEDIUM, PASS, UNKNOWN, section_gap, tenant_row
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.tables import AuditData

MS, GG = Provider.MICROSOFT, Provider.GOOGLE
FAMILY = "email security"
DEFENDER = "Microsoft Defender for Office 365 Plan 1"


def _rows(data: AuditData, facets: Iterable[str]) -> pd.DataFrame:
    table = data.table("mail_protections")
    return table[table["facet"].isin(list(facets))]


def _named(rows: pd.DataFrame, limit: int = 8) -> str:
    shown = "; ".join(f"'{r.policy}' ({r.scope}): {r.detail}" for r in rows.head(limit).itertuples(index=False))
    return shown + (f"; and {len(rows) - limit} more" if len(rows) > limit else "")


def coverage(data: AuditData, facets: tuple[str, ...], sections: tuple[str, ...], what: str) -> pd.DataFrame:
    """One tenant row: is `what` on for everyone? (fail / pass / unknown as the module docstring says)."""
    gap = section_gap(data, *sections)
    if gap:
        return result_frame([tenant_row(UNKNOWN, f"{what} not collected: {gap}")])
    rows = _rows(data, facets)
    active = rows[rows["applies_to"] != "none"]
    unread = active[active["on"].isna()]
    off = active[active["on"].eq(False).fillna(False)]
    off_known = off[off["applies_to"].isin(["all", "some"])]
    if not off_known.empty:
        return result_frame([tenant_row(FAIL, f"{what} is off for the people these policies cover: "
                                              f"{_named(off_known)}")])
    if not unread.empty:
        return result_frame([tenant_row(UNKNOWN, f"{what}: the setting was not reported for {_named(unread)}")])
    if not off.empty:  # off, and who the policy covers is not read
        return result_frame([tenant_row(UNKNOWN, f"{what} is off in a policy whose assignment idaudit does not "
                                                 f"read: {_named(off)}")])
    on_all = active[active["on"].eq(True).fillna(False) & (active["applies_to"] == "all")]
    if on_all.empty:
        maybe = active[active["on"].eq(True).fillna(False) & (active["applies_to"] == "unknown")]
        if not maybe.empty:
            return result_frame([tenant_row(UNKNOWN, f"{what} is on only in policies whose assignment is not "
                                                     f"read: {_named(maybe)}")])
        return result_frame([tenant_row(FAIL, f"no policy applies {what} to every recipient"
                                              + (f" (policies seen: {_named(rows)})" if not rows.empty else ""))])
    weaker = on_all["preset"].isin(["builtin"]).all() or active["applies_to"].eq("unknown").any()
    note = ""
    if on_all["preset"].isin(["builtin"]).all():
        note = "; the Built-in protection preset's exclusions (Get-ATPBuiltInProtectionRule) are not read"
    if active["applies_to"].eq("unknown").any():
        note += "; some policies' assignments are not read"
    return result_frame([tenant_row(PASS, f"{what} is on for every recipient: {_named(on_all)}{note}",
                                    MEDIUM if weaker else HIGH)])


ANTI_PHISH = ("exchange.antiPhishPolicies", "exchange.antiPhishRules")


@check(
    id="IDA-ESEC-004", title="No impersonation protection for the people attackers impersonate",
    severity=Severity.HIGH,
    rationale="""Business-email compromise impersonates the administrator or the CFO ("please pay this invoice
    today", "send me the W-2s") from a look-alike address. Defender for Office 365 impersonation protection
    quarantines mail whose sender imitates the people listed in an anti-phishing policy. Without it, the message
    that starts the fraud or the credential theft lands in the inbox looking like the boss.""",
    remediation="""Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies >
    Anti-phishing: in a policy that covers everyone, turn on user impersonation protection, add the executives,
    finance and billing staff, set the action to Quarantine, and turn on domain and mailbox-intelligence
    impersonation protection. PowerShell: `Set-AntiPhishPolicy -Identity <policy> -EnableTargetedUserProtection
    $true -TargetedUsersToProtect 'Name;address',... -TargetedUserProtectionAction Quarantine`. Requires
    Defender for Office 365 (Business Premium includes Plan 1).""",
    references=(R.HIPAA_MALWARE, R.HIPAA_REVIEW, R.CPG_EMAIL, R.CIS_M365_ANTI_PHISH, R.SCUBA_EXO_IMPERSONATION,
                R.SCUBA_DEFENDER_IMPERSONATION, R.T_IMPERSONATION),
    providers=(MS,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def impersonation_protection(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    licence = section_gap(data, "exchange.safeLinksPolicies")
    if licence and "unlicensed" in licence:
        return result_frame([tenant_row(UNKNOWN, f"impersonation protection is part of {DEFENDER}, which the "
                                                 f"tenant does not appear to hold: {licence}")])
    gap = section_gap(data, *ANTI_PHISH)
    if gap:
        return result_frame([tenant_row(UNKNOWN, f"anti-phishing policies not collected: {gap}")])
    rows = _rows(data, ("impersonation_users",))
    active = rows[rows["applies_to"].isin(["all", "some", "unknown"])]
    on = active[active["on"].eq(True).fillna(False)]
    if not on.empty:
        return result_frame([tenant_row(PASS, f"user impersonation protection is on: {_named(on)}. idaudit cannot "
                                              "tell who your executives and finance staff are: confirm they are all "
                                              "listed", MEDIUM)])
    unread = active[active["on"].isna()]
    if not unread.empty:
        return result_frame([tenant_row(UNKNOWN, f"impersonation settings not reported: {_named(unread)}")])
    return result_frame([tenant_row(FAIL, "no anti-phishing policy in force protects anyone against "
                                          f"impersonation ({_named(rows) or 'no policy'})")])


@check(
    id="IDA-ESEC-005", title="Spoof intelligence is off in an anti-phishing policy", severity=Severity.HIGH,
    rationale="""Spoof intelligence is Exchange Online Protection's check that a message claiming to come from a
    domain was really sent by a server allowed to send for it. Turned off, mail forged in the name of the clinic,
    its lab partner or its bank is delivered like any other: the classic entry of a password-phishing campaign.""",
    remediation="""Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies >
    Anti-phishing > each policy > Spoof: turn on spoof intelligence and honour DMARC. PowerShell:
    `Set-AntiPhishPolicy -Identity <policy> -EnableSpoofIntelligence $true -HonorDmarcPolicy $true`.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.CIS_M365_ANTI_PHISH, R.SCUBA_DEFENDER_EOP_ALL, R.T_PHISH_LINK),
    providers=(MS,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def spoof_intelligence(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return coverage(data, ("spoof_intelligence",), ANTI_PHISH, "spoof intelligence")


@check(
    id="IDA-ESEC-006", title="Safe Links does not protect every recipient", severity=Severity.HIGH,
    rationale="""Most credential phishing is a link to a fake sign-in page. Safe Links checks every link when it
    is clicked, so a page that turns malicious after delivery is still blocked. A recipient no Safe Links policy
    covers clicks straight through to the page that takes the password.""",
    remediation="""Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies > Safe
    Links: make sure every recipient is covered (Standard or Strict preset security policy, or a custom policy for
    all domains) with 'On: Safe Links checks a list of known, malicious links' for email; keep built-in protection
    on. PowerShell: `Get-SafeLinksPolicy | fl Name,EnableSafeLinksForEmail`, `Get-SafeLinksRule | fl
    Name,State,SentTo*,RecipientDomainIs`. Requires Defender for Office 365.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.CIS_M365_SAFE_LINKS, R.SCUBA_EXO_URL_BLOCK,
                R.SCUBA_DEFENDER_ATP_ALL, R.T_PHISH_LINK),
    providers=(MS,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def safe_links(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return coverage(data, ("safe_links",), ("exchange.safeLinksPolicies", "exchange.safeLinksRules"), "Safe Links")


@check(
    id="IDA-ESEC-007", title="Safe Attachments does not protect every recipient", severity=Severity.HIGH,
    rationale="""Safe Attachments opens every attachment in a sandbox before delivery and blocks the ones that
    install malware or lead to a credential-harvesting page. A policy set to Allow (monitor), or a recipient no
    policy covers, receives the weaponised invoice or lab report directly.""",
    remediation="""Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies > Safe
    Attachments: cover every recipient with action Block or Dynamic Delivery (Standard/Strict preset, or a custom
    policy for all domains); never leave a policy on Allow. PowerShell: `Set-SafeAttachmentPolicy -Identity
    <policy> -Enable $true -Action Block`. Requires Defender for Office 365.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.CIS_M365_SAFE_ATTACHMENTS, R.SCUBA_DEFENDER_ATP_ALL,
                R.T_PHISH_ATTACHMENT),
    providers=(MS,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def safe_attachments(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return coverage(data, ("safe_attachments",), ("exchange.safeAttachmentPolicies", "exchange.safeAttachmentRules"),
                    "Safe Attachments (Block or Dynamic Delivery)")


@check(
    id="IDA-ESEC-008", title="Common attachment filter or zero-hour auto purge is off", severity=Severity.HIGH,
    rationale="""The common attachment filter blocks the file types phishing uses to run code (.exe, .iso, .lnk,
    .html smuggling); zero-hour auto purge pulls a message back out of the inbox when it is found malicious after
    delivery. With either off, the attachment that installs the password stealer stays where the user can open
    it.""",
    remediation="""Microsoft Defender portal > Email & collaboration > Policies & rules > Threat policies >
    Anti-malware > Default (and every custom policy): Enable the common attachments filter and zero-hour auto purge
    for malware. PowerShell: `Set-MalwareFilterPolicy -Identity Default -EnableFileFilter $true -ZapEnabled
    $true`.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.CIS_M365_ATTACHMENT_FILTER, R.SCUBA_EXO_ATTACHMENT_FILTER,
                R.SCUBA_EXO_ZAP, R.T_PHISH_ATTACHMENT),
    providers=(MS,), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def attachment_filter(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return coverage(data, ("attachment_filter", "zap"), ("exchange.malwareFilterPolicies",),
                    "the common attachment filter and zero-hour auto purge")


ALLOW_FACETS = ("allowed_sender_domains", "ip_allow_list", "safe_list")
ALLOW_SECTIONS = {"microsoft": ("exchange.contentFilterPolicies", "exchange.connectionFilterPolicies"),
                  "google": ("policies",)}


@check(
    id="IDA-ESEC-009", title="Allow lists let mail skip spam and phishing filtering", severity=Severity.HIGH,
    rationale="""An allowed sender domain, an IP allow list or the connection filter's safe list sends mail
    straight past spam, spoofing and phishing filtering — the domain or address only has to be forged or
    compromised once. A billing vendor's domain on the allow list is exactly what an invoice-fraud phish
    imitates.""",
    remediation="""Remove allowed sender domains and IP allow-list entries; handle a false positive for one
    specific sender instead, so everything else is still filtered.""",
    steps={MS: """Microsoft Defender portal > Threat policies > Anti-spam: inbound policy > Allowed senders and
           domains; connection filter policy > IP Allow list, 'Turn on safe list' off. PowerShell:
           `Set-HostedContentFilterPolicy -Identity Default -AllowedSenderDomains @{}`;
           `Set-HostedConnectionFilterPolicy -Identity Default -IPAllowList @{} -EnableSafeList $false`.""",
           GG: """Google Admin console > Apps > Google Workspace > Gmail > Spam, Phishing and Malware > Email
           allowlist: empty it (`gam print policies` shows gmail.email_spam_filter_ip_allowlist)."""},
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.CIS_M365_ALLOWED_DOMAINS, R.CIS_M365_IP_ALLOW,
                R.CIS_M365_SAFE_LIST, R.SCUBA_EXO_ALLOWED_DOMAINS, R.SCUBA_EXO_IP_ALLOW, R.SCUBA_EXO_SAFE_LIST,
                R.SCUBA_GWS_ALLOWLIST, R.T_PHISH_LINK),
    providers=(MS, GG), requires=("mail_protections",), subject_kind=SubjectKind.POLICY, family=FAMILY,
    owner_role="IT manager",
)
def allow_lists(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    gap = section_gap(data, *ALLOW_SECTIONS.get(data.provider, ()))
    if gap:
        return result_frame([tenant_row(UNKNOWN, f"filter allow lists not collected: {gap}")])
    rows = _rows(data, ALLOW_FACETS)
    listed = rows[rows["on"].eq(True).fillna(False) & (rows["applies_to"] != "none")]
    if not listed.empty:
        return result_frame([tenant_row(FAIL, f"mail skips filtering through: {_named(listed)}")])
    unread = rows[rows["on"].isna()]
    if not unread.empty:
        return result_frame([tenant_row(UNKNOWN, f"allow lists not reported for: {_named(unread)}")])
    if rows.empty:
        return result_frame([tenant_row(UNKNOWN, "no filter policy with allow lists was reported")])
    return result_frame([tenant_row(PASS, f"no allowed sender domain, IP allow list or safe list in "
                                          f"{rows['policy'].nunique()} policy/policies")])
