"""Provider-neutral tables: what every check reads, whatever the provider.

Normalisers (idaudit.core.normalise.<provider>) fill these from a raw snapshot. Each table carries an availability:
`ok`, `partial` (some subjects missing, listed), or `missing` (with the reason, taken from the manifest). A check
that requires a missing table reports `unknown`; subjects missing from a partial table are reported `unknown`
by the engine, never `pass`.

Column conventions: ids and names are `str`; booleans are pandas nullable `boolean` where "not known" is
possible; times are timezone-aware UTC (`datetime64[us, UTC]`), NaT when absent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from idaudit.core.errors import DataUnavailable
from idaudit.core.snapshot import Manifest


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: Mapping[str, str]  # column -> pandas dtype
    doc: str
    key: str = "user_id"  # the subject column used for per-subject unknowns


UTC_TS = "datetime64[us, UTC]"

SCHEMAS: dict[str, TableSchema] = {s.name: s for s in (
    TableSchema("users", {
        "user_id": "str", "principal": "str", "display_name": "str", "mail": "str",
        "enabled": "boolean", "user_type": "str",  # member | guest
        "created_at": UTC_TS, "last_sign_in": UTC_TS,
        "sign_in_known": "boolean",  # sign-in activity collected for this user (False: licence or permission gap)
        # the field last_sign_in was read from: Microsoft lastSuccessfulSignInDateTime (successes only; null = no
        # success since 2023-12-01), or lastSignInDateTime / lastNonInteractiveSignInDateTime (attempts, failed ones
        # included) when the success field is absent; Google lastLoginTime; '' not known
        "sign_in_source": "str",
        "last_sign_in_attempt": UTC_TS,  # newest interactive or non-interactive attempt, successful or not (Microsoft)
        "on_premises_synced": "boolean", "licensed": "boolean",
        "mailbox": "str",  # user | shared | room | equipment | none | unknown
        "org_unit": "str",
    }, "One row per account."),
    TableSchema("mfa_registration", {
        "user_id": "str", "registered": "boolean",
        "strongest": "str",  # none | weak | standard | phishing_resistant
        "methods": "str",  # '; '-joined method names (vocabulary: idaudit.core.methods)
        "source": "str",  # userRegistrationDetails | authenticationMethods | directory
    }, "One row per user whose MFA registration was collected."),
    TableSchema("mfa_methods", {
        "user_id": "str", "method": "str", "strength": "str",
    }, "One row per (user, registered MFA method); password is not a method here."),
    TableSchema("mfa_enforcement", {
        "user_id": "str",
        "enforced": "str",  # yes | no | unknown
        "enforced_by": "str",  # 'security defaults', 'per-user MFA', "CA policy 'Require MFA'", '2SV enforced (OU /)'
        "strength": "str",  # mfa | phishing_resistant | weaker_alternative | ''
        "reason": "str",  # why not enforced / why unknown, precise enough to act on
        "phishing_resistant": "str",  # yes | no | unknown: a phishing-resistant strength is required on sign-in
        # yes | no | unknown: legacy authentication (Exchange ActiveSync, IMAP, POP, SMTP AUTH, MAPI) cannot sign
        # this account in with the password alone (Microsoft; '' for providers without the notion)
        "legacy_blocked": "str",
        "legacy_detail": "str",  # what closes legacy clients (yes), or why they stay open / cannot be told
    }, "One row per enabled user: is MFA actually required on sign-in, and by what."),
    TableSchema("role_assignments", {
        "user_id": "str", "role_id": "str", "role_name": "str", "privileged": "boolean",
        "assignment": "str",  # active | eligible
        "via_group": "str",  # group display name when held through a group, else ''
        "scope": "str",
    }, "One row per (user, role, route)."),
    TableSchema("mail_rules", {
        "user_id": "str", "rule_id": "str", "rule_name": "str", "enabled": "boolean",
        "source": "str",  # inbox_rule | gmail_filter | transport_rule
        "actions": "str",  # '; '-joined action names
        "conditions": "str",  # human-readable summary of the rule's conditions
        "forwards": "boolean", "hides_mail": "boolean",
        "hide_action": "str",  # delete | permanent_delete | move_to:<folder> | mark_read | ''
        "target_folder": "str",  # the folder a move/copy action files mail into, by name ('' none or not named)
        "folder_hidden": "boolean",  # that folder is hidden from mail clients (Graph isHidden); NA: not known
        "folder_unresolved": "str",  # why the target folder could not be named ('' when named or no folder)
    }, "Every inbox rule / filter, forwarding or not."),
    TableSchema("forwarding", {
        "user_id": "str",
        "mechanism": "str",  # inbox_rule_forward | inbox_rule_forward_attachment | inbox_rule_redirect |
        #                      mailbox_forwarding | gmail_auto_forward | gmail_filter_forward | transport_rule
        "rule_id": "str", "rule_name": "str", "enabled": "boolean",
        "recipient": "str", "recipient_domain": "str",
        "keeps_copy": "boolean",
        "how": "str",  # what the rule does with the message ('blind-copies to', ...); '' = said by the mechanism
        "applies_when": "str",  # conditions and exceptions that narrow which messages it touches; '' = every one
        "mode": "str",  # transport rules: enforce | audit | auditandnotify (Audit modes take no action); '' = n/a
    }, "One row per (mechanism, recipient) that sends a user's mail elsewhere."),
    TableSchema("auto_forward_senders", {
        "user_id": "str",
        "allowed": "str",  # yes | no | unknown: may this sender's mail be forwarded automatically to outside
        "policy": "str",  # the policy that decides (Exchange outbound spam policy name)
        "via": "str",  # how it was decided ("rule 'X' applies", "no custom policy applies")
        "reason": "str",  # why unknown
    }, "Microsoft: one row per sender (mailbox): which outbound spam policy governs its automatic forwarding."),
    TableSchema("remote_domains", {
        "domain": "str",  # '*' (every domain no other entry names), 'gmail.com', '*.contoso.com'
        "name": "str", "auto_forward": "boolean",
    }, "Microsoft: Exchange remote domains and whether automatic forwarding to them is allowed.", key="domain"),
    TableSchema("oauth_grants", {
        "grant_id": "str", "app_id": "str", "app_name": "str", "publisher": "str",
        "publisher_verified": "boolean",
        "app_owner": "str",  # first_party | own_org | third_party
        "grant_kind": "str",  # delegated | application
        "consent_scope": "str",  # all_users | single_user | application
        "user_id": "str",  # '' for all_users / application
        "resource": "str", "scope": "str",  # one row per scope
    }, "One row per (grant, scope).", key="app_id"),
    TableSchema("domains", {
        "domain": "str", "verified": "boolean", "default": "boolean",
    }, "The tenant's domains.", key="domain"),
    TableSchema("mail_domains", {
        "domain": "str",  # a domain the organisation sends mail from (accepted / verified, not *.onmicrosoft.com)
        "spf_records": "str",  # every v=spf1 record at the domain, ' | '-joined ('' none)
        "spf_count": "Int64",  # how many v=spf1 records (RFC 7208: exactly one may exist)
        "spf_all": "str",  # qualifier of the effective `all`: - ~ + ? ('' none: neutral)
        "spf_all_via": "str",  # 'redirect=<target>' when the effective all comes from a redirect target
        "spf_lookups": "Int64",  # DNS-querying terms through every include (NA: not computable offline)
        "spf_problems": "str",  # permanent errors receivers see ('; '-joined)
        "spf_gap": "str",  # why SPF cannot be decided ('' known)
        "dmarc_records": "str", "dmarc_count": "Int64",
        "dmarc_source": "str",  # the domain whose _dmarc record applies ('' none)
        "dmarc_policy": "str",  # none | quarantine | reject | '' (no usable policy; sp= when inherited)
        "dmarc_pct": "Int64",  # NA: pct tag not a number 0-100
        "dmarc_rua": "str",  # mailto: aggregate report addresses, ', '-joined
        "dmarc_gap": "str",
        "dkim_enabled": "boolean",  # NA: not known (see dkim_gap)
        "dkim_detail": "str",  # where the DKIM answer comes from
        "dkim_gap": "str",
    }, "One row per sending domain: SPF, DMARC and DKIM facts parsed from the stored DNS answers.", key="domain"),
    TableSchema("mail_protections", {
        "facet": "str",  # what is protected: spoof_intelligence, impersonation_users, safe_links, safe_attachments,
        #                  attachment_filter, zap, allowed_sender_domains, ip_allow_list, safe_list, gmail_* ...
        "policy": "str",  # the policy's name (Microsoft) or the organisational unit path (Google)
        "is_default": "boolean",  # the policy that applies to everyone no other policy covers
        "preset": "str",  # builtin | standard | strict | '' (Microsoft preset security policies)
        "applies_to": "str",  # all | some | none | unknown  (none: rule disabled / no rule for a custom policy)
        "scope": "str",  # who the policy covers, in words
        "on": "boolean",  # the protection is on (for allow-list facets: an allow list is present); NA: not known
        "detail": "str",  # the value behind `on` (targeted users, file types, listed domains ...)
    }, "One row per (protection facet, policy or organisational unit): mail filtering and anti-phishing facts.",
        key="policy"),
    TableSchema("tenant_settings", {
        "setting": "str", "value": "str", "source": "str",
    }, "Key/value tenant settings (keys documented in idaudit.core.settings).", key="setting"),
    # ---- signs of takeover: the logs of the last lookback_days (AuditData.log_window) ----------------------------
    TableSchema("sign_in_countries", {
        "user_id": "str", "country": "str",  # ISO 3166-1 alpha-2 ('' when the log had none)
        "first_seen": UTC_TS, "last_seen": UTC_TS, "sign_ins": "Int64",
        "first_ip": "str", "ips": "str",  # '; '-joined, at most 10 per country
    }, "One row per (user, country) of successful interactive sign-ins in the log window."),
    TableSchema("sign_in_summary", {
        "user_id": "str", "sign_ins": "Int64", "countries": "str",
        "legacy_successes": "Int64",  # successes over a legacy protocol (IMAP, POP, SMTP AUTH, ActiveSync, ...)
        "legacy_clients": "str", "legacy_last": UTC_TS, "legacy_last_ip": "str",
        "single_factor_successes": "Int64", "single_factor_last": UTC_TS, "single_factor_last_ip": "str",
    }, "One row per user with at least one successful sign-in in the log window."),
    TableSchema("change_events", {
        "event_id": "str", "time": UTC_TS,
        "user_id": "str",  # whose account, mailbox or consent it is ('' when not a user of the tenant)
        "actor_id": "str", "actor": "str",  # who did it: user id and principal / name as logged
        "kind": "str",  # inbox_rule | mailbox_forwarding | mailbox_permission | consent | app_credential |
        #                 mfa_added | mfa_removed | password_change | recovery_changed | role_added |
        #                 suspicious_login | setting_changed
        "operation": "str",  # the provider's own name: New-InboxRule, Consent to application, 2sv_enroll, ...
        "object": "str",  # the rule, app, role, method or address it is about
        "detail": "str", "ip": "str",
        "country": "str",  # from a successful sign-in from the same address in the window; '' when unknown
        "source": "str",  # the snapshot section it came from
    }, "One row per logged change to an account, a mailbox or an app grant in the log window."),
    TableSchema("risky_users", {
        "user_id": "str", "risk_level": "str", "risk_state": "str", "risk_detail": "str", "updated": UTC_TS,
    }, "Identity Protection's risky users (Microsoft, Entra ID P2)."),
    TableSchema("risk_detections", {
        "user_id": "str", "time": UTC_TS, "event_type": "str", "level": "str", "state": "str", "ip": "str",
        "country": "str",
    }, "Identity Protection's risk detections of the log window (Microsoft)."),
    TableSchema("conditional_access", {
        "policy_id": "str", "name": "str", "state": "str", "requires_mfa": "boolean",
        "blocks": "boolean", "targets_legacy_clients": "boolean", "all_users": "boolean", "all_apps": "boolean",
        "summary": "str",
    }, "Conditional Access policies (Microsoft), one row each.", key="policy_id"),
)}


class Availability(enum.StrEnum):
    OK = "ok"
    PARTIAL = "partial"
    MISSING = "missing"


@dataclass(frozen=True)
class TableStatus:
    availability: Availability
    reason: str = ""  # for missing / partial: which section, its status, and the fix
    sections: tuple[str, ...] = ()
    missing_subjects: Mapping[str, str] = field(default_factory=dict)  # subject id -> reason

    def __post_init__(self) -> None:
        object.__setattr__(self, "availability", Availability(self.availability))

    @staticmethod
    def ok(*sections: str) -> TableStatus:
        return TableStatus(Availability.OK, sections=sections)

    @staticmethod
    def missing(reason: str, *sections: str) -> TableStatus:
        return TableStatus(Availability.MISSING, reason=reason, sections=sections)


def empty_table(name: str) -> pd.DataFrame:
    schema = SCHEMAS[name]
    return pd.DataFrame({col: pd.Series(dtype=dt) for col, dt in schema.columns.items()})


def _as_dtype(name: str) -> Any:
    """Dtype names come from the schema table; pandas-stubs only accepts literals."""
    return name


def make_table(name: str, rows: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Build a table with exactly the schema's columns and dtypes (missing columns filled as NA)."""
    schema = SCHEMAS[name]
    df = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
    if df.empty:
        return empty_table(name)
    out = {}
    for col, dtype in schema.columns.items():
        series = df[col] if col in df.columns else pd.Series([None] * len(df), index=df.index)
        if dtype == UTC_TS:
            # Only text can be a time; anything else from a malformed export is "not known" (NaT), never a crash.
            text_only = series.astype(object).map(lambda v: v if isinstance(v, str | datetime) else None)
            out[col] = pd.to_datetime(text_only, utc=True, errors="coerce", format="ISO8601").astype(_as_dtype(UTC_TS))
        elif dtype == "str":
            out[col] = series.astype(object).where(series.notna(), "").astype(str)
        elif dtype == "boolean":
            # A flag that is not a JSON boolean ("yes", 1, {}) is not known (NA), never guessed true or false.
            out[col] = series.astype(object).map(lambda v: bool(v) if isinstance(v, bool | np.bool_) else None).astype("boolean")
        elif dtype == "Int64":
            # A count that is not a JSON integer is not known (NA), never a number made up from text.
            out[col] = series.astype(object).map(
                lambda v: int(v) if isinstance(v, int | np.integer) and not isinstance(v, bool) else None
            ).astype("Int64")
        else:
            out[col] = series.astype(_as_dtype(dtype))
    return pd.DataFrame(out).reset_index(drop=True)


@dataclass(frozen=True)
class AuditData:
    """Everything a check may read: the normalised tables, their availability, and run context."""

    provider: str
    tenant_id: str
    tenant_name: str
    collected_at: pd.Timestamp
    tables: Mapping[str, pd.DataFrame]
    status: Mapping[str, TableStatus]
    setting_gaps: Mapping[str, str] = field(default_factory=dict)  # tenant setting -> why unknown
    manifest: Manifest | None = None  # the snapshot's manifest: the Coverage sheet lists every section from it
    # The time range the sign-in and audit logs cover (None: no log section was collected): an event outside it is
    # "not in the log window", not "did not happen".
    log_window: tuple[pd.Timestamp, pd.Timestamp] | None = None

    def table(self, name: str) -> pd.DataFrame:
        """The table, or DataUnavailable when it was not collected (engine turns that into `unknown`)."""
        st = self.status.get(name)
        if st is None or st.availability is Availability.MISSING:
            raise DataUnavailable(st.reason if st else f"table '{name}' was not produced for this provider")
        return self.tables[name]

    def user_labels(self) -> dict[str, str]:
        """user id -> the name a reader recognises (principal, else display name, else the id): findings name
        people, not GUIDs. Empty when no users table was collected."""
        users = self.tables.get("users")
        if users is None or users.empty:
            return {}
        label = users["principal"].where(users["principal"] != "", users["display_name"])
        label = label.where(label != "", users["user_id"])
        return dict(zip(users["user_id"].astype(str), label.astype(str), strict=True))

    def available(self, name: str) -> bool:
        st = self.status.get(name)
        return st is not None and st.availability is not Availability.MISSING

    def setting(self, key: str) -> str:
        """A tenant setting's value; DataUnavailable (so `unknown`) when it was not collected."""
        if key in self.setting_gaps:
            raise DataUnavailable(self.setting_gaps[key])
        df = self.table("tenant_settings")
        hit = df.loc[df["setting"] == key, "value"]
        if hit.empty:
            raise DataUnavailable(f"tenant setting '{key}' was not collected")
        return str(hit.iloc[0])

    def settings_source(self, key: str) -> str:
        df = self.tables.get("tenant_settings")
        if df is None:
            return ""
        hit = df.loc[df["setting"] == key, "source"]
        return "" if hit.empty else str(hit.iloc[0])
