"""App checks: consent settings, risky delegated grants, application permissions, Google tokens."""

from __future__ import annotations

from datetime import UTC, datetime

from idaudit.core.engine import CheckSettings
from tests.checkkit import Case, Tenant, cases_param, run, status

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
ALLOW_DOCS = CheckSettings(now=NOW, allowed_apps=frozenset({"secure docs viewer"}))  # a name: never trusted
ALLOW_DOCS_ID = CheckSettings(now=NOW, allowed_apps=frozenset({"app-docs"}))


def _t(provider: str = "microsoft") -> Tenant:
    return Tenant(provider).domains("clinic.org").user("u1", "nurse@clinic.org")


def _docs(**kw: object) -> Tenant:
    return _t().grant("app-docs", "Mail.Read", app_name="Secure Docs Viewer", publisher="SecureDocs LLC",
                      user_id="u1", **kw)  # type: ignore[arg-type]


CASES = [
    # IDA-APPS-001 user consent
    Case("IDA-APPS-001", "fail", lambda: _t().setting("user_consent", "any_app").build(), "tenant", "any app"),
    Case("IDA-APPS-001", "pass", lambda: _t().setting("user_consent", "off").build(), "tenant", "cannot consent"),
    Case("IDA-APPS-001", "pass", lambda: _t().setting("user_consent", "verified_publishers_low_risk").build(),
         "tenant", "verified publishers", confidence="medium", name="low-risk-only"),
    Case("IDA-APPS-001", "unknown", lambda: _t().setting_gap("user_consent", "authorizationPolicy: forbidden "
                                                             "— grant Policy.Read.All").build(), "tenant",
         "Policy.Read.All"),
    Case("IDA-APPS-001", "fail", lambda: _t("google").setting("user_consent", "any_app").build(), "tenant",
         "any app", name="google-unconfigured-apps-allowed"),
    # IDA-APPS-002 unverified publisher with a risky delegated scope
    Case("IDA-APPS-002", "fail", lambda: _docs().build(), "app-docs",
         "'Secure Docs Viewer' (SecureDocs LLC, publisher not verified, third-party) holds Mail.Read (reads mail)"),
    Case("IDA-APPS-002", "pass", lambda: _docs(verified=True).build(), "app-docs", "verified publisher"),
    Case("IDA-APPS-002", "fail", lambda: _docs().build(), "app-docs", "by display name only", settings=ALLOW_DOCS,
         name="allow-list-by-name-is-not-trust"),
    Case("IDA-APPS-002", "pass", lambda: _docs().build(), "app-docs", "allow-list", settings=ALLOW_DOCS_ID,
         name="allow-listed-by-app-id"),
    Case("IDA-APPS-002", "fail", lambda: _t().grant("app-x", "mail.read", owner="own_org", user_id="u1").build(),
         "app-x", "not trusted automatically", name="own-org-unverified-app-case-insensitive-scope"),
    Case("IDA-APPS-002", "pass", lambda: _t().grant("app-x", "Mail.Read", owner="own_org", verified=True,
                                                    user_id="u1").build(), "app-x", "verified publisher",
         name="own-org-verified-app"),
    Case("IDA-APPS-002", "fail", lambda: _t().grant("app-x", "EAS.AccessAsUser.All", user_id="u1").build(),
         "app-x", "Exchange ActiveSync", name="activesync-scope"),
    Case("IDA-APPS-002", "fail", lambda: _t().grant("app-x", "Directory.AccessAsUser.All", user_id="u1").build(),
         "app-x", "signed-in user's rights", name="directory-impersonation"),
    Case("IDA-APPS-002", "fail", lambda: _t().grant("app-x", "Notes.ReadWrite.All", user_id="u1").build(),
         "app-x", "OneNote", name="readwrite-superset-of-listed-read"),
    Case("IDA-APPS-002", "pass", lambda: _t().grant("app-x", "User.Read").build(), "tenant",
         "no app holds a delegated mail or file scope", name="harmless-scope"),
    Case("IDA-APPS-002", "unknown", lambda: _docs(verified=None).build(), "app-docs", "not collected"),
    Case("IDA-APPS-002", "unknown", lambda: _t().missing("oauth_grants", "oauth2PermissionGrants: forbidden")
         .build(), "*", "oauth2PermissionGrants"),
    # IDA-APPS-003 all-users consent to a third-party app
    Case("IDA-APPS-003", "fail", lambda: _t().grant("app-crm", "Files.Read.All", app_name="CRM Sync",
                                                    verified=True, consent="all_users").build(),
         "app-crm", "for ALL users"),
    Case("IDA-APPS-003", "pass", lambda: _t().grant("app-crm", "Files.Read.All", owner="first_party",
                                                    consent="all_users").build(), "app-crm", "first-party"),
    Case("IDA-APPS-003", "pass", lambda: _docs().build(), "tenant", "no organisation-wide consent",
         name="single-user-consent-not-in-scope"),
    Case("IDA-APPS-003", "fail", lambda: _t().grant("app-own", "Mail.Read", owner="own_org",
                                                    consent="all_users").build(), "app-own",
         "not trusted automatically", name="own-org-app-for-all-users"),
    Case("IDA-APPS-003", "unknown", lambda: _t().grant("app-crm", "Files.Read.All", owner="",
                                                       consent="all_users").build(), "app-crm", "not collected"),
    # IDA-APPS-004 application permissions
    Case("IDA-APPS-004", "fail", lambda: _t().grant("app-bk", "full_access_as_app", app_name="Backup",
                                                    kind="application", consent="application", owner="own_org")
         .build(), "app-bk", "full access to every mailbox"),
    Case("IDA-APPS-004", "pass", lambda: _t().grant("app-ms", "Mail.Read", kind="application", consent="application",
                                                    owner="first_party").build(), "app-ms", "first-party"),
    Case("IDA-APPS-004", "fail", lambda: _t().grant("app-ar", "Application.ReadWrite.All", kind="application",
                                                    consent="application").build(), "app-ar",
         "adds a secret to any app", name="application-readwrite-takes-over"),
    Case("IDA-APPS-004", "fail", lambda: _t().grant("app-sp", "Sites.Manage.All", kind="application",
                                                    consent="application", resource="Office 365 SharePoint Online")
         .build(), "app-sp", "every SharePoint site", name="sharepoint-manage-superset"),
    Case("IDA-APPS-004", "pass", lambda: _t().grant("app-bk", "User.Read.All", kind="application",
                                                    consent="application").build(), "tenant",
         "no app holds an application permission", name="directory-read-not-mail"),
    Case("IDA-APPS-004", "unknown", lambda: _t().grant("app-bk", "Mail.Read", kind="application",
                                                       consent="application", owner="").build(), "app-bk",
         "not collected"),
    # IDA-APPS-005 Google tokens
    Case("IDA-APPS-005", "fail", lambda: _t("google").grant("cid-1", "https://mail.google.com/", app_name="MailMerge",
                                                            verified=None, user_id="u1").build(),
         "cid-1", "full Gmail access"),
    Case("IDA-APPS-005", "pass", lambda: _t("google").grant("cid-1", "https://www.googleapis.com/auth/drive",
                                                            app_name="Approved Sync", user_id="u1").build(),
         "cid-1", "allow-list", settings=CheckSettings(now=NOW, allowed_apps=frozenset({"cid-1"}))),
    Case("IDA-APPS-005", "fail", lambda: _t("google").grant("cid-9", "https://www.googleapis.com/auth/drive",
                                                            app_name="Approved Sync", user_id="u1").build(),
         "cid-9", "by display name only", settings=CheckSettings(now=NOW, allowed_apps=frozenset({"approved sync"})),
         name="google-allow-list-by-name-is-not-trust"),
    Case("IDA-APPS-005", "fail", lambda: _t("google").grant(
        "cid-3", "https://www.googleapis.com/auth/spreadsheets.readonly", app_name="Sheet Export", user_id="u1")
         .build(), "cid-3", "Google Sheets", name="google-sheets-scope"),
    Case("IDA-APPS-005", "fail", lambda: _t("google").grant(
        "cid-4", "https://www.googleapis.com/auth/documents", app_name="Doc Helper", user_id="u1")
         .build(), "cid-4", "Google Docs", name="google-docs-scope"),
    Case("IDA-APPS-005", "pass", lambda: _t("google").grant("cid-2", "openid", user_id="u1").build(), "tenant",
         "no app token", name="harmless-google-scope"),
    Case("IDA-APPS-005", "unknown", lambda: _t("google").partial("oauth_grants", u1="tokens: 403").build(), "u1",
         "tokens: 403"),
    Case("IDA-APPS-005", "unknown", lambda: _t("google").grant("cid-2", "openid", user_id="u1")
         .partial("oauth_grants").build(), "tenant", "incomplete", name="six-month-report-is-not-a-pass"),
    # IDA-APPS-006 Google internal apps
    Case("IDA-APPS-006", "fail", lambda: Tenant("google").setting("google_internal_apps_trusted", "true").build(),
         "tenant", "without review"),
    Case("IDA-APPS-006", "pass", lambda: Tenant("google").setting("google_internal_apps_trusted", "false").build(),
         "tenant", "not trusted"),
    Case("IDA-APPS-006", "unknown", lambda: Tenant("google").build(), "tenant", "not collected"),
]


@cases_param(CASES)
def test_case(case: Case) -> None:
    case.verify()


def test_all_users_grant_says_so_and_lists_scopes_once_per_app() -> None:
    data = (_t().grant("app-docs", "Mail.Read", app_name="Docs", consent="all_users", grant_id="g1")
            .grant("app-docs", "Files.Read.All", app_name="Docs", consent="all_users", grant_id="g1").build())
    got = run(data, "IDA-APPS-002")
    assert status(got, "app-docs") == "fail"
    ev = got[got["subject_id"] == "app-docs"].iloc[0]["evidence"]
    assert "ALL users" in ev and "Files.Read.All" in ev and "Mail.Read" in ev


def test_many_consenting_users_are_summarised() -> None:
    t = _t()
    for i in range(8):
        t.user(f"p{i}").grant("app-docs", "Mail.Read", user_id=f"p{i}")
    ev = run(t.build(), "IDA-APPS-002").iloc[0]["evidence"]
    assert "consented by 8 user(s)" in ev and "and 3 more" in ev
