"""Documented keys of the `tenant_settings` table (values are strings so the table stays one dtype).

A normaliser adds a row only for a setting it actually read; a setting it could not read goes to
`AuditData.setting_gaps` with the reason, so a check reading it reports `unknown`.
"""

from __future__ import annotations

TENANT_SETTINGS: dict[str, str] = {
    "security_defaults_enabled": "true | false — Microsoft security defaults (requires MFA registration and use)",
    "user_consent": "off | mail_clients_only | verified_publishers_low_risk | sign_in_only | microsoft_managed | "
                    "any_app — may ordinary users consent to "
                    "apps on their own? (Microsoft permissionGrantPoliciesAssigned; Google unconfigured third-party "
                    "apps, root OU: sign_in_only = Sign in with Google scopes only)",
    "guest_invites_from": "none | adminsAndGuestInviters | adminsGuestInvitersAndAllMembers | everyone",
    "guest_user_role": "member | guest | restricted_guest — what guests may read in the directory",
    "external_auto_forwarding": "off | on | automatic — tenant-wide automatic forwarding to outside recipients "
                                "(Exchange default outbound spam policy AutoForwardingMode; Google gmail.auto_forwarding)",
    "external_auto_forwarding_exceptions": "'; '-joined non-default Exchange outbound spam policies that allow "
                                           "automatic external forwarding (AutoForwardingMode On), each with the "
                                           "senders its enabled rules apply to ('' = none)",
    "remote_domain_default_auto_forward": "true | false — Exchange remote domain '*' AutoForwardEnabled",
    "sms_sign_in_enabled": "true | false — SMS allowed as an authentication method (authentication methods policy)",
    "voice_enabled": "true | false — voice call allowed as an authentication method",
    "email_otp_enabled": "true | false — email one-time passcode allowed as an authentication method",
    "legacy_auth_blocked": "true | false — one enabled CA policy blocks legacy authentication (Exchange ActiveSync + other "
                           "clients) for all users with no exclusion or narrowing; per account: IDA-AUTH-006",
    "google_allowed_factors": "ALL | NO_TELEPHONY | ONLY_SECURITY_KEY | PASSKEY_ONLY — 2SV factors allowed (root OU)",
    "google_less_secure_apps": "true | false — less secure apps allowed (root OU)",
    "google_device_trust": "true | false — users may skip 2SV on trusted devices (root OU)",
    "google_mail_delegation": "true | false — users may delegate mailbox access (root OU)",
    "google_imap_pop": "true | false — IMAP or POP access enabled (root OU)",
    "google_internal_apps_trusted": "true | false — internal apps trusted automatically",
    "google_auto_forwarding_ous": "'; '-joined OU paths where Gmail automatic forwarding is allowed (Policy API, "
                                  "resolved per OU; '' = none)",
    "google_less_secure_apps_ous": "'; '-joined OU paths where less secure apps are allowed ('' = none)",
    "google_telephony_ous": "'; '-joined OU paths whose allowed 2SV factors include SMS / voice codes (factor set "
                            "ALL; '' = none)",
    "google_device_trust_ous": "'; '-joined OU paths where users may skip 2SV on trusted devices ('' = none)",
    # email security and detection (issue 17; Microsoft, from Exchange Online)
    "unified_audit_log_ingestion": "true | false — Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled",
    "mailbox_audit_disabled": "true | false — Get-OrganizationConfig AuditDisabled (true: mailbox auditing off)",
    "mailbox_audit_bypass": "'; '-joined accounts with AuditBypassEnabled (Get-MailboxAuditBypassAssociation; "
                            "'' = none)",
    "external_in_outlook": "true | false — Get-ExternalInOutlook Enabled (Outlook's External sender tag)",
    "external_tag_transport_rules": "'; '-joined enabled, enforced transport rules that prepend a subject or a "
                                    "disclaimer to mail from outside the organisation ('' = none)",
}

# Settings Google lets an admin change per OU and per group: besides the root value, where the risky value applies
# (idaudit/core/normalise/google_settings.py). Prefix -> what the risky value means.
GOOGLE_SCOPED_SETTINGS: dict[str, str] = {
    "google_auto_forwarding": "Gmail automatic forwarding is allowed (gmail.auto_forwarding)",
    "google_imap_pop": "IMAP or POP access is on (gmail.imap_access / gmail.pop_access)",
    "google_mail_delegation": "users may delegate their mailbox (gmail.mail_delegation)",
    "google_less_secure_apps": "less secure apps are allowed (security.less_secure_apps)",
    "google_telephony": "SMS / voice 2SV codes are allowed (allowed factor set ALL)",
    "google_device_trust": "users may skip 2SV on trusted devices",
    "google_third_party_apps": "users may access any unconfigured third-party app (accessLevel "
                               "UNSPECIFIED_UBER_BLOCK)",
}
for _prefix, _what in GOOGLE_SCOPED_SETTINGS.items():
    TENANT_SETTINGS.setdefault(f"{_prefix}_ous", f"'; '-joined OU paths where {_what}, resolved per OU with "
                                                 "inheritance ('' = none)")
    TENANT_SETTINGS[f"{_prefix}_groups"] = (f"'; '-joined groups whose own policy says {_what}, each with its "
                                            "member count ('' = none; a group's policy overrides its members' OU)")
    TENANT_SETTINGS[f"{_prefix}_undecided"] = (f"'; '-joined OUs and groups where whether {_what} could not be "
                                               "read ('' = none)")
