"""CSV and JSON exports of the findings, for SIEMs, ticketing and people who prefer their own spreadsheet.

CSV fields that a spreadsheet would read as a formula (= + - @ tab CR) are prefixed with a quote (OWASP CSV
injection guidance); control and bidi characters are made visible. JSON keeps the text as data (JSON has no
formulas) but goes through the same control-character cleaning so a terminal `cat` or `jq` cannot be hijacked.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from idaudit.core.atomic import atomic_path
from idaudit.core.engine import FINDING_COLUMNS, AuditRun
from idaudit.core.version import __version__
from reports.posture import counts_by_status, posture_score
from reports.textsafe import clean_text, csv_text

JSON_FORMAT = "idaudit-findings"
JSON_VERSION = 1


def write_csv(run: AuditRun, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    cols = list(FINDING_COLUMNS)
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for row in run.findings[cols].itertuples(index=False, name=None):
            w.writerow([csv_text(v) for v in row])
    return target


def findings_document(run: AuditRun) -> dict[str, Any]:
    data = run.data
    score = posture_score(run.findings)
    cols = list(FINDING_COLUMNS)
    records = [{c: clean_text(v) for c, v in zip(cols, row, strict=True)}
               for row in run.findings[cols].itertuples(index=False, name=None)]
    return {
        "format": JSON_FORMAT,
        "format_version": JSON_VERSION,
        "tool_version": __version__,
        "provider": data.provider,
        "tenant_id": clean_text(data.tenant_id),
        "tenant_name": clean_text(data.tenant_name),
        "collected_at": data.collected_at.isoformat(),
        "evaluated_at": run.evaluated_at.isoformat(),
        "posture_score": score.score,
        "posture_coverage": round(score.coverage, 3),
        "counts": counts_by_status(run.findings),
        "expired_waivers": [{"check_id": w.check_id, "subject": clean_text(w.subject), "owner": clean_text(w.owner),
                             "expires": w.expires.isoformat()} for w in run.expired_waivers],
        "findings": records,
    }


def write_json(run: AuditRun, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8") as fh:
        json.dump(findings_document(run), fh, ensure_ascii=False, indent=1)
    return target
