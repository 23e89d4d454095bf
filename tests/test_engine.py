"""The engine's promises: a data gap is `unknown`, never `pass`; waivers apply until they expire."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from idaudit.core.engine import CheckRegistry, CheckSettings, Waiver, check, result_frame, run_checks
from idaudit.core.model import Framework, Reference, Severity, SubjectKind
from idaudit.core.tables import AuditData, TableStatus, make_table

REFS = (Reference(Framework.HIPAA, "164.312(d)", "Person or entity authentication"),)


def _registry() -> CheckRegistry:
    reg = CheckRegistry()

    @check(id="IDA-AUTH-901", title="Enabled user without MFA (test)", severity=Severity.HIGH,
           rationale="A stolen password alone opens the mailbox.", remediation="Register MFA for every user.",
           references=REFS, providers=["microsoft"], requires=["users", "mfa_registration"],
           subject_kind=SubjectKind.USER, registry=reg)
    def no_mfa(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        users = data.table("users")
        reg_ = data.table("mfa_registration").set_index("user_id")["registered"]
        enabled = users[users["enabled"].fillna(False)]
        registered = enabled["user_id"].map(reg_).fillna(False).astype(bool)
        return result_frame(pd.DataFrame({
            "subject_id": enabled["user_id"], "subject": enabled["principal"],
            "status": registered.map({True: "pass", False: "fail"}),
            "evidence": registered.map({True: "MFA registered", False: "no MFA method"}),
        }))

    @check(id="IDA-APPS-901", title="Consent setting (test)", severity=Severity.MEDIUM,
           rationale="Users consenting to apps hand out mail access.", remediation="Turn user consent off.",
           references=REFS, providers=["microsoft", "google"], requires=["tenant_settings"],
           subject_kind=SubjectKind.TENANT, registry=reg)
    def consent(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        value = data.setting("user_consent")
        return result_frame([{"subject_id": "tenant", "subject": "tenant",
                              "status": "fail" if value == "any_app" else "pass", "evidence": value}])

    @check(id="IDA-MAIL-901", title="Google only (test)", severity=Severity.LOW,
           rationale="Only applies to Google tenants here.", remediation="Nothing to do in this test.",
           references=REFS, providers=["google"], requires=["users"], subject_kind=SubjectKind.TENANT,
           registry=reg)
    def google_only(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        raise AssertionError("must not run for microsoft")

    return reg


def _data(reg_status: TableStatus | None = None, settings_gap: bool = False) -> AuditData:
    users = make_table("users", [
        {"user_id": "u1", "principal": "ann@x.org", "enabled": True},
        {"user_id": "u2", "principal": "bob@x.org", "enabled": True},
        {"user_id": "u3", "principal": "cy@x.org", "enabled": True},
    ])
    registration = make_table("mfa_registration", [
        {"user_id": "u1", "registered": True}, {"user_id": "u2", "registered": False},
    ])
    tenant = make_table("tenant_settings", [{"setting": "user_consent", "value": "any_app", "source": "x"}])
    return AuditData(
        provider="microsoft", tenant_id="t", tenant_name="T", collected_at=pd.Timestamp("2026-11-28", tz="UTC"),
        tables={"users": users, "mfa_registration": registration, "tenant_settings": tenant},
        status={"users": TableStatus.ok("users"), "mfa_registration": reg_status or TableStatus.ok("x"),
                "tenant_settings": TableStatus.ok("authorizationPolicy")},
        setting_gaps={"user_consent": "authorizationPolicy: forbidden — grant Policy.Read.All"} if settings_gap else {},
    )


def _status(run, check_id: str, subject_id: str) -> str:  # type: ignore[no-untyped-def]
    f = run.findings
    return str(f[(f.check_id == check_id) & (f.subject_id == subject_id)]["status"].iloc[0])


def test_pass_fail_and_not_applicable() -> None:
    run = run_checks(_data(), registry=_registry())
    assert _status(run, "IDA-AUTH-901", "u1") == "pass"
    assert _status(run, "IDA-AUTH-901", "u2") == "fail"
    assert _status(run, "IDA-APPS-901", "tenant") == "fail"
    assert _status(run, "IDA-MAIL-901", "*") == "not_applicable"


def test_missing_table_gives_unknown_with_reason() -> None:
    data = _data(TableStatus.missing("userRegistrationDetails: unlicensed — requires Microsoft Entra ID P1"))
    run = run_checks(data, registry=_registry())
    rows = run.findings[run.findings.check_id == "IDA-AUTH-901"]
    assert list(rows["status"]) == ["unknown"]
    assert "Entra ID P1" in rows["evidence"].iloc[0]


def test_partial_table_turns_pass_into_unknown_for_missing_subjects() -> None:
    # u1 is registered, but its part of the section failed: it must not pass.
    data = _data(TableStatus(availability="partial", missing_subjects={"u1": "timeout"}))  # type: ignore[arg-type]
    run = run_checks(data, registry=_registry())
    assert _status(run, "IDA-AUTH-901", "u1") == "unknown"
    assert _status(run, "IDA-AUTH-901", "u2") == "fail"


def test_setting_gap_gives_unknown() -> None:
    run = run_checks(_data(settings_gap=True), registry=_registry())
    row = run.findings[run.findings.check_id == "IDA-APPS-901"].iloc[0]
    assert row["status"] == "unknown" and "Policy.Read.All" in row["evidence"]


def test_waiver_applies_until_it_expires() -> None:
    w = Waiver("IDA-AUTH-901", "BOB@x.org", "IT manager", "break glass", date(2026, 12, 31))
    run = run_checks(_data(), waivers=[w], registry=_registry())
    row = run.findings[(run.findings.check_id == "IDA-AUTH-901") & (run.findings.subject_id == "u2")].iloc[0]
    assert row["status"] == "waived" and row["waiver_owner"] == "IT manager"
    expired = Waiver("IDA-AUTH-901", "u2", "IT", "old", date(2026, 1, 1))
    run2 = run_checks(_data(), waivers=[expired], registry=_registry())
    assert _status(run2, "IDA-AUTH-901", "u2") == "fail"
    assert run2.expired_waivers == (expired,)


def test_keep_passes_false_collapses_passes() -> None:
    run = run_checks(_data(), registry=_registry(), keep_passes=False)
    rows = run.findings[run.findings.check_id == "IDA-AUTH-901"]
    # u2 and u3 fail (u3 has no registration row), u1's pass is collapsed into one summary row
    assert sorted(rows["status"]) == ["fail", "fail", "pass"]
    assert (rows["subject_id"] == "u1").sum() == 0
    assert rows[rows.status == "pass"]["evidence"].iloc[0] == "1 subjects evaluated and passed"


def test_invalid_metadata_is_refused() -> None:
    reg = CheckRegistry()
    with pytest.raises(ValueError, match="HIPAA"):
        check(id="IDA-AUTH-999", title="A title here", severity=Severity.LOW, rationale="rationale text",
              remediation="remediation text", references=[Reference(Framework.CIS, "1.1")],
              providers=["microsoft"], requires=["users"], subject_kind=SubjectKind.USER,
              registry=reg)(lambda d, s: pd.DataFrame())
    with pytest.raises(ValueError, match="id must look like"):
        check(id="X1", title="A title here", severity=Severity.LOW, rationale="rationale text",
              remediation="remediation text", references=REFS, providers=["microsoft"], requires=["users"],
              subject_kind=SubjectKind.USER, registry=reg)(lambda d, s: pd.DataFrame())
