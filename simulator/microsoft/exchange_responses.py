"""Wire handler of the simulated Exchange Online admin REST endpoint (InvokeCommand).

`POST /adminapi/beta/{tenantId}/InvokeCommand` with `{"CmdletInput": {"CmdletName", "Parameters"}}`, a token for
https://outlook.office365.com holding the Exchange.ManageAsApp role, `Prefer: odata.maxpagesize=N` (default 1000);
the answer is `{"@odata.context", "adminapi.warnings", "value": [...], "@odata.nextLink"?}` and the client POSTs the
same body to the absolute nextLink. Without `ResultSize`, Get-Mailbox, Get-TransportRule and Get-Recipient return
at most 1000 objects and a warning, like the cmdlets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from simulator.microsoft.exchange_objects import CmdletError
from simulator.microsoft.identity import (
    EXCHANGE_AUDIENCE,
    EXCHANGE_ROLE,
    IdentityPlatform,
    TokenError,
)
from simulator.microsoft.models import MicrosoftTenant
from simulator.microsoft.query import QueryError, decode_skiptoken, encode_skiptoken
from simulator.server import WireRequest, WireResponse

_SIZED = {"Get-Mailbox", "Get-TransportRule", "Get-Recipient", "Get-MailboxAuditBypassAssociation"}


def exchange_error(status: int, code: str, message: str, retry_after: float | None = None) -> WireResponse:
    resp = WireResponse(status, {"error": {"code": code, "message": message}})
    if retry_after is not None:
        resp.headers["Retry-After"] = str(int(retry_after))
    return resp


class ExchangeApi:
    def __init__(self, tenant: MicrosoftTenant, identity: IdentityPlatform) -> None:
        self.tenant = tenant
        self.identity = identity
        self.served: dict[str, int] = {}

    def invoke(self, req: WireRequest, match: Any) -> WireResponse:
        tenant = match["tenant"]
        if tenant.lower() not in self.identity.tenant_names:
            return exchange_error(404, "NotFound", f"Tenant '{tenant}' was not found.")
        auth = req.header("authorization") or ""
        try:
            claims = self.identity.verify(auth[7:] if auth.lower().startswith("bearer ") else "", EXCHANGE_AUDIENCE)
        except TokenError as exc:
            return exchange_error(401, "Unauthorized", str(exc))
        if EXCHANGE_ROLE not in (claims.get("roles") or []):
            return exchange_error(403, "Forbidden", "The application does not hold the Exchange.ManageAsApp role "
                                                    "or an Exchange administrator role.")
        try:
            doc = req.json()
        except (ValueError, UnicodeDecodeError):
            return exchange_error(400, "BadRequest", "The request body is not valid JSON.")
        cmd = doc.get("CmdletInput") if isinstance(doc, dict) else None
        if not isinstance(cmd, Mapping) or not isinstance(cmd.get("CmdletName"), str):
            return exchange_error(400, "BadRequest", "CmdletInput.CmdletName is required.")
        name = cmd["CmdletName"]
        params = cmd.get("Parameters") or {}
        source = self.tenant.exchange.cmdlets().get(name)
        if source is None:
            return exchange_error(400, "BadRequest", f"The term '{name}' is not recognized as a cmdlet available "
                                                     f"through this endpoint.")
        try:
            items: list[Any] = source(params if isinstance(params, Mapping) else {})
        except CmdletError as exc:
            return exchange_error(exc.status, exc.code, exc.message)
        warnings: list[str] = []
        size = params.get("ResultSize") if isinstance(params, Mapping) else None
        if name in _SIZED:
            if size is None and len(items) > 1000:
                items = items[:1000]
                warnings.append("By default, only the first 1000 items are returned. Use the ResultSize parameter "
                                "to specify the number of items returned. To return all items, specify "
                                "\"-ResultSize Unlimited\".")
            elif isinstance(size, int | str) and str(size).isdigit():
                items = items[: int(size)]
        prefer = req.header("prefer") or ""
        m = re.search(r"odata\.maxpagesize=(\d+)", prefer)
        page_size = max(1, int(m.group(1))) if m else 1000
        try:
            offset = decode_skiptoken(req.query["$skiptoken"]) if "$skiptoken" in req.query else 0
        except QueryError as exc:
            return exchange_error(400, exc.code, exc.message)
        chunk = items[offset:offset + page_size]
        self.served[name] = self.served.get(name, 0) + len(chunk)
        base = f"{req.base_url}/adminapi/beta/{tenant}"
        body: dict[str, Any] = {"@odata.context": f"{base}/$metadata#Collection(Exchange.GenericHashTable)",
                                "adminapi.warnings@odata.type": "#Collection(String)", "adminapi.warnings": warnings}
        if offset + page_size < len(items):
            body["@odata.nextLink"] = f"{base}/InvokeCommand?$skiptoken={encode_skiptoken(offset + page_size)}"
        body["value"] = chunk
        return WireResponse(200, body)

    def loop_link(self, resp: WireResponse, req: WireRequest) -> WireResponse:
        if isinstance(resp.body, dict) and resp.status == 200:
            resp.body["@odata.nextLink"] = req.url
        return resp
