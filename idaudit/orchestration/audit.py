"""The scheduled audit: collect, check, report, record and notify — for every configured tenant, weekly.

This is how idaudit is used most of the time: a systemd timer or cron line runs `idaudit audit`, which for each
tenant in the config (or only `--tenant NAME`, so an outside scheduler can fan out hundreds of client tenants)

1. takes that tenant's lock (fcntl.flock, non-blocking: an overlapping run of the same tenant is refused, while
   different tenants may run in parallel),
2. collects a fresh snapshot into a dated directory,
3. runs the checks, compares with the previous run from the history database, writes the dated reports,
4. records the run in the history (one transaction), and
5. after all tenants, sends one summary by e-mail and/or webhook.

One tenant's failure (a failed sign-in, a crash in a collector) is that tenant's `error` outcome; the others
still run. The exit code follows idaudit.core.exitcodes, worst first: ERROR > FINDINGS (new high/critical findings
since the previous run) > INCOMPLETE (some data not collected) > OK.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idaudit.core import exitcodes
from idaudit.core.config import Config, TenantConfig
from idaudit.core.engine import AuditRun
from idaudit.core.errors import ConfigError, IdauditError
from idaudit.core.model import Status
from idaudit.core.outcomes import AuditOutcome, TenantOutcome
from idaudit.orchestration.collecting import collect_tenant
from idaudit.orchestration.notify import parse_notify, send_notifications
from idaudit.orchestration.pipeline import audit_snapshot
from reports import FORMATS, pseudonymize_previous, write_reports
from reports.diff import callouts, diff_findings
from reports.history import History, tenant_key
from reports.portfolio import write_portfolio
from reports.posture import collection_gaps, counts_by_status, posture_score
from reports.pseudonym import pseudonymize_run
from reports.takeover import callout_lines as takeover_callouts

log = logging.getLogger(__name__)

Collector = Callable[[TenantConfig, Path], Path]
Auditor = Callable[[Path, Config], AuditRun]

DEFAULT_FORMATS = ("xlsx", "html", "json")
_OUTPUT_KEYS = {"dir", "formats"}
_HISTORY_KEYS = {"path"}


class LockBusy(IdauditError):
    """Another audit of the same tenant holds the lock."""


@dataclass(frozen=True)
class AuditSettings:
    """Where the scheduled audit writes: from the config's [output] and [history] tables (or the CLI)."""

    out_root: Path
    history_path: Path
    formats: tuple[str, ...] = DEFAULT_FORMATS


def _resolve(base: Path | None, value: str) -> Path:
    p = Path(os.path.expanduser(value))
    return p if p.is_absolute() or base is None else base / p


def audit_settings(config: Config, out_root: Path | None = None, history_path: Path | None = None,
                   formats: Sequence[str] | None = None) -> AuditSettings:
    """Read [output] dir/formats and [history] path; relative paths are relative to the config file."""
    where = config.path or Path("<defaults>")
    base = config.path.parent if config.path else None
    output = config.section("output")
    history = config.section("history")
    for table, allowed, name in ((output, _OUTPUT_KEYS, "output"), (history, _HISTORY_KEYS, "history")):
        for key in table:
            if key not in allowed:
                raise ConfigError(where, f"{name}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
    if "dir" in output and not isinstance(output["dir"], str):
        raise ConfigError(where, "output.dir", "must be a string (a directory)")
    if "path" in history and not isinstance(history["path"], str):
        raise ConfigError(where, "history.path", "must be a string (a file path)")
    fmts: Sequence[str] = formats or output.get("formats", DEFAULT_FORMATS)
    if not isinstance(fmts, list | tuple) or not all(isinstance(f, str) and f in FORMATS for f in fmts):
        if formats:
            raise IdauditError(f"--format: {','.join(map(str, formats))!r} is not a list drawn from {list(FORMATS)}")
        raise ConfigError(where, "output.formats", f"must be a list drawn from {list(FORMATS)}")
    root = out_root or _resolve(base, str(output.get("dir", "idaudit-output")))
    hist = history_path or _resolve(base, str(history.get("path", str(root / "idaudit-history.sqlite"))))
    return AuditSettings(out_root=root, history_path=hist, formats=tuple(fmts))


def safe_name(name: str) -> str:
    """A tenant name as a file-name component (names come from the config, but stay careful)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return cleaned or "tenant"


@contextlib.contextmanager
def tenant_lock(lock_dir: Path, tenant: str) -> Iterator[Path]:
    """Hold an exclusive, non-blocking flock for one tenant; LockBusy when another run holds it.

    flock locks die with the process, so a killed run never leaves a stale lock behind.
    """
    lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = lock_dir / f"{safe_name(tenant)}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(f"another audit of tenant {tenant!r} is running (lock {path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)


def _default_collector(tenant: TenantConfig, out_dir: Path) -> Path:
    return collect_tenant(tenant, out_dir, progress=False)


def _default_auditor(snapshot: Path, config: Config) -> AuditRun:
    return audit_snapshot(snapshot, config)


def run_audit(config: Config, *, tenant: str | None = None, settings: AuditSettings | None = None,
              collector: Collector | None = None, auditor: Auditor | None = None, notify: bool = True,
              pseudonymize_key: bytes | None = None, now: datetime | None = None) -> AuditOutcome:
    """Audit every configured tenant (or the one named) and notify; never raises for one tenant's failure."""
    settings = settings or audit_settings(config)
    started = now or datetime.now(UTC)
    tenants = list(config.tenants)
    if tenant is not None:
        tenants = [t for t in tenants if t.name == tenant]
        if not tenants:
            names = ", ".join(t.name for t in config.tenants) or "none configured"
            raise ConfigError(config.path or "<defaults>", "tenants",
                              f"no tenant named {tenant!r} (configured: {names})")
    if not tenants:
        raise ConfigError(config.path or "<defaults>", "tenants", "no [[tenants]] configured: nothing to audit")
    notify_settings = None
    if notify:
        notify_settings = parse_notify(config)  # config errors surface before any collection starts
    outcomes = []
    for t in tenants:
        outcomes.append(_audit_one(t, config, settings, collector or _default_collector,
                                   auditor or _default_auditor, pseudonymize_key, started))
    outcome = AuditOutcome(tuple(outcomes), started)
    if len(outcomes) > 1:
        outcome = _with_portfolio(outcome, settings)
    if notify_settings is not None and notify_settings.enabled:
        errors = send_notifications(outcome, notify_settings)
        outcome = AuditOutcome(outcome.tenants, started, tuple(errors), outcome.portfolio)
    return outcome


def _with_portfolio(outcome: AuditOutcome, settings: AuditSettings) -> AuditOutcome:
    """Write the portfolio workbook; a failure here is logged and leaves the tenants' results untouched."""
    path = settings.out_root / f"idaudit-portfolio-{outcome.started_at.strftime('%Y-%m-%dT%H%M%SZ')}.xlsx"
    try:
        written = write_portfolio(outcome.tenants, outcome.started_at, path)
    except OSError as exc:
        log.error("portfolio workbook %s not written: %s", path, exc)
        return outcome
    return AuditOutcome(outcome.tenants, outcome.started_at, outcome.notify_errors, written)


def _audit_one(t: TenantConfig, config: Config, settings: AuditSettings, collector: Collector, auditor: Auditor,
               key: bytes | None, started: datetime) -> TenantOutcome:
    stamp = started.strftime("%Y-%m-%dT%H%M%SZ")
    config_dir = config.path.parent if config.path else None
    base = (_resolve(config_dir, t.options["output_dir"]) if t.options.get("output_dir")
            else settings.out_root / safe_name(t.name))
    run_dir = base / stamp
    lock_dir = settings.history_path.parent / "idaudit-locks"
    try:
        with tenant_lock(lock_dir, t.name):
            return _collect_check_report(t, config, settings, collector, auditor, key, started, run_dir)
    except IdauditError as exc:
        log.error("tenant %s: %s", t.name, exc)
        return TenantOutcome(t.name, exitcodes.ERROR, error=str(exc))
    except Exception as exc:  # one tenant's crash must not stop the others; it is reported, not swallowed
        log.exception("tenant %s: unexpected failure", t.name)
        return TenantOutcome(t.name, exitcodes.ERROR, error=f"{type(exc).__name__}: {exc}")


def _collect_check_report(t: TenantConfig, config: Config, settings: AuditSettings, collector: Collector,
                          auditor: Auditor, key: bytes | None, started: datetime, run_dir: Path) -> TenantOutcome:
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    snapshot = collector(t, run_dir / "snapshot")
    run = auditor(snapshot, config)
    with History(settings.history_path) as history:
        k = tenant_key(run.data.provider, run.data.tenant_id)
        prev_record = history.previous(k)
        previous = history.load(prev_record.run_id) if prev_record else None
        trend = history.runs(k)[-25:]
        paths = write_reports(run, run_dir, settings.formats,
                              basename=f"idaudit-{safe_name(t.name)}-{started.strftime('%Y-%m-%d')}",
                              previous=previous, history_runs=trend, pseudonymize_key=key)
        run_id = history.record(run, snapshot=str(snapshot), reports=tuple(str(p) for p in paths))
    shown, shown_prev = _as_reported(run, previous, key)
    f = shown.findings
    serious = f[(f["status"] == Status.FAIL.value) & f["severity"].isin(["critical", "high"])]
    changes = None
    new_serious = len(serious)
    # A sign of takeover is called out every run it is there, not only when new: an incident is not over
    # because it was reported last week.
    signs = takeover_callouts(shown)
    lines: list[str] = list(signs)
    if shown_prev is not None:
        diff = diff_findings(shown_prev.findings, f, previous_label=shown_prev.label())
        changes = diff.counts()
        new_serious = len(diff.new_serious())
        lines += callouts(diff, {m.id: m.family for m in run.checks})
    gaps = tuple(g.section for g in collection_gaps(run))
    counts = counts_by_status(f)
    complete = run.data.manifest.complete if run.data.manifest is not None else True
    code = exitcodes.OK
    if counts["unknown"] or gaps or not complete:
        code = exitcodes.INCOMPLETE
    if new_serious or signs:
        code = exitcodes.FINDINGS
    return TenantOutcome(t.name, code, snapshot=snapshot, reports=tuple(paths), run_id=run_id,
                         posture_score=posture_score(f).score, counts=counts, changes=changes,
                         new_serious=new_serious, callouts=tuple(lines), incomplete_sections=gaps,
                         takeover_signs=len(signs))


def _as_reported(run: AuditRun, previous: Any, key: bytes | None) -> tuple[AuditRun, Any]:
    """The run (and previous run) as the reports show them: pseudonymised when a key is given."""
    if key is None:
        return run, previous
    prev = pseudonymize_previous(previous, run, key) if previous is not None else None
    return pseudonymize_run(run, key), prev
