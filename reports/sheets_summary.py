"""The Summary sheet — the executive one-pager, page 1 of the board PDF — and the Trend sheet with its chart.

It tells the story on one printed page (issue 18): who and when, what needs attention now (new forwarding or app
consents since the last run, and any sign of takeover, in red), the posture score and what it means, the five things to do this month, what
changed since the last run, what could not be checked, and the counts the Findings sheet adds up to. Every
sentence is a wrapped cell across the page's columns with a computed row height, so nothing is cut mid-sentence.
A new call-out (a sign of compromise, say) goes into `_callouts`: the lines there print first, in red.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Font
from openpyxl.workbook import Workbook

from idaudit.core.engine import AuditRun
from idaudit.core.model import PROVIDER_LABELS
from idaudit.core.sections import sections_for
from idaudit.core.version import __version__
from reports.actions import Action, action_plan
from reports.diff import RunDiff, callouts
from reports.posture import (
    SCORE_DEFINITION,
    SEVERITY_ORDER,
    STATUS_ORDER,
    PostureScore,
    check_outcomes,
    collection_gaps,
    counts_by_severity,
    counts_by_status,
)
from reports.printsetup import PrintSpec
from reports.sheetio import BOLD, FONT_NAME, Column, SheetWriter, Styled, severity_cell, status_cell
from reports.takeover import SHEET as TAKEOVER_SHEET
from reports.takeover import callout_lines as takeover_callouts

ALERT_FONT = Font(name=FONT_NAME, bold=True, color="C00000")
SCORE_FONT = Font(name=FONT_NAME, bold=True, size=16)
SECTION_FONT = Font(name=FONT_NAME, bold=True, size=12, color="1F4E78")
SMALL_FONT = Font(name=FONT_NAME, size=9, color="404040")
TITLE_FONT = Font(name=FONT_NAME, bold=True, size=16)
# Six columns that fit a portrait page at full size (96 of the ~100 units a letter page holds).
COLUMNS = [Column("", 26), Column("", 14), Column("", 14), Column("", 14), Column("", 14), Column("", 14)]
WIDE = len(COLUMNS)
MAX_CALLOUTS = 5
MAX_GAPS = 5
THINGS_TO_DO = 5


@dataclass(frozen=True)
class TrendPoint:
    """One stored run on the trend chart."""

    when: datetime
    score: float | None
    failing: int
    unknown: int


def _text(value: str, span: int = WIDE, font: Font | None = None) -> Styled:
    return Styled(value, font=font, wrap=True, span=span)


def write_summary(wb: Workbook, run: AuditRun, score: PostureScore, diff: RunDiff | None,
                  trend: Sequence[TrendPoint]) -> None:
    s = SheetWriter(wb, "Summary", COLUMNS, print_spec=PrintSpec(pages_tall=1, gridlines=False, landscape=False))
    s.row([_text(f"Identity and MFA audit — {run.data.tenant_name or run.data.tenant_id}", font=TITLE_FONT)])
    _callouts(s, run, diff)
    _facts(s, run)
    _score(s, run, score)
    _things_to_do(s, run)
    _changes(s, diff, trend)
    _not_checked(s, run)
    _results(s, run)
    _expired_waivers(s, run)
    if len(trend) >= 2:
        _trend_sheet(wb, trend)


def _facts(s: SheetWriter, run: AuditRun) -> None:
    data = run.data
    provider = data.provider
    label = PROVIDER_LABELS.get(provider, provider)  # type: ignore[call-overload]
    s.row(["Organisation", _text(data.tenant_name, 2), "Provider", _text(provider, 2)])
    s.row(["Tenant id", _text(data.tenant_id, 2), "Collected (UTC)",
           Styled(data.collected_at.to_pydatetime(), span=2)])
    s.row(["idaudit version", _text(f"{__version__} ({label})", 2), "Checks run (UTC)",
           Styled(run.evaluated_at, span=2)])
    complete = data.manifest.complete if data.manifest is not None else True
    if not complete:
        s.row([_text("Collection complete: NO — the collection was interrupted, so some checks could not run; see "
                     "the Coverage sheet.", font=ALERT_FONT)])


def _callouts(s: SheetWriter, run: AuditRun, diff: RunDiff | None) -> None:
    """Red lines right under the title: what may be a compromise in progress — signs of takeover first (whether
    new or not: an incident is not over because it was reported last week), then new forwarding and consents."""
    signs = takeover_callouts(run)
    new = callouts(diff, {m.id: m.family for m in run.checks}) if diff is not None else []
    shown_signs = signs[:MAX_CALLOUTS]
    for line in shown_signs:
        s.row([_text(line, font=ALERT_FONT)])
    if len(signs) > len(shown_signs):
        s.row([_text(f"… and {len(signs) - len(shown_signs)} more users with signs of takeover: see "
                     f"'{TAKEOVER_SHEET}'", font=ALERT_FONT)])
    room = max(MAX_CALLOUTS - len(shown_signs), 0)
    for line in new[:room]:
        s.row([_text(line, font=ALERT_FONT)])
    if len(new) > room:
        s.row([_text(f"… and {len(new) - room} more new mail or app findings: see 'Changes since last "
                     "run'", font=ALERT_FONT)])


def _score(s: SheetWriter, run: AuditRun, score: PostureScore) -> None:
    s.blank()
    outcomes = check_outcomes(run.findings)
    failing = int((outcomes["outcome"] == "fail").sum()) if not outcomes.empty else 0
    shown = score.score if score.score is not None else "n/a"
    # Shown whole, as on every other page (HTML, notifications); the cell keeps the exact value.
    s.row([Styled("Posture score", font=SECTION_FONT), Styled(shown, font=SCORE_FONT, number_format="0"),
           _text(_meaning(score, failing), 4)])
    s.row(["", _text(SCORE_DEFINITION, 5, SMALL_FONT)])


def _meaning(score: PostureScore, failing_checks: int) -> str:
    if score.score is None:
        return "Not computable: no check could be evaluated (see what could not be checked, below)."
    missing = 1 - score.coverage
    gap = (f" {missing:.0%} of the weight could not be checked (below) and is left out, never counted as "
           "passing." if missing > 0.005 else " Every check could be evaluated.")
    return (f"{score.score:.0f} out of 100: checks carrying {score.score:.0f} % of the evaluated weight pass in "
            f"full; {failing_checks} check{'' if failing_checks == 1 else 's'} fail. Coverage "
            f"{score.coverage:.0%}.{gap}")


def _things_to_do(s: SheetWriter, run: AuditRun) -> None:
    s.blank()
    plan = action_plan(run)
    s.row([Styled("Five things to do this month", font=SECTION_FONT), "", "", "", Styled("Owner", font=BOLD),
           Styled("Due", font=BOLD)])
    if not plan:
        s.row([_text("Nothing: no check fails and every section was collected.")])
    for a in plan[:THINGS_TO_DO]:
        s.row([_text(_thing(a), 4), _text(a.owner_role, 1), a.due_date])
    if len(plan) > THINGS_TO_DO:
        more = len(plan) - THINGS_TO_DO
        s.row([_text(f"{more} more action{'' if more == 1 else 's'}, and each one's console steps and HIPAA "
                     "reference: see the Action plan sheet.", font=SMALL_FONT)])


def _thing(a: Action) -> str:
    what = a.what or a.action
    who = f" — {a.affected}" if a.affected else ""
    severity = f" ({a.severity})" if a.severity != "info" else ""
    return f"{a.priority}. {a.title}{who}{severity}. {what}"


def _changes(s: SheetWriter, diff: RunDiff | None, trend: Sequence[TrendPoint]) -> None:
    s.blank()
    if diff is None:
        s.row([Styled("Since the last run", font=SECTION_FONT)])
        s.row([_text("No earlier run of this tenant is recorded: this run is the baseline the next one is compared "
                     "with.")])
    else:
        s.row([Styled(f"Since the last run ({diff.previous_label})", font=SECTION_FONT)])
        counts = diff.counts()
        s.row([Styled(label, font=BOLD, wrap=True) for label in ("", *counts)])
        s.row(["findings", *counts.values()])
    scores = [p.score for p in trend if p.score is not None]
    if len(scores) >= 2:
        path = " → ".join(f"{x:.0f}" for x in scores[-6:])
        s.row([_text(f"Posture score over the last {min(len(scores), 6)} runs: {path} (chart on the Trend sheet).")])


def _not_checked(s: SheetWriter, run: AuditRun) -> None:
    s.blank()
    unknown = counts_by_status(run.findings)["unknown"]
    s.row([Styled("What could not be checked", font=SECTION_FONT), _text(
        f"{unknown} finding{'' if unknown == 1 else 's'} unknown — never counted as passing.", 5)])
    gaps = collection_gaps(run)
    if not gaps:
        s.row([_text("Every expected section was collected.")])
    for g in gaps[:MAX_GAPS]:
        detail = "; ".join(x for x in (g.detail, f"{g.failed_subjects} subject(s) could not be read"
                                      if g.failed_subjects else "",
                                      f"fix: {g.fix}" if g.fix and g.fix not in g.detail else "") if x)
        s.row([_text(g.section, 1), Styled(g.status, fill=status_cell("unknown").fill), _text(detail, 4)])
    if len(gaps) > MAX_GAPS:
        s.row([_text(f"… and {len(gaps) - MAX_GAPS} more: see the Coverage sheet.", font=SMALL_FONT)])
    data = run.data
    if data.manifest is not None:
        absent = [spec.name for spec in sections_for(data.provider) if spec.name not in data.manifest.sections]
        if absent:
            s.row([_text(f"{len(absent)} expected section(s) are not in this snapshot: {', '.join(absent)} (see the "
                         "Coverage sheet).", font=SMALL_FONT)])


def _results(s: SheetWriter, run: AuditRun) -> None:
    """Findings by severity and status: the same numbers the Findings sheet's filter gives."""
    s.blank()
    s.row([Styled("Findings by severity and status", font=SECTION_FONT)])
    s.row(["severity", *(status_cell(st) for st in STATUS_ORDER)])
    by_sev = counts_by_severity(run.findings)
    for sev in SEVERITY_ORDER:
        s.row([severity_cell(sev), *(by_sev[sev][st] for st in STATUS_ORDER)])
    by_status = counts_by_status(run.findings)
    s.row([Styled("all findings", font=BOLD), *(Styled(by_status[st], font=BOLD) for st in STATUS_ORDER)])


def _expired_waivers(s: SheetWriter, run: AuditRun) -> None:
    if not run.expired_waivers:
        return
    s.blank()
    s.row([Styled("Expired waivers (no longer applied: these findings count as failing again)", font=SECTION_FONT)])
    for w in run.expired_waivers[:3]:
        s.row([w.check_id, _text(w.subject, 2), _text(f"owner {w.owner}; expired {w.expires.isoformat()}; "
                                                      f"{w.reason}", 3)])
    if len(run.expired_waivers) > 3:
        s.row([_text(f"… and {len(run.expired_waivers) - 3} more expired waivers.", font=SMALL_FONT)])


def _trend_sheet(wb: Workbook, trend: Sequence[TrendPoint]) -> None:
    """The runs behind the trend, with their chart beside them (the Summary keeps to one page)."""
    t = SheetWriter(wb, "Trend", [Column("Run (UTC)", 17), Column("Posture score", 10, wrap=True),
                                  Column("Failing findings", 10, wrap=True),
                                  Column("Unknown findings", 10, wrap=True)],
                    print_spec=PrintSpec(landscape=True, area=False))
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
    t.ws.add_chart(chart, "F2")
