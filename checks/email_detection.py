"""Email security, part 3: the alarms — when an account is taken over, the records that show what the attacker
read and changed, and the tag that warns staff a message came from outside.

Reads tenant settings the Microsoft normaliser takes from Exchange Online (idaudit.core.normalise.ms_email): a
setting whose section was not read is a gap, so the check says `unknown` with the reason, never `pass`.
"""

from __future__ import annotations

import pandas as pd

from checks import references as R
from checks.catalogue import check
from checks.common import FAIL, PASS, UNKNOWN, setting_or_none, tenant_row
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.tables import AuditData

MS = Provider.MICROSOFT
FAMILY = "email security"


@check(
    id="IDA-ESEC-010", title="Mail from outside the organisation is not tagged as external", severity=Severity.MEDIUM,
    rationale="""A phishing message "from the CEO" or "from IT" is sent from outside. Exchange's External tag (or
    a transport rule that prefixes the subject) tells the reader so before they click or pay; without it the
    forged internal message is indistinguishable from a real one.""",
    remediation="""PowerShell: `Set-ExternalInOutlook -Enabled $true` (Outlook shows an External tag), or Exchange
    admin center > Mail flow > Rules > a rule 'The sender is located Outside the organization' that prepends
    '[EXTERNAL]' to the subject, in Enforce mode.""",
    references=(R.HIPAA_MALWARE, R.CPG_EMAIL, R.CIS_M365_EXTERNAL_TAG, R.SCUBA_EXO_EXTERNAL_TAG, R.T_PHISH_LINK),
    providers=(MS,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    owner_role="IT manager", uses_settings=("external_in_outlook", "external_tag_transport_rules"),
)
def external_tagging(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    tag, tag_why = setting_or_none(data, "external_in_outlook")
    rules, rules_why = setting_or_none(data, "external_tag_transport_rules")
    if tag == "true":
        return result_frame([tenant_row(PASS, "Outlook's External tag is on (Get-ExternalInOutlook Enabled=True)")])
    if rules:
        raw = data.setting("external_tag_transport_rules")
        return result_frame([tenant_row(PASS, f"transport rule(s) mark outside mail: {raw}")])
    if tag is None or rules is None:
        why = "; ".join(w for w in (tag_why, rules_why) if w)
        return result_frame([tenant_row(UNKNOWN, f"external tagging not fully collected: {why}")])
    return result_frame([tenant_row(FAIL, "the External tag is off and no enabled transport rule marks mail from "
                                          "outside the organisation")])


@check(
    id="IDA-ESEC-011", title="Unified audit log ingestion is off", severity=Severity.HIGH,
    rationale="""The unified audit log is where an investigation of a compromised mailbox starts: sign-ins, inbox
    rules created, mail items accessed, consent granted. With ingestion off, nothing of the attacker's activity is
    recorded, a breach cannot be scoped for the HIPAA breach risk assessment, and alerts built on the log never
    fire.""",
    remediation="""Microsoft Purview portal > Audit > 'Start recording user and admin activity'; or Exchange Online
    PowerShell: `Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $true` (check with
    `Get-AdminAuditLogConfig | fl UnifiedAuditLogIngestionEnabled` in Exchange Online PowerShell, not in Security
    & Compliance PowerShell, where it always reads False).""",
    references=(R.HIPAA_AUDIT, R.HIPAA_REVIEW, R.CPG_LOGS, R.CIS_M365_AUDIT_LOG, R.SCUBA_EXO_UAL, R.T_DISABLE_LOGS),
    providers=(MS,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    owner_role="IT manager", uses_settings=("unified_audit_log_ingestion",),
)
def unified_audit_log(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    value, why = setting_or_none(data, "unified_audit_log_ingestion")
    if value is None:
        return result_frame([tenant_row(UNKNOWN, f"audit log configuration not collected: {why}")])
    if value == "true":
        return result_frame([tenant_row(PASS, "unified audit log ingestion is on (UnifiedAuditLogIngestionEnabled"
                                              "=True)")])
    return result_frame([tenant_row(FAIL, "unified audit log ingestion is off (UnifiedAuditLogIngestionEnabled="
                                          "False): user and admin activity is not recorded")])


@check(
    id="IDA-ESEC-012", title="Mailbox auditing is off, or some accounts bypass it", severity=Severity.HIGH,
    rationale="""Mailbox auditing records who opened, moved, deleted or sent mail from a mailbox — the evidence of
    what an attacker with a stolen password actually read. Organisation-wide AuditDisabled turns it off for
    everyone; an audit bypass association silences it for one account, a favourite of attackers who control a
    service account or an app.""",
    remediation="""There is no portal switch for either setting (Microsoft Purview portal > Audit only searches
    what is recorded). Exchange Online PowerShell: `Set-OrganizationConfig -AuditDisabled $false`; for each account
    listed: `Set-MailboxAuditBypassAssociation -Identity <account> -AuditBypassEnabled $false` (review why it was
    set: a bypass nobody can explain is an incident). Check: `Get-MailboxAuditBypassAssociation -ResultSize
    Unlimited | ? AuditBypassEnabled`.""",
    references=(R.HIPAA_AUDIT, R.HIPAA_REVIEW, R.CPG_LOGS, R.CIS_M365_AUDIT_DISABLED, R.CIS_M365_AUDIT_BYPASS,
                R.SCUBA_EXO_MAILBOX_AUDIT, R.T_DISABLE_LOGS),
    providers=(MS,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    owner_role="IT manager", uses_settings=("mailbox_audit_disabled", "mailbox_audit_bypass"),
)
def mailbox_auditing(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    disabled, why = setting_or_none(data, "mailbox_audit_disabled")
    bypass, bypass_why = setting_or_none(data, "mailbox_audit_bypass")
    problems = []
    if disabled == "true":
        problems.append("mailbox auditing is off for the whole organisation (AuditDisabled=True)")
    if bypass:
        problems.append("these accounts bypass mailbox auditing (AuditBypassEnabled=True): "
                        + data.setting("mailbox_audit_bypass"))
    if problems:
        return result_frame([tenant_row(FAIL, "; ".join(problems))])
    if disabled is None or bypass is None:
        gaps = "; ".join(w for w in (why, bypass_why) if w)
        return result_frame([tenant_row(UNKNOWN, f"mailbox auditing not fully collected: {gaps}")])
    return result_frame([tenant_row(PASS, "mailbox auditing is on (AuditDisabled=False) and no account bypasses "
                                          "it")])
