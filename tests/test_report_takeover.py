"""Signs of takeover in the reports (issue 20): the sheet, the Summary's and the notification's call-out, the
incident at the head of the action plan, the "How it got there" columns, and pseudonymisation of where people were.

The tenant is the simulator's: its compromised nurse signs in from an unusual country, registers an authenticator
from the same address, consents to a mail-reading app, then creates a forwarding rule and a hiding rule; Identity
Protection rates her high risk (simulator/activity.py).
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from idaudit.core import exitcodes
from idaudit.core.config import load_config
from idaudit.core.engine import AuditRun
from idaudit.core.outcomes import AuditOutcome, TenantOutcome
from idaudit.core.snapshot import load_snapshot
from idaudit.orchestration.audit import run_audit
from idaudit.orchestration.notify import summary_lines
from idaudit.orchestration.pipeline import audit_snapshot
from reports import write_reports
from reports.actions import action_plan
from reports.pseudonym import load_or_create_key
from reports.takeover import SHEET, callout_lines, signs, timeline
from simulator import build_organisation
from simulator.activity import build_activity
from simulator.microsoft.snapshot import render_microsoft_snapshot
from simulator.org import Organisation


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(users=60, seed=11)


@pytest.fixture(scope="module")
def nurse(org: Organisation) -> Any:
    return next(p for p in org.people if "compromised" in p.planted)


@pytest.fixture(scope="module")
def snapshot(org: Organisation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_microsoft_snapshot(org, tmp_path_factory.mktemp("snap") / "snap")


@pytest.fixture(scope="module")
def run(snapshot: Path) -> AuditRun:
    return audit_snapshot(snapshot)


def _upn(run: AuditRun, person_id: str) -> str:
    return run.data.user_labels()[person_id]


def _rows(ws: Any) -> list[tuple[Any, ...]]:
    return [r for r in ws.iter_rows(values_only=True)]


def test_the_nurse_is_the_one_sign_and_password_only_sign_ins_are_not_signs(run: AuditRun, nurse: Any) -> None:
    found = signs(run)
    assert [s.user_id for s in found] == [nurse.id]
    checks = {f[0] for f in found[0].findings}
    assert checks == {"IDA-TKO-001", "IDA-TKO-002", "IDA-TKO-003", "IDA-TKO-004"}
    assert found[0].severity == "critical"
    f = run.findings
    assert (f[(f["check_id"] == "IDA-TKO-005")]["status"] == "fail").any()  # an exposure, a finding, not a sign
    lines = callout_lines(run)
    assert len(lines) == 1 and lines[0].startswith(f"SIGN OF TAKEOVER — {_upn(run, nurse.id)}: ")


def test_the_timeline_is_the_story_in_order_with_addresses_and_countries(run: AuditRun, nurse: Any,
                                                                        org: Organisation) -> None:
    events = timeline(run.data, nurse.id)
    times = [e.time for e in events]
    assert times == sorted(times)
    story = build_activity(org)
    phish = min((s for s in story.sign_ins if s.person_id == nurse.id and s.country != org.country),
                key=lambda s: s.time)
    after = [e for e in events if e.time >= phish.time]
    logs = [e.log for e in after]
    # sign-in from the new country, then the authenticator, the consent, the two rules, and Identity Protection
    assert logs[0] in ("sign-in log", "riskDetections")
    assert logs.count("exchangeAuditRecords") == 2 and "directoryAudits" in logs
    assert all(e.ip == phish.ip and e.country == phish.country for e in after), after
    new_country = next(e for e in events if "new country" in e.what)
    assert new_country.time == phish.time and new_country.country == phish.country


def test_workbook_sheet_summary_and_action_plan(run: AuditRun, nurse: Any, tmp_path: Path) -> None:
    path = write_reports(run, tmp_path, ["xlsx"])[0]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames.index(SHEET) == wb.sheetnames.index("Action plan") + 1
    upn = _upn(run, nurse.id)
    rows = _rows(wb[SHEET])
    assert rows[0][:9] == ("User", "Sign, or event of the window", "Time (UTC)", "IP address", "Country", "Actor",
                           "Log", "Status", "Severity")
    assert rows[1][0] == "Log window" and "(7 days)" in rows[1][1]
    sign_rows = [r for r in rows if r[0] == upn and r[7] == "fail"]
    assert {r[9] for r in sign_rows} == {"IDA-TKO-001", "IDA-TKO-002", "IDA-TKO-003", "IDA-TKO-004"}
    events = [r for r in rows if r[0] == upn and r[7] is None]
    assert any("New-InboxRule" in str(r[1]) and r[6] == "exchangeAuditRecords" for r in events)
    assert all(r[2] is not None and r[3] and r[4] for r in events)  # time, address and country on every event
    open_door = next(r for r in rows if r[0] == "Open door")
    assert open_door[9] == "IDA-TKO-005"
    # printed like every other sheet (reports.printsetup): the screen-only check id stays off paper
    ws = wb[SHEET]
    assert ws.print_title_rows == "$1:$1" and ws.print_area.endswith(f"$I${ws.max_row}")
    summary = [str(v) for r in _rows(wb["Summary"]) for v in r if v]
    assert summary[1].startswith(f"SIGN OF TAKEOVER — {upn}")  # right under the title
    plan = action_plan(run)
    first = plan[0]
    assert first.title == f"Incident: possible takeover of {upn}" and first.due_days == 0
    assert first.check_id == "IDA-TKO-001, IDA-TKO-002, IDA-TKO-003, IDA-TKO-004"
    for words in ("Revoke-MgUserSignInSession", "Reset the password", "Remove-InboxRule", "'Mail sync'",
                  "SecureDocs Viewer", "Message trace", "164.402", "60 days"):
        assert words in first.action, words
    assert "gam " not in first.action
    assert not any(a.check_id in ("IDA-TKO-001", "IDA-TKO-002") for a in plan[1:])  # the incident covers them


def test_how_it_got_there_columns(run: AuditRun, nurse: Any, tmp_path: Path) -> None:
    path = write_reports(run, tmp_path, ["xlsx"])[0]
    wb = openpyxl.load_workbook(path)
    fwd = _rows(wb["Forwarding"])
    col = fwd[0].index("How it got there")
    upn = _upn(run, nurse.id)
    mine = [r for r in fwd[1:] if r[0] == upn]
    assert mine and all((str(r[col]).startswith("New-InboxRule 'Mail sync' by ") and "(NG)" in str(r[col]))
                        or r[2] != "Mail sync" for r in mine)
    others = [r for r in fwd[1:] if r[0] != upn and r[1] != "transport_rule"]
    assert others and all(str(r[col]).startswith(("not in the log window (", "New-InboxRule", "Set-InboxRule",
                                                   "Set-Mailbox", "UpdateInboxRules")) for r in others)
    apps = _rows(wb["Apps and consents"])
    acol = apps[0].index("How it got there")
    docs = next(r for r in apps[1:] if r[0] == "SecureDocs Viewer")
    assert str(docs[acol]).startswith(f"Consent to application 'SecureDocs Viewer' by {upn} on ")
    findings = _rows(wb["Findings"])
    fcol = findings[0].index("How it got there")
    assert any(str(r[fcol]).startswith("Consent to application 'SecureDocs Viewer'") for r in findings[1:])
    assert all(not r[fcol] for r in findings[1:] if r[3] == "pass")


def test_pseudonymised_sheet_holds_no_address_name_or_country(run: AuditRun, nurse: Any, org: Organisation,
                                                             tmp_path: Path) -> None:
    paths = write_reports(run, tmp_path, ["xlsx", "json"], pseudonymize_key=load_or_create_key(tmp_path / "k"))
    text = ""
    for p in paths:
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:
                text += "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        else:
            text += p.read_text(encoding="utf-8")
    phish = min((s for s in build_activity(org).sign_ins if s.person_id == nurse.id and s.country != org.country),
                key=lambda s: s.time)
    assert phish.ip not in text and f"({phish.country})" not in text and ">NG<" not in text
    i = text.find(_upn(run, nurse.id))
    assert i < 0, text[max(0, i - 300):i + 50]
    assert "sign of takeover &#8212; user-" in text.casefold()  # the Summary's call-out names the pseudonym


def test_notification_and_exit_code_call_out_a_sign_every_run(org: Organisation, tmp_path: Path) -> None:
    cfg = tmp_path / "idaudit.toml"
    cfg.write_text('[output]\nformats = ["xlsx"]\n[[tenants]]\nname = "Riverside"\nprovider = "microsoft"\n',
                   encoding="utf-8")
    config = load_config(cfg)
    collect = lambda tenant, out: render_microsoft_snapshot(org, out)  # noqa: E731
    run_audit(config, collector=collect, now=datetime(2026, 11, 2, 6, tzinfo=UTC))
    second = run_audit(config, collector=collect, now=datetime(2026, 11, 9, 6, tzinfo=UTC))
    t = second.tenants[0]
    assert t.changes is not None and t.changes["new"] == 0  # nothing new ...
    assert t.takeover_signs == 1 and t.exit_code == exitcodes.FINDINGS  # ... and still an incident
    assert t.callouts[0].startswith("SIGN OF TAKEOVER — ")
    subject, sections = summary_lines(second)
    assert subject.startswith("SIGNS OF TAKEOVER (1 user(s)) — idaudit weekly audit")
    assert any(line.startswith("SIGN OF TAKEOVER — ") for line in sections[0][1])
    quiet = AuditOutcome(tenants=(TenantOutcome("x", exitcodes.OK),), started_at=datetime(2026, 11, 9, tzinfo=UTC))
    assert not summary_lines(quiet)[0].startswith("SIGNS")


def test_no_log_says_so_instead_of_no_sign(org: Organisation, tmp_path: Path) -> None:
    """A snapshot without the log sections: the sheet names what was not collected and the checks are unknown,
    never a reassuring 'no sign'."""
    snap = render_microsoft_snapshot(org, tmp_path / "snap")
    manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    for name in ("directoryAudits", "signIns", "riskyUsers", "riskDetections", "exchangeAuditRecords"):
        rec = manifest["sections"][name]
        (snap / rec["file"]).unlink()
        manifest["sections"][name] = {**rec, "status": "forbidden", "file": None, "count": 0,
                                      "detail": "403: grant AuditLog.Read.All"}
    (snap / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    load_snapshot(snap)
    run = audit_snapshot(snap)
    assert signs(run) == []
    path = write_reports(run, tmp_path / "out", ["xlsx"])[0]
    rows = _rows(openpyxl.load_workbook(path)[SHEET])
    labels = [r[0] for r in rows]
    assert "Not collected" in labels and "No sign" in labels and "Could not tell" in labels
    assert any("change_events" in str(r[1]) for r in rows if r[0] == "Not collected")
