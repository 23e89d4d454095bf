"""Exchange Online objects as the admin REST endpoint (InvokeCommand) returns them: PascalCase, one per object,
the shape of the matching PowerShell cmdlet's output (Get-Mailbox, Get-RemoteDomain,
Get-HostedOutboundSpamFilterPolicy / Rule, Get-TransportRule, Get-Recipient). Only the properties an audit reads,
plus the identity fields every object carries, are rendered."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from simulator.catalogue import PARTNER_LAB
from simulator.microsoft.mail_security import MailSecurityObjects
from simulator.microsoft.wire_ids import derived_id, iso
from simulator.org import Organisation

_RECIPIENT_TYPE = {"user": "UserMailbox", "shared": "SharedMailbox", "room": "RoomMailbox"}
# Get-Recipient -RecipientTypeDetails values the simulator knows (the cmdlet documents many more; an unknown value
# is rejected like a value the real enum does not hold).
RECIPIENT_TYPE_DETAILS = frozenset(v.casefold() for v in (
    "MailContact", "MailUser", "GuestMailUser", "UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox",
    "MailUniversalDistributionGroup", "MailUniversalSecurityGroup", "GroupMailbox", "DynamicDistributionGroup"))


SCHEDULING_POLICY = "Allow forwarding - scheduling partners"


class CmdletError(Exception):
    """A cmdlet call the endpoint rejects: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ExchangeObjects:
    def __init__(self, org: Organisation) -> None:
        self.org = org

    def cmdlets(self) -> dict[str, Callable[[Mapping[str, Any]], list[dict[str, Any]]]]:
        """Cmdlet name -> function of its parameters returning its full output list (CmdletError: rejected)."""
        return {
            "Get-Mailbox": lambda _p: self.mailboxes,
            "Get-RemoteDomain": lambda _p: self.remote_domains,
            "Get-HostedOutboundSpamFilterPolicy": lambda _p: self.outbound_spam_policies,
            "Get-HostedOutboundSpamFilterRule": lambda _p: self.outbound_spam_rules,
            "Get-TransportRule": lambda _p: self.transport_rules,
            "Get-Recipient": self.recipients_of,
            **{k: (lambda _p, f=f: f()) for k, f in self.security.cmdlets().items()},
        }

    def recipients_of(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Get-Recipient, filtered by -RecipientTypeDetails (a list or a comma-separated string, like the cmdlet)."""
        wanted = params.get("RecipientTypeDetails")
        if wanted is None:
            return self.recipients
        names = wanted if isinstance(wanted, list) else str(wanted).split(",")
        kinds = {str(n).strip().casefold() for n in names if str(n).strip()}
        unknown = sorted(k for k in kinds if k not in RECIPIENT_TYPE_DETAILS)
        if unknown:
            raise CmdletError(400, "ParameterBindingException",
                              f"Cannot bind parameter 'RecipientTypeDetails'. Cannot convert value \"{unknown[0]}\" "
                              "to type \"Microsoft.Exchange.Data.Directory.Recipient.RecipientTypeDetails\".")
        return [r for r in self.recipients if str(r["RecipientTypeDetails"]).casefold() in kinds]

    @functools.cached_property
    def recipients(self) -> list[dict[str, Any]]:
        """Mail contacts (the outside addresses mailboxes forward to via ForwardingAddress, plus the lab's results
        desk) and guest mail users (one per guest account); mailboxes are Get-Mailbox's."""
        o = self.org
        inside = {d.casefold() for d in o.domains}
        out: list[dict[str, Any]] = []

        def contact(name: str, address: str, details: str = "MailContact", object_id: str = "") -> None:
            alias = "".join(ch for ch in name if ch.isalnum())[:60] or "contact"
            out.append({
                "Identity": name, "Name": name, "DisplayName": name, "Alias": alias,
                "RecipientType": "MailContact" if details == "MailContact" else "MailUser",
                "RecipientTypeDetails": details, "ExternalEmailAddress": f"SMTP:{address}",
                "PrimarySmtpAddress": address, "EmailAddresses": [f"SMTP:{address}"],
                "ExternalDirectoryObjectId": object_id or derived_id(o.tenant_id, "contact", name),
                "Guid": derived_id(o.tenant_id, "recipient", name), "HiddenFromAddressListsEnabled": False,
                "WhenCreated": iso(o.created_at),
            })

        seen: set[str] = set()
        for p in o.people:
            fwd = p.mailbox_forward
            if fwd and fwd.via_recipient and fwd.address.rsplit("@", 1)[-1].casefold() not in inside \
                    and fwd.via_recipient not in seen:
                seen.add(fwd.via_recipient)
                contact(fwd.via_recipient, fwd.address)
        contact("Quest Lab Results Desk", f"results@{PARTNER_LAB}")
        for p in o.people:
            if p.is_guest:
                contact(f"{p.local_part}_{p.domain}#EXT#", p.mail, "GuestMailUser", p.id)
        return out

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
                "ForwardingSmtpAddress": f"smtp:{fwd.address}" if fwd and not fwd.via_recipient else None,
                "ForwardingAddress": fwd.via_recipient if fwd and fwd.via_recipient else None,
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

        out = [domain("Default", "*", pol.remote_domain_autoforward),
               domain("Lab partner", "quest-diagnostics-partner.com", True)]
        if pol.personal_mail_remote_domain:
            # a remote domain that allows it overrides a blocking '*' for that domain (issue 16)
            out.append(domain("Gmail (billing vendor exception)", "gmail.com", True))
        return out

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
        out.append(policy(SCHEDULING_POLICY, False, "On"))
        return out

    def _billing_manager(self) -> str:
        for p in self.org.people:
            if p.title == "Billing Manager":
                return p.mail
        return ""

    @functools.cached_property
    def outbound_spam_rules(self) -> list[dict[str, Any]]:
        who = self._billing_manager()
        def rule(name: str, priority: int, **who: Any) -> dict[str, Any]:
            base = {"From": None, "FromMemberOf": None, "SenderDomainIs": None, "ExceptIfFrom": None,
                    "ExceptIfFromMemberOf": None, "ExceptIfSenderDomainIs": None}
            return {"Identity": name, "Name": name, "HostedOutboundSpamFilterPolicy": name, "Priority": priority,
                    "State": "Enabled", **base, **who,
                    "Guid": derived_id(self.org.tenant_id, "outbound-spam-rule", name)}

        # The second is scoped to a group idaudit does not collect: whom it opens forwarding for is unknown.
        billing = [rule("Allow forwarding - billing vendor", 0, From=[who])] if who else []
        return [*billing, rule(SCHEDULING_POLICY, 1, FromMemberOf=["Scheduling Partners"])]

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
