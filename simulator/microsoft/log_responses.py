"""Wire handlers of the simulated Entra and Purview logs: directory audits, sign-ins, Identity Protection and the
asynchronous audit log query (create, read status, read records). Guards (token, permission, licence,
throttling) are GraphApi.serve's; what is particular to these routes is here:

- each object carries the properties its API version publishes (v1.0's signIn has no `authenticationRequirement`,
  beta's has: the connector reads sign-ins on beta for it);
- directoryAudits and signIns honour the `$filter` time range (activityDateTime / createdDateTime ge|le) and, for
  sign-ins, `status/errorCode eq 0`; pages of at most 1,000 with an absolute @odata.nextLink; newest first;
- riskyUsers and riskDetections answer a plain 403 without the licence, as Graph does for Identity Protection
  (the same answer as a missing permission);
- an audit log query must name its time range; at most `MAX_OPEN_QUERIES` may be unfinished (429 beyond);
  records are served only once the query `succeeded` (400 before — the project's reading: the reference does not
  say what Graph answers early, and a client must never read an unfinished query as empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.microsoft.graph_schema import ENTITY_BY_ROUTE, selectable
from simulator.microsoft.graph_wire import graph_error
from simulator.microsoft.logs import AuditQueries, MicrosoftLogs, parse_time
from simulator.microsoft.query import QueryError, page, parse_filter
from simulator.server import WireRequest, WireResponse

MAX_OPEN_QUERIES = 50  # "queued or running queries: at least 50" (Graph throttling limits, audit log query)
LOG_PAGE = 1000  # signIns: "the maximum and default page size is 1,000 objects"


class LogApi:
    def __init__(self, logs: MicrosoftLogs, queries: AuditQueries, served: dict[str, int]) -> None:
        self.logs = logs
        self.queries = queries
        self.served = served

    def _count(self, name: str, n: int) -> None:
        self.served[name] = self.served.get(name, 0) + n

    def _log(self, req: WireRequest, name: str, items: list[dict[str, Any]], context: str) -> WireResponse:
        flt = req.query.get("$filter")
        if flt:
            pred = parse_filter(flt)
            items = [o for o in items if pred(o)]
        version = req.path.split("/")[1]
        known = selectable(version, ENTITY_BY_ROUTE[name][0])
        if known is not None:  # v1.0's signIn lacks beta's authenticationRequirement: serve what the version has
            items = [{k: v for k, v in o.items() if k.casefold() in known} for o in items]
        body = page(req, items, default=LOG_PAGE if name == "signIns" else 100, cap=LOG_PAGE,
                    context=f"https://graph.microsoft.com/{version}/$metadata#{context}")
        self._count(name, len(body["value"]))
        return WireResponse(200, body)

    def directory_audits(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._log(req, "directoryAudits", self.logs.directory_audits, "auditLogs/directoryAudits")

    def sign_ins(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._log(req, "signIns", self.logs.sign_ins, "auditLogs/signIns")

    def risky_users(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._log(req, "riskyUsers", self.logs.risky_users, "identityProtection/riskyUsers")

    def risk_detections(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._log(req, "riskDetections", self.logs.risk_detections, "identityProtection/riskDetections")

    # ---- the audit log query ----------------------------------------------------------------------------------

    def create_query(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            return graph_error(400, "BadRequest", "Invalid request body.")
        if not isinstance(body, dict):
            return graph_error(400, "BadRequest", "Invalid request body.")
        for key in ("filterStartDateTime", "filterEndDateTime"):
            value = body.get(key)
            try:
                parse_time(str(value))
            except ValueError:
                return graph_error(400, "BadRequest", f"Invalid value for '{key}': {value!r}.")
        if parse_time(str(body["filterStartDateTime"])) > parse_time(str(body["filterEndDateTime"])):
            return graph_error(400, "BadRequest", "filterStartDateTime must be before filterEndDateTime.")
        if self.queries.open_queries() >= MAX_OPEN_QUERIES:
            return graph_error(429, "TooManyRequests", "Too many audit log queries are queued or running.",
                               retry_after=60)
        q = self.queries.create(body, self.logs.org.tenant_id)
        version = req.path.split("/")[1]
        return WireResponse(201, {"@odata.context": f"https://graph.microsoft.com/{version}/$metadata#security/"
                                                    f"auditLog/queries/$entity", **q})

    def read_query(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        q = self.queries.queries.get(a["id"])
        matching = len(self.logs.purview_matching(q)) if q is not None else 0
        state = self.queries.read(a["id"], matching)
        if state is None:
            return graph_error(404, "NotFound", f"Audit log query '{a['id']}' was not found.")
        version = req.path.split("/")[1]
        return WireResponse(200, {"@odata.context": f"https://graph.microsoft.com/{version}/$metadata#security/"
                                                    f"auditLog/queries/$entity", **state})

    def query_records(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        q = self.queries.queries.get(a["id"])
        if q is None:
            return graph_error(404, "NotFound", f"Audit log query '{a['id']}' was not found.")
        if self.queries.status(a["id"]) != "succeeded":
            return graph_error(400, "BadRequest", "The audit log query has not completed; read its records once its "
                                                  "status is succeeded.")
        try:
            items = self.logs.purview_matching(q)
        except (KeyError, ValueError) as exc:
            raise QueryError("BadRequest", str(exc)) from None
        return self._log(req, "exchangeAuditRecords", items, "security/auditLog/queries/records")
