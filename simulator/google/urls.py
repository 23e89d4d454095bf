"""Routes of the Google simulator: (method, path regex) -> handler name on GoogleResponses, with the route class.

The route class names the quota bucket and the statistics counter. One loopback server serves every API: the
client's `api_endpoint` override points all four discovery documents at it, exactly as at Google each API keeps
its own path prefix (admin/directory/v1, admin/reports/v1, gmail/v1, v1/policies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_D = r"admin/directory/v1"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: str
    route_class: str  # token | directory | gmail | policy | reports | batch
    scopes: tuple[str, ...] = ()  # any one of these authorises the call (from the discovery documents)


_A = "https://www.googleapis.com/auth/"


def _r(method: str, path: str, handler: str, cls: str, *scopes: str) -> Route:
    return Route(method, re.compile("^/" + path + "$"), handler, cls, tuple(_A + s for s in scopes))


ROUTES: tuple[Route, ...] = (
    _r("POST", "token", "token", "token"),
    _r("POST", "batch(?:/[a-z_]+/[a-z0-9_.]+)?", "batch", "batch"),
    _r("GET", _D + "/users", "users_list", "directory", "admin.directory.user", "admin.directory.user.readonly"),
    _r("GET", _D + "/users/(?P<user>[^/]+)", "users_get", "directory", "admin.directory.user",
       "admin.directory.user.readonly"),
    _r("GET", _D + "/users/(?P<user>[^/]+)/tokens", "tokens_list", "directory", "admin.directory.user.security"),
    _r("GET", _D + "/customer/(?P<customer>[^/]+)/domains", "domains_list", "directory",
       "admin.directory.domain", "admin.directory.domain.readonly"),
    _r("GET", _D + "/customer/(?P<customer>[^/]+)/orgunits", "orgunits_list", "directory",
       "admin.directory.orgunit", "admin.directory.orgunit.readonly"),
    _r("GET", _D + "/customer/(?P<customer>[^/]+)/roles", "roles_list", "directory",
       "admin.directory.rolemanagement", "admin.directory.rolemanagement.readonly"),
    _r("GET", _D + "/customer/(?P<customer>[^/]+)/roleassignments", "role_assignments_list", "directory",
       "admin.directory.rolemanagement", "admin.directory.rolemanagement.readonly"),
    _r("GET", _D + "/groups/(?P<group>[^/]+)", "groups_get", "directory", "admin.directory.group",
       "admin.directory.group.readonly"),
    _r("GET", _D + "/groups/(?P<group>[^/]+)/members", "members_list", "directory", "admin.directory.group",
       "admin.directory.group.member", "admin.directory.group.member.readonly", "admin.directory.group.readonly"),
    _r("GET", "gmail/v1/users/(?P<user>[^/]+)/settings/(?P<what>autoForwarding|forwardingAddresses|filters|"
       "delegates)", "gmail_settings", "gmail", "gmail.settings.basic", "gmail.readonly", "gmail.modify"),
    _r("GET", "v1/policies", "policies_list", "policy", "cloud-identity.policies",
       "cloud-identity.policies.readonly"),
    _r("GET", "admin/reports/v1/activity/users/(?P<user>[^/]+)/applications/(?P<app>[^/]+)", "activities_list",
       "reports", "admin.reports.audit.readonly"),
)
# Gmail also accepts the full-mail scope.
ROUTES = tuple(
    Route(r.method, r.pattern, r.handler, r.route_class, (*r.scopes, "https://mail.google.com/"))
    if r.route_class == "gmail" else r for r in ROUTES
)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        if route.method != method:
            continue
        m = route.pattern.match(path)
        if m:
            return route, {k: unquote(v) for k, v in m.groupdict().items()}
    return None
