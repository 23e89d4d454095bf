"""The numbers at the top of the Summary: posture score, counts, top risks, what was not collected.

The posture score is deliberately simple so a reader can recompute it by hand from the Checks sheet:

    score = 100 × (weight of checks that fully pass) / (weight of checks that could be evaluated)

Each check weighs by severity (critical 10, high 5, medium 3, low 1, info 0). A check "fully passes" when no
subject fails (a waived subject counts as passing: the risk was accepted by a named owner). A check with no
failing subject but some `unknown` subject could not be evaluated and is left out, never counted as passing;
the share of weight that could be evaluated is shown beside the score as its coverage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from idaudit.core.engine import AuditRun
from idaudit.core.model import CheckMeta, Severity, Status
from idaudit.core.sections import section_spec, sections_for

SEVERITY_WEIGHT: Mapping[str, int] = {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0}
SCORE_DEFINITION = (
    "Posture score = 100 × (weight of checks that fully pass) ÷ (weight of checks that could be evaluated). "
    "Weights by severity: critical 10, high 5, medium 3, low 1, info 0. A check fully passes when no subject "
    "fails; waived subjects count as passing (risk accepted by a named owner). Checks with unknown results are "
    "left out — never counted as passing — and 'coverage' is the share of the total weight that was evaluated."
)
STATUS_ORDER = ("fail", "unknown", "waived", "pass", "not_applicable")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class PostureScore:
    score: float | None  # None when nothing could be evaluated
    coverage: float  # 0..1 share of total weight evaluated
    passing_weight: int
    evaluated_weight: int
    total_weight: int

    def label(self) -> str:
        if self.score is None:
            return "not computable: no check could be evaluated"
        return f"{self.score:.0f} / 100 (coverage {self.coverage:.0%} of check weight)"


def check_outcomes(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per check: counts per status and the check-level outcome (fail / pass / unknown / n/a)."""
    if findings.empty:
        return pd.DataFrame(columns=["check_id", "severity", *STATUS_ORDER, "outcome"])
    counts = (findings.groupby(["check_id", "severity", "status"]).size().unstack("status", fill_value=0)
              .reindex(columns=list(STATUS_ORDER), fill_value=0).reset_index())
    outcome = pd.Series("not_applicable", index=counts.index, dtype="str")
    outcome = outcome.mask((counts["pass"] + counts["waived"]) > 0, "pass")
    outcome = outcome.mask(counts["unknown"] > 0, "unknown")
    outcome = outcome.mask(counts["fail"] > 0, "fail")
    counts["outcome"] = outcome
    return counts


def posture_score(findings: pd.DataFrame) -> PostureScore:
    per_check = check_outcomes(findings)
    if per_check.empty:
        return PostureScore(None, 0.0, 0, 0, 0)
    weight = per_check["severity"].map(lambda s: SEVERITY_WEIGHT.get(str(s), 0)).astype(int)
    applicable = per_check["outcome"] != "not_applicable"
    evaluated = per_check["outcome"].isin(["pass", "fail"])
    total = int(weight[applicable].sum())
    ev = int(weight[evaluated].sum())
    passing = int(weight[per_check["outcome"] == "pass"].sum())
    score = None if ev == 0 else round(100.0 * passing / ev, 1)
    return PostureScore(score, (ev / total) if total else 0.0, passing, ev, total)


def counts_by_status(findings: pd.DataFrame) -> dict[str, int]:
    vc = findings["status"].value_counts()
    return {s: int(vc.get(s, 0)) for s in STATUS_ORDER}


def counts_by_severity(findings: pd.DataFrame) -> dict[str, dict[str, int]]:
    """severity -> status -> number of findings."""
    out: dict[str, dict[str, int]] = {s: dict.fromkeys(STATUS_ORDER, 0) for s in SEVERITY_ORDER}
    if findings.empty:
        return out
    sizes: Any = findings.groupby(["severity", "status"]).size()
    for (sev, status), n in sizes.items():
        out.setdefault(str(sev), dict.fromkeys(STATUS_ORDER, 0))[str(status)] = int(n)
    return out


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    cut = text.find(". ")
    return text if cut < 0 else text[:cut + 1]


def _plural(n: int, kind: str) -> str:
    word = {"tenant": "tenant setting", "rule": "mail rule", "app": "app"}.get(kind, kind)
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class Risk:
    severity: str
    check_id: str
    title: str
    affected: int
    subject_kind: str
    why: str  # the exfiltration path, one sentence

    def sentence(self) -> str:
        return (f"{self.severity.upper()}: {_plural(self.affected, self.subject_kind)} — {self.title}. "
                f"{self.why}")


def top_risks(run: AuditRun, limit: int = 8) -> list[Risk]:
    """Failing checks, worst first (severity, then number of subjects), in plain language."""
    f = run.findings
    failing = f[f["status"] == Status.FAIL.value]
    if failing.empty:
        return []
    metas = {m.id: m for m in run.checks}
    grouped = failing.groupby("check_id")["subject_id"].nunique()
    risks = []
    for check_id, n in grouped.items():
        meta = metas.get(str(check_id))
        if meta is None:
            continue
        risks.append(Risk(meta.severity.value, meta.id, meta.title, int(n), meta.subject_kind.value,
                          _first_sentence(meta.rationale)))
    risks.sort(key=lambda r: (-Severity(r.severity).rank, -r.affected, r.check_id))
    return risks[:limit]


@dataclass(frozen=True)
class Gap:
    """One section that was not collected (or only partly): what it is for and how to fix it."""

    section: str
    status: str
    detail: str
    purpose: str
    fix: str
    failed_subjects: int = 0


def collection_gaps(run: AuditRun, include_absent: bool = False) -> list[Gap]:
    """Sections that failed or had per-subject failures.

    Sections the snapshot has no record of are listed only with `include_absent`: a connector legitimately skips
    a fallback section (per-user methods when registration details worked), so absence alone is not a failure.
    The Coverage sheet lists every expected section either way.
    """
    data = run.data
    manifest = data.manifest
    gaps: list[Gap] = []
    if manifest is None:
        for name, st in sorted(data.status.items()):
            if st.availability.value != "ok":
                gaps.append(Gap(name, st.availability.value, st.reason, "normalised table", ""))
        return gaps
    seen = set()
    for name, rec in sorted(manifest.sections.items()):
        seen.add(name)
        spec = section_spec(manifest.provider, name)
        if rec.status.value != "ok" or rec.failed_subjects:
            gaps.append(Gap(name, rec.status.value, rec.detail, spec.purpose if spec else "",
                            spec.fix if spec else "", len(rec.failed_subjects)))
    for spec in sections_for(manifest.provider):
        if include_absent and spec.name not in seen:
            gaps.append(Gap(spec.name, "not collected", "the snapshot has no record of this section",
                            spec.purpose, spec.fix))
    return gaps


def checks_by_id(checks: Sequence[CheckMeta]) -> dict[str, CheckMeta]:
    return {m.id: m for m in checks}
