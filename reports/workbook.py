"""The vCISO workbook: one .xlsx a virtual CISO reads and an IT manager hands to leadership.

Sheet order follows how it is read: Summary (score, changes, top risks, gaps), Action plan (30/90 days), Signs of
takeover (what may be an incident in progress, with each user's timeline of the log window), then the evidence (Findings, Users, Forwarding, Apps and consents, Privileged access), then Coverage, Changes since
last run and the Checks catalogue. Every sheet is streamed (openpyxl write-only mode) and every untrusted string
is stored as a text cell (reports.sheetio). The file is written to a temporary name and renamed, owner-only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from openpyxl.workbook import Workbook

from idaudit.core.atomic import atomic_path
from idaudit.core.engine import AuditRun
from reports.diff import RunDiff
from reports.posture import posture_score
from reports.printsetup import PageFacts
from reports.sheetio import new_workbook
from reports.sheets_findings import (
    write_action_plan,
    write_changes,
    write_checks,
    write_coverage,
    write_findings,
)
from reports.sheets_people import write_apps, write_forwarding, write_privileged, write_users
from reports.sheets_summary import TrendPoint, write_summary
from reports.takeover import write_takeover

SHEETS = ("Summary", "Action plan", "Signs of takeover", "Findings", "Users", "Forwarding", "Apps and consents", "Privileged access",
          "Coverage", "Changes since last run", "Checks")


def _discard(wb: Workbook) -> None:
    """After a failure: close the half-written sheet streams and delete openpyxl's temporary sheet files
    (they hold names and evidence; left alone they would sit in the temp directory until the process exits)."""
    for ws in wb._sheets:
        rows = getattr(ws, "_rows", None)
        writer = getattr(ws, "_writer", None)
        with contextlib.suppress(Exception):
            if rows is not None:
                rows.close()
        with contextlib.suppress(Exception):
            if writer is not None:
                writer.xf.close()
        with contextlib.suppress(Exception):
            if writer is not None:
                writer.cleanup()


def write_workbook(run: AuditRun, path: str | os.PathLike[str], *, diff: RunDiff | None = None,
                   trend: Sequence[TrendPoint] = ()) -> Path:
    data = run.data
    collected = data.collected_at.strftime("%Y-%m-%d %H:%M UTC")
    wb = new_workbook(PageFacts(organisation=data.tenant_name or data.tenant_id, collected=collected))
    try:
        _fill(wb, run, diff, trend)
    except BaseException:
        _discard(wb)
        raise
    target = Path(path)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target


def _fill(wb: Workbook, run: AuditRun, diff: RunDiff | None, trend: Sequence[TrendPoint]) -> None:
    write_summary(wb, run, posture_score(run.findings), diff, trend)
    write_action_plan(wb, run)
    write_takeover(wb, run)
    write_findings(wb, run)
    write_users(wb, run)
    write_forwarding(wb, run)
    write_apps(wb, run)
    write_privileged(wb, run)
    write_coverage(wb, run)
    write_changes(wb, diff)
    write_checks(wb, run)
    if len(trend) >= 2:
        # The Trend sheet was created while writing the Summary; keep it at the end, after the catalogue.
        # (openpyxl's move_sheet does not find write-only sheets, so reorder its list directly.)
        sheets = wb._sheets
        sheets.append(sheets.pop(wb.sheetnames.index("Trend")))
