"""SPF, DMARC and DKIM facts from stored TXT answers (idaudit.core.normalise.email_auth): one test per rule the
parser applies (RFC 7208, RFC 7489, RFC 6376; docs/semantics.md), and the lookup planner the collector and the
simulator's renderer share."""

from __future__ import annotations

from typing import Any

from idaudit.core.normalise.email_auth import (
    dkim_key_present,
    dmarc_facts,
    names_needed,
    read_lookups,
    spf_facts,
)


def L(entries: dict[str, Any]) -> Any:
    return read_lookups({k: ({"status": v, "records": []} if isinstance(v, str)
                             else {"status": "ok", "records": [r if isinstance(r, list) else [r] for r in v]})
                         for k, v in entries.items()})


def test_character_strings_are_joined_without_separator() -> None:
    f = spf_facts(L({"a.org": [["v=spf1 ip4:192.0.2.1", " -all"]]}), "a.org")
    assert f.records == ("v=spf1 ip4:192.0.2.1 -all",) and f.all_qualifier == "-"


def test_version_must_be_exactly_spf1() -> None:
    assert spf_facts(L({"a.org": ["v=spf10 -all"]}), "a.org").records == ()
    assert spf_facts(L({"a.org": ["V=SPF1 -all"]}), "a.org").all_qualifier == "-"  # ABNF literals: any case


def test_first_all_wins_and_default_qualifier_is_plus() -> None:
    assert spf_facts(L({"a.org": ["v=spf1 all -all"]}), "a.org").all_qualifier == "+"
    assert spf_facts(L({"a.org": ["v=spf1 ip4:192.0.2.1"]}), "a.org").all_qualifier == ""


def test_redirect_is_followed_only_without_all() -> None:
    z = {"a.org": ["v=spf1 redirect=_spf.a.org"], "_spf.a.org": ["v=spf1 ip4:192.0.2.0/24 -all"]}
    f = spf_facts(L(z), "a.org")
    assert (f.all_qualifier, f.all_via, f.lookups) == ("-", "redirect=_spf.a.org", 1)
    z["a.org"] = ["v=spf1 ~all redirect=_spf.a.org"]
    assert spf_facts(L(z), "a.org").all_qualifier == "~"


def test_lookups_are_counted_through_includes() -> None:
    z: dict[str, Any] = {"a.org": ["v=spf1 include:b.org mx a -all"], "b.org": ["v=spf1 include:c.org ptr -all"],
                         "c.org": ["v=spf1 exists:%{i}.x.org ip4:1.2.3.4 -all"]}
    assert spf_facts(L(z), "a.org").lookups == 6  # include, mx, a, include, ptr, exists
    many = " ".join(f"a:h{i}.a.org" for i in range(11))
    assert spf_facts(L({"a.org": [f"v=spf1 {many} -all"]}), "a.org").lookups == 11


def test_include_of_a_name_without_spf_is_a_permanent_error() -> None:
    f = spf_facts(L({"a.org": ["v=spf1 include:gone.org -all"], "gone.org": "nxdomain"}), "a.org")
    assert f.problems and "gone.org has no SPF record" in f.problems[0] and not f.gap


def test_include_that_timed_out_makes_the_domain_unknown() -> None:
    f = spf_facts(L({"a.org": ["v=spf1 include:slow.org -all"], "slow.org": "timeout"}), "a.org")
    assert "timeout" in f.gap and f.lookups is None


def test_include_with_a_macro_cannot_be_counted_offline() -> None:
    f = spf_facts(L({"a.org": ["v=spf1 include:%{d}.spf.example -all"]}), "a.org")
    assert "macro" in f.gap and f.lookups is None


def test_two_spf_records_are_reported_as_such() -> None:
    f = spf_facts(L({"a.org": ["v=spf1 -all", "v=spf1 ~all"]}), "a.org")
    assert len(f.records) == 2 and f.all_qualifier == ""


def test_dmarc_record_tags() -> None:
    f = dmarc_facts(L({"_dmarc.a.org": ["v=DMARC1; p=reject; pct=40; rua=mailto:x@a.org,https://r.example"]}),
                    "a.org", frozenset({"a.org"}))
    assert (f.policy, f.pct, f.rua) == ("reject", 40, ("mailto:x@a.org",))


def test_dmarc_pct_defaults_to_100_and_invalid_p_with_rua_acts_as_none() -> None:
    f = dmarc_facts(L({"_dmarc.a.org": ["v=DMARC1; p=block; rua=mailto:x@a.org"]}), "a.org", frozenset({"a.org"}))
    assert (f.policy, f.pct) == ("none", 100)
    f = dmarc_facts(L({"_dmarc.a.org": ["v=DMARC1; p=block"]}), "a.org", frozenset({"a.org"}))
    assert f.policy == ""


def test_two_dmarc_records_mean_no_policy() -> None:
    f = dmarc_facts(L({"_dmarc.a.org": ["v=DMARC1; p=reject", "v=DMARC1; p=none"]}), "a.org", frozenset({"a.org"}))
    assert len(f.records) == 2 and f.policy == ""


def test_dmarc_of_a_parent_in_the_tenant_applies_with_sp() -> None:
    z = {"_dmarc.mail.a.org": "nxdomain", "_dmarc.a.org": ["v=DMARC1; p=reject; sp=none; rua=mailto:x@a.org"]}
    f = dmarc_facts(L(z), "mail.a.org", frozenset({"a.org", "mail.a.org"}))
    assert (f.source, f.policy) == ("a.org", "none")


def test_dmarc_never_walks_up_to_a_domain_outside_the_tenant() -> None:
    z = {"_dmarc.clinic.co.uk": "nxdomain", "_dmarc.co.uk": ["v=DMARC1; p=reject; rua=mailto:x@co.uk"]}
    f = dmarc_facts(L(z), "clinic.co.uk", frozenset({"clinic.co.uk"}))
    assert f.records == () and f.policy == ""


def test_dkim_key_record_needs_a_non_empty_p() -> None:
    assert dkim_key_present(("v=DKIM1; k=rsa; p=MIIB",))
    assert not dkim_key_present(("v=DKIM1; k=rsa; p=",))  # revoked


def test_planner_asks_only_for_what_answers_lead_to() -> None:
    first = names_needed(["a.org"], ["google"], {})
    assert first == ["a.org", "_dmarc.a.org", "google._domainkey.a.org"]
    known = L({"a.org": ["v=spf1 include:b.org -all"], "_dmarc.a.org": "nxdomain",
               "google._domainkey.a.org": "nxdomain"})
    assert names_needed(["a.org"], ["google"], known) == ["b.org"]
    known = L({"a.org": ["v=spf1 include:a.org -all"], "_dmarc.a.org": "nxdomain"})
    assert names_needed(["a.org"], [], known) == []  # an include loop ends
