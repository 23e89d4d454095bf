"""Mail checks: failing, passing and unknown cases, plus the inside/outside edge cases forwarding depends on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checks.common import INSIDE, OUTSIDE, UNDECIDED, classify_domain, recipient_domain
from idaudit.core.engine import CheckSettings
from tests.checkkit import Case, Tenant, cases_param, run, status

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
PARTNER = CheckSettings(now=NOW, trusted_domains=frozenset({"questlab.com"}))


def _fwd_tenant(*senders: tuple[str, str], remote: tuple[tuple[str, bool], ...] = ()) -> Tenant:
    """Users u1.. with their outbound spam outcome (allowed, policy), and remote domains (domain, AutoForwardEnabled)."""
    t = Tenant().domains("clinic.org")
    for i, (allowed, policy) in enumerate(senders, 1):
        t.user(f"u{i}").add("auto_forward_senders", user_id=f"u{i}", allowed=allowed, policy=policy,
                            reason="membership of group 'Billing Team' not collected" if allowed == "unknown" else "")
    for domain, on in remote:
        t.add("remote_domains", domain=domain, name=domain, auto_forward=on)
    return t


def _t(provider: str = "microsoft") -> Tenant:
    return Tenant(provider).domains("clinic.org", "clinic.onmicrosoft.com").user("u1", "nurse@clinic.org")


CASES = [
    # IDA-MAIL-001 inbox rule forwarding outside
    Case("IDA-MAIL-001", "fail", lambda: _t().forward("u1", "drop@gmail.com", rule_name="Invoices").build(),
         "u1:r1", "rule 'Invoices' forwards to 'drop@gmail.com' (outside)"),
    Case("IDA-MAIL-001", "fail", lambda: _t().forward("u1", "x@evil.net", mechanism="inbox_rule_redirect").build(),
         "u1:r1", "redirects to", name="redirect"),
    Case("IDA-MAIL-001", "fail", lambda: _t().forward("u1", "x@evil.net",
                                                      mechanism="inbox_rule_forward_attachment").build(),
         "u1:r1", "forwards as attachment", name="forward-as-attachment"),
    Case("IDA-MAIL-001", "pass", lambda: _t().forward("u1", "frontdesk@clinic.org").build(), "u1:r1", "(inside)"),
    Case("IDA-MAIL-001", "pass", lambda: _t().forward("u1", "lab@questlab.com").build(), "u1:r1",
         "trusted partner domain", settings=PARTNER, name="trusted-partner"),
    Case("IDA-MAIL-001", "pass", lambda: _t().forward("u1", "x@evil.net", enabled=False).build(), "u1:r1",
         "rule is disabled", confidence="medium", name="disabled-rule"),
    Case("IDA-MAIL-001", "pass", lambda: _t().rule("u1", "r9", "Move newsletters", hide_action="move_to:archive")
         .build(), "tenant", "1 rules examined", name="no-forwarding-rules"),
    Case("IDA-MAIL-001", "unknown", lambda: _t().forward("u1", "John Smith", recipient_domain="").build(), "u1:r1",
         "no SMTP address", name="display-name-only-recipient"),
    Case("IDA-MAIL-001", "unknown", lambda: _t().missing("domains", "domains: forbidden — grant Domain.Read.All")
         .build(), "*", "Domain.Read.All"),
    Case("IDA-MAIL-001", "unknown", lambda: _t().partial("forwarding", u1="inboxRules: timeout").build(), "u1",
         "inboxRules: timeout", name="partial-collection"),
    Case("IDA-MAIL-001", "unknown", lambda: _t().section("inboxRules", "forbidden", "grant MailboxSettings.Read")
         .build(), "tenant", "MailboxSettings.Read", name="rules-section-forbidden-is-not-a-pass"),
    Case("IDA-MAIL-001", "fail", lambda: _t("google").forward("u1", "me@yahoo.com", mechanism="gmail_filter_forward",
                                                              rule_id="f1", rule_name="filter").build(),
         "u1:f1", "filter forwards to", name="google-filter"),
    # IDA-MAIL-002 hiding rules
    Case("IDA-MAIL-002", "fail", lambda: _t().rule("u1", "r1", ".", hide_action="move_to:RSS Feeds",
                                                   conditions="subject or body contains 'invoice', 'payment'")
         .build(), "u1:r1", "meaningless rule name '.'"),
    Case("IDA-MAIL-002", "fail", lambda: _t().rule("u1", "r1", "cleanup", hide_action="delete",
                                                   conditions="subject contains 'password reset'").build(),
         "u1:r1", "password", name="delete-on-password"),
    Case("IDA-MAIL-002", "pass", lambda: _t().rule("u1", "r1", "Newsletters", hide_action="move_to:Archive",
                                                   conditions="from news@vendor.com").build(), "u1:r1",
         "ordinary filing", confidence="medium"),
    Case("IDA-MAIL-002", "pass", lambda: _t().rule("u1", "r1", "Team", conditions="from boss").build(), "tenant",
         "no rule deletes", name="no-hiding-rules"),
    Case("IDA-MAIL-002", "unknown", lambda: _t().missing("mail_rules").build(), "*", "not collected"),
    # IDA-MAIL-003 mailbox forwarding
    Case("IDA-MAIL-003", "fail", lambda: _t().forward("u1", "smtp:Me@Gmail.com", mechanism="mailbox_forwarding",
                                                      rule_id="", recipient_domain="", keeps_copy=False).build(),
         "u1", "keeps NO copy"),
    Case("IDA-MAIL-003", "pass", lambda: _t().domains("sub.clinic.org").forward(
        "u1", "billing@sub.clinic.org", mechanism="mailbox_forwarding", rule_id="").build(),
         "u1", "(inside)", name="verified-subdomain-is-inside"),
    Case("IDA-MAIL-003", "fail", lambda: _t().forward("u1", "billing@sub.clinic.org",
                                                      mechanism="mailbox_forwarding", rule_id="").build(),
         "u1", "(outside)", name="unverified-subdomain-is-outside"),
    Case("IDA-MAIL-003", "pass", lambda: _t().build(), "tenant", "no mailbox has forwarding"),
    Case("IDA-MAIL-003", "unknown", lambda: _t().section("exchange.mailboxes", "forbidden",
                                                         "Exchange.ManageAsApp not granted").build(),
         "tenant", "Exchange.ManageAsApp", name="exchange-not-collected"),
    Case("IDA-MAIL-003", "fail", lambda: _t("google").forward("u1", "me@yahoo.com", mechanism="gmail_auto_forward",
                                                              rule_id="").build(), "u1",
         "Gmail automatic forwarding", name="google-auto-forward"),
    # IDA-MAIL-004 tenant external forwarding
    Case("IDA-MAIL-004", "fail", lambda: _fwd_tenant(("yes", "Default"), remote=(("*", True),)).build(),
         "tenant", "every sender"),
    Case("IDA-MAIL-004", "fail", lambda: _fwd_tenant(("no", "Default"), ("yes", "Billing"),
                                                    remote=(("*", False), ("gmail.com", True))).build(),
         "tenant", "policy 'Billing' (On): u2@clinic.org", name="one-sender-to-one-domain"),
    Case("IDA-MAIL-004", "unknown", lambda: _fwd_tenant(("yes", "Default")).missing(
        "remote_domains", "exchange.remoteDomains: forbidden").build(), "*", "exchange.remoteDomains",
         name="remote-domains-not-collected"),
    Case("IDA-MAIL-004", "pass", lambda: _fwd_tenant(("no", "Default"), ("no", "Default"),
                                                    remote=(("*", True),)).build(), "tenant", "blocks"),
    Case("IDA-MAIL-004", "pass", lambda: _fwd_tenant(("yes", "Default"), remote=(("*", False),
                                                                                 ("questlab.com", True))).build(),
         "tenant", "only trusted / verified domains allow it: questlab.com", settings=PARTNER,
         name="only-a-trusted-partner-is-open"),
    Case("IDA-MAIL-004", "unknown", lambda: _fwd_tenant(("no", "Default"), ("unknown", "Billing"),
                                                       remote=(("*", True),)).build(), "tenant",
         "membership of group", name="group-scope-undecided"),
    Case("IDA-MAIL-004", "unknown", lambda: _t().missing("auto_forward_senders",
                                                         "exchange.outboundSpamPolicies: error").build(),
         "*", "outboundSpamPolicies"),
    Case("IDA-MAIL-004", "fail", lambda: _t("google").setting("external_auto_forwarding", "on").build(), "tenant",
         "gmail.auto_forwarding", name="google-on"),
    Case("IDA-MAIL-004", "fail", lambda: _t("google").setting("external_auto_forwarding", "off")
         .setting("google_auto_forwarding_ous", "/Physicians").build(), "tenant", "/Physicians",
         name="google-child-ou-allows"),
    Case("IDA-MAIL-004", "pass", lambda: _t("google").setting("external_auto_forwarding", "off")
         .setting("google_auto_forwarding_ous", "").build(), "tenant", "every organisational unit",
         name="google-off-everywhere"),
    Case("IDA-MAIL-001", "pass", lambda: _t().user("u2").partial("forwarding", u2="inboxRules: 503").build(),
         "tenant", "among the accounts collected", name="partial-named-gaps-pass-is-about-the-rest"),
    Case("IDA-MAIL-001", "unknown", lambda: _t().user("u2").partial("forwarding", u2="inboxRules: 503").build(),
         "u2", "503", name="partial-named-gap-row"),
    # IDA-MAIL-008 disabled inbox rules that would forward outside (an attacker's leftover, one click from active)
    Case("IDA-MAIL-008", "fail", lambda: _t().forward("u1", "x@evil.net", enabled=False, rule_name="Fwd to home")
         .build(), "u1:r1", "DISABLED rule 'Fwd to home' would forward to 'x@evil.net' (outside)"),
    Case("IDA-MAIL-008", "pass", lambda: _t().forward("u1", "desk@clinic.org", enabled=False).build(), "u1:r1",
         "(inside)", name="disabled-rule-forwarding-inside"),
    Case("IDA-MAIL-008", "pass", lambda: _t().forward("u1", "x@evil.net").build(), "tenant",
         "no disabled inbox rule forwards", name="enabled-rules-are-mail-001s"),
    Case("IDA-MAIL-008", "unknown", lambda: _t().forward("u1", "John Smith", recipient_domain="", enabled=False)
         .build(), "u1:r1", "no SMTP address", name="disabled-display-name-recipient"),
    Case("IDA-MAIL-008", "unknown", lambda: _t().section("inboxRules", "forbidden", "grant MailboxSettings.Read")
         .build(), "tenant", "MailboxSettings.Read", name="rules-not-collected"),
    # IDA-MAIL-005 transport rules
    Case("IDA-MAIL-005", "fail", lambda: _t().forward("", "archive@mailvault.io", mechanism="transport_rule",
                                                      rule_id="t1", rule_name="Copy all").build(),
         "transport:t1", "transport rule 'Copy all'"),
    Case("IDA-MAIL-005", "pass", lambda: _t().forward("", "audit@clinic.org", mechanism="transport_rule",
                                                      rule_id="t1").build(), "transport:t1", "(inside)"),
    Case("IDA-MAIL-005", "unknown", lambda: _t().section("exchange.transportRules", "error", "timeout").build(),
         "tenant", "timeout"),
    # Google flags
    Case("IDA-MAIL-006", "fail", lambda: Tenant("google").setting("google_mail_delegation", "true").build(),
         "tenant", "delegate"),
    Case("IDA-MAIL-006", "pass", lambda: Tenant("google").setting("google_mail_delegation", "false").build(),
         "tenant", "off"),
    Case("IDA-MAIL-006", "unknown", lambda: Tenant("google").build(), "tenant", "not collected"),
    Case("IDA-MAIL-007", "fail", lambda: Tenant("google").setting("google_imap_pop", "true").build(), "tenant",
         "IMAP"),
    Case("IDA-MAIL-007", "pass", lambda: Tenant("google").setting("google_imap_pop", "false").build(), "tenant",
         "off"),
    Case("IDA-MAIL-007", "unknown", lambda: Tenant("google").setting_gap("google_imap_pop", "policies: forbidden")
         .build(), "tenant", "forbidden"),
    Case("IDA-MAIL-007", "fail", lambda: Tenant("google").setting("google_imap_pop", "false")
         .setting("google_imap_pop_ous", "").setting("google_imap_pop_groups", "scanners@clinic.org (2 members)")
         .setting("google_imap_pop_undecided", "").build(), "tenant", "group policy for scanners@clinic.org",
         name="group-turns-imap-on"),
    Case("IDA-MAIL-007", "fail", lambda: Tenant("google").setting("google_imap_pop", "false")
         .setting("google_imap_pop_ous", "/Lab").setting("google_imap_pop_groups", "")
         .setting("google_imap_pop_undecided", "").build(), "tenant", "organisational unit(s) /Lab",
         name="child-ou-turns-imap-on"),
    Case("IDA-MAIL-007", "pass", lambda: Tenant("google").setting("google_imap_pop", "false")
         .setting("google_imap_pop_ous", "").setting("google_imap_pop_groups", "")
         .setting("google_imap_pop_undecided", "").build(), "tenant", "every organisational unit and group",
         confidence="high", name="imap-off-everywhere"),
    Case("IDA-MAIL-006", "fail", lambda: Tenant("google").setting("google_mail_delegation", "false")
         .setting("google_mail_delegation_ous", "/Leadership").setting("google_mail_delegation_groups", "")
         .setting("google_mail_delegation_undecided", "").build(), "tenant", "/Leadership",
         name="child-ou-allows-delegation"),
]


@cases_param(CASES)
def test_case(case: Case) -> None:
    case.verify()


VERIFIED_SET = frozenset({"clinic.org"})
TRUSTED_SET = frozenset({"partner.com"})


@pytest.mark.parametrize(("domain", "expected"), [
    ("clinic.org", INSIDE),
    ("CLINIC.ORG", INSIDE),  # case
    ("clinic.org.", INSIDE),  # trailing dot
    ("mail.clinic.org", OUTSIDE),  # a subdomain that is not itself verified is routed by its own MX
    ("a.b.clinic.org.", OUTSIDE),
    ("evilclinic.org", OUTSIDE),  # suffix without a dot boundary is NOT a subdomain
    ("clinic.org.evil.com", OUTSIDE),  # verified domain as a prefix
    ("gmail.com", OUTSIDE),
    ("partner.com", INSIDE),  # trusted partner
    ("lab.partner.com", INSIDE),  # the partner's own subdomain
    ("evilpartner.com", OUTSIDE),
    ("", UNDECIDED),  # display-name-only recipient
    ("localhost", UNDECIDED),
])
def test_classify_domain(domain: str, expected: str) -> None:
    assert classify_domain(domain, VERIFIED_SET, TRUSTED_SET) == expected


@pytest.mark.parametrize(("recipient", "given", "expected"), [
    ("Ann <ann@Clinic.org>", "", "clinic.org"),
    ("smtp:x@Gmail.com", "", "gmail.com"),
    ("SMTP:x@gmail.com", "", "gmail.com"),
    ("John Smith", "", ""),
    ("/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=abc", "", ""),
    ("a@b@c.com", "", ""),
    ("whatever", "Given.Org", "given.org"),
])
def test_recipient_domain(recipient: str, given: str, expected: str) -> None:
    assert recipient_domain(recipient, given) == expected


def test_mixed_recipients_one_outside_fails_the_rule_and_names_it() -> None:
    data = (_t().forward("u1", "desk@clinic.org", rule_name="Copy").forward("u1", "x@proton.me", rule_name="Copy")
            .build())
    got = run(data, "IDA-MAIL-001")
    assert status(got, "u1:r1") == "fail"
    ev = got[got["subject_id"] == "u1:r1"].iloc[0]["evidence"]
    assert "'x@proton.me' (outside)" in ev and "'desk@clinic.org' (inside)" in ev


def test_unverified_subdomain_of_a_verified_domain_is_outside() -> None:
    """Exchange routes a subdomain that is not itself an accepted domain by its own MX (MatchSubDomains is off):
    'x@mail.clinic.org' leaves the organisation even though clinic.org is verified."""
    data = Tenant().domains("clinic.org").user("u1").forward("u1", "x@mail.clinic.org").build()
    got = run(data, "IDA-MAIL-001")
    assert status(got, "u1:r1") == "fail"
    assert "'x@mail.clinic.org' (outside)" in got.iloc[0]["evidence"]


def test_verified_subdomain_is_inside_and_partner_subdomains_stay_trusted() -> None:
    data = (Tenant().domains("clinic.org", "lab.clinic.org").user("u1").forward("u1", "x@lab.clinic.org")
            .forward("u1", "y@results.questlab.com").build())
    got = run(data, "IDA-MAIL-001", PARTNER)
    assert status(got, "u1:r1") == "pass"
    assert "'y@results.questlab.com' (trusted partner domain)" in got.iloc[0]["evidence"]


def test_unverified_domain_counts_as_outside() -> None:
    data = (Tenant().domains("clinic.org", unverified=("clinic-old.org",)).user("u1")
            .forward("u1", "me@clinic-old.org").build())
    assert status(run(data, "IDA-MAIL-001"), "u1:r1") == "fail"


def test_forwarding_subject_names_the_user_and_rule() -> None:
    got = run(_t().forward("u1", "x@evil.net", rule_name="=HYPERLINK(\"x\")").build(), "IDA-MAIL-001")
    assert got.iloc[0]["subject"] == "nurse@clinic.org: rule '=HYPERLINK(\"x\")'"  # untrusted text stays text


_LABEL = "abcdefghijklmnopqrstuvwxyz0123456789-"


def test_classify_domain_properties() -> None:
    """A verified domain is inside in any case, its unverified subdomains are outside, a trusted partner's
    subdomains are inside; gluing text on without a dot is outside either way."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    label = st.text(alphabet=_LABEL, min_size=1, max_size=12)

    @settings(max_examples=200, deadline=None)
    @given(labels=st.lists(label, min_size=1, max_size=3), verified=st.lists(label, min_size=2, max_size=3),
           glue=label, upper=st.booleans())
    def prop(labels: list[str], verified: list[str], glue: str, upper: bool) -> None:
        v = ".".join(verified)
        only = frozenset({v})
        sub = ".".join([*labels, v])
        assert classify_domain(v.upper() if upper else v, only) == INSIDE
        assert classify_domain(sub.upper() if upper else sub, only) == OUTSIDE
        assert classify_domain(sub.upper() if upper else sub, frozenset(), only) == INSIDE  # trusted partner
        assert classify_domain(glue + v, only, only) == OUTSIDE  # 'evil' + 'clinic.org' is not a subdomain
        longer = v + "." + glue  # the verified domain as a prefix: outside unless it happens to end with it
        assert classify_domain(longer, only) == OUTSIDE
        expected = INSIDE if longer.endswith("." + v) else OUTSIDE
        assert classify_domain(longer, frozenset(), only) == expected

    prop()


# ---- IDA-MAIL-002: the folder a rule files mail into (inboxRuleFolders, Mail.ReadBasic.All) -----------------------

NOT_GRANTED = "inboxRuleFolders forbidden: grant Mail.ReadBasic.All (application) to name it"


def _folder_rule(name: str, conditions: str, *, hide_action: str = "", target: str = "", hidden: bool | None = None,
                 unresolved: str = "", enabled: bool = True) -> Tenant:
    return _t().add("mail_rules", user_id="u1", rule_id="r1", rule_name=name, enabled=enabled, source="inbox_rule",
                    actions="moveToFolder: " + (target or "folder id AAMk..."), conditions=conditions,
                    forwards=False, hides_mail=bool(hide_action), hide_action=hide_action, target_folder=target,
                    folder_hidden=hidden, folder_unresolved=unresolved)


FOLDER_CASES = [
    Case("IDA-MAIL-002", "fail", lambda: _folder_rule("Updates", "fromAddresses: cfo@partner.org",
                                                      hide_action="move_to:RSS Feeds", target="RSS Feeds").build(),
         "u1:r1", "moves mail to 'rss feeds', a folder nobody reads", name="rss-feeds-without-suspicious-words"),
    Case("IDA-MAIL-002", "fail", lambda: _folder_rule("Lab results", "fromAddresses: lab@partner.org",
                                                      hide_action="move_to:Conversation History",
                                                      target="Historial de conversaciones").build(),
         "u1:r1", "conversation history", name="conversation-history-localised"),
    Case("IDA-MAIL-002", "fail", lambda: _folder_rule("Projects", "subjectContains: project",
                                                      hide_action="move_to:Projects", target="Projects",
                                                      hidden=True).build(),
         "u1:r1", "moves mail to hidden folder 'Projects'", name="hidden-folder"),
    Case("IDA-MAIL-002", "unknown", lambda: _folder_rule(".", "bodyOrSubjectContains: invoice, payment",
                                                         unresolved=NOT_GRANTED).build(),
         "u1:r1", "grant Mail.ReadBasic.All", confidence="high", name="suspicious-rule-unnamed-folder"),
    Case("IDA-MAIL-002", "unknown", lambda: _folder_rule("Sync", "", unresolved=NOT_GRANTED).build(),
         "u1:r1", "applies to every incoming message", name="every-message-to-unnamed-folder"),
    Case("IDA-MAIL-002", "fail", lambda: _folder_rule(".", "bodyOrSubjectContains: invoice",
                                                      hide_action="mark_read", unresolved=NOT_GRANTED).build(),
         "u1:r1", "could not name", name="mark-read-and-unnamed-folder-still-fails"),
    Case("IDA-MAIL-002", "pass", lambda: _folder_rule(".", "bodyOrSubjectContains: invoice", unresolved=NOT_GRANTED,
                                                      enabled=False).build(),
         "u1:r1", "rule is disabled", confidence="medium", name="disabled-suspicious-unnamed-folder"),
    Case("IDA-MAIL-002", "unknown", lambda: _folder_rule("Projects", "subjectContains: project",
                                                         unresolved=NOT_GRANTED).build(),
         "u1:r1", "if that folder is RSS Feeds", confidence="high", name="ordinary-words-unnamed-folder"),
    Case("IDA-MAIL-002", "unknown", lambda: _folder_rule("Lab", "fromAddresses: lab@partner.org",
                                                         hide_action="mark_read", unresolved=NOT_GRANTED).build(),
         "u1:r1", "if that folder is RSS Feeds", confidence="high", name="mark-read-into-unnamed-folder"),
    Case("IDA-MAIL-002", "pass", lambda: _folder_rule("Projects", "subjectContains: project", unresolved=NOT_GRANTED,
                                                      enabled=False).build(),
         "u1:r1", "rule is disabled", confidence="medium", name="disabled-rule-unnamed-folder"),
    Case("IDA-MAIL-002", "pass", lambda: _folder_rule("Projects", "subjectContains: project", target="Projects",
                                                      hidden=False).build(),
         "tenant", "no rule deletes", name="named-visible-folder"),
]


@cases_param(FOLDER_CASES)
def test_rule_folder_case(case: Case) -> None:
    case.verify()


def test_unnamed_folder_of_an_ordinary_rule_is_never_a_tenant_pass() -> None:
    """'from: the bank -> RSS Feeds' has no suspicious word: without the folder's name the rule itself is unknown,
    and no 'no rule hides mail' pass is written about the tenant."""
    findings = run(_folder_rule("Projects", "subjectContains: project", unresolved=NOT_GRANTED).build(),
                   "IDA-MAIL-002")
    assert list(findings["subject_id"]) == ["u1:r1"]
    assert list(findings["status"]) == ["unknown"]
    assert "grant Mail.ReadBasic.All" in findings["evidence"].iloc[0]
    assert NOT_GRANTED in findings["evidence"].iloc[0]


def test_label_users_keeps_ids_when_no_user_table_names_them() -> None:
    """Without a users table the ids stay the labels, with no pandas warning (filling an all-NaN float map with strings will raise in pandas 4)."""
    import warnings

    import pandas as pd

    from checks.common import label_users

    ids = pd.Series(["u1", "u2"], dtype="str")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert list(label_users(ids, {})) == ["u1", "u2"]
        assert list(label_users(ids, {"u2": "nurse@clinic.org"})) == ["u1", "nurse@clinic.org"]


# ---- IDA-MAIL-002: the words an attacker's hiding rule matches, in their inflected forms ------------------------

@pytest.mark.parametrize("words", ["hacked", "phishing", "compromised", "invoices", "payments", "Hacker",
                                   "wire transfers", "fraudulent", "verification", "passwords", "scammers"])
def test_hiding_rule_words_match_inflected_forms(words: str) -> None:
    data = _t().rule("u1", "r1", "Cleanup", hide_action="delete", conditions=f"subject contains '{words}'").build()
    got = run(data, "IDA-MAIL-002")
    assert status(got, "u1:r1") == "fail", got.iloc[0]["evidence"]
    assert "matches words attackers hide" in got.iloc[0]["evidence"]


@pytest.mark.parametrize("words", ["webinar", "conference", "statement", "OR schedule", "newsletter",
                                   "wireless", "hackathon", "bankruptcy court", "payee list", "unsecured loans"])
def test_ordinary_filing_words_do_not_flood(words: str) -> None:
    data = _t().rule("u1", "r1", "Filing", hide_action="move_to:Archive",
                     conditions=f"subject contains '{words}'").build()
    got = run(data, "IDA-MAIL-002")
    assert status(got, "u1:r1") == "pass", got.iloc[0]["evidence"]
