"""Exchange Online admin REST (InvokeCommand): the forwarding settings Graph cannot see.

Mailbox-level SMTP forwarding, remote-domain auto-forwarding, outbound spam policies and transport rules exist
only in Exchange. The endpoint is the undocumented "beta" admin API that public tools (ScubaGear, Monkey365) use
instead of PowerShell; its failure is recorded as the section's status, never a crash.
"""

from __future__ import annotations

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
)


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
