"""The workbook read back with openpyxl: every sheet's content, hostile names kept as text, atomic 0600 files."""

from __future__ import annotations

import stat
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from reports import write_reports
from reports.history import History
from reports.workbook import SHEETS
from tests.report_fixtures import HOSTILE_NAMES, Week, build_run


def _rows(ws) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [r for r in ws.iter_rows(values_only=True)]


def _column(ws, header: str) -> list:  # type: ignore[no-untyped-def]
    rows = _rows(ws)
    idx = list(rows[0]).index(header)
    return [r[idx] for r in rows[1:]]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, openpyxl.Workbook]:
    out = tmp_path_factory.mktemp("wb")
    paths = write_reports(build_run(), out, ["xlsx"])
    return paths[0], openpyxl.load_workbook(paths[0])


def test_every_sheet_present_in_reading_order(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    _, wb = workbook
    assert wb.sheetnames == list(SHEETS)


def test_file_is_owner_only_and_no_temp_left(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    path, _ = workbook
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_summary_counts_score_things_to_do_and_gaps(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    _, wb = workbook
    rows = _rows(wb["Summary"])
    flat = [v for r in rows for v in r if v is not None]
    # Facts come in label / value pairs, two pairs to a row (columns A-B and D-E).
    labels = {r[i]: r[i + 1] for r in rows for i in (0, 3) if len(r) > i + 1 and isinstance(r[i], str)}
    assert labels["Organisation"] == "Lakeside Surgery Center"
    assert labels["Tenant id"] == "tid-0001"
    assert labels["Provider"] == "microsoft"
    assert labels["Collected (UTC)"] == datetime(2026, 11, 2, 6, 0)
    # Every evaluated check has a failing subject: the score is 0 and CA (unknown) is left out of coverage.
    assert labels["Posture score"] == 0
    assert any(isinstance(v, str) and v.startswith("0 out of 100: checks carrying 0 % of the evaluated") for v in flat)
    assert any(isinstance(v, str) and v.startswith("Posture score = 100 ×") for v in flat)
    # The five things to do this month: the Action plan's first five, with who is affected and what to do.
    things = [v for v in flat if isinstance(v, str) and v[:2] in {f"{i}." for i in range(1, 6)}]
    assert len(things) == 5
    assert things[0].startswith("1. Mail forwarded outside the organisation — 1 mail rule (1 user) (critical). "
                                "Remove the rule")
    assert things[1].startswith("2. Enabled user without any MFA method — 7 users (high). Require MFA")
    assert any(isinstance(v, str) and v.startswith("1 more action, and each one's console steps") for v in flat)
    assert "No earlier run of this tenant is recorded: this run is the baseline the next one is compared with." \
        in flat
    # Counts by severity and status, with the total row the Findings sheet adds up to.
    header = next(i for i, r in enumerate(rows) if r[:6] == ("severity", "fail", "unknown", "waived", "pass",
                                                             "not_applicable"))
    assert rows[header + 1][:3] == ("critical", 1, 0)
    assert rows[header + 6][:6] == ("all findings", 10, 1, 0, 10, 0)
    gaps = [r for r in rows if r[0] == "conditionalAccessPolicies"]
    assert gaps and gaps[0][1] == "unlicensed" and "Entra ID P1" in gaps[0][2]
    assert any(isinstance(v, str) and v.startswith("1 finding unknown — never counted as passing") for v in flat)
    expired = [r for r in rows if r[0] == "IDA-ACCT-901"]
    assert expired and "expired 2020-01-01" in expired[0][3]


def test_summary_is_one_printed_page_with_wrapped_sentences(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    """The page setup a spreadsheet program prints from: one portrait page, every sentence wrapped across the
    page's columns in a row tall enough for it (the LibreOffice test looks at the printed result)."""
    _, wb = workbook
    ws = wb["Summary"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight, ws.page_setup.orientation) == (1, 1, "portrait")
    assert ws.print_area == ["'Summary'!$A$1:$F$" + str(ws.max_row)] or ws.print_area == f"'Summary'!$A$1:$F${ws.max_row}"
    merged = {str(r) for r in ws.merged_cells.ranges}
    definition = next(c for row in ws.iter_rows() for c in row if str(c.value).startswith("Posture score = 100"))
    assert f"B{definition.row}:F{definition.row}" in merged and definition.alignment.wrap_text
    assert ws.row_dimensions[definition.row].height >= 4 * 9  # five lines of 9-point text, not the default 15
    assert "Lakeside Surgery Center" in ws.oddHeader.left.text and ws.oddFooter.right.text == "Page &P of &N"


def test_findings_sheet_filter_freeze_colours_and_reader_status(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    _, wb = workbook
    ws = wb["Findings"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:O22"
    statuses = _column(ws, "Status")
    assert statuses[0] == "fail" and statuses.count("fail") == 10 and statuses.count("unknown") == 1
    # Worst first: the critical forwarding rule heads the sheet; colours come from conditional formatting on
    # the Severity and Status columns (they follow the value if the reader edits it).
    assert ws["C2"].value == "critical"
    rules = {(str(cf.sqref), r.formula[0]): r.dxf.fill.fgColor.rgb for cf in ws.conditional_formatting
             for r in cf.rules}
    assert rules[("C2:C22", '"critical"')].endswith("C00000")
    assert rules[("D2:D22", '"fail"')].endswith("F8CBAD")
    dv = ws.data_validations.dataValidation
    assert len(dv) == 1 and "Accepted risk" in dv[0].formula1 and str(dv[0].sqref) == "L2:L22"
    unknown = next(r for r in _rows(ws) if r[3] == "unknown")
    assert "Entra ID P1" in unknown[5]
    assert _rows(ws)[0][6] == "How it got there"  # the fixture's checks name no provenance: the column is empty
    # On paper: the printed columns (check to waiver) and only the rows a reader must act on — the 10 failing and
    # 1 unknown findings sorted first; the header repeats on every page; the footer says what was left off.
    assert ws.print_area == "'Findings'!$A$1:$J$12"
    assert ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    assert "the 11 failing, unknown and waived findings; the 10 others" in ws.oddFooter.center.text


def test_hostile_names_stay_text_cells(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    _, wb = workbook
    for sheet in ("Findings", "Users"):
        ws = wb[sheet]
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet}!{cell.coordinate} became a formula: {cell.value!r}"
                assert cell.data_type != "e", f"{sheet}!{cell.coordinate} became an error value"
    users = _column(wb["Users"], "User")
    assert HOSTILE_NAMES["u-formula"] in users
    assert HOSTILE_NAMES["u-plus"] in users and HOSTILE_NAMES["u-at"] in users and "#N/A" in users
    # The bell and the right-to-left override are replaced by visible markers.
    assert "Eve␇ Lin[U+202E]gnp.exe" in users
    assert not any("\u202e" in str(v) or "\x07" in str(v) for v in users)
    rules = _column(wb["Forwarding"], "Rule name")
    assert "=cmd|' /C calc'!A0" in rules


def test_users_sheet_one_row_per_user_with_gaps_named(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    _, wb = workbook
    rows = _rows(wb["Users"])
    header = rows[0]
    by_user = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert len(by_user) == 8
    bob = by_user["bob.admin@clinic.example"]
    assert bob["MFA registered"] == "yes" and bob["Strongest method"] == "weak"
    assert bob["Enforced by"] == "security defaults" and bob["Roles"] == "Global Administrator"
    assert bob["Forwarding to"] == "bob.private@gmail.com" and bob["Open findings"] == 2
    alice = by_user["alice.nurse@clinic.example"]
    assert alice["MFA registered"] == "no" and alice["Risky apps"] == "Secure Docs Viewer"
    # Timezone-aware UTC in the tables, naive UTC in the sheet (spreadsheets have no zones).
    assert alice["Last sign-in (UTC)"] == datetime(2026, 10, 30, 8, 0)
    carol = by_user["carol@clinic.example"]
    # Sign-in activity not collected for Carol: said so, not left blank; her MFA row is absent: said so.
    assert carol["Last sign-in (UTC)"] == "not collected"
    assert carol["MFA registered"] == "not collected for this user"


def test_forwarding_apps_privileged_coverage_checks(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    _, wb = workbook
    fwd = {r[9]: r for r in _rows(wb["Forwarding"])[1:]}
    assert fwd["r-bob"][6] == "OUTSIDE" and fwd["r-internal"][6] == "inside"
    assert str(fwd["r-bob"][8]).startswith("log not collected")  # how it got there: no audit log in the fixture
    apps = _rows(wb["Apps and consents"])[1:]
    assert apps[0][0] == "Secure Docs Viewer" and apps[0][6] == "Mail.Read"  # risky first
    assert apps[1][5] == "all users"
    priv = _rows(wb["Privileged access"])[1:]
    assert priv == [("bob.admin@clinic.example", "Global Administrator", "yes", "active", None, "/", "weak", "no",
                     "yes", priv[0][9], priv[0][10])]
    assert str(priv[0][10]).startswith("log not collected")
    cov = {r[0]: r for r in _rows(wb["Coverage"])[1:] if r[0]}
    assert cov["conditionalAccessPolicies"][1] == "unlicensed"
    assert "Entra ID P1" in cov["conditionalAccessPolicies"][6]
    assert cov["inboxRules"][4] == 1 and "u-carol: 503" in cov["inboxRules"][7]
    assert cov["exchange.mailboxes"][1] == "not collected" and "Exchange.ManageAsApp" in cov["exchange.mailboxes"][6]
    assert cov["users"][1] == "ok" and cov["users"][6] is None
    checks = {r[0]: r for r in _rows(wb["Checks"])[1:]}
    assert set(checks) == {"IDA-ACCT-901", "IDA-APPS-901", "IDA-AUTH-901", "IDA-AUTH-902", "IDA-MAIL-901"}
    assert checks["IDA-AUTH-902"][3] == "unknown" and "HIPAA 164.312(d)" in checks["IDA-AUTH-902"][11]


def test_action_plan_rolls_up_by_check_with_due_dates(workbook: tuple[Path, openpyxl.Workbook]) -> None:
    _, wb = workbook
    rows = _rows(wb["Action plan"])
    header = rows[0]
    plan = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    by_check = {p["Check"]: p for p in plan if p["Check"]}
    mfa = by_check["IDA-AUTH-901"]
    assert mfa["Due"] == "30 days" and mfa["Due date"].date() == date(2026, 12, 2)
    assert mfa["Users affected"] == 7 and mfa["Owner role"] == "IT manager"
    assert "164.312(d)" in mfa["HIPAA reference"]
    assert by_check["IDA-MAIL-901"]["Users affected"] == 1  # one rule, in Bob's mailbox
    stale = by_check["IDA-ACCT-901"]
    assert stale["Due"] == "90 days" and stale["Owner role"] == "HR"
    # The app was consented by one user (Alice): one user's mail is exposed.
    assert by_check["IDA-APPS-901"]["Owner role"] == "compliance" and by_check["IDA-APPS-901"]["Users affected"] == 1
    gaps = [p for p in plan if not p["Check"]]
    assert any("Entra ID P1" in p["Action"] for p in gaps)
    assert [p["#"] for p in plan] == list(range(1, len(plan) + 1))
    assert plan[-1]["Check"] == "IDA-ACCT-901"  # 90-day items after the 30-day ones


def test_changes_sheet_and_summary_callout_with_previous(tmp_path: Path) -> None:
    week1 = build_run(Week())
    week2 = build_run(Week(day=date(2026, 11, 9), new_forward=True, alice_mfa=True))
    paths = write_reports(week2, tmp_path, ["xlsx"], previous=week1)
    wb = openpyxl.load_workbook(paths[0])
    changes = _rows(wb["Changes since last run"])[1:]
    kinds = {(r[1], r[4]): r[0] for r in changes}
    assert kinds[("IDA-MAIL-901", ".")] == "new"
    assert kinds[("IDA-AUTH-901", "alice.nurse@clinic.example")] == "resolved"
    assert kinds[("IDA-MAIL-901", "=cmd|' /C calc'!A0")] == "still open"
    # The new external forwarding rule is called out at the very top of the Summary, under the title.
    second_row = _rows(wb["Summary"])[1][0]
    assert second_row.startswith("NEW since run of 2026-11-02") and "collector@proton.example" in second_row


def test_trend_chart_from_history(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as h:
        for d in (date(2026, 11, 2), date(2026, 11, 9)):
            h.record(build_run(Week(day=d)))
        records = h.runs()
    run = build_run(Week(day=date(2026, 11, 16), alice_mfa=True))
    paths = write_reports(run, tmp_path, ["xlsx"], history_runs=records)
    wb = openpyxl.load_workbook(paths[0])
    assert wb.sheetnames[-1] == "Trend"
    trend = _rows(wb["Trend"])
    assert trend[0] == ("Run (UTC)", "Posture score", "Failing findings", "Unknown findings")
    assert [r[2] for r in trend[1:]] == [10, 10, 9]
    assert len(wb["Trend"]._charts) == 1  # beside its data: the Summary keeps to one printed page
    scores = [v for r in _rows(wb["Summary"]) for v in r if isinstance(v, str) and v.startswith("Posture score over")]
    assert scores == ["Posture score over the last 3 runs: 0 → 0 → 0 (chart on the Trend sheet)."]


def test_subjects_resolve_to_users() -> None:
    from reports.subjects import user_resolver, users_of_apps
    from tests.report_fixtures import build_data

    data = build_data(Week(new_forward=True))
    resolve = user_resolver(data)
    assert resolve("u-bob") == "u-bob"
    assert resolve("r-alice") == "u-alice"  # a bare rule id, via the forwarding table
    assert resolve("u-carol:AAMkAGI2") == "u-carol"  # the checks' user_id:rule_id form
    assert resolve("transport:rule-1") is None and resolve("app-zoom") is None
    assert users_of_apps(data, ["app-secure"]) == 1
    assert users_of_apps(data, ["app-zoom"]) == 8  # consented for all users: every enabled account
    assert users_of_apps(data, ["nope"]) is None
