"""Email security checks (IDA-ESEC-*): a failing, a passing and an unknown case per check, plus the edge cases
their rules depend on (docs/semantics.md, "Email authentication, filtering and audit logging")."""

from __future__ import annotations

from typing import Any

from tests.checkkit import Case, Tenant, cases_param

GOOD_DOMAIN: dict[str, Any] = {
    "spf_records": "v=spf1 include:spf.protection.outlook.com -all", "spf_count": 1, "spf_all": "-",
    "spf_all_via": "", "spf_lookups": 2, "spf_problems": "", "spf_gap": "",
    "dmarc_records": "v=DMARC1; p=reject; rua=mailto:d@clinic.org", "dmarc_count": 1, "dmarc_source": "clinic.org",
    "dmarc_policy": "reject", "dmarc_pct": 100, "dmarc_rua": "mailto:d@clinic.org", "dmarc_gap": "",
    "dkim_enabled": True, "dkim_detail": "Get-DkimSigningConfig Enabled=True", "dkim_gap": ""}


def dom(provider: str = "microsoft", **changes: Any) -> Tenant:
    return Tenant(provider).add("mail_domains", domain="clinic.org", **(GOOD_DOMAIN | changes))


def prot(facet: str, *, policy: str = "Default", applies_to: str = "all", on: bool | None = True,
         preset: str = "", is_default: bool = True, detail: str = "x", t: Tenant | None = None,
         provider: str = "microsoft") -> Tenant:
    t = t or Tenant(provider)
    return t.add("mail_protections", facet=facet, policy=policy, is_default=is_default, preset=preset,
                 applies_to=applies_to, scope="everyone" if applies_to == "all" else "some people", on=on,
                 detail=detail)


def settings(**values: str) -> Tenant:
    t = Tenant()
    for k, v in values.items():
        t.setting(k, v)
    return t


D = "clinic.org"
CASES = [
    # IDA-ESEC-001 SPF
    Case("IDA-ESEC-001", "pass", lambda: dom().build(), D, "-all"),
    Case("IDA-ESEC-001", "pass", lambda: dom(spf_all="~").build(), D, "SCuBA asks for -all", name="softfail"),
    Case("IDA-ESEC-001", "fail", lambda: dom(spf_all="+", spf_records="v=spf1 +all").build(), D, "+all"),
    Case("IDA-ESEC-001", "fail", lambda: dom(spf_all="?").build(), D, "?all", name="neutral-all"),
    Case("IDA-ESEC-001", "fail", lambda: dom(spf_all="").build(), D, "no 'all' term", name="no-all"),
    Case("IDA-ESEC-001", "fail", lambda: dom(spf_count=0, spf_records="").build(), D, "no SPF record",
         name="no-record"),
    Case("IDA-ESEC-001", "fail", lambda: dom(spf_count=2).build(), D, "2 SPF records", name="two-records"),
    Case("IDA-ESEC-001", "fail", lambda: dom(spf_lookups=11).build(), D, "11 DNS lookups", name="eleven-lookups"),
    Case("IDA-ESEC-001", "pass", lambda: dom(spf_lookups=10).build(), D, "10 lookups", name="ten-lookups"),
    Case("IDA-ESEC-001", "fail", lambda: dom(spf_problems="x.com has no SPF record").build(), D, "x.com",
         name="include-without-record"),
    Case("IDA-ESEC-001", "unknown", lambda: dom(spf_gap="TXT lookup of clinic.org gave no answer: timeout").build(),
         D, "timeout"),
    Case("IDA-ESEC-001", "unknown", lambda: dom(spf_lookups=None).build(), D, "could not be counted",
         name="lookups-unknown"),
    Case("IDA-ESEC-001", "unknown", lambda: dom().missing("mail_domains", "dns.emailAuth: error — no answer").build(),
         "*", "dns.emailAuth", name="dns-section-missing"),
    Case("IDA-ESEC-001", "not_applicable", lambda: Tenant().build(), "tenant", "no sending domain",
         name="only-initial-domain"),
    Case("IDA-ESEC-001", "fail", lambda: dom("google", spf_all="+").build(), D, "+all", name="google"),
    # IDA-ESEC-002 DMARC
    Case("IDA-ESEC-002", "pass", lambda: dom().build(), D, "p=reject"),
    Case("IDA-ESEC-002", "pass", lambda: dom(dmarc_policy="quarantine").build(), D, "p=quarantine",
         name="quarantine"),
    Case("IDA-ESEC-002", "fail", lambda: dom(dmarc_policy="none").build(), D, "p=none"),
    Case("IDA-ESEC-002", "fail", lambda: dom(dmarc_pct=50).build(), D, "pct=50", name="pct-50"),
    Case("IDA-ESEC-002", "fail", lambda: dom(dmarc_rua="").build(), D, "no rua=", name="no-rua"),
    Case("IDA-ESEC-002", "fail", lambda: dom(dmarc_count=0, dmarc_records="", dmarc_source="", dmarc_policy="")
         .build(), D, "no DMARC record", name="no-record"),
    Case("IDA-ESEC-002", "fail", lambda: dom(dmarc_count=2).build(), D, "apply none", name="two-records"),
    Case("IDA-ESEC-002", "pass", lambda: dom(dmarc_source="clinic.org").add(
        "mail_domains", domain="mail.clinic.org", **(GOOD_DOMAIN | {"dmarc_source": "clinic.org"})).build(),
         "mail.clinic.org", "of parent domain clinic.org", name="inherited-from-parent"),
    Case("IDA-ESEC-002", "unknown", lambda: dom(dmarc_gap="TXT lookup of _dmarc.clinic.org gave no answer: "
                                                          "servfail").build(), D, "servfail"),
    # IDA-ESEC-003 DKIM
    Case("IDA-ESEC-003", "pass", lambda: dom().build(), D, "DKIM signs"),
    Case("IDA-ESEC-003", "fail", lambda: dom(dkim_enabled=False, dkim_detail="Enabled=False").build(), D,
         "not DKIM-signed"),
    Case("IDA-ESEC-003", "unknown", lambda: dom(dkim_enabled=None, dkim_gap="exchange.dkimSigningConfig: "
                                                "forbidden").build(), D, "forbidden"),
    Case("IDA-ESEC-003", "fail", lambda: dom("google", dkim_enabled=False,
                                             dkim_detail="no DKIM key record at google._domainkey.clinic.org")
         .build(), D, "google._domainkey", name="google-no-key"),
    # IDA-ESEC-004 impersonation
    Case("IDA-ESEC-004", "pass", lambda: prot("impersonation_users", policy="Leaders", is_default=False,
                                              detail="protects 2 user(s)").build(), "tenant", "protects 2",
         confidence="medium"),
    Case("IDA-ESEC-004", "fail", lambda: prot("impersonation_users", on=False).build(), "tenant",
         "protects anyone"),
    Case("IDA-ESEC-004", "fail", lambda: prot("impersonation_users", policy="Leaders", applies_to="none",
                                              is_default=False).build(), "tenant", "protects anyone",
         name="rule-disabled"),
    Case("IDA-ESEC-004", "unknown", lambda: prot("impersonation_users", on=False).section(
        "exchange.safeLinksPolicies", "unlicensed", "requires Microsoft Defender for Office 365 Plan 1").build(),
         "tenant", "Defender", name="defender-unlicensed"),
    Case("IDA-ESEC-004", "unknown", lambda: prot("impersonation_users").section(
        "exchange.antiPhishPolicies", "forbidden", "grant Exchange.ManageAsApp").build(), "tenant",
         "Exchange.ManageAsApp", name="anti-phish-forbidden"),
    # IDA-ESEC-005 spoof intelligence
    Case("IDA-ESEC-005", "pass", lambda: prot("spoof_intelligence").build(), "tenant", "on for every recipient"),
    Case("IDA-ESEC-005", "fail", lambda: prot("spoof_intelligence", on=False).build(), "tenant", "off"),
    Case("IDA-ESEC-005", "fail", lambda: prot("spoof_intelligence", t=prot("spoof_intelligence"), policy="Custom",
                                              applies_to="some", on=False, is_default=False).build(), "tenant",
         "'Custom'", name="custom-policy-turns-it-off"),
    Case("IDA-ESEC-005", "pass", lambda: prot("spoof_intelligence", t=prot("spoof_intelligence"), policy="Old",
                                              applies_to="none", on=False, is_default=False).build(), "tenant",
         "every recipient", name="disabled-custom-policy-ignored"),
    Case("IDA-ESEC-005", "unknown", lambda: prot("spoof_intelligence", on=None).build(), "tenant", "not reported"),
    # IDA-ESEC-006 Safe Links
    Case("IDA-ESEC-006", "pass", lambda: prot("safe_links", policy="Contoso all", is_default=False).build(),
         "tenant", "every recipient", confidence="high"),
    Case("IDA-ESEC-006", "pass", lambda: prot("safe_links", policy="Built-In Protection Policy", preset="builtin",
                                              is_default=False).build(), "tenant", "exclusions",
         confidence="medium", name="built-in-only"),
    Case("IDA-ESEC-006", "fail", lambda: Tenant().build(), "tenant", "no policy applies", name="no-policy"),
    Case("IDA-ESEC-006", "fail", lambda: prot("safe_links", policy="Some", applies_to="some", is_default=False)
         .build(), "tenant", "no policy applies", name="covers-only-some"),
    Case("IDA-ESEC-006", "unknown", lambda: prot("safe_links", policy="Standard Preset", applies_to="unknown",
                                                 preset="standard", is_default=False).build(), "tenant",
         "assignment is not read", name="preset-assignment-unread"),
    Case("IDA-ESEC-006", "unknown", lambda: Tenant().section("exchange.safeLinksPolicies", "unlicensed",
                                                             "requires Microsoft Defender for Office 365 Plan 1")
         .build(), "tenant", "unlicensed", name="unlicensed"),
    # IDA-ESEC-007 Safe Attachments
    Case("IDA-ESEC-007", "pass", lambda: prot("safe_attachments", policy="All", is_default=False).build(), "tenant",
         "every recipient"),
    Case("IDA-ESEC-007", "fail", lambda: prot("safe_attachments", t=prot("safe_attachments", policy="B",
                                                                         preset="builtin", is_default=False),
                                              policy="Monitor", applies_to="some", on=False, is_default=False,
                                              detail="Action=Allow").build(), "tenant", "Action=Allow",
         name="monitor-policy"),
    Case("IDA-ESEC-007", "unknown", lambda: Tenant().section("exchange.safeAttachmentRules", "error", "500")
         .build(), "tenant", "safeAttachmentRules"),
    # IDA-ESEC-008 attachment filter + ZAP
    Case("IDA-ESEC-008", "pass", lambda: prot("zap", t=prot("attachment_filter")).build(), "tenant", "every"),
    Case("IDA-ESEC-008", "fail", lambda: prot("zap", on=False, t=prot("attachment_filter")).build(), "tenant",
         "off", name="zap-off"),
    Case("IDA-ESEC-008", "fail", lambda: prot("attachment_filter", on=False).build(), "tenant", "off"),
    Case("IDA-ESEC-008", "unknown", lambda: prot("zap", t=prot("attachment_filter", t=prot(
        "attachment_filter", policy="Custom", applies_to="unknown", on=False, is_default=False))).build(),
         "tenant", "assignment idaudit does not read", name="custom-off-unread-rule"),
    Case("IDA-ESEC-008", "unknown", lambda: Tenant().section("exchange.malwareFilterPolicies", "forbidden",
                                                             "grant Exchange.ManageAsApp").build(), "tenant",
         "malwareFilterPolicies"),
    # IDA-ESEC-009 allow lists
    Case("IDA-ESEC-009", "fail", lambda: prot("allowed_sender_domains", detail="AllowedSenderDomains: vendor.com")
         .build(), "tenant", "vendor.com"),
    Case("IDA-ESEC-009", "fail", lambda: prot("ip_allow_list", detail="IPAllowList: 203.0.113.25").build(),
         "tenant", "203.0.113.25", name="ip-allow-list"),
    Case("IDA-ESEC-009", "pass", lambda: prot("allowed_sender_domains", on=False, t=prot("ip_allow_list", on=False,
                                                                                        t=prot("safe_list",
                                                                                               on=False)))
         .build(), "tenant", "no allowed sender domain"),
    Case("IDA-ESEC-009", "unknown", lambda: prot("safe_list", on=None).build(), "tenant", "not reported"),
    Case("IDA-ESEC-009", "unknown", lambda: Tenant().section("exchange.connectionFilterPolicies", "error",
                                                             "timeout").build(), "tenant", "connectionFilter",
         name="section-error"),
    Case("IDA-ESEC-009", "fail", lambda: prot("ip_allow_list", policy="/", provider="google",
                                              detail="allowedIpAddresses: 198.51.100.7").build(), "tenant",
         "198.51.100.7", name="google-allowlist"),
    # IDA-ESEC-010 external tagging
    Case("IDA-ESEC-010", "pass", lambda: settings(external_in_outlook="true", external_tag_transport_rules="")
         .build(), "tenant", "External tag is on"),
    Case("IDA-ESEC-010", "pass", lambda: settings(external_in_outlook="false",
                                                  external_tag_transport_rules="[EXT] rule").build(), "tenant",
         "[EXT] rule", name="transport-rule"),
    Case("IDA-ESEC-010", "fail", lambda: settings(external_in_outlook="false", external_tag_transport_rules="")
         .build(), "tenant", "External tag is off"),
    Case("IDA-ESEC-010", "unknown", lambda: settings(external_tag_transport_rules="").setting_gap(
        "external_in_outlook", "exchange.externalInOutlook: forbidden").build(), "tenant", "forbidden"),
    # IDA-ESEC-011 unified audit log
    Case("IDA-ESEC-011", "pass", lambda: settings(unified_audit_log_ingestion="true").build(), "tenant", "is on"),
    Case("IDA-ESEC-011", "fail", lambda: settings(unified_audit_log_ingestion="false").build(), "tenant", "off"),
    Case("IDA-ESEC-011", "unknown", lambda: Tenant().setting_gap("unified_audit_log_ingestion",
                                                                 "exchange.adminAuditLogConfig: error — 500")
         .build(), "tenant", "500"),
    # IDA-ESEC-012 mailbox auditing
    Case("IDA-ESEC-012", "pass", lambda: settings(mailbox_audit_disabled="false", mailbox_audit_bypass="").build(),
         "tenant", "no account bypasses"),
    Case("IDA-ESEC-012", "fail", lambda: settings(mailbox_audit_disabled="true", mailbox_audit_bypass="").build(),
         "tenant", "AuditDisabled=True"),
    Case("IDA-ESEC-012", "fail", lambda: settings(mailbox_audit_disabled="false", mailbox_audit_bypass="scan2mail")
         .build(), "tenant", "scan2mail", name="bypass"),
    Case("IDA-ESEC-012", "unknown", lambda: settings(mailbox_audit_disabled="false").setting_gap(
        "mailbox_audit_bypass", "exchange.mailboxAuditBypass: timeout").build(), "tenant", "timeout"),
]



def gmail(*facets: str, off: dict[str, str] | None = None, unknown: tuple[str, ...] = ()) -> Tenant:
    """Google rows: every facet on at '/' and '/Front Desk', except `off` {facet: ou} and `unknown` facets."""
    t = Tenant("google")
    for f in facets:
        for ou in ("/", "/Front Desk"):
            on: bool | None = not (off and off.get(f) == ou)
            if f in unknown:
                on = None
            prot(f, policy=ou, applies_to="all" if ou == "/" else "some", on=on, is_default=ou == "/",
                 provider="google", t=t, detail=f"{f} at {ou}")
    return t


ATT = ("gmail_encrypted_attachments", "gmail_script_attachments", "gmail_anomalous_attachments")
LINKS = ("gmail_shortened_links", "gmail_external_images", "gmail_untrusted_link_warnings")
SPOOF = ("gmail_domain_name_spoofing", "gmail_employee_name_spoofing", "gmail_inbound_domain_spoofing",
         "gmail_unauthenticated_email", "gmail_groups_spoofing")
CASES += [
    Case("IDA-ESEC-013", "pass", lambda: gmail("gmail_predelivery_scanning").build(), "tenant",
         "every organisational unit"),
    Case("IDA-ESEC-013", "fail", lambda: gmail("gmail_predelivery_scanning",
                                               off={"gmail_predelivery_scanning": "/Front Desk"}).build(), "tenant",
         "off in /Front Desk"),
    Case("IDA-ESEC-013", "unknown", lambda: gmail("gmail_predelivery_scanning",
                                                  unknown=("gmail_predelivery_scanning",)).build(), "tenant",
         "not known everywhere", name="no-policy-no-default"),
    Case("IDA-ESEC-013", "unknown", lambda: gmail("gmail_predelivery_scanning").section(
        "policies", "forbidden", "grant cloud-identity.policies.readonly").build(), "tenant", "policies",
         name="policies-forbidden"),
    Case("IDA-ESEC-014", "pass", lambda: gmail(*ATT).build(), "tenant", "attachment protection on"),
    Case("IDA-ESEC-014", "fail", lambda: gmail(*ATT, off={"gmail_script_attachments": "/"}).build(), "tenant",
         "attachments with scripts is off in /"),
    Case("IDA-ESEC-014", "unknown", lambda: Tenant("google").build(), "tenant", "no attachment protection setting",
         name="nothing-returned"),
    Case("IDA-ESEC-015", "pass", lambda: gmail(*LINKS).build(), "tenant", "link and image protection on"),
    Case("IDA-ESEC-015", "fail", lambda: gmail(*LINKS, off={"gmail_untrusted_link_warnings": "/"}).build(), "tenant",
         "warnings on links to untrusted domains is off"),
    Case("IDA-ESEC-015", "unknown", lambda: gmail(*LINKS, unknown=("gmail_external_images",)).build(), "tenant",
         "scanning linked images"),
    Case("IDA-ESEC-016", "pass", lambda: gmail(*SPOOF).build(), "tenant", "spoofing protection on"),
    Case("IDA-ESEC-016", "fail", lambda: gmail(*SPOOF, off={"gmail_employee_name_spoofing": "/Front Desk"}).build(),
         "tenant", "employee-name spoofing protection is off in /Front Desk"),
    Case("IDA-ESEC-016", "unknown", lambda: gmail(*SPOOF).section("orgUnits", "error", "500").build(), "tenant",
         "orgUnits"),
]


@cases_param(CASES)
def test_case(case: Case) -> None:
    case.verify()


def test_every_email_check_has_fail_pass_and_unknown_cases() -> None:
    import checks

    ids = {m.meta.id for m in checks.builtin_checks().all() if m.meta.id.startswith("IDA-ESEC")}
    assert ids == {c.check_id for c in CASES}
    for cid in ids:
        got = {c.expect for c in CASES if c.check_id == cid}
        assert {"fail", "pass", "unknown"} <= got, (cid, got)


def test_demo_tenant_verdicts_and_the_30_day_plan(tmp_path: Any) -> None:
    """The simulated centre's planted mail mistakes are found on both providers, and each failing email check
    lands in the 30-day plan owned by the IT manager (reports/actions.py: high severity -> 30 days)."""
    from idaudit.core.snapshot import load_snapshot
    from idaudit.orchestration.pipeline import audit_snapshot
    from reports.actions import action_plan
    from simulator import build_organisation, render_microsoft_snapshot
    from simulator.google import render_google_snapshot

    org = build_organisation(40, seed=3)
    expected = {
        "microsoft": {"IDA-ESEC-001", "IDA-ESEC-002", "IDA-ESEC-003", "IDA-ESEC-007", "IDA-ESEC-009",
                      "IDA-ESEC-012"},
        "google": {"IDA-ESEC-001", "IDA-ESEC-002", "IDA-ESEC-003", "IDA-ESEC-009", "IDA-ESEC-013",
                   "IDA-ESEC-015"},
    }
    for provider, render in (("microsoft", render_microsoft_snapshot), ("google", render_google_snapshot)):
        run = audit_snapshot(load_snapshot(render(org, tmp_path / provider)))
        f = run.findings[run.findings["check_id"].str.startswith("IDA-ESEC")]
        failing = set(f.loc[f["status"] == "fail", "check_id"])
        assert failing == expected[provider], (provider, sorted(failing))
        secondary = org.secondary_domains[0]
        assert set(f.loc[f["status"] == "fail", "subject_id"]) >= {secondary, "tenant"}
        assert not (f["status"] == "unknown").any(), f[f["status"] == "unknown"][["check_id", "evidence"]]
        plan = {a.check_id: a for a in action_plan(run) if a.check_id.startswith("IDA-ESEC")}
        for cid in expected[provider] - {"IDA-ESEC-003"}:  # DKIM is medium severity: the 90-day plan
            assert plan[cid].due_days == 30 and plan[cid].owner_role == "IT manager", plan[cid]
