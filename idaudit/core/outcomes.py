"""What a scheduled audit produced, per tenant and in all: the data the notifications and the portfolio report read.

Plain frozen data in the core layer, so the reports (portfolio) and the notifier can read an outcome without
importing the orchestration that produces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from idaudit.core import exitcodes


@dataclass(frozen=True)
class TenantOutcome:
    tenant: str
    exit_code: int
    error: str = ""
    snapshot: Path | None = None
    reports: tuple[Path, ...] = ()
    run_id: int | None = None
    posture_score: float | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    changes: Mapping[str, int] | None = None  # None: first recorded run of this tenant
    new_serious: int = 0  # new failing high/critical findings (all failing ones on a first run)
    callouts: tuple[str, ...] = ()  # signs of takeover, then new forwarding / consent findings, in plain language
    takeover_signs: int = 0  # users with a failing takeover check (new or not)
    incomplete_sections: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditOutcome:
    tenants: tuple[TenantOutcome, ...]
    started_at: datetime
    notify_errors: tuple[str, ...] = ()
    portfolio: Path | None = None  # one-row-per-tenant workbook, when several tenants were audited

    @property
    def exit_code(self) -> int:
        codes = [t.exit_code for t in self.tenants]
        if self.notify_errors:
            codes.append(exitcodes.ERROR)
        return worst(codes)


def worst(codes: Sequence[int]) -> int:
    for code in (exitcodes.ERROR, exitcodes.FINDINGS, exitcodes.INCOMPLETE):
        if code in codes:
            return code
    return exitcodes.OK
