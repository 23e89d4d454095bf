"""Graph's throttling classes with their documented limits (scaled by the simulator's time_scale).

| class | limit | key | 429 |
|---|---|---|---|
| directory | 3,500 / 5,000 / 8,000 resource units per 10 s for < 50 / 50-500 / > 500 users | app + tenant | Retry-After |
| (costs) | collections of users, groups, service principals 2 RU; other reads 1 RU; $select -1 (min 1); $expand +1 | | |
| signInActivity | 10 requests per minute (users requests selecting signInActivity) | app + tenant | Retry-After |
| reports | 5 requests per 10 s | app + tenant | Retry-After |
| conditional access | 1 request per second | tenant | NO Retry-After |
| outlook | 4 concurrent and 10,000 requests per 10 min | app + mailbox | Retry-After |
| global | 130,000 requests per 10 s | app | Retry-After |
| identity protection | riskyUsers, riskDetections share the conditional access class: 1 per second | tenant | NO Retry-After |
| audit log query | 200 query submissions per rolling 24 hours (the baseline allocation) | tenant | Retry-After |
"""

from __future__ import annotations

from collections.abc import Mapping

from simulator.microsoft.graph_wire import Endpoint, graph_error
from simulator.microsoft.query import selected
from simulator.server import WireRequest, WireResponse
from simulator.throttle import BucketSet, ConcurrencyLimit, Limit, retry_after_seconds


def directory_capacity(users: int) -> int:
    return 3500 if users < 50 else 5000 if users <= 500 else 8000


class GraphThrottle:
    def __init__(self, users: int, time_scale: float = 1.0) -> None:
        self.directory = BucketSet(Limit(directory_capacity(users), 10), time_scale)
        self.sign_in = BucketSet(Limit(10, 60), time_scale)
        self.reports = BucketSet(Limit(5, 10), time_scale)
        self.conditional_access = BucketSet(Limit(1, 1), time_scale)
        self.outlook = BucketSet(Limit(10_000, 600), time_scale)
        self.outlook_concurrency = ConcurrencyLimit(4)
        self.global_ = BucketSet(Limit(130_000, 10), time_scale)
        self.audit_submissions = BucketSet(Limit(200, 86_400), time_scale)

    @staticmethod
    def _too_many(wait: float, code: str = "TooManyRequests", message: str = "Please retry after",
                  retry_after: bool = True) -> WireResponse:
        return graph_error(429, code, message, retry_after_seconds(wait) if retry_after else None)

    def admit(self, ep: Endpoint, req: WireRequest, args: Mapping[str, str], app: str) -> WireResponse | None:
        wait = self.global_.take(app)
        if wait:
            return self._too_many(wait)
        if ep.throttle == "directory":
            cost = ep.cost
            if req.query.get("$select"):
                cost -= 1
            if req.query.get("$expand"):
                cost += 1
            wait = self.directory.take(app, max(1, cost))
            if wait:
                return self._too_many(wait)
            if "signInActivity" in (selected(req) or ()):
                wait = self.sign_in.take(app)
                if wait:
                    return self._too_many(wait)
        elif ep.throttle == "reports":
            wait = self.reports.take(app)
            if wait:
                return self._too_many(wait)
        elif ep.throttle == "conditional_access":
            wait = self.conditional_access.take("tenant")
            if wait:
                return self._too_many(wait, retry_after=False)
        elif ep.throttle == "audit_query" and req.method == "POST":
            wait = self.audit_submissions.take("tenant")
            if wait:
                return self._too_many(wait, message="Too many audit log queries were submitted; retry later.")
        elif ep.throttle == "outlook":
            mailbox = args.get("id", "")
            if not self.outlook_concurrency.enter(mailbox):
                return self._too_many(1, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
            wait = self.outlook.take(f"{app}|{mailbox}")
            if wait:
                self.outlook_concurrency.leave(mailbox)
                return self._too_many(wait, "ApplicationThrottled", "Application is over its limit of requests "
                                                                    "per mailbox.")
        return None

    def release(self, ep: Endpoint, args: Mapping[str, str]) -> None:
        if ep.throttle == "outlook":
            self.outlook_concurrency.leave(args.get("id", ""))
