"""Wire handlers of the simulated Microsoft Graph: authentication, permission and licence checks, throttling,
paging, $select/$filter/$expand, $batch, and Graph's error shape.

Every endpoint goes through `GraphApi.serve`, which applies, in order: the access token (401
InvalidAuthenticationToken), the route's permissions (403 Authorization_RequestDenied / ErrorAccessDenied), the
licence it needs (403 Authentication_RequestFromNonPremiumTenantOrB2CTenant without Entra ID P1; 400
AadPremiumLicenseRequired for PIM without P2, as Graph answers), throttling (429 with Retry-After, except
Conditional Access), then the handler.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from simulator.microsoft.auth_methods import for_version
from simulator.microsoft.graph_schema import check_select
from simulator.microsoft.graph_throttle import GraphThrottle
from simulator.microsoft.graph_wire import Endpoint, graph_error
from simulator.microsoft.identity import GRAPH_AUDIENCE, IdentityPlatform, TokenError
from simulator.microsoft.models import DEFAULT_USER_FIELDS, MicrosoftTenant, select
from simulator.microsoft.query import QueryError, page, parse_filter, selected
from simulator.server import SimServer, Stats, WireRequest, WireResponse

MAX_BATCH = 20
NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"


Handler = Callable[[WireRequest, Mapping[str, str]], WireResponse]


class GraphApi:
    def __init__(self, tenant: MicrosoftTenant, identity: IdentityPlatform, throttle: GraphThrottle | None,
                 stats: Stats) -> None:
        self.tenant = tenant
        self.identity = identity
        self.throttle = throttle
        self.stats = stats
        self.server: SimServer | None = None  # set by the simulator: $batch dispatches inner requests through it
        self.served: dict[str, int] = {}

    # ---- the guard every endpoint passes -----------------------------------------------------------------------

    def serve(self, ep: Endpoint, handler: Handler, route: str = "") -> Callable[[WireRequest, Any], WireResponse]:
        def run(req: WireRequest, match: Any) -> WireResponse:
            auth = req.header("authorization") or ""
            try:
                claims = self.identity.verify(auth[7:] if auth.lower().startswith("bearer ") else "", GRAPH_AUDIENCE)
            except TokenError as exc:
                return graph_error(401, "InvalidAuthenticationToken", str(exc))
            try:  # $select of a property the API version does not have: Graph's OData layer answers 400
                check_select(req.path.split("/")[1], route, selected(req) or ())
            except QueryError as exc:
                return graph_error(400, exc.code, exc.message)
            req.context["claims"] = claims
            granted = set(claims.get("roles") or []) | set(str(claims.get("scp") or "").split())
            if not granted.intersection(ep.permissions):
                if ep.mail:
                    return graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
                return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the "
                                                                       "operation.")
            args = match.groupdict()
            try:
                problem = self._licence(ep, req)
                if problem is not None:
                    return problem
                if self.throttle is not None:
                    limited = self.throttle.admit(ep, req, args, str(claims.get("appid", "")))
                    if limited is not None:
                        return limited
                try:
                    return handler(req, args)
                finally:
                    if self.throttle is not None:
                        self.throttle.release(ep, args)
            except QueryError as exc:
                return graph_error(400, exc.code, exc.message)

        return run

    def _licence(self, ep: Endpoint, req: WireRequest) -> WireResponse | None:
        if ep.licence == "p1" and not self.tenant.p1:
            return graph_error(403, NON_PREMIUM, "Neither tenant is B2C or tenant doesn't have premium license")
        if ep.licence == "p2" and not self.tenant.p2:
            return graph_error(400, "AadPremiumLicenseRequired", "The tenant needs to have Microsoft Entra ID P2 or "
                                                                 "Microsoft Entra ID Governance license.")
        # Identity Protection answers a bare 403 without its licence: the same as a missing permission.
        if (ep.licence == "p2_plain" and not self.tenant.p2) or (ep.licence == "p1_plain" and not self.tenant.p1):
            return graph_error(403, "Forbidden", "Forbidden")
        if ep.licence == "audit" and not self.tenant.audit:
            return graph_error(403, "Forbidden", "Audit log search is not available for this tenant: Microsoft "
                                                 "Purview Audit is not licensed or auditing is turned off.")
        return None

    def _count(self, name: str, n: int) -> None:
        self.served[name] = self.served.get(name, 0) + n

    def _collection(self, req: WireRequest, name: str, items: list[dict[str, Any]], *, default_fields:
                    tuple[str, ...] | None = None, cap: int = 999, context: str = "") -> WireResponse:
        flt = req.query.get("$filter")
        if flt:
            pred = parse_filter(flt)
            items = [o for o in items if pred(o)]
        body = page(req, items, cap=cap, context=context or self._context(req, name))
        fields = selected(req)
        body["value"] = [select(o, fields, default_fields) for o in body["value"]]
        self._count(name, len(body["value"]))
        return WireResponse(200, body)

    def _context(self, req: WireRequest, entity: str) -> str:
        version = req.path.split("/")[1] if req.path.count("/") > 1 else "v1.0"
        return f"https://graph.microsoft.com/{version}/$metadata#{entity}"

    def _object(self, req: WireRequest, name: str, obj: Mapping[str, Any] | None, missing_id: str = ""
                ) -> WireResponse:
        if obj is None:
            return graph_error(404, "Request_ResourceNotFound", f"Resource '{missing_id}' does not exist or one of "
                                                                f"its queried reference-property objects are not "
                                                                f"present.")
        self._count(name, 1)
        body = select(obj, selected(req))
        if "@odata.context" not in body:
            body = {"@odata.context": self._context(req, f"{name}/$entity"), **body}
        return WireResponse(200, body)

    def _user_or_404(self, user_id: str) -> WireResponse | None:
        if self.tenant.person(user_id) is None:
            return graph_error(404, "Request_ResourceNotFound", f"Resource '{user_id}' does not exist or one of its "
                                                                f"queried reference-property objects are not present.")
        return None

    # ---- handlers -----------------------------------------------------------------------------------------------

    def organization(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "organization", self.tenant.organization)

    def domains(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "domains", self.tenant.domains)

    def subscribed_skus(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "subscribedSkus", self.tenant.subscribed_skus)

    def users(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        fields = selected(req) or ()
        cap = 999
        if "signInActivity" in fields:  # needs AuditLog.Read.All and Entra ID P1, and pages of at most 500
            claims = req.context.get("claims", {})
            granted = set(claims.get("roles") or []) | set(str(claims.get("scp") or "").split())
            if "AuditLog.Read.All" not in granted:
                return graph_error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the "
                                                                       "operation.")
            if not self.tenant.p1:
                return graph_error(403, NON_PREMIUM, "Neither tenant is B2C or tenant doesn't have premium license")
            cap = 500
        return self._collection(req, "users", self.tenant.users, default_fields=DEFAULT_USER_FIELDS, cap=cap)

    def user(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        person = self.tenant.person(a["id"])
        idx = self.tenant.user_index.get(person.id) if person else None
        if idx is None:
            return self._object(req, "users", None, a["id"])
        obj = self.tenant.users[idx]
        fields = selected(req)
        body = select(obj, fields, DEFAULT_USER_FIELDS)
        self._count("users", 1)
        return WireResponse(200, {"@odata.context": self._context(req, "users/$entity"), **body})

    def registration_details(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "userRegistrationDetails", self.tenant.registration_details,
                                context=self._context(req, "reports/authenticationMethods/userRegistrationDetails"))

    def methods(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        missing = self._user_or_404(a["id"])
        if missing:
            return missing
        methods = for_version(self.tenant.authentication_methods(a["id"]) or [], req.path.split("/")[1])
        return self._collection(req, "authenticationMethods", methods,
                                context=self._context(req, f"users('{a['id']}')/authentication/methods"))

    def requirements(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        if not req.path.startswith("/beta/"):
            return graph_error(400, "BadRequest", "Resource not found for the segment 'requirements'.")
        missing = self._user_or_404(a["id"])
        if missing:
            return missing
        self._count("perUserMfaState", 1)
        return WireResponse(200, {"@odata.context": self._context(
            req, f"users('{a['id']}')/authentication/requirements/$entity"), **(self.tenant.per_user_mfa(a["id"]) or {})})

    def security_defaults(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._object(req, "securityDefaults", self.tenant.security_defaults)

    def conditional_access(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "conditionalAccessPolicies", self.tenant.conditional_access_policies,
                                context=self._context(req, "identity/conditionalAccess/policies"))

    def authorization_policy(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._object(req, "authorizationPolicy", self.tenant.authorization_policy)

    def methods_policy(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._object(req, "authenticationMethodsPolicy", self.tenant.authentication_methods_policy)

    def role_definitions(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        items = self.tenant.role_definitions
        if not req.path.startswith("/beta/"):  # isPrivileged exists only in beta
            items = [{k: v for k, v in r.items() if k != "isPrivileged"} for r in items]
        return self._collection(req, "roleDefinitions", items,
                                context=self._context(req, "roleManagement/directory/roleDefinitions"))

    def role_assignments(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        expand = req.query.get("$expand", "")
        if expand and expand != "principal":
            raise QueryError("BadRequest", f"Could not find a property named '{expand}' on type "
                                           f"'microsoft.graph.unifiedRoleAssignment'.")
        items = self.tenant.role_assignments
        if not expand:
            items = [{k: v for k, v in r.items() if k != "principal"} for r in items]
        return self._collection(req, "roleAssignments", items,
                                context=self._context(req, "roleManagement/directory/roleAssignments"))

    def role_eligibilities(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "roleEligibilities", self.tenant.role_eligibilities,
                                context=self._context(req, "roleManagement/directory/roleEligibilityScheduleInstances"))

    def groups(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "groups", list(self.tenant.groups.values()))

    def group(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._object(req, "groups", self.tenant.groups.get(a["id"]), a["id"])

    def transitive_members(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        members = self.tenant.transitive_members(a["id"])
        if members is None:
            return self._object(req, "groupMembers", None, a["id"])
        return self._collection(req, "groupMembers", members, context=self._context(req, "directoryObjects"))

    def _no_mailbox(self, user_id: str) -> WireResponse:
        """Graph's two no-mailbox answers: a guest or an unlicensed account has no Exchange Online mailbox at all
        (404 ResourceNotFound "Resource could not be discovered.", as public reports show for mailboxSettings, e.g.
        microsoftgraph/microsoft-graph-docs-contrib issue 6308); a licensed user whose mailbox is inactive,
        soft-deleted or on-premises gets MailboxNotEnabledForRESTAPI."""
        person = self.tenant.person(user_id)
        if person is None or person.is_guest or not person.licensed:
            return graph_error(404, "ResourceNotFound", "Resource could not be discovered.")
        return graph_error(404, "MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is "
                                                               "hosted on-premise.")

    def message_rules(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        missing = self._user_or_404(a["id"])
        if missing:
            return missing
        rules = self.tenant.inbox_rules(a["id"])
        if rules is None:
            return self._no_mailbox(a["id"])
        return self._collection(req, "inboxRules", rules,
                                context=self._context(req, f"users('{a['id']}')/mailFolders('inbox')/messageRules"))

    def mail_folder(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        """GET /users/{id}/mailFolders/{folderId}: 404 ErrorItemNotFound for an id the mailbox does not hold;
        wellKnownName exists only in beta."""
        missing = self._user_or_404(a["id"])
        if missing:
            return missing
        person = self.tenant.person(a["id"])
        if person is None or not person.has_mailbox:
            return self._no_mailbox(a["id"])
        folder = self.tenant.mail_folder(a["id"], unquote(a["folder"]))
        if folder is None:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if not req.path.startswith("/beta/"):
            folder = {k: v for k, v in folder.items() if k != "wellKnownName"}
        self._count("inboxRuleFolders", 1)
        body = select(folder, selected(req))
        return WireResponse(200, {"@odata.context": self._context(
            req, f"users('{a['id']}')/mailFolders/$entity"), **body})

    def mailbox_settings(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        missing = self._user_or_404(a["id"])
        if missing:
            return missing
        settings = self.tenant.mailbox_settings(a["id"])
        if settings is None:
            return self._no_mailbox(a["id"])
        self._count("mailboxSettings", 1)
        body = select(settings, selected(req))
        return WireResponse(200, {"@odata.context": self._context(req, f"users('{a['id']}')/mailboxSettings"),
                                  **body})

    def grants(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "oauth2PermissionGrants", self.tenant.oauth2_permission_grants)

    @staticmethod
    def _sp_view(req: WireRequest, sp: dict[str, Any]) -> dict[str, Any]:
        """publisherName exists only in beta (v1.0 names a publisher only through verifiedPublisher)."""
        if req.path.startswith("/beta/"):
            return sp
        return {k: v for k, v in sp.items() if k != "publisherName"}

    def service_principals(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        return self._collection(req, "servicePrincipals",
                                [self._sp_view(req, sp) for sp in self.tenant.service_principals])

    def service_principal(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        sp = self.tenant.sp_by_object_id(a["id"])
        return self._object(req, "servicePrincipals", self._sp_view(req, sp) if sp else None, a["id"])

    def app_role_assigned_to(self, req: WireRequest, a: Mapping[str, str]) -> WireResponse:
        if self.tenant.sp_by_object_id(a["id"]) is None:
            return self._object(req, "appRoleAssignments", None, a["id"])
        items = self.tenant.role_assigned_to(a["id"])
        return self._collection(req, "appRoleAssignments", items,
                                context=self._context(req, f"servicePrincipals('{a['id']}')/appRoleAssignedTo"))

    # ---- $batch -------------------------------------------------------------------------------------------------

    def batch(self, req: WireRequest, a: Any) -> WireResponse:
        """JSON batching: up to 20 requests with relative URLs; the outer answer is 200 whatever the inner ones."""
        auth = req.header("authorization") or ""
        try:
            self.identity.verify(auth[7:] if auth.lower().startswith("bearer ") else "", GRAPH_AUDIENCE)
        except TokenError as exc:
            return graph_error(401, "InvalidAuthenticationToken", str(exc))
        try:
            doc = req.json()
        except (ValueError, UnicodeDecodeError):
            return graph_error(400, "BadRequest", "Invalid batch payload format.")
        requests = doc.get("requests") if isinstance(doc, dict) else None
        if not isinstance(requests, list) or not requests:
            return graph_error(400, "BadRequest", "Invalid batch payload format.")
        if len(requests) > MAX_BATCH:
            return graph_error(400, "BadRequest", f"Number of batch requests exceeds the limit of {MAX_BATCH}.")
        ids = [r.get("id") if isinstance(r, dict) else None for r in requests]
        if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
            return graph_error(400, "BadRequest", "Batch request ids must be unique non-empty strings.")
        assert self.server is not None
        version = req.path.split("/")[1]
        self.stats.add("batch_requests")
        out, reset = [], False
        for r in requests:
            inner, inner_reset = self._inner(req, r, version)
            out.append(inner)
            reset = reset or inner_reset
        return WireResponse(200, {"responses": out}, reset=reset)

    def _inner(self, outer: WireRequest, r: Mapping[str, Any], version: str) -> tuple[dict[str, Any], bool]:
        """One inner request through the same routes, guards and faults; (inner response, reset the batch?)."""
        assert self.server is not None
        self.stats.add("batch_inner")
        url = str(r.get("url", ""))
        if url.startswith(("http://", "https://")) or not url:
            err = graph_error(400, "BadRequest", "Invalid request URL: batch URLs must be relative to the "
                                                 "version, for example '/users'.")
            return {"id": r["id"], "status": 400, "headers": {"Content-Type": "application/json"}, "body": err.body}, False
        path, _, query = url.lstrip("/").partition("?")
        headers = {k.lower(): str(v) for k, v in (r.get("headers") or {}).items()}
        headers["authorization"] = outer.header("authorization") or ""
        body = r.get("body")
        inner = WireRequest(method=str(r.get("method", "GET")).upper(), path=f"/{version}/{path}", raw_query=query,
                            headers=headers, body=json.dumps(body).encode() if body is not None else b"",
                            base_url=outer.base_url, inner=True)
        route, resp = self.server.dispatch(inner)
        self.stats.count(f"batch:{route}", resp.status)
        if resp.truncate:
            text = resp.encoded().decode("utf-8", "replace")
            resp_body: Any = text[: max(1, len(text) // 2)]
        else:
            resp_body = resp.body
        hdrs = {"Content-Type": "application/json", **{k: v for k, v in resp.headers.items()
                                                        if k.lower() not in ("request-id", "client-request-id")}}
        out = {"id": r["id"], "status": resp.status, "headers": hdrs}
        if resp_body is not None:
            out["body"] = resp_body
        return out, resp.reset
