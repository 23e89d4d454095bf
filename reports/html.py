"""A self-contained HTML report: one file, no scripts, no external assets, every value escaped.

It opens from an e-mail attachment or a file share with nothing to fetch. A Content-Security-Policy meta tag
forbids loading anything at all, so even a name that slipped past escaping could not pull in a script or beacon.
Passing findings are counted, not listed (the workbook and the JSON export hold every row).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from idaudit.core.atomic import write_text_atomic
from idaudit.core.engine import AuditRun
from idaudit.core.version import __version__
from reports.actions import action_plan
from reports.diff import RunDiff, callouts
from reports.posture import (
    SCORE_DEFINITION,
    STATUS_ORDER,
    collection_gaps,
    counts_by_status,
    posture_score,
    top_risks,
)
from reports.sheets_findings import sorted_findings
from reports.takeover import callout_lines as takeover_callouts
from reports.textsafe import html_text as e

HTML_ROW_LIMIT = 5000
CSS = """
body{font-family:system-ui,Segoe UI,Arial,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#1f4e78;color:#fff}
.sev-critical{background:#c00000;color:#fff}.sev-high{background:#ff7c80}.sev-medium{background:#ffc000}
.sev-low{background:#fff2cc}.sev-info{background:#ddebf7}
.st-fail{background:#f8cbad}.st-unknown{background:#d9d9d9}.st-waived{background:#e4dfec}.st-pass{background:#c6efce}
.callout{font-weight:bold;color:#9c0006}.muted{color:#666}
"""


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(rows_) + "</tr>" for rows_ in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _tuples(df: pd.DataFrame) -> Iterator[Any]:
    return iter(df.itertuples(index=False))


def _td(value: object, cls: str = "") -> str:
    klass = f' class="{e(cls)}"' if cls else ""
    return f"<td{klass}>{e(value)}</td>"


def render_html(run: AuditRun, diff: RunDiff | None = None) -> str:
    data = run.data
    score = posture_score(run.findings)
    counts = counts_by_status(run.findings)
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>Identity audit — {e(data.tenant_name or data.tenant_id)}</title><style>{CSS}</style></head><body>",
        f"<h1>Identity and MFA audit — {e(data.tenant_name or data.tenant_id)}</h1>",
        *(f"<p class=\"callout\">{e(line)}</p>" for line in takeover_callouts(run)[:20]),
        f"<p>Tenant {e(data.tenant_id)} ({e(data.provider)}) · data collected {e(data.collected_at.isoformat())}"
        f" · idaudit {e(__version__)}</p>",
        f"<h2>Posture score: {e(score.label())}</h2><p class=\"muted\">{e(SCORE_DEFINITION)}</p>",
        _table(list(STATUS_ORDER), [[_td(counts[s], f"st-{s}") for s in STATUS_ORDER]]),
    ]
    if diff is not None:
        parts.append(f"<h2>Since the last run ({e(diff.previous_label)})</h2>")
        parts.append(_table(["change", "findings"], [[_td(k), _td(v)] for k, v in diff.counts().items()]))
        families = {m.id: m.family for m in run.checks}
        parts += [f"<p class=\"callout\">{e(line)}</p>" for line in callouts(diff, families)[:20]]
        changed = diff.changes[diff.changes["change"] != "still open"].head(500)
        if not changed.empty:
            parts.append(_table(["Change", "Check", "Severity", "Subject", "Was", "Now", "Evidence"], [
                [_td(c.change), _td(c.check_id), _td(c.severity, f"sev-{c.severity}"), _td(c.subject),
                 _td(c.previous_status), _td(c.current_status), _td(c.evidence)]
                for c in changed.itertuples(index=False)]))
    risks = top_risks(run)
    parts.append("<h2>Top risks</h2>")
    parts.append("<ol>" + "".join(f"<li>{e(r.sentence())}</li>" for r in risks) + "</ol>" if risks
                 else "<p>No failing check.</p>")
    plan = action_plan(run)
    parts.append("<h2>Action plan</h2>")
    parts.append(_table(["#", "Due", "Owner", "Action", "Expected outcome", "Severity", "Affected", "HIPAA"], [
        [_td(a.priority), _td(f"{a.due_days} days ({a.due_date.isoformat()})"), _td(a.owner_role), _td(a.action),
         _td(a.expected_outcome), _td(a.severity, f"sev-{a.severity}"), _td(a.subjects_affected), _td(a.hipaa)]
        for a in plan]))
    gaps = collection_gaps(run)
    parts.append("<h2>What was not collected</h2>")
    parts.append(_table(["Section", "Status", "Detail", "Fix"],
                        [[_td(g.section), _td(g.status, "st-unknown"), _td(g.detail), _td(g.fix)] for g in gaps])
                 if gaps else "<p>Every expected section was collected.</p>")
    f = sorted_findings(run)
    shown = f[f["status"].isin(["fail", "unknown", "waived"])]
    parts.append(f"<h2>Findings (failing, unknown and waived: {len(shown)}; passing: {counts['pass']})</h2>")
    if len(shown) > HTML_ROW_LIMIT:
        parts.append(f"<p>Showing the first {HTML_ROW_LIMIT}; the workbook and JSON export hold every row.</p>")
        shown = shown.head(HTML_ROW_LIMIT)
    parts.append(_table(["Check", "Title", "Severity", "Status", "Subject", "Evidence", "Waiver"], [
        [_td(r.check_id), _td(r.title), _td(r.severity, f"sev-{r.severity}"), _td(r.status, f"st-{r.status}"),
         _td(r.subject), _td(r.evidence), _td(f"{r.waiver_owner}: {r.waiver_reason} (until {r.waiver_expires})"
                                              if r.waiver_owner else "")]
        for r in _tuples(shown)]))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(run: AuditRun, path: str | os.PathLike[str], diff: RunDiff | None = None) -> Path:
    target = Path(path)
    write_text_atomic(target, render_html(run, diff))
    return target
