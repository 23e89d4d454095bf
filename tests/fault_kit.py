"""What the two fault-matrix test modules (test_faults_microsoft.py, test_faults_google.py) share at run time.

tests/fault_matrix.py describes the matrix (cases, outcomes, the generated docs/reliability.md); this module holds
the pieces both providers' tests run: the injected-fault rule, the checks that read a section, the fault-free
truth a faulted run may not exceed, the section status an outcome means, and the Coverage sheet read back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from checks import builtin_checks
from idaudit.core.model import Provider
from idaudit.core.snapshot import SectionStatus, Snapshot, SnapshotWriter
from idaudit.orchestration.pipeline import audit_snapshot
from reports.workbook import write_workbook
from tests.fault_matrix import Outcome

# The section status each data-loss outcome must leave in the manifest, and its word on the Coverage sheet.
SECTION_STATUS = {Outcome.SECTION_ERROR: SectionStatus.ERROR, Outcome.SECTION_FORBIDDEN: SectionStatus.FORBIDDEN,
                  Outcome.SECTION_UNLICENSED: SectionStatus.UNLICENSED}


@dataclass(frozen=True)
class Inject:
    """One FaultPlan rule (simulator/faults.py); `{victim}` in `path` is replaced by one user's key."""

    kind: str
    path: str
    method: str | None = "GET"
    status: int = 500
    retry_after: float | None = None
    times: int | None = 1
    target: str = "any"
    code: str = ""
    message: str = ""
    delay: float = 0.0
    body_match: str | None = None


def add_rules(faults: Any, injects: Iterable[Inject], victim: str) -> list[Any]:
    """Add each rule to the simulator's FaultPlan; returns the rules so a test can assert one fired."""
    return [faults.add(kind=i.kind, path=i.path.replace("{victim}", victim), method=i.method, status=i.status,
                       retry_after=i.retry_after, times=i.times, target=i.target, code=i.code, message=i.message,
                       delay=i.delay, body_match=i.body_match) for i in injects]


def checks_reading(provider: Provider, tables: Iterable[str], reads_settings: Callable[[tuple[str, ...]], bool],
                   ) -> tuple[str, ...]:
    """The provider's checks that read one of `tables` (tenant_settings aside) or settings `reads_settings` accepts,
    derived from the checks' own metadata so a new check is held by the matrix without being listed here."""
    wanted = set(tables) - {"tenant_settings"}
    out = [rc.meta.id for rc in builtin_checks().all()
           if provider in rc.meta.providers
           and (wanted & (set(rc.meta.requires) - {"tenant_settings"}) or reads_settings(rc.meta.uses_settings))]
    return tuple(sorted(out))


def passing_pairs(snapshot: Snapshot) -> set[tuple[str, str]]:
    """(check, subject) pairs that pass on a snapshot: on the fault-free tenant, the truth a faulted run may not
    exceed."""
    f = audit_snapshot(snapshot).findings
    ok = f[f["status"] == "pass"]
    return set(zip(ok["check_id"], ok["subject_id"], strict=True))


def coverage_row(run: Any, section: str, tmp_path: Path) -> dict[str, Any]:
    """The section's row of the Coverage sheet, as a reader of the written workbook sees it."""
    path = write_workbook(run, tmp_path / "audit.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb["Coverage"].iter_rows(values_only=True))
    wb.close()
    header = list(rows[0])
    cov = {r[0]: dict(zip(header, r, strict=False)) for r in rows[1:] if r and r[0]}
    return cov[section]


def coverage_status_word(expected: Outcome) -> str:
    return SECTION_STATUS[expected].value


def swallowed(rendered: Snapshot, out: Path, section: str, empty: Callable[[Any], Any]) -> Path:
    """A copy of a fault-free snapshot in which `section` holds `empty(data)` and is marked ok: what a connector
    that swallowed a refused read would store. The negative control of each matrix."""
    m = rendered.manifest
    w = SnapshotWriter(out, m.provider, m.tenant_id, m.tenant_name, collected_at=m.collected_at)
    for name, rec in m.sections.items():
        if name == section:
            w.add(name, empty(rendered.raw[name]), request=rec.request)
        elif rec.usable:
            w.add(name, rendered.raw.get(name), count=rec.count, request=rec.request,
                  failed_subjects=rec.failed_subjects, detail=rec.detail)
        else:
            w.fail(name, rec.status, rec.detail, rec.request)
    w.finish()
    return out


def assert_data_loss_recorded(rec: Any, stored: Any, truth: Any, expected: Outcome, detail: str, victim: str) -> None:
    """The manifest records the loss the case expects: the one affected user as a failed subject (and only their
    data missing), or the whole section with the outcome's status and a detail naming the cause."""
    if expected is Outcome.FAILED_SUBJECTS:
        assert rec.usable, (rec.status, rec.detail)
        assert set(rec.failed_subjects) == {victim}, rec.failed_subjects
        assert detail in rec.failed_subjects[victim]
        assert victim not in stored
        assert {k: v for k, v in truth.items() if k != victim} == stored
        return
    assert rec.status is SECTION_STATUS[expected], (rec.status, rec.detail)
    assert detail in rec.detail, rec.detail


def invented_passes(findings: Any, clean_passes: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """(check, subject) pairs passing here that do not pass on the fault-free tenant: must be none."""
    passes = findings[findings["status"] == "pass"]
    return set(zip(passes["check_id"], passes["subject_id"], strict=True)) - clean_passes


def assert_victim_never_passes(run: Any, dependent_checks: Iterable[str], victim: str) -> None:
    """The affected user passes no dependent check whose table lists them as not collected."""
    f = run.findings
    for meta in run.checks:
        if meta.id not in dependent_checks:
            continue
        if any(victim in run.data.status[t].missing_subjects for t in meta.requires if t in run.data.status):
            mine = f[(f["check_id"] == meta.id) & (f["subject_id"] == victim)]
            assert not (mine["status"] == "pass").any(), mine[["check_id", "status", "evidence"]].to_string()
