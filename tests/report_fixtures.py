"""Small hand-made tenants run through the real check engine, for the report, history and audit tests.

The checks here are test checks registered in a private registry (the real catalogue is tested elsewhere); the
engine, waivers, unknown handling and tables are the real ones. Names include hostile values on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd

from idaudit.core.engine import (
    AuditRun,
    CheckRegistry,
    CheckSettings,
    Waiver,
    check,
    result_frame,
    run_checks,
)
from idaudit.core.model import Framework, Reference, Severity, SubjectKind
from idaudit.core.snapshot import Manifest, SectionRecord, SectionStatus
from idaudit.core.tables import AuditData, TableStatus, make_table

HIPAA = Reference(Framework.HIPAA, "164.312(d)", "Person or entity authentication")
HIPAA_TX = Reference(Framework.HIPAA, "164.312(e)(1)", "Transmission security")
ATTACK = Reference(Framework.ATTACK, "T1114.003", "Email Forwarding Rule")

HOSTILE_NAMES = {
    "u-formula": '=HYPERLINK("http://evil.example/x","Click me")',
    "u-plus": "+cmd|' /C calc'!A0",
    "u-at": "@SUM(1+1)*cmd",
    "u-ctrl": "Eve\x07 Lin\u202egnp.exe",
    "u-error": "#N/A",
}


def registry() -> CheckRegistry:
    reg = CheckRegistry()

    @check(id="IDA-AUTH-901", title="Enabled user without any MFA method", severity=Severity.HIGH,
           rationale="A phished password alone opens the mailbox. Attackers then read patient mail.",
           remediation="Require MFA registration for every enabled user (Entra admin centre > Protection).",
           references=(HIPAA,), providers=["microsoft", "google"], requires=["users", "mfa_registration"],
           subject_kind=SubjectKind.USER, family="authentication", owner_role="IT manager", registry=reg)
    def no_mfa(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        users = data.table("users")
        reg_ = data.table("mfa_registration").set_index("user_id")["registered"]
        enabled = users[users["enabled"].fillna(False).astype(bool)]
        ok = enabled["user_id"].map(reg_).fillna(False).astype(bool)
        return result_frame(pd.DataFrame({
            "subject_id": enabled["user_id"], "subject": enabled["principal"],
            "status": ok.map({True: "pass", False: "fail"}),
            "evidence": ok.map({True: "MFA registered", False: "no MFA method registered"}),
        }))

    @check(id="IDA-MAIL-901", title="Mail forwarded outside the organisation", severity=Severity.CRITICAL,
           rationale="A forwarding rule quietly copies every message, patient data included, to an outsider.",
           remediation="Remove the rule, reset the user's password and revoke sessions.",
           references=(HIPAA_TX, ATTACK), providers=["microsoft"], requires=["forwarding", "domains"],
           subject_kind=SubjectKind.RULE, family="mail", registry=reg)
    def forwarding(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        fwd = data.table("forwarding")
        internal = set(data.table("domains")["domain"].str.casefold())
        outside = ~fwd["recipient_domain"].str.casefold().isin(internal)
        return result_frame(pd.DataFrame({
            "subject_id": fwd["rule_id"], "subject": fwd["rule_name"],
            "status": outside.map({True: "fail", False: "pass"}),
            "evidence": "forwards to " + fwd["recipient"],
        }))

    @check(id="IDA-APPS-901", title="App with mail-reading scope from an unverified publisher",
           severity=Severity.HIGH, rationale="A consented app reads mail without any password. It survives resets.",
           remediation="Revoke the grant in Enterprise applications and restrict user consent.",
           references=(HIPAA,), providers=["microsoft"], requires=["oauth_grants"],
           subject_kind=SubjectKind.APP, family="apps", owner_role="compliance", registry=reg)
    def risky_apps(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        g = data.table("oauth_grants")
        bad = g["scope"].isin(["Mail.Read", "Mail.ReadWrite"]) & ~g["publisher_verified"].fillna(False).astype(bool)
        per_app = bad.groupby(g["app_id"]).any()
        names = g.groupby("app_id")["app_name"].first()
        return result_frame(pd.DataFrame({
            "subject_id": per_app.index, "subject": names.reindex(per_app.index).values,
            "status": per_app.map({True: "fail", False: "pass"}).values,
            "evidence": per_app.map({True: "Mail.Read, publisher not verified", False: "no risky scope"}).values,
        }))

    @check(id="IDA-AUTH-902", title="Conditional Access requires MFA for all users", severity=Severity.MEDIUM,
           rationale="Without a policy requiring MFA at sign-in, registration alone does not stop a phisher.",
           remediation="Create a CA policy requiring MFA for all users and all cloud apps.",
           references=(HIPAA,), providers=["microsoft"], requires=["conditional_access"],
           subject_kind=SubjectKind.TENANT, family="authentication", registry=reg)
    def ca(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        df = data.table("conditional_access")
        ok = bool((df["requires_mfa"].fillna(False) & df["all_users"].fillna(False) & (df["state"] == "enabled")).any())
        return result_frame([{"subject_id": "tenant", "subject": "tenant", "status": "pass" if ok else "fail",
                              "evidence": f"{len(df)} policies"}])

    @check(id="IDA-ACCT-901", title="Enabled account with no sign-in for 90 days", severity=Severity.LOW,
           rationale="A forgotten account is a password nobody watches. Departed staff keep access.",
           remediation="Disable the account and remove its licences.",
           references=(HIPAA,), providers=["microsoft"], requires=["users"], subject_kind=SubjectKind.USER,
           family="accounts", owner_role="HR", registry=reg)
    def stale(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        users = data.table("users")
        now = settings.evaluation_time(data)
        old = (now - users["last_sign_in"]).dt.days > settings.stale_days
        return result_frame(pd.DataFrame({
            "subject_id": users["user_id"], "subject": users["principal"],
            "status": old.map({True: "fail", False: "pass"}),
            "evidence": "last sign-in " + users["last_sign_in"].astype(str),
        }))

    return reg


@dataclass(frozen=True)
class Week:
    """Knobs that change between weekly runs, for the diff tests."""

    day: date = date(2026, 11, 2)
    alice_mfa: bool = False
    new_forward: bool = False  # a new external forwarding rule appears
    drop_bob_forward: bool = False
    waive_alice: bool = False
    waive_carol: bool = False
    complete_collection: bool = False  # CA licensed and every inbox read: nothing unknown
    forwarding_forbidden: bool = False


def build_data(week: Week = Week(), extra_users: int = 0) -> AuditData:
    collected = datetime(week.day.year, week.day.month, week.day.day, 6, 0, tzinfo=UTC)
    users = [
        {"user_id": "u-alice", "principal": "alice.nurse@clinic.example", "display_name": "Alice Nightingale",
         "mail": "alice.nurse@clinic.example", "enabled": True, "user_type": "member",
         "last_sign_in": "2026-10-30T08:00:00Z", "sign_in_known": True},
        {"user_id": "u-bob", "principal": "bob.admin@clinic.example", "display_name": "Bob Administrator",
         "mail": "bob.admin@clinic.example", "enabled": True, "user_type": "member",
         "last_sign_in": "2026-05-01T08:00:00Z", "sign_in_known": True},
        {"user_id": "u-carol", "principal": "carol@clinic.example", "display_name": "Carol Frontdesk",
         "mail": "carol@clinic.example", "enabled": True, "user_type": "member",
         "last_sign_in": "2026-10-31T08:00:00Z", "sign_in_known": False},
    ]
    for uid, name in HOSTILE_NAMES.items():
        users.append({"user_id": uid, "principal": name, "display_name": name, "mail": "", "enabled": True,
                      "user_type": "member", "last_sign_in": "2026-10-29T08:00:00Z", "sign_in_known": True})
    for i in range(extra_users):
        users.append({"user_id": f"u-x{i:05d}", "principal": f"staff{i:05d}@clinic.example",
                      "display_name": f"Staff Member {i:05d}", "mail": f"staff{i:05d}@clinic.example",
                      "enabled": True, "user_type": "member", "last_sign_in": "2026-10-29T08:00:00Z",
                      "sign_in_known": True})
    registration = [
        {"user_id": "u-alice", "registered": week.alice_mfa, "strongest": "standard" if week.alice_mfa else "none",
         "methods": "authenticator_push" if week.alice_mfa else "", "source": "userRegistrationDetails"},
        {"user_id": "u-bob", "registered": True, "strongest": "weak", "methods": "sms",
         "source": "userRegistrationDetails"},
        {"user_id": "u-formula", "registered": False, "strongest": "none", "methods": "",
         "source": "userRegistrationDetails"},
    ] + [{"user_id": f"u-x{i:05d}", "registered": i % 3 != 0, "strongest": "standard", "methods": "software_otp",
          "source": "userRegistrationDetails"} for i in range(extra_users)]
    enforcement = [{"user_id": "u-bob", "enforced": "yes", "enforced_by": "security defaults", "strength": "mfa",
                    "reason": "", "phishing_resistant": "no"}]
    roles = [{"user_id": "u-bob", "role_id": "62e90394", "role_name": "Global Administrator", "privileged": True,
              "assignment": "active", "via_group": "", "scope": "/"}]
    forwards = [{"user_id": "u-carol", "mechanism": "inbox_rule_forward", "rule_id": "r-internal",
                 "rule_name": "to team", "enabled": True, "recipient": "team@clinic.example",
                 "recipient_domain": "clinic.example", "keeps_copy": True}]
    if not week.drop_bob_forward:
        forwards.append({"user_id": "u-bob", "mechanism": "inbox_rule_forward", "rule_id": "r-bob",
                         "rule_name": "=cmd|' /C calc'!A0", "enabled": True, "recipient": "bob.private@gmail.com",
                         "recipient_domain": "gmail.com", "keeps_copy": False})
    if week.new_forward:
        forwards.append({"user_id": "u-alice", "mechanism": "inbox_rule_redirect", "rule_id": "r-alice",
                         "rule_name": ".", "enabled": True, "recipient": "collector@proton.example",
                         "recipient_domain": "proton.example", "keeps_copy": False})
    grants = [
        {"grant_id": "g1", "app_id": "app-secure", "app_name": "Secure Docs Viewer", "publisher": "Docs LLC",
         "publisher_verified": False, "app_owner": "third_party", "grant_kind": "delegated",
         "consent_scope": "single_user", "user_id": "u-alice", "resource": "Microsoft Graph", "scope": "Mail.Read"},
        {"grant_id": "g1", "app_id": "app-secure", "app_name": "Secure Docs Viewer", "publisher": "Docs LLC",
         "publisher_verified": False, "app_owner": "third_party", "grant_kind": "delegated",
         "consent_scope": "single_user", "user_id": "u-alice", "resource": "Microsoft Graph",
         "scope": "offline_access"},
        {"grant_id": "g2", "app_id": "app-zoom", "app_name": "Zoom", "publisher": "Zoom", "publisher_verified": True,
         "app_owner": "third_party", "grant_kind": "delegated", "consent_scope": "all_users", "user_id": "",
         "resource": "Microsoft Graph", "scope": "User.Read"},
    ]
    domains = [{"domain": "clinic.example", "verified": True, "default": True}]
    fwd_status = (TableStatus.missing("inboxRules: forbidden — grant MailboxSettings.Read", "inboxRules")
                  if week.forwarding_forbidden else TableStatus.ok("inboxRules"))
    tables = {
        "users": make_table("users", users), "mfa_registration": make_table("mfa_registration", registration),
        "mfa_enforcement": make_table("mfa_enforcement", enforcement),
        "role_assignments": make_table("role_assignments", roles), "forwarding": make_table("forwarding", forwards),
        "oauth_grants": make_table("oauth_grants", grants), "domains": make_table("domains", domains),
    }
    status = {name: TableStatus.ok(name) for name in tables}
    status["forwarding"] = fwd_status
    if week.complete_collection:
        tables["conditional_access"] = make_table("conditional_access", [
            {"policy_id": "p1", "name": "Require MFA", "state": "enabled", "requires_mfa": True, "all_users": True,
             "all_apps": True}])
        status["conditional_access"] = TableStatus.ok("conditionalAccessPolicies")
    else:
        status["conditional_access"] = TableStatus.missing(
            "conditionalAccessPolicies: unlicensed — requires Microsoft Entra ID P1", "conditionalAccessPolicies")
    sections = {
        "users": SectionRecord("users", SectionStatus.OK, "users.json", len(users)),
        "userRegistrationDetails": SectionRecord("userRegistrationDetails", SectionStatus.OK,
                                                 "userRegistrationDetails.json", len(registration)),
        "conditionalAccessPolicies": (
            SectionRecord("conditionalAccessPolicies", SectionStatus.OK, "conditionalAccessPolicies.json", 1)
            if week.complete_collection else
            SectionRecord("conditionalAccessPolicies", SectionStatus.UNLICENSED,
                          detail="403 Authentication_RequestFromNonPremiumTenantOrB2CTenant")),
        "inboxRules": (SectionRecord("inboxRules", SectionStatus.FORBIDDEN, detail="403 Authorization_RequestDenied")
                       if week.forwarding_forbidden else
                       SectionRecord("inboxRules", SectionStatus.OK, "inboxRules.json", 3,
                                     failed_subjects={} if week.complete_collection
                                     else {"u-carol": "503 after 3 retries"})),
        "domains": SectionRecord("domains", SectionStatus.OK, "domains.json", 1),
    }
    manifest = Manifest(provider="microsoft", tenant_id="tid-0001", tenant_name="Lakeside Surgery Center",
                        collected_at=collected, sections=sections, source="hand-made test data")
    return AuditData(provider="microsoft", tenant_id="tid-0001", tenant_name="Lakeside Surgery Center",
                     collected_at=pd.Timestamp(collected), tables=tables, status=status, manifest=manifest)


def build_run(week: Week = Week(), extra_users: int = 0) -> AuditRun:
    waivers = [Waiver("IDA-ACCT-901", "bob.admin@clinic.example", "IT manager", "On leave until January",
                      date(2020, 1, 1))]  # expired: must be reported, not applied
    if week.waive_alice:
        waivers.append(Waiver("IDA-AUTH-901", "alice.nurse@clinic.example", "Compliance officer",
                              "Hardware key on order", date(2030, 1, 1)))
    if week.waive_carol:
        waivers.append(Waiver("IDA-AUTH-901", "carol@clinic.example", "Practice manager",
                              "Front-desk kiosk account, replaced in December", date(2030, 1, 1)))
    return run_checks(build_data(week, extra_users), waivers=waivers, registry=registry())
