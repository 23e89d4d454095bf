"""The auditor's vocabulary: statuses, severities, references, check metadata.

Everything here is a frozen value so a finding or a check's metadata cannot change after it is made.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Status(enum.StrEnum):
    """Outcome of one check for one subject.

    `unknown` is the answer whenever the data needed was not collected: an auditor that passes what it could
    not see is worse than none.
    """

    PASS = "pass"  # noqa: S105 - a check status, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"


class Severity(enum.StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse; used for sorting and the posture score."""
        return {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1}[self.value]


class Confidence(enum.StrEnum):
    """How sure a finding is: registration data without enforcement data is `medium`, inference is `low`."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Provider(enum.StrEnum):
    MICROSOFT = "microsoft"
    GOOGLE = "google"


# How a reader names each provider's product (labels in documentation and catalogues).
PROVIDER_LABELS = {Provider.MICROSOFT: "Microsoft 365", Provider.GOOGLE: "Google Workspace"}


class SubjectKind(enum.StrEnum):
    """What one finding row is about."""

    TENANT = "tenant"
    USER = "user"
    APP = "app"
    RULE = "rule"
    MAILBOX = "mailbox"
    POLICY = "policy"
    ROLE = "role"
    DOMAIN = "domain"  # a mail domain (SPF, DMARC, DKIM)


class Framework(enum.StrEnum):
    HIPAA = "HIPAA"  # HIPAA Security Rule, 45 CFR 164.3xx
    HPH_CPG = "HHS HPH CPG"  # HHS Healthcare and Public Health Cybersecurity Performance Goals
    CIS = "CIS"  # CIS Microsoft 365 / Google Workspace Foundations Benchmark
    SCUBA = "CISA SCuBA"  # CISA Secure Cloud Business Applications baselines
    ATTACK = "MITRE ATT&CK"


@dataclass(frozen=True)
class Reference:
    """A pointer into a framework: e.g. Reference(Framework.HIPAA, "164.312(d)", "Person or entity authentication")."""

    framework: Framework
    id: str
    title: str = ""

    def __str__(self) -> str:
        suffix = f" {self.title}" if self.title else ""
        return f"{self.framework.value} {self.id}{suffix}"


@dataclass(frozen=True)
class CheckMeta:
    """Metadata that sits beside each check function and is validated when the check is registered."""

    id: str
    title: str
    severity: Severity
    rationale: str  # the exfiltration path this check closes, in plain language
    # What to do, in plain words that hold for every provider the check covers (the action plan prints it).
    remediation: str
    references: tuple[Reference, ...]
    providers: frozenset[Provider]
    requires: tuple[str, ...]  # provider-neutral table names (idaudit.core.tables) the check reads
    subject_kind: SubjectKind
    family: str = ""  # authentication / accounts / mail / apps
    owner_role: str = "IT manager"  # who acts on it in the action plan
    uses_settings: tuple[str, ...] = field(default=())  # tenant_settings keys read (documentation)
    # Required tables the check only looks subjects up in: it lists its own population (every enabled member,
    # every privileged holder, every transport rule) and reads these tables for them. A subject one of them could
    # not collect still cannot pass (the engine turns the pass into unknown), but the engine adds no unknown row
    # for a missing subject the check did not list: it is outside the check's population (a disabled account for
    # an MFA check, a non-admin for an admin check, an inbox-rule owner for a transport-rule check).
    lookup_tables: tuple[str, ...] = field(default=())
    # What the logs can say about how a failing subject got there: mail_rule | mailbox_forwarding | consent | role
    # ('' none). The engine fills the findings' how_it_got_there column from it (idaudit.core.provenance).
    provenance: str = ""
    # Where and how on each provider: console path and command. A Microsoft tenant's action plan must not say
    # "Google: Admin console > ..." (issue 18): each provider's steps are kept apart and shown only to its tenants.
    steps: tuple[tuple[Provider, str], ...] = field(default=())

    def steps_for(self, provider: Provider | str) -> str:
        """The console path and command for one provider ('' when the check keeps them in `remediation`)."""
        wanted = str(provider)
        return next((text for p, text in self.steps if p.value == wanted), "")

    def fix_for(self, provider: Provider | str) -> str:
        """What to do and where, for this tenant's provider only: the remediation, then that provider's steps."""
        steps = self.steps_for(provider)
        return f"{self.remediation} {steps}" if steps else self.remediation

    def fix_for_all(self) -> str:
        """Every provider's steps, labelled: for the catalogue and documentation, never for one tenant's plan."""
        parts = [self.remediation, *(f"{PROVIDER_LABELS[p]}: {text}" for p, text in self.steps)]
        return " ".join(parts)
