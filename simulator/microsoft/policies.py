"""Tenant policies as Graph returns them: security defaults, Conditional Access, authorization (consent and guest)
policy, authentication methods policy. Shapes follow the Graph v1.0 resource reference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.catalogue import AdminRole
from simulator.microsoft.wire_ids import GUEST_ROLE_IDS, derived_id, iso
from simulator.org import MfaPolicy, Organisation

_STATE = {"enabled": "enabled", "disabled": "disabled", "report_only": "enabledForReportingButNotEnforced"}

PHISHING_RESISTANT_STRENGTH = {
    "id": "00000000-0000-0000-0000-000000000004",
    "createdDateTime": "2021-12-01T08:00:00Z",
    "modifiedDateTime": "2021-12-01T08:00:00Z",
    "displayName": "Phishing-resistant MFA",
    "description": "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 "
                   "security key",
    "policyType": "builtIn",
    "requirementsSatisfied": "mfa",
    "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
}


def security_defaults(org: Organisation) -> dict[str, Any]:
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy/$entity",
        "id": "00000000-0000-0000-0000-000000000005",
        "displayName": "Security Defaults",
        "description": "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. "
                       "When enabled, these recommendations will be automatically enforced in your organization. "
                       "Administrators and users will be better protected from common identity related attacks.",
        "isEnabled": org.policy.security_defaults,
    }


def _ca_policy(org: Organisation, p: MfaPolicy, roles: Mapping[str, AdminRole]) -> dict[str, Any]:
    include_users = ["All"] if p.include_all_users else []
    grant: dict[str, Any] = {"operator": "OR", "builtInControls": [], "customAuthenticationFactors": [],
                             "termsOfUse": [], "authenticationStrength": None}
    if p.grant == "mfa":
        grant["builtInControls"] = ["mfa"]
    elif p.grant == "block":
        grant["builtInControls"] = ["block"]
    else:
        grant["authenticationStrength"] = dict(PHISHING_RESISTANT_STRENGTH)
    locations = None
    if p.narrowed_by_location:
        locations = {"includeLocations": ["All"],
                     "excludeLocations": [derived_id(org.tenant_id, "named-location", "United States")]}
    return {
        "id": p.id, "templateId": None, "displayName": p.name, "createdDateTime": iso(p.created_at),
        "modifiedDateTime": None, "state": _STATE[p.state],
        "sessionControls": None,
        "conditions": {
            "userRiskLevels": [], "signInRiskLevels": [],
            "clientAppTypes": ["exchangeActiveSync", "other"] if p.legacy_clients_only else ["all"],
            "servicePrincipalRiskLevels": [], "insiderRiskLevels": None, "platforms": None, "locations": locations,
            "devices": None, "clientApplications": None,
            "applications": {"includeApplications": ["All"], "excludeApplications": [], "includeUserActions": [],
                             "includeAuthenticationContextClassReferences": [], "applicationFilter": None},
            "users": {"includeUsers": include_users, "excludeUsers": list(p.exclude_user_ids),
                      "includeGroups": [], "excludeGroups": list(p.exclude_group_ids),
                      "includeRoles": [roles[r].template_id for r in p.include_roles], "excludeRoles": [],
                      "includeGuestsOrExternalUsers": None, "excludeGuestsOrExternalUsers": None},
        },
        "grantControls": grant,
    }


def conditional_access(org: Organisation, roles: Mapping[str, AdminRole]) -> list[dict[str, Any]]:
    """With security defaults on, Conditional Access cannot be used: the tenant has no policies."""
    if org.policy.security_defaults:
        return []
    return [_ca_policy(org, p, roles) for p in org.mfa_policies]


_OWNED_RESOURCE = ["ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team",
                   "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat"]
_USER_CONSENT = {
    "legacy": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"],
    "low_risk": ["ManagePermissionGrantsForSelf.microsoft-user-default-low"],
    "off": [],
}


def authorization_policy(org: Organisation) -> dict[str, Any]:
    pol = org.policy
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authorizationPolicy/$entity",
        "@odata.type": "#microsoft.graph.authorizationPolicy",
        "id": "authorizationPolicy", "allowInvitesFrom": pol.guest_invites,
        "allowedToSignUpEmailBasedSubscriptions": True, "allowedToUseSSPR": True,
        "allowEmailVerifiedUsersToJoinOrganization": False, "allowUserConsentForRiskyApps": None,
        "blockMsolPowerShell": False, "description": "Used to manage authorization related settings across the company.",
        "displayName": "Authorization Policy", "guestUserRoleId": GUEST_ROLE_IDS[pol.guest_user_role],
        "defaultUserRolePermissions": {
            "allowedToCreateApps": True, "allowedToCreateSecurityGroups": True, "allowedToCreateTenants": True,
            "allowedToReadBitlockerKeysForOwnedDevice": True, "allowedToReadOtherUsers": True,
            "permissionGrantPoliciesAssigned": [*_USER_CONSENT[pol.user_consent], *_OWNED_RESOURCE],
        },
    }


def _method(odata: str, mid: str, enabled: bool, **extra: Any) -> dict[str, Any]:
    return {"@odata.type": f"#microsoft.graph.{odata}", "id": mid, "state": "enabled" if enabled else "disabled",
            "excludeTargets": [], **extra,
            "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": False}]}


def authentication_methods_policy(org: Organisation) -> dict[str, Any]:
    pol = org.policy
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy",
        "id": "authenticationMethodsPolicy", "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, "
                       "authentication method registration requirements, and self-service password reset settings",
        "lastModifiedDateTime": iso(org.as_of), "policyVersion": "1.5", "policyMigrationState": "migrationInProgress",
        "reconfirmationInDays": None,
        "registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {
            "snoozeDurationInDays": 1, "state": "default",
            "excludeTargets": [],
            "includeTargets": [{"id": "all_users", "targetType": "group",
                                "targetedAuthenticationMethod": "microsoftAuthenticator"}]}},
        "authenticationMethodConfigurations": [
            _method("fido2AuthenticationMethodConfiguration", "Fido2", True, isSelfServiceRegistrationAllowed=True,
                    isAttestationEnforced=False, keyRestrictions={"isEnforced": False, "enforcementType": "block",
                                                                  "aaGuids": []}),
            _method("microsoftAuthenticatorAuthenticationMethodConfiguration", "MicrosoftAuthenticator", True,
                    isSoftwareOathEnabled=False),
            _method("smsAuthenticationMethodConfiguration", "Sms", pol.sms_enabled),
            _method("temporaryAccessPassAuthenticationMethodConfiguration", "TemporaryAccessPass", True,
                    defaultLifetimeInMinutes=60, defaultLength=8, minimumLifetimeInMinutes=60,
                    maximumLifetimeInMinutes=480, isUsableOnce=False),
            _method("softwareOathAuthenticationMethodConfiguration", "SoftwareOath", True),
            _method("voiceAuthenticationMethodConfiguration", "Voice", pol.voice_enabled, isOfficePhoneAllowed=False),
            _method("emailAuthenticationMethodConfiguration", "Email", pol.email_otp_enabled,
                    allowExternalIdToUseEmailOtp="default"),
            _method("x509CertificateAuthenticationMethodConfiguration", "X509Certificate", False),
        ],
    }
