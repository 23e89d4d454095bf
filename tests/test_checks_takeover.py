"""Signs of takeover (IDA-TKO-*): each check fails, passes and is unknown on hand-made log tables, and the
"how it got there" column of the mail, app and privileged checks names the logged event or says why none is shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from idaudit.core.engine import CheckSettings
from tests.checkkit import Case, Tenant, cases_param, row, run

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
WINDOW = (pd.Timestamp("2026-11-21T12:00:00Z"), pd.Timestamp("2026-11-28T12:00:00Z"))


def _t(provider: str = "microsoft") -> Tenant:
    t = Tenant(provider).domains("clinic.org").user("u1", "nurse@clinic.org").user("u2", "it@clinic.org")
    return t.role("u2")


def _sign_in(t: Tenant, uid: str, country: str, first: str, ip: str, *, last: str | None = None,
             count: int = 3) -> Tenant:
    return t.add("sign_in_countries", user_id=uid, country=country, first_seen=first, last_seen=last or first,
                 sign_ins=count, first_ip=ip, ips=ip)


def _home(t: Tenant) -> Tenant:
    """Everyone signs in from the US (the home country) from the start of the window."""
    _sign_in(t, "u1", "US", "2026-11-21T13:00:00Z", "100.64.0.1", last="2026-11-28T08:00:00Z", count=9)
    return _sign_in(t, "u2", "US", "2026-11-21T14:00:00Z", "198.51.100.10", count=20)


def _event(t: Tenant, eid: str, kind: str, operation: str, obj: str, when: str, ip: str, country: str = "",
           uid: str = "u1", actor: str = "nurse@clinic.org", actor_id: str = "u1", detail: str = "",
           source: str = "directoryAudits") -> Tenant:
    return t.add("change_events", event_id=eid, time=when, user_id=uid, actor_id=actor_id, actor=actor, kind=kind,
                 operation=operation, object=obj, detail=detail, ip=ip, country=country, source=source)


def _phished(t: Tenant) -> Tenant:
    """A sign-in from Nigeria on the 24th after US sign-ins: a new country for u1."""
    return _sign_in(_home(t), "u1", "NG", "2026-11-24T13:00:00Z", "203.0.113.20")


def _forward_rule(t: Tenant, when: str = "2026-11-26T13:03:00Z") -> Tenant:
    t.rule("u1", "r1", "Mail sync", forwards=True)
    return _event(t, "e-rule", "inbox_rule", "New-InboxRule", "Mail sync", when, "203.0.113.20", "NG",
                  detail="forwardto=x@gmail.com", source="exchangeAuditRecords")


def _benign_rule(t: Tenant) -> Tenant:
    t.rule("u1", "r1", "Mail sync", forwards=True)
    return _event(t, "e-rule", "inbox_rule", "New-InboxRule", "Mail sync", "2026-11-26T13:03:00Z", "100.64.0.1",
                  "US", detail="forwardto=x@gmail.com", source="exchangeAuditRecords")


def _mfa(t: Tenant, ip: str = "203.0.113.20", country: str = "NG", when: str = "2026-11-24T13:20:00Z") -> Tenant:
    return _event(t, "e-mfa", "mfa_added", "User registered security info", "Authenticator App", when, ip, country)


def _consent(t: Tenant, actor_id: str = "u1", detail: str = "scopes: openid Mail.Read") -> Tenant:
    actor = "nurse@clinic.org" if actor_id == "u1" else "it@clinic.org"
    return _event(t, "e-consent", "consent", "Consent to application", "SecureDocs Viewer",
                  "2026-11-25T15:05:00Z", "203.0.113.20", "NG", uid=actor_id, actor=actor, actor_id=actor_id,
                  detail=detail)


def _risky(t: Tenant, level: str = "high", state: str = "atRisk") -> Tenant:
    return t.add("risky_users", user_id="u1", risk_level=level, risk_state=state, risk_detail="none",
                 updated="2026-11-26T13:30:00Z")


def _summary(t: Tenant, legacy: int = 0, single: int = 0) -> Tenant:
    return t.add("sign_in_summary", user_id="u1", sign_ins=5, countries="US", legacy_successes=legacy,
                 legacy_clients="Authenticated SMTP" if legacy else "", legacy_last="2026-11-27T04:36:00Z",
                 legacy_last_ip="198.51.100.10", single_factor_successes=single,
                 single_factor_last="2026-11-27T04:36:00Z", single_factor_last_ip="198.51.100.10")


def _no_sign_ins(t: Tenant) -> Tenant:
    return t.missing("sign_in_countries", "signIns: unlicensed — requires Microsoft Entra ID P1")


CASES = [
    # IDA-TKO-001 forwarding / hiding rule soon after a risky sign-in
    Case("IDA-TKO-001", "fail", lambda: _forward_rule(_phished(_t())).build(), "u1:e-rule",
         "first successful sign-in from a new country from 203.0.113.20 (NG) (earlier in the window: US)"),
    Case("IDA-TKO-001", "fail", lambda: _forward_rule(_mfa(_home(_t()))).build(), "u1:e-rule",
         "User registered security info 'Authenticator App' by nurse@clinic.org from 203.0.113.20 (NG)",
         name="after-new-mfa-method"),
    Case("IDA-TKO-001", "pass", lambda: _benign_rule(_home(_t())).build(), "u1:e-rule",
         "no sign-in from a new country"),
    Case("IDA-TKO-001", "pass", lambda: _forward_rule(_phished(_t()), when="2026-11-28T10:00:00Z").build(),
         "u1:e-rule", "no sign-in from a new country", settings=CheckSettings(now=NOW, takeover_window_days=1),
         name="outside-the-takeover-window"),
    Case("IDA-TKO-001", "pass", lambda: _home(_t()).build(), "tenant", "no forwarding or hiding rule"),
    Case("IDA-TKO-001", "unknown", lambda: _no_sign_ins(_benign_rule(_t())).build(), "u1:e-rule",
         "requires Microsoft Entra ID P1"),
    Case("IDA-TKO-001", "unknown", lambda: _t().missing("change_events", "exchangeAuditRecords: forbidden").build(),
         "*", "exchangeAuditRecords"),
    Case("IDA-TKO-001", "fail", lambda: _sign_in(_home(_t("google")), "u1", "NG", "2026-11-24T13:00:00Z",
                                                 "203.0.113.20").forward("u1", "x@gmail.com",
                                                                         mechanism="gmail_auto_forward").build(),
         "u1", "Google's logs do not record", name="google-forwarding-and-new-country"),
    # IDA-TKO-002 consent to a mail-reading app by a non-admin
    Case("IDA-TKO-002", "fail", lambda: _consent(_t()).build(), "u1:e-consent", "granted Mail.Read"),
    Case("IDA-TKO-002", "pass", lambda: _consent(_t(), actor_id="u2").build(), "tenant", "1 consents in the log",
         name="admin-consents"),
    Case("IDA-TKO-002", "pass", lambda: _consent(_t(), detail="scopes: openid User.Read").build(), "tenant",
         "no user who is not an admin", name="harmless-scopes"),
    Case("IDA-TKO-002", "unknown", lambda: _consent(_t()).missing("role_assignments", "roleAssignments: forbidden")
         .build(), "u1:e-consent", "whether the user is an admin cannot be told"),
    # IDA-TKO-003 second MFA method from an unfamiliar address
    Case("IDA-TKO-003", "fail", lambda: _mfa(_phished(_t().mfa("u1", "authenticator_push", "software_otp")))
         .build(), "u1:e-mfa", "NG is a new country for the user"),
    Case("IDA-TKO-003", "fail", lambda: _mfa(_home(_t().mfa("u1", "sms", "software_otp")), ip="100.99.0.7",
                                            country="US").build(), "u1:e-mfa",
         "no successful sign-in from this address", name="address-never-seen"),
    Case("IDA-TKO-003", "pass", lambda: _mfa(_home(_t().mfa("u1", "sms", "software_otp")), ip="100.64.0.1",
                                            country="US").build(), "u1:e-mfa", "an address the user signs in from"),
    Case("IDA-TKO-003", "pass", lambda: _mfa(_phished(_t().mfa("u1", "authenticator_push"))).build(), "u1:e-mfa",
         "first registration", name="first-method"),
    Case("IDA-TKO-003", "unknown", lambda: _no_sign_ins(_mfa(_t())).build(), "u1:e-mfa",
         "whether the address is familiar cannot be told"),
    # IDA-TKO-004 high risk not remediated
    Case("IDA-TKO-004", "fail", lambda: _risky(_t()).build(), "u1", "risk high, state atRisk"),
    Case("IDA-TKO-004", "pass", lambda: _risky(_t(), "medium", "remediated").build(), "u1", "remediated"),
    Case("IDA-TKO-004", "pass", lambda: _t().build(), "tenant", "no user at risk", name="nobody-at-risk"),
    Case("IDA-TKO-004", "unknown", lambda: _risky(_t(), "hidden").build(), "u1", "risk level is hidden"),
    Case("IDA-TKO-004", "unknown", lambda: _t().missing("risky_users", "riskyUsers: forbidden — grant "
                                                        "IdentityRiskyUser.Read.All (and Microsoft Entra ID P2)")
         .build(), "*", "IdentityRiskyUser.Read.All", name="not-collected"),
    # IDA-TKO-005 successes without MFA
    Case("IDA-TKO-005", "fail", lambda: _summary(_t(), legacy=2, single=2).build(), "u1",
         "2 success(es) over Authenticated SMTP", confidence="high"),
    Case("IDA-TKO-005", "fail", lambda: _summary(_t(), single=3).build(), "u1", "3 single-factor success(es)",
         confidence="medium", name="password-only"),
    Case("IDA-TKO-005", "pass", lambda: _summary(_t()).build(), "tenant", "every successful sign-in"),
    Case("IDA-TKO-005", "unknown", lambda: _t().missing("sign_in_summary", "signIns: unlicensed — requires "
                                                        "Microsoft Entra ID P1").build(), "*", "Entra ID P1"),
    # IDA-TKO-006 Google suspicious login
    Case("IDA-TKO-006", "fail", lambda: _event(_t("google"), "e-s", "suspicious_login", "suspicious_login", "",
                                               "2026-11-24T13:00:00Z", "203.0.113.20", "NG").build(), "u1",
         "suspicious_login by nurse@clinic.org from 203.0.113.20 (NG)"),
    Case("IDA-TKO-006", "pass", lambda: _t("google").build(), "tenant", "Google reported no suspicious sign-in"),
    Case("IDA-TKO-006", "unknown", lambda: _t("google").missing("change_events", "reports.login: forbidden")
         .build(), "*", "reports.login"),
]


@cases_param(CASES)
def test_case(case: Case) -> None:
    case.verify()


# ---- how it got there ------------------------------------------------------------------------------------------

def _windowed(t: Tenant) -> Tenant:
    return t.section("exchangeAuditRecords").section("directoryAudits")


def _with_window(data: object) -> object:
    from dataclasses import replace

    return replace(data, log_window=WINDOW)  # type: ignore[type-var]


def test_forwarding_finding_names_the_rule_creation() -> None:
    t = _windowed(_forward_rule(_phished(_t())).forward("u1", "x@gmail.com", rule_id="r1", rule_name="Mail sync"))
    got = row(run(_with_window(t.build()), "IDA-MAIL-001"), "u1:r1")  # type: ignore[arg-type]
    assert got["status"] == "fail"
    assert got["how_it_got_there"] == ("New-InboxRule 'Mail sync' by nurse@clinic.org on 2026-11-26 13:03 UTC from "
                                       "203.0.113.20 (NG)")


def test_forwarding_finding_without_an_event_says_not_in_the_log_window() -> None:
    t = _windowed(_home(_t()).forward("u1", "x@gmail.com", rule_id="r1", rule_name="Mail sync"))
    t.rule("u1", "r1", "Mail sync", forwards=True)
    got = row(run(_with_window(t.build()), "IDA-MAIL-001"), "u1:r1")  # type: ignore[arg-type]
    assert got["how_it_got_there"] == "not in the log window (2026-11-21 to 2026-11-28)"


def test_forwarding_finding_when_the_log_was_not_read_says_so() -> None:
    t = _t().section("exchangeAuditRecords", "forbidden", "grant AuditLogsQuery-Exchange.Read.All")
    t.forward("u1", "x@gmail.com", rule_id="r1", rule_name="Mail sync").rule("u1", "r1", "Mail sync", forwards=True)
    got = row(run(t.build(), "IDA-MAIL-001"), "u1:r1")
    assert got["how_it_got_there"].startswith("log not collected: exchangeAuditRecords")
    assert "AuditLogsQuery-Exchange.Read.All" in got["how_it_got_there"]


def test_consent_and_role_findings_name_their_events() -> None:
    t = _windowed(_consent(_t()).grant("app-docs", "Mail.Read", app_name="SecureDocs Viewer", user_id="u1"))
    _event(t, "e-role", "role_added", "Add member to role", "Global Administrator", "2026-11-25T10:00:00Z",
           "198.51.100.12", "US", uid="u2", actor="admin@clinic.org", actor_id="u9")
    data = _with_window(t.build())
    app = row(run(data, "IDA-APPS-002"), "app-docs")  # type: ignore[arg-type]
    assert app["how_it_got_there"] \
        == "Consent to application 'SecureDocs Viewer' by nurse@clinic.org on 2026-11-25 15:05 UTC from 203.0.113.20 " \
        "(NG)"
    role = run(data, "IDA-AUTH-003")  # type: ignore[arg-type]
    assert "Add member to role 'Global Administrator' by admin@clinic.org" in str(row(role, "u2")["how_it_got_there"])


def test_passes_carry_no_how_it_got_there() -> None:
    t = _windowed(_t().grant("app-x", "User.Read"))
    f = run(_with_window(t.build()), "IDA-APPS-002")  # type: ignore[arg-type]
    assert (f["how_it_got_there"] == "").all()


def test_google_rules_say_the_log_cannot_show_them() -> None:
    t = _t("google").section("reports.tokenAuthorize").forward("u1", "x@gmail.com", rule_id="f1", rule_name="f",
                                                                mechanism="gmail_filter_forward")
    t.rule("u1", "f1", "f", forwards=True, source="gmail_filter")
    got = row(run(t.build(), "IDA-MAIL-001"), "u1:f1")
    assert got["how_it_got_there"].startswith("not in Google's logs")
