"""Authentication checks: can a phished password alone open a mailbox, and is MFA strong enough to matter?

Per-user checks are vectorised (one map per column) so 100,000 users stay well under a second.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from checks import references as R
from checks.catalogue import check
from checks.common import (
    FAIL,
    HIGH,
    MEDIUM,
    NOT_APPLICABLE,
    PASS,
    UNKNOWN,
    enabled_mask,
    google_ou_setting,
    is_break_glass,
    is_guest,
    or_not_applicable,
    privileged_set,
    setting_or_none,
    tenant_row,
    tri_state,
    truthy,
    unsure_privilege,
)
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.tables import AuditData

MS, GG = Provider.MICROSOFT, Provider.GOOGLE
FAMILY = "authentication"
STRENGTHS = ("none", "weak", "standard", "phishing_resistant")  # idaudit.core.methods vocabulary


NO_MEMBERS = "no enabled member accounts in the directory"


def _members(data: AuditData) -> pd.DataFrame:
    users = data.table("users")
    return users[enabled_mask(users) & ~is_guest(users)]


def _labels(users: pd.DataFrame) -> pd.Series:
    label = users["principal"].where(users["principal"] != "", users["display_name"])
    return label.where(label != "", users["user_id"])


def _lookup(table: pd.DataFrame, column: str, keys: pd.Series) -> pd.Series:
    """table[column] for each key (user_id), NA where the user has no row."""
    first = table.drop_duplicates("user_id").set_index("user_id")[column]
    return keys.map(first).astype(object)  # object: an empty table must not turn the column into float NaN


@check(
    id="IDA-AUTH-001", title="Enabled account with no MFA method registered", severity=Severity.CRITICAL,
    rationale="""A phished password is all an attacker needs to open this mailbox. Worse, the first person to sign
    in with that password is asked to register MFA — the attacker registers their own phone or authenticator and
    keeps access even after the password is changed, reading and forwarding patient mail at leisure.""",
    remediation="""Register MFA for the user now (ideally in person) or disable the account until they can.""",
    steps={MS: """Issue a Temporary Access Pass: Entra admin centre > Users > (user) > Authentication methods
           > Add authentication method; PowerShell: `New-MgUserAuthenticationTemporaryAccessPassMethod -UserId
           <upn>`.""",
           GG: """Admin console > Security > 2-Step Verification; `gam user <email> show 2sv`, then have the
           user enrol at myaccount.google.com/signinoptions/two-step-verification."""},
    references=(R.HIPAA_AUTH, R.HIPAA_PASSWORD, R.CPG_MFA, R.CIS_M365_MFA_CAPABLE, R.CIS_M365_MFA_ALL,
                R.SCUBA_MFA_ALL, R.SCUBA_GWS_MFA, R.T_VALID_CLOUD, R.T_DEVICE_REG),
    providers=(MS, GG), requires=("users", "mfa_registration"), subject_kind=SubjectKind.USER, family=FAMILY,
    lookup_tables=("mfa_registration",),  # every enabled member is listed; a disabled one is outside the check
)
def no_mfa_registered(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    users = _members(data)
    reg = data.table("mfa_registration")
    registered = tri_state(_lookup(reg, "registered", users["user_id"]))
    methods = _lookup(reg, "methods", users["user_id"]).fillna("").astype(str)
    status = np.select([registered == "yes", registered == "no"], [PASS, FAIL], UNKNOWN)
    evidence = np.select(
        [registered == "yes", registered == "no"],
        ["MFA methods registered: " + methods.where(methods != "", "(not listed)"),
         pd.Series("no MFA method registered: the password alone signs in", index=users.index)],
        "MFA registration was not collected for this account")
    # Registration without enforcement data: a registered method may still never be asked for.
    confidence = pd.Series(HIGH, index=users.index)
    if data.available("mfa_enforcement"):
        enforced = _lookup(data.table("mfa_enforcement"), "enforced", users["user_id"]).fillna("unknown")
        confidence = confidence.where(enforced == "yes", MEDIUM)
    else:
        confidence[:] = MEDIUM
    confidence = confidence.where(status == PASS, HIGH)
    return result_frame(or_not_applicable(pd.DataFrame({
        "subject_id": users["user_id"], "subject": _labels(users), "status": status, "evidence": evidence,
        "confidence": confidence}), NO_MEMBERS))


@check(
    id="IDA-AUTH-002", title="Account not covered by MFA enforcement", severity=Severity.CRITICAL,
    rationale="""Registering MFA does not mean it is asked for. If no enabled policy requires MFA for this account
    on every sign-in to every app — because it is excluded (directly, through a group or a role), the only policy
    is report-only, or the policy is narrowed to some apps, platforms or locations — a phished password signs
    straight in and the attacker sets up forwarding rules or consents to a mail-reading app.""",
    remediation="""Close the exact gap named in the evidence: remove the exclusion, switch a report-only
    policy on, or widen the policy to every user and every app with no narrowing conditions.""",
    steps={MS: """Entra admin centre > Protection > Conditional Access > Policies (or turn on security
           defaults if you have no Entra ID P1); Graph: `GET /identity/conditionalAccess/policies` to review,
           `PATCH /identity/conditionalAccess/policies/{id}` with `"state": "enabled"`.""",
           GG: """Admin console > Security > Authentication > 2-Step Verification > Enforcement: On for every
           OU; `gam print users query "isEnforcedIn2Sv=False"`."""},
    references=(R.HIPAA_AUTH, R.HIPAA_ACCESS, R.CPG_MFA, R.CIS_M365_MFA_ALL, R.SCUBA_MFA_ALL, R.SCUBA_GWS_MFA,
                R.T_VALID_CLOUD, R.T_SPRAY),
    providers=(MS, GG), requires=("users", "mfa_enforcement"), subject_kind=SubjectKind.USER, family=FAMILY,
    uses_settings=("security_defaults_enabled",), lookup_tables=("mfa_enforcement",),  # every enabled account listed
)
def mfa_not_enforced(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    users = data.table("users")
    users = users[enabled_mask(users)]
    enf = data.table("mfa_enforcement")
    keys = users["user_id"]
    enforced = _lookup(enf, "enforced", keys).fillna("missing").astype(str).str.casefold()
    by = _lookup(enf, "enforced_by", keys).fillna("").astype(str)
    strength = _lookup(enf, "strength", keys).fillna("").astype(str)
    reason = _lookup(enf, "reason", keys).fillna("").astype(str)
    weaker = strength == "weaker_alternative"
    status = np.select([enforced == "yes", enforced == "no"], [PASS, FAIL], UNKNOWN)
    pass_text: pd.Series = "MFA required by " + by.where(by != "", "(source not named)") \
        + np.where(weaker, " — but the policy also accepts a non-MFA control (compliant device / approved app)", "")
    chosen = np.select(
        [enforced == "yes", enforced == "no", enforced == "missing"],
        [pass_text, "MFA not required on sign-in: " + reason.where(reason != "", "no policy covers this account"),
         pd.Series("MFA enforcement was not evaluated for this account", index=users.index)],
        "cannot tell whether MFA is required: " + reason.where(reason != "", "enforcement data incomplete"))
    evidence = pd.Series(chosen, index=users.index)
    bg = is_break_glass(users, settings)
    evidence = evidence.where(~bg, evidence + " (listed as a break-glass account in audit.break_glass)")
    confidence = np.where(weaker & (status == PASS), MEDIUM, HIGH)
    return result_frame(or_not_applicable(pd.DataFrame({
        "subject_id": keys, "subject": _labels(users), "status": status, "evidence": evidence,
        "confidence": confidence}), "no enabled accounts in the directory"))


def _privileged_users(data: AuditData) -> pd.DataFrame:
    """Enabled privileged role holders joined to their user row (user_id, subject, roles, ...)."""
    holders = privileged_set(data).holders
    users = data.table("users")
    users = users[enabled_mask(users)]
    merged = holders.merge(users[["user_id", "principal", "display_name"]], on="user_id", how="inner")
    merged["subject"] = _labels(merged)
    return merged


@check(
    id="IDA-AUTH-003", title="Privileged role holder without a phishing-resistant method", severity=Severity.HIGH,
    rationale="""Adversary-in-the-middle phishing kits relay push approvals and one-time codes in real time, so an
    administrator using SMS, an authenticator app or a code can still be phished. With an admin session the
    attacker grants themselves mailbox access, disables forwarding controls or consents to an app tenant-wide.
    Only FIDO2 keys, passkeys, Windows Hello or certificates are bound to the real sign-in site.""",
    remediation="""Issue the administrator a FIDO2 security key or passkey and remove weaker methods.""",
    steps={MS: """Entra admin centre > Protection > Authentication methods > Passkey (FIDO2) > Enable; the
           user registers at https://aka.ms/mysecurityinfo; Graph: `GET
           /users/{id}/authentication/fido2Methods` to confirm.""",
           GG: """Admin console > Security > 2-Step Verification > allowed methods 'Only security key' for the
           admin OU; `gam user <email> show securitykeys`."""},
    references=(R.HIPAA_AUTH, R.HIPAA_ACCESS, R.CPG_MFA, R.CPG_SEPARATE, R.CIS_M365_PR_ADMINS,
                R.SCUBA_PR_PRIV, R.SCUBA_GWS_PR, R.T_PHISH_LINK, R.T_MFA_REQUEST, R.T_VALID_CLOUD),
    providers=(MS, GG), requires=("users", "role_assignments", "mfa_registration"), subject_kind=SubjectKind.USER,
    family=FAMILY,
    # every privileged holder is listed; an admin whose roles were not collected is not, so the engine lists them
    lookup_tables=("mfa_registration",),
    provenance="role",
)
def privileged_without_phishing_resistant(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    priv = _privileged_users(data)
    if priv.empty:
        return result_frame([tenant_row(NOT_APPLICABLE, "no enabled account holds a privileged role")])
    reg = data.table("mfa_registration")
    strongest = _lookup(reg, "strongest", priv["user_id"])
    methods = _lookup(reg, "methods", priv["user_id"]).fillna("").astype(str)
    strongest = strongest.fillna("").astype(str)
    known = strongest.isin(STRENGTHS)  # 'unknown' / '' (e.g. Google hides per-user methods) is not a verdict
    pr = strongest == "phishing_resistant"
    status = np.select([known & pr, known], [PASS, FAIL], UNKNOWN)
    methods_text = methods.where(methods != "", "none")
    evidence = np.select(
        [known & pr, known],
        ["holds " + priv["roles"] + "; phishing-resistant method registered (" + methods_text + ")",
         "holds " + priv["roles"] + "; strongest method is " + strongest.replace({"none": "none at all"})
         + " (" + methods_text + ")"],
        "holds " + priv["roles"] + "; MFA method strength not collected for this account (registered: "
        + methods_text + ")")
    status, evidence = unsure_privilege(data, priv, status, evidence)
    return result_frame(pd.DataFrame({"subject_id": priv["user_id"], "subject": priv["subject"],
                                      "status": status, "evidence": evidence}))


@check(
    id="IDA-AUTH-004", title="Only weak MFA methods registered (SMS, voice or email)", severity=Severity.MEDIUM,
    rationale="""SMS and voice codes are stolen by SIM swapping and by phishing pages that simply ask for the
    code; email codes go to a mailbox that may itself be compromised. An account whose only second factor is one
    of these is one convincing text message away from an attacker reading patient mail.""",
    remediation="""Have the user register an authenticator app or a passkey, then remove the phone or email
    method.""",
    steps={MS: """Microsoft Authenticator or a passkey; Entra admin centre > Users > (user) > Authentication
           methods; PowerShell: `Get-MgUserAuthenticationPhoneMethod -UserId <upn>` /
           `Remove-MgUserAuthenticationPhoneMethod`.""",
           GG: """The user enrols Google Prompt or a security key; Admin console > Security > 2-Step
           Verification > Allowed methods 'Any except verification codes via text, phone call'."""},
    references=(R.HIPAA_AUTH, R.CPG_MFA, R.CIS_M365_WEAK_METHODS, R.SCUBA_WEAK_METHODS, R.SCUBA_GWS_NO_SMS,
                R.T_MFA_REQUEST, R.T_PHISH_LINK),
    providers=(MS, GG), requires=("users", "mfa_registration"), subject_kind=SubjectKind.USER, family=FAMILY,
    lookup_tables=("mfa_registration",),  # every enabled member is listed; a disabled one is outside the check
)
def only_weak_methods(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    users = _members(data)
    reg = data.table("mfa_registration")
    registered = tri_state(_lookup(reg, "registered", users["user_id"]))
    strongest = _lookup(reg, "strongest", users["user_id"]).fillna("").astype(str)
    methods = _lookup(reg, "methods", users["user_id"]).fillna("").astype(str)
    weak = strongest == "weak"
    known_strength = strongest.isin(STRENGTHS[1:])
    status = np.select(
        [registered == "no", (registered == "yes") & weak, (registered == "yes") & known_strength],
        [NOT_APPLICABLE, FAIL, PASS], UNKNOWN)
    evidence = np.select(
        [registered == "no", (registered == "yes") & weak, (registered == "yes") & known_strength],
        [pd.Series("no MFA method at all (see IDA-AUTH-001)", index=users.index),
         "only weak methods registered: " + methods,
         "strongest method is " + strongest + ": " + methods],
        "MFA registration or method strength was not collected for this account")
    return result_frame(or_not_applicable(pd.DataFrame({
        "subject_id": users["user_id"], "subject": _labels(users), "status": status, "evidence": evidence}),
        NO_MEMBERS))


@check(
    id="IDA-AUTH-005", title="Privileged user not required to use phishing-resistant MFA", severity=Severity.HIGH,
    rationale="""Owning a FIDO2 key does not help if sign-in still accepts a push or a code: the phishing proxy just
    picks the weaker method. Unless a policy demands a phishing-resistant authentication strength for
    administrators, a relayed admin session lets the attacker open every mailbox and grant apps tenant-wide
    access to patient data.""",
    remediation="""Require phishing-resistant MFA (security key or passkey) for every administrator.""",
    steps={MS: """Built-in 'Phishing-resistant MFA' authentication strength: Entra admin centre > Protection >
           Conditional Access > New policy: Users > Directory roles (all privileged roles), Target resources >
           All resources, Grant > Require authentication strength > Phishing-resistant MFA; Graph: `POST
           /identity/conditionalAccess/policies` with grantControls.authenticationStrength id
           00000000-0000-0000-0000-000000000004.""",
           GG: """Put administrators in an OU whose 2-Step Verification allowed methods is 'Only security key'
           (Admin console > Security > Authentication > 2-Step Verification)."""},
    references=(R.HIPAA_AUTH, R.HIPAA_ACCESS, R.CPG_MFA, R.CPG_SEPARATE, R.CIS_M365_PR_ADMINS, R.SCUBA_PR_PRIV,
                R.SCUBA_GWS_PR, R.T_PHISH_LINK, R.T_VALID_CLOUD),
    providers=(MS, GG), requires=("users", "role_assignments", "mfa_enforcement"), subject_kind=SubjectKind.USER,
    family=FAMILY, lookup_tables=("mfa_enforcement",),  # every privileged holder is listed,
    provenance="role"
)
def privileged_not_phishing_resistant_enforced(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    priv = _privileged_users(data)
    if priv.empty:
        return result_frame([tenant_row(NOT_APPLICABLE, "no enabled account holds a privileged role")])
    enf = data.table("mfa_enforcement")
    pr = _lookup(enf, "phishing_resistant", priv["user_id"]).fillna("missing").astype(str).str.casefold()
    by = _lookup(enf, "enforced_by", priv["user_id"]).fillna("").astype(str)
    reason = _lookup(enf, "reason", priv["user_id"]).fillna("").astype(str)
    status = np.select([pr == "yes", pr == "no"], [PASS, FAIL], UNKNOWN)
    evidence = np.select(
        [pr == "yes", pr == "no", pr == "missing"],
        ["holds " + priv["roles"] + "; phishing-resistant strength required by " + by.where(by != "", "a policy"),
         "holds " + priv["roles"] + "; no policy requires a phishing-resistant strength"
         + np.where(reason != "", " (" + reason + ")", ""),
         "holds " + priv["roles"] + "; MFA enforcement was not evaluated for this account"],
        "holds " + priv["roles"] + "; cannot tell: " + reason.where(reason != "", "enforcement data incomplete"))
    status, evidence = unsure_privilege(data, priv, status, evidence)
    return result_frame(pd.DataFrame({"subject_id": priv["user_id"], "subject": priv["subject"],
                                      "status": status, "evidence": evidence}))


@check(
    id="IDA-AUTH-006", title="Legacy authentication not blocked", severity=Severity.HIGH,
    rationale="""Legacy protocols (IMAP, POP, SMTP AUTH, ActiveSync basic auth, older Office clients) cannot do
    MFA. Password-spraying tools use them precisely because a correct password there downloads the whole mailbox
    over IMAP with no second factor, whatever your MFA policies say. A block that excludes some accounts (often the
    scanner and fax accounts also excluded from MFA), skips some locations or platforms, or blocks only ActiveSync
    leaves exactly those accounts open: each account is judged on its own.""",
    remediation="""Block legacy authentication (protocols that cannot ask for MFA) for every account, without
    exclusions.""",
    steps={MS: """Conditional Access: Entra admin centre > Protection > Conditional Access > New policy: Users
           > All users, Target resources > All resources, Conditions > Client apps > Exchange ActiveSync
           clients + Other clients, Grant > Block access (or turn on security defaults). Graph: `POST /identity/conditionalAccess/policies` with
           conditions.clientAppTypes ["exchangeActiveSync","other"] and grantControls.builtInControls
           ["block"]."""},
    references=(R.HIPAA_AUTH, R.HIPAA_ACCESS, R.CPG_MFA, R.CIS_M365_LEGACY, R.SCUBA_LEGACY, R.T_SPRAY,
                R.T_VALID_CLOUD, R.T_REMOTE_EMAIL),
    providers=(MS,), requires=("users", "mfa_enforcement"), subject_kind=SubjectKind.USER, family=FAMILY,
    lookup_tables=("mfa_enforcement",),  # every enabled account is listed
)
def legacy_auth_not_blocked(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    """Per account, from the same path-by-path evaluation as MFA enforcement (mfa_enforcement.legacy_blocked):
    a block policy, an MFA requirement on legacy clients (they cannot satisfy it), security defaults or per-user
    MFA 'enforced' closes them; an exclusion, a narrowing condition or per-user 'enabled' leaves them open."""
    users = data.table("users")
    users = users[enabled_mask(users)]
    enf = data.table("mfa_enforcement")
    keys = users["user_id"]
    legacy = _lookup(enf, "legacy_blocked", keys).fillna("missing").astype(str).str.casefold()
    detail = _lookup(enf, "legacy_detail", keys).fillna("").astype(str)
    status = np.select([legacy == "yes", legacy == "no"], [PASS, FAIL], UNKNOWN)
    chosen = np.select(
        [legacy == "yes", legacy == "no", legacy == "missing"],
        ["legacy authentication is closed for this account by " + detail.where(detail != "", "(not named)"),
         detail.where(detail != "", "legacy protocols (IMAP, POP, SMTP AUTH, ActiveSync) take this account's "
                      "password alone"),
         pd.Series("legacy authentication was not evaluated for this account", index=users.index)],
        "cannot tell whether legacy authentication is closed: " + detail.where(detail != "", "data incomplete"))
    evidence = pd.Series(chosen, index=users.index)
    bg = is_break_glass(users, settings)
    evidence = evidence.where(~bg, evidence + " (listed as a break-glass account in audit.break_glass)")
    return result_frame(or_not_applicable(pd.DataFrame({
        "subject_id": keys, "subject": _labels(users), "status": status, "evidence": evidence}),
        "no enabled accounts in the directory"))


@check(
    id="IDA-AUTH-007", title="SMS, voice or email one-time codes enabled tenant-wide", severity=Severity.MEDIUM,
    rationale="""While SMS, voice call or email OTP are allowed sign-in methods, users keep registering them and the
    phishing kit can always fall back to them: a code read out over a SIM-swapped phone or typed into a fake page
    opens the mailbox just like a password.""",
    remediation="""Disable the weak methods once users have moved to an authenticator app or passkeys.""",
    steps={MS: """Entra admin centre > Protection > Authentication methods > Policies > SMS / Voice call /
           Email OTP > Enable: No; Graph: `PATCH
           /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/sms` with
           `{"state":"disabled"}` (same for voice, email)."""},
    references=(R.HIPAA_AUTH, R.CPG_MFA, R.CIS_M365_WEAK_METHODS, R.CIS_M365_EMAIL_OTP, R.SCUBA_WEAK_METHODS,
                R.T_MFA_REQUEST, R.T_PHISH_LINK),
    providers=(MS,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("sms_sign_in_enabled", "voice_enabled", "email_otp_enabled"),
)
def weak_methods_enabled(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    labels = {"sms_sign_in_enabled": "SMS", "voice_enabled": "voice call", "email_otp_enabled": "email OTP"}
    enabled, unknown = [], []
    for key, label in labels.items():
        value, why = setting_or_none(data, key)
        state = truthy(value)
        if state:
            enabled.append(label)
        elif state is None:
            unknown.append(f"{label} ({why or f'unrecognised value {value!r}'})")
    if enabled:
        extra = f"; not collected: {', '.join(unknown)}" if unknown else ""
        return result_frame([tenant_row(FAIL, f"enabled: {', '.join(enabled)}{extra}")])
    if unknown:
        return result_frame([tenant_row(UNKNOWN, f"not collected: {', '.join(unknown)}")])
    return result_frame([tenant_row(PASS, "SMS, voice call and email OTP are all disabled")])


def _google_setting_check(data: AuditData, key: str, bad: set[str], fail_text: str, pass_text: str) -> pd.DataFrame:
    return result_frame([google_ou_setting(data, key, GOOGLE_OU_KEYS[key], bad, fail_text, pass_text)])


GOOGLE_OU_KEYS = {"google_allowed_factors": "google_telephony_ous", "google_device_trust": "google_device_trust_ous",
                  "google_less_secure_apps": "google_less_secure_apps_ous"}


@check(
    id="IDA-AUTH-008", title="Google: telephone (SMS / voice) 2-Step Verification allowed", severity=Severity.MEDIUM,
    rationale="""When text-message and phone-call codes are allowed second factors, SIM swapping or a fake sign-in
    page that asks for the code turns a phished password into a full Gmail and Drive session.""",
    remediation="""Stop accepting codes by text message or phone call as the second step.""",
    steps={GG: """Admin console > Security > Authentication > 2-Step Verification > Allowed methods: 'Any
           except verification codes via text, phone call' (or 'Only security key'). Check with `gam print
           policies query "setting.type.matches('security.two_step_verification_enforcement_factor')"`."""},
    references=(R.HIPAA_AUTH, R.CPG_MFA, R.SCUBA_GWS_NO_SMS, R.T_MFA_REQUEST, R.T_PHISH_LINK),
    providers=(GG,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("google_allowed_factors", "google_telephony_ous", "google_telephony_groups",
                   "google_telephony_undecided"),
)
def google_telephony_factors(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return _google_setting_check(data, "google_allowed_factors", {"all"},
                                 "text-message and phone-call codes are allowed as the second factor",
                                 "telephone codes are not allowed as the second factor")


@check(
    id="IDA-AUTH-009", title="Google: users may skip 2-Step Verification on trusted devices", severity=Severity.LOW,
    rationale="""'Trust this device' lets a browser skip the second factor for good. Session-cookie theft or a
    shared clinic workstation then gives an attacker Gmail without any MFA challenge.""",
    remediation="""Stop letting users skip the second step on devices they mark as trusted.""",
    steps={GG: """Admin console > Security > Authentication > 2-Step Verification > uncheck 'Allow user to
           trust the device'. Check with `gam print policies query
           "setting.type.matches('security.two_step_verification_device_trust')"`."""},
    references=(R.HIPAA_AUTH, R.CPG_MFA, R.SCUBA_GWS_TRUST_DEVICE, R.T_VALID_CLOUD),
    providers=(GG,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("google_device_trust", "google_device_trust_ous", "google_device_trust_groups",
                   "google_device_trust_undecided"),
)
def google_device_trust(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return _google_setting_check(data, "google_device_trust", {"true"},
                                 "users may trust a device and skip 2-Step Verification there",
                                 "users may not skip 2-Step Verification on trusted devices")


@check(
    id="IDA-AUTH-010", title="Google: less secure apps allowed", severity=Severity.HIGH,
    rationale="""Less secure apps sign in with the password alone over IMAP/POP/SMTP, bypassing 2-Step
    Verification entirely: a sprayed or phished password downloads the whole mailbox.""",
    remediation="""Turn off password-only sign-in for less secure apps.""",
    steps={GG: """Admin console > Security > Access and data control > Less secure apps > 'Disable access to
           less secure apps (Recommended)'. Check with `gam print policies query
           "setting.type.matches('security.less_secure_apps')"`."""},
    references=(R.HIPAA_AUTH, R.HIPAA_ACCESS, R.CPG_MFA, R.T_SPRAY, R.T_REMOTE_EMAIL),
    providers=(GG,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("google_less_secure_apps", "google_less_secure_apps_ous", "google_less_secure_apps_groups",
                   "google_less_secure_apps_undecided"),
)
def google_less_secure_apps(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return _google_setting_check(data, "google_less_secure_apps", {"true"},
                                 "less secure apps may sign in with a password only",
                                 "less secure apps are blocked")
