"""What Graph's published schema says a route may be asked for: the entity type behind each route and the
properties of that type in v1.0 and beta, so `$select` of a property the API version does not have is answered the
way Graph answers it (400) instead of being dropped silently.

The property lists (`graph_properties.json`) are generated from the msgraph-sdk (v1.0) and msgraph-beta-sdk models,
which Microsoft generates from its CSDL: `python -m tests.graph_contract` rewrites the file, and
tests/test_contract_graph.py fails when it is stale.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path

from simulator.microsoft.query import QueryError

# route name (urls.py) -> (entity type, a collection?). groupMembers lists directoryObjects of several types.
ENTITY_BY_ROUTE: dict[str, tuple[str, bool]] = {
    "organization": ("organization", True),
    "domains": ("domain", True),
    "subscribedSkus": ("subscribedSku", True),
    "users": ("user", True),
    "user": ("user", False),
    "userRegistrationDetails": ("userRegistrationDetails", True),
    "authenticationMethods": ("authenticationMethod", True),
    "perUserMfaState": ("strongAuthenticationRequirements", False),
    "securityDefaults": ("identitySecurityDefaultsEnforcementPolicy", False),
    "conditionalAccessPolicies": ("conditionalAccessPolicy", True),
    "authorizationPolicy": ("authorizationPolicy", False),
    "authenticationMethodsPolicy": ("authenticationMethodsPolicy", False),
    "roleDefinitions": ("unifiedRoleDefinition", True),
    "roleAssignments": ("unifiedRoleAssignment", True),
    "roleEligibilities": ("unifiedRoleEligibilityScheduleInstance", True),
    "groups": ("group", True),
    "group": ("group", False),
    "groupMembers": ("directoryObject", True),
    "inboxRules": ("messageRule", True),
    "inboxRuleFolders": ("mailFolder", False),
    "mailboxSettings": ("mailboxSettings", False),
    "oauth2PermissionGrants": ("oAuth2PermissionGrant", True),
    "servicePrincipals": ("servicePrincipal", True),
    "servicePrincipal": ("servicePrincipal", False),
    "appRoleAssignments": ("appRoleAssignment", True),
    "directoryAudits": ("directoryAudit", True),
    "signIns": ("signIn", True),
    "riskyUsers": ("riskyUser", True),
    "riskDetections": ("riskDetection", True),
    "auditQuery": ("security.auditLogQuery", False),
    "auditQueryStatus": ("security.auditLogQuery", False),
    "exchangeAuditRecords": ("security.auditLogRecord", True),
}
# A directoryObject collection (transitiveMembers) may be $select-ed on the properties of the types it holds.
DIRECTORY_OBJECT_TYPES = ("directoryObject", "user", "group", "servicePrincipal", "device", "orgContact")
PROPERTIES_FILE = Path(__file__).with_name("graph_properties.json")


@functools.cache
def _properties() -> dict[str, dict[str, frozenset[str]]]:
    raw = json.loads(PROPERTIES_FILE.read_text(encoding="utf-8"))
    return {version: {t: frozenset(p.casefold() for p in props) for t, props in types.items()}
            for version, types in raw.items() if not version.startswith("_")}


def selectable(version: str, entity: str) -> frozenset[str] | None:
    """Property names (casefolded) of `entity` in `version`; None when the type is not in that version at all."""
    types = _properties().get(version, {})
    if entity == "directoryObject":
        found = [types[t] for t in DIRECTORY_OBJECT_TYPES if t in types]
        return frozenset().union(*found) if found else None
    return types.get(entity)


def check_select(version: str, route: str, fields: Iterable[str]) -> None:
    """Raise Graph's 400 for a $select field the route's entity type does not have in this API version.

    Graph's OData layer answers `BadRequest` "Parsing OData Select and Expand failed: Could not find a property
    named 'x' on type 'microsoft.graph.y'." (seen in public reports, e.g. microsoftgraph/msgraph-sdk-powershell
    issue 2103); property names compare case-insensitively, as Graph's directory does.
    """
    entity, _ = ENTITY_BY_ROUTE.get(route, ("", False))
    allowed = selectable(version, entity) if entity else None
    if allowed is None:
        return
    for name in fields:
        if name.casefold() not in allowed and not name.startswith("@"):
            raise QueryError("BadRequest", f"Parsing OData Select and Expand failed: Could not find a property "
                                           f"named '{name}' on type 'microsoft.graph.{entity}'.")
