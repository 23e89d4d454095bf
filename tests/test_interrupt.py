"""Interrupting `idaudit collect` (SIGINT, SIGTERM) mid-collection: a real child process against the Microsoft
simulator over loopback, slowed with per-request latency so the signal lands while sections are being read.

What an operator (or cron, or systemd stopping a unit) must get: the documented exit code 130, one clear line and
no traceback, a snapshot that says `complete: false` and cannot be audited as complete, no temp files, and a re-run
into the same directory that starts clean and completes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from idaudit.core import exitcodes
from idaudit.core.snapshot import load_snapshot
from idaudit.orchestration.pipeline import audit_snapshot
from simulator import build_organisation
from simulator.microsoft import MicrosoftSimulator

ROOT = Path(__file__).resolve().parents[1]
SECRET_VAR = "IDAUDIT_TEST_INTERRUPT_SECRET"


@pytest.fixture(scope="module")
def sim() -> Iterator[MicrosoftSimulator]:
    # latency per request: a 40-user tenant then takes several seconds, long enough to interrupt mid-way
    with MicrosoftSimulator(build_organisation(users=40, seed=3), latency=0.05, throttle=False) as s:
        # the audit log query is done at its first status read: the CLI runs unscaled, and a 20 s poll would be the
        # whole run (the query's life cycle is the fault matrix's business)
        s.audit_queries.polls_to_finish = 1
        yield s


HOLD = 3.0  # seconds the simulator holds the last step's first request in a run that is to be interrupted


def _collect(sim: MicrosoftSimulator, out: Path, *extra: str, hold: bool = True,
             sigint_ignored: bool = False) -> subprocess.Popen[str]:
    """Start `idaudit collect microsoft` in a child. With `hold`, the first groups request (the step that runs after
    every lane, so after the manifest lists sections) is held HOLD seconds: the child is certainly still running
    when the test signals it, however slowly a loaded machine schedules the test's own polling."""
    sim.faults.clear()
    if hold:
        sim.faults.add(kind="delay", path=r"^/v1\.0/groups", method="GET", delay=HOLD, times=1)
    env = {**os.environ, SECRET_VAR: sim.client_secret, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "idaudit", "collect", "microsoft", "--tenant-id", sim.tenant_id,
           "--client-id", sim.client_id, "--client-secret-env", SECRET_VAR, "--authority-host", sim.authority_host,
           "--graph-endpoint", sim.graph_url, "--exchange-endpoint", sim.exchange_url,
           "--dns-resolver", sim.dns_address, "--ca-bundle", str(sim.ca_file), "--out", str(out), "--no-progress", "--concurrency", "1", *extra]
    # sigint_ignored: started as a shell starts a background job (`idaudit collect ... &`), SIGINT ignored.
    # Otherwise SIGINT is set to its default for the child, whatever this test process inherited (a suite run from
    # a background job has it ignored, and the child would inherit that).
    disposition = signal.SIG_IGN if sigint_ignored else signal.SIG_DFL
    preexec = lambda: signal.signal(signal.SIGINT, disposition)  # noqa: E731
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec)


def _wait_mid_collection(proc: subprocess.Popen[str], out: Path, timeout: float = 60.0) -> None:
    """Until the manifest lists at least two sections (the run is well under way) and the child still runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"collection ended before the signal: {proc.communicate()}"
        try:
            doc = json.loads((out / "manifest.json").read_text())
        except (OSError, ValueError):
            doc = {}
        if len(doc.get("sections", {})) >= 2:
            return
        time.sleep(0.05)
    raise AssertionError("collection never got under way")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_collection_is_marked_incomplete_and_a_rerun_starts_clean(
        sim: MicrosoftSimulator, tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "snap"
    proc = _collect(sim, out)
    _wait_mid_collection(proc, out)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)

    assert proc.returncode == exitcodes.INTERRUPTED, (proc.returncode, stderr)
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == ["idaudit: interrupted"], stderr
    # the manifest tells the truth: not complete, and the unread sections are not there
    snap = load_snapshot(out)
    assert snap.manifest.complete is False
    assert "users" in snap.manifest.sections or "organization" in snap.manifest.sections
    interrupted_sections = set(snap.manifest.sections)
    # no temp file from an atomic write left behind; everything left is owner-only
    leftovers = [p.name for p in out.iterdir() if not p.name.endswith(".json")]
    assert leftovers == []
    assert all((p.stat().st_mode & 0o077) == 0 for p in out.iterdir())
    # auditing it cannot look complete: the checks whose sections were never read are unknown, saying why
    _assert_audit_is_not_complete(out)

    # a re-run into the same directory starts clean and completes
    proc2 = _collect(sim, out, hold=False)
    stdout2, stderr2 = proc2.communicate(timeout=120)
    assert proc2.returncode in (exitcodes.OK, exitcodes.INCOMPLETE), stderr2
    assert "Traceback" not in stderr2
    fresh = load_snapshot(out)
    assert fresh.manifest.complete is True
    assert fresh.manifest.collected_at > snap.manifest.collected_at
    assert set(fresh.manifest.sections) >= interrupted_sections
    on_disk = {p.name for p in out.iterdir()}
    listed = {r.file for r in fresh.manifest.sections.values() if r.file} | {"manifest.json"}
    assert on_disk == listed, on_disk ^ listed
    del stdout, stdout2


def _assert_audit_is_not_complete(out: Path) -> None:
    findings = audit_snapshot(out).findings
    unknown = findings[findings["status"] == "unknown"]
    assert len(unknown) > 0, "an interrupted snapshot was audited with no unknown check"
    said = " ".join(unknown["evidence"].astype(str))
    assert "interrupted" in said, said[:500]
    # the command line never exits 0 ("clean") on it
    check = subprocess.run([sys.executable, "-m", "idaudit", "check", str(out), "--out", str(out.parent / "reports")],
                           cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert check.returncode in (exitcodes.INCOMPLETE, exitcodes.FINDINGS), (check.returncode, check.stderr)
    assert "Traceback" not in check.stderr


def _audit_config(sim: MicrosoftSimulator, tmp_path: Path) -> Path:
    path = tmp_path / "idaudit.toml"
    path.write_text(f"""
[output]
dir = "{tmp_path / 'out'}"
formats = ["xlsx", "json"]
[history]
path = "{tmp_path / 'state' / 'history.sqlite'}"
[[tenants]]
name = "Interrupted Surgery"
provider = "microsoft"
tenant_id = "{sim.tenant_id}"
client_id = "{sim.client_id}"
client_secret_env = "{SECRET_VAR}"
authority = "{sim.authority_host}"
graph_endpoint = "{sim.graph_url}"
exchange_endpoint = "{sim.exchange_url}"
dns_resolver = "{sim.dns_address}"
ca_bundle = "{sim.ca_file}"
""", encoding="utf-8")
    return path


def _audit(config: Path, secret: str) -> subprocess.Popen[str]:
    env = {**os.environ, SECRET_VAR: secret, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "idaudit", "audit", "--config", str(config), "--no-notify"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigterm_ends_a_run_started_in_the_background_with_sigint_ignored(sim: MicrosoftSimulator,
                                                                          tmp_path: Path) -> None:
    """A shell starts background jobs with SIGINT ignored; SIGTERM (systemd, `kill`, a CI timeout) must still end
    the run as an interruption. Before the fix SIGTERM was re-raised as the ignored SIGINT and the run went on to
    exit 0 as if nothing had happened."""
    out = tmp_path / "snap"
    proc = _collect(sim, out, sigint_ignored=True)
    _wait_mid_collection(proc, out)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == exitcodes.INTERRUPTED, (proc.returncode, stderr)
    assert [line for line in stderr.splitlines() if line.strip()] == ["idaudit: interrupted"], stderr
    assert load_snapshot(out).manifest.complete is False
    assert not [p for p in out.iterdir() if not p.name.endswith(".json")]


def test_interrupted_audit_releases_the_tenant_lock_and_writes_no_report(sim: MicrosoftSimulator,
                                                                          tmp_path: Path) -> None:
    config = _audit_config(sim, tmp_path)
    sim.faults.clear()  # no hold left over from an earlier test's interrupted run
    proc = _audit(config, sim.client_secret)
    deadline = time.monotonic() + 60
    snap_dir: Path | None = None
    while snap_dir is None and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for manifest in (tmp_path / "out").rglob("manifest.json"):
            try:
                if len(json.loads(manifest.read_text()).get("sections", {})) >= 2:
                    snap_dir = manifest.parent
            except (OSError, ValueError):
                pass
        time.sleep(0.05)
    assert snap_dir is not None, "the audit never started collecting"
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == exitcodes.INTERRUPTED, (proc.returncode, stderr)
    assert "Traceback" not in stderr, stderr
    assert load_snapshot(snap_dir).manifest.complete is False
    run_dir = snap_dir.parent
    # no report (whole or half-written) and no temp file next to where they would be
    assert [p.name for p in run_dir.iterdir()] == ["snapshot"]
    assert not [p for p in snap_dir.iterdir() if not p.name.endswith(".json")]

    # the lock died with the process: an immediate re-run is not told "another audit is running"
    proc2 = _audit(config, sim.client_secret)
    _, stderr2 = proc2.communicate(timeout=180)
    assert "another audit" not in stderr2, stderr2
    assert proc2.returncode in (exitcodes.OK, exitcodes.FINDINGS, exitcodes.INCOMPLETE), (proc2.returncode, stderr2)
    assert "Traceback" not in stderr2
    xlsx = list((tmp_path / "out").rglob("*.xlsx"))
    assert len(xlsx) == 1, "the re-run wrote no workbook"
    assert openpyxl.load_workbook(xlsx[0], read_only=True).sheetnames  # a whole workbook that opens


def test_rerun_with_fewer_sections_leaves_no_stale_section_from_the_interrupted_run(sim: MicrosoftSimulator,
                                                                                   tmp_path: Path) -> None:
    out = tmp_path / "snap"
    proc = _collect(sim, out)
    _wait_mid_collection(proc, out)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == exitcodes.INTERRUPTED
    before = {p.name for p in out.iterdir()} - {"manifest.json"}
    assert len(before) >= 2  # the interrupted run left section files with personal data

    rerun = _collect(sim, out, "--sections", "domains", hold=False)
    _, err = rerun.communicate(timeout=60)
    assert rerun.returncode in (exitcodes.OK, exitcodes.INCOMPLETE), err
    fresh = load_snapshot(out)
    assert fresh.manifest.complete is True
    listed = {r.file for r in fresh.manifest.sections.values() if r.file} | {"manifest.json"}
    assert {p.name for p in out.iterdir()} == listed  # the interrupted run's users.json etc. are gone
    assert "users" not in fresh.manifest.sections and fresh.raw.get("users") is None


def test_interrupted_google_collection_exits_130_and_is_incomplete(tmp_path: Path) -> None:
    """The Google connector runs worker threads (not asyncio): SIGTERM must end it the same way."""
    from simulator.google import GoogleSimulator

    with GoogleSimulator(build_organisation(users=40, seed=4), latency=0.05, throttle=False) as gsim:
        out = tmp_path / "gsnap"
        # the first per-user batch (after the directory sections are in the manifest) is held: see _collect
        gsim.faults.add(kind="delay", path=r"^/batch", method="POST", delay=HOLD, times=1)
        env = {**os.environ, "IDAUDIT_TEST_GOOGLE_KEY": json.dumps(gsim.service_account_info),
               "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "idaudit", "collect", "google", "--service-account-env", "IDAUDIT_TEST_GOOGLE_KEY",
             "--admin-subject", gsim.admin_subject, "--api-endpoint", gsim.api_endpoint, "--token-uri",
             gsim.token_uri, "--dns-resolver", gsim.dns_address, "--workers", "1", "--out", str(out),
             "--no-progress"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_mid_collection(proc, out)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == exitcodes.INTERRUPTED, (proc.returncode, stderr)
    assert "Traceback" not in stderr, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == ["idaudit: interrupted"], stderr
    snap = load_snapshot(out)
    assert snap.manifest.complete is False
    assert not [p for p in out.iterdir() if not p.name.endswith(".json")]
    _assert_audit_is_not_complete(out)
