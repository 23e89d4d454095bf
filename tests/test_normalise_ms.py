"""Microsoft normaliser: raw Graph / Exchange JSON (tests/ms_raw.py) written to disk, loaded, normalised.

Users, MFA registration and enforcement, roles, and the availability rules (missing with the fix, partial by
failed subjects). Mail, apps and settings are in test_normalise_ms_mail_apps.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from idaudit.core.normalise import normalise
from idaudit.core.snapshot import SectionStatus
from idaudit.core.tables import SCHEMAS, AuditData, Availability
from tests.ms_raw import (
    ADA,
    BEN,
    BREAK_GLASS,
    CARA,
    EXCHANGE_ADMIN,
    GA,
    GUEST,
    HELPDESK,
    OFF,
    SHARED,
    raw_tenant,
)
from tests.ms_raw import write_snapshot as snap

FORBIDDEN = SectionStatus.FORBIDDEN
UNLICENSED = SectionStatus.UNLICENSED


def row(df: pd.DataFrame, user_id: str) -> pd.Series:
    hit = df[df["user_id"] == user_id]
    assert len(hit) == 1, hit
    return hit.iloc[0]


@pytest.fixture
def data(tmp_path: Path) -> AuditData:
    return normalise(snap(tmp_path / "s"))


# The minimal tenant holds no email-security data (DNS answers, Defender/EOP policies, audit configuration): those
# tables and settings are built and tested from their own fixtures (tests/test_email_auth.py,
# tests/test_checks_email_security.py) and must say here exactly which section was not collected.
EMAIL_SECURITY_TABLES = {"mail_domains": "dns.emailAuth", "mail_protections": "exchange.antiPhishPolicies"}
EMAIL_SECURITY_SETTINGS = {"unified_audit_log_ingestion", "mailbox_audit_disabled", "external_in_outlook",
                           "mailbox_audit_bypass"}


def test_every_table_has_the_schema_and_a_status(data: AuditData) -> None:
    assert data.provider == "microsoft" and data.tenant_name == "Riverside Clinic"
    assert set(data.tables) == set(SCHEMAS)
    for name, df in data.tables.items():
        assert list(df.columns) == list(SCHEMAS[name].columns), name
        if name in EMAIL_SECURITY_TABLES:
            assert data.status[name].availability is Availability.MISSING, (name, data.status[name])
            assert EMAIL_SECURITY_TABLES[name] in data.status[name].reason
            continue
        assert data.status[name].availability is Availability.OK, (name, data.status[name])
    assert set(data.setting_gaps) == EMAIL_SECURITY_SETTINGS
    assert all("not collected" in why for why in data.setting_gaps.values())


def test_users(data: AuditData) -> None:
    users = data.table("users")
    assert len(users) == 6
    ada, ben, cara = row(users, ADA), row(users, BEN), row(users, CARA)
    assert ada["last_sign_in"] == pd.Timestamp("2026-11-19T08:00:00Z")  # the successful one wins
    # lastSuccessfulSignInDateTime null: no success since 2023-12-01, whatever the (attempt) lastSignInDateTime says
    assert pd.isna(ben["last_sign_in"]) and ben["sign_in_source"] == "lastSuccessfulSignInDateTime"
    assert ben["last_sign_in_attempt"] == pd.Timestamp("2026-01-05T08:00:00Z")
    assert ada["sign_in_source"] == "lastSuccessfulSignInDateTime"
    assert pd.isna(row(users, OFF)["last_sign_in"]) and bool(row(users, OFF)["sign_in_known"])
    assert bool(ada["on_premises_synced"]) and not bool(ben["on_premises_synced"])
    assert bool(ada["licensed"]) and not bool(cara["licensed"])
    assert cara["display_name"] == '=HYPERLINK("http://x")'  # untrusted text stays text
    assert row(users, GUEST)["user_type"] == "guest" and ada["user_type"] == "member"
    assert not bool(row(users, OFF)["enabled"])
    assert dict(zip(users["user_id"], users["mailbox"], strict=True)) == {
        ADA: "user", BEN: "user", CARA: "user", GUEST: "none", SHARED: "shared", OFF: "none"}


def test_sign_in_field_absent_is_unknown(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["users"][1].pop("signInActivity")
    users = normalise(snap(tmp_path / "s", raw)).table("users")
    assert not bool(row(users, BEN)["sign_in_known"]) and bool(row(users, ADA)["sign_in_known"])


def test_sign_in_unlicensed_is_not_a_never_signed_in(tmp_path: Path) -> None:
    raw = raw_tenant()
    for u in raw["users"]:
        u.pop("signInActivity")
    d = normalise(snap(tmp_path / "s", raw, fail={"signInActivity": (UNLICENSED, "403 requires Entra ID P1")}))
    users = d.table("users")
    assert not users["sign_in_known"].any() and users["last_sign_in"].isna().all()


def test_mailbox_from_exchange_when_mailbox_settings_missing(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={"mailboxSettings": (FORBIDDEN, "403"), "inboxRules": (FORBIDDEN, "403")}))
    boxes = dict(zip(d.table("users")["user_id"], d.table("users")["mailbox"], strict=True))
    assert boxes[SHARED] == "shared" and boxes[ADA] == "user"
    assert boxes[GUEST] == "none"  # not in Get-Mailbox: no Exchange Online mailbox
    d2 = normalise(snap(tmp_path / "s2", fail={"mailboxSettings": (FORBIDDEN, "403"), "inboxRules": (FORBIDDEN, "403"),
                                               "exchange.mailboxes": (FORBIDDEN, "403")}))
    assert set(d2.table("users")["mailbox"]) == {"unknown"}


def test_registration_from_details(data: AuditData) -> None:
    reg = data.table("mfa_registration")
    assert set(reg["source"]) == {"userRegistrationDetails"}
    ada, ben, cara, guest = (row(reg, u) for u in (ADA, BEN, CARA, GUEST))
    assert ada["strongest"] == "phishing_resistant" and ada["methods"] == "sms; fido2"
    assert ben["strongest"] == "weak" and bool(ben["registered"])
    assert cara["strongest"] == "none" and not bool(cara["registered"])
    assert guest["strongest"] == "standard" and "someFutureMethod" in guest["methods"]
    methods = data.table("mfa_methods")
    assert set(methods.loc[methods["user_id"] == BEN, "method"]) == {"sms", "email"}


def test_registration_falls_back_to_methods(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={"userRegistrationDetails": (UNLICENSED, "403 requires P1")},
                       failed_subjects={"authenticationMethods": {SHARED: "error: timeout after 3 retries"}}))
    reg = d.table("mfa_registration")
    assert set(reg["source"]) == {"authenticationMethods"}
    ben = row(reg, BEN)
    assert ben["methods"] == "voice; sms" and ben["strongest"] == "weak"
    assert not bool(row(reg, CARA)["registered"])  # email alone is not a sign-in second factor
    assert row(reg, ADA)["strongest"] == "phishing_resistant"
    st = d.status["mfa_registration"]
    assert st.availability is Availability.PARTIAL
    assert st.missing_subjects == {SHARED: "authenticationMethods: error: timeout after 3 retries"}


def test_registration_missing_names_both_sections_and_the_fix(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={"userRegistrationDetails": (UNLICENSED, "403 requires P1"),
                                             "authenticationMethods": (FORBIDDEN, "403 Forbidden")}))
    st = d.status["mfa_methods"]
    assert st.availability is Availability.MISSING
    assert "userRegistrationDetails: unlicensed" in st.reason and "Microsoft Entra ID P1" in st.reason
    assert "authenticationMethods: forbidden" in st.reason and "UserAuthenticationMethod.Read.All" in st.reason
    assert not d.available("mfa_registration")


def test_enforcement(data: AuditData) -> None:
    enf = data.table("mfa_enforcement")
    assert OFF not in set(enf["user_id"])  # disabled accounts are not evaluated
    ada = row(enf, ADA)
    assert ada["enforced"] == "no"
    assert "excluded through group 'Break Glass' in policy 'Require MFA for all'" in ada["reason"]
    ben = row(enf, BEN)
    assert (ben["enforced"], ben["enforced_by"], ben["strength"]) == ("yes", "CA policy 'Require MFA for all'", "mfa")
    assert ben["phishing_resistant"] == "no"


def test_enforcement_unknown_when_policies_unlicensed(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={"conditionalAccessPolicies": (UNLICENSED, "403 requires P1")}))
    enf = d.table("mfa_enforcement")
    assert set(enf["enforced"]) == {"unknown"}
    assert enf["reason"].str.contains("conditionalAccessPolicies: unlicensed").all()
    assert "legacy_auth_blocked" in d.setting_gaps
    assert d.status["conditional_access"].availability is Availability.MISSING


def test_enforcement_unknown_when_exclusion_group_not_collected(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["groupMembers"].pop(BREAK_GLASS)
    d = normalise(snap(tmp_path / "s", raw, failed_subjects={"groupMembers": {}}))
    enf = d.table("mfa_enforcement")
    assert set(enf["enforced"]) == {"unknown"}
    assert "members of group 'Break Glass' were not collected" in row(enf, BEN)["reason"]


def test_enforcement_per_user_and_defaults(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["conditionalAccessPolicies"] = []
    raw["perUserMfaState"][ADA] = {"perUserMfaState": "enforced"}
    raw["perUserMfaState"][BEN] = {"perUserMfaState": "enabled"}
    raw["perUserMfaState"][CARA] = {"perUserMfaState": "enabled"}
    d = normalise(snap(tmp_path / "s", raw, failed_subjects={"perUserMfaState": {GUEST: "error: 503"}}))
    enf = d.table("mfa_enforcement")
    assert row(enf, ADA)["enforced_by"] == "per-user MFA (enforced)"
    # 'enabled' + registered: modern clients ask for MFA, legacy clients still take the password alone
    assert row(enf, BEN)["enforced"] == "no" and "still accepts the password alone" in row(enf, BEN)["reason"]
    assert row(enf, BEN)["legacy_blocked"] == "no" and row(enf, ADA)["legacy_blocked"] == "yes"
    assert row(enf, CARA)["enforced"] == "no" and "no method is registered" in row(enf, CARA)["reason"]
    assert row(enf, GUEST)["enforced"] == "unknown" and "perUserMfaState: error: 503" in row(enf, GUEST)["reason"]
    assert row(enf, SHARED)["enforced"] == "no"
    raw["securityDefaults"]["isEnabled"] = True
    d2 = normalise(snap(tmp_path / "s2", raw))
    assert set(d2.table("mfa_enforcement")["enforced_by"]) == {"security defaults"}


def test_roles(data: AuditData) -> None:
    roles = data.table("role_assignments")
    ga = row(roles, ADA)
    assert (ga["role_id"], ga["role_name"], bool(ga["privileged"]), ga["assignment"], ga["via_group"]) == \
        (GA, "Global Administrator", True, "active", "")
    cara = row(roles, CARA)  # through the role-assignable group; name from the fallback list, privileged from it
    assert (cara["role_id"], cara["role_name"], bool(cara["privileged"]), cara["via_group"]) == \
        (HELPDESK, "Helpdesk Administrator", True, "IT Helpdesk Admins")
    ben = row(roles, BEN)
    assert (ben["role_id"], ben["assignment"], bool(ben["privileged"])) == (EXCHANGE_ADMIN, "eligible", False)


def test_roles_gaps(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={"roleEligibilities": (UNLICENSED, "400 AadPremiumLicenseRequired")}))
    assert d.status["role_assignments"].availability is Availability.OK  # no P2: no eligible assignments can exist
    d = normalise(snap(tmp_path / "s2", fail={"roleEligibilities": (FORBIDDEN, "403")}))
    st = d.status["role_assignments"]
    assert st.availability is Availability.PARTIAL and "PIM-eligible assignments not collected" in st.reason
    raw = raw_tenant()
    raw["groupMembers"].pop("aaaaaaaa-0000-4000-8000-000000000002")
    d = normalise(snap(tmp_path / "s3", raw))
    st = d.status["role_assignments"]
    assert st.availability is Availability.PARTIAL and "members of group 'IT Helpdesk Admins'" in st.reason
    d = normalise(snap(tmp_path / "s4", fail={"roleAssignments": (FORBIDDEN, "403 Forbidden")}))
    assert not d.available("role_assignments")
    assert "RoleManagement.Read.Directory" in d.status["role_assignments"].reason


def test_missing_users_section(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", fail={"users": (FORBIDDEN, "403 Authorization_RequestDenied")}))
    for name in ("users", "mfa_enforcement"):
        assert d.status[name].availability is Availability.MISSING
        assert "users: forbidden" in d.status[name].reason and "User.Read.All" in d.status[name].reason


def test_section_absent_from_manifest(tmp_path: Path) -> None:
    d = normalise(snap(tmp_path / "s", drop=("exchange.transportRules", "exchange.mailboxes")))
    st = d.status["forwarding"]
    assert st.availability is Availability.PARTIAL
    assert "exchange.transportRules: not collected" in st.reason and "Exchange.ManageAsApp" in st.reason


def test_availability_reasons(tmp_path: Path) -> None:
    """The helper every table uses: reason names the section, its status, the detail and the fix."""
    from idaudit.core.normalise.availability import built, failed_subjects, section_reason
    from idaudit.core.snapshot import Manifest, snapshot_from_memory

    s = snap(tmp_path / "s", fail={"userRegistrationDetails": (UNLICENSED, "403 requires P1")},
             failed_subjects={"inboxRules": {BEN: "error: timeout"}})
    assert section_reason(s, "userRegistrationDetails") == (
        "userRegistrationDetails: unlicensed — 403 requires P1; fix: grant AuditLog.Read.All (application); "
        "requires Microsoft Entra ID P1")
    assert section_reason(s, "users") == ""
    assert failed_subjects(s, "inboxRules", "users") == {BEN: "inboxRules: error: timeout"}
    m = s.manifest
    interrupted = snapshot_from_memory(Manifest(m.provider, m.tenant_id, m.tenant_name, m.collected_at, {},
                                                complete=False), {})
    assert section_reason(interrupted, "domains").startswith("domains: not collected (the collection was interrupted)")
    assert built(("x",)).availability is Availability.OK
    partial = built(("x",), gaps=["part y absent"])
    assert partial.availability is Availability.PARTIAL and partial.reason == "part y absent"
