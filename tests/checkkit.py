"""A small builder of `AuditData` for check tests: hand-made rows per table, each table ok / partial / missing.

Checks read only the provider-neutral tables, so their tests build those tables directly (via the real
`make_table`, so dtypes are exactly what the normalisers produce) and run the checks through the real engine.

    data = (Tenant().domains("clinic.org")
            .user("u1", "ann@clinic.org")
            .add("forwarding", user_id="u1", mechanism="inbox_rule_forward", recipient="x@gmail.com")
            .build())
    assert status(run(data, "IDA-MAIL-001"), "u1:r1") == "fail"
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

import checks  # noqa: F401  (registers the catalogue)
from checks import CATALOGUE as REGISTRY
from idaudit.core.engine import CheckSettings, run_checks
from idaudit.core.sections import sections_for
from idaudit.core.snapshot import Manifest, SectionRecord, SectionStatus
from idaudit.core.tables import SCHEMAS, AuditData, TableStatus, make_table

COLLECTED = "2026-11-28T12:00:00Z"

USER_DEFAULTS: dict[str, Any] = {
    "enabled": True, "user_type": "member", "created_at": "2024-01-01T00:00:00Z",
    "last_sign_in": "2026-11-20T08:00:00Z", "sign_in_known": True, "on_premises_synced": False,
    "licensed": True, "mailbox": "user", "org_unit": "/",
}


class Tenant:
    """Fluent builder; every method returns self. Tables never mentioned are present and empty (status ok)."""

    def __init__(self, provider: str = "microsoft", collected_at: str = COLLECTED) -> None:
        self.provider = provider
        self.collected_at = pd.Timestamp(collected_at)
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}
        self.status: dict[str, TableStatus] = {}
        self.gaps: dict[str, str] = {}
        self.sections: dict[str, SectionRecord] | None = None

    # -- rows --------------------------------------------------------------------------------------------
    def add(self, table: str, **row: Any) -> Tenant:
        if table not in SCHEMAS:
            raise KeyError(f"unknown table {table!r}")
        unknown = set(row) - set(SCHEMAS[table].columns)
        if unknown:
            raise KeyError(f"{table} has no columns {sorted(unknown)}")
        self.rows[table].append(row)
        return self

    def user(self, user_id: str, principal: str | None = None, **fields: Any) -> Tenant:
        row = {**USER_DEFAULTS, "user_id": user_id, "principal": principal or f"{user_id}@clinic.org",
               "display_name": user_id.title(), "mail": principal or f"{user_id}@clinic.org", **fields}
        return self.add("users", **row)

    def mfa(self, user_id: str, *methods: str, strongest: str | None = None, registered: bool | None = None,
            source: str = "userRegistrationDetails") -> Tenant:
        from idaudit.core.methods import strongest as best

        return self.add("mfa_registration", user_id=user_id,
                        registered=bool(methods) if registered is None else registered,
                        strongest=strongest or best(list(methods)), methods="; ".join(methods), source=source)

    def enforcement(self, user_id: str, enforced: str, *, by: str = "", strength: str = "mfa", reason: str = "",
                    phishing_resistant: str = "no", legacy: str = "", legacy_detail: str = "") -> Tenant:
        return self.add("mfa_enforcement", user_id=user_id, enforced=enforced, enforced_by=by, strength=strength,
                        reason=reason, phishing_resistant=phishing_resistant, legacy_blocked=legacy,
                        legacy_detail=legacy_detail)

    def role(self, user_id: str, role_name: str = "Global Administrator",
             role_id: str = "62e90394-69f5-4237-9190-012177145e10", privileged: bool | None = True,
             assignment: str = "active", via_group: str = "") -> Tenant:
        return self.add("role_assignments", user_id=user_id, role_id=role_id, role_name=role_name,
                        privileged=privileged, assignment=assignment, via_group=via_group, scope="/")

    def domains(self, *names: str, unverified: tuple[str, ...] = ()) -> Tenant:
        for i, name in enumerate(names):
            self.add("domains", domain=name, verified=True, default=i == 0)
        for name in unverified:
            self.add("domains", domain=name, verified=False, default=False)
        return self

    def forward(self, user_id: str, recipient: str, *, mechanism: str = "inbox_rule_forward",
                rule_id: str = "r1", rule_name: str = "Fwd", enabled: bool | None = True,
                recipient_domain: str | None = None, keeps_copy: bool | None = None) -> Tenant:
        domain = recipient_domain if recipient_domain is not None else \
            (recipient.rsplit("@", 1)[1].lower() if "@" in recipient else "")
        return self.add("forwarding", user_id=user_id, mechanism=mechanism, rule_id=rule_id, rule_name=rule_name,
                        enabled=enabled, recipient=recipient, recipient_domain=domain, keeps_copy=keeps_copy)

    def rule(self, user_id: str, rule_id: str, rule_name: str, *, hide_action: str = "", conditions: str = "",
             forwards: bool = False, enabled: bool | None = True, source: str = "inbox_rule") -> Tenant:
        return self.add("mail_rules", user_id=user_id, rule_id=rule_id, rule_name=rule_name, enabled=enabled,
                        source=source, actions=hide_action, conditions=conditions, forwards=forwards,
                        hides_mail=bool(hide_action), hide_action=hide_action)

    def grant(self, app_id: str, scope: str, *, app_name: str = "", publisher: str = "Contoso",
              verified: bool | None = False, owner: str = "third_party", kind: str = "delegated",
              consent: str = "single_user", user_id: str = "", grant_id: str | None = None,
              resource: str = "Microsoft Graph") -> Tenant:
        return self.add("oauth_grants", grant_id=grant_id or f"g-{app_id}-{user_id or consent}", app_id=app_id,
                        app_name=app_name or app_id, publisher=publisher, publisher_verified=verified,
                        app_owner=owner, grant_kind=kind, consent_scope=consent, user_id=user_id,
                        resource=resource, scope=scope)

    def setting(self, key: str, value: str, source: str = "test") -> Tenant:
        return self.add("tenant_settings", setting=key, value=value, source=source)

    # -- availability ------------------------------------------------------------------------------------
    def missing(self, table: str, reason: str = "section forbidden: grant the permission") -> Tenant:
        self.status[table] = TableStatus.missing(reason, table)
        return self

    def partial(self, table: str, **missing_subjects: str) -> Tenant:
        self.status[table] = TableStatus("partial", reason="some subjects not collected", sections=(table,),
                                         missing_subjects=missing_subjects)
        return self

    def setting_gap(self, key: str, reason: str) -> Tenant:
        self.gaps[key] = reason
        return self

    def section(self, name: str, status: str = "ok", detail: str = "") -> Tenant:
        """Declare a raw section's manifest status (the manifest then lists every section of the provider)."""
        if self.sections is None:
            self.sections = {s.name: SectionRecord(s.name, SectionStatus.OK, f"{s.name}.json")
                             for s in sections_for(self.provider)}
        self.sections[name] = SectionRecord(name, SectionStatus(status), None, 0, detail)
        return self

    def build(self) -> AuditData:
        tables = {name: make_table(name, rows) for name, rows in self.rows.items()}
        status = {name: self.status.get(name, TableStatus.ok(name)) for name in SCHEMAS}
        manifest = None
        if self.sections is not None:
            manifest = Manifest(provider=self.provider, tenant_id="t-1", tenant_name="Clinic",
                                collected_at=self.collected_at.to_pydatetime().astimezone(UTC),
                                sections=dict(self.sections))
        return AuditData(provider=self.provider, tenant_id="t-1", tenant_name="Clinic",
                         collected_at=self.collected_at, tables=tables, status=status, setting_gaps=dict(self.gaps),
                         manifest=manifest)


def run(data: AuditData, check_id: str, settings: CheckSettings | None = None) -> pd.DataFrame:
    """Findings of one check through the real engine (unknown / partial / waiver handling included)."""
    settings = settings or CheckSettings(now=datetime(2026, 11, 28, 12, tzinfo=UTC))
    return run_checks(data, settings, only=[check_id], registry=REGISTRY).findings


def row(findings: pd.DataFrame, subject_id: str) -> pd.Series:
    hit = findings[findings["subject_id"] == subject_id]
    assert len(hit) == 1, f"expected one row for {subject_id!r}, got:\n{findings[['subject_id', 'status']]}"
    return hit.iloc[0]


def status(findings: pd.DataFrame, subject_id: str) -> str:
    return str(row(findings, subject_id)["status"])


class Case:
    """One expected outcome of one check: build the data, run the check, expect `expect` for `subject`."""

    def __init__(self, check_id: str, expect: str, build: Any, subject: str = "tenant", evidence: str = "",
                 settings: CheckSettings | None = None, confidence: str | None = None, name: str = "") -> None:
        self.check_id, self.expect, self.build, self.subject = check_id, expect, build, subject
        self.evidence, self.settings, self.confidence = evidence, settings, confidence
        self.name = name or f"{check_id}-{expect}-{subject}"

    def verify(self) -> pd.Series:
        findings = run(self.build(), self.check_id, self.settings)
        got = row(findings, self.subject)
        assert got["status"] == self.expect, f"{self.name}: {got['status']} ({got['evidence']})"
        assert self.evidence.casefold() in str(got["evidence"]).casefold(), \
            f"{self.name}: evidence {got['evidence']!r} lacks {self.evidence!r}"
        if self.confidence:
            assert got["confidence"] == self.confidence, f"{self.name}: confidence {got['confidence']}"
        return got


def cases_param(cases: list[Case]) -> Any:
    import pytest

    return pytest.mark.parametrize("case", cases, ids=[c.name for c in cases])
