"""The simulated Entra and Purview logs on the wire: the story they tell is the organisation's, `$filter` time
ranges and pages are honoured, the reports class throttles, licences and permissions answer as Graph does, and the
audit log query goes through its life cycle (records only once it succeeded). The real connector then stores what
the rendered snapshot holds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from connectors.microsoft.collect import collect_microsoft
from idaudit.core.snapshot import load_snapshot
from simulator import build_organisation, render_microsoft_snapshot
from simulator.activity import build_activity
from simulator.microsoft.simulator import MicrosoftSimulator
from simulator.org import Organisation
from tests.conftest_ms import SCALE, options_for
from tests.sim_ms_helpers import get, get_all, session, token

AS_OF = datetime(2026, 11, 28, tzinfo=UTC)
WEEK = "createdDateTime ge 2026-11-21T00:00:00Z and createdDateTime le 2026-11-28T00:00:00Z"


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(120, seed=11, as_of=AS_OF)


@pytest.fixture(scope="module")
def sim(org: Organisation) -> Iterator[MicrosoftSimulator]:
    with MicrosoftSimulator(org, throttle=False) as s:
        yield s


@pytest.fixture(scope="module")
def wire(sim: MicrosoftSimulator) -> tuple[requests.Session, str]:
    s = session(sim)
    return s, token(sim, s)


def test_the_story_is_the_organisations(org: Organisation) -> None:
    act = build_activity(org)
    nurse = next(p for p in org.people if "compromised" in p.planted)
    mine = [c for c in act.changes if c.target_id == nurse.id]
    kinds = [c.kind for c in sorted(mine, key=lambda c: c.time)]
    assert kinds == ["mfa_registered", "consent", "inbox_rule_created", "inbox_rule_created"]
    phish = min((s for s in act.sign_ins if s.person_id == nurse.id and s.country != org.country),
                key=lambda s: s.time)
    rules = sorted((c for c in mine if c.kind == "inbox_rule_created"), key=lambda c: c.time)
    assert all(c.time - phish.time == timedelta(days=2, minutes=3 + i) for i, c in enumerate(rules))
    assert {c.ip for c in mine} == {phish.ip}
    assert {r.name for r in nurse.inbox_rules} == {c.rule_name for c in rules}
    # everyone's latest sign-in in the log is the instant signInActivity reports
    for p in org.people:
        if p.last_sign_in is not None and p.last_sign_in >= AS_OF - timedelta(days=29) and p.enabled \
                and p.kind not in ("shared", "room", "guest") and "compromised" not in p.planted:
            last = max((s.time for s in act.sign_ins if (s.person_id == p.id and s.app == "OfficeHome")
                        or (s.person_id == p.id and s.client_app == "Authenticated SMTP")), default=None)
            assert last == p.last_sign_in, p.display_name


def test_sign_ins_honour_the_time_filter_and_page(sim: MicrosoftSimulator, wire: tuple[requests.Session, str]) \
        -> None:
    s, tok = wire
    week = get_all(sim, s, tok, "/v1.0/auditLogs/signIns", **{"$filter": WEEK, "$top": "50"})
    assert week and all("2026-11-21" <= x["createdDateTime"] <= "2026-11-28" for x in week)
    everything = get_all(sim, s, tok, "/v1.0/auditLogs/signIns")
    assert len(everything) > len(week)
    assert get(sim, s, tok, "/v1.0/auditLogs/signIns", **{"$top": "1001"}).status_code == 400
    bad = get(sim, s, tok, "/v1.0/auditLogs/signIns", **{"$filter": "createdDateTime ge yesterday"})
    assert bad.status_code == 400
    # authenticationRequirement is a beta property of signIn: v1.0 does not serve it, beta does
    assert all("authenticationRequirement" not in x for x in week)
    beta = get_all(sim, s, tok, "/beta/auditLogs/signIns", **{"$filter": WEEK})
    assert {x["id"] for x in beta} == {x["id"] for x in week}
    assert {x["authenticationRequirement"] for x in beta} >= {"multiFactorAuthentication"}


def test_directory_audits_filter_by_category(sim: MicrosoftSimulator, wire: tuple[requests.Session, str]) -> None:
    s, tok = wire
    apps = get_all(sim, s, tok, "/v1.0/auditLogs/directoryAudits",
                   **{"$filter": "category eq 'ApplicationManagement'"})
    assert apps and {a["activityDisplayName"] for a in apps} == {"Consent to application"}


def test_audit_log_query_life_cycle(sim: MicrosoftSimulator, wire: tuple[requests.Session, str]) -> None:
    s, tok = wire
    h = {"Authorization": f"Bearer {tok}"}
    body = {"displayName": "t", "filterStartDateTime": "2026-11-21T00:00:00Z",
            "filterEndDateTime": "2026-11-28T00:00:00Z", "operationFilters": ["New-InboxRule"]}
    created = s.post(f"{sim.graph_url}/v1.0/security/auditLog/queries", json=body, headers=h, timeout=10)
    assert created.status_code == 201 and created.json()["status"] == "notStarted"
    qid = created.json()["id"]
    early = get(sim, s, tok, f"/v1.0/security/auditLog/queries/{qid}/records")
    assert early.status_code == 400  # never an empty list for an unfinished query
    states = [get(sim, s, tok, f"/v1.0/security/auditLog/queries/{qid}").json()["status"] for _ in range(3)]
    assert states == ["running", "succeeded", "succeeded"]
    records = get_all(sim, s, tok, f"/v1.0/security/auditLog/queries/{qid}/records")
    assert records and {r["operation"] for r in records} == {"New-InboxRule"}
    assert all(r["auditData"]["dynamicProperties"]["Parameters"] for r in records)
    no_range = s.post(f"{sim.graph_url}/v1.0/security/auditLog/queries", json={"displayName": "x"}, headers=h,
                      timeout=10)
    assert no_range.status_code == 400


def test_reports_class_throttles_the_logs(org: Organisation) -> None:
    with MicrosoftSimulator(org) as sim:  # the documented limits, unscaled: 5 requests per 10 s
        s = session(sim)
        tok = token(sim, s)
        codes = [get(sim, s, tok, "/v1.0/auditLogs/directoryAudits").status_code for _ in range(7)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:]


@pytest.mark.parametrize(("licences", "path", "status"), [
    ({"p1": False, "p2": False}, "/v1.0/auditLogs/signIns", 403),
    ({"p1": True, "p2": False}, "/v1.0/identityProtection/riskyUsers", 403),
    ({"p1": False, "p2": False}, "/v1.0/identityProtection/riskDetections", 403),
    ({"p1": False, "p2": False}, "/v1.0/auditLogs/directoryAudits", 200),  # Entra ID Free keeps 7 days
])
def test_licences_answer_as_graph_does(org: Organisation, licences: dict[str, bool], path: str, status: int) -> None:
    with MicrosoftSimulator(org, throttle=False, licences=licences) as sim:
        s = session(sim)
        assert get(sim, s, token(sim, s), path).status_code == status


def test_the_connector_stores_what_the_rendered_snapshot_holds(org: Organisation, tmp_path: Path) -> None:
    with MicrosoftSimulator(org, time_scale=SCALE) as sim:
        names = ("directoryAudits", "signIns", "riskyUsers", "riskDetections", "exchangeAuditRecords", "users")
        snap = load_snapshot(collect_microsoft(options_for(sim), tmp_path / "c", progress=False, sections=names))
    rendered = load_snapshot(render_microsoft_snapshot(org, tmp_path / "r"))
    for name in names[:-1]:
        rec = snap.section(name)
        assert rec is not None and rec.usable, (name, rec)
        assert snap.raw[name] == rendered.raw[name], name
        if name != "riskyUsers":
            assert rec.window == (AS_OF - timedelta(days=7), AS_OF)
    assert "sign-ins themselves are not stored" in snap.section("signIns").detail  # type: ignore[union-attr]
