"""Reports: the vCISO workbook (xlsx), its board PDF, a self-contained HTML page, CSV and JSON exports, history
and diff.

`write_reports` is the one entry point the CLI, the demo and the scheduled audit call.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from idaudit.core.engine import AuditRun

if TYPE_CHECKING:
    from reports.diff import RunDiff
    from reports.history import RunRecord, StoredRun
    from reports.sheets_summary import TrendPoint

FORMATS = ("xlsx", "html", "csv", "json", "pdf")


def _diff_against(run: AuditRun, previous: StoredRun | AuditRun | None) -> RunDiff | None:
    if previous is None:
        return None
    from reports.diff import diff_findings  # lazy: start-up time

    if isinstance(previous, AuditRun):
        label = f"run of {previous.data.collected_at.strftime('%Y-%m-%d %H:%M')} UTC"
    else:
        label = previous.label()
    return diff_findings(previous.findings, run.findings, previous_label=label)


def write_reports(run: AuditRun, out_dir: str | os.PathLike[str], formats: Iterable[str] = ("xlsx",), *,
                  basename: str = "idaudit-report", previous: StoredRun | AuditRun | None = None,
                  history_runs: Sequence[RunRecord] | None = None,
                  pseudonymize_key: bytes | None = None) -> list[Path]:
    """Write the requested formats into `out_dir` (atomically, owner-only) and return the paths written.

    `previous` is the run to compare with (Changes sheet, Summary call-outs); `history_runs` feed the trend chart
    (runs recorded before this one; the current run is appended). With `pseudonymize_key`, users appear only as keyed pseudonyms in
    every format; note that `previous` findings are then pseudonymised with the same key before diffing.
    """
    wanted = [f.strip().lower() for f in formats if f.strip()]
    bad = [f for f in wanted if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown report format(s) {bad}; choose from {', '.join(FORMATS)}")
    if "pdf" in wanted:
        from reports.pdf import PdfError, find_soffice, missing_message  # lazy: start-up time

        if find_soffice() is None:  # before any file is written: the error names the package to install
            raise PdfError(missing_message())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if pseudonymize_key is not None:
        from reports.pseudonym import pseudonymize_run  # lazy: start-up time

        if previous is not None:
            previous = pseudonymize_previous(previous, run, pseudonymize_key)
        run = pseudonymize_run(run, pseudonymize_key)
    diff = _diff_against(run, previous)
    paths: list[Path] = []
    for fmt in dict.fromkeys(wanted):
        target = out / f"{basename}.{fmt}"
        if fmt == "xlsx":
            from reports.workbook import write_workbook  # lazy: start-up time

            paths.append(write_workbook(run, target, diff=diff, trend=_trend(run, history_runs or ())))
        elif fmt == "pdf":
            paths.append(_write_pdf(run, target, diff, _trend(run, history_runs or ()),
                                    out / f"{basename}.xlsx" if "xlsx" in wanted else None))
        elif fmt == "html":
            from reports.html import write_html  # lazy: start-up time

            paths.append(write_html(run, target, diff))
        elif fmt == "csv":
            from reports.export import write_csv  # lazy: start-up time

            paths.append(write_csv(run, target))
        elif fmt == "json":
            from reports.export import write_json  # lazy: start-up time

            paths.append(write_json(run, target))
    return paths


def _write_pdf(run: AuditRun, target: Path, diff: RunDiff | None, trend: Sequence[TrendPoint],
               workbook: Path | None) -> Path:
    """The board PDF, printed by LibreOffice from the workbook (the one just written, else a temporary one)."""
    from reports.pdf import workbook_to_pdf  # lazy: start-up time
    from reports.workbook import write_workbook  # lazy: start-up time

    if workbook is not None and workbook.is_file():
        return workbook_to_pdf(workbook, target)
    with tempfile.TemporaryDirectory(prefix="idaudit-pdf-") as tmp:
        source = write_workbook(run, Path(tmp) / f"{target.stem}.xlsx", diff=diff, trend=trend)
        return workbook_to_pdf(source, target)


def _trend(run: AuditRun, records: Sequence[RunRecord]) -> list[TrendPoint]:
    from reports.posture import counts_by_status, posture_score  # lazy: start-up time
    from reports.sheets_summary import TrendPoint

    points = [TrendPoint(r.collected_at.replace(tzinfo=None), r.posture_score, r.counts.get("fail", 0),
                         r.counts.get("unknown", 0)) for r in records]
    counts = counts_by_status(run.findings)
    now = run.data.collected_at.to_pydatetime().replace(tzinfo=None)
    # `records` are the runs recorded before this one (the caller records this run after reporting it).
    points.append(TrendPoint(now, posture_score(run.findings).score, counts["fail"], counts["unknown"]))
    return points


def pseudonymize_previous(previous: StoredRun | AuditRun, run: AuditRun, key: bytes) -> StoredRun | AuditRun:
    from dataclasses import replace

    from reports.pseudonym import pseudonymize_run  # lazy: start-up time

    if isinstance(previous, AuditRun):
        return pseudonymize_run(previous, key)
    from reports.pseudonym import Pseudonymizer  # lazy: start-up time

    # The stored run has no users table of its own: the current run's users supply the names to replace (a user
    # deleted since then still has their id and mail addresses replaced).
    pz = Pseudonymizer(key, run.data.tables.get("users"))
    f = previous.findings.copy()
    user_rows = f["subject_kind"].isin(["user", "mailbox"])
    f.loc[user_rows, "subject_id"] = pz.ids(f.loc[user_rows, "subject_id"])
    f["subject"] = pz.series(f["subject"])
    f["evidence"] = pz.series(f["evidence"])
    return replace(previous, findings=f)
