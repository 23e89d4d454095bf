"""Helpers shared by CLI commands: the terminal summary and the exit code of a run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from idaudit.core import exitcodes
from idaudit.core.engine import AuditRun
from idaudit.core.model import Severity, Status
from reports.textsafe import terminal_text, truncate

_SERIOUS = {Severity.CRITICAL.value, Severity.HIGH.value}


def exit_code_for(run: AuditRun) -> int:
    f = run.findings
    if ((f["status"] == Status.FAIL.value) & f["severity"].isin(_SERIOUS)).any():
        return exitcodes.FINDINGS
    if (f["status"] == Status.UNKNOWN.value).any():
        return exitcodes.INCOMPLETE
    return exitcodes.OK


TERMINAL_LIMIT = 200  # characters of one untrusted value on a terminal line; the rest is in the reports


def terminal_line(value: object, limit: int = TERMINAL_LIMIT) -> str:
    """Untrusted text for one terminal line: escape sequences, control and bidi characters shown as visible
    markers (reports.textsafe), and a long value cut with a marker saying how long it was."""
    return truncate(terminal_text(value), limit)


def _safe(text: str) -> str:
    return terminal_line(text)


def print_run_summary(run: AuditRun, paths: Sequence[Path]) -> None:
    f = run.findings
    counts = f["status"].value_counts()
    order = ["fail", "unknown", "waived", "pass", "not_applicable"]
    parts = [f"{s}: {int(counts.get(s, 0))}" for s in order]
    print(f"{_safe(run.data.tenant_name or run.data.tenant_id)} ({run.data.provider}) — "
          f"{len(run.checks)} checks — " + ", ".join(parts))
    failing = f[f["status"] == Status.FAIL.value]
    if not failing.empty:
        top = (failing.groupby(["check_id", "severity", "title"]).size().reset_index(name="n")
               .assign(rank=lambda d: d["severity"].map(lambda s: Severity(s).rank))
               .sort_values(["rank", "n"], ascending=[False, False]).head(8))
        print("top failing checks:")
        for row in top.itertuples():
            print(f"  [{row.severity:8}] {row.check_id} {_safe(str(row.title))} — {row.n} subject(s)")
    for p in paths:
        print(f"wrote {p}")
