"""Microsoft OAuth consent -> `oauth_grants` (one row per grant and scope).

Delegated: `oauth2PermissionGrants` (scope is space-separated; consentType AllPrincipals -> all_users, Principal ->
single_user with principalId), joined to `servicePrincipals` by clientId (the client's object id). Application:
`appRoleAssignments` and `sharePointAppRoleAssignments` (appRoleAssignedTo of each resource API: Graph, Exchange
Online, SharePoint Online); the appRoleId is resolved to its permission value
through the resource service principal's `appRoles`. Owner: Microsoft's tenant -> first_party, this tenant ->
own_org, any other -> third_party; publisher verified when `verifiedPublisher.verifiedPublisherId` is set.
"""

from __future__ import annotations

from typing import Any

from idaudit.core.normalise.availability import built
from idaudit.core.normalise.ms_context import MICROSOFT_TENANT, Tables, as_list, text

DEFAULT_ACCESS = "00000000-0000-0000-0000-000000000000"
# appRoleAssignedTo of Microsoft Graph and Exchange Online, and of SharePoint Online (Sites.*.All application roles)
APPLICATION_SECTIONS = ("appRoleAssignments", "sharePointAppRoleAssignments")  # appRoleId meaning "default access", no permission


class _Apps:
    def __init__(self, t: Tables) -> None:
        self.tenant = t.snap.manifest.tenant_id.casefold()
        raw = t.data("servicePrincipals")
        self.known = isinstance(raw, list)
        self.by_id: dict[str, dict[str, Any]] = {}
        for sp in raw or []:
            if isinstance(sp, dict) and sp.get("id"):
                self.by_id[text(sp["id"])] = sp

    def describe(self, sp_id: str) -> dict[str, Any]:
        sp = self.by_id.get(sp_id)
        if sp is None:
            return {"app_id": sp_id, "app_name": "", "publisher": "", "publisher_verified": None,
                    "app_owner": "unknown"}
        vp = sp.get("verifiedPublisher")
        verified: bool | None = None
        publisher = text(sp.get("publisherName"))
        if isinstance(vp, dict):
            verified = bool(text(vp.get("verifiedPublisherId")))
            publisher = text(vp.get("displayName")) or publisher
        owner_org = text(sp.get("appOwnerOrganizationId")).casefold()
        owner = ("first_party" if owner_org == MICROSOFT_TENANT else "own_org" if owner_org == self.tenant
                 else "third_party" if owner_org else "unknown")
        return {"app_id": text(sp.get("appId")) or sp_id,
                "app_name": text(sp.get("appDisplayName") or sp.get("displayName")),
                "publisher": publisher, "publisher_verified": verified, "app_owner": owner}

    def name(self, sp_id: str) -> str:
        sp = self.by_id.get(sp_id)
        return text(sp.get("appDisplayName") or sp.get("displayName")) if sp else sp_id

    def role_value(self, resource_id: str, role_id: str) -> str:
        sp = self.by_id.get(resource_id) or {}
        for role in as_list(sp.get("appRoles")):
            if isinstance(role, dict) and text(role.get("id")) == role_id:
                return text(role.get("value")) or role_id
        return role_id


def app_names(t: Tables) -> dict[str, str]:
    """appId -> display name (the evaluator names excluded apps with it)."""
    out: dict[str, str] = {}
    for sp in t.data("servicePrincipals") or []:
        if isinstance(sp, dict) and sp.get("appId"):
            out[text(sp["appId"])] = text(sp.get("appDisplayName") or sp.get("displayName"))
    return out


def oauth_table(t: Tables) -> None:
    apps = _Apps(t)
    grants = t.data("oauth2PermissionGrants")
    if grants is None and all(t.per_user(s) is None for s in APPLICATION_SECTIONS):
        t.missing("oauth_grants", "oauth2PermissionGrants", *APPLICATION_SECTIONS)
        return
    rows: list[dict[str, Any]] = []
    gaps: list[str] = []
    if not apps.known:
        gaps.append(f"app publishers unknown ({t.why('servicePrincipals')})")
    if isinstance(grants, list):
        for g in grants:
            if not isinstance(g, dict):
                continue
            everyone = text(g.get("consentType")).casefold() == "allprincipals"
            base = {"grant_id": text(g.get("id")), **apps.describe(text(g.get("clientId"))),
                    "grant_kind": "delegated", "consent_scope": "all_users" if everyone else "single_user",
                    "user_id": "" if everyone else text(g.get("principalId")),
                    "resource": apps.name(text(g.get("resourceId")))}
            rows.extend({**base, "scope": s} for s in text(g.get("scope")).split())
    else:
        gaps.append(f"delegated grants not collected ({t.why('oauth2PermissionGrants')})")
    for section in APPLICATION_SECTIONS:
        rows.extend(_application_rows(t, apps, section, gaps))
    t.put("oauth_grants", rows, built(("oauth2PermissionGrants", "servicePrincipals", *APPLICATION_SECTIONS),
                                      gaps=gaps))


def _application_rows(t: Tables, apps: _Apps, section: str, gaps: list[str]) -> list[dict[str, Any]]:
    """Application permissions from one appRoleAssignedTo section ({resource SP id: assignments}); what could not
    be read goes to `gaps` (so the table is partial and no check passes the tenant on it)."""
    assigned = t.per_user(section)
    if not isinstance(assigned, dict):
        gaps.append(f"application permissions not collected ({t.why(section)})")
        return []
    rec = t.snap.section(section)
    for resource_id in rec.failed_subjects if rec else {}:
        gaps.append(f"application permissions on resource '{apps.name(resource_id)}' not collected")
    rows = []
    for resource_id, items in assigned.items():
        for a in items if isinstance(items, list) else []:
            if not isinstance(a, dict) or text(a.get("principalType")).casefold() not in ("serviceprincipal", ""):
                continue
            role_id = text(a.get("appRoleId"))
            if role_id == DEFAULT_ACCESS:
                continue
            rows.append({"grant_id": text(a.get("id")), **apps.describe(text(a.get("principalId"))),
                         "grant_kind": "application", "consent_scope": "application", "user_id": "",
                         "resource": text(a.get("resourceDisplayName")) or apps.name(resource_id),
                         "scope": apps.role_value(resource_id, role_id)})
    return rows
