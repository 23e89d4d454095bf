"""The catalogue of snapshot sections: what each holds, the request behind it, and how to fix a gap.

The Coverage sheet reads `fix` to tell the reader exactly which permission or licence would close a gap. Section
names are stable identifiers used in manifests; connectors, normalisers and the simulator all use these names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SectionSpec:
    name: str
    provider: str
    shape: str  # "list" | "object" | "per_user_list" | "per_user_object" | "per_key_list" | "status_only"
    request: str
    permission: str
    licence: str = ""
    purpose: str = ""

    @property
    def fix(self) -> str:
        """One sentence on how to make this section collectable."""
        parts = [f"grant {self.permission}" if self.permission else ""]
        if self.licence:
            parts.append(f"requires {self.licence}")
        return "; ".join(p for p in parts if p)


_MS = "microsoft"
_EXO_READ = "Exchange.ManageAsApp (application) + Exchange 'View-Only Configuration' role (or Entra 'Global Reader')"
_DEFENDER = "Microsoft Defender for Office 365 Plan 1"
_GG = "google"

# The partial response the Google connector asks users.list for: only the fields the audit reads (smaller pages,
# less personal data stored). Part of the snapshot format: the simulator renders exactly these fields.
GOOGLE_USER_FIELDS = ("nextPageToken,users(id,primaryEmail,name/fullName,isAdmin,isDelegatedAdmin,isEnrolledIn2Sv,"
                      "isEnforcedIn2Sv,lastLoginTime,creationTime,suspended,suspensionReason,archived,orgUnitPath,"
                      "isMailboxSetup,customerId,isGuestUser,aliases)")

MICROSOFT_SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("organization", _MS, "list", "GET /v1.0/organization", "Organization.Read.All (application)",
                purpose="tenant name and id"),
    SectionSpec("domains", _MS, "list", "GET /v1.0/domains", "Domain.Read.All (application)",
                purpose="verified domains: decides whether a forwarding recipient is inside or outside"),
    SectionSpec("subscribedSkus", _MS, "list", "GET /v1.0/subscribedSkus", "Organization.Read.All (application)",
                purpose="which licences (Entra ID P1/P2) the tenant holds"),
    SectionSpec("users", _MS, "list",
                "GET /v1.0/users?$select=id,userPrincipalName,mail,displayName,accountEnabled,userType,"
                "createdDateTime,onPremisesSyncEnabled,assignedLicenses[,signInActivity]",
                "User.Read.All (application)", purpose="every account: enabled, guest or member, created, synced"),
    SectionSpec("signInActivity", _MS, "status_only", "users $select=signInActivity",
                "AuditLog.Read.All (application)", licence="Microsoft Entra ID P1",
                purpose="last sign-in per user (stale accounts); data sits inside users.json"),
    SectionSpec("userRegistrationDetails", _MS, "list",
                "GET /v1.0/reports/authenticationMethods/userRegistrationDetails",
                "AuditLog.Read.All (application)", licence="Microsoft Entra ID P1",
                purpose="MFA methods each user registered"),
    SectionSpec("authenticationMethods", _MS, "per_user_list", "GET /v1.0/users/{id}/authentication/methods",
                "UserAuthenticationMethod.Read.All (application)",
                purpose="MFA methods per user when registration details are not licensed"),
    SectionSpec("perUserMfaState", _MS, "per_user_object", "GET /beta/users/{id}/authentication/requirements",
                "Policy.Read.All (application)", purpose="legacy per-user MFA (disabled/enabled/enforced)"),
    SectionSpec("securityDefaults", _MS, "object", "GET /v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
                "Policy.Read.All (application)", purpose="security defaults on or off"),
    SectionSpec("conditionalAccessPolicies", _MS, "list", "GET /v1.0/identity/conditionalAccess/policies",
                "Policy.Read.All (application)", licence="Microsoft Entra ID P1",
                purpose="which sign-ins require MFA, and who is excluded"),
    SectionSpec("authorizationPolicy", _MS, "object", "GET /v1.0/policies/authorizationPolicy",
                "Policy.Read.All (application)", purpose="user consent to apps, guest invitations and guest role"),
    SectionSpec("authenticationMethodsPolicy", _MS, "object", "GET /v1.0/policies/authenticationMethodsPolicy",
                "Policy.Read.AuthenticationMethod (application)", purpose="SMS, voice and email OTP enabled or not"),
    SectionSpec("roleDefinitions", _MS, "list", "GET /beta/roleManagement/directory/roleDefinitions",
                "RoleManagement.Read.Directory (application)", purpose="role names and the isPrivileged flag"),
    SectionSpec("roleAssignments", _MS, "list",
                "GET /v1.0/roleManagement/directory/roleAssignments?$expand=principal",
                "RoleManagement.Read.Directory (application)", purpose="active privileged role holders"),
    SectionSpec("roleEligibilities", _MS, "list",
                "GET /v1.0/roleManagement/directory/roleEligibilityScheduleInstances",
                "RoleManagement.Read.Directory (application)", licence="Microsoft Entra ID P2",
                purpose="PIM-eligible privileged role holders"),
    SectionSpec("groups", _MS, "list", "GET /v1.0/groups/{id} (groups referenced by CA policies and roles)",
                "GroupMember.Read.All (application)", purpose="names of groups used in exclusions"),
    SectionSpec("groupMembers", _MS, "per_key_list", "GET /v1.0/groups/{id}/transitiveMembers",
                "GroupMember.Read.All (application)",
                purpose="who a CA exclusion or a role-assignable group really contains"),
    SectionSpec("inboxRules", _MS, "per_user_list", "GET /v1.0/users/{id}/mailFolders/inbox/messageRules",
                "MailboxSettings.Read (application)", purpose="inbox rules that forward, redirect or hide mail"),
    SectionSpec("inboxRuleFolders", _MS, "per_user_object",
                "GET /beta/users/{id}/mailFolders/{folderId}?$select=id,displayName,parentFolderId,isHidden,"
                "wellKnownName (only the folders inbox rules move or copy mail to; {folderId: folder or null})",
                "Mail.ReadBasic.All (application; optional: it also lets the app read message headers, not "
                "bodies, in every mailbox)",
                purpose="names the folder an inbox rule files mail into (RSS Feeds, Conversation History, hidden)"),
    SectionSpec("mailboxSettings", _MS, "per_user_object", "GET /v1.0/users/{id}/mailboxSettings",
                "MailboxSettings.Read (application)", purpose="mailbox purpose: user, shared, room"),
    SectionSpec("oauth2PermissionGrants", _MS, "list", "GET /v1.0/oauth2PermissionGrants",
                "Directory.Read.All (application)", purpose="delegated permissions users or admins consented to"),
    SectionSpec("servicePrincipals", _MS, "list",
                "GET /v1.0/servicePrincipals?$select=id,appId,appDisplayName,displayName,publisherName,"
                "verifiedPublisher,appOwnerOrganizationId,servicePrincipalType,accountEnabled,appRoles",
                "Application.Read.All (application)", purpose="who publishes each consented app"),
    SectionSpec("appRoleAssignments", _MS, "per_key_list",
                "GET /v1.0/servicePrincipals/{resourceId}/appRoleAssignedTo",
                "Application.Read.All (application)",
                purpose="application permissions (read every mailbox or file) granted to apps"),
    SectionSpec("exchange.mailboxes", _MS, "list", "InvokeCommand Get-Mailbox -ResultSize Unlimited",
                "Exchange.ManageAsApp (application) + Exchange 'View-Only Configuration' role",
                purpose="mailbox-level SMTP forwarding and mailbox type"),
    SectionSpec("exchange.remoteDomains", _MS, "list", "InvokeCommand Get-RemoteDomain",
                "Exchange.ManageAsApp (application) + Exchange 'View-Only Configuration' role",
                purpose="auto-forwarding allowed to remote domains"),
    SectionSpec("exchange.outboundSpamPolicies", _MS, "list", "InvokeCommand Get-HostedOutboundSpamFilterPolicy",
                "Exchange.ManageAsApp (application) + Exchange 'View-Only Configuration' role",
                purpose="tenant automatic external forwarding mode"),
    SectionSpec("exchange.outboundSpamRules", _MS, "list", "InvokeCommand Get-HostedOutboundSpamFilterRule",
                "Exchange.ManageAsApp (application) + Exchange 'View-Only Configuration' role",
                purpose="which users each outbound spam policy applies to"),
    SectionSpec("exchange.transportRules", _MS, "list", "InvokeCommand Get-TransportRule",
                "Exchange.ManageAsApp (application) + Exchange 'View-Only Configuration' role",
                purpose="transport rules that redirect or BCC mail outside"),
    # ---- email security and detection (issue 17): the phishing entry point and the alarms -------------------
    *(SectionSpec(name, _MS, "list", f"InvokeCommand {cmdlet}", _EXO_READ, licence=licence, purpose=purpose)
      for name, cmdlet, licence, purpose in (
          ("exchange.acceptedDomains", "Get-AcceptedDomain", "",
           "the domains the organisation sends mail from (SPF, DMARC and DKIM are checked for each)"),
          ("exchange.dkimSigningConfig", "Get-DkimSigningConfig", "", "DKIM signing enabled per domain"),
          ("exchange.antiPhishPolicies", "Get-AntiPhishPolicy", "",
           "spoof intelligence, impersonation protection, first-contact tips, mailbox intelligence"),
          ("exchange.antiPhishRules", "Get-AntiPhishRule", "", "who each custom anti-phishing policy covers"),
          ("exchange.safeLinksPolicies", "Get-SafeLinksPolicy", _DEFENDER, "Safe Links (time-of-click URL checks)"),
          ("exchange.safeLinksRules", "Get-SafeLinksRule", _DEFENDER, "who each Safe Links policy covers"),
          ("exchange.safeAttachmentPolicies", "Get-SafeAttachmentPolicy", _DEFENDER,
           "Safe Attachments (attachments detonated before delivery)"),
          ("exchange.safeAttachmentRules", "Get-SafeAttachmentRule", _DEFENDER,
           "who each Safe Attachments policy covers"),
          ("exchange.malwareFilterPolicies", "Get-MalwareFilterPolicy", "",
           "common attachment filter and zero-hour auto purge of malware"),
          ("exchange.contentFilterPolicies", "Get-HostedContentFilterPolicy", "",
           "allowed sender domains that skip spam filtering"),
          ("exchange.connectionFilterPolicies", "Get-HostedConnectionFilterPolicy", "",
           "IP allow lists and the safe list that skip filtering"),
          ("exchange.externalInOutlook", "Get-ExternalInOutlook", "", "the 'External' tag on outside senders"),
          ("exchange.adminAuditLogConfig", "Get-AdminAuditLogConfig", "",
           "unified audit log ingestion (the record an investigation starts from)"),
          ("exchange.organizationConfig", "Get-OrganizationConfig", "", "mailbox auditing on or off (AuditDisabled)"),
          ("exchange.mailboxAuditBypass", "Get-MailboxAuditBypassAssociation -ResultSize Unlimited", "",
           "accounts whose mailbox access is never audited"),
      )),
    SectionSpec("dns.emailAuth", _MS, "object",
                "DNS TXT lookups: <domain> (SPF and its include/redirect targets), _dmarc.<domain> for every "
                "accepted domain", "", purpose="SPF and DMARC published for each sending domain (public DNS; no "
                "permission needed, the resolver must answer)"),
)

GOOGLE_SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("users", _GG, "list",
                "GET admin/directory/v1/users?customer=my_customer&projection=full&maxResults=500&fields=...",
                "https://www.googleapis.com/auth/admin.directory.user.readonly",
                purpose="every account: 2SV, suspended, admin, last login, OU"),
    SectionSpec("domains", _GG, "list", "GET admin/directory/v1/customer/my_customer/domains",
                "https://www.googleapis.com/auth/admin.directory.domain.readonly",
                purpose="verified domains: decides whether a forwarding recipient is inside or outside"),
    SectionSpec("orgUnits", _GG, "list",
                "GET admin/directory/v1/customer/my_customer/orgunits?orgUnitPath=/&type=allIncludingParent",
                "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
                purpose="OU tree for policy inheritance"),
    SectionSpec("roles", _GG, "list", "GET admin/directory/v1/customer/my_customer/roles",
                "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
                purpose="admin role names and privileges"),
    SectionSpec("roleAssignments", _GG, "list", "GET admin/directory/v1/customer/my_customer/roleassignments",
                "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
                purpose="who holds which admin role"),
    SectionSpec("tokens", _GG, "per_user_list", "GET admin/directory/v1/users/{userKey}/tokens",
                "https://www.googleapis.com/auth/admin.directory.user.security (no read-only variant exists)",
                purpose="OAuth apps each user authorised, with scopes"),
    SectionSpec("gmail.autoForwarding", _GG, "per_user_object",
                "GET gmail/v1/users/me/settings/autoForwarding (impersonating each user)",
                "https://www.googleapis.com/auth/gmail.settings.basic", purpose="user-level auto-forwarding"),
    SectionSpec("gmail.forwardingAddresses", _GG, "per_user_list",
                "GET gmail/v1/users/me/settings/forwardingAddresses", "https://www.googleapis.com/auth/gmail.settings.basic",
                purpose="verified forwarding addresses"),
    SectionSpec("gmail.filters", _GG, "per_user_list", "GET gmail/v1/users/me/settings/filters",
                "https://www.googleapis.com/auth/gmail.settings.basic", purpose="filters that forward or hide mail"),
    SectionSpec("gmail.delegates", _GG, "per_user_list", "GET gmail/v1/users/me/settings/delegates",
                "https://www.googleapis.com/auth/gmail.settings.basic", purpose="mail delegation"),
    SectionSpec("policies", _GG, "list", "GET cloudidentity/v1/policies",
                "https://www.googleapis.com/auth/cloud-identity.policies.readonly (super admin subject)",
                purpose="2SV enforcement, factors, auto-forwarding, third-party apps per OU"),
    SectionSpec("reports.tokenAuthorize", _GG, "list",
                "GET admin/reports/v1/activity/users/all/applications/token?eventName=authorize",
                "https://www.googleapis.com/auth/admin.reports.audit.readonly",
                purpose="tenant-wide OAuth authorisations when per-user tokens are not granted"),
    SectionSpec("dns.emailAuth", _GG, "object",
                "DNS TXT lookups: <domain> (SPF and its include/redirect targets), _dmarc.<domain>, "
                "google._domainkey.<domain> for every verified domain and alias", "",
                purpose="SPF, DMARC and the DKIM key published for each sending domain (public DNS; no permission "
                        "needed, the resolver must answer)"),
)

SECTIONS: dict[tuple[str, str], SectionSpec] = {(s.provider, s.name): s for s in MICROSOFT_SECTIONS + GOOGLE_SECTIONS}


def section_spec(provider: str, name: str) -> SectionSpec | None:
    return SECTIONS.get((provider, name))


def sections_for(provider: str) -> tuple[SectionSpec, ...]:
    return tuple(s for s in SECTIONS.values() if s.provider == provider)
