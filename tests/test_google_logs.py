"""Signs of takeover on Google Workspace: the simulator's Reports activities tell the organisation's story
consistently (simulator/google/activities.py), the wire honours the time range, and the normaliser reads the
documented shapes into sign_in_countries and change_events (idaudit/core/normalise/google_logs.py) — including the
shapes the simulator does not produce (an account warning whose actor is Google itself, a consent outside the
window, an unknown event)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from connectors.google.options import SCOPE_REPORTS
from idaudit.core.normalise import normalise
from idaudit.core.snapshot import SectionRecord, SectionStatus, load_snapshot
from simulator import build_organisation
from simulator.activity import build_activity
from simulator.google import GoogleSimulator, render_google_snapshot
from simulator.google.models import build_google_tenant
from simulator.org import Organisation
from tests.google_mini import NOW, MiniGoogle
from tests.test_google_sim import bearer


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(users=60, seed=11)


def _events(acts: list[dict[str, Any]], email: str) -> list[tuple[str, str, str, str]]:
    """(time, event name, ip, region) of one actor's activities, oldest first."""
    out = [(a["id"]["time"], e["name"], a["ipAddress"], a.get("networkInfo", {}).get("regionCode", ""))
           for a in acts if a["actor"].get("email") == email for e in a["events"]]
    return sorted(out)


def test_the_nurse_story_in_reports_activities(org: Organisation) -> None:
    t = build_google_tenant(org)
    story = build_activity(org)
    nurse = next(p for p in org.people if "compromised" in p.planted)
    phish = min((s for s in story.sign_ins if s.person_id == nurse.id and s.country != org.country),
                key=lambda s: s.time)
    login = _events(t.activities_for("login"), nurse.mail)
    at_phish = [e for e in login if e[0] >= (phish.time - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")]
    # Google's warning two minutes before, then the successful sign-in it rates suspicious, from the same address
    assert [e[1] for e in at_phish[:2]] == ["suspicious_login", "login_success"]
    assert {(e[2], e[3]) for e in at_phish} == {(phish.ip, phish.country)}
    first = next(a for a in t.activities_for("login") if a["actor"]["email"] == nurse.mail
                 and a["events"][0]["name"] == "login_success" and a["ipAddress"] == phish.ip
                 and a["id"]["time"].startswith(phish.time.strftime("%Y-%m-%dT%H:%M")))
    params = {p["name"]: p for p in first["events"][0]["parameters"]}
    assert params["is_suspicious"]["boolValue"] is True and params["login_type"]["value"] == "google_password"
    warning = next(a for a in t.activities_for("login") if a["events"][0]["name"] == "suspicious_login")
    assert warning["events"][0]["type"] == "account_warning"
    assert warning["events"][0]["parameters"] == [{"name": "affected_email_address", "value": nurse.mail}]
    # the attacker makes the account theirs from the same address 20 minutes later, then consents to the app
    accounts = _events(t.activities_for("user_accounts"), nurse.mail)
    assert ("recovery_phone_edit", phish.ip, phish.country) in {(e[1], e[2], e[3]) for e in accounts}
    token = [a for a in t.activities_for("token") if a["actor"]["email"] == nurse.mail
             and a["id"]["time"] >= phish.time.strftime("%Y-%m-%d")]
    assert len(token) == 1 and token[0]["ipAddress"] == phish.ip
    assert token[0]["networkInfo"]["regionCode"] == phish.country
    assert {p["value"] for p in token[0]["events"][0]["parameters"] if p["name"] == "app_name"} \
        == {"SecureDocs Viewer"}
    # her forwarding filter leaves no event anywhere: Google logs no filter creation
    everything = [e for app in ("login", "user_accounts", "admin", "token") for a in t.activities_for(app)
                  for e in a["events"]]
    assert not [e for e in everything if "filter" in e["name"].casefold()]


def test_everyone_else_is_consistent_with_the_directory(org: Organisation) -> None:
    t = build_google_tenant(org)
    story = build_activity(org)
    by_id = {u["id"]: u for u in t.users}
    # each user's newest successful sign-in is the Directory's lastLoginTime, from the user's own country
    newest: dict[str, str] = {}
    for a in t.activities_for("login"):
        if a["events"][0]["name"] == "login_success":
            uid = a["actor"]["profileId"]
            newest[uid] = max(newest.get(uid, ""), a["id"]["time"])
    assert newest and all(by_id[u]["lastLoginTime"] == when for u, when in newest.items())
    # tokens outside the story were authorised before the activity's span: the window holds only the story's
    start = (org.as_of - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S")
    recent = [a for a in t.activities_for("token") if a["id"]["time"] >= start]
    consents = [c for c in story.changes if c.kind == "consent"]
    assert len(recent) == len(consents)
    # out-of-domain forwarding turned on from home; the role grant by the IT manager from the office
    fwd = next(a for a in t.activities_for("user_accounts")
               if a["events"][0]["name"] == "email_forwarding_out_of_domain")
    owner = by_id[fwd["actor"]["profileId"]]
    assert t.gmail[owner["id"]]["autoForwarding"]["emailAddress"] == fwd["events"][0]["parameters"][0]["value"]
    grant = t.activities_for("admin")[0]["events"][0]
    assert grant["name"] == "ASSIGN_ROLE" and {p["name"] for p in grant["parameters"]} >= {"ROLE_NAME", "USER_EMAIL"}
    times = [a["id"]["time"] for a in t.activities_for("login")]
    assert times == sorted(times, reverse=True)


@pytest.fixture(scope="module")
def sim(org: Organisation) -> Iterator[GoogleSimulator]:
    with GoogleSimulator(org, throttle=False) as s:
        yield s


def test_the_wire_honours_the_time_range(sim: GoogleSimulator, org: Organisation) -> None:
    http = requests.Session()
    http.trust_env = False
    auth = bearer(http, sim, SCOPE_REPORTS, sim.admin_subject)
    url = f"{sim.api_endpoint}/admin/reports/v1/activity/users/all/applications/login"
    start, end = "2026-11-30T00:00:00.000Z", "2026-12-01T00:00:00.000Z"
    items, token = [], None
    while True:
        params: dict[str, Any] = {"startTime": start, "endTime": end, "maxResults": 7}
        if token:
            params["pageToken"] = token
        r = http.get(url, params=params, headers=auth, timeout=10)
        assert r.status_code == 200, r.text
        items += r.json().get("items", [])
        token = r.json().get("nextPageToken")
        if not token:
            break
    assert items and all(start <= a["id"]["time"] <= end for a in items)
    assert len(items) == len([a for a in sim.tenant.activities_for("login") if start <= a["id"]["time"] <= end])
    backwards = http.get(url, params={"startTime": end, "endTime": start}, headers=auth, timeout=10)
    assert backwards.status_code == 400 and backwards.json()["error"]["errors"][0]["reason"] == "invalid"


def test_rendered_snapshot_normalises_into_the_story(org: Organisation, tmp_path: Any) -> None:
    data = normalise(load_snapshot(render_google_snapshot(org, tmp_path / "snap")))
    nurse = next(p for p in org.people if "compromised" in p.planted)
    uid = next(u for u, label in data.user_labels().items() if label == nurse.mail)
    assert data.log_window is not None and data.log_window[1] == org.as_of
    c = data.table("sign_in_countries")
    mine = c[c["user_id"] == uid]
    assert set(mine["country"]) == {org.country, "NG"}
    ev = data.table("change_events")
    kinds = set(ev[ev["user_id"] == uid]["kind"])
    assert kinds == {"suspicious_login", "recovery_changed", "consent"}
    assert set(ev[ev["user_id"] == uid]["country"]) == {"NG"}
    assert set(ev["source"]) == {"reports.login", "reports.userAccounts", "reports.admin", "reports.tokenAuthorize"}
    for name in ("sign_in_summary", "risky_users", "risk_detections"):
        assert data.status[name].availability.value == "missing"


# ---- the normaliser on hand-made activities ---------------------------------------------------------------------

WINDOW = (NOW - timedelta(days=7), NOW)


def _act(app: str, when: str, actor: dict[str, Any], name: str, params: list[dict[str, Any]] | None = None,
         ip: str = "203.0.113.20", region: str | None = "NG", etype: str = "") -> dict[str, Any]:
    a: dict[str, Any] = {"kind": "admin#reports#activity", "id": {"time": when, "applicationName": app},
                         "actor": actor, "ipAddress": ip,
                         "events": [{"type": etype or app, "name": name, "parameters": params or []}]}
    if region is not None:
        a["networkInfo"] = {"regionCode": region}
    return a


ANN = {"callerType": "USER", "email": "ann@clinic.org", "profileId": "ann"}
GOOGLE = {"callerType": "KEY", "key": "Google"}


def _mini(**sections: list[dict[str, Any]]) -> MiniGoogle:
    t = MiniGoogle().user("ann").user("it")
    t.raw.update(sections)
    return t


def _windowed(t: MiniGoogle) -> Any:
    snap = t.snapshot()
    for name in ("reports.login", "reports.userAccounts", "reports.admin"):
        rec = snap.manifest.sections.get(name)
        if rec is not None and rec.status is SectionStatus.OK:
            snap.manifest.sections[name] = dataclasses.replace(rec, window=WINDOW)  # type: ignore[index]
    return normalise(snap)


def test_normaliser_reads_the_documented_shapes() -> None:
    login = [
        _act("login", "2026-11-22T08:00:00.000Z", ANN, "login_success", [{"name": "is_suspicious",
                                                                           "boolValue": False}],
             ip="100.64.0.1", region="US"),
        _act("login", "2026-11-25T13:00:00.000Z", ANN, "login_success", [{"name": "is_suspicious",
                                                                           "boolValue": True}]),
        # Google itself is the actor of its warnings: the account is in affected_email_address
        _act("login", "2026-11-25T12:58:00.000Z", GOOGLE, "suspicious_programmatic_login",
             [{"name": "affected_email_address", "value": "ANN@clinic.org"}], etype="account_warning"),
        _act("login", "2026-11-25T12:50:00.000Z", ANN, "login_failure", []),
        _act("login", "2026-11-25T12:51:00.000Z", ANN, "some_future_event", []),
    ]
    accounts = [_act("user_accounts", "2026-11-25T13:20:00.000Z", ANN, "recovery_phone_edit", region=None),
                _act("user_accounts", "2026-11-26T09:00:00.000Z", ANN, "email_forwarding_out_of_domain",
                     [{"name": "email_forwarding_destination_address", "value": "ann@gmail.com"}], region=None,
                     ip="198.18.0.9")]
    admin = [_act("admin", "2026-11-26T10:00:00.000Z", {"callerType": "USER", "email": "it@clinic.org",
                                                         "profileId": "it"}, "ASSIGN_ROLE",
                  [{"name": "ROLE_NAME", "value": "_HELP_DESK_ADMIN_ROLE"}, {"name": "USER_EMAIL",
                                                                            "value": "ann@clinic.org"}],
                  ip="198.51.100.10", region="US")]
    tokens = [_act("token", "2026-11-26T11:00:00.000Z", ANN, "authorize",
                   [{"name": "app_name", "value": "Docs"}, {"name": "scope", "multiValue": ["https://mail.google.com/"]}]),
              _act("token", "2026-06-01T11:00:00.000Z", ANN, "authorize",  # before the window: not a change of it
                   [{"name": "app_name", "value": "Old"}, {"name": "scope", "multiValue": ["openid"]}])]
    data = _windowed(_mini(**{"reports.login": login, "reports.userAccounts": accounts, "reports.admin": admin,
                              "reports.tokenAuthorize": tokens}))
    c = data.table("sign_in_countries").set_index("country")
    assert set(c.index) == {"US", "NG"} and int(c.loc["NG", "sign_ins"]) == 1  # failures are not sign-ins
    ev = data.table("change_events").sort_values("time")
    rows = [(r.user_id, r.kind, r.operation, r.object, r.country) for r in ev.itertuples()]
    assert rows == [
        ("ann", "suspicious_login", "suspicious_programmatic_login", "", "NG"),
        ("ann", "suspicious_login", "login_success (rated suspicious)", "", "NG"),
        ("ann", "recovery_changed", "recovery_phone_edit", "", "NG"),  # country from the sign-in from that address
        ("ann", "mailbox_forwarding", "email_forwarding_out_of_domain", "ann@gmail.com", ""),  # never guessed
        ("ann", "role_added", "ASSIGN_ROLE", "_HELP_DESK_ADMIN_ROLE", "US"),
        ("ann", "consent", "authorize", "Docs", "NG"),
    ]
    warning = ev[ev["operation"] == "suspicious_programmatic_login"].iloc[0]
    assert warning["actor"] == "Google" and warning["actor_id"] == "" and "may have been blocked" in warning["detail"]
    assert data.status["change_events"].availability.value == "ok"


def test_a_lost_reports_section_is_said_not_filled_in() -> None:
    login = [_act("login", "2026-11-25T13:00:00.000Z", ANN, "login_success", [])]
    t = _mini(**{"reports.login": login, "reports.tokenAuthorize": []})
    t.fail("reports.userAccounts", "error", "HTTP 503 backendError")
    t.fail("reports.admin", "forbidden", "unauthorized_client")
    data = _windowed(t)
    st = data.status["change_events"]
    assert st.availability.value == "partial" and "reports.userAccounts" in st.reason and "reports.admin" in st.reason
    t2 = MiniGoogle().user("ann")
    for name in ("reports.login", "reports.userAccounts", "reports.admin", "reports.tokenAuthorize"):
        t2.fail(name)
    data2 = normalise(t2.snapshot())
    assert data2.status["change_events"].availability.value == "missing"
    assert data2.status["sign_in_countries"].availability.value == "missing"
    assert data2.log_window is None


def test_section_record_keeps_the_window() -> None:
    rec = SectionRecord("reports.login", SectionStatus.OK, "f.json", 1, window=(datetime(2026, 11, 21, tzinfo=UTC),
                                                                            datetime(2026, 11, 28, tzinfo=UTC)))
    assert rec.window is not None and rec.window[1] - rec.window[0] == timedelta(days=7)
