"""Mail checks: the rules, forwards and settings that copy patient mail out of the organisation or hide it.

"Outside" always means: the recipient's domain is not one of the tenant's verified domains (case-insensitive; a
subdomain counts as inside only when it is itself verified) and not a configured trusted partner domain
(`audit.trusted_domains`, subdomains included). A recipient without an SMTP address cannot be placed and is
reported `unknown`, never inside.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from checks import references as R
from checks.autoforward import microsoft_auto_forwarding
from checks.catalogue import check
from checks.common import (
    FAIL,
    HIGH,
    MEDIUM,
    PASS,
    UNKNOWN,
    google_ou_setting,
    inside_domains,
    label_users,
    nothing_found_row,
    section_gap,
    tenant_row,
)
from checks.mailflow import grouped_parts, hiding_markers, place, verdicts
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.tables import AuditData

MS, GG = Provider.MICROSOFT, Provider.GOOGLE
FAMILY = "mail"

RULE_MECHANISMS = {
    "inbox_rule_forward": "forwards to",
    "inbox_rule_forward_attachment": "forwards as attachment to",
    "inbox_rule_redirect": "redirects to",
    "gmail_filter_forward": "filter forwards to",
}
MAILBOX_MECHANISMS = {
    "mailbox_forwarding": "mailbox forwarding (ForwardingSmtpAddress / ForwardingAddress) to",  # `how` is finer
    "gmail_auto_forward": "Gmail automatic forwarding to",
}
RULE_SECTIONS = {"microsoft": ("inboxRules",), "google": ("gmail.filters",)}
MAILBOX_SECTIONS = {"microsoft": ("exchange.mailboxes",), "google": ("gmail.autoForwarding",)}


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["subject_id", "subject", "status", "evidence", "confidence"])


def _combine(found: pd.DataFrame, extra: list[dict[str, str]]) -> pd.DataFrame:
    """Per-subject rows plus the tenant row (a section gap, or the single 'nothing found' pass)."""
    if not extra:
        return result_frame(found)
    if found.empty:
        return result_frame(pd.DataFrame(extra))
    return result_frame(pd.concat([found, pd.DataFrame(extra)], ignore_index=True))


def _tenant_rows(data: AuditData, table: str, sections: tuple[str, ...], what: str, has_rows: bool,
                 examined: str) -> list[dict[str, str]]:
    """One tenant unknown row when the source section is unusable, or one pass row when nothing was found.

    Users a partial table could not collect are the engine's job (idaudit.core.engine.cover_missing_subjects): it
    adds their unknown rows and turns a pass on an item they own into unknown.
    """
    gap = section_gap(data, *sections)
    if gap:
        return [tenant_row(UNKNOWN, f"{what} not collected: {gap}")]
    if not has_rows:
        return [nothing_found_row(data, (table,), examined)]
    return []


@check(
    id="IDA-MAIL-001", title="Inbox rule or filter forwards mail outside the organisation", severity=Severity.CRITICAL,
    rationale="""The classic business-email-compromise step: after phishing a password the attacker adds an inbox
    rule (or Gmail filter) that forwards, forwards as attachment or redirects incoming mail to an outside address.
    Every referral, lab result and invoice then leaves silently, and the rule keeps working after the password is
    reset.""",
    remediation="""Treat as a possible breach: confirm with the user, delete the rule, reset the password and
    revoke sessions, and review what was forwarded (HIPAA breach risk assessment).""",
    steps={MS: """Outlook on the web > Settings > Mail > Rules; PowerShell: `Get-InboxRule -Mailbox <upn> | fl
           Name,ForwardTo,ForwardAsAttachmentTo,RedirectTo; Remove-InboxRule -Mailbox <upn> -Identity <rule>`;
           Graph: `DELETE /users/{id}/mailFolders/inbox/messageRules/{ruleId}`.""",
           GG: """Gmail > Settings > See all settings > Filters and Blocked Addresses; `gam user <email> show
           filters` then `gam user <email> delete filter <id>`."""},
    references=(R.HIPAA_TRANSMISSION, R.HIPAA_REVIEW, R.HIPAA_ACCESS, R.CPG_EMAIL, R.CIS_M365_FORWARDING,
                R.SCUBA_EXO_FORWARDING, R.T_FORWARD_RULE),
    providers=(MS, GG), requires=("forwarding", "domains"), subject_kind=SubjectKind.RULE, family=FAMILY,
    owner_role="IT manager + compliance",
    provenance="mail_rule",
)
def rule_forwards_outside(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    inside = inside_domains(data, settings)
    labels = data.user_labels()
    fwd = data.table("forwarding")
    rules = fwd[fwd["mechanism"].isin(RULE_MECHANISMS)]
    found = _empty()
    if not rules.empty:
        placed = place(rules, inside)
        keys = ["user_id", "rule_id"]
        named = placed["mechanism"].map(RULE_MECHANISMS).astype(str)
        how = placed["how"].where(placed["how"].str.strip() != "", named)  # e.g. via a mail user's own address
        res = verdicts(placed, keys, grouped_parts(placed, keys, how),
                       " — rule is disabled (reported under IDA-MAIL-008)")
        who = label_users(res["user_id"], labels)
        found = pd.DataFrame({"subject_id": res["user_id"] + ":" + res["rule_id"],
                              "subject": who + ": rule '" + res["name"] + "'", "status": res["status"],
                              "evidence": "rule '" + res["name"] + "' " + res["evidence"],
                              "confidence": res["confidence"], "owner_id": res["user_id"]})
    examined = "no inbox rule or filter forwards or redirects mail"
    if data.available("mail_rules"):
        examined += f" ({len(data.table('mail_rules'))} rules examined)"
    extra = _tenant_rows(data, "forwarding", RULE_SECTIONS.get(data.provider, ()), "inbox rules / filters",
                         not found.empty, examined)
    return _combine(found, extra)


@check(
    id="IDA-MAIL-002", title="Rule hides incoming mail the way attackers do", severity=Severity.HIGH,
    rationale="""Attackers hide the replies that would expose them: a rule named '.' that deletes, marks read or
    moves to RSS Feeds / Archive / Deleted Items every message mentioning invoice, payment, password or
    'suspicious'. The victim never sees the bank's 'did you change your payment details?' mail while the
    attacker redirects payments or keeps reading patient mail. A move to RSS Feeds, RSS Subscriptions, Conversation
    History or a hidden folder fails even without suspicious words. Microsoft Graph names a rule's folder only by an
    opaque id: idaudit names it with the optional Mail.ReadBasic.All permission; without it, every enabled rule
    that moves mail to a folder idaudit could not name is `unknown` (the folder may be RSS Feeds), never `pass`.""",
    remediation="""Confirm with the user; if they did not create it, delete the rule, reset the password,
    revoke sessions and look for forwarding rules and consented apps on the same account.""",
    steps={MS: """Outlook on the web > Settings > Mail > Rules; PowerShell: `Get-InboxRule -Mailbox <upn> | fl
           Name,DeleteMessage,MoveToFolder,MarkAsRead, SubjectOrBodyContainsWords; Remove-InboxRule -Mailbox
           <upn> -Identity <rule>`.""",
           GG: """Gmail > Settings > See all settings > Filters and Blocked Addresses; `gam user <email> show
           filters`."""},
    references=(R.HIPAA_REVIEW, R.HIPAA_AUDIT, R.CPG_EMAIL, R.T_HIDE_RULES, R.T_FORWARD_RULE),
    providers=(MS, GG), requires=("mail_rules",), subject_kind=SubjectKind.RULE, family=FAMILY,
    owner_role="IT manager + compliance",
    provenance="mail_rule",
)
def rule_hides_mail(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    labels = data.user_labels()
    rules = data.table("mail_rules")
    hides = rules["hides_mail"].fillna(False).astype(bool)
    unnamed = rules["folder_unresolved"].astype(str).str.strip() != ""
    # A move to a folder idaudit could not name may be a move to RSS Feeds, which hides mail whatever the rule's
    # words ('from: the bank -> RSS Feeds'): every such rule is a row, `unknown` while enabled, never a pass.
    hiding = rules[hides | unnamed]
    found = _empty()
    markers = hiding_markers(hiding) if not hiding.empty else pd.Series(dtype="str")
    hiding_rule = hiding["hides_mail"].fillna(False).astype(bool)
    marked = markers != ""
    if not hiding.empty:
        enabled = hiding["enabled"].fillna(True).astype(bool)
        name, cond = hiding["rule_name"], hiding["conditions"]
        reason = hiding["folder_unresolved"].astype(str)
        no_name = reason.str.strip() != ""
        hide = hiding["hide_action"].str.replace("_", " ")
        unnamed_move = "moves mail to a folder idaudit could not name (" + reason + ")"
        action = pd.Series(np.select([hiding_rule & no_name, hiding_rule], [hide + "; " + unnamed_move, hide],
                                     unnamed_move), index=hiding.index, dtype="str")
        when = pd.Series(np.where(cond.str.strip() != "", " when " + cond, ""), index=hiding.index, dtype="str")
        base = "rule '" + name + "' " + action + when
        undecided = ~hiding_rule  # only the unnamed folder could make it hide mail
        if_hidden = " — if that folder is RSS Feeds, Conversation History or hidden, the rule hides mail"
        # unmarked and into an unnamed folder: that folder alone decides, whatever else the rule does (mark read)
        conditions = [marked & enabled & undecided, marked & enabled, marked, no_name & enabled, no_name]
        status = np.select(conditions, [UNKNOWN, FAIL, PASS, UNKNOWN, PASS], PASS)
        evidence = np.select(
            conditions,
            [base + ": " + markers + if_hidden, base + ": " + markers, base + ": " + markers + " — rule is disabled",
             base + ": no suspicious words or name" + if_hidden, base + " — rule is disabled"],
            base + ": looks like ordinary filing (no suspicious words, name or folder)")
        who = label_users(hiding["user_id"], labels)
        found = pd.DataFrame({"subject_id": hiding["user_id"] + ":" + hiding["rule_id"],
                              "subject": who + ": rule '" + name + "'", "status": status, "evidence": evidence,
                              "confidence": np.where((status == FAIL) | (status == UNKNOWN), HIGH, MEDIUM),
                              "owner_id": hiding["user_id"]})
    note = f"no rule deletes, hides or marks incoming mail read ({len(rules)} rules examined)"
    extra = _tenant_rows(data, "mail_rules", RULE_SECTIONS.get(data.provider, ()), "inbox rules / filters",
                         not hiding.empty, note)
    return _combine(found, extra)


@check(
    id="IDA-MAIL-003", title="Mailbox forwards all mail outside the organisation", severity=Severity.CRITICAL,
    rationale="""Mailbox-level forwarding (Exchange ForwardingSmtpAddress or ForwardingAddress, Gmail automatic
    forwarding) copies every message the mailbox receives to another address — no rule to spot in Outlook, and it
    survives a password reset. Set by an attacker or a well-meaning employee, it sends patient mail to a personal
    or hostile mailbox. A ForwardingAddress names a recipient object (often a mail contact): idaudit resolves it
    to the contact's external address; one it cannot resolve is `unknown`, never inside.""",
    remediation="""Remove the forwarding unless it is a documented business need to a trusted partner (then
    add the domain to audit.trusted_domains).""",
    steps={MS: """Exchange admin centre > Recipients > Mailboxes > (mailbox) > Mail flow settings > Email
           forwarding; PowerShell: `Set-Mailbox <upn> -ForwardingSmtpAddress $null -ForwardingAddress $null
           -DeliverToMailboxAndForward $false`.""",
           GG: """Gmail > Settings > See all settings > Forwarding and POP/IMAP > Disable forwarding; `gam
           user <email> forward off`."""},
    references=(R.HIPAA_TRANSMISSION, R.HIPAA_ACCESS, R.CPG_EMAIL, R.CIS_M365_FORWARDING, R.SCUBA_EXO_FORWARDING,
                R.SCUBA_GWS_AUTO_FORWARD, R.T_FORWARD_RULE),
    providers=(MS, GG), requires=("forwarding", "domains"), subject_kind=SubjectKind.MAILBOX, family=FAMILY,
    owner_role="IT manager + compliance",
    provenance="mailbox_forwarding",
)
def mailbox_forwards_outside(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    inside = inside_domains(data, settings)
    labels = data.user_labels()
    fwd = data.table("forwarding")
    boxes = fwd[fwd["mechanism"].isin(MAILBOX_MECHANISMS)]
    found = _empty()
    if not boxes.empty:
        placed = place(boxes, inside)
        keeps, on = placed["keeps_copy"], placed["enabled"]
        copy = np.select([keeps.fillna(False).astype(bool), ~keeps.fillna(True).astype(bool)],
                         [", keeps a copy", ", keeps NO copy in the mailbox"], "")
        off = np.where(~on.fillna(True).astype(bool), " (disabled)", "")
        named = placed["mechanism"].map(MAILBOX_MECHANISMS).astype(str)
        how = placed["how"].where(placed["how"].str.strip() != "", named)  # e.g. the contact ForwardingAddress named
        part = how + " " + placed["shown"] + copy + off
        res = verdicts(placed, ["user_id"], part, "")
        found = pd.DataFrame({"subject_id": res["user_id"],
                              "subject": label_users(res["user_id"], labels),
                              "status": res["status"], "evidence": res["evidence"],
                              "confidence": res["confidence"], "owner_id": res["user_id"]})
    extra = _tenant_rows(data, "forwarding", MAILBOX_SECTIONS.get(data.provider, ()), "mailbox forwarding",
                         not found.empty, "no mailbox has forwarding set")
    return _combine(found, extra)


@check(
    id="IDA-MAIL-004", title="Tenant allows automatic forwarding to outside addresses", severity=Severity.HIGH,
    rationale="""This is the safety net under every forwarding rule: when the tenant blocks automatic external
    forwarding, an attacker's forwarding rule or mailbox forward is stopped with a bounce. When it is allowed,
    one phished mailbox can quietly copy all incoming patient mail to the attacker. In Microsoft 365 both controls
    must block: the outbound spam policy that applies to the sender (a custom policy's rule before Default;
    Automatic means Off) and the remote domain of the destination (a 'gmail.com' remote domain that allows it
    overrides a blocking '*'). The finding names the senders and domains forwarding is open to; a sender whose
    policy depends on a group membership idaudit could not read is `unknown`.""",
    remediation="""Block automatic forwarding to outside addresses for the whole organisation; allow it only
    for mailboxes with a documented need.""",
    steps={MS: """Defender portal > Policies > Anti-spam > each outbound policy > Automatic forwarding: Off;
           Exchange admin centre > Mail flow > Remote domains: untick 'Allow automatic forwarding' on every one;
           PowerShell: `Get-HostedOutboundSpamFilterRule | fl Name,Priority,From,FromMemberOf,SenderDomainIs;
           Set-HostedOutboundSpamFilterPolicy <name> -AutoForwardingMode Off; Set-RemoteDomain <name>
           -AutoForwardEnabled $false`.""",
           GG: """Admin console > Apps > Google Workspace > Gmail > End User Access > Automatic forwarding:
           uncheck 'Allow users to automatically forward incoming email'."""},
    references=(R.HIPAA_TRANSMISSION, R.HIPAA_ACCESS, R.CPG_EMAIL, R.CIS_M365_FORWARDING, R.SCUBA_EXO_FORWARDING,
                R.SCUBA_GWS_AUTO_FORWARD, R.T_FORWARD_RULE),
    providers=(MS, GG), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("external_auto_forwarding", "external_auto_forwarding_exceptions",
                   "remote_domain_default_auto_forward", "google_auto_forwarding_ous",
                   "google_auto_forwarding_groups", "google_auto_forwarding_undecided"),
)
def tenant_allows_external_forwarding(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    if data.provider == "google":  # per OU and per group policy, the root value aside
        return result_frame([google_ou_setting(data, "external_auto_forwarding", "google_auto_forwarding_ous",
                                               {"on", "true"}, "users may turn on automatic forwarding to any "
                                               "address (gmail.auto_forwarding)",
                                               "automatic forwarding is off")])
    # Microsoft: every sender's outbound spam policy (custom policies first, by rule priority) and every remote
    # domain; checks/autoforward.py
    return result_frame([microsoft_auto_forwarding(data, settings)])


@check(
    id="IDA-MAIL-005", title="Transport rule redirects or copies mail outside the organisation",
    severity=Severity.CRITICAL,
    rationale="""A mail-flow (transport) rule that redirects, copies (Bcc, Cc, added recipient), sends for
    approval or attaches the original to an incident report for an outside address copies mail for many mailboxes
    at once, invisibly to every user. An attacker with Exchange admin rights adds one to siphon all mail mentioning
    patients, invoices or payroll. A rule in test mode (Audit / AuditAndNotify) takes no action and passes, naming
    what it would do; its conditions and exceptions are shown, since they decide whose mail leaves.""",
    remediation="""Remove or correct the rule unless it is a documented archiving or partner flow (then add
    the domain to audit.trusted_domains).""",
    steps={MS: """Exchange admin centre > Mail flow > Rules; PowerShell: `Get-TransportRule | fl
           Name,State,Mode,RedirectMessageTo,BlindCopyTo,CopyTo,AddToRecipients,ModerateMessageByUser,
           AddManagerAsRecipientType,GenerateIncidentReport,IncidentReportContent; Remove-TransportRule
           -Identity <name>`."""},
    references=(R.HIPAA_TRANSMISSION, R.HIPAA_REVIEW, R.CPG_EMAIL, R.CIS_M365_FORWARDING, R.T_FORWARD_RULE,
                R.T_REMOTE_EMAIL),
    providers=(MS,), requires=("forwarding", "domains"), subject_kind=SubjectKind.RULE, family=FAMILY,
    owner_role="IT manager + compliance",
    lookup_tables=("forwarding",),  # transport rules are tenant-wide: a user whose inbox rules failed is no gap here
)
def transport_rule_outside(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    inside = inside_domains(data, settings)
    fwd = data.table("forwarding")
    rules = fwd[fwd["mechanism"] == "transport_rule"]
    found = _empty()
    if not rules.empty:
        placed = place(rules, inside)
        how = placed["how"].where(placed["how"].str.strip() != "", "sends mail to")
        parts = grouped_parts(placed, ["rule_id"], how)
        when = placed["applies_when"].str.strip()
        parts = parts + np.where(when != "", "; only messages matching " + when, "; every message it handles")
        mode = placed["mode"].str.strip().str.casefold()
        testing = mode.isin(["audit", "auditandnotify"])
        enabled = placed["enabled"].fillna(True).astype(bool)
        shown_mode = mode.map({"audit": "Audit", "auditandnotify": "AuditAndNotify"}).fillna(mode).astype(str)
        off = pd.Series(np.where(~enabled, " — rule is disabled",
                                 " — rule is in test mode (" + shown_mode + "): Exchange takes no action on the "
                                 "message; it would if the mode were Enforce"), index=placed.index)
        res = verdicts(placed, ["rule_id"], parts, off, active=enabled & ~testing)
        found = pd.DataFrame({"subject_id": "transport:" + res["rule_id"],
                              "subject": "transport rule '" + res["name"] + "'", "status": res["status"],
                              "evidence": "transport rule '" + res["name"] + "' " + res["evidence"],
                              "confidence": res["confidence"]})
    extra: list[dict[str, str]] = []
    gap = section_gap(data, "exchange.transportRules")
    if gap:
        extra.append(tenant_row(UNKNOWN, f"transport rules not collected: {gap}"))
    elif found.empty:
        extra.append(nothing_found_row(data, ("forwarding",), "no transport rule redirects or copies mail"))
    return _combine(found, extra)


@check(
    id="IDA-MAIL-006", title="Google: users may delegate their mailbox", severity=Severity.LOW,
    rationale="""Mail delegation lets a user give another account full read and send access to their Gmail. An
    attacker in one account adds a delegate they control and keeps reading the mailbox after the password is
    changed, with nothing visible in the user's filters or forwarding settings.""",
    remediation="""Stop users delegating their mailbox, and review the delegates that already exist.""",
    steps={GG: """Admin console > Apps > Google Workspace > Gmail > User settings > Mail delegation: uncheck
           'Let users delegate access to their mailbox'. Review existing delegates: `gam all users print
           delegates`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.CPG_EMAIL, R.SCUBA_GWS_DELEGATION, R.T_REMOTE_EMAIL),
    providers=(GG,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("google_mail_delegation", "google_mail_delegation_ous", "google_mail_delegation_groups",
                   "google_mail_delegation_undecided"),
)
def google_mail_delegation(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return result_frame([google_ou_setting(data, "google_mail_delegation", "google_mail_delegation_ous", {"true"},
                                           "users may delegate access to their mailbox",
                                           "mail delegation is off")])


@check(
    id="IDA-MAIL-007", title="Google: IMAP or POP access enabled", severity=Severity.MEDIUM,
    rationale="""IMAP and POP let any mail client download the whole mailbox. With a stolen app password or OAuth
    token an attacker syncs years of patient mail to their own machine, outside every Gmail control.""",
    remediation="""Turn off POP and IMAP, or restrict IMAP to approved mail clients.""",
    steps={GG: """Admin console > Apps > Google Workspace > Gmail > End User Access > POP and IMAP access:
           uncheck both (or restrict IMAP to approved mail clients). Check with `gam print policies query
           "setting.type.matches('gmail.imap_access')"`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_TRANSMISSION, R.CPG_EMAIL, R.SCUBA_GWS_POP_IMAP, R.T_REMOTE_EMAIL),
    providers=(GG,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("google_imap_pop", "google_imap_pop_ous", "google_imap_pop_groups", "google_imap_pop_undecided"),
)
def google_imap_pop(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return result_frame([google_ou_setting(data, "google_imap_pop", "google_imap_pop_ous", {"true"},
                                           "IMAP or POP access is enabled", "IMAP and POP access are off")])


DISABLED_RULE_MECHANISMS = {
    "inbox_rule_forward": "would forward to",
    "inbox_rule_forward_attachment": "would forward as attachment to",
    "inbox_rule_redirect": "would redirect to",
}


@check(
    id="IDA-MAIL-008", title="Disabled inbox rule still names an outside forwarding address", severity=Severity.MEDIUM,
    rationale="""A disabled rule copies nothing today, so IDA-MAIL-001 passes it — but it is one click (or one
    Set-InboxRule call from a stolen session) from forwarding every referral and lab result again. Often it is the
    attacker's leftover after a cleanup that disabled rather than deleted it, or an employee's 'forward to home'
    parked for later. Either way the outside address is known and the rule should go.""",
    remediation="""Confirm with the user why the rule exists; delete it (disabling is not removal), and if nobody
    created it knowingly, treat the account as compromised: reset the password, revoke sessions, review the
    audit log for when it was last enabled.""",
    steps={MS: """Outlook on the web > Settings > Mail > Rules; PowerShell: `Get-InboxRule -Mailbox <upn> | where
           {-not $_.Enabled} | fl Name,ForwardTo,ForwardAsAttachmentTo,RedirectTo; Remove-InboxRule -Mailbox <upn>
           -Identity <rule>`; Graph: `DELETE /users/{id}/mailFolders/inbox/messageRules/{ruleId}`."""},
    references=(R.HIPAA_TRANSMISSION, R.HIPAA_REVIEW, R.CPG_EMAIL, R.T_FORWARD_RULE),
    providers=(MS,), requires=("forwarding", "domains"), subject_kind=SubjectKind.RULE, family=FAMILY,
    owner_role="IT manager + compliance",
)
def disabled_rule_forwards_outside(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    """Graph messageRule.isEnabled false with forwardTo / forwardAsAttachmentTo / redirectTo recipients. Gmail
    filters have no disabled state, so the check is Microsoft's only."""
    inside = inside_domains(data, settings)
    labels = data.user_labels()
    fwd = data.table("forwarding")
    off = ~fwd["enabled"].fillna(True).astype(bool)  # not known counts as enabled: IDA-MAIL-001 judges it
    disabled = fwd[fwd["mechanism"].isin(DISABLED_RULE_MECHANISMS) & off]
    found = _empty()
    if not disabled.empty:
        placed = place(disabled, inside)
        keys = ["user_id", "rule_id"]
        how = placed["mechanism"].map(DISABLED_RULE_MECHANISMS).astype(str)
        res = verdicts(placed, keys, grouped_parts(placed, keys, how), "",
                       active=pd.Series(True, index=placed.index))
        who = label_users(res["user_id"], labels)
        found = pd.DataFrame({"subject_id": res["user_id"] + ":" + res["rule_id"],
                              "subject": who + ": rule '" + res["name"] + "'", "status": res["status"],
                              "evidence": "DISABLED rule '" + res["name"] + "' " + res["evidence"],
                              "confidence": res["confidence"], "owner_id": res["user_id"]})
    extra = _tenant_rows(data, "forwarding", RULE_SECTIONS.get(data.provider, ()), "inbox rules",
                         not found.empty, "no disabled inbox rule forwards or redirects mail")
    return _combine(found, extra)
