"""The run history: one SQLite file recording every run and its findings, for diffs and the trend chart.

Why SQLite: one embedded file, no server, readable with any SQLite tool. Each run is recorded in a single
transaction, so a run killed half-way (power cut, `kill -9`, a cron timeout) leaves the history exactly as it was
before that run — never a run with half its findings, which would make the next diff report fixes that did not
happen. WAL mode lets several tenants' audits (run in parallel by a scheduler) append while readers read.

The schema is versioned in the `meta` table; opening a file written by a newer idaudit fails with a clear error
instead of guessing. The file holds names and evidence, so it is created owner-only (0600).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import pandas as pd

from idaudit.core.engine import AuditRun
from idaudit.core.errors import IdauditError
from idaudit.core.version import __version__
from reports.posture import counts_by_status, posture_score

SCHEMA_VERSION = 1
FINDING_FIELDS = ("check_id", "subject_id", "subject", "title", "severity", "status", "evidence", "subject_kind",
                  "confidence", "waiver_owner", "waiver_reason", "waiver_expires")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_key TEXT NOT NULL,
    provider TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    tenant_name TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    evaluated_at TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    complete INTEGER NOT NULL,
    posture_score REAL,
    posture_coverage REAL NOT NULL,
    counts TEXT NOT NULL,
    snapshot TEXT NOT NULL DEFAULT '',
    reports TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS runs_by_tenant ON runs (tenant_key, run_id);
CREATE TABLE IF NOT EXISTS findings (
    run_id INTEGER NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    check_id TEXT NOT NULL, subject_id TEXT NOT NULL, subject TEXT NOT NULL, title TEXT NOT NULL,
    severity TEXT NOT NULL, status TEXT NOT NULL, evidence TEXT NOT NULL, subject_kind TEXT NOT NULL,
    confidence TEXT NOT NULL, waiver_owner TEXT NOT NULL, waiver_reason TEXT NOT NULL, waiver_expires TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_by_run ON findings (run_id);
"""

# Column names are module constants, never input: the f-strings below build fixed statements once.
_INSERT_FINDING = (f"INSERT INTO findings (run_id, {', '.join(FINDING_FIELDS)}) "  # noqa: S608
                   f"VALUES (?{', ?' * len(FINDING_FIELDS)})")
_SELECT_FINDINGS = f"SELECT {', '.join(FINDING_FIELDS)} FROM findings WHERE run_id = ? ORDER BY rowid"  # noqa: S608


class HistoryError(IdauditError):
    """The history database cannot be used (names the file and the problem)."""


def tenant_key(provider: str, tenant_id: str) -> str:
    return f"{provider}:{tenant_id}"


def _iso(dt: datetime) -> str:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    tenant_key: str
    provider: str
    tenant_id: str
    tenant_name: str
    collected_at: datetime
    evaluated_at: datetime
    tool_version: str
    complete: bool
    posture_score: float | None
    posture_coverage: float
    counts: dict[str, int] = field(default_factory=dict)
    snapshot: str = ""
    reports: tuple[str, ...] = ()

    def label(self) -> str:
        return f"run {self.run_id} of {self.collected_at.strftime('%Y-%m-%d %H:%M')} UTC"


@dataclass(frozen=True)
class StoredRun:
    """A run read back from the history: its record and its findings (FINDING_FIELDS columns)."""

    record: RunRecord
    findings: pd.DataFrame

    def label(self) -> str:
        return self.record.label()


def _create_owner_only(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


class History:
    """Open (creating if needed) the history database at `path`."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        _create_owner_only(self.path)
        try:
            self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"{self.path}: not a usable idaudit history database ({exc})") from exc

    def _migrate(self) -> None:
        cur = self.conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'")
        if cur.fetchone() is None:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('created_by', ?)", (f"idaudit {__version__}",))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            return
        row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path}: history schema version {version} was written by a newer idaudit "
                               f"(this one reads up to {SCHEMA_VERSION})")
        if version < 1:
            raise HistoryError(f"{self.path}: history has no schema version; it was not written by idaudit")

    def __enter__(self) -> History:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    def record(self, run: AuditRun, *, snapshot: str = "", reports: tuple[str, ...] = ()) -> int:
        """Record one run and all its findings in one transaction; returns the new run id."""
        data = run.data
        score = posture_score(run.findings)
        counts = counts_by_status(run.findings)
        complete = data.manifest.complete if data.manifest is not None else True
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            cur = self.conn.execute(
                "INSERT INTO runs (tenant_key, provider, tenant_id, tenant_name, collected_at, evaluated_at,"
                " tool_version, complete, posture_score, posture_coverage, counts, snapshot, reports)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (tenant_key(data.provider, data.tenant_id), data.provider, data.tenant_id, data.tenant_name,
                 _iso(data.collected_at.to_pydatetime()), _iso(run.evaluated_at), __version__, int(complete),
                 score.score, score.coverage, json.dumps(counts), snapshot, json.dumps(list(reports))))
            run_id = int(cur.lastrowid or 0)
            self.conn.executemany(
                _INSERT_FINDING,
                _finding_rows(run_id, run.findings))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return run_id

    def runs(self, key: str | None = None) -> list[RunRecord]:
        """Runs oldest first, for one tenant (`provider:tenant_id`) or all."""
        if key:
            cur = self.conn.execute("SELECT * FROM runs WHERE tenant_key = ? ORDER BY run_id", (key,))
        else:
            cur = self.conn.execute("SELECT * FROM runs ORDER BY run_id")
        names = [d[0] for d in cur.description]
        return [_record(dict(zip(names, row, strict=True))) for row in cur.fetchall()]

    def tenants(self) -> list[tuple[str, str]]:
        """(tenant_key, latest tenant name) for every tenant with a recorded run."""
        cur = self.conn.execute("SELECT tenant_key, tenant_name FROM runs WHERE run_id IN "
                                "(SELECT MAX(run_id) FROM runs GROUP BY tenant_key) ORDER BY tenant_name")
        return [(str(a), str(b)) for a, b in cur.fetchall()]

    def get(self, run_id: int) -> RunRecord:
        cur = self.conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        row = cur.fetchone()
        if row is None:
            raise HistoryError(f"{self.path}: no run with id {run_id}")
        return _record(dict(zip([d[0] for d in cur.description], row, strict=True)))

    def previous(self, key: str, before: int | None = None) -> RunRecord | None:
        """The latest run of the tenant (before run id `before`, when given)."""
        row = self.conn.execute("SELECT run_id FROM runs WHERE tenant_key = ? AND run_id < ?"
                                " ORDER BY run_id DESC LIMIT 1", (key, before or 2**62)).fetchone()
        return None if row is None else self.get(int(row[0]))

    def findings(self, run_id: int) -> pd.DataFrame:
        cur = self.conn.execute(_SELECT_FINDINGS, (run_id,))
        return pd.DataFrame(cur.fetchall(), columns=list(FINDING_FIELDS), dtype="str")

    def load(self, run_id: int) -> StoredRun:
        return StoredRun(self.get(run_id), self.findings(run_id))


def _finding_rows(run_id: int, findings: pd.DataFrame) -> Iterator[tuple[object, ...]]:
    for row in findings[list(FINDING_FIELDS)].itertuples(index=False, name=None):
        yield (run_id, *("" if v is None or (isinstance(v, float) and v != v) else str(v) for v in row))


def _record(r: dict[str, object]) -> RunRecord:
    return RunRecord(
        run_id=int(r["run_id"]),  # type: ignore[call-overload]
        tenant_key=str(r["tenant_key"]), provider=str(r["provider"]), tenant_id=str(r["tenant_id"]),
        tenant_name=str(r["tenant_name"]),
        collected_at=datetime.fromisoformat(str(r["collected_at"])),
        evaluated_at=datetime.fromisoformat(str(r["evaluated_at"])),
        tool_version=str(r["tool_version"]), complete=bool(r["complete"]),
        posture_score=None if r["posture_score"] is None else float(r["posture_score"]),  # type: ignore[arg-type]
        posture_coverage=float(r["posture_coverage"]),  # type: ignore[arg-type]
        counts={str(k): int(v) for k, v in json.loads(str(r["counts"])).items()},
        snapshot=str(r["snapshot"]), reports=tuple(json.loads(str(r["reports"]))),
    )
