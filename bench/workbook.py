"""Measure 5 — the workbook: 100,000 findings through our streamed writer vs pandas.DataFrame.to_excel.

Same rows, same columns, same file format. Ours is the Findings sheet exactly as the vCISO workbook writes it
(reports.sheets_findings.write_findings: sorted, severity and status colours, text cells forced for untrusted
strings, auto-filter, data validation). The baseline is `df.to_excel(path, engine="openpyxl", index=False)` on
the same 12 columns — what a script author would write. Each side runs in its own child process so time and peak
RSS are its own; both build the identical findings frame first (seeded), and `rss_before_mb` is taken after that.

Target: ours ≤ 0.6× pandas' time, with bounded memory (peak RSS growth well below pandas').
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

from bench.common import Context, ratio, run_child, self_rss_mb, timer

FIELDS = ["check_id", "title", "severity", "status", "subject_kind", "subject", "subject_id", "evidence",
          "confidence", "waiver_owner", "waiver_reason", "waiver_expires", "how_it_got_there"]

_CHECKS = [
    ("IDA-AUTH-001", "Enabled user without any MFA method", "high", "user"),
    ("IDA-AUTH-002", "MFA not enforced at sign-in", "critical", "user"),
    ("IDA-AUTH-003", "Only phishable MFA methods (SMS, voice)", "medium", "user"),
    ("IDA-AUTH-004", "Administrator without phishing-resistant MFA", "high", "user"),
    ("IDA-ACCT-001", "Enabled account with no sign-in for 90 days", "low", "user"),
    ("IDA-ACCT-002", "Guest account never signed in", "low", "user"),
    ("IDA-MAIL-001", "Inbox rule forwards mail outside the organisation", "critical", "rule"),
    ("IDA-MAIL-002", "Inbox rule hides or deletes incoming mail", "high", "rule"),
    ("IDA-APPS-001", "App with mail-reading scope from an unverified publisher", "high", "app"),
]
_FIRST = ["maria", "james", "aisha", "wei", "olga", "juan", "fatima", "liam", "noor", "ivan", "grace", "tomas"]
_LAST = ["garcia", "smith", "okafor", "chen", "ivanova", "lopez", "khan", "murphy", "haddad", "novak", "lee"]
_HOSTILE = ['=HYPERLINK("http://evil.example/x","Open")', "+cmd|' /C calc'!A0", "#N/A", "@SUM(1+1)",
            "Eve\u202egnp.exe", "-2+3"]


def synth_findings(rows: int, seed: int = 8) -> Any:
    """A findings frame shaped like run_checks' output: realistic names and evidence, some hostile text."""
    import pandas as pd

    rng = random.Random(seed)
    recs: list[tuple[str, ...]] = []
    for i in range(rows):
        cid, title, sev, kind = _CHECKS[i % len(_CHECKS)]
        r = rng.random()
        status = "pass" if r < 0.70 else "fail" if r < 0.90 else "unknown" if r < 0.98 else "waived"
        name = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}{i}@stmarys-surgery.org"
        subject = rng.choice(_HOSTILE) if rng.random() < 0.01 else name
        if kind == "rule":
            subject = f"{name}: rule '{rng.choice(['fwd', 'Move to RSS', '.', 'invoices'])}'"
        evidence = (f"methods registered: {rng.choice(['none', 'sms', 'authenticator_push; sms', 'fido2'])}; "
                    f"enforced by {rng.choice(['security defaults', 'CA policy Require MFA', 'nothing'])}; "
                    f"last sign-in 2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}")
        waived = status == "waived"
        recs.append((cid, title, sev, status, kind, subject, str(uuid.UUID(int=rng.getrandbits(128))), evidence,
                     "high", "IT manager" if waived else "", "break-glass by design" if waived else "",
                     "2027-06-30" if waived else "",
                     "not in the log window" if kind == "rule" else ""))
    return pd.DataFrame.from_records(recs, columns=FIELDS)


def _run_with(findings: Any) -> Any:
    """An AuditRun carrying just the findings: the Findings sheet reads nothing else."""
    from datetime import UTC, datetime

    import pandas as pd

    from idaudit.core.engine import AuditRun
    from idaudit.core.tables import AuditData

    data = AuditData(provider="microsoft", tenant_id="bench", tenant_name="bench",
                     collected_at=pd.Timestamp("2026-11-28T06:00:00Z"), tables={}, status={})
    return AuditRun(data=data, findings=findings, checks=(), expired_waivers=(), evaluated_at=datetime.now(UTC))


def job_ours(rows: int, out: str) -> dict[str, Any]:
    from reports.sheetio import new_workbook
    from reports.sheets_findings import write_findings

    run = _run_with(synth_findings(rows))
    before = self_rss_mb()
    with timer() as t:
        wb = new_workbook()
        write_findings(wb, run)
        wb.save(out)
    return {"seconds": round(t["s"], 3), "rss_before_mb": round(before, 1), "bytes": Path(out).stat().st_size}


def job_pandas(rows: int, out: str) -> dict[str, Any]:
    findings = synth_findings(rows)
    before = self_rss_mb()
    with timer() as t:
        findings[FIELDS].to_excel(out, engine="openpyxl", index=False, sheet_name="Findings")
    return {"seconds": round(t["s"], 3), "rss_before_mb": round(before, 1), "bytes": Path(out).stat().st_size}


def job_read_back(path: str) -> dict[str, Any]:
    """Count the data rows of the Findings sheet (a written file that cannot be read back is no result)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    ws = wb["Findings"]
    n = sum(1 for _ in ws.iter_rows(min_row=2, values_only=True))
    wb.close()
    return {"rows": n}


def run(ctx: Context) -> dict[str, Any]:
    rows = 20_000 if ctx.quick else 100_000
    ours_path = ctx.work / "findings-ours.xlsx"
    pandas_path = ctx.work / "findings-pandas.xlsx"
    ctx.say(f"workbook: {rows:,} findings, our writer")
    ours = run_child("bench.workbook:job_ours", rows=rows, out=str(ours_path))
    ctx.say(f"workbook: {rows:,} findings, pandas to_excel(engine='openpyxl')")
    base = run_child("bench.workbook:job_pandas", rows=rows, out=str(pandas_path))
    back = run_child("bench.workbook:job_read_back", path=str(ours_path))
    for p in (ours_path, pandas_path):
        p.unlink(missing_ok=True)
    r = ratio(ours["seconds"], base["seconds"])
    ours_growth = round(ours["peak_rss_mb"] - ours["rss_before_mb"], 1)
    base_growth = round(base["peak_rss_mb"] - base["rss_before_mb"], 1)
    return {
        "name": "workbook",
        "title": f"Workbook: {rows:,} findings, our writer vs pandas.to_excel(openpyxl)",
        "ratio": r, "ratio_label": "our time / pandas time", "target": "≤ 0.6",
        "target_met": r is not None and r <= 0.6 and back["rows"] == rows,
        "raw": {
            "rows": rows, "rows_read_back": back["rows"],
            "ours_s": ours["seconds"], "pandas_s": base["seconds"],
            "ours_peak_rss_mb": ours["peak_rss_mb"], "pandas_peak_rss_mb": base["peak_rss_mb"],
            "ours_rss_growth_mb": ours_growth, "pandas_rss_growth_mb": base_growth,
            "ours_bytes": ours["bytes"], "pandas_bytes": base["bytes"],
        },
    }
