"""Exchange Online's mail-security and audit configuration as InvokeCommand returns it (PascalCase, one object per
policy / rule / domain), for the cmdlets of issue 17: Get-AcceptedDomain, Get-DkimSigningConfig,
Get-AntiPhishPolicy / Rule, Get-SafeLinksPolicy / Rule and Get-SafeAttachmentPolicy / Rule (Defender for Office
365 only: without `TenantPolicy.defender` these cmdlets do not exist), Get-MalwareFilterPolicy,
Get-HostedContentFilterPolicy, Get-HostedConnectionFilterPolicy, Get-ExternalInOutlook, Get-AdminAuditLogConfig,
Get-OrganizationConfig and Get-MailboxAuditBypassAssociation.

Property names are those of the cmdlets' output as Microsoft documents them (the Set-*/New-* parameters of the same
name, Microsoft Learn) and as public auditors read them (ScubaGear's Rego, Monkey365); only the properties an audit
reads are rendered, plus the identity fields. The demo posture is a plausible small clinic's: defaults mostly
left on, plus the mistakes idaudit must find — an allowed sender domain and an IP allow list that skip filtering,
a service account whose mailbox access is never audited, DKIM off for the secondary domain (simulator/email_zone.py
holds the matching DNS).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from simulator.email_zone import sending_domains
from simulator.microsoft.wire_ids import derived_id, iso
from simulator.org import Organisation

DEFENDER_CMDLETS = frozenset({"Get-SafeLinksPolicy", "Get-SafeLinksRule", "Get-SafeAttachmentPolicy",
                              "Get-SafeAttachmentRule"})
BUILT_IN = "Built-In Protection Policy"


class MailSecurityObjects:
    def __init__(self, org: Organisation) -> None:
        self.org = org

    def cmdlets(self) -> dict[str, Callable[[], list[dict[str, Any]]]]:
        out: dict[str, Callable[[], list[dict[str, Any]]]] = {
            "Get-AcceptedDomain": lambda: self.accepted_domains,
            "Get-DkimSigningConfig": lambda: self.dkim_signing_config,
            "Get-AntiPhishPolicy": lambda: self.anti_phish_policies,
            "Get-AntiPhishRule": lambda: self.anti_phish_rules,
            "Get-SafeLinksPolicy": lambda: self.safe_links_policies,
            "Get-SafeLinksRule": lambda: self.safe_links_rules,
            "Get-SafeAttachmentPolicy": lambda: self.safe_attachment_policies,
            "Get-SafeAttachmentRule": lambda: self.safe_attachment_rules,
            "Get-MalwareFilterPolicy": lambda: self.malware_filter_policies,
            "Get-HostedContentFilterPolicy": lambda: self.content_filter_policies,
            "Get-HostedConnectionFilterPolicy": lambda: self.connection_filter_policies,
            "Get-ExternalInOutlook": lambda: self.external_in_outlook,
            "Get-AdminAuditLogConfig": lambda: self.admin_audit_log_config,
            "Get-OrganizationConfig": lambda: self.organization_config,
            "Get-MailboxAuditBypassAssociation": lambda: self.mailbox_audit_bypass,
        }
        if not self.org.policy.defender:
            for name in DEFENDER_CMDLETS:
                del out[name]
        return out

    def _guid(self, *parts: str) -> str:
        return derived_id(self.org.tenant_id, "mail-security", *parts)

    def _person(self, title: str) -> str:
        for p in self.org.people:
            if p.title == title and p.has_mailbox:
                return f"{p.display_name};{p.mail}"
        return ""

    @functools.cached_property
    def accepted_domains(self) -> list[dict[str, Any]]:
        o = self.org
        names = [*sending_domains(o), o.initial_domain]
        return [{"Identity": d, "Name": d, "DomainName": d, "DomainType": "Authoritative", "Default": d == o.domain,
                 "InitialDomain": d == o.initial_domain, "IsValid": True, "Guid": self._guid("domain", d)}
                for d in names]

    @functools.cached_property
    def dkim_signing_config(self) -> list[dict[str, Any]]:
        o = self.org
        out = []
        for d in [o.domain, *o.secondary_domains, o.initial_domain]:
            on = d != (o.secondary_domains[0] if o.secondary_domains else "")
            dashed = d.replace(".", "-")
            out.append({"Identity": d, "Name": d, "Domain": d, "Enabled": on,
                        "Status": "Valid" if on else "CnameMissing",
                        "Selector1CNAME": f"selector1-{dashed}._domainkey.{o.initial_domain}",
                        "Selector2CNAME": f"selector2-{dashed}._domainkey.{o.initial_domain}",
                        "Selector1KeySize": 2048, "Selector2KeySize": 2048, "IsDefault": d == o.initial_domain,
                        "Guid": self._guid("dkim", d)})
        return out

    @functools.cached_property
    def anti_phish_policies(self) -> list[dict[str, Any]]:
        def policy(name: str, default: bool, **kw: Any) -> dict[str, Any]:
            base: dict[str, Any] = {
                "Identity": name, "Name": name, "IsDefault": default, "Enabled": True,
                "EnableSpoofIntelligence": True, "HonorDmarcPolicy": True, "EnableUnauthenticatedSender": True,
                "EnableViaTag": True, "AuthenticationFailAction": "MoveToJmf",
                "EnableFirstContactSafetyTips": False, "EnableMailboxIntelligence": True,
                "EnableMailboxIntelligenceProtection": False, "EnableTargetedUserProtection": False,
                "TargetedUsersToProtect": [], "TargetedUserProtectionAction": "NoAction",
                "EnableOrganizationDomainsProtection": False, "EnableTargetedDomainsProtection": False,
                "TargetedDomainsToProtect": [], "TargetedDomainProtectionAction": "NoAction",
                "PhishThresholdLevel": 1, "RecommendedPolicyType": "Custom", "IsBuiltInProtection": False,
                "WhenChanged": iso(self.org.as_of), "Guid": self._guid("antiphish", name)}
            return base | kw

        out = [policy("Office365 AntiPhish Default", True)]
        if self.org.policy.defender:
            leaders = [x for x in (self._person("Administrator"), self._person("Chief Financial Officer")) if x]
            out.append(policy("Leadership impersonation", False, EnableTargetedUserProtection=True,
                              TargetedUsersToProtect=leaders, TargetedUserProtectionAction="Quarantine",
                              EnableOrganizationDomainsProtection=True, EnableFirstContactSafetyTips=True,
                              EnableMailboxIntelligenceProtection=True))
        return out

    @functools.cached_property
    def anti_phish_rules(self) -> list[dict[str, Any]]:
        if not self.org.policy.defender:
            return []
        name = "Leadership impersonation"
        return [{"Identity": name, "Name": name, "AntiPhishPolicy": name, "State": "Enabled", "Priority": 0,
                 "SentTo": None, "SentToMemberOf": None, "RecipientDomainIs": sending_domains(self.org),
                 "ExceptIfSentTo": None, "ExceptIfSentToMemberOf": None, "ExceptIfRecipientDomainIs": None,
                 "Guid": self._guid("antiphish-rule", name)}]

    @functools.cached_property
    def safe_links_policies(self) -> list[dict[str, Any]]:
        return [{"Identity": BUILT_IN, "Name": BUILT_IN, "IsBuiltInProtection": True,
                 "RecommendedPolicyType": "BuiltInProtection", "EnableSafeLinksForEmail": True,
                 "EnableSafeLinksForTeams": True, "EnableSafeLinksForOffice": True, "TrackClicks": True,
                 "AllowClickThrough": True, "ScanUrls": True, "EnableForInternalSenders": False,
                 "DeliverMessageAfterScan": True, "DisableUrlRewrite": True, "Guid": self._guid("safelinks", "b")}]

    @functools.cached_property
    def safe_links_rules(self) -> list[dict[str, Any]]:
        return []  # the built-in protection policy has no Safe Links rule

    @functools.cached_property
    def safe_attachment_policies(self) -> list[dict[str, Any]]:
        def policy(name: str, builtin: bool, enable: bool, action: str) -> dict[str, Any]:
            return {"Identity": name, "Name": name, "IsBuiltInProtection": builtin, "IsDefault": False,
                    "RecommendedPolicyType": "BuiltInProtection" if builtin else "Custom", "Enable": enable,
                    "Action": action, "QuarantineTag": "AdminOnlyAccessPolicy", "Redirect": False,
                    "RedirectAddress": None, "Guid": self._guid("safeatt", name)}

        return [policy(BUILT_IN, True, True, "Block"),
                policy("Clinical attachments (monitor)", False, True, "Allow")]

    @functools.cached_property
    def safe_attachment_rules(self) -> list[dict[str, Any]]:
        name = "Clinical attachments (monitor)"
        return [{"Identity": name, "Name": name, "SafeAttachmentPolicy": name, "State": "Enabled", "Priority": 0,
                 "SentTo": None, "SentToMemberOf": [f"perioperative@{self.org.domain}"], "RecipientDomainIs": None,
                 "ExceptIfSentTo": None, "ExceptIfSentToMemberOf": None, "ExceptIfRecipientDomainIs": None,
                 "Guid": self._guid("safeatt-rule", name)}]

    @functools.cached_property
    def malware_filter_policies(self) -> list[dict[str, Any]]:
        return [{"Identity": "Default", "Name": "Default", "IsDefault": True, "EnableFileFilter": True,
                 "FileTypeAction": "Reject", "ZapEnabled": True,
                 "FileTypes": ["ace", "ani", "apk", "app", "appx", "arj", "bat", "cab", "cmd", "com", "deb", "dex",
                               "dll", "docm", "elf", "exe", "hta", "img", "iso", "jar", "jnlp", "kext", "lha",
                               "lib", "library", "lnk", "lzh", "macho", "msc", "msi", "msix", "msp", "mst", "pif",
                               "ppa", "ppam", "reg", "rev", "scf", "scr", "sct", "sys", "uif", "vb", "vbe", "vbs",
                               "vxd", "wsc", "wsf", "wsh", "xll", "xz", "z"],
                 "Guid": self._guid("malware", "Default")}]

    @functools.cached_property
    def content_filter_policies(self) -> list[dict[str, Any]]:
        return [{"Identity": "Default", "Name": "Default", "IsDefault": True, "SpamAction": "MoveToJmf",
                 "HighConfidenceSpamAction": "Quarantine", "PhishSpamAction": "Quarantine",
                 "HighConfidencePhishAction": "Quarantine", "BulkThreshold": 7, "AllowedSenders": [],
                 "AllowedSenderDomains": ["billing-vendor-portal.com"], "BlockedSenders": [],
                 "BlockedSenderDomains": [], "PhishZapEnabled": True, "SpamZapEnabled": True,
                 "Guid": self._guid("content", "Default")}]

    @functools.cached_property
    def connection_filter_policies(self) -> list[dict[str, Any]]:
        return [{"Identity": "Default", "Name": "Default", "IsDefault": True, "IPAllowList": ["203.0.113.25"],
                 "IPBlockList": [], "EnableSafeList": False, "Guid": self._guid("connection", "Default")}]

    @functools.cached_property
    def external_in_outlook(self) -> list[dict[str, Any]]:
        return [{"Identity": self.org.initial_domain.split(".")[0], "Enabled": False, "AllowList": []}]

    @functools.cached_property
    def admin_audit_log_config(self) -> list[dict[str, Any]]:
        return [{"Identity": "Admin Audit Log Settings", "Name": "Admin Audit Log Settings",
                 "AdminAuditLogEnabled": True, "UnifiedAuditLogIngestionEnabled": self.org.policy.unified_audit_log,
                 "Guid": self._guid("auditlog")}]

    @functools.cached_property
    def organization_config(self) -> list[dict[str, Any]]:
        return [{"Identity": self.org.initial_domain.split(".")[0], "Name": self.org.initial_domain.split(".")[0],
                 "DisplayName": self.org.name, "AuditDisabled": self.org.policy.mailbox_audit_disabled,
                 "Guid": self._guid("orgconfig")}]

    @functools.cached_property
    def mailbox_audit_bypass(self) -> list[dict[str, Any]]:
        return [{"Identity": p.local_part, "Name": p.local_part, "AuditBypassEnabled": p.local_part == "scan2mail"}
                for p in self.org.people if p.has_mailbox]
