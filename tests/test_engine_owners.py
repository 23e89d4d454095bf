"""The engine, not each check, keeps a user a partial table could not collect from looking clean.

Per-item checks (one row per inbox rule or grant) name the user an item belongs to in `owner_id`; the engine
turns a pass owned by an uncollected user into `unknown` and adds one `unknown` row for every uncollected user the
check has no row for — so a new per-item check that knows nothing about coverage still cannot report "nothing
found" for a mailbox nobody read. Test checks here are registered in a private registry and run through the real
`run_checks`; the built-in checks at the end run on checkkit tenants.
"""

from __future__ import annotations

import pandas as pd
import pytest

from idaudit.core.engine import FINDING_COLUMNS, CheckRegistry, CheckSettings, check, result_frame, run_checks
from idaudit.core.model import Framework, Reference, Severity, SubjectKind
from idaudit.core.tables import AuditData
from tests.checkkit import Tenant
from tests.checkkit import run as run_builtin

REFS = (Reference(Framework.HIPAA, "164.312(b)", "Audit controls"),)
WHY = "inboxRules: error: 503 after 3 retries"


def _registry(lookup: tuple[str, ...] = ()) -> CheckRegistry:
    """Test checks written the naive way: no coverage helper, no knowledge of partial tables."""
    reg = CheckRegistry()

    @check(id="IDA-MAIL-901", title="Rule forwards outside (naive test check)", severity=Severity.HIGH,
           rationale="A forwarding rule copies patient mail out.", remediation="Delete the forwarding rule.",
           references=REFS, providers=["microsoft"], requires=["forwarding"], subject_kind=SubjectKind.RULE,
           registry=reg)
    def per_rule(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        fwd = data.table("forwarding")
        outside = ~fwd["recipient"].str.endswith("@clinic.org")
        rows = pd.DataFrame({"subject_id": fwd["user_id"] + ":" + fwd["rule_id"], "subject": fwd["rule_name"],
                             "status": outside.map({True: "fail", False: "pass"}),
                             "evidence": "forwards to " + fwd["recipient"], "owner_id": fwd["user_id"]})
        if rows.empty:  # the naive "nothing found" row, written without nothing_found_row
            return result_frame([{"subject_id": "tenant", "subject": "tenant", "status": "pass",
                                  "evidence": "no rule forwards mail"}])
        return result_frame(rows)

    @check(id="IDA-AUTH-901", title="Member without MFA (test check listing its population)",
           severity=Severity.HIGH, rationale="A stolen password alone opens the mailbox.",
           remediation="Register MFA for every member.", references=REFS, providers=["microsoft"],
           requires=["users", "mfa_registration"], subject_kind=SubjectKind.USER, lookup_tables=lookup,
           registry=reg)
    def members(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        users = data.table("users")
        users = users[users["enabled"].fillna(True).astype(bool)]
        reg_ = data.table("mfa_registration").set_index("user_id")["registered"]
        ok = users["user_id"].map(reg_).fillna(False).astype(bool)
        return result_frame(pd.DataFrame({"subject_id": users["user_id"], "subject": users["principal"],
                                          "status": ok.map({True: "pass", False: "fail"}),
                                          "evidence": ok.map({True: "registered", False: "none"})}))

    return reg


def _tenant() -> Tenant:
    return (Tenant().domains("clinic.org").user("ann").user("bob").user("cy").user("old", enabled=False)
            .forward("ann", "desk@clinic.org", rule_id="r1", rule_name="to desk")
            .forward("bob", "me@gmail.com", rule_id="r2", rule_name="home")
            .mfa("ann", "fido2").mfa("bob", "sms").mfa("cy", "fido2").mfa("old", "sms"))


def _run(data: AuditData, check_id: str, lookup: tuple[str, ...] = ()) -> pd.DataFrame:
    return run_checks(data, CheckSettings(), only=[check_id], registry=_registry(lookup)).findings


def _rows(findings: pd.DataFrame, subject_id: str) -> pd.DataFrame:
    return findings[findings["subject_id"] == subject_id]


def test_naive_per_item_check_gets_unknown_for_an_uncollected_owner() -> None:
    data = _tenant().partial("forwarding", cy=WHY).build()
    f = _run(data, "IDA-MAIL-901")
    cy = _rows(f, "cy")
    assert list(cy["status"]) == ["unknown"]
    assert cy["evidence"].iloc[0] == f"forwarding not collected for this subject: {WHY}"
    assert cy["subject"].iloc[0] == "cy@clinic.org"  # the principal, not the raw id
    assert _rows(f, "bob:r2")["status"].tolist() == ["fail"]
    assert _rows(f, "ann:r1")["status"].tolist() == ["pass"]


def test_pass_owned_by_a_missing_subject_becomes_unknown_and_fail_stays() -> None:
    data = _tenant().partial("forwarding", ann=WHY, bob=WHY).build()
    f = _run(data, "IDA-MAIL-901")
    ann = _rows(f, "ann:r1").iloc[0]
    assert ann["status"] == "unknown"
    assert WHY in ann["evidence"] and "desk@clinic.org" in ann["evidence"]  # the reason, and what was seen
    assert _rows(f, "bob:r2")["status"].tolist() == ["fail"]  # a finding seen is a finding
    # each owner already has a row through its items: no extra row for ann or bob
    assert _rows(f, "ann").empty and _rows(f, "bob").empty


def test_one_unknown_row_per_missing_subject_however_many_tables_miss_it() -> None:
    data = _tenant().partial("users", cy="users: page 3 failed").partial("mfa_registration", cy="timeout").build()
    f = _run(data, "IDA-AUTH-901")
    assert len(_rows(f, "cy")) == 1  # listed by the check; converted, not duplicated
    data = _tenant().partial("forwarding", cy=WHY, zed=WHY).build()
    f = _run(data, "IDA-MAIL-901")
    unknown = f[f["status"] == "unknown"]
    assert sorted(unknown["subject_id"]) == ["cy", "zed"]
    assert not f.duplicated(["check_id", "subject_id"]).any()
    assert _rows(f, "zed")["subject"].iloc[0] == "zed"  # no user row: the id is the label


def test_missing_subject_outside_a_lookup_table_population_gets_no_row() -> None:
    data = _tenant().partial("mfa_registration", old="timeout", ann="timeout").build()
    listed = _run(data, "IDA-AUTH-901", lookup=("mfa_registration",))
    assert _rows(listed, "old").empty  # disabled: outside the check, no noise
    assert _rows(listed, "ann")["status"].tolist() == ["unknown"]  # listed and missing: cannot pass
    safe_default = _run(data, "IDA-AUTH-901")
    assert _rows(safe_default, "old")["status"].tolist() == ["unknown"]  # undeclared: noise, never a false pass


def test_tenant_level_pass_needs_named_gaps() -> None:
    empty = Tenant().domains("clinic.org").user("ann").user("bob")
    unnamed = empty.partial("forwarding").build()  # incomplete, and cannot say whose rules are missing
    f = _run(unnamed, "IDA-MAIL-901")
    assert f["status"].tolist() == ["unknown"]
    assert "'forwarding' is incomplete" in f["evidence"].iloc[0]
    named = Tenant().domains("clinic.org").user("ann").user("bob").partial("forwarding", bob=WHY).build()
    f = _run(named, "IDA-MAIL-901")
    assert _rows(f, "tenant")["status"].tolist() == ["pass"]  # about the rest ...
    assert _rows(f, "bob")["status"].tolist() == ["unknown"]  # ... because bob is listed


def test_per_item_rows_on_an_unnamed_partial_table_get_a_whole_check_unknown() -> None:
    """Two rules were read, an unknown number were not: the two verdicts stand, the check as a whole is unknown."""
    data = _tenant().partial("forwarding").build()  # incomplete, with no list of whose rules are missing
    f = _run(data, "IDA-MAIL-901")
    assert _rows(f, "ann:r1")["status"].tolist() == ["pass"]
    assert _rows(f, "bob:r2")["status"].tolist() == ["fail"]
    whole = _rows(f, "*")
    assert whole["status"].tolist() == ["unknown"]
    assert whole["evidence"].iloc[0].startswith("only the items listed were checked; 'forwarding' is incomplete")
    named = _tenant().partial("forwarding", cy=WHY).build()  # names its gap: cy's row says it, no '*' row
    assert _rows(_run(named, "IDA-MAIL-901"), "*").empty


@pytest.mark.parametrize("check_id", ["IDA-MAIL-901", "IDA-AUTH-901"])
def test_full_and_missing_availability_unchanged(check_id: str) -> None:
    full = _run(_tenant().build(), check_id)
    assert "unknown" not in set(full["status"])
    expected = {"IDA-MAIL-901": {"ann:r1": "pass", "bob:r2": "fail"},
                "IDA-AUTH-901": {"ann": "pass", "bob": "pass", "cy": "pass"}}[check_id]
    assert dict(zip(full["subject_id"], full["status"], strict=True)) == expected
    table = "forwarding" if check_id == "IDA-MAIL-901" else "mfa_registration"
    none = _run(_tenant().missing(table, "forbidden: grant MailboxSettings.Read").build(), check_id)
    assert none["status"].tolist() == ["unknown"] and none["subject_id"].tolist() == ["*"]
    assert "MailboxSettings.Read" in none["evidence"].iloc[0]


def test_owner_id_stays_out_of_the_findings_and_defaults_to_empty() -> None:
    assert "owner_id" not in FINDING_COLUMNS  # reports and exports keep their columns
    f = _run(_tenant().partial("forwarding", cy=WHY).build(), "IDA-MAIL-901")
    assert list(f.columns) == list(FINDING_COLUMNS)
    frame = result_frame([{"subject_id": "x", "subject": "x", "status": "pass", "evidence": "e"},
                          {"subject_id": "y", "subject": "y", "status": "pass", "evidence": "e", "owner_id": None}])
    assert frame["owner_id"].tolist() == ["", ""]


def test_keep_passes_false_keeps_the_added_unknown_rows() -> None:
    data = _tenant().partial("forwarding", cy=WHY).build()
    f = run_checks(data, CheckSettings(), only=["IDA-MAIL-901"], registry=_registry(), keep_passes=False).findings
    assert sorted(f["status"]) == ["fail", "pass", "unknown"]
    assert _rows(f, "cy")["status"].tolist() == ["unknown"]


def test_lookup_tables_must_be_required() -> None:
    with pytest.raises(ValueError, match="lookup_tables"):
        check(id="IDA-AUTH-998", title="A title here", severity=Severity.LOW, rationale="rationale text",
              remediation="remediation text", references=REFS, providers=["microsoft"], requires=["users"],
              subject_kind=SubjectKind.USER, lookup_tables=["mfa_registration"],
              registry=CheckRegistry())(lambda d, s: pd.DataFrame())


# ----------------------------------------------------------------------------------- the built-in checks --

def test_builtin_rule_check_owner_of_a_passing_rule_is_unknown_once() -> None:
    data = _tenant().partial("forwarding", ann=WHY).build()
    f = run_builtin(data, "IDA-MAIL-001")
    assert _rows(f, "ann:r1")["status"].tolist() == ["unknown"]
    assert _rows(f, "ann").empty
    assert not f.duplicated(["subject_id"]).any()


def test_builtin_admin_check_lists_admin_whose_roles_were_not_collected() -> None:
    """Google names delegated admins whose role list failed: they may be privileged, so they are unknown."""
    data = (Tenant("google").user("ann").user("dee").role("ann").mfa("ann", "fido2").mfa("dee", "sms")
            .partial("role_assignments", dee="delegated admin role not known: roles forbidden").build())
    f = run_builtin(data, "IDA-AUTH-003")
    assert _rows(f, "dee")["status"].tolist() == ["unknown"]
    assert _rows(f, "ann")["status"].tolist() == ["pass"]


def test_builtin_mfa_check_adds_no_row_for_a_disabled_account() -> None:
    data = _tenant().partial("mfa_registration", old="timeout", cy="timeout").build()
    f = run_builtin(data, "IDA-AUTH-001")
    assert _rows(f, "old").empty
    assert _rows(f, "cy")["status"].tolist() == ["unknown"]


def test_builtin_tenant_count_is_not_a_pass_on_unnamed_partial_roles() -> None:
    """PIM-eligible assignments not collected: the Global Administrator count may be too low."""
    t = Tenant().user("a1").user("a2").role("a1", role_id="62e90394-69f5-4237-9190-012177145e10") \
        .role("a2", role_id="62e90394-69f5-4237-9190-012177145e10")
    assert _rows(run_builtin(t.build(), "IDA-ACCT-002"), "tenant")["status"].tolist() == ["pass"]
    row = _rows(run_builtin(t.partial("role_assignments").build(), "IDA-ACCT-002"), "tenant").iloc[0]
    assert row["status"] == "unknown" and "'role_assignments' is incomplete" in row["evidence"]
