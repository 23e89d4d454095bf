"""Framework references the checks cite, defined once so every check spells an id the same way.

Every id here was looked up (2026-11-28) in the published source or, where noted, a faithful listing of it:
- HIPAA Security Rule, 45 CFR Part 164 Subpart C (section numbers and standard names as published).
- HHS HPH Cybersecurity Performance Goals (Jan 2024): the ten essential goals, cited by name (checked against
  published summaries of the HHS list; numbering differs between summaries, so no numbers are cited).
- CIS Microsoft 365 Foundations Benchmark v6.0.1 recommendation numbers (as listed by maester365/maester).
- CISA SCuBA: ScubaGear baselines aad.md / exo.md (MS.AAD.*, MS.EXO.*), ScubaGoggles commoncontrols.md / gmail.md
  (GWS.*); ids whose published version changed over time (MS.EXO.1.1, several GWS.*) are cited without the
  version suffix.
- MITRE ATT&CK Enterprise technique ids.
"""

from __future__ import annotations

from idaudit.core.model import Framework, Reference

H, C, CIS, S, A = Framework.HIPAA, Framework.HPH_CPG, Framework.CIS, Framework.SCUBA, Framework.ATTACK

# HIPAA Security Rule
HIPAA_AUTH = Reference(H, "164.312(d)", "Person or entity authentication")
HIPAA_PASSWORD = Reference(H, "164.308(a)(5)(ii)(D)", "Password management")
HIPAA_ACCESS = Reference(H, "164.312(a)(1)", "Access control")
HIPAA_REVIEW = Reference(H, "164.308(a)(1)(ii)(D)", "Information system activity review")
HIPAA_AUDIT = Reference(H, "164.312(b)", "Audit controls")
HIPAA_INFO_ACCESS = Reference(H, "164.308(a)(4)", "Information access management")
HIPAA_TRANSMISSION = Reference(H, "164.312(e)(1)", "Transmission security")
HIPAA_TERMINATION = Reference(H, "164.308(a)(3)(ii)(C)", "Termination procedures")
HIPAA_UNIQUE_ID = Reference(H, "164.312(a)(2)(i)", "Unique user identification")

# HHS HPH Cybersecurity Performance Goals (essential goals)
CPG_MFA = Reference(C, "Multifactor Authentication", "essential goal")
CPG_EMAIL = Reference(C, "Email Security", "essential goal")
CPG_REVOKE = Reference(C, "Revoke Credentials for Departing Workforce Members", "essential goal")
CPG_UNIQUE = Reference(C, "Unique Credentials", "essential goal")
CPG_SEPARATE = Reference(C, "Separate User and Privileged Accounts", "essential goal")
CPG_VENDOR = Reference(C, "Vendor/Supplier Cybersecurity Requirements", "essential goal")

# CIS Microsoft 365 Foundations Benchmark v6.0.1
CIS_M365_CLOUD_ONLY_ADMINS = Reference(CIS, "M365 1.1.1", "Ensure Administrative accounts are cloud-only")
CIS_M365_GA_COUNT = Reference(CIS, "M365 1.1.3", "Ensure that between two and four global admins are designated")
CIS_M365_ADMIN_LICENCE = Reference(CIS, "M365 1.1.4",
                                   "Ensure administrative accounts use licenses with a reduced application footprint")
CIS_M365_SHARED_MAILBOX = Reference(CIS, "M365 1.2.2", "Ensure sign-in to shared mailboxes is blocked")
CIS_M365_USER_CONSENT = Reference(CIS, "M365 5.1.5.1",
                                  "Ensure user consent to apps accessing company data on their behalf is not allowed")
CIS_M365_GUEST_ACCESS = Reference(CIS, "M365 5.1.6.2", "Ensure that guest user access is restricted")
CIS_M365_GUEST_INVITES = Reference(CIS, "M365 5.1.6.3",
                                   "Ensure guest user invitations are limited to the Guest Inviter role")
CIS_M365_MFA_ADMINS = Reference(CIS, "M365 5.2.2.1",
                                "Ensure multifactor authentication is enabled for all users in administrative roles")
CIS_M365_MFA_ALL = Reference(CIS, "M365 5.2.2.2", "Ensure multifactor authentication is enabled for all users")
CIS_M365_LEGACY = Reference(CIS, "M365 5.2.2.3", "Enable Conditional Access policies to block legacy authentication")
CIS_M365_PR_ADMINS = Reference(CIS, "M365 5.2.2.5",
                               "Ensure 'Phishing-resistant MFA strength' is required for Administrators")
CIS_M365_MFA_CAPABLE = Reference(CIS, "M365 5.2.3.4", "Ensure all member users are 'MFA capable'")
CIS_M365_WEAK_METHODS = Reference(CIS, "M365 5.2.3.5", "Ensure weak authentication methods are disabled")
CIS_M365_EMAIL_OTP = Reference(CIS, "M365 5.2.3.7", "Ensure the email OTP authentication method is disabled")
CIS_M365_GUEST_REVIEW = Reference(CIS, "M365 5.3.2", "Ensure 'Access reviews' for Guest Users are configured")
CIS_M365_FORWARDING = Reference(CIS, "M365 6.2.1",
                                "Ensure all forms of mail forwarding are blocked and/or disabled")

# CISA SCuBA — Microsoft 365
SCUBA_LEGACY = Reference(S, "MS.AAD.1.1v1", "Legacy authentication SHALL be blocked")
SCUBA_PR_ALL = Reference(S, "MS.AAD.3.1v1", "Phishing-resistant MFA SHALL be enforced for all users")
SCUBA_MFA_ALL = Reference(S, "MS.AAD.3.2v1",
                          "If phishing-resistant MFA has not been enforced, an alternative MFA method SHALL be "
                          "enforced for all users")
SCUBA_WEAK_METHODS = Reference(S, "MS.AAD.3.5v1",
                               "The authentication methods SMS, Voice Call, and Email One-Time Passcode (OTP) "
                               "SHALL be disabled")
SCUBA_PR_PRIV = Reference(S, "MS.AAD.3.6v1", "Phishing-resistant MFA SHALL be required for highly privileged roles")
SCUBA_CONSENT = Reference(S, "MS.AAD.5.2v1", "Only administrators SHALL be allowed to consent to applications")
SCUBA_GA_COUNT = Reference(S, "MS.AAD.7.1v1",
                           "A minimum of two users and a maximum of eight users SHALL be provisioned with the "
                           "Global Administrator role")
SCUBA_CLOUD_ONLY = Reference(S, "MS.AAD.7.3v1",
                             "Privileged users SHALL be provisioned cloud-only accounts separate from an "
                             "on-premises directory or other federated identity providers")
SCUBA_GUEST_ACCESS = Reference(S, "MS.AAD.8.1v1",
                               "Guest users SHOULD have limited or restricted access to Microsoft Entra ID "
                               "directory objects")
SCUBA_GUEST_INVITES = Reference(S, "MS.AAD.8.2v1",
                                "Only users with the Guest Inviter role SHOULD be able to invite guest users")
SCUBA_EXO_FORWARDING = Reference(S, "MS.EXO.1.1", "Automatic forwarding to external domains SHALL be disabled")

# CISA SCuBA — Google Workspace
SCUBA_GWS_PR = Reference(S, "GWS.COMMONCONTROLS.1.1v1", "Phishing-Resistant MFA SHALL be required for all users")
SCUBA_GWS_MFA = Reference(S, "GWS.COMMONCONTROLS.1.2v1",
                          "If phishing-resistant MFA has not been enforced, an alternative MFA method SHALL be "
                          "enforced for all users")
SCUBA_GWS_NO_SMS = Reference(S, "GWS.COMMONCONTROLS.1.3v1", "SMS or Voice SHALL NOT be used as the MFA method")
SCUBA_GWS_TRUST_DEVICE = Reference(S, "GWS.COMMONCONTROLS.1.5v1", "Allow users to trust the device SHALL be disabled")
SCUBA_GWS_SUPER_ADMINS = Reference(S, "GWS.COMMONCONTROLS.6.2",
                                   "A minimum of two and a maximum of eight separate and distinct super admin "
                                   "users SHALL be configured")
SCUBA_GWS_APP_ACCESS = Reference(S, "GWS.COMMONCONTROLS.10.1",
                                 "Use GWS application access control policies to restrict access to all GWS "
                                 "services by third party apps")
SCUBA_GWS_DELEGATION = Reference(S, "GWS.GMAIL.1.1", "Mail Delegation SHOULD be disabled")
SCUBA_GWS_POP_IMAP = Reference(S, "GWS.GMAIL.9.1", "POP and IMAP access SHALL be disabled")
SCUBA_GWS_AUTO_FORWARD = Reference(S, "GWS.GMAIL.11.1", "Automatic forwarding SHOULD be disabled")

# MITRE ATT&CK
T_VALID_CLOUD = Reference(A, "T1078.004", "Valid Accounts: Cloud Accounts")
T_SPRAY = Reference(A, "T1110.003", "Brute Force: Password Spraying")
T_PHISH_LINK = Reference(A, "T1566.002", "Phishing: Spearphishing Link")
T_MFA_REQUEST = Reference(A, "T1621", "Multi-Factor Authentication Request Generation")
T_MFA_MODIFY = Reference(A, "T1556.006", "Modify Authentication Process: Multi-Factor Authentication")
T_HYBRID = Reference(A, "T1556.007", "Modify Authentication Process: Hybrid Identity")
T_DEVICE_REG = Reference(A, "T1098.005", "Account Manipulation: Device Registration")
T_CLOUD_ROLES = Reference(A, "T1098.003", "Account Manipulation: Additional Cloud Roles")
T_FORWARD_RULE = Reference(A, "T1114.003", "Email Collection: Email Forwarding Rule")
T_REMOTE_EMAIL = Reference(A, "T1114.002", "Email Collection: Remote Email Collection")
T_HIDE_RULES = Reference(A, "T1564.008", "Hide Artifacts: Email Hiding Rules")
T_STEAL_TOKEN = Reference(A, "T1528", "Steal Application Access Token")
T_APP_TOKEN = Reference(A, "T1550.001", "Use Alternate Authentication Material: Application Access Token")
T_ACCOUNT_DISCOVERY = Reference(A, "T1087.004", "Account Discovery: Cloud Account")

# Signs of takeover (incident response)
HIPAA_INCIDENT = Reference(H, "164.308(a)(6)(ii)", "Security incident procedures: response and reporting")
HIPAA_BREACH = Reference(H, "164.402", "Breach Notification Rule: definition of breach (risk assessment)")
T_CLOUD_CREDS = Reference(A, "T1098.001", "Account Manipulation: Additional Cloud Credentials")
