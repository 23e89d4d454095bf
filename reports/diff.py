"""What changed between two runs of the same tenant: new, resolved, still open, newly waived, unverifiable.

Findings are matched on (check id, subject id). A failing finding that now reads `unknown` is *not* resolved:
the data to tell was not collected this time, so it is reported as "no longer verifiable" — never as fixed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import pandas as pd

from idaudit.core.model import Severity

KEY = ["check_id", "subject_id"]


class Change(enum.StrEnum):
    NEW = "new"
    RESOLVED = "resolved"
    STILL_OPEN = "still open"
    NEWLY_WAIVED = "newly waived"
    UNVERIFIABLE = "no longer verifiable"


CHANGE_ORDER = (Change.NEW, Change.NEWLY_WAIVED, Change.UNVERIFIABLE, Change.STILL_OPEN, Change.RESOLVED)
DIFF_COLUMNS = ["change", "check_id", "title", "severity", "subject_id", "subject", "previous_status",
                "current_status", "evidence"]
# Families whose new findings are called out at the top of the Summary: a new external forwarding rule or a new
# risky consent since last week is the classic sign of a compromised mailbox.
CALLOUT_FAMILIES = frozenset({"mail", "apps"})
_RANK = {s.value: s.rank for s in Severity}


@dataclass(frozen=True)
class RunDiff:
    previous_label: str
    current_label: str
    changes: pd.DataFrame = field(repr=False)  # DIFF_COLUMNS, one row per changed or still-open finding

    def count(self, change: Change) -> int:
        return int((self.changes["change"] == change.value).sum())

    def counts(self) -> dict[str, int]:
        return {c.value: self.count(c) for c in CHANGE_ORDER}

    def new_serious(self) -> pd.DataFrame:
        """New failing findings of high or critical severity (drives the scheduled audit's exit code)."""
        c = self.changes
        return c[(c["change"] == Change.NEW.value) & c["severity"].isin(["critical", "high"])]


def _check_wide_unknown(findings: pd.DataFrame) -> set[str]:
    f = findings
    return set(f.loc[(f["subject_id"] == "*") & (f["status"] == "unknown"), "check_id"].astype(str))


def diff_findings(previous: pd.DataFrame, current: pd.DataFrame, previous_label: str = "previous run",
                  current_label: str = "this run") -> RunDiff:
    cols = ["check_id", "subject_id", "subject", "title", "severity", "status", "evidence"]
    prev = previous[cols].drop_duplicates(KEY, keep="first")
    cur = current[cols].drop_duplicates(KEY, keep="first")
    merged = prev.merge(cur, on=KEY, how="outer", suffixes=("_prev", "_cur"))
    ps = merged["status_prev"].fillna("")
    cs = merged["status_cur"].fillna("")
    unknown_checks = _check_wide_unknown(current)
    checks_ran = set(current["check_id"].astype(str))
    cur_unknown = (cs == "unknown") | (
        (cs == "") & merged["check_id"].isin(unknown_checks))
    gone = (cs == "") & ~merged["check_id"].isin(unknown_checks) & merged["check_id"].isin(checks_ran)

    change = pd.Series("", index=merged.index, dtype="str")
    was_open = ps.isin(["fail"])
    was_waived = ps == "waived"
    change = change.mask((cs == "fail") & ~was_open, Change.NEW.value)
    change = change.mask((cs == "fail") & was_open, Change.STILL_OPEN.value)
    change = change.mask((cs == "waived") & ~was_waived, Change.NEWLY_WAIVED.value)
    change = change.mask((was_open | was_waived) & (cs.isin(["pass", "not_applicable"]) | gone),
                         Change.RESOLVED.value)
    change = change.mask(was_open & cur_unknown, Change.UNVERIFIABLE.value)
    # A waived finding whose waiver ended is failing again: it is new work for the reader.
    merged["change"] = change
    merged = merged[merged["change"] != ""]
    out = pd.DataFrame({
        "change": merged["change"],
        "check_id": merged["check_id"],
        "title": merged["title_cur"].fillna(merged["title_prev"]),
        "severity": merged["severity_cur"].fillna(merged["severity_prev"]),
        "subject_id": merged["subject_id"],
        "subject": merged["subject_cur"].fillna(merged["subject_prev"]),
        "previous_status": merged["status_prev"].fillna("(absent)"),
        "current_status": merged["status_cur"].fillna("(absent)"),
        "evidence": merged["evidence_cur"].fillna(merged["evidence_prev"]),
    })
    if not out.empty:
        order = {c.value: i for i, c in enumerate(CHANGE_ORDER)}
        out = out.assign(_o=out["change"].map(order),
                         _s=out["severity"].map(lambda s: -_RANK.get(str(s), 0)))
        out = out.sort_values(["_o", "_s", "check_id", "subject"]).drop(columns=["_o", "_s"])
    return RunDiff(previous_label, current_label, out.reset_index(drop=True)[DIFF_COLUMNS])


def callouts(diff: RunDiff, families: dict[str, str]) -> list[str]:
    """Plain-language lines for new mail-forwarding and app-consent findings (the compromise signals)."""
    c = diff.changes
    new = c[c["change"] == Change.NEW.value]
    lines = []
    for row in new.itertuples(index=False):
        if families.get(str(row.check_id), "") in CALLOUT_FAMILIES:
            lines.append(f"NEW since {diff.previous_label}: {row.title} — {row.subject}: {row.evidence}")
    return lines
