"""A small Microsoft tenant as raw Graph / Exchange JSON (documented shapes), written to disk as a real snapshot.

Used by tests/test_normalise_ms*.py. Each section can be replaced, failed (forbidden / unlicensed) or given
failed subjects, so every availability path of the normaliser is reachable.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idaudit.core.snapshot import SectionStatus, Snapshot, SnapshotWriter, load_snapshot

TENANT = "9d6f5c1e-0000-4000-8000-00000000a001"
MICROSOFT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
GA = "62e90394-69f5-4237-9190-012177145e10"
HELPDESK = "729827e3-9c14-49f7-bb1b-9608f156bbb8"
EXCHANGE_ADMIN = "29232cdf-9323-42fd-ade2-1d097af3e4de"
ADA, BEN, CARA, GUEST, SHARED, OFF = (f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 7))
BREAK_GLASS, HELPDESK_GROUP = "aaaaaaaa-0000-4000-8000-000000000001", "aaaaaaaa-0000-4000-8000-000000000002"
GRAPH_SP, APP_SP, OWN_SP, MS_SP = ("cccccccc-0000-4000-8000-00000000000" + c for c in "1234")
MAIL_READ_ROLE = "810c84a8-4a9e-49e6-bf7d-12d183f40d01"
ARCHIVE_ID = "AAMkADArchiveFolderOpaqueId0000000000000000000000="
RSS_ID = "AAMkADRssFolderOpaqueId00000000000000000000000000000="
COLLECTED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _user(uid: str, upn: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "userPrincipalName": upn, "mail": upn, "displayName": name, "accountEnabled": True,
            "userType": "Member", "createdDateTime": "2024-01-10T09:00:00Z", "onPremisesSyncEnabled": None,
            "assignedLicenses": [{"disabledPlans": [], "skuId": "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"}],
            "signInActivity": {"lastSignInDateTime": "2026-11-20T08:00:00Z", "lastSuccessfulSignInDateTime":
                               "2026-11-19T08:00:00Z", "lastNonInteractiveSignInDateTime": None}, **extra}


def _recipient(addr: str) -> dict[str, Any]:
    return {"emailAddress": {"name": addr, "address": addr}}


def _ca(name: str, state: str = "enabled", **users: Any) -> dict[str, Any]:
    base = {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [], "excludeGroups": [],
            "includeRoles": [], "excludeRoles": [], "includeGuestsOrExternalUsers": None,
            "excludeGuestsOrExternalUsers": None}
    return {"id": f"ca-{name}", "displayName": name, "state": state,
            "conditions": {"userRiskLevels": [], "signInRiskLevels": [], "clientAppTypes": ["all"],
                           "platforms": None, "locations": None, "devices": None,
                           "applications": {"includeApplications": ["All"], "excludeApplications": [],
                                            "includeUserActions": []},
                           "users": {**base, **users}},
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"], "customAuthenticationFactors": [],
                              "termsOfUse": [], "authenticationStrength": None}}


def raw_tenant() -> dict[str, Any]:
    users = [
        _user(ADA, "ada@clinic.example", "Ada Admin", onPremisesSyncEnabled=True),
        _user(BEN, "ben@clinic.example", "Ben Nurse",
              signInActivity={"lastSignInDateTime": "2026-01-05T08:00:00Z", "lastSuccessfulSignInDateTime": None}),
        _user(CARA, "cara@clinic.example", "=HYPERLINK(\"http://x\")", assignedLicenses=[]),
        _user(GUEST, "vendor_partner.example#EXT#@clinic.onmicrosoft.com", "Vendor Guest", userType="Guest",
              mail="vendor@partner.example"),
        _user(SHARED, "frontdesk@clinic.example", "Front Desk"),
        _user(OFF, "old@clinic.example", "Old Leaver", accountEnabled=False, signInActivity=None),
    ]
    return {
        "organization": [{"id": TENANT, "displayName": "Riverside Clinic"}],
        "domains": [{"id": "Clinic.Example", "isVerified": True, "isDefault": True},
                    {"id": "clinic.onmicrosoft.com", "isVerified": True, "isDefault": False},
                    {"id": "pending.example", "isVerified": False, "isDefault": False}],
        "users": users,
        "signInActivity": {"embeddedIn": "users", "field": "signInActivity"},
        "userRegistrationDetails": [
            {"id": ADA, "isMfaRegistered": True, "methodsRegistered": ["mobilePhone", "fido2SecurityKey"]},
            {"id": BEN, "isMfaRegistered": True, "methodsRegistered": ["mobilePhone", "email"]},
            {"id": CARA, "isMfaRegistered": False, "methodsRegistered": []},
            {"id": GUEST, "isMfaRegistered": True, "methodsRegistered": ["microsoftAuthenticatorPush",
                                                                           "someFutureMethod"]},
        ],
        "authenticationMethods": {
            ADA: [{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "pw"},
                  {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "k1", "model": "YubiKey"}],
            BEN: [{"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "p1", "phoneType": "office",
                   "phoneNumber": "+1 555 0100"},
                  {"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "p2",
                   "phoneType": "alternateMobile", "phoneNumber": "+1 555 0101"}],
            CARA: [{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "pw"},
                   {"@odata.type": "#microsoft.graph.emailAuthenticationMethod", "id": "e1",
                    "emailAddress": "cara@home.example"}],
            GUEST: [], SHARED: [], OFF: [],
        },
        "perUserMfaState": {uid: {"perUserMfaState": "disabled"} for uid in (ADA, BEN, CARA, GUEST, SHARED, OFF)},
        "securityDefaults": {"id": "00000000-0000-0000-0000-000000000005", "isEnabled": False},
        "conditionalAccessPolicies": [_ca("Require MFA for all", excludeGroups=[BREAK_GLASS])],
        "authorizationPolicy": {
            "allowInvitesFrom": "everyone", "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            "defaultUserRolePermissions": {"permissionGrantPoliciesAssigned": [
                "ManagePermissionGrantsForSelf.Microsoft-User-Default-Legacy",
                "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"]}},
        "authenticationMethodsPolicy": {"authenticationMethodConfigurations": [
            {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms", "state": "enabled"},
            {"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "id": "Voice",
             "state": "disabled"},
            {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "id": "Email",
             "state": "enabled"}]},
        "roleDefinitions": [{"id": GA, "templateId": GA, "displayName": "Global Administrator", "isPrivileged": True},
                            {"id": EXCHANGE_ADMIN, "templateId": EXCHANGE_ADMIN, "displayName": "Exchange Administrator",
                             "isPrivileged": False}],
        "roleAssignments": [
            {"id": "ra1", "principalId": ADA, "roleDefinitionId": GA, "directoryScopeId": "/",
             "principal": {"@odata.type": "#microsoft.graph.user", "id": ADA, "displayName": "Ada Admin"}},
            {"id": "ra2", "principalId": HELPDESK_GROUP, "roleDefinitionId": HELPDESK, "directoryScopeId": "/",
             "principal": {"@odata.type": "#microsoft.graph.group", "id": HELPDESK_GROUP,
                           "displayName": "IT Helpdesk Admins"}},
        ],
        "roleEligibilities": [{"id": "el1", "principalId": BEN, "roleDefinitionId": EXCHANGE_ADMIN,
                               "directoryScopeId": "/", "memberType": "Direct"}],
        "groups": [{"id": BREAK_GLASS, "displayName": "Break Glass"},
                   {"id": HELPDESK_GROUP, "displayName": "IT Helpdesk Admins"}],
        "groupMembers": {BREAK_GLASS: [{"@odata.type": "#microsoft.graph.user", "id": ADA}],
                         HELPDESK_GROUP: [{"@odata.type": "#microsoft.graph.user", "id": CARA}]},
        "inboxRules": {
            ADA: [],
            BEN: [{"id": "r1", "displayName": ".", "sequence": 1, "isEnabled": True,
                   "conditions": {"bodyOrSubjectContains": ["invoice", "payment"]},
                   "actions": {"forwardTo": [_recipient("Ben.Private@FreeMail.example")],
                               "moveToFolder": RSS_ID, "markAsRead": True, "stopProcessingRules": True}},
                  {"id": "r2", "displayName": "Archive newsletters", "isEnabled": True,
                   "conditions": {"fromAddresses": [_recipient("news@vendor.example")]},
                   "actions": {"moveToFolder": ARCHIVE_ID}},
                  {"id": "r3", "displayName": "Copy to home", "isEnabled": False, "conditions": {},
                   "actions": {"redirectTo": [_recipient("ben@home.example")],
                               "forwardAsAttachmentTo": [_recipient("scan@partner.example")],
                               "permanentDelete": True}}],
            CARA: [{"id": "r4", "displayName": "Projects", "isEnabled": True,
                    "conditions": {"subjectContains": ["project"]},
                    "actions": {"moveToFolder": "AAMkADSomeOtherFolder000000000000000000000="}}],
            GUEST: None, SHARED: [], OFF: None,
        },
        "mailboxSettings": {ADA: {"userPurpose": "user", "archiveFolder": "AAMkADOther="},
                            BEN: {"userPurpose": "user", "archiveFolder": ARCHIVE_ID},
                            CARA: {"userPurpose": "user"}, GUEST: None, SHARED: {"userPurpose": "shared"},
                            OFF: None},
        "oauth2PermissionGrants": [
            {"id": "g1", "clientId": APP_SP, "consentType": "Principal", "principalId": BEN, "resourceId": GRAPH_SP,
             "scope": " Mail.Read  offline_access User.Read "},
            {"id": "g2", "clientId": OWN_SP, "consentType": "AllPrincipals", "principalId": None,
             "resourceId": GRAPH_SP, "scope": "Files.Read.All"},
            {"id": "g3", "clientId": MS_SP, "consentType": "AllPrincipals", "principalId": None,
             "resourceId": GRAPH_SP, "scope": "User.Read"},
        ],
        "servicePrincipals": [
            {"id": GRAPH_SP, "appId": "00000003-0000-0000-c000-000000000000", "appDisplayName": "Microsoft Graph",
             "appOwnerOrganizationId": MICROSOFT, "publisherName": "Microsoft Services",
             "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None},
             "appRoles": [{"id": MAIL_READ_ROLE, "value": "Mail.Read", "allowedMemberTypes": ["Application"]}]},
            {"id": APP_SP, "appId": "app-secure-docs", "appDisplayName": "Secure Docs Viewer",
             "appOwnerOrganizationId": "7777aaaa-0000-4000-8000-000000000000", "publisherName": "SD Ltd",
             "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None}},
            {"id": OWN_SP, "appId": "app-own", "appDisplayName": "Clinic Scheduler",
             "appOwnerOrganizationId": TENANT.upper(), "publisherName": "Riverside Clinic",
             "verifiedPublisher": {"displayName": "Riverside Clinic", "verifiedPublisherId": "1234567"}},
            {"id": MS_SP, "appId": "app-ms", "appDisplayName": "Microsoft Teams",
             "appOwnerOrganizationId": MICROSOFT, "publisherName": "Microsoft Services",
             "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None}},
        ],
        "appRoleAssignments": {GRAPH_SP: [
            {"id": "ar1", "principalType": "ServicePrincipal", "principalId": APP_SP, "resourceId": GRAPH_SP,
             "appRoleId": MAIL_READ_ROLE, "resourceDisplayName": "Microsoft Graph"},
            {"id": "ar2", "principalType": "ServicePrincipal", "principalId": OWN_SP, "resourceId": GRAPH_SP,
             "appRoleId": "00000000-0000-0000-0000-000000000000"},
            {"id": "ar3", "principalType": "User", "principalId": BEN, "resourceId": GRAPH_SP,
             "appRoleId": MAIL_READ_ROLE}]},
        "sharePointAppRoleAssignments": {},
        "exchange.mailboxes": [
            {"ExternalDirectoryObjectId": ADA, "RecipientTypeDetails": "UserMailbox", "ForwardingSmtpAddress": None,
             "ForwardingAddress": None, "DeliverToMailboxAndForward": False},
            {"ExternalDirectoryObjectId": CARA, "RecipientTypeDetails": "UserMailbox",
             "ForwardingSmtpAddress": "smtp:Cara@Gmail.example", "ForwardingAddress": None,
             "DeliverToMailboxAndForward": True},
            {"ExternalDirectoryObjectId": SHARED, "RecipientTypeDetails": "SharedMailbox",
             "ForwardingSmtpAddress": None, "ForwardingAddress": "Billing Vendor Contact",
             "DeliverToMailboxAndForward": False},
        ],
        "exchange.recipients": [
            {"Identity": "Billing Vendor Contact", "Name": "Billing Vendor Contact", "Alias": "billingvendor",
             "DisplayName": "Billing Vendor Contact", "RecipientTypeDetails": "MailContact",
             "ExternalEmailAddress": "SMTP:ar@billing-vendor.example", "PrimarySmtpAddress": "ar@billing-vendor.example",
             "Guid": "rc-1"},
        ],
        "exchange.remoteDomains": [{"Identity": "Default", "DomainName": "*", "AutoForwardEnabled": False},
                                   {"Identity": "Lab", "DomainName": "lab.example", "AutoForwardEnabled": True}],
        "exchange.outboundSpamPolicies": [{"Identity": "Custom", "IsDefault": False, "AutoForwardingMode": "On"},
                                          {"Identity": "Default", "IsDefault": True, "AutoForwardingMode": "Automatic"}],
        "exchange.outboundSpamRules": [],
        # the takeover logs (issue 20): one phishing-style week for Cara, whose mailbox forwards to Gmail
        "signIns": {CARA: {"userPrincipalName": "cara@clinic.example", "signIns": 4,
                           "first": "2026-11-22T09:00:00Z", "last": "2026-11-26T13:00:00Z",
                           "countries": {"US": {"count": 3, "first": "2026-11-22T09:00:00Z",
                                                "last": "2026-11-25T09:00:00Z", "firstIp": "198.51.100.10",
                                                "city": "Columbus", "ips": ["198.51.100.10"]},
                                         "NG": {"count": 1, "first": "2026-11-26T13:00:00Z",
                                                "last": "2026-11-26T13:00:00Z", "firstIp": "203.0.113.20",
                                                "city": "Lagos", "ips": ["203.0.113.20"]}}}},
        "directoryAudits": [
            {"id": "da1", "category": "UserManagement", "result": "success", "activityDateTime": "2026-11-26T13:20:00Z",
             "activityDisplayName": "User registered security info", "resultReason": "User registered Authenticator App",
             "loggedByService": "Authentication Methods",
             "initiatedBy": {"user": {"id": CARA, "userPrincipalName": "cara@clinic.example",
                                      "ipAddress": "203.0.113.20"}, "app": None},
             "targetResources": [{"id": CARA, "type": "User", "userPrincipalName": "cara@clinic.example",
                                  "modifiedProperties": []}]}],
        "riskyUsers": [{"id": CARA, "riskLevel": "high", "riskState": "atRisk", "riskDetail": "none",
                        "riskLastUpdatedDateTime": "2026-11-26T14:00:00Z", "isDeleted": False,
                        "userPrincipalName": "cara@clinic.example"}],
        "riskDetections": [{"id": "rd1", "userId": CARA, "riskEventType": "unfamiliarFeatures", "riskLevel": "high",
                            "riskState": "atRisk", "ipAddress": "203.0.113.20",
                            "activityDateTime": "2026-11-26T13:00:00Z",
                            "location": {"city": "Lagos", "countryOrRegion": "NG"}}],
        "exchangeAuditRecords": [
            {"id": "pv1", "createdDateTime": "2026-11-27T10:00:00Z", "auditLogRecordType": "exchangeAdmin",
             "operation": "Set-Mailbox", "userPrincipalName": "cara@clinic.example",
             "clientIp": "203.0.113.20:50123", "objectId": "cara@clinic.example",
             "auditData": {"Operation": "Set-Mailbox", "ClientIP": "203.0.113.20:50123",
                           "Parameters": [{"Name": "Identity", "Value": "cara@clinic.example"},
                                          {"Name": "ForwardingSmtpAddress", "Value": "smtp:Cara@Gmail.example"}]}}],
        "exchange.transportRules": [
            {"Identity": "Copy billing", "Name": "Copy billing", "Guid": "tr-1", "State": "Enabled",
             "BlindCopyTo": ["audit@Outside.example"], "RedirectMessageTo": None, "CopyTo": None},
            {"Identity": "Old redirect", "Name": "Old redirect", "Guid": "tr-2", "State": "Disabled",
             "BlindCopyTo": None, "RedirectMessageTo": ["x@elsewhere.example"], "CopyTo": None},
        ],
    }


def write_snapshot(directory: Path, raw: Mapping[str, Any] | None = None, *,
                   fail: Mapping[str, tuple[SectionStatus, str]] | None = None,
                   failed_subjects: Mapping[str, Mapping[str, str]] | None = None,
                   drop: tuple[str, ...] = ()) -> Snapshot:
    """Write `raw` (default: raw_tenant()) as a real snapshot directory and load it back."""
    data = copy.deepcopy(dict(raw if raw is not None else raw_tenant()))
    writer = SnapshotWriter(directory, "microsoft", TENANT, "Riverside Clinic", source="test",
                            collected_at=COLLECTED)
    for name, value in data.items():
        if name in drop:
            continue
        if fail and name in fail:
            status, detail = fail[name]
            writer.fail(name, status, detail)
        else:
            writer.add(name, value, failed_subjects=(failed_subjects or {}).get(name))
    writer.finish()
    return load_snapshot(directory)
