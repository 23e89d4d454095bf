"""Sheets about results: Action plan, Findings, Changes since last run, Checks, Coverage."""

from __future__ import annotations

from typing import Any

import pandas as pd
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
    s = SheetWriter(wb, "Action plan", [
        Column("#", 5), Column("Due", 9), Column("Due date", 12), Column("Owner role", 14),
        Column("Action", 70, wrap=True), Column("Expected outcome", 50, wrap=True), Column("Check", 14),
        Column("Severity", 10), Column("Subjects affected", 10), Column("Users affected", 10),
        Column("HIPAA reference", 36, wrap=True), Column("Finding", 40, wrap=True),
    ], freeze_header=True, auto_filter=True)
    s.header()
    for a in action_plan(run):
        s.row([a.priority, f"{a.due_days} days", a.due_date, a.owner_role, a.action, a.expected_outcome,
               a.check_id, severity_cell(a.severity), a.subjects_affected, a.users_affected, a.hipaa, a.title])
    s.finish_table()


def sorted_findings(run: AuditRun) -> pd.DataFrame:
    f = run.findings
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return (f.assign(_o=f["status"].map(order).fillna(9), _r=-f["severity"].map(_RANK).fillna(0))
            .sort_values(["_o", "_r", "check_id", "subject"], kind="stable").drop(columns=["_o", "_r"]))


def write_findings(wb: Workbook, run: AuditRun) -> None:
    cols = [
        Column("Check", 14), Column("Title", 40), Column("Severity", 10), Column("Status", 12),
        Column("Subject kind", 10), Column("Subject", 34), Column("Subject id", 20), Column("Evidence", 70),
        Column("Confidence", 10), Column("Waiver owner", 16), Column("Waiver reason", 30),
        Column("Waiver expires", 12), Column("Reader status", 14), Column("Reader notes", 30),
    ]
    s = SheetWriter(wb, "Findings", cols, freeze_header=True, auto_filter=True)
    s.header()
    f = sorted_findings(run)
    fields = ["check_id", "title", "severity", "status", "subject_kind", "subject", "subject_id", "evidence",
              "confidence", "waiver_owner", "waiver_reason", "waiver_expires"]
    # Streamed column-wise: 100,000 findings must not need 100,000 styled cell objects (docs/reports.md).
    s.prepared_rows([prepare_column(f[c].tolist()) for c in fields])
    s.finish_table()
    colour_rules(s.ws, "C", s.rows_written, SEVERITY_FILLS, SEVERITY_FONTS)
    colour_rules(s.ws, "D", s.rows_written, STATUS_FILLS)
    last = max(s.rows_written, 2)
    dv = DataValidation(type="list", formula1='"' + ",".join(READER_STATUSES) + '"', allow_blank=True,
                        showDropDown=False)
    dv.promptTitle = "Reader status"
    dv.prompt = "Track your own progress on this finding."
    dv.add(f"M2:M{last}")
    s.ws.data_validations.append(dv)


def write_changes(wb: Workbook, diff: RunDiff | None) -> None:
    s = SheetWriter(wb, "Changes since last run", [
        Column("Change", 18), Column("Check", 14), Column("Title", 40), Column("Severity", 10),
        Column("Subject", 34), Column("Previous status", 14), Column("Current status", 14), Column("Evidence", 70),
    ], freeze_header=True, auto_filter=True)
    s.header()
    if diff is None:
        s.row(["No earlier run of this tenant is recorded: every finding is new this time."])
        return
    for r in diff.changes.itertuples(index=False):
        s.row([r.change, r.check_id, r.title, severity_cell(str(r.severity)), r.subject, r.previous_status,
               r.current_status, r.evidence])
    s.finish_table()


def write_checks(wb: Workbook, run: AuditRun) -> None:
    s = SheetWriter(wb, "Checks", [
        Column("Check", 14), Column("Title", 40), Column("Severity", 10), Column("Family", 14),
        Column("Owner role", 14), Column("Result", 12), *(Column(st, 9) for st in STATUS_ORDER),
        Column("Why it matters (exfiltration path)", 60, wrap=True), Column("Remediation", 70, wrap=True),
        Column("References", 50, wrap=True), Column("Reads tables", 30), Column("Providers", 16),
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
        s.row([m.id, m.title, severity_cell(m.severity.value), m.family, m.owner_role, status_cell(outcome),
               *counts, m.rationale, m.fix_for(run.data.provider), "\n".join(str(r) for r in m.references),
               ", ".join(m.requires), ", ".join(sorted(p.value for p in m.providers))])
    s.finish_table()


def write_coverage(wb: Workbook, run: AuditRun) -> None:
    """Every expected section for the provider: collected or not, and what would fix a gap."""
    s = SheetWriter(wb, "Coverage", [
        Column("Section", 28), Column("Status", 14), Column("Objects", 9), Column("Detail", 50, wrap=True),
        Column("Failed subjects", 10), Column("Failed subjects (first 20)", 50, wrap=True),
        Column("What it is for", 45, wrap=True), Column("Permission / licence that fixes a gap", 50, wrap=True),
        Column("Request", 50),
    ], freeze_header=True, auto_filter=True)
    s.header()
    data = run.data
    manifest = data.manifest
    if manifest is None:
        s.row(["(no manifest: data was built in memory)", "", "", "table availability is listed below"])
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
                       "the snapshot has no record of this section", 0, "", purpose, fix, request])
                continue
            failed = sorted(rec.failed_subjects.items())
            failed_txt = "\n".join(f"{k}: {v}" for k, v in failed[:20])
            ok = rec.status.value == "ok"
            fill = status_cell("pass" if ok and not failed else "fail" if not ok else "unknown").fill
            s.row([name, Styled(rec.status.value, fill=fill), rec.count, rec.detail, len(failed), failed_txt,
                   purpose, "" if ok and not failed else fix, rec.request or request])
    s.finish_table()
    s.blank()
    s.heading("Normalised tables the checks read")
    s.row(["Table", "Availability", "", "Reason", "Subjects missing"])
    for name, st in sorted(data.status.items()):
        s.row([name, st.availability.value, "", st.reason, len(st.missing_subjects)])
    unknown = run.findings[run.findings["status"] == Status.UNKNOWN.value]
    s.blank()
    s.heading(f"Findings that are unknown because data was missing: {len(unknown)}")
