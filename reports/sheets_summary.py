"""The Summary sheet (what leadership reads) and the Trend sheet behind its chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font
from openpyxl.workbook import Workbook

from idaudit.core.engine import AuditRun
from idaudit.core.sections import sections_for
from idaudit.core.version import __version__
from reports.diff import RunDiff, callouts
from reports.posture import (
    SCORE_DEFINITION,
    SEVERITY_ORDER,
    STATUS_ORDER,
    PostureScore,
    collection_gaps,
    counts_by_severity,
    counts_by_status,
    top_risks,
)
from reports.sheetio import BOLD, Column, SheetWriter, Styled, severity_cell, status_cell

ALERT_FONT = Font(bold=True, color="C00000")


@dataclass(frozen=True)
class TrendPoint:
    """One stored run on the trend chart."""

    when: datetime
    score: float | None
    failing: int
    unknown: int


def write_summary(wb: Workbook, run: AuditRun, score: PostureScore, diff: RunDiff | None,
                  trend: Sequence[TrendPoint]) -> None:
    data = run.data
    s = SheetWriter(wb, "Summary", [Column("", 34), Column("", 16), Column("", 12), Column("", 12),
                                    Column("", 12), Column("", 12), Column("", 14)])
    s.title_row(f"Identity and MFA audit — {data.tenant_name or data.tenant_id}")
    # New forwarding and new app consents since last week go first: they are how a compromise shows itself.
    lines = callouts(diff, {m.id: m.family for m in run.checks}) if diff is not None else []
    for line in lines[:15]:
        s.row([Styled(line, font=ALERT_FONT)])
    if len(lines) > 15:
        s.row([Styled(f"… and {len(lines) - 15} more new mail or app findings: see 'Changes since last run'",
                      font=ALERT_FONT)])
    if lines:
        s.blank()
    s.row(["Organisation", data.tenant_name])
    s.row(["Tenant id", data.tenant_id])
    s.row(["Provider", data.provider])
    s.row(["Data collected at (UTC)", data.collected_at.to_pydatetime()])
    s.row(["Checks evaluated at (UTC)", run.evaluated_at])
    complete = data.manifest.complete if data.manifest is not None else True
    s.row(["Collection complete", "yes" if complete else "NO — collection was interrupted; see Coverage"])
    s.row(["idaudit version", __version__])
    s.blank()
    s.row([Styled("Posture score", font=BOLD), Styled(score.score if score.score is not None else "n/a", font=BOLD),
           score.label()])
    s.row(["How the score is computed", Styled(SCORE_DEFINITION, wrap=False)])
    s.blank()

    if diff is not None:
        counts = diff.counts()
        s.heading(f"Since the last run ({diff.previous_label})")
        for label, n in counts.items():
            s.row([label, n])
        s.blank()
    else:
        s.row(["Since the last run", "no earlier run of this tenant is recorded"])
        s.blank()

    s.heading("Results by status")
    by_status = counts_by_status(run.findings)
    s.row([status_cell(st) for st in STATUS_ORDER])
    s.row([by_status[st] for st in STATUS_ORDER])
    s.blank()
    s.heading("Results by severity")
    s.row(["severity", *STATUS_ORDER])
    by_sev = counts_by_severity(run.findings)
    for sev in SEVERITY_ORDER:
        s.row([severity_cell(sev), *(by_sev[sev][st] for st in STATUS_ORDER)])
    s.blank()

    s.heading("Top risks")
    risks = top_risks(run)
    if not risks:
        s.row(["No failing check."])
    for r in risks:
        s.row([Styled(r.sentence())])
    s.blank()

    s.heading("What was not collected (these checks report 'unknown', never 'pass')")
    gaps = collection_gaps(run)
    if not gaps:
        s.row(["Every expected section was collected."])
    for g in gaps:
        detail = "; ".join(x for x in (g.detail, f"{g.failed_subjects} subject(s) could not be read"
                                      if g.failed_subjects else "") if x)
        s.row([g.section, g.status, detail, f"fix: {g.fix}" if g.fix else ""])
    if data.manifest is not None:
        absent = [spec.name for spec in sections_for(data.provider) if spec.name not in data.manifest.sections]
        if absent:
            s.row([f"{len(absent)} expected section(s) are not in this snapshot: {', '.join(absent)} "
                   "(see the Coverage sheet)"])
    if run.expired_waivers:
        s.blank()
        s.heading("Expired waivers (no longer applied: these findings count as failing again)")
        for w in run.expired_waivers:
            s.row([w.check_id, w.subject, f"owner {w.owner}", f"expired {w.expires.isoformat()}", w.reason])
    s.blank()
    _trend(wb, s, trend)


def _trend(wb: Workbook, summary: SheetWriter, trend: Sequence[TrendPoint]) -> None:
    summary.heading("Trend over stored runs")
    if len(trend) < 2:
        summary.row(["The chart appears once two or more runs of this tenant are recorded in the history."])
        return
    t = SheetWriter(wb, "Trend", [Column("Run (UTC)", 20), Column("Posture score", 14),
                                  Column("Failing findings", 16), Column("Unknown findings", 16)])
    t.header()
    for p in trend:
        t.row([p.when, p.score, p.failing, p.unknown])
    chart = LineChart()
    chart.title = "Posture score and failing findings per run"
    chart.y_axis.title = "score / findings"
    chart.x_axis.title = "run"
    chart.height, chart.width = 8, 18
    values = Reference(t.ws, min_col=2, max_col=3, min_row=1, max_row=len(trend) + 1)
    chart.add_data(values, titles_from_data=True)
    chart.set_categories(Reference(t.ws, min_col=1, min_row=2, max_row=len(trend) + 1))
    summary.ws.add_chart(chart, f"A{summary.rows_written + 2}")
