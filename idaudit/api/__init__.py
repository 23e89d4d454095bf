"""The Python API for notebooks and scripts: load or collect a snapshot, audit it, ask the typical questions.

    import idaudit
    audit = idaudit.load("snapshot-dir")
    audit.no_mfa()                 # who has no MFA
    audit.not_enforced()           # who is not covered by MFA enforcement, and why
    audit.external_forwarding()    # which rules forward outside
    audit.apps_reading_mail()      # which apps can read mail
    audit.failing(severity="high")
    audit.write_workbook("review.xlsx")

Everything heavy is lazy: `import idaudit` imports nothing beyond the package; normalising and running the checks
happen on first use of an `Audit`; msal / msgraph-sdk / the Google client load only inside `collect_microsoft` /
`collect_google`. Documented in docs/api.md.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from checks import builtin_checks
from idaudit.api import answers
from idaudit.core.config import Config, load_config
from idaudit.core.engine import AuditRun, CheckRegistry, CheckSettings, run_checks
from idaudit.core.engine import catalogue as _catalogue
from idaudit.core.errors import DataUnavailable
from idaudit.core.model import Severity, Status
from idaudit.core.normalise import normalise
from idaudit.core.sections import section_spec, sections_for
from idaudit.core.snapshot import Snapshot, load_snapshot
from idaudit.core.tables import AuditData
from idaudit.orchestration.collecting import (
    collect_google,
    collect_microsoft,
    device_code_html,
    show_device_code,
)
from reports import write_reports

__all__ = [
    "Audit",
    "DataNotCollected",
    "IncompleteDataWarning",
    "audit_snapshot",
    "catalogue",
    "collect_google",
    "collect_microsoft",
    "device_code_html",
    "load",
    "show_device_code",
]

DataNotCollected = answers.DataNotCollected
IncompleteDataWarning = answers.IncompleteDataWarning

PathLike = str | os.PathLike[str]
ConfigLike = Config | PathLike | None

STATUS_ORDER: tuple[str, ...] = tuple(s.value for s in (Status.FAIL, Status.UNKNOWN, Status.WAIVED, Status.PASS,
                                                        Status.NOT_APPLICABLE))
NOT_COLLECTED = "not collected"
SEVERITY_RANK: dict[str, int] = {s.value: s.rank for s in Severity}
SEVERITY_ORDER: tuple[str, ...] = tuple(s.value for s in sorted(Severity, key=lambda s: -s.rank))


def _config(config: ConfigLike) -> Config:
    if config is None or isinstance(config, Config):
        return config or Config(path=None)
    return load_config(config)


def _text(value: object) -> str:
    """Plain-text display of untrusted names: no escape sequences or bidi controls reach a terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(value))


class Audit:
    """One audit of one tenant's snapshot: the normalised tables, the findings, and the typical questions.

    Built by `load` / `audit_snapshot` (from a snapshot) or `Audit.from_data` (from tables already normalised).
    Normalising and running the checks happen once, on first use. DataFrames returned are the caller's to
    change: the audit keeps its own copy.
    """

    def __init__(self, *, snapshot: Snapshot | None = None, data: AuditData | None = None,
                 config: Config | None = None, only: Iterable[str] | None = None,
                 registry: CheckRegistry | None = None) -> None:
        if snapshot is None and data is None:
            raise ValueError("an Audit needs a snapshot or normalised data")
        self._snapshot = snapshot
        self._config = config or Config(path=None)
        self._only = tuple(only) if only is not None else None
        self._registry = registry
        if data is not None:
            self.__dict__["data"] = data

    @classmethod
    def from_data(cls, data: AuditData, config: ConfigLike = None, only: Iterable[str] | None = None,
                  registry: CheckRegistry | None = None) -> Audit:
        """An audit of tables already normalised (built by hand, or from another source). `registry` runs your
        own checks (idaudit.core.engine.check with registry=...) instead of the built-in ones."""
        return cls(data=data, config=_config(config), only=only, registry=registry)

    # -- what was audited ------------------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self._config

    @property
    def settings(self) -> CheckSettings:
        return self._config.settings

    @property
    def snapshot_path(self) -> Path | None:
        return self._snapshot.path if self._snapshot is not None else None

    @cached_property
    def data(self) -> AuditData:
        """The provider-neutral tables (idaudit.core.tables), normalised from the snapshot on first use."""
        assert self._snapshot is not None
        return normalise(self._snapshot)

    @cached_property
    def run(self) -> AuditRun:
        """The check run: findings plus context (what reports.write_reports takes)."""
        registry = self._registry or builtin_checks()
        unknown = sorted(set(self._only or ()) - set(registry.checks))
        if unknown:  # running nothing would look like a clean tenant
            raise ValueError(f"unknown check id(s) {', '.join(unknown)}; see idaudit.catalogue()")
        return run_checks(self.data, self._config.settings, self._config.waivers, only=self._only,
                          registry=registry)

    @property
    def provider(self) -> str:
        return self.data.provider

    @property
    def tenant_id(self) -> str:
        return self.data.tenant_id

    @property
    def tenant_name(self) -> str:
        return self.data.tenant_name

    @property
    def collected_at(self) -> pd.Timestamp:
        return self.data.collected_at

    def rerun(self, only: Iterable[str] | None = None, config: ConfigLike = None) -> Audit:
        """The same normalised data checked again: some checks only, or other thresholds and waivers."""
        cfg = _config(config) if config is not None else self._config
        return Audit(snapshot=self._snapshot, data=self.data, config=cfg, only=only, registry=self._registry)

    # -- findings --------------------------------------------------------------------------------------------
    @property
    def findings(self) -> pd.DataFrame:
        """Every finding, all statuses (fail, unknown, waived, pass, not_applicable): one row per check and
        subject, columns as idaudit.core.engine.FINDING_COLUMNS."""
        return self.run.findings.copy(deep=False)

    def failing(self, severity: str | Severity | None = None, *, family: str | None = None,
                check: str | None = None) -> pd.DataFrame:
        """Failing findings, worst first. `severity` keeps that severity and worse ("high" = high and critical);
        `family` (authentication, accounts, mail, apps) and `check` (an id, or words of a title) narrow it."""
        return self._select(Status.FAIL, severity, family, check)

    def unknown(self, *, family: str | None = None, check: str | None = None) -> pd.DataFrame:
        """What could not be evaluated, with the reason: the data gaps of this run."""
        return self._select(Status.UNKNOWN, None, family, check)

    def findings_for(self, subject: str) -> pd.DataFrame:
        """Every finding about one subject, any status, worst first. For a user (principal or id, any case) that
        includes the findings about their rules and mailbox; otherwise an app, rule or policy by id or name."""
        if not subject.strip():
            raise ValueError("findings_for needs a subject: a principal, an id or a name")
        f = self.run.findings
        key = subject.casefold()
        ids = {key}
        if self.data.available("users"):
            users = self.data.tables["users"]
            hit = (users["principal"].str.casefold() == key) | (users["user_id"].str.casefold() == key)
            ids |= set(users.loc[hit, "user_id"].str.casefold())
        sid, subj = f["subject_id"].str.casefold(), f["subject"].str.casefold()
        about = sid.isin(ids) | (subj == key)
        for uid in ids:  # rule findings are "<user id>:<rule id>" / "<principal>: rule '...'"
            about |= sid.str.startswith(uid + ":")
        about |= subj.str.startswith(key + ": ")
        found = self._sorted(f[about])
        status_rank = found["status"].map({s: i for i, s in enumerate(STATUS_ORDER)})
        return (found.assign(_s=status_rank).sort_values("_s", kind="stable").drop(columns="_s")
                .reset_index(drop=True))

    def _select(self, status: Status, severity: str | Severity | None, family: str | None,
                check: str | None) -> pd.DataFrame:
        f = self.run.findings
        keep = f["status"] == status.value
        if severity is not None:
            floor = Severity(str(severity).lower()).rank
            keep &= f["severity"].map(SEVERITY_RANK).fillna(0) >= floor
        if family is not None:
            ids = {m.id for m in self.run.checks if m.family.casefold() == family.casefold()
                   or m.id.split("-")[1].casefold() == family.casefold()}
            keep &= f["check_id"].isin(ids)
        if check is not None:
            keep &= f["check_id"].isin(self._check_ids(check))
        return self._sorted(f[keep])

    def _check_ids(self, check: str) -> set[str]:
        """A check named by id (IDA-MAIL-001) or by words of its title ("forward")."""
        wanted = check.casefold()
        ids = {m.id for m in self.run.checks if m.id.casefold() == wanted}
        return ids or {m.id for m in self.run.checks if wanted in m.title.casefold()}

    @staticmethod
    def _sorted(f: pd.DataFrame) -> pd.DataFrame:
        rank = f["severity"].map(SEVERITY_RANK).fillna(0)
        return (f.assign(_rank=rank).sort_values(["_rank", "check_id", "subject"], ascending=[False, True, True])
                .drop(columns="_rank").reset_index(drop=True))

    @property
    def checks(self) -> pd.DataFrame:
        """The checks of this run, one row each, with the check-level outcome and counts per status."""
        f = self.run.findings
        counts = (f.groupby(["check_id", "status"]).size().unstack("status", fill_value=0)
                  .reindex(columns=list(STATUS_ORDER), fill_value=0))
        per_check: dict[Any, dict[Any, Any]] = counts.to_dict("index")
        rows = []
        for m in self.run.checks:
            c = {s: int(per_check.get(m.id, {}).get(s, 0)) for s in STATUS_ORDER}
            outcome = ("fail" if c["fail"] else "unknown" if c["unknown"] else
                       "pass" if c["pass"] + c["waived"] else "not_applicable")
            rows.append({"check_id": m.id, "title": m.title, "severity": m.severity.value, "family": m.family,
                         "outcome": outcome, **c})
        return pd.DataFrame(rows, columns=["check_id", "title", "severity", "family", "outcome",
                                           *STATUS_ORDER])

    def summary(self) -> dict[str, int]:
        """Finding counts by status (every status present, zero when none)."""
        vc = self.run.findings["status"].value_counts()
        return {s: int(vc.get(s, 0)) for s in STATUS_ORDER}

    def counts(self) -> pd.DataFrame:
        """Finding counts by severity (rows, worst first) and status (columns)."""
        f = self.run.findings
        table = pd.crosstab(f["severity"], f["status"]) if not f.empty else pd.DataFrame()
        return table.reindex(index=list(SEVERITY_ORDER), columns=list(STATUS_ORDER), fill_value=0).astype(int)

    # -- the normalised tables -------------------------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame:
        """Any provider-neutral table by name (idaudit.core.tables.SCHEMAS); DataNotCollected when it was not."""
        try:
            return self.data.table(name).copy(deep=False)
        except DataUnavailable as exc:
            raise DataNotCollected(f"table {name}", name, exc.reason) from None

    def _people_table(self, name: str) -> pd.DataFrame:
        return answers.with_people(self.data, self.table(name))

    @property
    def users(self) -> pd.DataFrame:
        """One row per account: enabled, guest or member, created, last sign-in, mailbox kind."""
        return self.table("users")

    @property
    def mfa(self) -> pd.DataFrame:
        """MFA registration per user: registered, strongest method (none / weak / standard / phishing_resistant)."""
        return self._people_table("mfa_registration")

    @property
    def enforcement(self) -> pd.DataFrame:
        """Per enabled user: is MFA actually required on sign-in (yes / no / unknown), by what, and why not."""
        return self._people_table("mfa_enforcement")

    @property
    def roles(self) -> pd.DataFrame:
        return self._people_table("role_assignments")

    @property
    def rules(self) -> pd.DataFrame:
        """Every inbox rule / Gmail filter / transport rule, forwarding or not."""
        return self._people_table("mail_rules")

    @property
    def forwarding(self) -> pd.DataFrame:
        """Every way a user's mail is sent elsewhere, inside or outside (see external_forwarding())."""
        return self._people_table("forwarding")

    @property
    def apps(self) -> pd.DataFrame:
        """OAuth grants: one row per (app, grant, scope), delegated and application permissions."""
        return self.table("oauth_grants")

    @property
    def domains(self) -> pd.DataFrame:
        return self.table("domains")

    @property
    def tenant_settings(self) -> pd.DataFrame:
        return self.table("tenant_settings")

    @property
    def coverage(self) -> pd.DataFrame:
        """What was collected: one row per section the provider offers, with its status, and for a gap the
        permission or licence that would close it. A section absent from the snapshot is `not collected`."""
        manifest = self.data.manifest if self._snapshot is None else self._snapshot.manifest
        rows = []
        listed = manifest.sections if manifest is not None else {}
        names = [s.name for s in sections_for(self.provider)]
        names += [n for n in listed if n not in names]
        for name in names:
            spec = section_spec(self.provider, name)
            rec = listed.get(name)
            status = rec.status.value if rec is not None else NOT_COLLECTED
            rows.append({
                "section": name, "status": status, "count": rec.count if rec is not None else 0,
                "subjects_failed": len(rec.failed_subjects) if rec is not None else 0,
                "detail": rec.detail if rec is not None else "the snapshot has no record of this section",
                "fix": spec.fix if spec is not None and status != "ok" else "",
                "purpose": spec.purpose if spec is not None else "",
            })
        out = pd.DataFrame(rows, columns=["section", "status", "count", "subjects_failed", "detail", "fix",
                                          "purpose"])
        return out.astype({"section": "str", "status": "str", "detail": "str", "fix": "str", "purpose": "str"})

    # -- the typical questions -------------------------------------------------------------------------------
    def no_mfa(self, *, include_disabled: bool = False) -> pd.DataFrame:
        """Who has no MFA method registered (`mfa` none), or whose registration was not collected (unknown)."""
        return answers.no_mfa(self.data, self.settings, include_disabled=include_disabled)

    def not_enforced(self) -> pd.DataFrame:
        """Who is not covered by MFA enforcement (`enforced` no or unknown), and the reason."""
        return answers.not_enforced(self.data, self.settings)

    def external_forwarding(self) -> pd.DataFrame:
        """Which rules and mailbox settings forward mail outside the organisation."""
        return answers.external_forwarding(self.data, self.settings)

    def apps_reading_mail(self) -> pd.DataFrame:
        """Which apps can read mail, for how many users, and whether for every mailbox."""
        return answers.apps_reading_mail(self.data, self.settings)

    # -- outputs ---------------------------------------------------------------------------------------------
    def write_reports(self, out_dir: PathLike, formats: Sequence[str] = ("xlsx",), *,
                      basename: str = "idaudit-report", previous: Audit | None = None,
                      pseudonymize_key: bytes | None = None) -> list[Path]:
        """Write the reports (xlsx, html, csv, json) into `out_dir`, owner-only and atomically; return the paths.

        `previous` (an earlier Audit of the same tenant) fills the workbook's Changes sheet; `pseudonymize_key`
        replaces staff names with stable keyed pseudonyms (reports.pseudonym.load_or_create_key makes one).
        """
        paths = write_reports(self.run, Path(out_dir), list(formats), basename=basename,
                              previous=previous.run if previous is not None else None,
                              pseudonymize_key=pseudonymize_key)
        return [Path(p) for p in paths]

    def write_workbook(self, path: PathLike = "idaudit-report.xlsx", *, previous: Audit | None = None,
                       pseudonymize_key: bytes | None = None) -> Path:
        """Write the vCISO workbook to `path` (an .xlsx file name, or a directory to hold idaudit-report.xlsx)."""
        target = Path(path)
        if target.suffix.lower() != ".xlsx":
            target = target / "idaudit-report.xlsx"
        (written,) = self.write_reports(target.parent, ("xlsx",), basename=target.stem, previous=previous,
                                        pseudonymize_key=pseudonymize_key)
        return written

    # -- display ---------------------------------------------------------------------------------------------
    def _title(self) -> str:
        return self.tenant_name or self.tenant_id

    def __repr__(self) -> str:
        if "run" not in self.__dict__:
            where = f" from {self.snapshot_path}" if self.snapshot_path else ""
            return f"<idaudit.Audit{_text(where)} (not evaluated yet)>"
        counts = ", ".join(f"{k} {v}" for k, v in self.summary().items() if v)
        return (f"<idaudit.Audit {_text(self._title())} ({self.provider}), {len(self.run.checks)} checks: "
                f"{counts}>")

    def _repr_html_(self) -> str:
        """Compact notebook summary: counts by severity and status, and the collection gaps. Every name is
        escaped: display names, rule names and app names are chosen by whoever created them, attackers too."""
        e = html.escape
        counts = self.counts()
        head = "".join(f"<th>{e(s)}</th>" for s in counts.columns)
        body = "".join(
            f"<tr><th style='text-align:left'>{e(str(sev))}</th>"
            + "".join(f"<td>{int(counts.loc[sev, s])}</td>" for s in counts.columns) + "</tr>"
            for sev in counts.index)
        coverage = self.coverage
        absent = int((coverage["status"] == NOT_COLLECTED).sum())
        gaps = coverage[~coverage["status"].isin(["ok", NOT_COLLECTED]) | (coverage["subjects_failed"] > 0)]
        if gaps.empty:
            gap_html = "<p>Every section in the snapshot was collected in full.</p>"
        else:
            items = "".join(
                f"<li><code>{e(str(r['section']))}</code>: {e(str(r['status']))}"
                + (f", {int(r['subjects_failed'])} subject(s) failed" if r["subjects_failed"] else "")
                + (f" — {e(str(r['fix']))}" if r["fix"] else "") + "</li>" for r in gaps.to_dict("records"))
            gap_html = (f"<p>Collection gaps ({len(gaps)} section(s)); the checks that need them are unknown, "
                        f"never passed:</p><ul>{items}</ul>")
        if absent:
            gap_html += (f"<p>{absent} section(s) are not in this snapshot (a fallback is skipped when its primary "
                         f"worked); see <code>audit.coverage</code>.</p>")
        when = pd.Timestamp(self.collected_at).strftime("%Y-%m-%d %H:%M UTC")
        return (
            "<div class='idaudit-audit'>"
            f"<h4>idaudit — {e(self._title())} ({e(self.provider)})</h4>"
            f"<p>Collected {e(when)}; {len(self.run.checks)} checks, {len(self.run.findings)} findings.</p>"
            f"<table><thead><tr><th>severity</th>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"{gap_html}</div>"
        )


# -- entry points -----------------------------------------------------------------------------------------------
def audit_snapshot(snapshot: Snapshot | PathLike, config: ConfigLike = None,
                   only: Iterable[str] | None = None) -> Audit:
    """Audit a snapshot (directory or loaded Snapshot) with a config (TOML path or Config: thresholds, trusted
    domains, waivers). `only` runs some checks (ids). The snapshot is validated now; normalising and checking
    happen on first use. Raises SnapshotError / ConfigError naming the file and field."""
    snap = snapshot if isinstance(snapshot, Snapshot) else load_snapshot(snapshot)
    return Audit(snapshot=snap, config=_config(config), only=only)


def load(snapshot: Snapshot | PathLike, config: ConfigLike = None, only: Iterable[str] | None = None) -> Audit:
    """`idaudit.load("snapshot-dir")`: the one-line start of a notebook review (same as audit_snapshot)."""
    return audit_snapshot(snapshot, config, only)


def catalogue() -> pd.DataFrame:
    """Every built-in check: id, title, severity, family, providers, the tables it needs, references."""
    metas = _catalogue(builtin_checks())
    return pd.DataFrame([{
        "check_id": m.id, "title": m.title, "severity": m.severity.value, "family": m.family,
        "providers": ", ".join(sorted(p.value for p in m.providers)), "requires": ", ".join(m.requires),
        "references": "; ".join(str(r) for r in m.references), "rationale": m.rationale,
        "remediation": m.fix_for_all(),
    } for m in metas], columns=["check_id", "title", "severity", "family", "providers", "requires",
                                "references", "rationale", "remediation"])
