"""Graph's wire vocabulary shared by the routes, the handlers and the throttle: the error body every Graph service
returns, and what a route declares before its handler runs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.server import WireResponse


def graph_error(status: int, code: str, message: str, retry_after: float | None = None) -> WireResponse:
    rid, cid = str(uuid.uuid4()), str(uuid.uuid4())
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    resp = WireResponse(status, {"error": {"code": code, "message": message,
                                           "innerError": {"date": date, "request-id": rid,
                                                          "client-request-id": cid}}},
                        headers={"request-id": rid, "client-request-id": cid})
    if retry_after is not None:
        resp.headers["Retry-After"] = str(int(retry_after))
    return resp


@dataclass(frozen=True)
class Endpoint:
    """What a route needs before its handler runs."""

    permissions: tuple[str, ...]  # any one of them suffices
    throttle: str  # directory | reports | conditional_access | outlook | audit_query | none
    licence: str = ""  # "" | p1 | p2 | p1_plain | p2_plain (a bare 403 without it) | audit (Purview Audit)
    cost: int = 1  # directory resource units
    mail: bool = False  # Outlook-backed: permission errors use Exchange's code
