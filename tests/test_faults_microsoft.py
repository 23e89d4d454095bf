"""The Microsoft fault matrix (issue 9): each case injects one fault into one section through the simulator's
FaultPlan, runs the real connector (msal + the msgraph-sdk adapter over loopback TLS) for the whole tenant, and
asserts the outcome the case names — and, when data is lost, that the audit holds every dependent check `unknown`
(never `pass`) with a reason naming the section, and (for a representative subset) that the workbook's Coverage
sheet names the section and its fix. docs/reliability.md is generated from CASES (tests/fault_matrix.py).

Which checks depend on a section is derived, not hand-listed: the section -> tables map below is checked against
the `sections` each table's status records in a fault-free normalisation, the section -> tenant-setting map against
the setting gaps of a faulted one, and the checks come from their metadata (`requires`, `uses_settings`).

One simulator serves the module (faults cleared between cases); the whole tenant (24 users) is collected each
time, so the faulted section is the only thing missing and a `pass` elsewhere cannot hide a lost one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from connectors.email_dns import DnsOptions
from connectors.microsoft.collect import collect_microsoft
from connectors.microsoft.collectors import ALL_SECTIONS_IN_ORDER
from idaudit.core.model import Provider
from idaudit.core.snapshot import Snapshot, load_snapshot
from idaudit.orchestration.pipeline import audit_snapshot
from simulator.microsoft.snapshot import MAIL_SECURITY_SECTIONS
from tests import fault_kit as kit
from tests.conftest_ms import SCALE, options_for
from tests.fault_kit import Inject
from tests.fault_matrix import FaultCase, Outcome

simulator = pytest.importorskip("simulator")

NON_PREMIUM = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
DENIED = ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
P1, P2 = "Microsoft Entra ID P1", "Microsoft Entra ID P2"
EXO_PERMISSION = "Exchange.ManageAsApp"
TIMEOUT = 1.5          # the connector's read timeout in the timeout cases (MicrosoftOptions.timeout)
SLOW = TIMEOUT + 0.5   # how long the simulator stalls a request in those cases
REGISTRATION_UNLICENSED: dict[str, Any] = {
    "kind": "status", "path": r"userRegistrationDetails", "method": "GET", "status": 403, "code": NON_PREMIUM,
    "message": "the tenant has no premium licence", "times": None, "target": "outer"}

# Section -> the normalised tables built from it (checked against the normaliser by
# test_section_tables_match_the_normaliser; tenant_settings is tracked per key in SECTION_SETTINGS).
SECTION_TABLES: dict[str, tuple[str, ...]] = {
    "users": ("users", "mfa_enforcement"),
    "signInActivity": ("users",),
    "userRegistrationDetails": ("mfa_methods", "mfa_registration"),
    "securityDefaults": ("mfa_enforcement",),
    "conditionalAccessPolicies": ("conditional_access", "mfa_enforcement"),
    "perUserMfaState": ("mfa_enforcement",),
    "roleDefinitions": ("role_assignments",),
    "roleAssignments": ("mfa_enforcement", "role_assignments"),
    "roleEligibilities": ("role_assignments",),
    "groupMembers": ("mfa_enforcement", "role_assignments"),
    "inboxRules": ("forwarding", "mail_rules"),
    "mailboxSettings": ("mail_rules",),
    "oauth2PermissionGrants": ("oauth_grants",),
    "servicePrincipals": ("oauth_grants",),
    "inboxRuleFolders": ("mail_rules",),
    "appRoleAssignments": ("oauth_grants",),
    "sharePointAppRoleAssignments": ("oauth_grants",),
    "domains": ("domains",),
    "exchange.mailboxes": ("auto_forward_senders", "forwarding"),
    "exchange.transportRules": ("forwarding",),
    "signIns": ("sign_in_countries", "sign_in_summary"),
    "directoryAudits": ("change_events",),
    "exchangeAuditRecords": ("change_events",),
    "riskyUsers": ("risky_users",),
    "riskDetections": ("risk_detections",),
    "exchange.recipients": ("forwarding",),
    "exchange.outboundSpamPolicies": ("auto_forward_senders",),
    "exchange.outboundSpamRules": ("auto_forward_senders",),
    "exchange.remoteDomains": ("remote_domains",),
    # email security and detection (issue 17)
    "dns.emailAuth": ("mail_domains",),
    "exchange.dkimSigningConfig": ("mail_domains",),
    **{s: ("mail_protections",) for s in (
        "exchange.antiPhishPolicies", "exchange.antiPhishRules", "exchange.safeLinksPolicies",
        "exchange.safeLinksRules", "exchange.safeAttachmentPolicies", "exchange.safeAttachmentRules",
        "exchange.malwareFilterPolicies", "exchange.contentFilterPolicies", "exchange.connectionFilterPolicies")},
}
# Section -> tenant_settings keys read from it (idaudit/core/normalise/ms_settings.py), checked by the faulted runs.
SECTION_SETTINGS: dict[str, tuple[str, ...]] = {
    "securityDefaults": ("security_defaults_enabled",),
    "authorizationPolicy": ("user_consent", "guest_invites_from", "guest_user_role"),
    "authenticationMethodsPolicy": ("sms_sign_in_enabled", "voice_enabled", "email_otp_enabled"),
    "conditionalAccessPolicies": ("legacy_auth_blocked",),
    "exchange.outboundSpamPolicies": ("external_auto_forwarding", "external_auto_forwarding_exceptions"),
    "exchange.outboundSpamRules": ("external_auto_forwarding_exceptions",),
    "exchange.remoteDomains": ("remote_domain_default_auto_forward",),
    "exchange.adminAuditLogConfig": ("unified_audit_log_ingestion",),
    "exchange.organizationConfig": ("mailbox_audit_disabled",),
    "exchange.mailboxAuditBypass": ("mailbox_audit_bypass",),
    "exchange.externalInOutlook": ("external_in_outlook",),
    "exchange.transportRules": ("external_tag_transport_rules",),
}


# A section whose loss the connector makes good from another source (no check loses data).
FALLBACK_SOURCES = {"userRegistrationDetails": "authenticationMethods"}
# ... and the tables that fallback source then feeds (the rendered snapshot has no such section).
FALLBACK_TABLES = {"authenticationMethods": ("mfa_methods", "mfa_registration")}
# Sections whose loss can only make results stricter, never hide anything: no check is held unknown.
CONSERVATIVE = {
    "roleDefinitions": "the demo's roles are all on the built-in fallback list; a role outside it would be held "
                       "unknown, never dropped",
    "exchange.acceptedDomains": "the DNS lookups fall back to Graph's verified Email domains, and a policy rule "
                                "limited to domains then covers an unknown set of people, never 'everyone'",
    "mailboxSettings": "mailbox purpose and archive folder only label rules; the rules are all there",
}
# A section whose loss takes another with it: the connector reads the members only of groups it could read.
ALSO_LOST = {"groups": "groupMembers"}
# How a check's evidence names a section when it does not use the section's own name.
NAMED_AS = {"signInActivity": "sign-in", "groups": "groupMembers"}


def dependent_checks(section: str) -> tuple[str, ...]:
    """Microsoft checks that read a table or a tenant setting built from `section` (from check metadata)."""
    if section in FALLBACK_SOURCES or section in CONSERVATIVE:
        return ()
    section = ALSO_LOST.get(section, section)
    tables = set(SECTION_TABLES.get(section, FALLBACK_TABLES.get(section, ())))
    keys = set(SECTION_SETTINGS.get(section, ()))
    return kit.checks_reading(Provider.MICROSOFT, tables, lambda uses: bool(keys & set(uses)))


@dataclass(frozen=True)
class MsCase:
    case: FaultCase
    inject: tuple[Inject, ...]
    detail: str = ""                 # text the section's detail (or the victim's failed-subject reason) contains
    timeout: float | None = None     # connector read timeout for this case
    workbook: bool = False           # also write the workbook and read the Coverage sheet back
    check_audit: bool = True         # data-loss outcomes: run the audit and hold the dependent checks
    queries: tuple[tuple[str, Any], ...] = ()   # the simulator's audit log query knobs (stuck, fail, ...)
    options: tuple[tuple[str, Any], ...] = ()   # further connector options for this case


# Where each section's requests go (regex on path + query, as the simulator matches them).
OUTER = {
    "users": r"/v1\.0/users\?",
    "signInActivity": r"/v1\.0/users\?.*signInActivity",
    "userRegistrationDetails": r"userRegistrationDetails",
    "conditionalAccessPolicies": r"conditionalAccess/policies",
    "roleDefinitions": r"roleManagement/directory/roleDefinitions",
    "roleAssignments": r"roleManagement/directory/roleAssignments",
    "roleEligibilities": r"roleEligibilityScheduleInstances",
    "oauth2PermissionGrants": r"/v1\.0/oauth2PermissionGrants",
    "servicePrincipals": r"/v1\.0/servicePrincipals\?",
    "securityDefaults": r"identitySecurityDefaultsEnforcementPolicy",
    "authorizationPolicy": r"policies/authorizationPolicy",
    "authenticationMethodsPolicy": r"policies/authenticationMethodsPolicy",
    "domains": r"/v1\.0/domains",
    "organization": r"/v1\.0/organization",
    "subscribedSkus": r"/v1\.0/subscribedSkus",
    "directoryAudits": r"/auditLogs/directoryAudits",
    "signIns": r"/auditLogs/signIns",
    "riskyUsers": r"/identityProtection/riskyUsers",
    "riskDetections": r"/identityProtection/riskDetections",
    "exchangeAuditRecords": r"/security/auditLog/queries$",
    # a plain GET (Graph and Exchange's appRoleAssignedTo go inside $batch): target "outer" hits only SharePoint's
    "sharePointAppRoleAssignments": r"/v1\.0/servicePrincipals/[^/?]+/appRoleAssignedTo",
}
METHOD = {"exchangeAuditRecords": "POST"}  # the audit log query is created by a POST
INNER = {
    "authenticationMethods": r"/authentication/methods",
    "perUserMfaState": r"/authentication/requirements",
    "inboxRules": r"/messageRules",
    "mailboxSettings": r"/mailboxSettings",
    "appRoleAssignments": r"/appRoleAssignedTo",
    "groups": r"/groups/[^/?]+$",
    "groupMembers": r"/transitiveMembers",
    "inboxRuleFolders": r"/mailFolders/[^/?]+\?\$select",
}
PERMISSION = {  # the permission the Coverage sheet / detail must name
    "users": "User.Read.All", "signInActivity": "AuditLog.Read.All", "userRegistrationDetails": "AuditLog.Read.All",
    "authenticationMethods": "UserAuthenticationMethod.Read.All", "perUserMfaState": "Policy.Read.All",
    "conditionalAccessPolicies": "Policy.Read.All", "roleDefinitions": "RoleManagement.Read.Directory",
    "roleAssignments": "RoleManagement.Read.Directory", "roleEligibilities": "RoleManagement.Read.Directory",
    "inboxRules": "MailboxSettings.Read", "mailboxSettings": "MailboxSettings.Read",
    "oauth2PermissionGrants": "Directory.Read.All", "servicePrincipals": "Application.Read.All",
    "appRoleAssignments": "Application.Read.All", "sharePointAppRoleAssignments": "Application.Read.All",
    "securityDefaults": "Policy.Read.All",
    "authorizationPolicy": "Policy.Read.All", "authenticationMethodsPolicy": "Policy.Read.AuthenticationMethod",
    "organization": "Organization.Read.All", "subscribedSkus": "Organization.Read.All",
    "groups": "GroupMember.Read.All", "groupMembers": "GroupMember.Read.All", "inboxRuleFolders": "Mail.ReadBasic.All",
    "directoryAudits": "AuditLog.Read.All", "signIns": "AuditLog.Read.All",
    "riskyUsers": "IdentityRiskyUser.Read.All", "riskDetections": "IdentityRiskEvent.Read.All",
    "exchangeAuditRecords": "AuditLogsQuery-Exchange.Read.All",
}
EXCHANGE = ("exchange.mailboxes", "exchange.remoteDomains", "exchange.outboundSpamPolicies",
            "exchange.outboundSpamRules", "exchange.transportRules", "exchange.recipients")


def _case(section: str, fault: str, expected: Outcome, inject: Inject | tuple[Inject, ...], note: str,
          lossless: str = "", **kw: Any) -> MsCase:
    """`lossless`: why this loss hides nothing (then no check is held unknown, only never-invented passes)."""
    losing = expected not in (Outcome.RECOVERED, Outcome.FALLBACK)
    lossless = lossless or (CONSERVATIVE.get(section, "") if losing else "")
    if section in FALLBACK_SOURCES and losing:
        lossless = f"{FALLBACK_SOURCES[section]} read per user instead"
    checks = dependent_checks(section) if losing and not lossless else ()
    note = f"{note}; nothing held unknown: {lossless}" if lossless else note
    return MsCase(FaultCase("microsoft", section, fault, expected, checks, note),
                  inject if isinstance(inject, tuple) else (inject,), **kw)


def _outer(section: str, kind: str, **kw: Any) -> Inject:
    return Inject(kind, OUTER[section], target="outer", method=METHOD.get(section, "GET"), **kw)


def _inner(section: str, kind: str, **kw: Any) -> Inject:
    return Inject(kind, INNER[section], method=None, target="inner", **kw)


CMDLETS = {"exchange.mailboxes": "Get-Mailbox", "exchange.remoteDomains": "Get-RemoteDomain",
           "exchange.outboundSpamPolicies": "Get-HostedOutboundSpamFilterPolicy",
           "exchange.outboundSpamRules": "Get-HostedOutboundSpamFilterRule",
           "exchange.transportRules": "Get-TransportRule", "exchange.recipients": "Get-Recipient",
           **dict(MAIL_SECURITY_SECTIONS)}
DEFENDER_SECTIONS = ("exchange.safeLinksPolicies", "exchange.safeLinksRules", "exchange.safeAttachmentPolicies",
                     "exchange.safeAttachmentRules")
DEFENDER = "Microsoft Defender for Office 365 Plan 1"
DNS_TIMEOUT = 1.0  # the connector's DNS timeout in the DNS cases (DnsOptions.timeout)


def _exo(section: str, kind: str, **kw: Any) -> Inject:
    """Only this section's cmdlet: every cmdlet is a POST to the same InvokeCommand URL."""
    return Inject(kind, r"InvokeCommand", method="POST", body_match=f'"{CMDLETS[section]}"', **kw)


def _forbidden(section: str) -> MsCase:
    perm = PERMISSION[section]
    inj = (_inner(section, "status", status=403, code=DENIED[0], message=DENIED[1], times=None)
           if section in INNER else
           _outer(section, "status", status=403, code=DENIED[0], message=DENIED[1], times=None))
    return _case(section, "403 missing permission", Outcome.SECTION_FORBIDDEN, inj, f"detail and Coverage name {perm}",
                 detail=perm)


def _unlicensed(section: str, licence: str, status: int = 403, code: str = NON_PREMIUM, lossless: str = "") -> MsCase:
    return _case(section, "403 missing licence" if status == 403 else f"{status} missing licence",
                 Outcome.SECTION_UNLICENSED, _outer(section, "status", status=status, code=code,
                                                    message="the tenant has no premium licence", times=None),
                 f"detail and Coverage name {licence}", lossless=lossless, detail=licence)


def _build_cases() -> tuple[MsCase, ...]:
    c: list[MsCase] = []
    rec, err, subj = Outcome.RECOVERED, Outcome.SECTION_ERROR, Outcome.FAILED_SUBJECTS
    # --- throttling and server errors -------------------------------------------------------------------------
    for s in ("users", "conditionalAccessPolicies", "servicePrincipals", "securityDefaults"):
        c.append(_case(s, "429 with Retry-After", rec, _outer(s, "status", status=429, retry_after=1, times=2),
                       "RetryHandler waited the Retry-After and resent"))
    for s in ("userRegistrationDetails", "roleAssignments", "authorizationPolicy"):
        c.append(_case(s, "429 without Retry-After", rec, _outer(s, "status", status=429, times=2),
                       "RetryHandler backed off exponentially and resent"))
    c.append(_case("oauth2PermissionGrants", "429 every time", err,
                   _outer("oauth2PermissionGrants", "status", status=429, retry_after=0, times=None),
                   "gave up after the RetryHandler's retries; HTTP 429 in the detail", detail="429"))
    for status in (503, 504):
        c.append(_case("roleDefinitions", f"{status} once", rec, _outer("roleDefinitions", "status", status=status),
                       "retried by the RetryHandler"))
        c.append(_case("authenticationMethodsPolicy", f"{status} every time", err,
                       _outer("authenticationMethodsPolicy", "status", status=status, retry_after=0, times=None),
                       f"retries exhausted; HTTP {status} in the detail", detail=str(status)))
    for status in (500, 502):
        c.append(_case("roleEligibilities", f"{status} every time", err,
                       _outer("roleEligibilities", "status", status=status, times=None),
                       f"HTTP {status} in the detail", detail=str(status)))
        c.append(_case("domains", f"{status} once", rec, _outer("domains", "status", status=status),
                       "a one-off server error is retried"))
    c.append(_case("organization", "503 every time", err,
                   _outer("organization", "status", status=503, retry_after=0, times=None),
                   "retries exhausted; HTTP 503 in the detail; no check reads it (the tenant's name only)",
                   detail="503"))
    # --- $batch: the outer POST and the inner requests --------------------------------------------------------
    c.append(_case("mailboxSettings", "outer $batch 429 with Retry-After", rec,
                   Inject("status", r"/\$batch", method="POST", status=429, retry_after=1, times=2, target="outer"),
                   "the whole $batch POST is resent by the RetryHandler"))
    c.append(_case("perUserMfaState", "outer $batch 503 every time", err,
                   Inject("status", r"/beta/\$batch", method="POST", status=503, retry_after=0, times=None,
                          target="outer"), "every user failed: section error, not an empty list", detail="503"))
    for s in ("inboxRules", "authenticationMethods", "appRoleAssignments", "groupMembers", "inboxRuleFolders"):
        c.append(_case(s, "inner 429 with Retry-After", rec, _inner(s, "status", status=429, retry_after=1, times=4),
                       "inner 429s are retried after their own Retry-After (Graph answers the $batch 200)"))
    c.append(_case("mailboxSettings", "inner 429 without Retry-After", rec,
                   _inner("mailboxSettings", "status", status=429, times=5), "scaled exponential back-off"))
    c.append(_case("inboxRules", "inner 503 once each", rec, _inner("inboxRules", "status", status=503, times=8),
                   "inner 503s retried"))
    c.append(_case("perUserMfaState", "inner 429 every time", err,
                   _inner("perUserMfaState", "status", status=429, retry_after=0, times=None),
                   "after 6 inner retries every user failed: section error", detail="429"))
    for s in ("inboxRules", "mailboxSettings", "authenticationMethods", "perUserMfaState"):
        c.append(_case(s, "inner 500 for one user", subj,
                       Inject("status", r"/users/{victim}(/.*)?" + INNER[s], method=None, status=500, times=None,
                              target="inner"),
                       "the rest of the tenant is collected; that user is a failed subject", detail="500",
                       workbook=s == "inboxRules",
                       lossless="a CA policy already requires MFA of this user, so per-user MFA decides nothing"
                       if s == "perUserMfaState" else ""))
    c.append(_case("inboxRules", "inner 403 for one user", subj,
                   Inject("status", r"/users/{victim}/mailFolders", method=None, status=403, code=DENIED[0],
                          message=DENIED[1], times=None, target="inner"),
                   "a mailbox the app may not read (e.g. an application access policy): failed subject",
                   detail="forbidden"))
    c.append(_case("appRoleAssignments", "inner 500 every time", err,
                   _inner("appRoleAssignments", "status", status=500, times=None),
                   "no resource's assignments readable: section error", detail="500"))
    # --- timeouts, cut connections, bad bodies ----------------------------------------------------------------
    for s in ("oauth2PermissionGrants", "securityDefaults"):
        c.append(_case(s, "timeout once", rec, _outer(s, "delay", delay=SLOW), "httpx read timeout; resent",
                       timeout=TIMEOUT))
    c.append(_case("authorizationPolicy", "timeout every time", err,
                   _outer("authorizationPolicy", "delay", delay=SLOW, times=None),
                   "3 attempts timed out: ReadTimeout in the detail", detail="Timeout", timeout=TIMEOUT))
    c.append(_case("inboxRules", "$batch timeout once", rec,
                   Inject("delay", r"/v1\.0/\$batch", method="POST", delay=SLOW, target="outer"),
                   "the $batch POST timed out and was resent", timeout=TIMEOUT))
    for s in ("users", "roleAssignments", "conditionalAccessPolicies"):
        c.append(_case(s, "connection reset mid-body", rec, _outer(s, "reset"), "transport error; resent"))
    c.append(_case("domains", "connection reset every time", err, _outer("domains", "reset", times=None),
                   "no answer after 3 attempts: section error", detail="no answer"))
    c.append(_case("mailboxSettings", "$batch connection reset mid-body", rec,
                   Inject("reset", r"/v1\.0/\$batch", method="POST", target="outer"), "the $batch POST is resent"))
    for s in ("roleDefinitions", "authorizationPolicy"):
        c.append(_case(s, "malformed JSON once", rec, _outer(s, "malformed_json"), "re-read after a bad body"))
    c.append(_case("userRegistrationDetails", "malformed JSON every time", err,
                   _outer("userRegistrationDetails", "malformed_json", times=None),
                   "not valid JSON: section error (then the per-user methods fallback)", detail="JSON"))
    c.append(_case("perUserMfaState", "$batch malformed JSON every time", err,
                   Inject("malformed_json", r"/beta/\$batch", method="POST", times=None, target="outer"),
                   "every user failed: section error", detail="JSON"))
    for s in ("users", "oauth2PermissionGrants"):
        c.append(_case(s, "truncated page once", rec, _outer(s, "truncate_page"), "cut body re-read"))
    c.append(_case("conditionalAccessPolicies", "truncated page every time", err,
                   _outer("conditionalAccessPolicies", "truncate_page", times=None), "section error", detail="JSON"))
    for s in ("users", "servicePrincipals", "roleAssignments"):
        c.append(_case(s, "nextLink that loops", err, _outer(s, "loop_next_link", times=None),
                       "the same nextLink twice: paging stops with an error", detail="nextLink"))
    # --- token expiry -----------------------------------------------------------------------------------------
    for s in ("users", "conditionalAccessPolicies"):
        c.append(_case(s, "token expired mid-run (401)", rec, _outer(s, "expire_token"),
                       "one 401: a fresh token from msal, request resent"))
    c.append(_case("inboxRules", "token expired on $batch (401)", rec,
                   Inject("expire_token", r"/v1\.0/\$batch", method="POST", target="outer"),
                   "fresh token, the $batch POST resent"))
    c.append(_case("exchange.mailboxes", "token expired (401)", rec, _exo("exchange.mailboxes", "expire_token"),
                   "fresh Exchange token, InvokeCommand resent"))
    c.append(_case("securityDefaults", "401 every time", Outcome.SECTION_FORBIDDEN,
                   _outer("securityDefaults", "expire_token", times=None),
                   "refreshed once, still 401: forbidden, not retried forever", detail="Policy.Read.All"))
    # --- Exchange (InvokeCommand) -----------------------------------------------------------------------------
    c.append(_case("exchange.transportRules", "429 with Retry-After", rec, _exo("exchange.transportRules", "status", status=429, retry_after=1),
                   "RetryHandler honoured Retry-After"))
    c.append(_case("exchange.remoteDomains", "503 every time", err,
                   _exo("exchange.remoteDomains", "status", status=503, retry_after=0, times=None), "section error", detail="503"))
    c.append(_case("exchange.outboundSpamPolicies", "500 every time", err, _exo("exchange.outboundSpamPolicies", "status", status=500, times=None),
                   "section error", detail="500"))
    c.append(_case("exchange.mailboxes", "connection reset mid-body", rec, _exo("exchange.mailboxes", "reset"), "resent"))
    c.append(_case("exchange.outboundSpamRules", "malformed JSON every time", err,
                   _exo("exchange.outboundSpamRules", "malformed_json", times=None), "section error", detail="JSON"))
    c.append(_case("exchange.transportRules", "timeout once", rec, _exo("exchange.transportRules", "delay", delay=SLOW), "resent",
                   timeout=TIMEOUT))
    c.append(_case("exchange.mailboxes", "nextLink that loops", err, _exo("exchange.mailboxes", "loop_next_link", times=None),
                   "paging by POST stops on a repeated nextLink", detail="nextLink"))
    c.append(_case("sharePointAppRoleAssignments", "truncated page every time (partial listing)", err,
                   _outer("sharePointAppRoleAssignments", "truncate_page", times=None),
                   "a cut listing is not kept: section error; application permissions incomplete", detail="JSON"))
    c.append(_case("exchange.recipients", "truncated page every time (partial listing)", err,
                   _exo("exchange.recipients", "truncate_page", times=None),
                   "a cut listing is not kept: section error; the ForwardingAddress it would resolve is unknown",
                   detail="JSON"))
    # --- permissions and licences -----------------------------------------------------------------------------
    for s in PERMISSION:
        c.append(_forbidden(s))
    for s in EXCHANGE:
        c.append(_case(s, "403 missing permission", Outcome.SECTION_FORBIDDEN,
                       _exo(s, "status", status=403, code="Forbidden", times=None,
                            message="The role assigned to application isn't supported in this scenario"),
                       f"detail and Coverage name {EXO_PERMISSION}", detail=EXO_PERMISSION,
                       workbook=s == "exchange.mailboxes"))
    c.append(_unlicensed("signInActivity", P1))
    c.append(_unlicensed("conditionalAccessPolicies", P1))
    c.append(_unlicensed("roleEligibilities", P2, status=400, code="AadPremiumLicenseRequired",
                         lossless="without P2 there is no PIM, so no eligible assignment is missing"))
    c.append(replace(_unlicensed("userRegistrationDetails", P1), workbook=True))
    c.extend(_mail_security_cases())
    c.append(_case("authenticationMethods", "registration report unlicensed", Outcome.FALLBACK,
                   _outer("userRegistrationDetails", "status", status=403, code=NON_PREMIUM,
                          message="the tenant has no premium licence", times=None),
                   "without P1 the per-user methods are read instead"))
    c.extend(_log_cases())
    return tuple(_with_workbook(c))


def _mail_security_cases() -> list[MsCase]:
    """Issue 17's sections: every new cmdlet 403 / malformed / timeout, Defender's cmdlets absent without the
    licence, and the DNS lookups (no answer, SERVFAIL, REFUSED, a reply that is not DNS)."""
    c: list[MsCase] = []
    err = Outcome.SECTION_ERROR
    # the demo tenant tags outside mail with a transport rule, so the External tag setting decides nothing there
    tagged = "a transport rule already marks outside mail, so IDA-ESEC-010 passes on that evidence"
    for s, _cmdlet in MAIL_SECURITY_SECTIONS:
        lossless = tagged if s == "exchange.externalInOutlook" else ""
        c.append(_case(s, "403 missing permission", Outcome.SECTION_FORBIDDEN,
                       _exo(s, "status", status=403, code="Forbidden", times=None,
                            message="The role assigned to application isn't supported in this scenario"),
                       f"detail and Coverage name {EXO_PERMISSION}", lossless=lossless, detail=EXO_PERMISSION,
                       workbook=s == "exchange.safeLinksPolicies"))
        c.append(_case(s, "malformed JSON every time", err, _exo(s, "malformed_json", times=None),
                       "not valid JSON: section error", lossless=lossless, detail="JSON"))
        c.append(_case(s, "timeout once", Outcome.RECOVERED, _exo(s, "delay", delay=SLOW),
                       "InvokeCommand timed out once and was resent", timeout=TIMEOUT))
    for s in ("exchange.adminAuditLogConfig", "exchange.dkimSigningConfig"):
        c.append(_case(s, "timeout every time", err, _exo(s, "delay", delay=SLOW, times=None),
                       "3 attempts timed out: section error", detail="Timeout", timeout=TIMEOUT))
    for s in DEFENDER_SECTIONS:
        c.append(_case(s, "400 cmdlet absent without the licence", Outcome.SECTION_UNLICENSED,
                       _exo(s, "status", status=400, code="BadRequest", times=None,
                            message=f"The term '{CMDLETS[s]}' is not recognized as the name of a cmdlet"),
                       f"unlicensed, not error: detail and Coverage name {DEFENDER}", detail=DEFENDER,
                       workbook=s == "exchange.safeLinksPolicies"))
    dns = "dns.emailAuth"
    for fault, inject, note in (
            ("no DNS answer (timeout)", Inject("delay", ".*", method="DNS", delay=DNS_TIMEOUT + 1.0, times=None),
             "every TXT lookup timed out: section error naming the resolver"),
            ("SERVFAIL every time", Inject("status", ".*", method="DNS", code="SERVFAIL", times=None),
             "the resolver failed every name: section error"),
            ("REFUSED every time", Inject("status", ".*", method="DNS", code="REFUSED", times=None),
             "the resolver refuses us (the DNS analogue of 403): section error, fix the resolver"),
            ("reply that is not DNS (malformed)", Inject("malformed_json", ".*", method="DNS", times=None),
             "dnspython drops the bad reply and times out: section error")):
        c.append(_case(dns, fault, err, inject, note, detail="no TXT lookup got an answer",
                       workbook=fault.startswith("no DNS")))
    return c


def _log_cases() -> list[MsCase]:
    """The takeover logs (issue 20): paged and throttled reads, Identity Protection's bare 403, and the audit log
    query's life cycle (a query that fails or never finishes is an error, never an empty log)."""
    rec, err = Outcome.RECOVERED, Outcome.SECTION_ERROR
    records = Inject("malformed_json", r"/security/auditLog/queries/[^/]+/records", times=None, target="outer")
    return [
        _case("directoryAudits", "429 with Retry-After", rec,
              _outer("directoryAudits", "status", status=429, retry_after=1, times=2),
              "reports class (5 per 10 s): Retry-After honoured, the page re-read"),
        _case("directoryAudits", "500 every time", err, _outer("directoryAudits", "status", status=500, times=None),
              "section error; the directory changes are unknown, not absent", detail="500"),
        _unlicensed("signIns", P1),
        _case("signIns", "timeout once", rec, _outer("signIns", "delay", delay=SLOW), "the page re-read",
              timeout=TIMEOUT),
        _case("signIns", "malformed JSON every time", err, _outer("signIns", "malformed_json", times=None),
              "section error", detail="JSON"),
        _case("riskyUsers", "403 without P2 (bare 403, as for a missing permission)", Outcome.SECTION_FORBIDDEN,
              _outer("riskyUsers", "status", status=403, code="Forbidden", message="Forbidden", times=None),
              "Identity Protection does not say which: the detail names the permission and the licence",
              detail=P2),
        _case("riskyUsers", "429 without Retry-After", rec, _outer("riskyUsers", "status", status=429, times=2),
              "paced 1 per second with Conditional Access; backed off and resent"),
        _case("exchangeAuditRecords", "query never completes", err, (), "polled until the connector's time limit; "
              "'did not finish' in the detail", detail="did not finish", queries=(("stuck", True),),
              options=(("audit_query_timeout_s", 3.0),)),
        _case("exchangeAuditRecords", "query fails", err, (), "the query ended 'failed': section error",
              detail="failed", queries=(("fail", True),)),
        _case("exchangeAuditRecords", "query exceeds its record limit", err, (),
              "succeeded with isRecordCountLimitExceeded: records incomplete, so an error", detail="record limit",
              queries=(("limit_exceeded", True),)),
        _case("exchangeAuditRecords", "429 on create with Retry-After", rec,
              _outer("exchangeAuditRecords", "status", status=429, retry_after=1, times=1),
              "submission throttled: Retry-After honoured, the query created"),
        _case("exchangeAuditRecords", "records malformed JSON every time", err, records, "section error",
              detail="JSON"),
    ]


def _with_workbook(cases: list[MsCase]) -> Iterator[MsCase]:
    sample = {("conditionalAccessPolicies", "403 missing licence"), ("roleAssignments", "403 missing permission"),
              ("oauth2PermissionGrants", "429 every time"), ("mailboxSettings", "403 missing permission")}
    for mc in cases:
        yield replace(mc, workbook=True) if (mc.case.section, mc.case.fault) in sample else mc


MS_CASES: tuple[MsCase, ...] = _build_cases()
CASES: tuple[FaultCase, ...] = tuple(mc.case for mc in MS_CASES)


# ---- fixtures ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def org() -> Any:
    return simulator.build_organisation(users=24, seed=5)


@pytest.fixture(scope="module")
def sim_module(org: Any) -> Iterator[Any]:
    with simulator.MicrosoftSimulator(org, time_scale=SCALE) as s:
        yield s


@pytest.fixture()
def sim(sim_module: Any) -> Iterator[Any]:
    sim_module.faults.clear()
    yield sim_module
    sim_module.faults.clear()


@pytest.fixture(scope="module")
def rendered(org: Any, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return load_snapshot(simulator.render_microsoft_snapshot(org, tmp_path_factory.mktemp("r") / "snap"))


@pytest.fixture(scope="module")
def clean_passes(rendered: Snapshot) -> set[tuple[str, str]]:
    return kit.passing_pairs(rendered)


@pytest.fixture(scope="module")
def methods_fallback(sim_module: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The per-user methods as a fault-free fallback run reads them (the rendered snapshot has no such section)."""
    sim_module.faults.clear()
    sim_module.faults.add(**REGISTRATION_UNLICENSED)
    try:
        path = collect_microsoft(options_for(sim_module), tmp_path_factory.mktemp("m") / "snap", progress=False,
                                 sections=ALL_SECTIONS_IN_ORDER)
    finally:
        sim_module.faults.clear()
    return load_snapshot(path).raw["authenticationMethods"]


@pytest.fixture(scope="module")
def victim(org: Any) -> str:
    return str(next(p for p in org.people if p.has_mailbox and p.enabled).id)


# ---- the matrix --------------------------------------------------------------------------------------------------

def _inject(sim: Any, mc: MsCase, victim: str) -> list[Any]:
    rules = kit.add_rules(sim.faults, mc.inject, victim)
    for knob, value in mc.queries:
        setattr(sim.audit_queries, knob, value)
    if mc.case.section == "authenticationMethods":  # read only when the registration report is not licensed
        sim.faults.add(**REGISTRATION_UNLICENSED)
    return rules


@pytest.mark.parametrize("mc", MS_CASES, ids=[mc.case.id for mc in MS_CASES])
def test_fault(mc: MsCase, sim: Any, rendered: Snapshot, clean_passes: set[tuple[str, str]],
               methods_fallback: Any, victim: str, tmp_path: Path) -> None:
    case = mc.case
    rules = _inject(sim, mc, victim)
    kw: dict[str, Any] = {"timeout": mc.timeout} if mc.timeout else {}
    if case.section == "dns.emailAuth":
        kw["dns"] = DnsOptions(resolvers=(sim.dns_address,), timeout=DNS_TIMEOUT)
    kw.update(dict(mc.options))
    try:
        snap = load_snapshot(collect_microsoft(options_for(sim, **kw), tmp_path / "snap", progress=False,
                                               sections=ALL_SECTIONS_IN_ORDER))
    finally:
        for knob, _ in mc.queries:
            setattr(sim.audit_queries, knob, type(sim.audit_queries)().__getattribute__(knob))
    assert any(r.fired for r in rules) or mc.queries, "the fault never fired: the case tests nothing"
    assert snap.manifest.complete
    rec = snap.section(case.section)
    assert rec is not None
    truth = methods_fallback if case.section == "authenticationMethods" else rendered.raw[case.section]
    if case.expected in (Outcome.RECOVERED, Outcome.FALLBACK):
        assert rec.usable and not rec.failed_subjects, (rec.status, rec.detail, rec.failed_subjects)
        assert snap.raw[case.section] == truth
        if case.expected is Outcome.RECOVERED:  # nothing else was disturbed either
            for name, other in snap.manifest.sections.items():
                if name == "userRegistrationDetails" and case.section == "authenticationMethods":
                    continue
                assert other.usable and not other.failed_subjects, (name, other.status, other.detail)
        return
    kit.assert_data_loss_recorded(rec, snap.raw.get(case.section), truth, case.expected, mc.detail, victim)
    _assert_held_unknown(snap, mc, victim, clean_passes, tmp_path)


def _assert_held_unknown(snap: Snapshot, mc: MsCase, victim: str, clean_passes: set[tuple[str, str]],
                         tmp_path: Path) -> None:
    case = mc.case
    run = audit_snapshot(snap)
    f = run.findings
    # 1. never a pass the fault-free tenant does not support
    invented = kit.invented_passes(f, clean_passes)
    assert not invented, sorted(invented)
    # 2. the tenant settings read from the section are gaps naming it (so their checks cannot pass on them)
    if case.expected is not Outcome.FAILED_SUBJECTS:
        for key in SECTION_SETTINGS.get(case.section, ()):
            assert case.section in run.data.setting_gaps.get(key, ""), (key, run.data.setting_gaps)
    if case.section in FALLBACK_SOURCES:  # the data came from the fallback: nothing to hold unknown
        fallback = snap.section(FALLBACK_SOURCES[case.section])
        assert fallback is not None and fallback.usable
        return
    if not case.dependent_checks:  # a loss that can only make results stricter (CONSERVATIVE, no-P2 tenant)
        return
    dep = f[f["check_id"].isin(case.dependent_checks)]
    evidence = dep["evidence"].astype(str)
    named = evidence.str.contains(NAMED_AS.get(case.section, case.section), regex=False)
    if case.expected is Outcome.FAILED_SUBJECTS:
        # 3. the affected user passes no check whose table lists them as not collected, and some dependent check
        #    lists them as unknown (in the check's words or the section's)
        kit.assert_victim_never_passes(run, case.dependent_checks, victim)
        said = named | evidence.str.contains("not collected", regex=False)
        assert ((dep["subject_id"] == victim) & (dep["status"] == "unknown") & said).any(), \
            f[f["subject_id"] == victim][["check_id", "status", "evidence"]].to_string()
    else:
        # 3. a check whose table could not be built passes nothing; the loss is visible as an unknown naming the
        #    section, unless no dependent check passes anybody (its verdicts stand on data that was collected).
        #    Passes that remain are about subjects with positive evidence (e.g. covered by a CA policy) and are
        #    bounded by 1.
        missing = {t for t, st in run.data.status.items() if st.availability == "missing"}
        for meta in run.checks:
            if meta.id in case.dependent_checks and missing & set(meta.requires):
                assert not ((f["check_id"] == meta.id) & (f["status"] == "pass")).any(), meta.id
        assert ((dep["status"] == "unknown") & named).any() or not (dep["status"] == "pass").any(), \
            dep[dep["status"] != "fail"][["check_id", "status", "evidence"]].head(8).to_string()
    if mc.workbook:
        _assert_coverage(run, mc, victim, tmp_path)


def _assert_coverage(run: Any, mc: MsCase, victim: str, tmp_path: Path) -> None:
    row = kit.coverage_row(run, mc.case.section, tmp_path)
    fix = str(row.get("Permission / licence that fixes a gap") or "")
    if mc.case.expected is Outcome.FAILED_SUBJECTS:
        assert row["Failed subjects"] == 1 and victim in str(row["Failed subjects (first 20)"]), row
    else:
        assert row["Status"] == kit.coverage_status_word(mc.case.expected), row
        if mc.case.expected is not Outcome.SECTION_ERROR:
            assert mc.detail in fix, row
        assert mc.detail in str(row["Detail"]), row


# ---- the derivation of dependent checks is itself checked ---------------------------------------------------------

def test_section_tables_match_the_normaliser(rendered: Snapshot) -> None:
    """SECTION_TABLES is exactly the inverse of the `sections` each table records in a fault-free run."""
    from idaudit.core.normalise import normalise

    data = normalise(rendered)
    derived: dict[str, set[str]] = {}
    for table, st in data.status.items():
        assert st.availability == "ok", (table, st)
        if table == "tenant_settings":
            continue
        for section in st.sections:
            derived.setdefault(section, set()).add(table)
    assert derived == {s: set(t) for s, t in SECTION_TABLES.items()}
    settings = data.tables["tenant_settings"]
    by_source: dict[str, set[str]] = {}
    for key, source in zip(settings["setting"], settings["source"], strict=True):
        by_source.setdefault(str(source), set()).add(str(key))
    expected = {s: set(k) for s, k in SECTION_SETTINGS.items() if s != "exchange.outboundSpamRules"}
    assert by_source == expected


def test_matrix_covers_every_fault_the_issue_lists() -> None:
    faults = " | ".join(c.fault for c in CASES)
    for wanted in ("429 with Retry-After", "429 without Retry-After", "500", "502", "503", "504", "timeout",
                   "connection reset", "malformed JSON", "truncated page", "nextLink that loops",
                   "403 missing permission", "missing licence", "inner 429", "inner 500", "inner 403",
                   "token expired"):
        assert wanted in faults, wanted
    assert 50 <= len(CASES) <= 250
    assert len({c.id for c in CASES}) == len(CASES)


def test_the_matrix_catches_a_swallowed_failure(rendered: Snapshot, clean_passes: set[tuple[str, str]],
                                                 victim: str, tmp_path: Path) -> None:
    """Negative control: a connector that turned the inbox-rules 403 into "nobody has a rule" (the silent pass
    this matrix exists to prevent) must fail the very assertions the matrix runs."""
    path = kit.swallowed(rendered, tmp_path / "swallowed", "inboxRules", lambda data: {uid: [] for uid in data})
    mc = next(m for m in MS_CASES if m.case.id == "inboxRules-403_missing_permission")
    with pytest.raises(AssertionError, match="IDA-MAIL"):
        _assert_held_unknown(load_snapshot(path), mc, victim, clean_passes, tmp_path)
