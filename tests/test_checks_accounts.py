"""Account hygiene checks: a failing, a passing and an unknown case each, through the real engine."""

from __future__ import annotations

from datetime import UTC, datetime

from idaudit.core.engine import CheckSettings
from tests.checkkit import Case, Tenant, cases_param, run, status

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def _t() -> Tenant:
    return Tenant().domains("clinic.org")


def _gas(n: int, **kw: object) -> Tenant:
    t = _t()
    for i in range(n):
        t.user(f"a{i}").role(f"a{i}", **kw)  # type: ignore[arg-type]
    return t


CASES = [
    # IDA-ACCT-001 stale member accounts
    Case("IDA-ACCT-001", "fail", lambda: _t().user("u1", last_sign_in="2026-06-01T00:00:00Z").build(), "u1",
         "last sign-in 2026-06-01 (180 days ago, limit 90)"),
    Case("IDA-ACCT-001", "fail", lambda: _t().user("u1", last_sign_in=None, created_at="2025-01-01T00:00:00Z")
         .build(), "u1", "never signed in, created 2025-01-01", name="never-signed-in-and-old"),
    Case("IDA-ACCT-001", "pass", lambda: _t().user("u1", last_sign_in="2026-11-01T00:00:00Z").build(), "u1",
         "27 days ago"),
    Case("IDA-ACCT-001", "pass", lambda: _t().user("u1", last_sign_in=None, created_at="2026-11-20T00:00:00Z")
         .build(), "u1", "never signed in yet", name="new-account-not-yet-signed-in"),
    Case("IDA-ACCT-001", "unknown", lambda: _t().user("u1", sign_in_known=False, last_sign_in=None).build(), "u1",
         "Entra ID P1", name="sign-in-not-known-is-never-pass"),
    Case("IDA-ACCT-001", "fail", lambda: _t().user("u1", last_sign_in=None, created_at=None).build(), "u1",
         "creation date was not collected", confidence="medium", name="never-signed-in-unknown-age"),
    Case("IDA-ACCT-001", "not_applicable", lambda: _t().user("bg", "breakglass@clinic.org", last_sign_in=None)
         .build(), "bg", "break-glass", settings=CheckSettings(now=NOW, break_glass=frozenset({"breakglass@clinic.org"}))),
    Case("IDA-ACCT-001", "fail", lambda: _t().user("u1", last_sign_in="2026-10-01T00:00:00Z").build(), "u1",
         "limit 30", settings=CheckSettings(now=NOW, stale_days=30), name="stale-days-configurable"),
    # IDA-ACCT-002 Global Admin count
    Case("IDA-ACCT-002", "fail", lambda: _gas(1).build(), "tenant", "1 enabled account(s)", name="too-few"),
    Case("IDA-ACCT-002", "fail", lambda: _gas(6).build(), "tenant", "6 enabled account(s)", name="too-many"),
    Case("IDA-ACCT-002", "pass", lambda: _gas(3).build(), "tenant", "3 enabled account(s)"),
    Case("IDA-ACCT-002", "pass", lambda: _gas(6).build(), "tenant", "allowed 2–8",
         settings=CheckSettings(now=NOW, global_admin_max=8), name="range-configurable"),
    Case("IDA-ACCT-002", "unknown", lambda: _gas(3).missing("role_assignments").build(), "*", "not collected"),
    Case("IDA-ACCT-002", "pass", lambda: _gas(2, role_name="Super Admin", role_id="_SEED").build(), "tenant",
         "2 enabled", name="google-super-admin-by-name"),
    # IDA-ACCT-003 stale guests
    Case("IDA-ACCT-003", "fail", lambda: _t().user("g1", user_type="guest", last_sign_in="2026-01-01T00:00:00Z")
         .build(), "g1", "stale guest"),
    Case("IDA-ACCT-003", "pass", lambda: _t().user("g1", user_type="guest").build(), "g1", "8 days ago"),
    Case("IDA-ACCT-003", "unknown", lambda: _t().user("g1", user_type="guest", sign_in_known=False).build(), "g1",
         "not collected"),
    Case("IDA-ACCT-003", "not_applicable", lambda: _t().user("u1").build(), "tenant", "no enabled guest"),
    # IDA-ACCT-004 guest with a role
    Case("IDA-ACCT-004", "fail", lambda: _t().user("g1", user_type="guest")
         .role("g1", role_name="User Administrator", role_id="fe930be7").build(), "g1", "User Administrator"),
    Case("IDA-ACCT-004", "pass", lambda: _t().user("g1", user_type="guest").build(), "g1", "no directory role"),
    Case("IDA-ACCT-004", "unknown", lambda: _t().user("g1", user_type="guest").missing("role_assignments")
         .build(), "*", "not collected"),
    # IDA-ACCT-005 invitations
    Case("IDA-ACCT-005", "fail", lambda: _t().setting("guest_invites_from", "everyone").build(), "tenant",
         "every user"),
    Case("IDA-ACCT-005", "pass", lambda: _t().setting("guest_invites_from", "adminsAndGuestInviters").build(),
         "tenant", "limited"),
    Case("IDA-ACCT-005", "unknown", lambda: _t().setting_gap("guest_invites_from", "authorizationPolicy: forbidden")
         .build(), "tenant", "forbidden"),
    # IDA-ACCT-006 guest role
    Case("IDA-ACCT-006", "fail", lambda: _t().setting("guest_user_role", "member").build(), "tenant",
         "same directory access"),
    Case("IDA-ACCT-006", "pass", lambda: _t().setting("guest_user_role", "restricted_guest").build(), "tenant",
         "limited"),
    Case("IDA-ACCT-006", "unknown", lambda: _t().missing("tenant_settings").build(), "*", "not collected"),
    # IDA-ACCT-007 shared mailbox sign-in
    Case("IDA-ACCT-007", "fail", lambda: _t().user("s1", "billing@clinic.org", mailbox="shared").build(), "s1",
         "shared mailbox account can sign in"),
    Case("IDA-ACCT-007", "pass", lambda: _t().user("s1", mailbox="shared", enabled=False).build(), "s1",
         "sign-in blocked"),
    Case("IDA-ACCT-007", "unknown", lambda: _t().user("u1", mailbox="unknown").build(), "*mailbox-type-unknown",
         "mailbox type not collected"),
    Case("IDA-ACCT-007", "not_applicable", lambda: _t().user("u1").build(), "tenant", "no shared"),
    # IDA-ACCT-008 privileged synced from on-prem
    Case("IDA-ACCT-008", "fail", lambda: _t().user("a1", on_premises_synced=True).role("a1").build(), "a1",
         "synced from on-premises"),
    Case("IDA-ACCT-008", "pass", lambda: _t().user("a1").role("a1").build(), "a1", "cloud-only"),
    Case("IDA-ACCT-008", "unknown", lambda: _t().user("a1", on_premises_synced=None).role("a1").build(), "a1",
         "not collected"),
    # IDA-ACCT-009 privileged with personal mailbox
    Case("IDA-ACCT-009", "fail", lambda: _t().user("a1").role("a1").build(), "a1", "personal mailbox"),
    Case("IDA-ACCT-009", "pass", lambda: _t().user("a1", mailbox="none").role("a1").build(), "a1",
         "no personal mailbox"),
    Case("IDA-ACCT-009", "unknown", lambda: _t().user("a1", mailbox="unknown").role("a1").build(), "a1",
         "not collected"),
]


@cases_param(CASES)
def test_case(case: Case) -> None:
    case.verify()


def test_ga_count_counts_each_person_once_and_skips_disabled() -> None:
    t = _gas(2)
    t.role("a0", assignment="eligible")  # same person, second route
    t.user("old", enabled=False).role("old")
    evidence = run(t.build(), "IDA-ACCT-002").iloc[0]["evidence"]
    assert evidence.startswith("2 enabled account(s)")


def test_stale_check_skips_guests_and_resource_mailboxes() -> None:
    data = (_t().user("g1", user_type="guest", last_sign_in="2025-01-01T00:00:00Z")
            .user("room", mailbox="room", last_sign_in=None).build())
    got = run(data, "IDA-ACCT-001")
    assert "g1" not in set(got["subject_id"])
    assert status(got, "room") == "not_applicable"


def test_stale_account_waived_for_departed_staff_stays_visible() -> None:
    from datetime import date

    from checks import CATALOGUE as REGISTRY
    from idaudit.core.engine import Waiver, run_checks

    data = _t().user("u1", "ann@clinic.org", last_sign_in="2026-01-01T00:00:00Z").build()
    w = Waiver("IDA-ACCT-001", "ann@clinic.org", "HR", "on maternity leave", date(2027, 3, 1))
    got = run_checks(data, CheckSettings(now=NOW), [w], only=["IDA-ACCT-001"], registry=REGISTRY).findings
    assert got.iloc[0]["status"] == "waived"
