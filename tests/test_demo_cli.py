"""`idaudit demo` end to end (simulator -> real msal/msgraph-sdk connector -> snapshot -> checks -> workbook)."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from idaudit.cli import main


def test_demo_writes_workbook_with_fail_pass_unknown_and_waived(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["demo", "--out", str(tmp_path), "--users", "60", "--format", "xlsx,csv"])
    assert code == 0
    out = capsys.readouterr().out
    assert "collected via connector" in out
    wb = openpyxl.load_workbook(tmp_path / "idaudit-report.xlsx", read_only=True)
    ws = wb["Findings"]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(c) for c in rows[0]]
    status_col = next(i for i, h in enumerate(header) if h.lower() == "status")
    statuses = {str(r[status_col]).lower() for r in rows[1:] if r[status_col]}
    assert {"fail", "unknown", "waived"} <= statuses
    coverage = [r for r in wb["Coverage"].iter_rows(values_only=True)
                if r and r[0] == "authenticationMethodsPolicy"]
    assert coverage and "Policy.Read.AuthenticationMethod" in " ".join(str(c) for c in coverage[0])
    assert (tmp_path / "snapshot-microsoft" / "manifest.json").is_file()
