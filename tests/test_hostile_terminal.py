"""Attacker-chosen text (display names, tenant names, rule names, error details) on every terminal output path.

After a phishing the attacker names things: a display name carrying "\\x1b[2J" clears the admin's screen, an OSC 8
sequence plants a link, U+202E reverses the text around it, and a 10,000-character name buries the summary. On a
terminal all of it must arrive as inert, readable text, cut with a marker. Real CLI (`idaudit check`, `diff`,
`checks list`, error messages, log lines), real snapshot loader, real SQLite history; output captured from the
process streams.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from idaudit.cli import main
from idaudit.core import exitcodes
from reports.history import History
from simulator import build_organisation
from simulator.microsoft.snapshot import render_microsoft_snapshot
from tests.report_fixtures import Week, build_run

ESC = "\x1b"
HOSTILE = [
    "=HYPERLINK(\"http://evil.example\",\"Open\")",
    "<script>alert(1)</script>",
    f"{ESC}[2J{ESC}[31mRED",
    f"{ESC}]8;;http://evil.example{ESC}\\click{ESC}]8;;{ESC}\\",
    "bell\x07back\x08space\r\ncarriage",
    "invoice\u202egpj.exe",
    "C1\x9bcontrol",
]
LONG = "A" * 10_000


def _assert_inert(text: str) -> None:
    """Nothing that a terminal would interpret survives: no ESC, C0/C1 control (but newline), bidi override."""
    for ch in text:
        code = ord(ch)
        assert ch == "\n" or (code >= 0x20 and not 0x7F <= code <= 0x9F), f"raw control U+{code:04X} in {text!r:.300}"
        assert ch not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", f"bidi U+{code:04X} reached output"
    assert "A" * 2001 not in text, "a 10,000-character value was printed whole (nor cut to a short line)"


def _hostile_snapshot(tmp_path: Path, tenant_name: str) -> Path:
    snap = render_microsoft_snapshot(build_organisation(users=12, seed=9), tmp_path / "snap")
    manifest = json.loads((snap / "manifest.json").read_text())
    manifest["tenant_name"] = tenant_name
    (snap / "manifest.json").write_text(json.dumps(manifest))
    return snap


@pytest.mark.parametrize("name", [*HOSTILE, LONG + HOSTILE[2]])
def test_check_summary_shows_a_hostile_tenant_name_as_inert_text(tmp_path: Path, name: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    snap = _hostile_snapshot(tmp_path, name)
    code = main(["check", str(snap), "--out", str(tmp_path / "out"), "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (exitcodes.OK, exitcodes.FINDINGS, exitcodes.INCOMPLETE), err
    _assert_inert(out + err)
    first = out.splitlines()[0]
    lead = ""
    for c in name:
        if not (c.isprintable() and c.isascii()):
            break
        lead += c
    assert lead[:40] in first  # readable: the name's plain start is shown as it is
    if len(name) > 1000:
        assert "truncated" in first and str(len(name)) in first


def test_error_message_quoting_hostile_snapshot_field_is_inert(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    snap = _hostile_snapshot(tmp_path, "x")
    manifest = json.loads((snap / "manifest.json").read_text())
    manifest["provider"] = HOSTILE[2] + HOSTILE[3] + LONG  # an unknown provider: the error names what it found
    (snap / "manifest.json").write_text(json.dumps(manifest))
    code = main(["check", str(snap), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == exitcodes.ERROR
    assert err.startswith("idaudit: error: ") and str(snap) in err  # names the snapshot
    _assert_inert(out + err)


def test_log_lines_carry_no_escape_sequence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap = _hostile_snapshot(tmp_path, "Clinic")
    root = logging.getLogger()
    before = list(root.handlers)
    for h in before:  # basicConfig only configures a root logger with no handler: give main a fresh one
        root.removeHandler(h)
    try:
        main(["-v", "check", str(snap), "--out", str(tmp_path / "out"), "--format", "json"])
        logging.getLogger("idaudit.test").warning("rule %s forwards to %s", HOSTILE[2] + HOSTILE[5], LONG * 3)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in before:
            root.addHandler(h)
    _, err = capsys.readouterr()
    assert "rule " in err and "truncated" in err
    _assert_inert(err)


def _hostile_history(tmp_path: Path, subject: str) -> Path:
    db = tmp_path / "history.sqlite"
    with History(db) as h:
        for week in (Week(), Week(new_forward=True, drop_bob_forward=True)):
            run = build_run(week)
            findings = run.findings.assign(subject=subject, evidence=subject + " " + LONG)
            h.record(replace(run, findings=findings, data=replace(run.data, tenant_name=subject[:300])))
    return db


@pytest.mark.parametrize("subject", [HOSTILE[2], HOSTILE[3], HOSTILE[4], HOSTILE[5], LONG])
def test_diff_and_run_list_print_hostile_subjects_inert(tmp_path: Path, subject: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    db = _hostile_history(tmp_path, subject)
    assert main(["diff", "--history", str(db), "--all"]) in (exitcodes.OK, exitcodes.FINDINGS)
    assert main(["diff", "--history", str(db), "--list"]) == exitcodes.OK
    out, err = capsys.readouterr()
    assert "->" in out and ("still open" in out or "new" in out)
    _assert_inert(out + err)
    assert main(["diff", "--history", str(db), "--json"]) in (exitcodes.OK, exitcodes.FINDINGS)
    out, _ = capsys.readouterr()
    assert ESC not in out and "\u202e" not in out
    json.loads(out)  # still valid JSON


def test_checks_list_is_inert(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "list"]) == exitcodes.OK
    out, err = capsys.readouterr()
    assert out.count("\n") >= 30
    _assert_inert(out + err)
