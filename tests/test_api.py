"""The library API on hand-built provider-neutral tables: the typical questions, the findings views, the display.

The tables are built with idaudit.core.tables.make_table (real code, no mocks) and the checks are real checks registered
in a private registry, so these tests do not depend on any provider's normaliser.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import idaudit
from idaudit.api.answers import is_mail_reading_scope
from idaudit.core.config import Config
from idaudit.core.engine import CheckRegistry, CheckSettings, check, result_frame
from idaudit.core.model import Framework, Reference, Severity, SubjectKind
from idaudit.core.snapshot import Manifest, SectionRecord, SectionStatus
from idaudit.core.tables import AuditData, TableStatus, make_table

REFS = (Reference(Framework.HIPAA, "164.312(d)", "Person or entity authentication"),)
EVIL = "<script>alert('x')</script>"


def _registry() -> CheckRegistry:
    reg = CheckRegistry()

    @check(id="IDA-AUTH-901", title="Enabled user without MFA (test)", severity=Severity.HIGH,
           rationale="A stolen password alone opens the mailbox.", remediation="Register MFA for every user.",
           references=REFS, providers=["microsoft"], requires=["users", "mfa_registration"],
           subject_kind=SubjectKind.USER, family="authentication", registry=reg)
    def no_mfa(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        users = data.table("users")
        reg_ = data.table("mfa_registration").set_index("user_id")["registered"]
        registered = users["user_id"].map(reg_).fillna(False).astype(bool)
        return result_frame(pd.DataFrame({
            "subject_id": users["user_id"], "subject": users["principal"],
            "status": registered.map({True: "pass", False: "fail"}),
            "evidence": registered.map({True: "MFA registered", False: "no MFA method"})}))

    @check(id="IDA-MAIL-901", title="Forwarding outside (test)", severity=Severity.CRITICAL,
           rationale="Forwarded mail leaves the organisation.", remediation="Remove the forwarding rule.",
           references=REFS, providers=["microsoft"], requires=["forwarding"], subject_kind=SubjectKind.RULE,
           family="mail", registry=reg)
    def forwards(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        fw = data.table("forwarding")
        return result_frame(pd.DataFrame({"subject_id": fw["user_id"] + ":" + fw["rule_id"],
                                          "subject": fw["rule_name"],
                                          "status": "fail", "evidence": fw["recipient"]}))

    @check(id="IDA-APPS-901", title="Consent setting (test)", severity=Severity.MEDIUM,
           rationale="Users consenting to apps hand out mail access.", remediation="Turn user consent off.",
           references=REFS, providers=["microsoft"], requires=["tenant_settings"],
           subject_kind=SubjectKind.TENANT, family="apps", registry=reg)
    def consent(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
        return result_frame([{"subject_id": "tenant", "subject": "tenant", "status": "pass",
                              "evidence": data.setting("user_consent")}])

    return reg


def _manifest() -> Manifest:
    ok = SectionStatus.OK
    return Manifest(provider="microsoft", tenant_id="t-1", tenant_name=EVIL,
                    collected_at=datetime(2026, 11, 28, 12, tzinfo=UTC), sections={
                        "users": SectionRecord("users", ok, "users.json", 5),
                        "inboxRules": SectionRecord("inboxRules", ok, "inboxRules.json", 4,
                                                    failed_subjects={"u5": "error: timeout"}),
                        "conditionalAccessPolicies": SectionRecord(
                            "conditionalAccessPolicies", SectionStatus.UNLICENSED, None, 0,
                            detail="403 requires Entra ID P1"),
                    })


def _data(*, registration: TableStatus | None = None, grants: bool = True) -> AuditData:
    users = make_table("users", [
        {"user_id": "u1", "principal": "ann@clinic.org", "display_name": "Ann", "enabled": True, "user_type": "member"},
        {"user_id": "u2", "principal": "bob@clinic.org", "display_name": EVIL, "enabled": True, "user_type": "member"},
        {"user_id": "u3", "principal": "cy@clinic.org", "display_name": "Cy", "enabled": True, "user_type": "member"},
        {"user_id": "u4", "principal": "old@clinic.org", "display_name": "Old", "enabled": False, "user_type": "member"},
        {"user_id": "u5", "principal": "breakglass@clinic.org", "display_name": "BG", "enabled": True,
         "user_type": "member"},
    ])
    mfa = make_table("mfa_registration", [
        {"user_id": "u1", "registered": True, "strongest": "standard", "methods": "authenticator_push"},
        {"user_id": "u2", "registered": False, "strongest": "none", "methods": ""},
        {"user_id": "u4", "registered": False, "strongest": "none", "methods": ""},
        {"user_id": "u5", "registered": True, "strongest": "phishing_resistant", "methods": "fido2"},
    ])
    enforcement = make_table("mfa_enforcement", [
        {"user_id": "u1", "enforced": "yes", "enforced_by": "CA policy 'Require MFA'"},
        {"user_id": "u2", "enforced": "no", "reason": "excluded from CA policy 'Require MFA' by group 'Kiosks'"},
        {"user_id": "u3", "enforced": "unknown", "reason": "per-user MFA state not collected"},
        {"user_id": "u5", "enforced": "no", "reason": "excluded from CA policy 'Require MFA' (user)"},
    ])
    forwarding = make_table("forwarding", [
        {"user_id": "u2", "mechanism": "inbox_rule_forward", "rule_id": "r1", "rule_name": EVIL, "enabled": True,
         "recipient": "x@gmail.com", "recipient_domain": "gmail.com", "keeps_copy": True},
        {"user_id": "u1", "mechanism": "inbox_rule_forward", "rule_id": "r2", "rule_name": "to colleague",
         "enabled": True, "recipient": "cy@clinic.org", "recipient_domain": "CLINIC.org", "keeps_copy": True},
        {"user_id": "u1", "mechanism": "inbox_rule_redirect", "rule_id": "r3", "rule_name": "lab results",
         "enabled": True, "recipient": "desk@partnerlab.com", "recipient_domain": "partnerlab.com"},
        {"user_id": "u3", "mechanism": "mailbox_forwarding", "rule_id": "", "rule_name": "", "enabled": True,
         "recipient": "Cy Shared", "recipient_domain": ""},
        {"user_id": "u3", "mechanism": "inbox_rule_forward", "rule_id": "r4", "rule_name": "old rule",
         "enabled": False, "recipient": "cy@yahoo.com", "recipient_domain": "yahoo.com"},
    ])
    domains = make_table("domains", [
        {"domain": "clinic.org", "verified": True, "default": True},
        {"domain": "clinic-typo.org", "verified": False, "default": False},
    ])
    oauth = make_table("oauth_grants", [
        {"grant_id": "g1", "app_id": "a1", "app_name": "SecureDocs Viewer", "publisher": "", "publisher_verified":
         False, "app_owner": "third_party", "grant_kind": "delegated", "consent_scope": "single_user",
         "user_id": "u2", "resource": "Microsoft Graph", "scope": "Mail.Read"},
        {"grant_id": "g1", "app_id": "a1", "app_name": "SecureDocs Viewer", "publisher": "", "publisher_verified":
         False, "app_owner": "third_party", "grant_kind": "delegated", "consent_scope": "single_user",
         "user_id": "u2", "resource": "Microsoft Graph", "scope": "offline_access"},
        {"grant_id": "g2", "app_id": "a1", "app_name": "SecureDocs Viewer", "publisher": "", "publisher_verified":
         False, "app_owner": "third_party", "grant_kind": "delegated", "consent_scope": "single_user",
         "user_id": "u3", "resource": "Microsoft Graph", "scope": "Mail.Read"},
        {"grant_id": "g3", "app_id": "a2", "app_name": "Backup", "publisher": "Backup Inc", "publisher_verified":
         True, "app_owner": "third_party", "grant_kind": "application", "consent_scope": "application",
         "user_id": "", "resource": "Office 365 Exchange Online", "scope": "full_access_as_app"},
        {"grant_id": "g4", "app_id": "a3", "app_name": "Calendar sync", "publisher": "Cal", "publisher_verified":
         True, "app_owner": "third_party", "grant_kind": "delegated", "consent_scope": "all_users",
         "user_id": "", "resource": "Microsoft Graph", "scope": "Calendars.Read"},
    ])
    settings = make_table("tenant_settings", [{"setting": "user_consent", "value": "off", "source": "x"}])
    tables = {"users": users, "mfa_registration": mfa, "mfa_enforcement": enforcement, "forwarding": forwarding,
              "domains": domains, "oauth_grants": oauth, "tenant_settings": settings}
    status = {name: TableStatus.ok(name) for name in tables}
    if registration is not None:
        status["mfa_registration"] = registration
    if not grants:
        status["oauth_grants"] = TableStatus.missing("oauth2PermissionGrants: forbidden — grant Directory.Read.All",
                                                     "oauth2PermissionGrants")
    return AuditData(provider="microsoft", tenant_id="t-1", tenant_name=EVIL,
                     collected_at=pd.Timestamp("2026-11-28T12:00:00Z"), tables=tables, status=status,
                     manifest=_manifest())


CONFIG = Config(path=None, settings=CheckSettings(trusted_domains=frozenset({"partnerlab.com"}),
                                                  break_glass=frozenset({"breakglass@clinic.org"}),
                                                  allowed_apps=frozenset({"a2"})))


def _audit(**kw: object) -> idaudit.Audit:
    return idaudit.Audit.from_data(_data(**kw), CONFIG, registry=_registry())  # type: ignore[arg-type]


def test_no_mfa_lists_enabled_users_without_a_method_and_unknowns() -> None:
    answer = _audit().no_mfa()
    assert list(answer["principal"]) == ["bob@clinic.org", "cy@clinic.org"]
    assert list(answer["mfa"]) == ["none", "unknown"]  # Cy's registration was never collected: not a pass
    assert answer.loc[1, "reason"] == "MFA registration not collected for this user"
    assert "old@clinic.org" in set(_audit().no_mfa(include_disabled=True)["principal"])


def test_no_mfa_partial_table_warns_and_names_the_reason() -> None:
    partial = TableStatus("partial", reason="authenticationMethods: 1 user failed",
                          missing_subjects={"u3": "error: timeout after 3 retries"})
    with pytest.warns(idaudit.IncompleteDataWarning, match="mfa_registration 1 subject"):
        answer = _audit(registration=partial).no_mfa()
    cy = answer[answer["principal"] == "cy@clinic.org"].iloc[0]
    assert (cy["mfa"], cy["reason"]) == ("unknown", "error: timeout after 3 retries")


def test_missing_table_raises_with_reason_instead_of_an_empty_answer() -> None:
    audit = _audit(grants=False)
    with pytest.raises(idaudit.DataNotCollected, match=r"Directory\.Read\.All") as exc:
        audit.apps_reading_mail()
    assert exc.value.table == "oauth_grants"
    with pytest.raises(idaudit.DataNotCollected):
        _ = audit.apps


def test_not_enforced_gives_the_reason_and_marks_break_glass() -> None:
    answer = _audit().not_enforced().set_index("principal")
    assert set(answer.index) == {"bob@clinic.org", "cy@clinic.org", "breakglass@clinic.org"}
    assert answer.loc["bob@clinic.org", "reason"] == "excluded from CA policy 'Require MFA' by group 'Kiosks'"
    assert answer.loc["cy@clinic.org", "enforced"] == "unknown"
    assert bool(answer.loc["breakglass@clinic.org", "break_glass"]) is True
    assert bool(answer.loc["bob@clinic.org", "break_glass"]) is False


def test_external_forwarding_excludes_own_and_trusted_domains_only() -> None:
    answer = _audit().external_forwarding()
    # own domain (case-insensitive) and the trusted partner are inside; an unverified look-alike domain is not
    assert set(answer["recipient"]) == {"x@gmail.com", "Cy Shared", "cy@yahoo.com"}
    assert answer.iloc[-1]["recipient"] == "cy@yahoo.com"  # disabled rules last
    by_recipient = answer.set_index("recipient")
    assert by_recipient.loc["Cy Shared", "destination"] == "unknown"  # not assumed internal
    assert by_recipient.loc["x@gmail.com", "rule_name"] == EVIL  # untrusted text stays text
    assert by_recipient.loc["x@gmail.com", "principal"] == "bob@clinic.org"
    no_trust = idaudit.Audit.from_data(_data(), Config(path=None), registry=_registry())
    assert "desk@partnerlab.com" in set(no_trust.external_forwarding()["recipient"])


def test_apps_reading_mail_one_row_per_app_with_user_count() -> None:
    answer = _audit().apps_reading_mail().set_index("app_name")
    assert set(answer.index) == {"SecureDocs Viewer", "Backup"}  # Calendars.Read is not mail
    assert answer.loc["SecureDocs Viewer", "users"] == 2
    assert answer.loc["SecureDocs Viewer", "scopes"] == "Mail.Read"
    assert not answer.loc["SecureDocs Viewer", "every_mailbox"]
    assert answer.loc["Backup", "every_mailbox"] and answer.loc["Backup", "allowed"]
    assert answer.index[0] == "Backup"  # every mailbox first


@pytest.mark.parametrize(("scope", "reads"), [
    ("Mail.Read", True), ("mail.readwrite", True), ("Mail.ReadBasic.All", True), ("full_access_as_app", True),
    ("https://mail.google.com/", True), ("https://www.googleapis.com/auth/gmail.readonly", True),
    ("Mail.Send", False), ("MailboxSettings.Read", False), ("https://www.googleapis.com/auth/drive", False),
    ("User.Read", False),
])
def test_mail_reading_scopes(scope: str, reads: bool) -> None:
    assert is_mail_reading_scope(scope) is reads


def test_findings_views_filter_and_sort() -> None:
    audit = _audit()
    # no-MFA check: u2, u3 (not collected -> no registration), u4 fail; u1, u5 pass. 5 forwards fail. consent passes.
    assert audit.summary() == {"fail": 8, "unknown": 0, "waived": 0, "pass": 3, "not_applicable": 0}
    high = audit.failing(severity="high")
    assert list(high["check_id"]) == ["IDA-MAIL-901"] * 5 + ["IDA-AUTH-901"] * 3  # critical first
    assert len(audit.failing(severity="critical")) == 5
    assert set(audit.failing(family="authentication")["subject"]) == {"bob@clinic.org", "cy@clinic.org",
                                                                      "old@clinic.org"}
    assert set(audit.failing(check="forwarding")["check_id"]) == {"IDA-MAIL-901"}
    assert len(audit.failing(check="ida-auth-901")) == 3
    about_bob = audit.findings_for("BOB@clinic.org")  # his own finding and the one about his rule
    assert list(about_bob["check_id"]) == ["IDA-MAIL-901", "IDA-AUTH-901"]
    assert list(audit.findings_for("ann@clinic.org")["status"]) == ["fail", "fail", "pass"]  # failing first
    with pytest.raises(ValueError, match="needs a subject"):
        audit.findings_for(" ")
    checks = audit.checks.set_index("check_id")
    assert checks.loc["IDA-APPS-901", "outcome"] == "pass" and checks.loc["IDA-MAIL-901", "fail"] == 5
    only = audit.rerun(only=["IDA-APPS-901"])
    assert set(only.findings["check_id"]) == {"IDA-APPS-901"}


def test_returned_frames_do_not_change_the_audit() -> None:
    audit = _audit()
    f = audit.findings
    f.loc[:, "status"] = "pass"
    users = audit.users
    users.loc[:, "principal"] = "x"
    assert audit.summary()["fail"] == 8
    assert "bob@clinic.org" in set(audit.users["principal"])


def test_unknown_lists_the_gaps_with_reasons() -> None:
    data = _data()
    status = dict(data.status)
    status["forwarding"] = TableStatus.missing("inboxRules: forbidden — grant MailboxSettings.Read", "inboxRules")
    gap = AuditData(**{**data.__dict__, "status": status})
    unknown = idaudit.Audit.from_data(gap, registry=_registry()).unknown()
    assert list(unknown["check_id"]) == ["IDA-MAIL-901"]
    assert "MailboxSettings.Read" in unknown.iloc[0]["evidence"]


def test_coverage_lists_every_section_with_the_fix() -> None:
    cov = _audit().coverage.set_index("section")
    assert cov.loc["users", "status"] == "ok" and cov.loc["users", "fix"] == ""
    assert cov.loc["inboxRules", "subjects_failed"] == 1
    assert cov.loc["conditionalAccessPolicies", "status"] == "unlicensed"
    assert "Entra ID P1" in cov.loc["conditionalAccessPolicies", "fix"]
    assert cov.loc["exchange.mailboxes", "status"] == "not collected"  # absent from the manifest


def test_repr_html_counts_and_escapes_attacker_text() -> None:
    audit = _audit()
    page = audit._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    counts = audit.counts()
    assert int(counts.loc["critical", "fail"]) == 5 and int(counts.loc["high", "fail"]) == 3
    assert "<th style='text-align:left'>critical</th><td>5</td>" in page
    assert "conditionalAccessPolicies" in page and "Entra ID P1" in page
    assert "inboxRules</code>: ok, 1 subject(s) failed" in page
    assert "exchange.mailboxes" not in page and "are not in this snapshot" in page  # absent: counted, not listed
    text = repr(audit)
    assert "\x1b" not in text and "fail 8" in text


def test_repr_before_evaluation_does_no_work(tmp_path: object) -> None:
    audit = _audit()
    assert "not evaluated yet" in repr(audit)
    assert "run" not in audit.__dict__


def test_answers_do_not_warn_on_complete_data() -> None:
    audit = _audit()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audit.no_mfa()
        audit.not_enforced()
        audit.external_forwarding()
        audit.apps_reading_mail()


def test_write_workbook_to_a_file_name_and_a_directory(tmp_path: Path) -> None:
    import openpyxl

    audit = _audit()
    book = audit.write_workbook(tmp_path / "review.xlsx")
    assert book == tmp_path / "review.xlsx" and book.is_file()
    assert (book.stat().st_mode & 0o077) == 0  # owner-only: it names staff
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    wb = openpyxl.load_workbook(book, read_only=True)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c]
    wb.close()
    assert "bob@clinic.org" in cells  # the failing user is in the workbook
    in_dir = audit.write_workbook(tmp_path / "out")
    assert in_dir == tmp_path / "out" / "idaudit-report.xlsx" and in_dir.is_file()
    paths = audit.write_reports(tmp_path / "all", ["html", "json"])
    assert sorted(p.suffix for p in paths) == [".html", ".json"]
    assert EVIL not in (tmp_path / "all" / "idaudit-report.html").read_text(encoding="utf-8")


MS_MESSAGE = ("To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code "
              "FQK7-LMN2X to authenticate.")


def test_device_code_prompt_outside_jupyter_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    idaudit.show_device_code(MS_MESSAGE + "\x1b[2J")
    err = capsys.readouterr().err
    assert "https://microsoft.com/devicelogin" in err and "FQK7-LMN2X" in err
    assert "\x1b" not in err  # a terminal escape in the message is neutralised


def test_device_code_html_links_https_only_and_escapes() -> None:
    from idaudit.api import device_code_html

    page = device_code_html(MS_MESSAGE)
    assert 'href="https://microsoft.com/devicelogin"' in page and ">FQK7-LMN2X</code>" in page
    hostile = device_code_html("open javascript:alert(1) <img src=x onerror=alert(1)> and enter the code ABCDEFGH")
    assert "href" not in hostile and "<img" not in hostile and "&lt;img" in hostile


def test_external_forwarding_unverified_subdomain_outside_and_no_verified_domain_is_a_gap() -> None:
    data = _data()
    tables = dict(data.tables)
    tables["forwarding"] = make_table("forwarding", [
        {"user_id": "u1", "mechanism": "inbox_rule_forward", "rule_id": "r9", "rule_name": "to lab",
         "enabled": True, "recipient": "desk@lab.clinic.org", "recipient_domain": "lab.clinic.org"},
        {"user_id": "u1", "mechanism": "inbox_rule_forward", "rule_id": "r8", "rule_name": "look-alike",
         "enabled": True, "recipient": "desk@evilclinic.org", "recipient_domain": "evilclinic.org"},
    ])
    sub = idaudit.Audit.from_data(AuditData(**{**data.__dict__, "tables": tables}), registry=_registry())
    # lab.clinic.org is not itself verified: Exchange routes it by its own MX, so it is outside
    assert sorted(sub.external_forwarding()["recipient"]) == ["desk@evilclinic.org", "desk@lab.clinic.org"]
    tables["domains"] = make_table("domains", [{"domain": "clinic.org", "verified": False, "default": True}])
    unverified = idaudit.Audit.from_data(AuditData(**{**data.__dict__, "tables": tables}), registry=_registry())
    with pytest.raises(idaudit.DataNotCollected, match="no verified domain"):
        unverified.external_forwarding()


def test_unknown_check_id_is_an_error_not_an_empty_clean_run() -> None:
    with pytest.raises(ValueError, match="IDA-MAIL-999"):
        _ = _audit().rerun(only=["IDA-MAIL-999"]).findings
