"""History database: runs recorded and read back, diffs across three weekly runs, survival of a kill -9."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from reports.diff import Change, diff_findings
from reports.history import SCHEMA_VERSION, History, HistoryError, tenant_key
from tests.report_fixtures import Week, build_run

ROOT = Path(__file__).resolve().parents[1]
KEY = tenant_key("microsoft", "tid-0001")
W1 = Week(day=date(2026, 11, 2))
W2 = Week(day=date(2026, 11, 9), new_forward=True, alice_mfa=True)
W3 = Week(day=date(2026, 11, 16), new_forward=True, alice_mfa=True, forwarding_forbidden=True, waive_carol=True)


def _changes(diff, change: Change) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    c = diff.changes
    return {(r.check_id, r.subject_id) for r in c[c["change"] == change.value].itertuples()}


@pytest.fixture()
def three_runs(tmp_path: Path) -> Path:
    db = tmp_path / "history.sqlite"
    with History(db) as h:
        for w in (W1, W2, W3):
            h.record(build_run(w), snapshot=f"snap-{w.day}", reports=(f"report-{w.day}.xlsx",))
    return db


def test_runs_recorded_and_read_back(three_runs: Path) -> None:
    assert stat.S_IMODE(three_runs.stat().st_mode) == 0o600
    with History(three_runs) as h:
        runs = h.runs(KEY)
        assert [r.collected_at.date() for r in runs] == [W1.day, W2.day, W3.day]
        assert runs[0].counts["fail"] == 10 and runs[0].posture_score == 0.0
        assert runs[2].snapshot == "snap-2026-11-16" and runs[2].reports == ("report-2026-11-16.xlsx",)
        assert h.tenants() == [(KEY, "Lakeside Surgery Center")]
        stored = h.load(runs[0].run_id)
        original = build_run(W1).findings
        assert len(stored.findings) == len(original)
        assert set(stored.findings["subject"]) == set(original["subject"])  # hostile text intact as data
        assert h.previous(KEY).run_id == runs[2].run_id  # type: ignore[union-attr]
        assert h.previous(KEY, before=runs[2].run_id).run_id == runs[1].run_id  # type: ignore[union-attr]
        assert h.previous("google:other") is None


def test_diff_across_three_recorded_runs(three_runs: Path) -> None:
    with History(three_runs) as h:
        r1, r2, r3 = (h.load(r.run_id) for r in h.runs(KEY))
    d12 = diff_findings(r1.findings, r2.findings, r1.label())
    assert _changes(d12, Change.NEW) == {("IDA-MAIL-901", "r-alice")}
    assert _changes(d12, Change.RESOLVED) == {("IDA-AUTH-901", "u-alice")}
    assert ("IDA-MAIL-901", "r-bob") in _changes(d12, Change.STILL_OPEN)
    assert len(d12.new_serious()) == 1
    d23 = diff_findings(r2.findings, r3.findings, r2.label())
    # Inbox rules could not be read in week 3: the forwarding findings are not "resolved", they are unverifiable.
    assert _changes(d23, Change.UNVERIFIABLE) == {("IDA-MAIL-901", "r-alice"), ("IDA-MAIL-901", "r-bob")}
    assert _changes(d23, Change.RESOLVED) == set()
    assert _changes(d23, Change.NEWLY_WAIVED) == {("IDA-AUTH-901", "u-carol")}
    assert _changes(d23, Change.NEW) == set()
    d13 = diff_findings(r1.findings, r3.findings)
    assert _changes(d13, Change.RESOLVED) == {("IDA-AUTH-901", "u-alice")}
    assert d13.counts()["new"] == 0


def test_newer_schema_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    History(db).close()
    with sqlite3.connect(db) as c:
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(HistoryError, match="newer idaudit"):
        History(db)


def test_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "h.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(HistoryError, match="not a usable idaudit history"):
        History(bad)


def test_run_killed_mid_record_leaves_history_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    with History(db) as h:
        first = h.record(build_run(W1))
        n_first = len(h.findings(first))
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import reports.history as hist
        from tests.report_fixtures import Week, build_run
        from datetime import date
        original = hist._finding_rows
        def slow(run_id, findings):
            for i, row in enumerate(original(run_id, findings)):
                if i == 5:
                    print("MID", flush=True)
                    time.sleep(120)
                yield row
        hist._finding_rows = slow
        with hist.History({str(db)!r}) as h:
            h.record(build_run(Week(day=date(2026, 11, 9))))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "MID"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with History(db) as h:
        runs = h.runs()
        assert [r.run_id for r in runs] == [first]
        assert len(h.findings(first)) == n_first
        assert h.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert h.conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == n_first
        # The database is usable again straight away.
        second = h.record(build_run(W2))
        assert [r.run_id for r in h.runs()] == [first, second]


def test_parallel_writers_from_separate_processes(tmp_path: Path) -> None:
    """Two tenants audited at once by an outside scheduler append to the same history without losing runs."""
    db = tmp_path / "history.sqlite"
    History(db).close()
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from dataclasses import replace
        from reports.history import History
        from tests.report_fixtures import build_run
        run = build_run()
        run = replace(run, data=replace(run.data, tenant_id=sys.argv[1]))
        for _ in range(4):
            with History({str(db)!r}) as h:
                h.record(run)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, tid]) for tid in ("tid-a", "tid-b")]
    for p in procs:
        assert p.wait(timeout=120) == 0
    with History(db) as h:
        assert len(h.runs("microsoft:tid-a")) == 4 and len(h.runs("microsoft:tid-b")) == 4
        n = len(build_run().findings)
        assert h.conn.execute("SELECT COUNT(*) FROM findings").fetchone()[0] == 8 * n
