"""The takeover logs, read for a time window (the last `lookback_days`): Entra directory audits, sign-ins (kept as
per-user aggregates), Identity Protection's risky users and risk detections, and the Purview audit log's
mailbox-side changes through Graph's asynchronous audit log query.

Every request is bounded server-side by the window ($filter on activityDateTime / createdDateTime, the query's
filterStartDateTime / filterEndDateTime) and paced to its documented class: the identity and access reports
(directory audits, sign-ins: 5 requests per 10 s per app and tenant, shared with the registration report),
Identity Protection (1 request per second per tenant, shared with Conditional Access, no Retry-After). The audit
log query is created first, so it runs on Microsoft's side while the other logs are read, then polled until it
succeeds; a query that fails, never finishes or exceeds its record limit is an `error`, never an empty log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from connectors.microsoft.graph import GraphClient
from connectors.microsoft.http import ApiError
from connectors.microsoft.options import MicrosoftOptions
from connectors.microsoft.recorder import SectionRecorder
from idaudit.core.logwindow import (
    DIRECTORY_AUDIT_CATEGORIES,
    PURVIEW_OPERATIONS,
    PURVIEW_RECORD_TYPES,
    LogWindow,
    iso_z,
)
from idaudit.core.signin_aggregate import aggregate_sign_ins
from idaudit.core.snapshot import SectionStatus

log = logging.getLogger(__name__)

LOG_PAGE = "1000"
QUERY_NAME = "idaudit: mailbox rule, forwarding and permission changes"
_FINISHED = {"succeeded", "failed", "cancelled"}


def directory_audit_params(window: LogWindow, category: str) -> dict[str, str]:
    return {"$filter": f"category eq '{category}' and {window.odata('activityDateTime')}", "$top": LOG_PAGE}


def sign_in_params(window: LogWindow) -> dict[str, str]:
    # Successful sign-ins only: a failed attempt from abroad is an attack on the account, not a takeover of it.
    return {"$filter": f"{window.odata('createdDateTime')} and status/errorCode eq 0", "$top": LOG_PAGE}


def risk_detection_params(window: LogWindow) -> dict[str, str]:
    return {"$filter": window.odata("activityDateTime")}


def audit_query_body(window: LogWindow) -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.security.auditLogQuery", "displayName": QUERY_NAME,
            "filterStartDateTime": iso_z(window.start), "filterEndDateTime": iso_z(window.end),
            "recordTypeFilters": list(PURVIEW_RECORD_TYPES), "operationFilters": list(PURVIEW_OPERATIONS)}


class LogCollection:
    """Reads the log sections into the recorder; each failure becomes that section's status."""

    def __init__(self, graph: GraphClient, recorder: SectionRecorder, options: MicrosoftOptions,
                 window: LogWindow) -> None:
        self.graph = graph
        self.rec = recorder
        self.options = options
        self.window = window
        self._span = (window.start, window.end)

    async def run(self) -> None:
        query: dict[str, Any] | ApiError | None = None
        if self.rec.wants("exchangeAuditRecords"):
            self.rec.progress.section_started("exchangeAuditRecords")
            try:
                query = await self.graph.post("security/auditLog/queries", audit_query_body(self.window))
            except ApiError as exc:
                query = exc
        for name, step in (("directoryAudits", self.directory_audits), ("signIns", self.sign_ins),
                           ("riskyUsers", self.risky_users), ("riskDetections", self.risk_detections)):
            if self.rec.wants(name):
                self.rec.progress.section_started(name)
                await self._guard(name, step)
        if query is not None:
            await self._guard("exchangeAuditRecords", lambda: self.audit_records(query))

    async def _guard(self, name: str, step: Any) -> None:
        try:
            await step()
        except ApiError as exc:
            self.rec.fail(name, exc)

    async def directory_audits(self) -> None:
        items: list[Any] = []
        seen: set[str] = set()
        for category in DIRECTORY_AUDIT_CATEGORIES:
            page = await self.graph.get_all("auditLogs/directoryAudits",
                                            params=directory_audit_params(self.window, category), pace="reports")
            for item in page:
                key = str(item.get("id")) if isinstance(item, dict) else ""
                if key and key in seen:
                    continue
                seen.add(key)
                items.append(item)
        self.rec.ok("directoryAudits", items, window=self._span)

    async def sign_ins(self) -> None:
        # beta: v1.0's signIn has no authenticationRequirement (the single-factor count needs it)
        raw = await self.graph.get_all("auditLogs/signIns", version="beta", params=sign_in_params(self.window),
                                       pace="reports")
        aggregate = aggregate_sign_ins(raw)
        successes = sum(int(a.get("signIns") or 0) for a in aggregate.values())
        self.rec.ok("signIns", aggregate, count=len(aggregate), window=self._span,
                    detail=f"{successes} successful interactive sign-ins aggregated per user (countries, addresses, "
                           "legacy-protocol and single-factor successes); the sign-ins themselves are not stored")

    async def risky_users(self) -> None:
        try:
            items = await self.graph.get_all("identityProtection/riskyUsers", pace="conditional_access")
        except ApiError as exc:
            self._fail_identity_protection("riskyUsers", exc)
            return
        self.rec.ok("riskyUsers", items)

    async def risk_detections(self) -> None:
        try:
            items = await self.graph.get_all("identityProtection/riskDetections",
                                             params=risk_detection_params(self.window), pace="conditional_access")
        except ApiError as exc:
            self._fail_identity_protection("riskDetections", exc)
            return
        self.rec.ok("riskDetections", items, window=self._span)

    def _fail_identity_protection(self, name: str, exc: ApiError) -> None:
        """Identity Protection answers a bare 403 both for a missing permission and a missing licence."""
        if exc.status == 403:
            self.rec.fail(name, exc, SectionStatus.FORBIDDEN)
            return
        self.rec.fail(name, exc)

    async def audit_records(self, query: dict[str, Any] | ApiError) -> None:
        name = "exchangeAuditRecords"
        if isinstance(query, ApiError):
            self.rec.fail(name, query)
            return
        qid = str(query.get("id") or "") if isinstance(query, dict) else ""
        if not qid:
            self.rec.fail(name, ApiError(0, "MalformedResponse", "the audit log query was created without an id"),
                          SectionStatus.ERROR)
            return
        scale = self.options.time_scale
        deadline = time.monotonic() + self.options.audit_query_timeout_s * scale
        state = query
        waited = False  # the first status read goes at once: a small window's query is often done already
        while str(state.get("status") or "") not in _FINISHED:
            if time.monotonic() >= deadline:
                minutes = self.options.audit_query_timeout_s / 60
                self.rec.fail(name, ApiError(0, "AuditQueryTimeout",
                                             f"the audit log query did not finish within {minutes:g} minutes "
                                             f"(last status: {state.get('status') or 'unknown'}); run the "
                                             "collection again later"), SectionStatus.ERROR)
                return
            if waited:
                await asyncio.sleep(self.options.audit_query_poll_s * scale)
            waited = True
            state = await self.graph.get(f"security/auditLog/queries/{qid}")
            if not isinstance(state, dict):
                raise ApiError(200, "MalformedResponse", "the audit log query status is not an object")
        status = str(state.get("status"))
        if status != "succeeded":
            self.rec.fail(name, ApiError(0, "AuditQueryFailed", f"the audit log query ended '{status}'"),
                          SectionStatus.ERROR)
            return
        if state.get("isRecordCountLimitExceeded") is True:
            self.rec.fail(name, ApiError(0, "AuditQueryIncomplete",
                                         "the audit log query reached its record limit, so its records are "
                                         "incomplete; shorten lookback_days"), SectionStatus.ERROR)
            return
        records = await self.graph.get_all(f"security/auditLog/queries/{qid}/records")
        self.rec.ok(name, records, window=self._span)
