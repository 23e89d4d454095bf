"""Inbox rule folders (section inboxRuleFolders, optional Mail.ReadBasic.All) end to end: the real msal and
msgraph-sdk adapter against the simulator over loopback TLS, the real normaliser and IDA-MAIL-002. No mocks.

The organisation is the seeded one plus one planted rule ("Mail sync": every message into RSS Subscriptions, no
suspicious word, no mark-as-read), which only the folder's name can expose.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from checks import builtin_checks
from connectors.microsoft.collect import collect_microsoft
from connectors.microsoft.rule_folders import archive_folders, rule_folder_ids
from idaudit.core.engine import CheckSettings, run_checks
from idaudit.core.normalise import normalise
from idaudit.core.snapshot import SectionStatus, load_snapshot
from simulator import build_organisation, render_microsoft_snapshot
from simulator.microsoft.identity import ALL_READ_PERMISSIONS
from simulator.microsoft.simulator import MicrosoftSimulator
from simulator.org import InboxRule, Organisation, RuleActions, RuleConditions
from tests.conftest_ms import SCALE, options_for
from tests.sim_ms_helpers import get, session, token

MAIL_SYNC = InboxRule("planted-sync", "Mail sync", 9, True, RuleConditions(),
                      RuleActions(move_to_folder="RSS Subscriptions"))
SECTIONS = ("users", "domains", "inboxRules", "inboxRuleFolders", "mailboxSettings")


@pytest.fixture(scope="module")
def org() -> Organisation:
    base = build_organisation(users=60, seed=11)
    victim = next(p for p in base.people if p.kind == "staff" and p.has_mailbox and not p.inbox_rules
                  and not p.planted)
    people = tuple(dataclasses.replace(p, inbox_rules=(MAIL_SYNC,)) if p.id == victim.id else p
                   for p in base.people)
    return dataclasses.replace(base, people=people, _people_by_id={}, _groups_by_id={})


def _victim(org: Organisation) -> str:
    return next(p.id for p in org.people if MAIL_SYNC in p.inbox_rules)


def _nurse(org: Organisation) -> str:
    return org.planted("compromised")[0].id


@pytest.fixture(scope="module")
def granted(org: Organisation, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, MicrosoftSimulator]]:
    with MicrosoftSimulator(org, time_scale=SCALE) as sim:
        out = collect_microsoft(options_for(sim), tmp_path_factory.mktemp("rf") / "snap", progress=False,
                                sections=SECTIONS)
        yield out, sim


def _rule_rows(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = normalise(load_snapshot(path))
    run = run_checks(data, CheckSettings(), only=["IDA-MAIL-002"], registry=builtin_checks())
    return data.table("mail_rules"), run.findings


def _finding(findings: pd.DataFrame, subject_id: str) -> pd.Series:
    hit = findings[findings["subject_id"] == subject_id]
    assert len(hit) == 1, findings[["subject_id", "status", "evidence"]].to_string()
    return hit.iloc[0]


def _rule_id(org: Organisation, person_id: str, name: str) -> str:
    return next(r.id for r in org.person(person_id).inbox_rules if r.name == name)


def test_collected_folders_equal_the_render_and_cost_one_lookup_per_folder(
        granted: tuple[Path, MicrosoftSimulator], org: Organisation, tmp_path: Path) -> None:
    path, sim = granted
    snap = load_snapshot(path)
    rec = snap.section("inboxRuleFolders")
    assert rec is not None and rec.status is SectionStatus.OK and not rec.failed_subjects
    expected = load_snapshot(render_microsoft_snapshot(org, tmp_path / "r"))
    assert snap.raw["inboxRuleFolders"] == expected.raw["inboxRuleFolders"]
    wanted = rule_folder_ids(snap.raw["inboxRules"], archive_folders(snap.raw["mailboxSettings"]))
    lookups = sum(len(v) for v in wanted.values())
    assert set(snap.raw["inboxRuleFolders"]) == set(wanted)  # only users whose rules name a folder
    assert sim.stats.requests["batch:inboxRuleFolders"] == lookups  # one inner request per distinct folder
    with_mailbox = sum(1 for p in org.people if p.has_mailbox)
    assert 0 < len(wanted) < with_mailbox
    every = rule_folder_ids(snap.raw["inboxRules"])  # the archive folder is named by mailboxSettings: not asked
    assert lookups < sum(len(v) for v in every.values())
    folders = snap.raw["inboxRuleFolders"][_victim(org)]
    assert [f["displayName"] for f in folders.values()] == ["RSS Subscriptions"]


def test_rss_folder_rule_fails_with_the_folder_named(granted: tuple[Path, MicrosoftSimulator],
                                                     org: Organisation) -> None:
    rules, findings = _rule_rows(granted[0])
    victim = _victim(org)
    row = _finding(findings, f"{victim}:planted-sync")
    assert row["status"] == "fail"
    assert "rss subscriptions', a folder nobody reads" in row["evidence"]
    nurse = _nurse(org)
    hiding = _finding(findings, f"{nurse}:{_rule_id(org, nurse, '.')}")
    assert hiding["status"] == "fail" and "rss feeds" in hiding["evidence"]
    assert (rules["folder_unresolved"] == "").all()
    benign = rules[rules["rule_name"] == "Newsletters"]
    assert not benign.empty and (benign["target_folder"] == "Newsletters").all()
    assert not benign["hides_mail"].fillna(False).astype(bool).any()


def test_without_mail_readbasic_the_section_is_forbidden_and_the_rule_unknown(org: Organisation,
                                                                              tmp_path: Path) -> None:
    permissions = [p for p in ALL_READ_PERMISSIONS if p != "Mail.ReadBasic.All"]
    with MicrosoftSimulator(org, time_scale=SCALE, permissions=permissions) as sim:
        path = collect_microsoft(options_for(sim), tmp_path / "snap", progress=False, sections=SECTIONS)
    snap = load_snapshot(path)
    rec = snap.section("inboxRuleFolders")
    assert rec is not None and rec.status is SectionStatus.FORBIDDEN
    assert "Mail.ReadBasic.All" in rec.detail
    assert snap.section("inboxRules").status is SectionStatus.OK  # type: ignore[union-attr]
    _rules, findings = _rule_rows(path)
    row = _finding(findings, f"{_victim(org)}:planted-sync")
    assert row["status"] == "unknown", row["evidence"]
    assert "grant Mail.ReadBasic.All" in row["evidence"] and "every incoming message" in row["evidence"]
    nurse = _nurse(org)  # mark-as-read and 'invoice' still give this one away
    assert _finding(findings, f"{nurse}:{_rule_id(org, nurse, '.')}")["status"] == "fail"


def test_section_filter_reads_the_rules_it_needs(org: Organisation, tmp_path: Path) -> None:
    with MicrosoftSimulator(org, time_scale=SCALE) as sim:
        path = collect_microsoft(options_for(sim), tmp_path / "snap", progress=False,
                                 sections=("users", "inboxRuleFolders"))
    snap = load_snapshot(path)
    assert snap.section("inboxRules") is None and snap.section("mailboxSettings") is None
    rendered = load_snapshot(render_microsoft_snapshot(org, tmp_path / "r"))
    expected = rendered.raw["inboxRuleFolders"]
    got = snap.raw["inboxRuleFolders"]
    archive = archive_folders(rendered.raw["mailboxSettings"])
    # without mailboxSettings the archive folder cannot be skipped: it is looked up too, nothing else differs
    trimmed = {u: {f: v for f, v in fs.items() if f != archive.get(u)} for u, fs in got.items()}
    assert {u: fs for u, fs in trimmed.items() if fs} == expected
    assert any(archive.get(u) in fs for u, fs in got.items())


def test_simulator_serves_mail_folders_as_documented(org: Organisation) -> None:
    victim = _victim(org)
    rules = MicrosoftSimulator(org).tenant.inbox_rules(victim) or []
    fid = rules[0]["actions"]["moveToFolder"]
    with MicrosoftSimulator(org, throttle=False) as sim:
        s = session(sim)
        t = token(sim, s)
        beta = get(sim, s, t, f"/beta/users/{victim}/mailFolders/{fid}").json()
        assert beta["displayName"] == "RSS Subscriptions" and beta["wellKnownName"] is None
        assert beta["isHidden"] is False and beta["parentFolderId"].startswith("AAMk")
        v1 = get(sim, s, t, f"/v1.0/users/{victim}/mailFolders/{fid}").json()
        assert "wellKnownName" not in v1 and v1["displayName"] == "RSS Subscriptions"
        inbox: dict[str, Any] = get(sim, s, t, f"/beta/users/{victim}/mailFolders/inbox",
                                    **{"$select": "displayName,wellKnownName"}).json()
        assert (inbox["displayName"], inbox["wellKnownName"]) == ("Inbox", "inbox")
        assert "parentFolderId" not in inbox  # $select applies
        gone = get(sim, s, t, f"/v1.0/users/{victim}/mailFolders/AAMkNoSuchFolder")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "ErrorItemNotFound"
    without = [p for p in ALL_READ_PERMISSIONS if p != "Mail.ReadBasic.All"]
    with MicrosoftSimulator(org, throttle=False, permissions=without) as sim:
        s = session(sim)
        t = token(sim, s)
        denied = get(sim, s, t, f"/beta/users/{victim}/mailFolders/{fid}")
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "ErrorAccessDenied"


def test_one_users_failed_lookup_is_a_failed_subject_and_a_throttled_one_is_retried(org: Organisation,
                                                                                     tmp_path: Path) -> None:
    """Faults are the simulator's own injection (a 500 inside $batch for one mailbox, a 429 once for another)."""
    victim, nurse = _victim(org), _nurse(org)
    with MicrosoftSimulator(org, time_scale=SCALE) as sim:
        sim.faults.add(kind="status", path=rf"/users/{victim}/mailFolders/AAMk", status=500, times=None,
                       target="inner")
        sim.faults.add(kind="status", path=rf"/users/{nurse}/mailFolders/AAMk", status=429, retry_after=0, times=1,
                       target="inner")
        path = collect_microsoft(options_for(sim), tmp_path / "snap", progress=False, sections=SECTIONS)
        assert sim.stats.throttled["batch:inboxRuleFolders"] >= 1  # the 429 was served, then retried
    snap = load_snapshot(path)
    rec = snap.section("inboxRuleFolders")
    assert rec is not None and rec.status is SectionStatus.OK
    assert set(rec.failed_subjects) == {victim} and "500" in rec.failed_subjects[victim]
    assert victim not in snap.raw["inboxRuleFolders"]
    assert any(f and f["displayName"] == "RSS Feeds" for f in snap.raw["inboxRuleFolders"][nurse].values())
    rules, findings = _rule_rows(path)
    row = _finding(findings, f"{victim}:planted-sync")  # suspicious-looking, folder unknown: never a pass
    assert row["status"] == "unknown" and "lookup failed" in row["evidence"]
    mail_rules = rules[rules["user_id"] == victim]
    assert (mail_rules["folder_unresolved"] != "").all()
