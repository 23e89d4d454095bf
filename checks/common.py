"""Shared vocabulary of the checks: inside vs outside, risky scopes, privileged people, labels, result rows.

Everything here is pure: it reads `AuditData` tables and `CheckSettings`, never the network or a global that
changes. A helper that cannot decide (no verified domains, a recipient without an address) says so with
`unknown` or DataUnavailable, never by guessing "inside".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from checks.hiding_words import HIDING_WORDS
from idaudit.core import scopes
from idaudit.core.engine import CheckSettings
from idaudit.core.errors import DataUnavailable
from idaudit.core.model import Confidence, Framework, Reference, Status
from idaudit.core.tables import AuditData, Availability

PASS = Status.PASS.value
FAIL = Status.FAIL.value
UNKNOWN = Status.UNKNOWN.value
NOT_APPLICABLE = Status.NOT_APPLICABLE.value
HIGH = Confidence.HIGH.value
MEDIUM = Confidence.MEDIUM.value
LOW = Confidence.LOW.value

INSIDE = "inside"
OUTSIDE = "outside"
UNDECIDED = "unknown"

# Risky OAuth scopes and application permissions: one catalogue with its sources (idaudit.core.scopes), shared with
# the notebook answers and the workbook. Keys are case-folded; values say what the scope exposes, for evidence.
RISKY_SCOPES: Mapping[str, str] = scopes.RISKY_SCOPES
TENANT_WIDE_APP_SCOPES: frozenset[str] = scopes.TENANT_WIDE_APP_SCOPES

GLOBAL_ADMIN_ROLE_IDS: frozenset[str] = frozenset({
    "62e90394-69f5-4237-9190-012177145e10",  # Entra ID Global Administrator (template id)
})
GLOBAL_ADMIN_ROLE_NAMES: frozenset[str] = frozenset({
    "global administrator", "company administrator",  # Entra ID (the second is the legacy name)
    "super admin", "_seed_admin_role",  # Google Workspace super admin (display name / system role name)
})

# Folders where hidden mail is never looked at (attackers' favourites first).
HIDING_FOLDERS: tuple[str, ...] = ("rss feeds", "rss subscriptions", "conversation history", "archive",
                                   "deleted items", "junk email", "junk e-mail", "junk", "trash", "spam")


def ref(framework: Framework, id_: str, title: str = "") -> Reference:
    return Reference(framework, id_, title)


def evaluation_time(data: AuditData, settings: CheckSettings) -> pd.Timestamp:
    """The moment staleness is measured from, always timezone-aware UTC (tables hold UTC timestamps)."""
    now = settings.evaluation_time(data)
    return now.tz_localize("UTC") if now.tzinfo is None else now.tz_convert("UTC")


# -------------------------------------------------------------------------------------------------- domains --

def _clean_domain(domain: str) -> str:
    return domain.strip().strip(".").casefold()


@dataclass(frozen=True)
class InsideDomains:
    """Where a recipient domain is inside the organisation.

    `verified`: the tenant's verified (accepted) domains, matched exactly — a subdomain is inside only when it is
    itself verified, because Exchange Online routes a subdomain that is not an accepted domain by its own MX
    (Set-AcceptedDomain MatchSubDomains defaults to off) and Google Workspace delivers only to domains added to
    the account. `trusted`: configured partner domains (`audit.trusted_domains`), matched with their subdomains:
    the partner's own DNS names are the partner's.
    """

    verified: frozenset[str]
    trusted: frozenset[str] = frozenset()

    def place(self, domain: str) -> str:
        return classify_domain(domain, self.verified, self.trusted)

    def is_partner(self, domain: str) -> bool:
        """Inside only because of the trusted-partner list."""
        d = _clean_domain(domain)
        return d not in self.verified and classify_domain(d, frozenset(), self.trusted) == INSIDE


def inside_domains(data: AuditData, settings: CheckSettings) -> InsideDomains:
    """Verified domains of the tenant and configured trusted partner domains (case-folded).

    Raises DataUnavailable when no verified domain was collected: without them every recipient would look
    outside (noise) or inside (a false pass), so the check must say `unknown`.
    """
    domains = data.table("domains")
    verified = domains.loc[domains["verified"].fillna(False).astype(bool), "domain"]
    found = frozenset(_clean_domain(d) for d in verified if str(d).strip())
    if not found:
        raise DataUnavailable("no verified domain was collected, so inside and outside recipients cannot be told "
                              "apart (domains section empty or unreadable)")
    return InsideDomains(found, frozenset(_clean_domain(d) for d in settings.trusted_domains if str(d).strip()))


def recipient_domain(recipient: str, given_domain: str = "") -> str:
    """The domain part of a recipient address ('' when the recipient has no SMTP address at all)."""
    if given_domain.strip():
        return _clean_domain(given_domain)
    value = recipient.strip()
    if value.casefold().startswith("smtp:"):
        value = value[5:]
    value = value.strip("<> ")
    if value.count("@") != 1:
        return ""
    local, _, domain = value.partition("@")
    return _clean_domain(domain) if local and domain else ""


def classify_domain(domain: str, verified: frozenset[str], trusted: frozenset[str] = frozenset()) -> str:
    """inside / outside / unknown.

    A verified domain counts only as itself ('mail.clinic.org' is outside unless it is verified too); a trusted
    partner domain counts with its subdomains. 'evilcontoso.com' is never a subdomain of 'contoso.com'.
    """
    d = _clean_domain(domain)
    if not d or "." not in d:
        return UNDECIDED
    if d in verified:
        return INSIDE
    for t in trusted:
        if d == t or d.endswith("." + t):
            return INSIDE
    return OUTSIDE


def classify_recipients(recipients: pd.Series, domains: pd.Series, inside: InsideDomains) -> pd.Series:
    """Vectorised `classify_domain` over (recipient, recipient_domain) columns; unique values computed once."""
    if recipients.empty:
        return pd.Series([], dtype="str", index=recipients.index)
    doms = [recipient_domain(r, d) for r, d in zip(recipients.astype(str), domains.astype(str), strict=True)]
    cache: dict[str, str] = {}
    out = []
    for d in doms:
        if d not in cache:
            cache[d] = inside.place(d)
        out.append(cache[d])
    return pd.Series(out, index=recipients.index, dtype="str")


def partner_recipients(recipients: pd.Series, domains: pd.Series, inside: InsideDomains) -> pd.Series:
    """True where a recipient is inside only because its domain is a trusted partner's."""
    if recipients.empty:
        return pd.Series([], dtype=bool, index=recipients.index)
    doms = [recipient_domain(r, d) for r, d in zip(recipients.astype(str), domains.astype(str), strict=True)]
    return pd.Series([inside.is_partner(d) if d else False for d in doms], index=recipients.index, dtype=bool)


# ---------------------------------------------------------------------------------------------------- people --

def label_users(user_ids: pd.Series, labels: dict[str, str]) -> pd.Series:
    """Readable names for a column of user ids; an id without a name (or no users table at all) stays the id."""
    named = user_ids.map(labels) if labels else pd.Series(pd.NA, index=user_ids.index, dtype="object")
    return named.astype("object").fillna(user_ids).astype(str)


def enabled_mask(users: pd.DataFrame) -> pd.Series:
    """Accounts that can sign in. An unknown enabled flag counts as enabled: assuming 'disabled' would hide it."""
    return users["enabled"].fillna(True).astype(bool)


def is_guest(users: pd.DataFrame) -> pd.Series:
    return users["user_type"].str.casefold() == "guest"


def is_break_glass(users: pd.DataFrame, settings: CheckSettings) -> pd.Series:
    if not settings.break_glass:
        return pd.Series(False, index=users.index)
    keys = {b.casefold() for b in settings.break_glass}
    return users["principal"].str.casefold().isin(keys) | users["mail"].str.casefold().isin(keys) \
        | users["user_id"].str.casefold().isin(keys)


@dataclass(frozen=True)
class PrivilegedSet:
    """Who holds a privileged role, and a readable summary of how (active/eligible, direct/through a group)."""

    # user_id, roles (summary text), active (bool), eligible (bool), global_admin (bool), certain (bool: at least
    # one of the roles is known to be privileged; False: every one is a role whose privilege level was not collected)
    holders: pd.DataFrame

    @property
    def user_ids(self) -> set[str]:
        return set(self.holders["user_id"])


def _route(row: Any) -> str:
    parts = [str(row.role_name) or str(row.role_id)]
    extra = []
    if str(row.assignment).casefold() == "eligible":
        extra.append("PIM-eligible")
    if str(row.via_group):
        extra.append(f"through group '{row.via_group}'")
    if pd.isna(row.privileged):
        extra.append("privilege level not collected")
    return parts[0] + (f" ({', '.join(extra)})" if extra else "")


def is_global_admin_role(roles: pd.DataFrame) -> pd.Series:
    return roles["role_id"].str.casefold().isin(GLOBAL_ADMIN_ROLE_IDS) \
        | roles["role_name"].str.casefold().isin(GLOBAL_ADMIN_ROLE_NAMES)


def privileged_set(data: AuditData) -> PrivilegedSet:
    """Users holding a privileged role, active or PIM-eligible, directly or through a group.

    A role whose privileged flag was not collected counts as a candidate (with the gap named in the summary):
    leaving its holder out would silently drop them from every privileged-user check; a check that would fail
    such a holder reports unknown instead (`unsure_privilege`).
    """
    roles = data.table("role_assignments")
    ga = is_global_admin_role(roles)
    priv = roles[roles["privileged"].fillna(True).astype(bool) | ga].copy()
    if priv.empty:
        return PrivilegedSet(pd.DataFrame({"user_id": pd.Series(dtype="str"), "roles": pd.Series(dtype="str"),
                                           "active": pd.Series(dtype=bool), "eligible": pd.Series(dtype=bool),
                                           "global_admin": pd.Series(dtype=bool), "certain": pd.Series(dtype=bool)}))
    priv["route"] = [_route(r) for r in priv.itertuples(index=False)]
    priv["is_active"] = priv["assignment"].str.casefold() != "eligible"
    priv["is_eligible"] = ~priv["is_active"]
    priv["is_ga"] = is_global_admin_role(priv)
    priv["is_certain"] = priv["privileged"].fillna(False).astype(bool) | priv["is_ga"]
    grouped = priv.groupby("user_id", sort=True)
    holders = pd.DataFrame({
        "roles": grouped["route"].agg(lambda s: "; ".join(sorted(set(s)))),
        "active": grouped["is_active"].any(),
        "eligible": grouped["is_eligible"].any(),
        "global_admin": grouped["is_ga"].any(),
        "certain": grouped["is_certain"].any(),
    }).reset_index()
    return PrivilegedSet(holders)


def unsure_privilege(data: AuditData, holders: pd.DataFrame, status: Any, evidence: Any) -> tuple[Any, Any]:
    """A fail that rests only on roles whose privilege level was not collected is unknown, with the gap named:
    the holder stays visible, but the audit cannot say the role is privileged (Microsoft's isPrivileged comes
    from roleDefinitions; the built-in fallback list names only some roles)."""
    unsure = ~holders["certain"].fillna(False).astype(bool).to_numpy() & (np.asarray(status) == FAIL)
    if not unsure.any():
        return status, evidence
    gap = section_gap(data, "roleDefinitions") or "roleDefinitions does not say whether these roles are privileged"
    note = f"; cannot tell whether these roles are privileged ({gap})"
    return np.where(unsure, UNKNOWN, status), np.where(unsure, pd.Series(evidence, index=holders.index).astype(str)
                                                       + note, evidence)


# ------------------------------------------------------------------------------------------- data coverage --

def section_gap(data: AuditData, *sections: str) -> str | None:
    """Why one of the named raw sections is unusable, from the manifest; None when all are usable or unknown.

    Normalisers may build a table from several sections (forwarding from inbox rules AND mailbox settings); a
    table can be `ok` while one source failed. Checks that depend on one source ask here.
    """
    manifest = data.manifest
    if manifest is None:
        return None
    problems = []
    for name in sections:
        rec = manifest.sections.get(name)
        if rec is None:
            problems.append(f"section '{name}' is not in the snapshot")
        elif not rec.usable:
            detail = f": {rec.detail}" if rec.detail else ""
            problems.append(f"section '{name}' {rec.status.value}{detail}")
    return "; ".join(problems) or None


def tenant_row(status: str, evidence: str, confidence: str = HIGH, subject: str = "tenant") -> dict[str, str]:
    return {"subject_id": "tenant", "subject": subject, "status": status, "evidence": evidence,
            "confidence": confidence}


def empty_result() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str")
                         for c in ("subject_id", "subject", "status", "evidence", "confidence")})


def setting_or_none(data: AuditData, key: str) -> tuple[str | None, str]:
    """(value, why-not) for a tenant setting: value None with the reason when it was not collected."""
    try:
        return data.setting(key).strip().casefold(), ""
    except DataUnavailable as exc:
        return None, exc.reason


def truthy(value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.strip().casefold()
    if v in ("true", "yes", "1", "on", "enabled"):
        return True
    if v in ("false", "no", "0", "off", "disabled"):
        return False
    return None


def suspicious_words(text: str) -> list[str]:
    """The words attackers' hiding rules match, in any of their forms, named by their base word."""
    return HIDING_WORDS.find(text)


def meaningless_name(name: str) -> bool:
    """Rule names like '.', '..', ',' or a single character: attackers' hiding rules are named to be overlooked."""
    stripped = (name or "").strip()
    return len(stripped) <= 2 or not any(ch.isalnum() for ch in stripped)


def tri_state(series: pd.Series) -> pd.Series:
    """A nullable boolean (or mapped object) column as 'yes' / 'no' / 'na' strings for vectorised decisions."""
    out = pd.Series("na", index=series.index, dtype="str")
    known = series.notna()
    vals = series[known].astype(bool)
    out[known] = vals.map({True: "yes", False: "no"}).astype(str)
    return out


def _listed(data: AuditData, key: str) -> list[str] | None:
    """A '; '-joined tenant setting as its items (original case); None when it was not collected."""
    value, _ = setting_or_none(data, key)
    if value is None:
        return None
    return [p.strip() for p in data.setting(key).split(";") if p.strip()]


def _some(items: list[str], limit: int = 10) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def google_ou_setting(data: AuditData, root_key: str, ous_key: str, bad: set[str], fail_text: str,
                      pass_text: str) -> dict[str, str]:
    """One tenant row for a Google setting an admin can change per OU and per group.

    With the per-OU and per-group lists (idaudit/core/normalise/google_settings.py: `<prefix>_ous`, `_groups`,
    `_undecided`) the verdict covers every OU and every group-targeted policy: fail naming the OUs and groups where
    the risky value applies, unknown when none does but some could not be read, pass otherwise. Without them only
    the root OU is known, so a pass there is `medium` confidence (a child OU or a group may override it) — and a
    root value that was not collected is `unknown`.
    """
    base = ous_key.removesuffix("_ous")
    ous = _listed(data, ous_key)
    root, root_why = setting_or_none(data, root_key)
    root_shown = f"{root_key} = {root} at the root OU" if root is not None else "root OU value not collected"
    if ous is not None:
        groups = _listed(data, f"{base}_groups")
        undecided = _listed(data, f"{base}_undecided") or []
        where = ([f"organisational unit(s) {_some(ous)}"] if ous else []) + \
            ([f"group policy for {_some(groups)}"] if groups else [])
        if where:
            return tenant_row(FAIL, f"{fail_text} in {'; and in '.join(where)}")
        if undecided:
            return tenant_row(UNKNOWN, f"{pass_text} where the setting could be read ({root_shown}), but it could "
                                       f"not be read for {_some(undecided)}")
        if groups is None:
            return tenant_row(PASS, f"{pass_text} in every organisational unit ({root_shown}; group-targeted "
                                    "policies not evaluated)", MEDIUM)
        return tenant_row(PASS, f"{pass_text} in every organisational unit and group policy ({root_shown})")
    if root is None:
        return tenant_row(UNKNOWN, f"setting {root_key} not collected: {root_why}")
    if root in bad:
        return tenant_row(FAIL, f"{fail_text} ({root_shown})")
    return tenant_row(PASS, f"{pass_text} ({root_shown}; child OUs not collected and may differ)", MEDIUM)


def nothing_found_row(data: AuditData, tables: Iterable[str], text: str) -> dict[str, str]:
    """The single row of a check that found nothing to report.

    A partial table that names its missing subjects gets one `unknown` row per missing subject from the engine
    (idaudit.core.engine.cover_missing_subjects), so the pass is about the rest; a partial table that cannot say what
    is missing (e.g. Google's six-month token report) turns the "nothing found" into `unknown` — absence of
    evidence in incomplete data is not a pass. The engine enforces the same rule for any tenant-level pass, so a
    check that writes its own pass row cannot get this wrong.
    """
    named = False
    for t in tables:
        st = data.status.get(t)
        if st is None or st.availability is not Availability.PARTIAL:
            continue
        if not st.missing_subjects:
            return tenant_row(UNKNOWN, f"{text} in the data collected, but '{t}' is incomplete: {st.reason}")
        named = True
    if named:
        return tenant_row(PASS, f"{text} among the accounts collected (accounts not collected are listed as "
                                "unknown)")
    return tenant_row(PASS, text)


def or_not_applicable(rows: pd.DataFrame, why: str) -> pd.DataFrame:
    """A per-subject result with no subjects still says so: one `not_applicable` tenant row with the reason."""
    if len(rows):
        return rows
    return pd.DataFrame([tenant_row(NOT_APPLICABLE, why)])
