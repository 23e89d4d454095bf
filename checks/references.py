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

# ---- email security and detection (issue 17) --------------------------------------------------------------------
# HIPAA: protection from malicious software (the phishing entry point); the review and audit-control references
# above (HIPAA_REVIEW, HIPAA_AUDIT) cover the alarms.
HIPAA_MALWARE = Reference(H, "164.308(a)(5)(ii)(B)", "Protection from malicious software")
# HHS HPH CPG: logging is an enhanced goal ("Centralized Log Collection"), cited by name like the essential ones.
CPG_LOGS = Reference(C, "Centralized Log Collection", "enhanced goal")
# CIS Microsoft 365 Foundations Benchmark v6.0.1 (numbers as listed by public CIS mappings)
CIS_M365_SAFE_LINKS = Reference(CIS, "M365 2.1.1", "Ensure Safe Links for Office Applications is Enabled")
CIS_M365_ATTACHMENT_FILTER = Reference(CIS, "M365 2.1.2", "Ensure the Common Attachment Types Filter is enabled")
CIS_M365_SAFE_ATTACHMENTS = Reference(CIS, "M365 2.1.4", "Ensure Safe Attachments policy is enabled")
CIS_M365_ANTI_PHISH = Reference(CIS, "M365 2.1.7", "Ensure that an anti-phishing policy has been created")
CIS_M365_SPF = Reference(CIS, "M365 2.1.8", "Ensure that SPF records are published for all Exchange Domains")
CIS_M365_DKIM = Reference(CIS, "M365 2.1.9", "Ensure that DKIM is enabled for all Exchange Online Domains")
CIS_M365_DMARC = Reference(CIS, "M365 2.1.10", "Ensure DMARC records for all Exchange Online domains are published")
CIS_M365_IP_ALLOW = Reference(CIS, "M365 2.1.12", "Ensure the connection filter IP allow list is not used")
CIS_M365_SAFE_LIST = Reference(CIS, "M365 2.1.13", "Ensure the connection filter safe list is off")
CIS_M365_ALLOWED_DOMAINS = Reference(CIS, "M365 2.1.14",
                                     "Ensure inbound anti-spam policies do not contain allowed domains")
CIS_M365_AUDIT_LOG = Reference(CIS, "M365 3.1.1", "Ensure Microsoft 365 audit log search is Enabled")
CIS_M365_AUDIT_DISABLED = Reference(CIS, "M365 6.1.1", "Ensure 'AuditDisabled' organizationally is set to 'False'")
CIS_M365_AUDIT_BYPASS = Reference(CIS, "M365 6.1.3", "Ensure 'AuditBypassEnabled' is not enabled on mailboxes")
CIS_M365_EXTERNAL_TAG = Reference(CIS, "M365 6.2.3", "Ensure email from external senders is identified")
# CISA SCuBA — Exchange Online and Defender for Office 365 (ScubaGear baselines exo.md, defender.md)
SCUBA_EXO_SPF = Reference(S, "MS.EXO.2.2v2", "An SPF policy SHALL be published for each domain that fails all "
                                             "non-approved senders")
SCUBA_EXO_DKIM = Reference(S, "MS.EXO.3.1v1", "DKIM SHOULD be enabled for all domains")
SCUBA_EXO_DMARC = Reference(S, "MS.EXO.4.1v1", "A DMARC policy SHALL be published for every second-level domain")
SCUBA_EXO_DMARC_REJECT = Reference(S, "MS.EXO.4.2v1", "The DMARC message rejection option SHALL be p=reject")
SCUBA_EXO_EXTERNAL_TAG = Reference(S, "MS.EXO.7.1v1", "External sender warnings SHALL be implemented")
SCUBA_EXO_ATTACHMENT_FILTER = Reference(S, "MS.EXO.9.1v2", "Emails SHALL be filtered by attachment file types")
SCUBA_EXO_ZAP = Reference(S, "MS.EXO.10.3v1", "Email scanning SHALL be capable of reviewing emails after delivery")
SCUBA_EXO_IMPERSONATION = Reference(S, "MS.EXO.11.1v1", "Impersonation protection checks SHOULD be used")
SCUBA_EXO_IP_ALLOW = Reference(S, "MS.EXO.12.1v1", "IP allow lists SHOULD NOT be created")
SCUBA_EXO_SAFE_LIST = Reference(S, "MS.EXO.12.2v1", "Safe lists SHOULD NOT be enabled")
SCUBA_EXO_MAILBOX_AUDIT = Reference(S, "MS.EXO.13.1v1", "Mailbox auditing SHALL be enabled")
SCUBA_EXO_ALLOWED_DOMAINS = Reference(S, "MS.EXO.14.3v1",
                                      "Allowed domains SHALL NOT be added to inbound anti-spam protection policies")
SCUBA_EXO_URL_BLOCK = Reference(S, "MS.EXO.15.1v1", "URL comparison with a block-list SHOULD be enabled")
SCUBA_EXO_UAL = Reference(S, "MS.EXO.17.1v1", "Unified Audit logging SHALL be enabled")
SCUBA_DEFENDER_EOP_ALL = Reference(S, "MS.DEFENDER.1.2v1", "All users SHALL be added to Exchange Online Protection "
                                                           "in either the standard or strict preset security policy")
SCUBA_DEFENDER_ATP_ALL = Reference(S, "MS.DEFENDER.1.3v1", "All users SHALL be added to Defender for Office 365 "
                                                           "Protection in either the standard or strict preset "
                                                           "security policy")
SCUBA_DEFENDER_IMPERSONATION = Reference(S, "MS.DEFENDER.2.1v1", "User impersonation protection SHOULD be enabled "
                                                                 "for sensitive accounts in both the standard and "
                                                                 "strict preset policies")
# CISA SCuBA — Gmail (ScubaGoggles gmail.md; cited without the version suffix)
SCUBA_GWS_DKIM = Reference(S, "GWS.GMAIL.2.1", "DKIM SHOULD be enabled for all domains")
SCUBA_GWS_SPF = Reference(S, "GWS.GMAIL.3.1", "An SPF policy SHALL be published for each domain that fails all "
                                              "non-approved senders")
SCUBA_GWS_DMARC = Reference(S, "GWS.GMAIL.4.1", "A DMARC policy SHALL be published for every second-level domain")
SCUBA_GWS_ATTACHMENTS = Reference(S, "GWS.GMAIL.5.1", "Protect against encrypted attachments from untrusted "
                                                      "senders SHALL be enabled")
SCUBA_GWS_LINKS = Reference(S, "GWS.GMAIL.6.1", "Identify links behind shortened URLs SHALL be enabled")
SCUBA_GWS_SPOOFING = Reference(S, "GWS.GMAIL.7.1", "Protect against domain spoofing based on similar domain names "
                                                   "SHALL be enabled")
SCUBA_GWS_ALLOWLIST = Reference(S, "GWS.GMAIL.14.1", "An email allowlist SHOULD not be implemented")
SCUBA_GWS_PREDELIVERY = Reference(S, "GWS.GMAIL.15.1", "Enhanced pre-delivery message scanning SHALL be enabled")
# MITRE ATT&CK
T_PHISH_ATTACHMENT = Reference(A, "T1566.001", "Phishing: Spearphishing Attachment")
T_IMPERSONATION = Reference(A, "T1656", "Impersonation")
T_DISABLE_LOGS = Reference(A, "T1562.008", "Impair Defenses: Disable or Modify Cloud Logs")
