"""Authentication checks: a failing, a passing and an unknown case each, through the real engine."""

from __future__ import annotations

from idaudit.core.engine import CheckSettings
from tests.checkkit import Case, Tenant, cases_param, run, status


def _base() -> Tenant:
    return Tenant().domains("clinic.org").user("u1", "ann@clinic.org")


def _admin(methods: tuple[str, ...] = ("sms",), **role_kw: object) -> Tenant:
    return _base().role("u1", **role_kw).mfa("u1", *methods)  # type: ignore[arg-type]


CASES = [
    # IDA-AUTH-001 no MFA method registered
    Case("IDA-AUTH-001", "fail", lambda: _base().mfa("u1").build(), "u1", "no MFA method registered"),
    Case("IDA-AUTH-001", "pass", lambda: _base().mfa("u1", "authenticator_push")
         .enforcement("u1", "yes", by="security defaults").build(), "u1", "authenticator_push", confidence="high"),
    Case("IDA-AUTH-001", "pass", lambda: _base().mfa("u1", "authenticator_push").missing("mfa_enforcement").build(),
         "u1", "authenticator_push", confidence="medium", name="registered-but-enforcement-unknown-is-medium"),
    Case("IDA-AUTH-001", "unknown", lambda: _base().build(), "u1", "not collected",
         name="user-without-registration-row"),
    Case("IDA-AUTH-001", "unknown", lambda: _base().mfa("u1", "fido2").missing("mfa_registration").build(), "*",
         "required data not collected", name="registration-table-missing"),
    Case("IDA-AUTH-001", "unknown", lambda: _base().mfa("u1", "fido2").partial("mfa_registration", u1="timeout")
         .build(), "u1", "timeout", name="partial-registration-never-passes"),
    # IDA-AUTH-002 not covered by MFA enforcement
    Case("IDA-AUTH-002", "fail", lambda: _base().enforcement(
        "u1", "no", reason="excluded through group 'Break Glass' in policy 'Require MFA for all'").build(),
         "u1", "excluded through group 'Break Glass'"),
    Case("IDA-AUTH-002", "pass", lambda: _base().enforcement("u1", "yes", by="CA policy 'Require MFA'").build(),
         "u1", "CA policy 'Require MFA'", confidence="high"),
    Case("IDA-AUTH-002", "pass", lambda: _base().enforcement("u1", "yes", by="CA policy 'MFA or compliant'",
                                                             strength="weaker_alternative").build(),
         "u1", "non-MFA control", confidence="medium", name="or-with-compliant-device-is-weaker"),
    Case("IDA-AUTH-002", "unknown", lambda: _base().enforcement(
        "u1", "unknown", reason="conditionalAccessPolicies: unlicensed").build(), "u1", "unlicensed"),
    Case("IDA-AUTH-002", "unknown", lambda: _base().build(), "u1", "not evaluated", name="no-enforcement-row"),
    # IDA-AUTH-003 privileged without phishing-resistant method
    Case("IDA-AUTH-003", "fail", lambda: _admin(("sms",)).build(), "u1", "strongest method is weak"),
    Case("IDA-AUTH-003", "fail", lambda: _admin(("authenticator_push",), role_name="Exchange Administrator",
                                                role_id="29232cdf", assignment="eligible",
                                                via_group="IT Admins").build(),
         "u1", "PIM-eligible, through group 'IT Admins'", name="eligible-through-group-counts"),
    Case("IDA-AUTH-003", "pass", lambda: _admin(("fido2", "authenticator_push")).build(), "u1", "fido2"),
    Case("IDA-AUTH-003", "unknown", lambda: _base().role("u1").build(), "u1", "not collected"),
    Case("IDA-AUTH-003", "unknown", lambda: Tenant("google").user("u1").role("u1", "Super Admin", "super_admin")
         .mfa("u1", "2sv", strongest="unknown").build(), "u1", "not collected", name="google-strength-unknown"),
    Case("IDA-AUTH-003", "not_applicable", lambda: _base().mfa("u1", "sms").build(), "tenant",
         "no enabled account holds a privileged role"),
    # a role whose privilege level was not collected keeps its holder in the check, as unknown (never dropped)
    Case("IDA-AUTH-003", "unknown", lambda: _admin(("sms",), role_name="Mystery Role", role_id="x", privileged=None)
         .build(), "u1", "cannot tell whether these roles are privileged", name="unknown-privilege-is-unknown"),
    Case("IDA-AUTH-003", "pass", lambda: _admin(("fido2",), role_name="Mystery Role", role_id="x", privileged=None)
         .build(), "u1", "privilege level not collected", name="unknown-privilege-with-key-passes"),
    # IDA-AUTH-004 only weak methods
    Case("IDA-AUTH-004", "fail", lambda: _base().mfa("u1", "sms", "email").build(), "u1", "only weak methods"),
    Case("IDA-AUTH-004", "pass", lambda: _base().mfa("u1", "sms", "authenticator_push").build(), "u1", "standard"),
    Case("IDA-AUTH-004", "not_applicable", lambda: _base().mfa("u1").build(), "u1", "IDA-AUTH-001"),
    Case("IDA-AUTH-004", "unknown", lambda: _base().build(), "u1", "not collected"),
    # IDA-AUTH-005 privileged user not required to use phishing-resistant MFA
    Case("IDA-AUTH-005", "fail", lambda: _base().role("u1").enforcement("u1", "yes", by="security defaults",
                                                                       phishing_resistant="no").build(),
         "u1", "no policy requires a phishing-resistant strength"),
    Case("IDA-AUTH-005", "pass", lambda: _base().role("u1").enforcement(
        "u1", "yes", by="CA policy 'Admins phishing-resistant'", phishing_resistant="yes").build(),
         "u1", "Admins phishing-resistant"),
    Case("IDA-AUTH-005", "unknown", lambda: _base().role("u1").enforcement(
        "u1", "unknown", reason="group 'Admins' members not collected", phishing_resistant="unknown").build(),
         "u1", "members not collected"),
    # IDA-AUTH-006 legacy auth, per account (mfa_enforcement.legacy_blocked)
    Case("IDA-AUTH-006", "fail", lambda: _base().enforcement(
        "u1", "no", legacy="no", legacy_detail="Exchange ActiveSync and other (legacy) client sign-ins accept the "
        "password alone: excluded through group 'Scanners' in policy 'Block legacy'").build(),
         "u1", "excluded through group 'Scanners'"),
    Case("IDA-AUTH-006", "pass", lambda: _base().enforcement(
        "u1", "yes", legacy="yes", legacy_detail="CA policy 'Block legacy' (blocks sign-in)").build(),
         "u1", "'Block legacy'"),
    Case("IDA-AUTH-006", "pass", lambda: _base().enforcement(
        "u1", "yes", legacy="yes", legacy_detail="security defaults").build(), "u1", "security defaults",
         name="security-defaults-block-legacy"),
    Case("IDA-AUTH-006", "unknown", lambda: _base().enforcement(
        "u1", "unknown", legacy="unknown", legacy_detail="Conditional Access policies not collected "
        "(conditionalAccessPolicies: unlicensed — requires Entra ID P1)").build(), "u1", "requires Entra ID P1"),
    Case("IDA-AUTH-006", "unknown", lambda: _base().build(), "u1", "not evaluated", name="legacy-no-enforcement-row"),
    Case("IDA-AUTH-006", "unknown", lambda: _base().enforcement("u1", "yes").missing("mfa_enforcement").build(),
         "*", "required data not collected", name="legacy-enforcement-table-missing"),
    # IDA-AUTH-007 SMS / voice / email OTP
    Case("IDA-AUTH-007", "fail", lambda: _base().setting("sms_sign_in_enabled", "true")
         .setting("voice_enabled", "false").setting_gap("email_otp_enabled", "forbidden").build(),
         "tenant", "enabled: SMS"),
    Case("IDA-AUTH-007", "pass", lambda: _base().setting("sms_sign_in_enabled", "false")
         .setting("voice_enabled", "false").setting("email_otp_enabled", "false").build(), "tenant", "disabled"),
    Case("IDA-AUTH-007", "unknown", lambda: _base().setting("sms_sign_in_enabled", "false")
         .setting("voice_enabled", "false").setting_gap("email_otp_enabled", "authenticationMethodsPolicy: "
                                                                              "forbidden").build(),
         "tenant", "email OTP (authenticationMethodsPolicy: forbidden)"),
    # Google settings
    Case("IDA-AUTH-008", "fail", lambda: Tenant("google").setting("google_allowed_factors", "ALL").build(),
         "tenant", "text-message"),
    Case("IDA-AUTH-008", "pass", lambda: Tenant("google").setting("google_allowed_factors", "NO_TELEPHONY")
         .build(), "tenant", "child OUs not collected", confidence="medium", name="root-only-pass-is-medium"),
    Case("IDA-AUTH-008", "unknown", lambda: Tenant("google").setting_gap("google_allowed_factors", "policies: "
                                                                         "forbidden").build(), "tenant", "forbidden"),
    Case("IDA-AUTH-008", "fail", lambda: Tenant("google").setting("google_allowed_factors", "NO_TELEPHONY")
         .setting("google_telephony_ous", "/Front Desk; /Billing").build(), "tenant", "/Front Desk, /Billing",
         name="child-ou-allows-telephony"),
    Case("IDA-AUTH-008", "pass", lambda: Tenant("google").setting("google_allowed_factors", "NO_TELEPHONY")
         .setting("google_telephony_ous", "").setting("google_telephony_groups", "")
         .setting("google_telephony_undecided", "").build(), "tenant", "every organisational unit and group",
         confidence="high", name="no-ou-or-group-allows-telephony"),
    Case("IDA-AUTH-008", "pass", lambda: Tenant("google").setting("google_allowed_factors", "NO_TELEPHONY")
         .setting("google_telephony_ous", "").build(), "tenant", "group-targeted policies not evaluated",
         confidence="medium", name="groups-not-evaluated-pass-is-medium"),
    Case("IDA-AUTH-008", "fail", lambda: Tenant("google").setting("google_allowed_factors", "NO_TELEPHONY")
         .setting("google_telephony_ous", "").setting("google_telephony_groups", "nurses@clinic.org (12 members)")
         .setting("google_telephony_undecided", "").build(), "tenant", "group policy for nurses@clinic.org",
         name="group-allows-telephony"),
    Case("IDA-AUTH-008", "unknown", lambda: Tenant("google").setting("google_allowed_factors", "NO_TELEPHONY")
         .setting("google_telephony_ous", "").setting("google_telephony_groups", "")
         .setting("google_telephony_undecided", "OU /Lab (allowedSignInFactorSet 'NEW' not understood)").build(),
         "tenant", "could not be read for OU /Lab", name="ou-undecided"),
    Case("IDA-AUTH-009", "fail", lambda: Tenant("google").setting("google_device_trust", "true").build(),
         "tenant", "trust a device"),
    Case("IDA-AUTH-009", "pass", lambda: Tenant("google").setting("google_device_trust", "false").build(),
         "tenant", "may not skip"),
    Case("IDA-AUTH-009", "unknown", lambda: Tenant("google").build(), "tenant", "not collected"),
    Case("IDA-AUTH-010", "fail", lambda: Tenant("google").setting("google_less_secure_apps", "true").build(),
         "tenant", "password only"),
    Case("IDA-AUTH-010", "pass", lambda: Tenant("google").setting("google_less_secure_apps", "false").build(),
         "tenant", "blocked"),
    Case("IDA-AUTH-010", "unknown", lambda: Tenant("google").setting_gap("google_less_secure_apps", "policies: "
                                                                         "error").build(), "tenant", "error"),
]


@cases_param(CASES)
def test_case(case: Case) -> None:
    case.verify()


def test_guests_are_not_members_for_registration_but_are_for_enforcement() -> None:
    data = (_base().user("g1", "partner#EXT#@clinic.org", user_type="guest").mfa("u1", "fido2")
            .enforcement("u1", "yes", by="security defaults").enforcement("g1", "no", reason="guests excluded")
            .build())
    reg = run(data, "IDA-AUTH-001")
    assert "g1" not in set(reg["subject_id"])
    assert status(run(data, "IDA-AUTH-002"), "g1") == "fail"


def test_disabled_accounts_are_not_evaluated() -> None:
    data = _base().user("u2", enabled=False).mfa("u1", "fido2").build()
    assert "u2" not in set(run(data, "IDA-AUTH-001")["subject_id"])


def test_break_glass_enforcement_gap_fails_and_is_labelled_for_a_waiver() -> None:
    data = (_base().user("bg", "breakglass1@clinic.org")
            .enforcement("bg", "no", reason="excluded directly in policy 'Require MFA'").build())
    got = run(data, "IDA-AUTH-002", CheckSettings(break_glass=frozenset({"breakglass1@clinic.org"})))
    bg = got[got["subject_id"] == "bg"].iloc[0]
    assert bg["status"] == "fail" and "break-glass" in bg["evidence"]


def test_google_checks_do_not_apply_to_microsoft() -> None:
    got = run(_base().setting("google_less_secure_apps", "true").build(), "IDA-AUTH-010")
    assert list(got["status"]) == ["not_applicable"]
