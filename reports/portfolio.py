"""The portfolio workbook: one row per client tenant, for a vCISO or MSSP auditing several organisations.

Written by the scheduled audit when it audits more than one tenant, beside the per-tenant folders. It answers
"which client needs me this week?": score, failing and unknown counts, new high/critical findings since the last
run, the new forwarding / consent call-outs, collection gaps, errors, and where each workbook is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from idaudit.core.atomic import atomic_path
from reports.sheetio import Column, SheetWriter, Styled, new_workbook, status_cell

if TYPE_CHECKING:
    from idaudit.core.outcomes import TenantOutcome

_VERDICT = {0: "clean", 3: "NEW high/critical findings", 4: "incomplete", 5: "error"}


def write_portfolio(tenants: Sequence[TenantOutcome], started_at: datetime,
                    path: str | os.PathLike[str]) -> Path:
    wb = new_workbook()
    s = SheetWriter(wb, "Tenants", [
        Column("Tenant", 28), Column("Result", 24), Column("Posture score", 10), Column("Failing", 9),
        Column("Unknown", 9), Column("New high/critical", 10), Column("New", 8), Column("Resolved", 9),
        Column("New mail / app findings", 70, wrap=True), Column("Not collected", 40, wrap=True),
        Column("Error", 50, wrap=True), Column("Workbook", 60),
    ], freeze_header=True, auto_filter=True)
    s.header()
    order = {5: 0, 3: 1, 4: 2, 0: 3}
    for t in sorted(tenants, key=lambda t: (order.get(t.exit_code, 9), -(t.new_serious or 0), t.tenant)):
        verdict = _VERDICT.get(t.exit_code, str(t.exit_code))
        fill = status_cell("fail" if t.exit_code in (3, 5) else "unknown" if t.exit_code == 4 else "pass").fill
        xlsx = next((str(p) for p in t.reports if p.suffix == ".xlsx"), "")
        s.row([t.tenant, Styled(verdict, fill=fill), t.posture_score, t.counts.get("fail"), t.counts.get("unknown"),
               t.new_serious if not t.error else None,
               None if t.changes is None else t.changes.get("new"),
               None if t.changes is None else t.changes.get("resolved"),
               "\n".join(t.callouts[:20]), ", ".join(t.incomplete_sections), t.error, xlsx])
    s.finish_table()
    s.blank()
    s.row([f"Audit started {started_at:%Y-%m-%d %H:%M} UTC. 'New' compares each tenant with its previous run."])
    target = Path(path)
    with atomic_path(target) as tmp:
        wb.save(tmp)
    return target
