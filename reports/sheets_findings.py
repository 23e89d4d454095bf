"""Sheets about results: Action plan, Findings, Changes since last run, Checks, Coverage."""

from __future__ import annotations

from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from idaudit.core.engine import AuditRun
from idaudit.core.model import Status
from idaudit.core.sections import section_spec, sections_for
from reports.actions import action_plan
from reports.diff import RunDiff
from reports.posture import STATUS_ORDER, check_outcomes
from reports.sheetio import (
    SEVERITY_FILLS,
    SEVERITY_FONTS,
    STATUS_FILLS,
    Column,
    SheetWriter,
    Styled,
    colour_rules,
    prepare_column,
    severity_cell,
    status_cell,
)

READER_STATUSES = ("Open", "In progress", "Fixed", "Accepted risk", "False positive")
_RANK = {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}


def write_action_plan(wb: Workbook, run: AuditRun) -> None:
    # Printed: what to do, by whom, by when, for how many, and the HIPAA reference; on screen only: the due
    # period (the date says it) and the expected outcome (the Checks sheet has the full reasoning).
    s = SheetWriter(wb, "Action plan", [
        Column("#", 4), Column("Due date", 12), Column("Owner role", 13, wrap=True),
        Column("Finding", 26, wrap=True), Column("Action", 58, wrap=True), Column("Severity", 9),
        Column("Users affected", 9), Column("Subjects affected", 9), Column("HIPAA reference", 24, wrap=True),
        Column("Check", 14), Column("Due", 9, printed=False),
        Column("Expected outcome", 50, wrap=True, printed=False),
    ], freeze_header=True, auto_filter=True)
    s.header()
    for a in action_plan(run):
        s.row([a.priority, a.due_date, a.owner_role, a.title, a.action, severity_cell(a.severity),
               a.users_affected, a.subjects_affected, a.hipaa, a.check_id, f"{a.due_days} days",
               a.expected_outcome])
    s.finish_table()


def sorted_findings(run: AuditRun) -> pd.DataFrame:
    f = run.findings
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return (f.assign(_o=f["status"].map(order).fillna(9), _r=-f["severity"].map(_RANK).fillna(0))
            .sort_values(["_o", "_r", "check_id", "subject"], kind="stable").drop(columns=["_o", "_r"]))


FINDING_COLUMNS = (
    # Printed widths add up to ~194 characters: wider, and fitting one page wide shrinks the type below 8.5 pt.
    ("check_id", Column("Check", 14)), ("title", Column("Title", 24, wrap=True)), ("severity", Column("Severity", 9)),
    ("status", Column("Status", 13)), ("subject", Column("Subject", 26, wrap=True)),
    ("evidence", Column("Evidence", 46, wrap=True)),
    # The logged change behind a forwarding rule, consent or role, or why none is shown (idaudit.core.provenance).
    ("how_it_got_there", Column("How it got there", 26, wrap=True)),
    ("waiver_owner", Column("Waiver owner", 10, wrap=True)),
    ("waiver_reason", Column("Waiver reason", 16, wrap=True)), ("waiver_expires", Column("Waiver expires", 10)),
    # Screen only: for filtering and for the reader's own tracking.
    ("confidence", Column("Confidence", 10, printed=False)),
    ("", Column("Reader status", 14, printed=False)), ("", Column("Reader notes", 30, printed=False)),
    ("subject_kind", Column("Subject kind", 10, printed=False)), ("subject_id", Column("Subject id", 38, printed=False)),
)
PRINTED_STATUSES = ("fail", "unknown", "waived")


def write_findings(wb: Workbook, run: AuditRun) -> None:
    s = SheetWriter(wb, "Findings", [c for _, c in FINDING_COLUMNS], freeze_header=True, auto_filter=True)
    s.header()
    f = sorted_findings(run)
    n = len(f)
    empty: list[Any] = [None] * n
    # Streamed column-wise: 100,000 findings must not need 100,000 styled cell objects (docs/reports.md).
    s.prepared_rows([prepare_column(f[field].tolist()) if field else empty for field, _ in FINDING_COLUMNS])
    s.finish_table()
    letter = {c.header: get_column_letter(i) for i, (_, c) in enumerate(FINDING_COLUMNS, 1)}
    colour_rules(s.ws, letter["Severity"], s.rows_written, SEVERITY_FILLS, SEVERITY_FONTS)
    colour_rules(s.ws, letter["Status"], s.rows_written, STATUS_FILLS)
    # On paper: the findings that need a reader (failing, unknown, waived) — sorted first. The passing rows stay
    # in the workbook; the page footer says how many were left off.
    shown = int(f["status"].isin(PRINTED_STATUSES).sum())
    if 0 < shown < n:
        s.print_through(1 + shown, note=f"Printed: the {shown:,} failing, unknown and waived findings; "
                                        f"the {n - shown:,} others are in the workbook")
    last = max(s.rows_written, 2)
    dv = DataValidation(type="list", formula1='"' + ",".join(READER_STATUSES) + '"', allow_blank=True,
                        showDropDown=False)
    dv.promptTitle = "Reader status"
    dv.prompt = "Track your own progress on this finding."
    col = letter["Reader status"]
    dv.add(f"{col}2:{col}{last}")
    s.ws.data_validations.append(dv)


def write_changes(wb: Workbook, diff: RunDiff | None) -> None:
    s = SheetWriter(wb, "Changes since last run", [
        Column("Change", 14, wrap=True), Column("Check", 14), Column("Title", 28, wrap=True), Column("Severity", 9),
        Column("Subject", 28, wrap=True), Column("Previous status", 11), Column("Current status", 11),
        Column("Evidence", 50, wrap=True),
    ], freeze_header=True, auto_filter=True)
    s.header()
    if diff is None:
        s.row([Styled("No earlier run of this tenant is recorded: every finding is new this time.", span=5,
                      wrap=True)])
        return
    for r in diff.changes.itertuples(index=False):
        s.row([r.change, r.check_id, r.title, severity_cell(str(r.severity)), r.subject, r.previous_status,
               r.current_status, r.evidence])
    s.finish_table()


STATUS_HEADERS = {"not_applicable": "not applicable"}


def write_checks(wb: Workbook, run: AuditRun) -> None:
    s = SheetWriter(wb, "Checks", [
        Column("Check", 14), Column("Title", 24, wrap=True), Column("Severity", 9), Column("Result", 10),
        *(Column(STATUS_HEADERS.get(st, st), 8) for st in STATUS_ORDER),
        Column("Why it matters (exfiltration path)", 40, wrap=True), Column("Remediation", 48, wrap=True),
        Column("References", 50, wrap=True, printed=False), Column("Family", 14, printed=False),
        Column("Owner role", 14, printed=False), Column("Reads tables", 30, printed=False),
        Column("Providers", 16, printed=False),
    ], freeze_header=True, auto_filter=True)
    s.header()
    per_check = check_outcomes(run.findings).set_index("check_id") if not run.findings.empty else None
    for m in sorted(run.checks, key=lambda m: m.id):
        counts = [0] * len(STATUS_ORDER)
        outcome = "not run"
        if per_check is not None and m.id in per_check.index:
            row: Any = per_check.loc[m.id]
            counts = [int(row[st]) for st in STATUS_ORDER]
            outcome = str(row["outcome"])
        # a check for the other provider only: its console steps would send this tenant's reader to the wrong
        # console (issue 18), so the row says it does not apply instead
        fix = (m.fix_for(run.data.provider) if any(p.value == run.data.provider for p in m.providers)
               else f"Does not apply to {run.data.provider} tenants.")
        s.row([m.id, m.title, severity_cell(m.severity.value), status_cell(outcome), *counts, m.rationale,
               fix, "\n".join(str(r) for r in m.references), m.family, m.owner_role,
               ", ".join(m.requires), ", ".join(sorted(p.value for p in m.providers))])
    s.finish_table()


def write_coverage(wb: Workbook, run: AuditRun) -> None:
    """Every expected section for the provider: collected or not, and what would fix a gap."""
    s = SheetWriter(wb, "Coverage", [
        Column("Section", 24, wrap=True), Column("Status", 12), Column("Objects", 8),
        Column("Detail", 36, wrap=True), Column("Failed subjects", 8), Column("What it is for", 32, wrap=True),
        Column("Permission / licence that fixes a gap", 40, wrap=True),
        Column("Failed subjects (first 20)", 50, wrap=True, printed=False), Column("Request", 50, printed=False),
    ], freeze_header=True, auto_filter=True)
    s.header()
    data = run.data
    manifest = data.manifest
    if manifest is None:
        s.row([Styled("(no manifest: data was built in memory; table availability is listed below)", span=4,
                      wrap=True)])
    else:
        expected = [spec.name for spec in sections_for(manifest.provider)]
        names = expected + sorted(n for n in manifest.sections if n not in expected)
        for name in names:
            rec = manifest.sections.get(name)
            spec = section_spec(manifest.provider, name)
            purpose = spec.purpose if spec else ""
            fix = spec.fix if spec else ""
            request = spec.request if spec else ""
            if rec is None:
                s.row([name, Styled("not collected", fill=status_cell("unknown").fill), 0,
                       "the snapshot has no record of this section", 0, purpose, fix, "", request])
                continue
            failed = sorted(rec.failed_subjects.items())
            failed_txt = "\n".join(f"{k}: {v}" for k, v in failed[:20])
            ok = rec.status.value == "ok"
            fill = status_cell("pass" if ok and not failed else "fail" if not ok else "unknown").fill
            s.row([name, Styled(rec.status.value, fill=fill), rec.count, rec.detail, len(failed), purpose,
                   "" if ok and not failed else fix, failed_txt, rec.request or request])
    s.finish_table()
    s.blank()
    s.heading("Normalised tables the checks read")
    s.row(["Table", "Availability", "", "Reason", "Subjects missing"])
    for name, st in sorted(data.status.items()):
        s.row([name, st.availability.value, "", st.reason, len(st.missing_subjects)])
    unknown = run.findings[run.findings["status"] == Status.UNKNOWN.value]
    s.blank()
    s.heading(f"Findings that are unknown because data was missing: {len(unknown)}")
