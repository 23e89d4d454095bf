"""Wire handlers of the Google simulator: token endpoint, Directory, Gmail, Policy, Reports, multipart batch.

Error bodies follow Google's documented JSON shape: `{"error": {"code", "message", "errors": [{"message",
"domain", "reason"}], "status"}}`; the token endpoint answers OAuth errors `{"error", "error_description"}`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.simulator.google.auth import TokenIssuer
from connectors.simulator.google.models import GoogleTenant
from connectors.simulator.google.partial import apply_fields
from connectors.simulator.google.urls import Route, match

BATCH_LIMIT = 1000
GMAIL_BATCH_LIMIT = 100
GMAIL_PREFIX = "/gmail/"


@dataclass
class WireRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    @staticmethod
    def from_target(method: str, target: str, headers: Mapping[str, str], body: bytes = b"") -> WireRequest:
        parts = urlsplit(target)
        return WireRequest(method.upper(), parts.path, parse_qs(parts.query, keep_blank_values=True),
                           {k.lower(): v for k, v in headers.items()}, body)


@dataclass
class WireResponse:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def json(status: int, doc: Any, headers: Mapping[str, str] | None = None) -> WireResponse:
        h = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        return WireResponse(status, json.dumps(doc).encode(), h)


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def google_error(code: int, message: str, reason: str, status: str | None = None,
                 headers: Mapping[str, str] | None = None) -> WireResponse:
    return WireResponse.json(code, {"error": {
        "code": code, "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
        "status": status or STATUS_NAMES.get(code, "UNKNOWN")}}, headers)


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


@dataclass
class Stats:
    """Counters the tests and the benchmark read; updated under a lock."""

    requests: dict[str, int] = field(default_factory=dict)
    throttled: int = 0
    batches: int = 0
    batch_parts: int = 0
    tokens_issued: int = 0
    token_errors: int = 0
    max_concurrency: int = 0
    _active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, route_class: str) -> None:
        with self._lock:
            self.requests[route_class] = self.requests.get(route_class, 0) + 1

    def enter(self) -> None:
        with self._lock:
            self._active += 1
            self.max_concurrency = max(self.max_concurrency, self._active)

    def leave(self) -> None:
        with self._lock:
            self._active -= 1

    def bump(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)


QuotaCheck = Callable[[str, str], float | None]  # (route class, subject) -> retry-after seconds when throttled
FaultHook = Callable[[str, str, str], WireResponse | None]  # (method, path, subject) -> injected response


class GoogleResponses:
    """Dispatches one request (or one batch part) to its handler."""

    def __init__(self, tenant: GoogleTenant, issuer: TokenIssuer, stats: Stats, *,
                 quota: QuotaCheck | None = None, faults: FaultHook | None = None,
                 latency: float = 0.0, time_scale: float = 1.0) -> None:
        self.t = tenant
        self.issuer = issuer
        self.stats = stats
        self.quota = quota
        self.faults = faults
        self.latency = latency
        self.time_scale = time_scale

    # ---- entry points ------------------------------------------------------------------------------------
    def handle(self, req: WireRequest, *, in_batch: bool = False) -> WireResponse:
        found = match(req.method, req.path)
        if found is None:
            return google_error(404, f"Method not found: {req.method} {req.path}", "notFound")
        route, params = found
        if not in_batch:
            self.stats.count(route.route_class)
            if self.latency:
                time.sleep(self.latency * self.time_scale)
        if self.faults is not None and route.route_class in ("token", "batch"):
            injected = self.faults(req.method, req.path, "")
            if injected is not None:
                return injected
        if route.handler == "token":
            return self.token(req)
        if route.handler == "batch":
            if in_batch:
                return google_error(400, "Nested batch requests are not allowed", "badRequest")
            return self.batch(req)
        grant = self.issuer.lookup(req.headers.get("authorization", ""))
        if grant is None:
            return google_error(401, "Request had invalid authentication credentials. Expected OAuth 2 access "
                                     "token, login cookie or other valid authentication credential.",
                                "authError", "UNAUTHENTICATED", {"WWW-Authenticate": 'Bearer realm="simulator"'})
        if self.faults is not None:
            injected = self.faults(req.method, req.path, grant.subject)
            if injected is not None:
                return injected
        if not set(route.scopes) & set(grant.scopes):
            return google_error(403, "Request had insufficient authentication scopes.", "insufficientPermissions")
        if self.quota is not None:
            wait = self.quota(route.route_class, grant.subject)
            if wait is not None:
                self.stats.bump("throttled")
                return self._quota_error(route, wait)
        handler: Callable[..., WireResponse] = getattr(self, route.handler)
        return handler(req, grant.subject, **params)

    def _quota_error(self, route: Route, wait: float) -> WireResponse:
        after = {"Retry-After": str(max(1, round(wait)))}
        if route.route_class == "gmail":
            return google_error(403, "User-rate limit exceeded.  Retry after a short wait", "userRateLimitExceeded",
                                headers=after)
        service = {"policy": "cloudidentity.googleapis.com"}.get(route.route_class, "admin.googleapis.com")
        return google_error(429, f"Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per "
                                 f"user' of service '{service}'.", "rateLimitExceeded", headers=after)

    def token(self, req: WireRequest) -> WireResponse:
        form = parse_qs(req.body.decode("utf-8", "replace"))
        status, doc = self.issuer.grant(form)
        self.stats.bump("tokens_issued" if status == 200 else "token_errors")
        return WireResponse.json(status, doc, {"Cache-Control": "no-store"})

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
            size = int(req.arg(size_param) or default)
        except ValueError:
            return google_error(400, f"Invalid value for {size_param}", "invalid")
        if size < 1:
            return google_error(400, f"Invalid value for {size_param}: {size}", "invalid")
        size = min(size, cap)
        start = _offset(req.arg("pageToken"))
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
        fields = req.arg("fields")
        if fields:
            try:
                doc = apply_fields(doc, fields)
            except ValueError as exc:
                return google_error(400, f"Invalid field selection {fields}: {exc}", "invalidParameter")
        return WireResponse.json(200, doc)

    # ---- Directory ---------------------------------------------------------------------------------------
    def users_list(self, req: WireRequest, subject: str) -> WireResponse:
        denied = self._admin(subject) or (self._customer(req.arg("customer")) if not req.arg("domain") else None)
        if denied:
            return denied
        users = list(self.t.users)
        query = (req.arg("query") or "").strip()
        if query:
            key, _, value = query.partition("=")
            if key.strip() not in ("isAdmin", "isSuspended", "orgUnitPath") or not value:
                return google_error(400, f"Invalid Input: {query}", "invalid")
            want = value.strip().strip("'\"")
            field_name = {"isSuspended": "suspended"}.get(key.strip(), key.strip())
            users = [u for u in users if str(u.get(field_name)).lower() == want.lower()]
        if req.arg("domain"):
            users = [u for u in users if u["primaryEmail"].lower().endswith("@" + str(req.arg("domain")).lower())]
        order = req.arg("orderBy") or "email"
        sort_key = {"email": lambda u: u["primaryEmail"], "givenName": lambda u: u["name"]["givenName"],
                    "familyName": lambda u: u["name"]["familyName"]}.get(order)
        if sort_key is None:
            return google_error(400, f"Invalid value for orderBy: {order}", "invalid")
        users.sort(key=sort_key, reverse=(req.arg("sortOrder") or "").upper() == "DESCENDING")
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
        base = (req.arg("orgUnitPath") or "/").rstrip("/") or "/"
        kind = req.arg("type") or "children"
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
        if req.arg("roleId"):
            items = [a for a in items if a["roleId"] == req.arg("roleId")]
        if req.arg("userKey"):
            who = self.t.find_user(str(req.arg("userKey")))
            items = [a for a in items if who is not None and a["assignedTo"] == who["id"]]
        return self._paged(req, items, "items", "admin#directory#roleAssignments", 100, 200)

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
        try:
            size = int(req.arg("pageSize") or 50)
        except ValueError:
            return google_error(400, "Invalid pageSize", "invalid")
        req.query["maxResults"] = [str(size)]
        doc = self._paged(req, self.t.policies, "policies", "", 50, 100)
        if doc.status == 200:  # the Policy API has no kind/etag envelope
            body = json.loads(doc.body)
            body.pop("kind", None)
            body.pop("etag", None)
            return WireResponse.json(200, body)
        return doc

    # ---- Reports -----------------------------------------------------------------------------------------
    def activities_list(self, req: WireRequest, subject: str, user: str, app: str) -> WireResponse:
        denied = self._admin(subject)
        if denied:
            return denied
        if app not in ("token", "login", "admin", "drive", "gmail", "groups", "saml", "user_accounts"):
            return google_error(400, f"Bad Request: applicationName {app}", "badRequest")
        items = list(self.t.activities.get(app, []))
        if user != "all":
            who = self.t.find_user(user)
            items = [a for a in items if who is not None and a["actor"]["profileId"] == who["id"]]
        name = req.arg("eventName")
        if name:
            items = [a for a in items if any(e.get("name") == name for e in a["events"])]
        start, end = req.arg("startTime"), req.arg("endTime")
        if start:
            items = [a for a in items if a["id"]["time"] >= start]
        if end:
            items = [a for a in items if a["id"]["time"] <= end]
        return self._paged(req, items, "items", "admin#reports#activities", 1000, 1000)

    # ---- multipart batch ---------------------------------------------------------------------------------
    def batch(self, req: WireRequest) -> WireResponse:
        ctype = req.headers.get("content-type", "")
        if not ctype.lower().startswith("multipart/mixed"):
            return google_error(400, "Batch requests must be multipart/mixed", "badRequest")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req.body)
        parts = [p for p in msg.iter_parts()] if msg.is_multipart() else []
        if not parts:
            return google_error(400, "Empty batch", "badRequest")
        if len(parts) > BATCH_LIMIT:
            return google_error(400, f"Too many requests in batch: {len(parts)} > {BATCH_LIMIT}", "badRequest")
        inner = [self._parse_part(p) for p in parts]
        if len(parts) > GMAIL_BATCH_LIMIT and any(r is not None and r.path.startswith(GMAIL_PREFIX) for r, _ in inner):
            return google_error(400, f"Too many requests in batch: Gmail allows {GMAIL_BATCH_LIMIT}", "badRequest")
        self.stats.bump("batches")
        self.stats.bump("batch_parts", len(parts))
        boundary = "batch_" + secrets.token_hex(12)
        out = []
        for (part_req, cid) in inner:
            if part_req is None:
                resp = google_error(400, "Malformed batch part", "badRequest")
            else:
                found = match(part_req.method, part_req.path)
                self.stats.count(found[0].route_class if found else "unknown")
                resp = self.handle(part_req, in_batch=True)
            out.append(self._render_part(resp, cid, boundary))
        body = b"".join(out) + f"--{boundary}--\r\n".encode()
        return WireResponse(200, body, {"Content-Type": f"multipart/mixed; boundary={boundary}"})

    @staticmethod
    def _parse_part(part: Any) -> tuple[WireRequest | None, str]:
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
            return WireRequest.from_target(method, target, headers, body), cid
        except (ValueError, UnicodeDecodeError):
            return None, cid

    @staticmethod
    def _render_part(resp: WireResponse, cid: str, boundary: str) -> bytes:
        echo = f"<response-{cid[1:-1]}>" if cid.startswith("<") and cid.endswith(">") else f"response-{cid}"
        head = [f"HTTP/1.1 {resp.status} {REASONS.get(resp.status, 'Unknown')}"]
        head += [f"{k}: {v}" for k, v in resp.headers.items()]
        head.append(f"Content-Length: {len(resp.body)}")
        inner = ("\r\n".join(head) + "\r\n\r\n").encode() + resp.body
        return (f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: {echo}\r\n\r\n").encode() \
            + inner + b"\r\n"
