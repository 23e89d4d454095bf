"""Routes of the Microsoft simulator: login (identity platform), Graph (v1.0 and beta) and Exchange admin REST.

Each Graph route states the application permissions that satisfy it (any one), its throttling class, the licence
it needs and its directory resource-unit cost (see graph_throttle.py).
"""

from __future__ import annotations

from simulator.microsoft.exchange_responses import ExchangeApi
from simulator.microsoft.graph_wire import Endpoint
from simulator.microsoft.identity import IdentityPlatform
from simulator.microsoft.log_responses import LogApi
from simulator.microsoft.responses import GraphApi
from simulator.server import Router

V = r"/(?:v1\.0|beta)"
ID = r"(?P<id>[^/]+)"
USERS = ("User.Read.All", "User.ReadBasic.All", "Directory.Read.All")
ORG = ("Organization.Read.All", "Directory.Read.All")
POLICY = ("Policy.Read.All",)
ROLES = ("RoleManagement.Read.Directory", "RoleManagement.Read.All", "Directory.Read.All")
GROUPS = ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All")
MAIL = ("MailboxSettings.Read", "MailboxSettings.ReadWrite")
MAIL_FOLDERS = ("Mail.ReadBasic.All", "Mail.Read", "Mail.ReadWrite")
APPS = ("Application.Read.All", "Directory.Read.All")
AUDIT_LOG = ("AuditLog.Read.All",)
RISKY_USERS = ("IdentityRiskyUser.Read.All", "IdentityRiskyUser.ReadWrite.All")
RISK_EVENTS = ("IdentityRiskEvent.Read.All", "IdentityRiskEvent.ReadWrite.All")
# Create/read an audit log query: the service-scoped permission for Exchange records, or the all-logs one.
AUDIT_QUERY = ("AuditLogsQuery-Exchange.Read.All", "AuditLogsQuery.Read.All")


def graph_routes(api: GraphApi, logs: LogApi | None = None) -> Router:
    r = Router()

    def get(path: str, handler, ep: Endpoint, name: str) -> None:  # type: ignore[no-untyped-def]
        r.add("GET", V + path, api.serve(ep, handler, name), name)

    def directory(perms: tuple[str, ...], cost: int = 1, licence: str = "") -> Endpoint:
        return Endpoint(perms, "directory", licence=licence, cost=cost)

    get("/organization", api.organization, directory(ORG), "organization")
    get("/domains", api.domains, directory(("Domain.Read.All", "Directory.Read.All")), "domains")
    get("/subscribedSkus", api.subscribed_skus, directory(ORG), "subscribedSkus")
    get("/users", api.users, directory(USERS, cost=2), "users")
    get(f"/users/{ID}", api.user, directory(USERS), "user")
    get("/reports/authenticationMethods/userRegistrationDetails", api.registration_details,
        Endpoint(("AuditLog.Read.All",), "reports", licence="p1"), "userRegistrationDetails")
    get(f"/users/{ID}/authentication/methods", api.methods,
        directory(("UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All")),
        "authenticationMethods")
    get(f"/users/{ID}/authentication/requirements", api.requirements, directory(POLICY), "perUserMfaState")
    get("/policies/identitySecurityDefaultsEnforcementPolicy", api.security_defaults, directory(POLICY),
        "securityDefaults")
    get("/identity/conditionalAccess/policies", api.conditional_access,
        Endpoint(POLICY, "conditional_access", licence="p1"), "conditionalAccessPolicies")
    get("/policies/authorizationPolicy", api.authorization_policy, directory(POLICY), "authorizationPolicy")
    get("/policies/authenticationMethodsPolicy", api.methods_policy,
        directory(("Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod")),
        "authenticationMethodsPolicy")
    get("/roleManagement/directory/roleDefinitions", api.role_definitions, directory(ROLES), "roleDefinitions")
    get("/roleManagement/directory/roleAssignments", api.role_assignments, directory(ROLES), "roleAssignments")
    get("/roleManagement/directory/roleEligibilityScheduleInstances", api.role_eligibilities,
        directory((*ROLES, "RoleEligibilitySchedule.Read.Directory"), licence="p2"), "roleEligibilities")
    get("/groups", api.groups, directory(GROUPS, cost=2), "groups")
    get(f"/groups/{ID}", api.group, directory(GROUPS), "group")
    get(f"/groups/{ID}/transitiveMembers", api.transitive_members, directory(GROUPS), "groupMembers")
    get(f"/users/{ID}/mailFolders/(?i:inbox)/messageRules", api.message_rules,
        Endpoint(MAIL, "outlook", mail=True), "inboxRules")
    # Mail.ReadBasic.All is the least privileged application permission (Graph reference: Get mailFolder)
    get(f"/users/{ID}/mailFolders/(?P<folder>[^/]+)", api.mail_folder, Endpoint(MAIL_FOLDERS, "outlook", mail=True),
        "inboxRuleFolders")
    get(f"/users/{ID}/mailboxSettings", api.mailbox_settings, Endpoint(MAIL, "outlook", mail=True),
        "mailboxSettings")
    get("/oauth2PermissionGrants", api.grants,
        directory(("Directory.Read.All", "DelegatedPermissionGrant.Read.All")), "oauth2PermissionGrants")
    get("/servicePrincipals", api.service_principals, directory(APPS, cost=2), "servicePrincipals")
    get(f"/servicePrincipals/{ID}", api.service_principal, directory(APPS), "servicePrincipal")
    get(f"/servicePrincipals/{ID}/appRoleAssignedTo", api.app_role_assigned_to, directory(APPS),
        "appRoleAssignments")
    if logs is not None:
        _log_routes(r, api, logs)
    r.add("POST", V + r"/\$batch", api.batch, "batch")
    return r


def _log_routes(r: Router, api: GraphApi, logs: LogApi) -> None:
    """Sign-in and audit logs (identity and access reports class: 5 per 10 s), Identity Protection (1 per second
    per tenant with Conditional Access, no Retry-After), the Purview audit log query (submissions paced per
    tenant; see graph_throttle.py)."""
    def get(path: str, handler, ep: Endpoint, name: str) -> None:  # type: ignore[no-untyped-def]
        r.add("GET", V + path, api.serve(ep, handler), name)

    get("/auditLogs/directoryAudits", logs.directory_audits, Endpoint(AUDIT_LOG, "reports"), "directoryAudits")
    get("/auditLogs/signIns", logs.sign_ins, Endpoint(AUDIT_LOG, "reports", licence="p1"), "signIns")
    get("/identityProtection/riskyUsers", logs.risky_users,
        Endpoint(RISKY_USERS, "conditional_access", licence="p2_plain"), "riskyUsers")
    get("/identityProtection/riskDetections", logs.risk_detections,
        Endpoint(RISK_EVENTS, "conditional_access", licence="p1_plain"), "riskDetections")
    ep_q = Endpoint(AUDIT_QUERY, "audit_query", licence="audit")
    r.add("POST", V + "/security/auditLog/queries", api.serve(ep_q, logs.create_query), "auditQuery")
    get(f"/security/auditLog/queries/{ID}", logs.read_query, Endpoint(AUDIT_QUERY, "none", licence="audit"),
        "auditQueryStatus")
    get(f"/security/auditLog/queries/{ID}/records", logs.query_records,
        Endpoint(AUDIT_QUERY, "none", licence="audit"), "exchangeAuditRecords")


def login_routes(identity: IdentityPlatform) -> Router:
    r = Router()
    t = r"/(?P<tenant>[^/]+)"
    r.add("GET", t + r"/v2\.0/\.well-known/openid-configuration",
          lambda req, m: identity.openid_configuration(req, m["tenant"]), "openid")
    r.add("POST", t + r"/oauth2/v2\.0/token", lambda req, m: identity.token(req, m["tenant"]), "token")
    r.add("POST", t + r"/oauth2/v2\.0/devicecode", lambda req, m: identity.devicecode(req, m["tenant"]),
          "devicecode")
    return r


def exchange_routes(api: ExchangeApi) -> Router:
    r = Router()
    r.add("POST", r"/adminapi/beta/(?P<tenant>[^/]+)/InvokeCommand", api.invoke, "exchange")
    return r
