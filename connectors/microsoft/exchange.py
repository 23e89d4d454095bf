"""Exchange Online admin REST (InvokeCommand): the forwarding settings Graph cannot see.

Mailbox-level SMTP forwarding, remote-domain auto-forwarding, outbound spam policies and transport rules exist
only in Exchange. The endpoint is the undocumented "beta" admin API that public tools (ScubaGear, Monkey365) use
instead of PowerShell; its failure is recorded as the section's status, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.microsoft.http import AdapterTransport, ApiError, error_from_body

PAGE_SIZE = 1000
MAX_PAGES = 100_000


@dataclass(frozen=True)
class Cmdlet:
    section: str
    name: str
    parameters: Mapping[str, Any]
    licensed: bool = False  # exists only with a licence (idaudit/core/sections.py names it): absent = unlicensed


# Without Defender for Office 365 the Safe Links / Safe Attachments cmdlets do not exist in the tenant's Exchange
# session: the call fails with "The term '<cmdlet>' is not recognized as the name of a cmdlet" (ScubaGear's
# ExportDefenderProvider tests for exactly this to detect the missing licence). That is `unlicensed`, not `error`.
NOT_A_CMDLET = re.compile(r"is not recognized as (?:the name of )?a cmdlet", re.IGNORECASE)

EXCHANGE_CMDLETS: tuple[Cmdlet, ...] = (
    Cmdlet("exchange.mailboxes", "Get-Mailbox", {"ResultSize": "Unlimited"}),
    Cmdlet("exchange.remoteDomains", "Get-RemoteDomain", {}),
    Cmdlet("exchange.outboundSpamPolicies", "Get-HostedOutboundSpamFilterPolicy", {}),
    Cmdlet("exchange.outboundSpamRules", "Get-HostedOutboundSpamFilterRule", {}),
    Cmdlet("exchange.transportRules", "Get-TransportRule", {"ResultSize": "Unlimited"}),
    # Mail contacts and mail users: what a mailbox ForwardingAddress (a recipient in the organisation, named by its
    # identity) resolves to. One paged listing is cheaper than one call per name; internal mailboxes resolve from
    # exchange.mailboxes.
    Cmdlet("exchange.recipients", "Get-Recipient",
           {"RecipientTypeDetails": ["MailContact", "MailUser", "GuestMailUser"], "ResultSize": "Unlimited"}),
    # email security and detection (issue 17)
    Cmdlet("exchange.acceptedDomains", "Get-AcceptedDomain", {}),
    Cmdlet("exchange.dkimSigningConfig", "Get-DkimSigningConfig", {}),
    Cmdlet("exchange.antiPhishPolicies", "Get-AntiPhishPolicy", {}),
    Cmdlet("exchange.antiPhishRules", "Get-AntiPhishRule", {}),
    Cmdlet("exchange.safeLinksPolicies", "Get-SafeLinksPolicy", {}, licensed=True),
    Cmdlet("exchange.safeLinksRules", "Get-SafeLinksRule", {}, licensed=True),
    Cmdlet("exchange.safeAttachmentPolicies", "Get-SafeAttachmentPolicy", {}, licensed=True),
    Cmdlet("exchange.safeAttachmentRules", "Get-SafeAttachmentRule", {}, licensed=True),
    Cmdlet("exchange.malwareFilterPolicies", "Get-MalwareFilterPolicy", {}),
    Cmdlet("exchange.contentFilterPolicies", "Get-HostedContentFilterPolicy", {}),
    Cmdlet("exchange.connectionFilterPolicies", "Get-HostedConnectionFilterPolicy", {}),
    Cmdlet("exchange.externalInOutlook", "Get-ExternalInOutlook", {}),
    Cmdlet("exchange.adminAuditLogConfig", "Get-AdminAuditLogConfig", {}),
    Cmdlet("exchange.organizationConfig", "Get-OrganizationConfig", {}),
    Cmdlet("exchange.mailboxAuditBypass", "Get-MailboxAuditBypassAssociation", {"ResultSize": "Unlimited"}),
)


def cmdlet_absent(cmdlet: Cmdlet, error: ApiError) -> bool:
    """A licence-bound cmdlet that the tenant's Exchange does not offer (so: unlicensed)."""
    return cmdlet.licensed and bool(NOT_A_CMDLET.search(error.message))


class ExchangeClient:
    """POSTs a cmdlet to InvokeCommand and follows @odata.nextLink by POSTing the same body again."""

    def __init__(self, transport: AdapterTransport, endpoint: str, tenant_id: str) -> None:
        self.transport = transport
        self.url = f"{endpoint.rstrip('/')}/adminapi/beta/{tenant_id}/InvokeCommand"

    async def invoke(self, cmdlet: Cmdlet) -> list[Any]:
        body = {"CmdletInput": {"CmdletName": cmdlet.name, "Parameters": dict(cmdlet.parameters)}}
        headers = {"X-ResponseFormat": "json", "Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
        items: list[Any] = []
        url: str | None = self.url
        seen: set[str] = set()
        while url:
            status, _h, answer = await self.transport.send("POST", url, body=body, headers=headers)
            if status >= 400:
                raise error_from_body(status, answer, f"InvokeCommand {cmdlet.name}")
            if not isinstance(answer, dict) or not isinstance(answer.get("value"), list):
                raise ApiError(status, "MalformedResponse", "expected {'value': [...]}", f"InvokeCommand {cmdlet.name}")
            items.extend(answer["value"])
            link = answer.get("@odata.nextLink")
            url = str(link) if link else None
            if url is not None:
                if url in seen or len(seen) >= MAX_PAGES:
                    raise ApiError(0, "PagingLoop", "the same @odata.nextLink came back twice",
                                   f"InvokeCommand {cmdlet.name}")
                seen.add(url)
        return items
