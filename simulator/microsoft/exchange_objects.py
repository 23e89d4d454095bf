"""Exchange Online objects as the admin REST endpoint (InvokeCommand) returns them: PascalCase, one per object,
the shape of the matching PowerShell cmdlet's output (Get-Mailbox, Get-RemoteDomain,
Get-HostedOutboundSpamFilterPolicy / Rule, Get-TransportRule). Only the properties an audit reads, plus the
identity fields every object carries, are rendered."""

from __future__ import annotations

import functools
from typing import Any

from simulator.microsoft.mail_security import MailSecurityObjects
from simulator.microsoft.wire_ids import derived_id, iso
from simulator.org import Organisation

_RECIPIENT_TYPE = {"user": "UserMailbox", "shared": "SharedMailbox", "room": "RoomMailbox"}


class ExchangeObjects:
    def __init__(self, org: Organisation) -> None:
        self.org = org

    def cmdlets(self) -> dict[str, Any]:
        """Cmdlet name -> function returning its full output list."""
        return {
            "Get-Mailbox": lambda: self.mailboxes,
            "Get-RemoteDomain": lambda: self.remote_domains,
            "Get-HostedOutboundSpamFilterPolicy": lambda: self.outbound_spam_policies,
            "Get-HostedOutboundSpamFilterRule": lambda: self.outbound_spam_rules,
            "Get-TransportRule": lambda: self.transport_rules,
            **self.security.cmdlets(),
        }

    @functools.cached_property
    def security(self) -> MailSecurityObjects:
        return MailSecurityObjects(self.org)

    @functools.cached_property
    def mailboxes(self) -> list[dict[str, Any]]:
        out = []
        o = self.org
        for p in o.people:
            if not p.has_mailbox:
                continue
            fwd = p.mailbox_forward
            out.append({
                "Identity": p.local_part, "Name": p.local_part, "DisplayName": p.display_name, "Alias": p.local_part,
                "UserPrincipalName": p.mail, "PrimarySmtpAddress": p.mail,
                "EmailAddresses": [f"SMTP:{p.mail}", *(f"smtp:{a}" for a in p.aliases),
                                   f"smtp:{p.local_part}@{o.initial_domain}"],
                "RecipientType": "UserMailbox", "RecipientTypeDetails": _RECIPIENT_TYPE.get(p.mailbox_type, "UserMailbox"),
                "ExternalDirectoryObjectId": p.id, "Guid": derived_id(p.id, "mailbox"),
                "ExchangeGuid": derived_id(p.id, "exchange-guid"),
                "ForwardingSmtpAddress": f"smtp:{fwd.address}" if fwd else None, "ForwardingAddress": None,
                "DeliverToMailboxAndForward": bool(fwd and fwd.keep_copy),
                "AccountDisabled": not p.enabled, "IsMailboxEnabled": True, "HiddenFromAddressListsEnabled": False,
                "AuditEnabled": True, "LitigationHoldEnabled": False, "WhenCreated": iso(p.created_at),
                "WhenMailboxCreated": iso(p.created_at),
            })
        return out

    @functools.cached_property
    def remote_domains(self) -> list[dict[str, Any]]:
        pol = self.org.policy

        def domain(identity: str, name: str, auto_forward: bool) -> dict[str, Any]:
            return {"Identity": identity, "Name": identity, "DomainName": name, "AutoForwardEnabled": auto_forward,
                    "AutoReplyEnabled": True, "DeliveryReportEnabled": True, "NDREnabled": True,
                    "IsInternal": False, "TrustedMailOutboundEnabled": False, "AllowedOOFType": "External",
                    "Guid": derived_id(self.org.tenant_id, "remote-domain", identity)}

        return [domain("Default", "*", pol.remote_domain_autoforward),
                domain("Lab partner", "quest-diagnostics-partner.com", True)]

    @functools.cached_property
    def outbound_spam_policies(self) -> list[dict[str, Any]]:
        def policy(name: str, default: bool, mode: str) -> dict[str, Any]:
            return {"Identity": name, "Name": name, "IsDefault": default, "AutoForwardingMode": mode,
                    "RecipientLimitExternalPerHour": 0, "RecipientLimitInternalPerHour": 0, "RecipientLimitPerDay": 0,
                    "ActionWhenThresholdReached": "BlockUserForToday", "BccSuspiciousOutboundMail": False,
                    "NotifyOutboundSpam": False, "Guid": derived_id(self.org.tenant_id, "outbound-spam", name)}

        out = [policy("Default", True, self.org.policy.outbound_spam_autoforward)]
        if self._billing_manager():
            out.append(policy("Allow forwarding - billing vendor", False, "On"))
        return out

    def _billing_manager(self) -> str:
        for p in self.org.people:
            if p.title == "Billing Manager":
                return p.mail
        return ""

    @functools.cached_property
    def outbound_spam_rules(self) -> list[dict[str, Any]]:
        who = self._billing_manager()
        if not who:
            return []
        name = "Allow forwarding - billing vendor"
        return [{"Identity": name, "Name": name, "HostedOutboundSpamFilterPolicy": name, "Priority": 0,
                 "State": "Enabled", "From": [who], "FromMemberOf": None, "SenderDomainIs": None,
                 "ExceptIfFrom": None, "ExceptIfFromMemberOf": None, "ExceptIfSenderDomainIs": None,
                 "Guid": derived_id(self.org.tenant_id, "outbound-spam-rule", name)}]

    @functools.cached_property
    def transport_rules(self) -> list[dict[str, Any]]:
        out = []
        for r in self.org.transport_rules:
            out.append({
                "Identity": r.name, "Name": r.name, "Guid": r.id, "Priority": r.priority,
                "State": "Enabled" if r.enabled else "Disabled", "Mode": r.mode,
                "BlindCopyTo": list(r.bcc_to) or None, "RedirectMessageTo": list(r.redirect_to) or None,
                "CopyTo": list(r.copy_to) or None, "AddToRecipients": list(r.add_to) or None,
                "AddManagerAsRecipientType": None, "ModerateMessageByUser": None, "ModerateMessageByManager": False,
                "GenerateIncidentReport": r.incident_report_to or None,
                "IncidentReportContent": ["Sender", "Recipients", "Subject", "AttachOriginalMail"]
                if r.incident_report_to else None,
                "PrependSubject": r.prepend_subject or None,
                "SubjectContainsWords": list(r.subject_contains) or None, "ExceptIfSubjectContainsWords": None,
                "SentToScope": r.sent_to_scope or None, "ExceptIfSentToScope": None,
                "FromScope": "NotInOrganization" if r.prepend_subject else None, "ExceptIfFromScope": None,
                "From": None, "ExceptIfFrom": None, "SentTo": None, "ExceptIfSentTo": None,
                "Description": r.description, "WhenChanged": iso(self.org.as_of),
            })
        return out
