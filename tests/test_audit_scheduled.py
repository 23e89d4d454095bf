"""The scheduled audit: dated outputs, history, per-tenant lock, exit codes, one tenant's failure isolated.

The collector is injected (the brief's seam): it writes a real snapshot directory with SnapshotWriter, and the
auditor loads it with the real loader and runs the real engine over the hand-made tenant of report_fixtures
(connectors and normalisers are other helpers' parts and are tested on their own).
"""

from __future__ import annotations

import stat
import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from idaudit.cli import main
from idaudit.core import exitcodes
from idaudit.core.config import Config, TenantConfig, load_config
from idaudit.core.engine import AuditRun
from idaudit.core.errors import CollectionError, ConfigError
from idaudit.core.snapshot import SnapshotWriter, load_snapshot
from idaudit.orchestration.audit import audit_settings, run_audit, tenant_lock
from reports.history import History
from tests.report_fixtures import Week, build_run

ROOT = Path(__file__).resolve().parents[1]


class FakeWeek:
    """Which week each tenant's next collection returns (the world changing between scheduled runs)."""

    def __init__(self) -> None:
        self.weeks: dict[str, Week] = {}
        self.fail: dict[str, Exception] = {}
        self.collected: list[str] = []

    def collector(self, tenant: TenantConfig, out_dir: Path) -> Path:
        self.collected.append(tenant.name)
        if tenant.name in self.fail:
            raise self.fail[tenant.name]
        week = self.weeks.get(tenant.name, Week())
        w = SnapshotWriter(out_dir, "microsoft", tenant.options.get("tenant_id", "tid"), tenant.name,
                           source=f"test week {week.day.isoformat()}",
                           collected_at=datetime(week.day.year, week.day.month, week.day.day, 6, tzinfo=UTC))
        w.add("users", [{"id": "u-alice"}])
        w.finish()
        return out_dir

    def auditor(self, snapshot: Path, config: Config) -> AuditRun:
        snap = load_snapshot(snapshot)  # the real loader: the snapshot must be valid on disk
        name = snap.manifest.tenant_name
        run = build_run(self.weeks.get(name, Week()))
        data = replace(run.data, tenant_id=snap.manifest.tenant_id, tenant_name=name)
        return replace(run, data=data, findings=run.findings.assign(tenant_id=snap.manifest.tenant_id))


def _config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "idaudit.toml"
    path.write_text(textwrap.dedent(f"""
        [output]
        dir = "out"
        formats = ["xlsx", "json"]
        [history]
        path = "state/history.sqlite"
        [[tenants]]
        name = "Lakeside Surgery"
        provider = "microsoft"
        tenant_id = "tid-lakeside"
        client_id = "app"
        client_secret_env = "LAKESIDE_SECRET"
        [[tenants]]
        name = "Hilltop Clinic"
        provider = "microsoft"
        tenant_id = "tid-hilltop"
        client_id = "app"
        client_secret_env = "HILLTOP_SECRET"
        {extra}
    """), encoding="utf-8")
    return path


def _run(cfg_path: Path, fake: FakeWeek, day: date, **kw: object) -> object:
    cfg = load_config(cfg_path)
    return run_audit(cfg, collector=fake.collector, auditor=fake.auditor,
                     now=datetime(day.year, day.month, day.day, 6, 30, tzinfo=UTC), **kw)  # type: ignore[arg-type]


def test_settings_resolved_relative_to_config(tmp_path: Path) -> None:
    s = audit_settings(load_config(_config(tmp_path)))
    assert s.out_root == tmp_path / "out" and s.history_path == tmp_path / "state" / "history.sqlite"
    assert s.formats == ("xlsx", "json")


def test_bad_output_config_names_file_and_key(tmp_path: Path) -> None:
    cfg = _config(tmp_path, extra="")
    cfg.write_text(cfg.read_text().replace('formats = ["xlsx", "json"]', 'formats = ["docx"]'))
    with pytest.raises(ConfigError) as exc:
        audit_settings(load_config(cfg))
    assert "output.formats" in str(exc.value) and str(cfg) in str(exc.value)


def test_three_weekly_runs_dated_outputs_history_and_exit_codes(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    fake = FakeWeek()
    # Week 1: first run, failing high/critical findings -> exit 3 for both tenants.
    out1 = _run(cfg, fake, date(2026, 11, 2))
    assert out1.exit_code == exitcodes.FINDINGS  # type: ignore[attr-defined]
    lake = out1.tenants[0]  # type: ignore[attr-defined]
    assert lake.changes is None and lake.new_serious == 9  # 1 critical rule, 7 users without MFA, 1 app
    day_dir = tmp_path / "out" / "Lakeside-Surgery" / "2026-11-02T063000Z"
    assert sorted(p.name for p in day_dir.iterdir()) == [
        "idaudit-Lakeside-Surgery-2026-11-02.json", "idaudit-Lakeside-Surgery-2026-11-02.xlsx", "snapshot"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in day_dir.iterdir() if p.is_file())
    # Week 2: the same findings, nothing new, CA still unlicensed -> exit 4 (incomplete), not 3.
    fake.weeks = {"Lakeside Surgery": Week(day=date(2026, 11, 9)), "Hilltop Clinic": Week(day=date(2026, 11, 9))}
    out2 = _run(cfg, fake, date(2026, 11, 9))
    assert [t.exit_code for t in out2.tenants] == [exitcodes.INCOMPLETE, exitcodes.INCOMPLETE]  # type: ignore[attr-defined]
    assert out2.tenants[0].changes["new"] == 0  # type: ignore[attr-defined]
    # Week 3: a new external forwarding rule at Lakeside -> exit 3 with the call-out; Hilltop fully clean-ish.
    fake.weeks = {"Lakeside Surgery": Week(day=date(2026, 11, 16), new_forward=True),
                  "Hilltop Clinic": Week(day=date(2026, 11, 16), complete_collection=True)}
    out3 = _run(cfg, fake, date(2026, 11, 16))
    lake3, hill3 = out3.tenants  # type: ignore[attr-defined]
    assert lake3.exit_code == exitcodes.FINDINGS and lake3.new_serious == 1
    assert any("collector@proton.example" in c for c in lake3.callouts)
    assert hill3.exit_code == exitcodes.OK and hill3.counts["unknown"] == 0
    assert out3.exit_code == exitcodes.FINDINGS  # type: ignore[attr-defined]
    with History(tmp_path / "state" / "history.sqlite") as h:
        runs = h.runs("microsoft:tid-lakeside")
        assert [r.collected_at.date() for r in runs] == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
        assert runs[-1].reports[0].endswith("idaudit-Lakeside-Surgery-2026-11-16.xlsx")
    wb = openpyxl.load_workbook(lake3.reports[0])
    changes = list(wb["Changes since last run"].iter_rows(values_only=True))
    assert any(r[0] == "new" and r[4] == "." for r in changes)
    assert [r[2] for r in list(wb["Trend"].iter_rows(values_only=True))[1:]] == [10, 10, 11]
    # The vCISO's one-row-per-client portfolio, worst first.
    assert out3.portfolio == tmp_path / "out" / "idaudit-portfolio-2026-11-16T063000Z.xlsx"  # type: ignore[attr-defined]
    rows = list(openpyxl.load_workbook(out3.portfolio)["Tenants"].iter_rows(values_only=True))  # type: ignore[attr-defined]
    assert [r[0] for r in rows[1:3]] == ["Lakeside Surgery", "Hilltop Clinic"]
    assert rows[1][1] == "NEW high/critical findings" and rows[1][5] == 1 and "collector@proton.example" in rows[1][8]
    assert rows[2][1] == "clean" and rows[2][4] == 0


def test_one_tenant_failing_does_not_stop_the_others(tmp_path: Path) -> None:
    fake = FakeWeek()
    fake.fail["Lakeside Surgery"] = CollectionError("sign-in failed: AADSTS7000215 invalid client secret")
    out = _run(_config(tmp_path), fake, date(2026, 11, 2))
    lake, hill = out.tenants  # type: ignore[attr-defined]
    assert lake.exit_code == exitcodes.ERROR and "AADSTS7000215" in lake.error
    assert hill.exit_code == exitcodes.FINDINGS and hill.reports
    assert out.exit_code == exitcodes.ERROR  # type: ignore[attr-defined]
    rows = list(openpyxl.load_workbook(out.portfolio)["Tenants"].iter_rows(values_only=True))  # type: ignore[attr-defined]
    assert rows[1][0] == "Lakeside Surgery" and rows[1][1] == "error" and "AADSTS7000215" in rows[1][10]


def test_failed_report_leaves_previous_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection (monkeypatch): a sheet writer raising half-way must not replace or truncate the report."""
    import reports.workbook as workbook
    from reports import write_reports

    first = write_reports(build_run(), tmp_path, ["xlsx"])[0]
    before = first.read_bytes()

    def boom(*args: object) -> None:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(workbook, "write_checks", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        write_reports(build_run(Week(new_forward=True)), tmp_path, ["xlsx"])
    assert first.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [first.name]
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    assert not [f for f in ALL_TEMP_FILES if Path(f).exists()]  # half-written sheets (personal data) deleted


def test_crash_in_collector_reported_not_swallowed(tmp_path: Path) -> None:
    fake = FakeWeek()
    fake.fail["Hilltop Clinic"] = KeyError("value")
    out = _run(_config(tmp_path), fake, date(2026, 11, 2))
    assert out.tenants[1].exit_code == exitcodes.ERROR and "KeyError" in out.tenants[1].error  # type: ignore[attr-defined]


def test_single_tenant_and_unknown_tenant(tmp_path: Path) -> None:
    fake = FakeWeek()
    out = _run(_config(tmp_path), fake, date(2026, 11, 2), tenant="Hilltop Clinic")
    assert [t.tenant for t in out.tenants] == ["Hilltop Clinic"] and fake.collected == ["Hilltop Clinic"]  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="no tenant named 'Nope'"):
        _run(_config(tmp_path), fake, date(2026, 11, 2), tenant="Nope")


def test_overlapping_run_of_same_tenant_refused(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    lock_dir = tmp_path / "state" / "idaudit-locks"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from idaudit.orchestration.audit import tenant_lock
        with tenant_lock(Path({str(lock_dir)!r}), "Lakeside Surgery"):
            print("LOCKED", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "LOCKED"
        fake = FakeWeek()
        out = _run(cfg, fake, date(2026, 11, 2))
        lake, hill = out.tenants  # type: ignore[attr-defined]
        assert lake.exit_code == exitcodes.ERROR and "another audit" in lake.error
        assert fake.collected == ["Hilltop Clinic"]  # Lakeside was not collected twice at once
        assert hill.exit_code == exitcodes.FINDINGS
    finally:
        holder.kill()
        holder.wait(timeout=30)
    # The holder died: its lock died with it, no stale lock file blocks the next run.
    with tenant_lock(lock_dir, "Lakeside Surgery"):
        pass


def test_idaudit_diff_cli_over_recorded_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    fake = FakeWeek()
    _run(cfg, fake, date(2026, 11, 2))
    fake.weeks = {"Lakeside Surgery": Week(day=date(2026, 11, 9), new_forward=True, alice_mfa=True)}
    _run(cfg, fake, date(2026, 11, 9))
    capsys.readouterr()
    history = tmp_path / "state" / "history.sqlite"
    assert main(["diff", "--history", str(history), "--list"]) == exitcodes.OK
    listing = capsys.readouterr().out
    assert listing.count("Lakeside Surgery") == 2 and listing.count("Hilltop Clinic") == 2
    with pytest.raises(SystemExit):
        main(["diff"])  # --history or --config is required
    assert main(["diff", "--config", str(cfg), "--tenant", "Lakeside Surgery"]) == exitcodes.FINDINGS
    text = capsys.readouterr().out
    assert "new: 1" in text and "resolved: 1" in text and "IDA-MAIL-901" in text
    assert main(["diff", "--history", str(history), "--tenant", "tid-hilltop", "--json"]) == exitcodes.OK
    assert '"new": 0' in capsys.readouterr().out
    assert main(["diff", "--history", str(history)]) == exitcodes.ERROR  # two tenants: must choose
    assert "choose one with --tenant" in capsys.readouterr().err


def test_schedule_prints_systemd_and_cron(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _config(tmp_path)
    assert main(["schedule", "--print", "systemd", "--config", str(cfg), "--user", "idaudit"]) == 0
    units = capsys.readouterr().out
    assert "ExecStart=" in units and f"audit --config {cfg}" in units
    assert "User=idaudit" in units and "OnCalendar=Mon *-*-* 06:00:00" in units
    assert "SuccessExitStatus=3 4" in units and "EnvironmentFile=/etc/idaudit/idaudit.env" in units
    assert main(["schedule", "--print", "systemd", "--config", str(cfg), "--per-tenant"]) == 0
    assert "--tenant %i" in capsys.readouterr().out
    assert main(["schedule", "--print", "cron", "--config", str(cfg), "--user", "idaudit",
                 "--cron", "15 5 * * 1"]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert line.startswith("15 5 * * 1 idaudit /bin/sh -c ") and str(cfg) in line


def test_sigterm_during_collection_exits_130_and_leaves_no_run(tmp_path: Path) -> None:
    """A scheduler's time-out (SIGTERM) mid-collection: exit 130, nothing recorded, the lock free again."""
    cfg = _config(tmp_path)
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import idaudit.orchestration.audit as audit
        from idaudit.cli import main
        def slow(tenant, out):
            out.mkdir(parents=True, exist_ok=True)
            print("COLLECTING", flush=True)
            time.sleep(120)
        audit._default_collector = slow
        sys.exit(main(["audit", "--config", {str(cfg)!r}, "--no-notify"]))
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "COLLECTING"
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == exitcodes.INTERRUPTED, err
    assert "interrupted" in err
    history = tmp_path / "state" / "history.sqlite"
    if history.exists():
        with History(history) as h:
            assert h.runs() == []
    with tenant_lock(tmp_path / "state" / "idaudit-locks", "Lakeside Surgery"):
        pass
