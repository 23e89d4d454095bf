"""render_microsoft_snapshot: the snapshot a complete collection through the simulator would store, without any
network — for `idaudit demo --direct`, the report and check tests, and the 100,000-user benchmark.

It mirrors the Microsoft connector section by section (connectors/microsoft/collectors.py): the same $select,
the same per-user keys (a user without a mailbox maps to null), the same groups (those referenced by Conditional
Access and role assignments, then PIM-eligible groups), and the same fallbacks without P1 / P2.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from idaudit.core.logwindow import (
    DEFAULT_LOOKBACK_DAYS,
    DIRECTORY_AUDIT_CATEGORIES,
    PURVIEW_OPERATIONS,
    PURVIEW_RECORD_TYPES,
    LogWindow,
    iso_z,
)
from idaudit.core.sections import MICROSOFT_SECTIONS
from idaudit.core.signin_aggregate import aggregate_sign_ins
from idaudit.core.snapshot import SectionStatus, SnapshotWriter
from simulator.email_zone import email_zone, render_email_auth
from simulator.microsoft.auth_methods import for_version
from simulator.microsoft.logs import MicrosoftLogs, parse_time
from simulator.microsoft.models import MicrosoftTenant, select
from simulator.org import Organisation

USER_SELECT = ("id", "userPrincipalName", "mail", "displayName", "accountEnabled", "userType", "createdDateTime",
               "onPremisesSyncEnabled", "assignedLicenses")
SP_SELECT = ("id", "appId", "appDisplayName", "displayName", "verifiedPublisher",
             "appOwnerOrganizationId", "servicePrincipalType", "accountEnabled", "appRoles")

FOLDER_SELECT = ("id", "displayName", "parentFolderId", "isHidden", "wellKnownName")
WINDOWED = frozenset({"directoryAudits", "signIns", "riskDetections", "exchangeAuditRecords"})

SIGN_IN_UNLICENSED = ("403 Authentication_RequestFromNonPremiumTenantOrB2CTenant: Neither tenant is B2C or tenant "
                      "doesn't have premium license")
REPORT_UNLICENSED = ("403 Authentication_RequestFromNonPremiumTenantOrB2CTenant: requires Microsoft Entra ID P1")
PIM_UNLICENSED = ("400 AadPremiumLicenseRequired: The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra "
                  "ID Governance license.")


def _no_context(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "@odata.context"}


def referenced_groups(tenant: MicrosoftTenant) -> list[str]:
    """Groups an audit must resolve, in the connector's order: CA include/exclude, role holders, PIM-eligible."""
    out: list[str] = []
    for pol in tenant.conditional_access_policies:
        users = pol["conditions"]["users"]
        for gid in [*users["includeGroups"], *users["excludeGroups"]]:
            if gid not in out:
                out.append(gid)
    for ra in tenant.role_assignments:
        if ra["principal"]["@odata.type"] == "#microsoft.graph.group" and ra["principalId"] not in out:
            out.append(ra["principalId"])
    if tenant.p2:
        for el in tenant.role_eligibilities:
            if el["principalId"] in tenant.groups and el["principalId"] not in out:
                out.append(el["principalId"])
    return out


def render_sections(tenant: MicrosoftTenant) -> dict[str, tuple[SectionStatus, Any, str]]:
    """Section name -> (status, data, detail) exactly as the connector would record them."""
    ok = SectionStatus.OK
    out: dict[str, tuple[SectionStatus, Any, str]] = {}
    user_ids = [u["id"] for u in tenant.users]
    out["organization"] = (ok, tenant.organization, "")
    out["domains"] = (ok, tenant.domains, "")
    out["subscribedSkus"] = (ok, tenant.subscribed_skus, "")
    if tenant.p1:
        users = [select(u, (*USER_SELECT, "signInActivity")) for u in tenant.users]
        out["users"] = (ok, users, "")
        out["signInActivity"] = (ok, {"embeddedIn": "users", "field": "signInActivity"},
                                 "data embedded in users.json (signInActivity of each user)")
        out["userRegistrationDetails"] = (ok, tenant.registration_details, "")
    else:
        out["users"] = (ok, [select(u, USER_SELECT) for u in tenant.users], "")
        out["signInActivity"] = (SectionStatus.UNLICENSED, None, SIGN_IN_UNLICENSED)
        out["userRegistrationDetails"] = (SectionStatus.UNLICENSED, None, REPORT_UNLICENSED)
        out["authenticationMethods"] = (ok, {uid: for_version(tenant.authentication_methods(uid) or [], "v1.0")
                                             for uid in user_ids}, "")
    out["perUserMfaState"] = (ok, {uid: tenant.per_user_mfa(uid) for uid in user_ids}, "")
    out["securityDefaults"] = (ok, _no_context(tenant.security_defaults), "")
    if tenant.p1:
        out["conditionalAccessPolicies"] = (ok, tenant.conditional_access_policies, "")
    else:
        out["conditionalAccessPolicies"] = (SectionStatus.UNLICENSED, None, REPORT_UNLICENSED)
    out["authorizationPolicy"] = (ok, _no_context(tenant.authorization_policy), "")
    out["authenticationMethodsPolicy"] = (ok, _no_context(tenant.authentication_methods_policy), "")
    out["roleDefinitions"] = (ok, tenant.role_definitions, "")
    out["roleAssignments"] = (ok, tenant.role_assignments, "")
    if tenant.p2:
        out["roleEligibilities"] = (ok, tenant.role_eligibilities, "")
    else:
        out["roleEligibilities"] = (SectionStatus.UNLICENSED, None, PIM_UNLICENSED)
    gids = referenced_groups(tenant) if tenant.p1 else [
        ra["principalId"] for ra in tenant.role_assignments if ra["principal"]["@odata.type"] == "#microsoft.graph.group"]
    out["groups"] = (ok, [tenant.groups[g] for g in gids], "")
    out["groupMembers"] = (ok, {g: tenant.transitive_members(g) for g in gids}, "")
    out["inboxRules"] = (ok, {uid: tenant.inbox_rules(uid) for uid in user_ids}, "")
    folders: dict[str, Any] = {}
    for uid in user_ids:
        found = tenant.rule_folders(uid)
        if found is not None:
            folders[uid] = {fid: None if f is None else select(f, FOLDER_SELECT) for fid, f in found.items()}
    out["inboxRuleFolders"] = (ok, folders, "")
    out["mailboxSettings"] = (ok, {uid: tenant.mailbox_settings(uid) for uid in user_ids}, "")
    out["oauth2PermissionGrants"] = (ok, tenant.oauth2_permission_grants, "")
    out["servicePrincipals"] = (ok, [select(sp, SP_SELECT) for sp in tenant.service_principals], "")
    out["appRoleAssignments"] = (ok, tenant.app_role_assigned_to, "")
    out["sharePointAppRoleAssignments"] = (ok, tenant.sharepoint_role_assigned_to, "")
    ex = tenant.exchange
    out["exchange.mailboxes"] = (ok, ex.mailboxes, "")
    out["exchange.remoteDomains"] = (ok, ex.remote_domains, "")
    out["exchange.outboundSpamPolicies"] = (ok, ex.outbound_spam_policies, "")
    out["exchange.outboundSpamRules"] = (ok, ex.outbound_spam_rules, "")
    out["exchange.transportRules"] = (ok, ex.transport_rules, "")
    out["exchange.recipients"] = (ok, ex.recipients_of({"RecipientTypeDetails": ["MailContact", "MailUser",
                                                                                  "GuestMailUser"]}), "")
    cmdlets = ex.security.cmdlets()
    for name, cmdlet in MAIL_SECURITY_SECTIONS:
        if cmdlet in cmdlets:
            out[name] = (ok, cmdlets[cmdlet](), "")
        else:
            out[name] = (SectionStatus.UNLICENSED, None, f"400 BadRequest: The term '{cmdlet}' is not recognized "
                                                         "as a cmdlet available through this endpoint.")
    domains = [d["DomainName"] for d in ex.security.accepted_domains
               if not d["DomainName"].casefold().endswith(".onmicrosoft.com")]
    out["dns.emailAuth"] = (ok, render_email_auth(email_zone(tenant.org, "microsoft"), domains,
                                                  source="exchange.acceptedDomains"), "")
    return out


IDP_FORBIDDEN = ("HTTP 403 Forbidden: Forbidden — grant {perm} (and {licence}); Identity Protection answers 403 "
                 "both without the permission and without the licence")
AUDIT_FORBIDDEN = ("HTTP 403 Forbidden: Audit log search is not available for this tenant: Microsoft Purview Audit is "
                   "not licensed or auditing is turned off.")


def _in(window: LogWindow, when: str) -> bool:
    return window.start <= parse_time(when) <= window.end


def render_log_sections(tenant: MicrosoftTenant, window: LogWindow) -> dict[str, tuple[SectionStatus, Any, str]]:
    """The log sections exactly as connectors/microsoft/logs.py stores them for `window`."""
    ok = SectionStatus.OK
    logs = MicrosoftLogs(tenant)
    out: dict[str, tuple[SectionStatus, Any, str]] = {}
    audits, seen = [], set()
    for category in DIRECTORY_AUDIT_CATEGORIES:
        for a in logs.directory_audits:
            if a["category"].casefold() == category.casefold() and _in(window, a["activityDateTime"]) \
                    and a["id"] not in seen:
                seen.add(a["id"])
                audits.append(a)
    out["directoryAudits"] = (ok, audits, "")
    if tenant.p1:
        raw = [s for s in logs.sign_ins if _in(window, s["createdDateTime"]) and s["status"]["errorCode"] == 0]
        agg = aggregate_sign_ins(raw)
        out["signIns"] = (ok, agg, f"{len(raw)} successful interactive sign-ins aggregated per user (countries, "
                                   "addresses, legacy-protocol and single-factor successes); the sign-ins "
                                   "themselves are not stored")
    else:
        out["signIns"] = (SectionStatus.UNLICENSED, None, SIGN_IN_UNLICENSED)
    if tenant.p2:
        out["riskyUsers"] = (ok, logs.risky_users, "")
    else:
        out["riskyUsers"] = (SectionStatus.FORBIDDEN, None, IDP_FORBIDDEN.format(
            perm="IdentityRiskyUser.Read.All (application)", licence="Microsoft Entra ID P2"))
    if tenant.p1:
        out["riskDetections"] = (ok, [d for d in logs.risk_detections if _in(window, d["activityDateTime"])], "")
    else:
        out["riskDetections"] = (SectionStatus.FORBIDDEN, None, IDP_FORBIDDEN.format(
            perm="IdentityRiskEvent.Read.All (application)", licence="Microsoft Entra ID P1"))
    if tenant.audit:
        query = {"filterStartDateTime": iso_z(window.start), "filterEndDateTime": iso_z(window.end),
                 "recordTypeFilters": list(PURVIEW_RECORD_TYPES), "operationFilters": list(PURVIEW_OPERATIONS)}
        out["exchangeAuditRecords"] = (ok, logs.purview_matching(query), "")
    else:
        out["exchangeAuditRecords"] = (SectionStatus.FORBIDDEN, None, AUDIT_FORBIDDEN)
    return out


MAIL_SECURITY_SECTIONS = (
    ("exchange.acceptedDomains", "Get-AcceptedDomain"), ("exchange.dkimSigningConfig", "Get-DkimSigningConfig"),
    ("exchange.antiPhishPolicies", "Get-AntiPhishPolicy"), ("exchange.antiPhishRules", "Get-AntiPhishRule"),
    ("exchange.safeLinksPolicies", "Get-SafeLinksPolicy"), ("exchange.safeLinksRules", "Get-SafeLinksRule"),
    ("exchange.safeAttachmentPolicies", "Get-SafeAttachmentPolicy"),
    ("exchange.safeAttachmentRules", "Get-SafeAttachmentRule"),
    ("exchange.malwareFilterPolicies", "Get-MalwareFilterPolicy"),
    ("exchange.contentFilterPolicies", "Get-HostedContentFilterPolicy"),
    ("exchange.connectionFilterPolicies", "Get-HostedConnectionFilterPolicy"),
    ("exchange.externalInOutlook", "Get-ExternalInOutlook"),
    ("exchange.adminAuditLogConfig", "Get-AdminAuditLogConfig"),
    ("exchange.organizationConfig", "Get-OrganizationConfig"),
    ("exchange.mailboxAuditBypass", "Get-MailboxAuditBypassAssociation"),
)


def render_microsoft_snapshot(org: Organisation, out_dir: str | Path, *, collected_at: datetime | None = None,
                              licences: Mapping[str, bool] | None = None,
                              lookback_days: int = DEFAULT_LOOKBACK_DAYS,
                              log_window_end: datetime | None = None) -> Path:
    """Write the snapshot of `org` to `out_dir` (created; owner-only) and return its path.

    The logs cover `lookback_days` up to `log_window_end` (default: the organisation's `as_of`, where its
    activity ends)."""
    tenant = MicrosoftTenant(org, licences)
    window = LogWindow.ending(log_window_end or org.as_of, lookback_days)
    requests = {s.name: s.request for s in MICROSOFT_SECTIONS}
    shapes = {s.name: s.shape for s in MICROSOFT_SECTIONS}
    writer = SnapshotWriter(out_dir, "microsoft", org.tenant_id, org.name, source="simulator (rendered directly)",
                            collected_at=collected_at)
    sections = {**render_sections(tenant), **render_log_sections(tenant, window)}
    for name, (status, data, detail) in sections.items():
        if status is SectionStatus.OK:
            if name == "signInActivity":
                count = sum(1 for u in tenant.users if u.get("signInActivity"))
            elif shapes.get(name) == "object":
                count = 1
            else:
                count = len(data)
            span = (window.start, window.end) if name in WINDOWED else None
            writer.add(name, data, count=count, request=requests.get(name, ""), detail=detail, window=span)
        else:
            writer.fail(name, status, detail, request=requests.get(name, ""))
    writer.finish(complete=True)
    return Path(out_dir)
