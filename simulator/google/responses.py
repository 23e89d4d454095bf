"""Wire handlers of the Google simulator: token endpoint, Directory, Gmail, Policy, Reports, multipart batch.

Error bodies follow Google's documented JSON shape: `{"error": {"code", "message", "errors": [{"message",
"domain", "reason"}], "status"}}`; the token endpoint answers OAuth errors `{"error", "error_description"}`.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from simulator.google.auth import TokenIssuer
from simulator.google.groups import derived_members
from simulator.google.models import GoogleTenant
from simulator.google.partial import apply_fields
from simulator.google.urls import ROUTES, Route
from simulator.server import Router, SimServer, Stats, WireRequest, WireResponse
from simulator.throttle import BucketSet, Limit, retry_after_seconds

BATCH_LIMIT = 1000
GMAIL_BATCH_LIMIT = 100
GMAIL_PREFIX = "/gmail/"

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
DEFAULT_REASONS = {400: "badRequest", 401: "authError", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded",
                   500: "backendError", 502: "backendError", 503: "backendError", 504: "backendError"}


def google_error(code: int, message: str, reason: str, status: str | None = None,
                 headers: Mapping[str, str] | None = None) -> WireResponse:
    return WireResponse(code, {"error": {
        "code": code, "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
        "status": status or STATUS_NAMES.get(code, "UNKNOWN")}}, dict(headers or {}),
        content_type="application/json; charset=UTF-8")


def error_factory(status: int, code: str, message: str, retry_after: float | None) -> WireResponse:
    """The shared server's error hook (faults, unrouted paths) in Google's shape.

    A fault rule's `code` is used as the Google `reason` when it looks like one (lowerCamel, e.g.
    userRateLimitExceeded); otherwise the usual reason for the status is used.
    """
    reason = code if code[:1].islower() else DEFAULT_REASONS.get(status, "backendError")
    return google_error(status, message, reason)


def loop_page_token(resp: WireResponse, req: WireRequest) -> WireResponse:
    """The `loop_next_link` fault: the page's nextPageToken names the page itself (the token the request sent, or
    the first page's), so a client that follows tokens blindly reads the same page forever."""
    if resp.status == 200 and isinstance(resp.body, dict):
        resp.body["nextPageToken"] = _arg(req, "pageToken") or _page_token(0)
    return resp


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        return int(raw.split(":", 1)[1]) if raw.startswith("o:") else None
    except (ValueError, UnicodeDecodeError):
        return None


def _arg(req: WireRequest, name: str, default: str | None = None) -> str | None:
    return req.query.get(name, default)


class GoogleStats(Stats):
    """The shared counters plus the token endpoint's."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens_issued = 0
        self.token_errors = 0
        self.quota_errors = 0  # 429 and 403 rate-limit answers (Gmail's are 403, not counted as `throttled`)


def _json(status: int, doc: Any, headers: Mapping[str, str] | None = None) -> WireResponse:
    return WireResponse(status, doc, dict(headers or {}), content_type="application/json; charset=UTF-8")


class GoogleResponses:
    """Wire handlers; `routes()` gives the shared server its route table (one listener serves every API)."""

    def __init__(self, tenant: GoogleTenant, issuer: TokenIssuer, stats: Stats, *,
                 quotas: Mapping[str, Limit] | None = None, time_scale: float = 1.0) -> None:
        self.t = tenant
        self.issuer = issuer
        self.stats = stats
        self.buckets = {cls: BucketSet(limit, time_scale) for cls, limit in (quotas or {}).items()}
        self.server: SimServer | None = None  # set by the simulator: batch parts are dispatched through it

    def routes(self) -> Router:
        router = Router()
        for route in ROUTES:
            router.add(route.method, route.pattern.pattern.rstrip("$"), self._entry(route), route.route_class)
        return router

    def _entry(self, route: Route) -> Callable[[WireRequest, re.Match[str]], WireResponse]:
        def handle(req: WireRequest, match: re.Match[str]) -> WireResponse:
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            return self.handle(route, req, params)
        return handle

    # ---- entry point -------------------------------------------------------------------------------------
    def handle(self, route: Route, req: WireRequest, params: Mapping[str, str]) -> WireResponse:
        if route.handler == "token":
            return self.token(req)
        if route.handler == "batch":
            if req.inner:
                return google_error(400, "Nested batch requests are not allowed", "badRequest")
            return self.batch(req)
        grant = self.issuer.lookup(req.header("authorization") or "")
        if grant is None:
            return google_error(401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                                     "token, login cookie or other valid authentication credential.",
                                "authError", "UNAUTHENTICATED", {"WWW-Authenticate": 'Bearer realm="simulator"'})
        if not set(route.scopes) & set(grant.scopes):
            return google_error(403, "Request had insufficient authentication scopes.", "insufficientPermissions")
        bucket = self.buckets.get(route.route_class)
        if bucket is not None:
            wait = bucket.take(grant.subject.casefold() if route.route_class == "gmail" else "customer")
            if wait > 0:
                return self._quota_error(route, wait)
        handler: Callable[..., WireResponse] = getattr(self, route.handler)
        return handler(req, grant.subject, **params)

    def _quota_error(self, route: Route, wait: float) -> WireResponse:
        self.stats.add("quota_errors")
        after = {"Retry-After": str(retry_after_seconds(wait))}
        if route.route_class == "gmail":
            return google_error(403, "User-rate limit exceeded.  Retry after a short wait", "userRateLimitExceeded",
                                headers=after)
        service = {"policy": "cloudidentity.googleapis.com"}.get(route.route_class, "admin.googleapis.com")
        return google_error(429, f"Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per "
                                 f"user' of service '{service}'.", "rateLimitExceeded", headers=after)

    def token(self, req: WireRequest) -> WireResponse:
        form = parse_qs(req.body.decode("utf-8", "replace"))
        status, doc = self.issuer.grant(form)
        self.stats.add("tokens_issued" if status == 200 else "token_errors")
        return _json(status, doc, {"Cache-Control": "no-store"})

    # ---- helpers -----------------------------------------------------------------------------------------
    def _admin(self, subject: str) -> WireResponse | None:
        user = self.t.find_user(subject)
        if user is None or not (user.get("isAdmin") or user.get("isDelegatedAdmin")) or user.get("suspended"):
            return google_error(403, "Not Authorized to access this resource/api", "forbidden")
        return None

    def _customer(self, customer: str | None) -> WireResponse | None:
        if customer in ("my_customer", self.t.customer_id):
            return None
        return google_error(400, "Bad Request", "badRequest")

    def _paged(self, req: WireRequest, items: list[Any], key: str, kind: str, default: int, cap: int,
               extra: Mapping[str, Any] | None = None, size_param: str = "maxResults") -> WireResponse:
        try:
            size = int(_arg(req, size_param) or default)
        except ValueError:
            return google_error(400, f"Invalid value for {size_param}", "invalid")
        if size < 1:
            return google_error(400, f"Invalid value for {size_param}: {size}", "invalid")
        size = min(size, cap)
        start = _offset(_arg(req, "pageToken"))
        if start is None or start > len(items):
            return google_error(400, "Invalid page token", "invalid")
        page = items[start:start + size]
        doc: dict[str, Any] = {"kind": kind, "etag": f'"{uuid.uuid5(uuid.NAMESPACE_URL, kind + str(start))}"'}
        if extra:
            doc.update(extra)
        if page or key == "users":
            doc[key] = page
        if start + size < len(items):
            doc["nextPageToken"] = _page_token(start + size)
        return self._out(req, doc)

    @staticmethod
    def _out(req: WireRequest, doc: Any) -> WireResponse:
        fields = _arg(req, "fields")
        if fields:
            try:
                doc = apply_fields(doc, fields)
            except ValueError as exc:
                return google_error(400, f"Invalid field selection {fields}: {exc}", "invalidParameter")
        return _json(200, doc)

    # ---- Directory ---------------------------------------------------------------------------------------
    def users_list(self, req: WireRequest, subject: str) -> WireResponse:
        denied = self._admin(subject) or (self._customer(_arg(req, "customer")) if not _arg(req, "domain") else None)
        if denied:
            return denied
        users = list(self.t.users)
        query = (_arg(req, "query") or "").strip()
        if query:
            key, _, value = query.partition("=")
            if key.strip() not in ("isAdmin", "isSuspended", "orgUnitPath") or not value:
                return google_error(400, f"Invalid Input: {query}", "invalid")
            want = value.strip().strip("'\"")
            field_name = {"isSuspended": "suspended"}.get(key.strip(), key.strip())
            users = [u for u in users if str(u.get(field_name)).lower() == want.lower()]
        if _arg(req, "domain"):
            users = [u for u in users if u["primaryEmail"].lower().endswith("@" + str(_arg(req, "domain")).lower())]
        order = _arg(req, "orderBy") or "email"
        sort_key = {"email": lambda u: u["primaryEmail"], "givenName": lambda u: u["name"]["givenName"],
                    "familyName": lambda u: u["name"]["familyName"]}.get(order)
        if sort_key is None:
            return google_error(400, f"Invalid value for orderBy: {order}", "invalid")
        users.sort(key=sort_key, reverse=(_arg(req, "sortOrder") or "").upper() == "DESCENDING")
        return self._paged(req, users, "users", "admin#directory#users", 100, 500)

    def users_get(self, req: WireRequest, subject: str, user: str) -> WireResponse:
        denied = self._admin(subject)
        if denied:
            return denied
        found = self.t.find_user(user)
        if found is None:
            return google_error(404, "Resource Not Found: userKey", "notFound")
        return self._out(req, found)

    def tokens_list(self, req: WireRequest, subject: str, user: str) -> WireResponse:
        denied = self._admin(subject)
        if denied:
            return denied
        found = self.t.find_user(user)
        if found is None:
            return google_error(404, "Resource Not Found: userKey", "notFound")
        doc: dict[str, Any] = {"kind": "admin#directory#tokenList", "etag": f'"tok-{found["id"]}"'}
        items = self.t.tokens.get(found["id"], [])
        if items:
            doc["items"] = items
        return self._out(req, doc)

    def domains_list(self, req: WireRequest, subject: str, customer: str) -> WireResponse:
        denied = self._admin(subject) or self._customer(customer)
        if denied:
            return denied
        return self._out(req, {"kind": "admin#directory#domains", "etag": '"domains"', "domains": self.t.domains})

    def orgunits_list(self, req: WireRequest, subject: str, customer: str) -> WireResponse:
        denied = self._admin(subject) or self._customer(customer)
        if denied:
            return denied
        base = (_arg(req, "orgUnitPath") or "/").rstrip("/") or "/"
        kind = _arg(req, "type") or "children"
        if kind not in ("all", "children", "allIncludingParent"):
            return google_error(400, f"Invalid value for type: {kind}", "invalid")
        units = self.t.orgunits
        if base != "/" and not any(u["orgUnitPath"] == base for u in units):
            return google_error(404, "Org unit not found", "notFound")

        def under(path: str) -> bool:
            return path != base and (base == "/" or path.startswith(base + "/"))

        if kind == "children":
            out = [u for u in units if u.get("parentOrgUnitPath") == base]
        else:
            out = [u for u in units if under(u["orgUnitPath"])]
            if kind == "allIncludingParent":
                out = [u for u in units if u["orgUnitPath"] == base] + out
        return self._out(req, {"kind": "admin#directory#orgUnits", "etag": '"ous"', "organizationUnits": out})

    def roles_list(self, req: WireRequest, subject: str, customer: str) -> WireResponse:
        denied = self._admin(subject) or self._customer(customer)
        return denied or self._paged(req, self.t.roles, "items", "admin#directory#roles", 100, 100)

    def role_assignments_list(self, req: WireRequest, subject: str, customer: str) -> WireResponse:
        denied = self._admin(subject) or self._customer(customer)
        if denied:
            return denied
        items = self.t.role_assignments
        if _arg(req, "roleId"):
            items = [a for a in items if a["roleId"] == _arg(req, "roleId")]
        if _arg(req, "userKey"):
            who = self.t.find_user(str(_arg(req, "userKey")))
            items = [a for a in items if who is not None and a["assignedTo"] == who["id"]]
        return self._paged(req, items, "items", "admin#directory#roleAssignments", 100, 200)

    def groups_get(self, req: WireRequest, subject: str, group: str) -> WireResponse:
        denied = self._admin(subject)
        if denied:
            return denied
        found = self.t.find_group(group)
        if found is None:
            return google_error(404, "Resource Not Found: groupKey", "notFound")
        return self._out(req, found)

    def members_list(self, req: WireRequest, subject: str, group: str) -> WireResponse:
        """Direct members; with includeDerivedMembership=true also the members of nested groups (each once)."""
        denied = self._admin(subject)
        if denied:
            return denied
        found = self.t.find_group(group)
        if found is None:
            return google_error(404, "Resource Not Found: groupKey", "notFound")
        derived = (_arg(req, "includeDerivedMembership") or "false").lower()
        if derived not in ("true", "false"):
            return google_error(400, f"Invalid value for includeDerivedMembership: {derived}", "invalid")
        items = derived_members(self.t.group_members, found["id"]) if derived == "true" \
            else list(self.t.group_members.get(found["id"], []))
        roles = _arg(req, "roles")
        if roles:
            wanted = {r.strip().upper() for r in roles.split(",")}
            if not wanted <= {"OWNER", "MANAGER", "MEMBER"}:
                return google_error(400, f"Invalid value for roles: {roles}", "invalid")
            items = [m for m in items if m["role"] in wanted]
        return self._paged(req, items, "members", "admin#directory#members", 200, 200)

    # ---- Gmail -------------------------------------------------------------------------------------------
    def gmail_settings(self, req: WireRequest, subject: str, user: str, what: str) -> WireResponse:
        me = self.t.find_user(subject)
        if user != "me" and (me is None or self.t.find_user(user) is not me):
            return google_error(403, f"Delegation denied for {subject}", "forbidden")
        if me is None:
            return google_error(400, "Invalid user id specified in request/Delegation denied", "failedPrecondition")
        settings = self.t.gmail.get(me["id"])
        if settings is None:
            return google_error(400, "Mail service not enabled", "failedPrecondition", "FAILED_PRECONDITION")
        if what == "autoForwarding":
            return self._out(req, settings["autoForwarding"])
        key = {"forwardingAddresses": "forwardingAddresses", "filters": "filter", "delegates": "delegates"}[what]
        source = {"forwardingAddresses": "forwardingAddresses", "filters": "filters", "delegates": "delegates"}[what]
        items = settings[source]
        return self._out(req, {key: items} if items else {})

    # ---- Cloud Identity Policy API -----------------------------------------------------------------------
    def policies_list(self, req: WireRequest, subject: str) -> WireResponse:
        user = self.t.find_user(subject)
        if user is None or not user.get("isAdmin"):
            return google_error(403, "The caller does not have permission", "forbidden")
        doc = self._paged(req, self.t.policies, "policies", "", 50, 100, size_param="pageSize")
        if doc.status == 200 and isinstance(doc.body, dict):  # the Policy API has no kind/etag envelope
            doc.body.pop("kind", None)
            doc.body.pop("etag", None)
        return doc

    # ---- Reports -----------------------------------------------------------------------------------------
    def activities_list(self, req: WireRequest, subject: str, user: str, app: str) -> WireResponse:
        denied = self._admin(subject)
        if denied:
            return denied
        if app not in ("token", "login", "admin", "drive", "gmail", "groups", "saml", "user_accounts"):
            return google_error(400, f"Bad Request: applicationName {app}", "badRequest")
        items = list(self.t.activities_for(app))
        if user != "all":
            who = self.t.find_user(user)
            items = [a for a in items if who is not None and a["actor"]["profileId"] == who["id"]]
        name = _arg(req, "eventName")
        if name:
            items = [a for a in items if any(e.get("name") == name for e in a["events"])]
        start, end = _arg(req, "startTime"), _arg(req, "endTime")
        if start:
            items = [a for a in items if a["id"]["time"] >= start]
        if end:
            items = [a for a in items if a["id"]["time"] <= end]
        return self._paged(req, items, "items", "admin#reports#activities", 1000, 1000)

    # ---- multipart batch ---------------------------------------------------------------------------------
    def batch(self, req: WireRequest) -> WireResponse:
        ctype = req.header("content-type") or ""
        if not ctype.lower().startswith("multipart/mixed"):
            return google_error(400, "Batch requests must be multipart/mixed", "badRequest")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req.body)
        parts = list(msg.iter_parts()) if msg.is_multipart() else []
        if not parts:
            return google_error(400, "Empty batch", "badRequest")
        if len(parts) > BATCH_LIMIT:
            return google_error(400, f"Too many requests in batch: {len(parts)} > {BATCH_LIMIT}", "badRequest")
        inner = [self._parse_part(p, req.base_url) for p in parts]
        if len(parts) > GMAIL_BATCH_LIMIT and any(r is not None and r.path.startswith(GMAIL_PREFIX) for r, _ in inner):
            return google_error(400, f"Too many requests in batch: Gmail allows {GMAIL_BATCH_LIMIT}", "badRequest")
        self.stats.add("batch_requests")
        self.stats.add("batch_inner", len(parts))
        boundary = "batch_" + secrets.token_hex(12)
        out = []
        for part_req, cid in inner:
            if part_req is None or self.server is None:
                resp = google_error(400, "Malformed batch part", "badRequest")
            else:
                route_class, resp = self.server.dispatch(part_req)  # faults apply to parts too (inner=True)
                self.stats.count(route_class, resp.status)
            out.append(self._render_part(resp, cid, boundary))
        body = b"".join(out) + f"--{boundary}--\r\n".encode()
        return WireResponse(200, body, content_type=f"multipart/mixed; boundary={boundary}")

    @staticmethod
    def _parse_part(part: Any, base_url: str) -> tuple[WireRequest | None, str]:
        cid = str(part.get("Content-ID", "")).strip()
        payload = part.get_payload(decode=True) or b""
        try:
            head, _, body = payload.replace(b"\r\n", b"\n").partition(b"\n\n")
            lines = head.decode("utf-8").split("\n")
            method, target, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            url = urlsplit(target)
            return WireRequest(method=method.upper(), path=url.path, raw_query=url.query, headers=headers,
                               body=body, base_url=base_url, inner=True), cid
        except (ValueError, UnicodeDecodeError):
            return None, cid

    @staticmethod
    def _render_part(resp: WireResponse, cid: str, boundary: str) -> bytes:
        echo = f"<response-{cid[1:-1]}>" if cid.startswith("<") and cid.endswith(">") else f"response-{cid}"
        data = resp.encoded()
        head = [f"HTTP/1.1 {resp.status} {REASONS.get(resp.status, 'Unknown')}", f"Content-Type: {resp.content_type}"]
        head += [f"{k}: {v}" for k, v in resp.headers.items()]
        head.append(f"Content-Length: {len(data)}")
        inner = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        return (f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: {echo}\r\n\r\n").encode() \
            + inner + b"\r\n"
