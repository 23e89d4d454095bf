"""The check engine: a registry of checks and the loop that runs them into findings.

A check is a pure function `(AuditData, CheckSettings) -> DataFrame` with metadata beside it. It returns one
row per evaluated subject (`subject_id`, `subject`, `status` pass/fail/not_applicable, `evidence`, optional
`confidence`, optional `owner_id` = the user an item such as a rule or a grant belongs to). The engine — not the
check — decides `unknown`: a required table missing, a check raising DataUnavailable, or a subject whose data was
not collected (see `cover_missing_subjects`: it is the one place that keeps an uncollected user from looking
clean). Waivers are applied last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from idaudit.core.errors import DataUnavailable
from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS, DEFAULT_TAKEOVER_WINDOW_DAYS
from idaudit.core.model import (
    CheckMeta,
    Confidence,
    Framework,
    Provider,
    Reference,
    Severity,
    Status,
    SubjectKind,
)
from idaudit.core.provenance import KINDS as PROVENANCE_KINDS
from idaudit.core.provenance import annotate
from idaudit.core.tables import SCHEMAS, AuditData, Availability

CHECK_ID = re.compile(r"^IDA-(AUTH|ACCT|MAIL|APPS|TKO|ESEC)-\d{3}$")

FINDING_COLUMNS: tuple[str, ...] = (
    "check_id", "title", "severity", "status", "subject_kind", "subject_id", "subject", "evidence",
    "confidence", "provider", "tenant_id", "waiver_owner", "waiver_reason", "waiver_expires",
    "how_it_got_there",
)

# What a check returns (result_frame). owner_id is used by the engine and not part of the findings.
RESULT_COLUMNS: tuple[str, ...] = ("subject_id", "subject", "status", "evidence", "confidence", "owner_id")
TENANT_LEVEL_SUBJECTS = frozenset({"tenant", "*"})  # rows about the whole tenant / the whole check

CheckFunc = Callable[[AuditData, "CheckSettings"], pd.DataFrame]


@dataclass(frozen=True)
class CheckSettings:
    """Thresholds and lists a check may read; defaults are documented in README and docs/checks.md."""

    stale_days: int = 90
    guest_stale_days: int = 90
    global_admin_min: int = 2
    global_admin_max: int = 4
    trusted_domains: frozenset[str] = frozenset()
    allowed_apps: frozenset[str] = frozenset()  # app ids / client ids (never names) allowed to hold risky scopes
    break_glass: frozenset[str] = frozenset()  # principals (UPN / primary email) of break-glass accounts
    lookback_days: int = DEFAULT_LOOKBACK_DAYS  # how far back the sign-in and audit logs are read
    takeover_window_days: int = DEFAULT_TAKEOVER_WINDOW_DAYS  # "soon after" a risky sign-in, for takeover checks
    now: datetime | None = None  # evaluation time; defaults to the snapshot's collected_at

    def evaluation_time(self, data: AuditData) -> pd.Timestamp:
        return pd.Timestamp(self.now) if self.now else pd.Timestamp(data.collected_at)


@dataclass(frozen=True)
class Waiver:
    check_id: str
    subject: str  # subject id, principal, or "*" for every subject of the check
    owner: str
    reason: str
    expires: date

    def active_on(self, day: date) -> bool:
        return day <= self.expires

    def matches(self, check_id: str, subject_id: str, subject: str) -> bool:
        if self.check_id != check_id:
            return False
        return self.subject == "*" or self.subject.casefold() in (subject_id.casefold(), subject.casefold())


@dataclass(frozen=True)
class RegisteredCheck:
    meta: CheckMeta
    func: CheckFunc


@dataclass
class CheckRegistry:
    checks: dict[str, RegisteredCheck] = field(default_factory=dict)

    def register(self, meta: CheckMeta, func: CheckFunc) -> None:
        problems = validate_meta(meta)
        if problems:
            raise ValueError(f"check {meta.id!r} has invalid metadata: " + "; ".join(problems))
        if meta.id in self.checks and self.checks[meta.id].func is not func:
            raise ValueError(f"check id {meta.id} is registered twice")
        self.checks[meta.id] = RegisteredCheck(meta, func)

    def all(self) -> list[RegisteredCheck]:
        return [self.checks[k] for k in sorted(self.checks)]

    def get(self, check_id: str) -> RegisteredCheck:
        return self.checks[check_id]



def validate_meta(meta: CheckMeta) -> list[str]:
    """Metadata left empty is a defect (see prowler): every field a reader relies on must be filled."""
    problems = []
    if not CHECK_ID.match(meta.id):
        problems.append("id must look like IDA-AUTH-001 (families AUTH, ACCT, MAIL, APPS, TKO, ESEC)")
    for name in ("title", "rationale", "remediation"):
        if len(getattr(meta, name).strip()) < 10:
            problems.append(f"{name} is empty or too short")
    if not meta.references:
        problems.append("at least one reference is required")
    if not any(r.framework is Framework.HIPAA for r in meta.references):
        problems.append("a HIPAA Security Rule reference is required")
    if not meta.providers:
        problems.append("providers is empty")
    unknown = [t for t in meta.requires if t not in SCHEMAS]
    if unknown:
        problems.append(f"requires unknown tables {unknown}")
    if not meta.requires:
        problems.append("requires must name the tables the check reads")
    if meta.provenance and meta.provenance not in PROVENANCE_KINDS:
        problems.append(f"provenance {meta.provenance!r} is not one of {sorted(PROVENANCE_KINDS)}")
    stray = [t for t in meta.lookup_tables if t not in meta.requires]
    if stray:
        problems.append(f"lookup_tables {stray} are not among the required tables")
    foreign = sorted(p.value for p, _ in meta.steps if p not in meta.providers)
    if foreign:
        problems.append(f"steps for {foreign}, which the check does not cover")
    if any(len(text.strip()) < 10 for _, text in meta.steps):
        problems.append("a provider's steps are empty or too short")
    return problems


def check(*, id: str, title: str, severity: Severity, rationale: str, remediation: str,
          references: Iterable[Reference], providers: Iterable[Provider | str], requires: Iterable[str],
          subject_kind: SubjectKind, family: str = "", owner_role: str = "IT manager",
          uses_settings: Iterable[str] = (), lookup_tables: Iterable[str] = (),
          steps: Mapping[Provider | str, str] | None = None, provenance: str = "",
          registry: CheckRegistry) -> Callable[[CheckFunc], CheckFunc]:
    """Decorator: register a pure check function with its metadata (lookup_tables, steps: see CheckMeta) in
    `registry`. `remediation` says what to do for any provider; `steps` says where and how on each one.

    The engine keeps no global registry: the built-in checks register in checks.catalogue.CATALOGUE, and whoever
    runs checks hands the engine the registry to run, so the core never imports the checks it runs.
    """
    meta = CheckMeta(id=id, title=title, severity=severity, rationale=" ".join(rationale.split()),
                     remediation=" ".join(remediation.split()), references=tuple(references),
                     providers=frozenset(Provider(p) for p in providers), requires=tuple(requires),
                     subject_kind=subject_kind, family=family, owner_role=owner_role,
                     uses_settings=tuple(uses_settings), lookup_tables=tuple(lookup_tables),
                     steps=tuple(sorted(((Provider(p), " ".join(t.split())) for p, t in (steps or {}).items()),
                                        key=lambda kv: kv[0].value, reverse=True)),
                     provenance=provenance)

    def wrap(func: CheckFunc) -> CheckFunc:
        registry.register(meta, func)
        func.meta = meta  # type: ignore[attr-defined]
        return func

    return wrap


def result_frame(rows: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """What a check returns: subject_id, subject, status, evidence, confidence (defaults high), owner_id.

    owner_id (optional, default '') is the user an item belongs to when the subject is not the user itself — an
    inbox rule, a forwarding address, a grant. The engine matches it against the users a partial table could not
    collect, as it matches subject_id, so a per-item check needs no coverage code of its own.
    """
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
    df = df.copy()
    for col in ("subject_id", "subject", "status", "evidence"):
        if col not in df.columns:
            df[col] = pd.Series(dtype="str") if df.empty else ""
    if "confidence" not in df.columns:
        df["confidence"] = Confidence.HIGH.value
    if "owner_id" not in df.columns:
        df["owner_id"] = pd.Series(dtype="str") if df.empty else ""
    owner = df["owner_id"].astype(object)
    df["owner_id"] = owner.where(owner.notna(), "")
    return df[list(RESULT_COLUMNS)].astype(str)


def _unknown_row(reason: str) -> pd.DataFrame:
    return result_frame([{"subject_id": "*", "subject": "(whole check)", "status": Status.UNKNOWN.value,
                          "evidence": reason, "confidence": Confidence.HIGH.value}])


@dataclass(frozen=True)
class AuditRun:
    """Findings plus the context the reports need."""

    data: AuditData
    findings: pd.DataFrame
    checks: tuple[CheckMeta, ...]
    expired_waivers: tuple[Waiver, ...]
    evaluated_at: datetime

    def summary(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.findings["status"].value_counts().items()}


def run_checks(data: AuditData, settings: CheckSettings | None = None, waivers: Iterable[Waiver] = (),
               only: Iterable[str] | None = None, *, registry: CheckRegistry,
               keep_passes: bool = True) -> AuditRun:
    """Run every applicable check. Never raises for a data gap: gaps become `unknown` rows with the reason."""
    settings = settings or CheckSettings()
    reg = registry
    wanted = set(only) if only is not None else None
    today = settings.evaluation_time(data).date()
    waivers = tuple(waivers)
    active = [w for w in waivers if w.active_on(today)]
    expired = tuple(w for w in waivers if not w.active_on(today))
    frames: list[pd.DataFrame] = []
    metas: list[CheckMeta] = []
    for rc in reg.all():
        meta = rc.meta
        if wanted is not None and meta.id not in wanted:
            continue
        metas.append(meta)
        if Provider(data.provider) not in meta.providers:
            out = result_frame([{"subject_id": "*", "subject": "(whole check)",
                                 "status": Status.NOT_APPLICABLE.value,
                                 "evidence": f"check does not apply to {data.provider}",
                                 "confidence": Confidence.HIGH.value}])
        else:
            out = _evaluate(rc, data, settings)
        out = _apply_waivers(meta.id, out, active)
        out["how_it_got_there"] = annotate(meta.provenance, data, out) if meta.provenance else ""
        frames.append(_decorate(meta, data, out, keep_passes))
    findings = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(FINDING_COLUMNS))
    return AuditRun(data=data, findings=findings[list(FINDING_COLUMNS)], checks=tuple(metas),
                    expired_waivers=expired, evaluated_at=datetime.now(UTC))


def _evaluate(rc: RegisteredCheck, data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    meta = rc.meta
    missing = [t for t in meta.requires if not data.available(t)]
    if missing:
        reasons = "; ".join(f"{t}: {data.status[t].reason}" if t in data.status else f"{t}: not collected"
                            for t in missing)
        return _unknown_row(f"required data not collected — {reasons}")
    try:
        out = result_frame(rc.func(data, settings))
    except DataUnavailable as exc:
        return _unknown_row(exc.reason)
    bad = set(out["status"]) - {Status.PASS.value, Status.FAIL.value, Status.NOT_APPLICABLE.value,
                                Status.UNKNOWN.value}
    if bad:
        raise ValueError(f"check {meta.id} returned invalid statuses {sorted(bad)}")
    return cover_missing_subjects(meta, data, out)


@dataclass(frozen=True)
class SubjectGaps:
    """What the partial tables a check requires could not collect, as the engine needs it."""

    reasons: Mapping[str, str]  # subject id -> "<table> not collected for this subject: <why>" (every table)
    to_list: Mapping[str, str]  # the same, from tables whose missing subjects each need a row (not lookup_tables)
    unnamed: tuple[str, ...]  # partial tables that cannot say which subjects are missing, with their reason


def subject_gaps(meta: CheckMeta, data: AuditData) -> SubjectGaps:
    reasons: dict[str, str] = {}
    to_list: dict[str, str] = {}
    unnamed: list[str] = []
    for t in meta.requires:
        st = data.status.get(t)
        if st is None or st.availability is not Availability.PARTIAL:
            continue
        if not st.missing_subjects:
            unnamed.append(f"'{t}' is incomplete and does not name what is missing: {st.reason or 'no reason given'}")
        for sid, why in st.missing_subjects.items():
            reason = f"{t} not collected for this subject: {why}"
            reasons.setdefault(sid, reason)
            if t not in meta.lookup_tables:
                to_list.setdefault(sid, reason)
    return SubjectGaps(reasons, to_list, tuple(unnamed))


def cover_missing_subjects(meta: CheckMeta, data: AuditData, out: pd.DataFrame) -> pd.DataFrame:
    """The one place that keeps a subject a partial table could not collect from looking clean.

    1. A pass whose subject_id or owner_id is a missing subject becomes unknown, with the reason.
    2. A missing subject with no row at all (neither as subject nor as owner) gets one unknown row, once per
       check — unless it comes only from `lookup_tables`, whose missing subjects matter only when listed.
    3. A tenant-level pass ('nothing found', a count) cannot stand on a partial table that does not name what it
       is missing: it becomes unknown. When the table names its missing subjects, 2. lists each of them (or they
       are outside the check's population), so the pass is about the rest.
    4. A per-item check (one row per rule, grant, user) on such an unnamed partial table has no tenant row to turn
       into unknown; it gets one '(whole check)' unknown row, so the items it did see cannot read as the whole
       answer.
    """
    gaps = subject_gaps(meta, data)
    if not gaps.reasons and not gaps.unnamed:
        return out
    out = out.copy()
    passing = out["status"] == Status.PASS.value
    by_subject = out["subject_id"].map(gaps.reasons)
    by_owner = out["owner_id"].map(gaps.reasons)
    hit_subject = passing & by_subject.notna()
    hit_owner = passing & ~hit_subject & by_owner.notna()
    hit_tenant = passing & out["subject_id"].isin(TENANT_LEVEL_SUBJECTS) & bool(gaps.unnamed)
    if hit_subject.any():
        out.loc[hit_subject, "evidence"] = by_subject[hit_subject].astype(str)
    if hit_owner.any():
        out.loc[hit_owner, "evidence"] = by_owner[hit_owner].astype(str) + " (what was collected: " \
            + out.loc[hit_owner, "evidence"] + ")"
    if hit_tenant.any():
        out.loc[hit_tenant, "evidence"] = out.loc[hit_tenant, "evidence"] + " in the data collected, but " \
            + "; ".join(gaps.unnamed)
    out.loc[hit_subject | hit_owner | hit_tenant, "status"] = Status.UNKNOWN.value
    seen = set(out["subject_id"]) | set(out["owner_id"])
    labels = data.user_labels()
    added = [{"subject_id": sid, "subject": labels.get(sid, sid), "status": Status.UNKNOWN.value, "evidence": why,
              "confidence": Confidence.HIGH.value, "owner_id": sid}
             for sid, why in gaps.to_list.items() if sid not in seen]
    if gaps.unnamed and not out["subject_id"].isin(TENANT_LEVEL_SUBJECTS).any():
        added.append({"subject_id": "*", "subject": "(whole check)", "status": Status.UNKNOWN.value,
                      "evidence": "only the items listed were checked; " + "; ".join(gaps.unnamed),
                      "confidence": Confidence.HIGH.value, "owner_id": ""})
    if added:
        out = pd.concat([out, result_frame(added)], ignore_index=True)
    return out


def _apply_waivers(check_id: str, out: pd.DataFrame, active: list[Waiver]) -> pd.DataFrame:
    out = out.assign(waiver_owner="", waiver_reason="", waiver_expires="")
    relevant = [w for w in active if w.check_id == check_id]
    if not relevant or out.empty:
        return out
    failing = out["status"] == Status.FAIL.value
    for w in relevant:
        if w.subject == "*":
            hit = failing
        else:
            key = w.subject.casefold()
            hit = failing & ((out["subject_id"].str.casefold() == key) | (out["subject"].str.casefold() == key))
        if hit.any():
            out.loc[hit, "status"] = Status.WAIVED.value
            out.loc[hit, "waiver_owner"] = w.owner
            out.loc[hit, "waiver_reason"] = w.reason
            out.loc[hit, "waiver_expires"] = w.expires.isoformat()
    return out


def _decorate(meta: CheckMeta, data: AuditData, out: pd.DataFrame, keep_passes: bool) -> pd.DataFrame:
    if not keep_passes:
        passes = out["status"] == Status.PASS.value
        n = int(passes.sum())
        out = out.loc[~passes]
        if n:
            out = pd.concat([out, pd.DataFrame([{
                "subject_id": "*", "subject": f"({n} subjects)", "status": Status.PASS.value,
                "evidence": f"{n} subjects evaluated and passed", "confidence": Confidence.HIGH.value,
                "waiver_owner": "", "waiver_reason": "", "waiver_expires": "", "how_it_got_there": ""}])],
                ignore_index=True)
    return out.assign(check_id=meta.id, title=meta.title, severity=meta.severity.value,
                      subject_kind=meta.subject_kind.value, provider=data.provider, tenant_id=data.tenant_id)


def catalogue(registry: CheckRegistry) -> list[CheckMeta]:
    return [rc.meta for rc in registry.all()]


def counts_by(findings: pd.DataFrame, *cols: str) -> Mapping[tuple[str, ...], int]:
    return {tuple(map(str, k if isinstance(k, tuple) else (k,))): int(v)
            for k, v in findings.groupby(list(cols)).size().items()}
