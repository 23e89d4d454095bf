"""The Google connector over the real google-auth + google-api-python-client, against the simulator on loopback.

No mocks: the service account key is a fresh RSA key the simulator registered, tokens come from its JWT-bearer
token endpoint, every call goes through httplib2 and the bundled discovery documents.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from urllib.parse import quote

import pytest

from connectors.email_dns import DnsOptions
from connectors.google.client import GoogleClient
from connectors.google.collect import GMAIL_SECTIONS, collect_google
from connectors.google.options import (
    REQUIRED_SCOPES,
    SCOPE_GMAIL_SETTINGS,
    SCOPE_POLICIES,
    SCOPE_TOKENS,
    SCOPE_USERS,
    GoogleOptions,
)
from idaudit.core.errors import CollectionError
from idaudit.core.model import Provider
from idaudit.core.snapshot import load_snapshot
from idaudit.orchestration.pipeline import audit_snapshot
from simulator import build_organisation
from simulator.google import GoogleSimulator, render_google_snapshot
from simulator.google.auth import new_service_account
from simulator.org import Organisation


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(users=60, seed=11)


def opts(sim: GoogleSimulator, **kw: object) -> GoogleOptions:
    base: dict[str, object] = {"service_account_info": sim.service_account_info, "admin_subject": sim.admin_subject,
                               "api_endpoint": sim.api_endpoint, "backoff_base": 0.01, "backoff_cap": 0.05,
                               "log_window_end": sim.org.as_of, "dns": DnsOptions(resolvers=(sim.dns_address,))}
    base.update(kw)
    return GoogleOptions(**base)  # type: ignore[arg-type]


def manifest(path: Path) -> dict:
    return json.loads((path / "manifest.json").read_text())["sections"]


def test_full_collection_stores_exactly_what_the_renderer_writes(org: Organisation, tmp_path: Path) -> None:
    with GoogleSimulator(org) as sim:
        out = collect_google(opts(sim, gmail_batch_size=8), tmp_path / "c", progress=False)
        stats = sim.stats
    rendered = render_google_snapshot(org, tmp_path / "r")
    sections = manifest(out)
    assert {n: s["status"] for n, s in sections.items()} == {n: "ok" for n in sections}
    assert len(sections) == 18  # with dns.emailAuth (collected == rendered, DNS included)
    # the takeover logs: the window asked for is the one stored, and what was served is what the renderer holds
    for name in ("reports.login", "reports.userAccounts", "reports.admin"):
        assert sections[name]["window"] == {"start": "2026-11-27T00:00:00Z", "end": "2026-12-04T00:00:00Z"} or \
            sections[name]["window"]["end"] == org.as_of.strftime("%Y-%m-%dT%H:%M:%SZ"), sections[name]
    assert sections["reports.login"]["count"] > len(org.people)
    # the groups policies and roles target: 2SV off for "MFA Exclusions" (nested "Legacy Device Accounts" flattened
    # into its members), IMAP on for "Legacy Device Accounts", the Help Desk role held by "IT Helpdesk Admins"
    members = json.loads((out / sections["groupMembers"]["file"]).read_text())
    assert len(members) == 3 and sections["groups"]["count"] == 3
    assert any(m["type"] == "GROUP" for rows in members.values() for m in rows)
    for name, rec in sections.items():
        assert json.loads((out / rec["file"]).read_text()) == json.loads((rendered / rec["file"]).read_text()), name
    snap = load_snapshot(out)
    assert snap.manifest.complete and snap.manifest.provider == "google"
    assert snap.manifest.tenant_id == sim.customer_id and snap.manifest.tenant_name == org.domain
    active = [u for u in snap.data("users") if not u["suspended"]]
    # 4 Gmail settings calls per active user, 8 per batch: the batches really were split at the limit
    assert stats.batch_requests >= math.ceil(len(active) * 4 / 8)
    assert stats.requests.get("gmail", 0) == len(active) * 4
    no_gmail = [uid for uid, v in snap.data("gmail.autoForwarding").items() if v is None]
    assert no_gmail, "users without Gmail are stored as null, not as an error"
    assert not sections["gmail.autoForwarding"].get("failed_subjects")
    # files are owner-only: they hold names and addresses
    assert oct((out / "users.json").stat().st_mode & 0o777) == "0o600"


def test_paging_and_partial_response_through_the_real_client(org: Organisation) -> None:
    with GoogleSimulator(org) as sim:
        client = GoogleClient(opts(sim))
        creds = client.creds.for_subject(sim.admin_subject, SCOPE_USERS)
        directory = client.service("admin", "directory_v1")
        before = sim.stats.requests.get("directory", 0)
        users = list(client.pages(lambda tok: directory.users().list(
            customer="my_customer", maxResults=7, pageToken=tok, fields="nextPageToken,users(id,primaryEmail)"),
            creds, "users"))
        pages = sim.stats.requests["directory"] - before
        admins = list(client.pages(lambda tok: directory.users().list(
            customer="my_customer", query="isAdmin=true", pageToken=tok), creds, "users"))
        policies = list(client.pages(lambda tok: client.service("cloudidentity", "v1").policies().list(
            pageSize=5, pageToken=tok), client.creds.for_subject(sim.admin_subject, SCOPE_POLICIES), "policies"))
    assert len(users) == len(sim.tenant.users) and pages == math.ceil(len(users) / 7)
    assert len({u["id"] for u in users}) == len(users)
    assert all(set(u) == {"id", "primaryEmail"} for u in users)  # `fields` really trims
    assert admins and all(u["isAdmin"] for u in admins)
    assert len(admins) == sum(1 for u in sim.tenant.users if u["isAdmin"])
    assert len(policies) == len(sim.tenant.policies) > 5


def test_batch_with_mixed_part_errors(org: Organisation, tmp_path: Path) -> None:
    with GoogleSimulator(org) as sim:
        users = [u for u in sim.tenant.users if not u["suspended"] and sim.tenant.gmail.get(u["id"]) is not None]
        broken, throttled = users[3], users[5]
        sim.faults.add(path=rf"/users/{quote(broken['primaryEmail'], safe='')}/settings/filters", status=500,
                       code="backendError", times=None, target="inner")
        sim.faults.add(path=rf"/users/{quote(throttled['primaryEmail'], safe='')}/settings/delegates", status=403,
                       code="userRateLimitExceeded", message="User-rate limit exceeded", times=1)
        client = GoogleClient(opts(sim, max_retries=2))
        out = collect_google(client.options, tmp_path / "s", progress=False, client=client)
    sections = manifest(out)
    filters = sections["gmail.filters"]
    assert filters["status"] == "ok"
    assert list(filters["failed_subjects"]) == [broken["id"]]
    assert "500" in filters["failed_subjects"][broken["id"]]
    snap = load_snapshot(out)
    assert broken["id"] not in snap.data("gmail.filters")
    assert broken["id"] in snap.data("gmail.autoForwarding")  # the other parts of the same batch succeeded
    assert throttled["id"] in snap.data("gmail.delegates")  # the throttled part was re-sent and succeeded
    assert client.retries >= 1
    assert not sections["gmail.delegates"].get("failed_subjects")


def test_quota_errors_are_retried_with_backoff(org: Organisation, tmp_path: Path) -> None:
    # Tiny windows (time_scale) so a retry after the backoff lands in a fresh window.
    quotas = {"directory": (25, 60.0), "gmail": (2, 60.0), "policy": (1, 60.0), "reports": (1, 60.0)}
    with GoogleSimulator(org, quotas=quotas, time_scale=0.0005) as sim:
        client = GoogleClient(opts(sim))
        out = collect_google(client.options, tmp_path / "q", progress=False, client=client)
        throttled = sim.stats.quota_errors
    assert throttled > 0 and client.retries > 0  # one backoff may cover many throttled batch parts
    assert {s["status"] for s in manifest(out).values()} == {"ok"}
    assert not any(s.get("failed_subjects") for s in manifest(out).values())


def test_quota_that_never_clears_becomes_a_failure_not_an_empty_section(org: Organisation, tmp_path: Path) -> None:
    with GoogleSimulator(org) as sim:
        sim.faults.add(path=r"^/v1/policies", status=429, code="rateLimitExceeded", times=None, retry_after=0)
        out = collect_google(opts(sim, max_retries=2), tmp_path / "p", progress=False,
                             sections={"policies", "domains"})
    rec = manifest(out)["policies"]
    assert rec["status"] == "error" and "429" in rec["detail"] and rec["file"] is None
    assert manifest(out)["domains"]["status"] == "ok"


def test_scopes_not_delegated_make_sections_forbidden_and_checks_unknown(org: Organisation, tmp_path: Path) -> None:
    granted = set(REQUIRED_SCOPES) - {SCOPE_GMAIL_SETTINGS, SCOPE_TOKENS}
    with GoogleSimulator(org, delegated_scopes=granted) as sim:
        out = collect_google(opts(sim), tmp_path / "f", progress=False)
        client_id = sim.account.client_id
    sections = manifest(out)
    for name in (*GMAIL_SECTIONS, "tokens"):
        assert sections[name]["status"] == "forbidden", name
        assert "not delegated" in sections[name]["detail"] and client_id in sections[name]["detail"]
    assert SCOPE_GMAIL_SETTINGS in sections["gmail.filters"]["detail"]
    assert sections["users"]["status"] == "ok" and sections["reports.tokenAuthorize"]["status"] == "ok"

    run = audit_snapshot(out)
    assert run.data.status["forwarding"].availability.value == "missing"
    assert "forbidden" in run.data.status["forwarding"].reason
    assert run.data.status["oauth_grants"].availability.value == "partial"  # from the Reports API instead
    needs_mail = [m.id for m in run.checks if "forwarding" in m.requires and Provider.GOOGLE in m.providers]
    assert needs_mail, "the catalogue has Google checks reading forwarding"
    rows = run.findings[run.findings["check_id"].isin(needs_mail)]
    assert not rows.empty and set(rows["status"]) == {"unknown"}
    assert rows["evidence"].str.contains("forbidden").all()


def test_admin_subject_without_admin_rights_gives_forbidden_sections(org: Organisation, tmp_path: Path) -> None:
    with GoogleSimulator(org) as sim:
        nurse = next(u for u in sim.tenant.users if not u["isAdmin"] and not u["isDelegatedAdmin"]
                     and not u["suspended"])
        out = collect_google(opts(sim, admin_subject=nurse["primaryEmail"]), tmp_path / "n", progress=False)
    sections = manifest(out)
    assert sections["users"]["status"] == "forbidden" and "Not Authorized" in sections["users"]["detail"]
    assert sections["gmail.filters"]["status"] == "forbidden"
    assert "users could not be listed" in sections["gmail.filters"]["detail"]


def test_unknown_key_or_forged_signature_stops_collection(org: Organisation, tmp_path: Path) -> None:
    with GoogleSimulator(org) as sim:
        stranger = new_service_account("stranger").key_file(sim.token_uri)
        with pytest.raises(CollectionError, match="unauthorized_client"):
            collect_google(opts(sim, service_account_info=stranger), tmp_path / "u", progress=False)
        forged = dict(sim.service_account_info, private_key=stranger["private_key"])
        with pytest.raises(CollectionError, match="Invalid JWT Signature"):
            collect_google(opts(sim, service_account_info=forged), tmp_path / "g", progress=False)
    assert not (tmp_path / "u" / "manifest.json").exists()


def test_cli_collect_google_with_key_file(org: Organisation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    from idaudit.cli import main

    with GoogleSimulator(org) as sim:
        key = tmp_path / "key.json"
        key.write_text(json.dumps(sim.service_account_info))
        os.chmod(key, 0o600)
        code = main(["collect", "google", "--service-account-file", str(key), "--admin-subject", sim.admin_subject,
                     "--api-endpoint", sim.api_endpoint, "--sections", "users,domains,policies",
                     "--out", str(tmp_path / "cli"), "--no-progress"])
    assert code == 0, capsys.readouterr()
    assert set(manifest(tmp_path / "cli")) == {"users", "domains", "policies"}
    out = capsys.readouterr().out
    assert "wrote" in out and sim.account.private_key_pem[40:80] not in out


class RecordingProgress:
    """A CollectionProgress that records events (the terminal bar is off without a TTY)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []

    def section_started(self, name: str, total: int | None = None) -> None:
        self.events.append(("start", name, total))

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", "", n))

    def section_finished(self, name: str, status: str) -> None:
        self.events.append(("finish", name, status))

    def close(self) -> None:
        self.events.append(("close", "", None))


def test_only_the_users_scope_missing_still_collects_the_rest(org: Organisation, tmp_path: Path) -> None:
    progress = RecordingProgress()
    with GoogleSimulator(org, delegated_scopes=set(REQUIRED_SCOPES) - {SCOPE_USERS}) as sim:
        out = collect_google(opts(sim), tmp_path / "u", progress=progress)
    sections = manifest(out)
    assert sections["users"]["status"] == "forbidden" and SCOPE_USERS in sections["users"]["detail"]
    assert sections["domains"]["status"] == "ok" and sections["policies"]["status"] == "ok"
    assert sections["tokens"]["status"] == "forbidden" and "users could not be listed" in sections["tokens"]["detail"]
    finished = [e for e in progress.events if e[0] == "finish"]
    assert len(finished) == 15 and progress.events[-1][0] == "close"  # 14 sections (dns.emailAuth too) + Gmail
    assert ("finish", "users", "forbidden") in finished


def test_demo_collection_goes_through_the_connector(org: Organisation, tmp_path: Path) -> None:
    from idaudit.orchestration.demo_google import run_google_demo_collection

    out = run_google_demo_collection(org, tmp_path / "demo")
    snap = load_snapshot(out)
    assert snap.manifest.source == "google-workspace" and snap.manifest.complete
    assert {r.status.value for r in snap.manifest.sections.values()} == {"ok"}


def test_docs_list_exactly_the_scopes_the_connector_asks_for() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "google.md").read_text()
    assert ",".join(REQUIRED_SCOPES) in doc  # the line to paste into the Admin console
    for scope in REQUIRED_SCOPES:
        assert f"`{scope.rsplit('/', 1)[1]}`" in doc
    assert all(s.endswith(".readonly") for s in REQUIRED_SCOPES
               if s not in (SCOPE_TOKENS, SCOPE_GMAIL_SETTINGS))  # the two exceptions are explained in the doc


def test_expired_token_reset_connection_and_malformed_page(org: Organisation, tmp_path: Path) -> None:
    with GoogleSimulator(org) as sim:
        sim.faults.add(kind="expire_token", path=r"^/admin/directory/v1/users\?", times=1)  # refresh and go on
        sim.faults.add(kind="reset", path=r"/customer/my_customer/domains", times=1)  # retried
        sim.faults.add(kind="malformed_json", path=r"/customer/my_customer/roles\?", times=None)
        out = collect_google(opts(sim, max_retries=1), tmp_path / "x", progress=False,
                             sections={"users", "domains", "roles", "orgUnits"})
        fired = [kind for kind, _m, _p in sim.faults.log]
    sections = manifest(out)
    assert {"expire_token", "reset", "malformed_json"} <= set(fired)
    assert sections["users"]["status"] == "ok" and sections["domains"]["status"] == "ok"
    assert sections["roles"]["status"] == "error" and sections["roles"]["file"] is None
    assert sections["orgUnits"]["status"] == "ok"


def test_group_members_are_paged_and_nested_groups_flattened(org: Organisation, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """members.list one member per page (every later page in a further batch) stores exactly the renderer's
    membership; includeDerivedMembership=true is what lists the users of a nested group."""
    monkeypatch.setattr("connectors.google.groups.MEMBERS_PAGE", 1)
    wanted = {"policies", "roleAssignments", "groups", "groupMembers"}
    with GoogleSimulator(org) as sim:
        out = collect_google(opts(sim), tmp_path / "c", progress=False, sections=wanted)
        client = GoogleClient(opts(sim))
        creds = client.creds.for_subject(sim.admin_subject, "https://www.googleapis.com/auth/"
                                                            "admin.directory.group.readonly")
        outer = next(gid for gid, g in sim.tenant.groups.items() if g["name"] == "MFA Exclusions")
        directory = client.service("admin", "directory_v1")
        direct = client.execute(directory.members().list(groupKey=outer), creds)["members"]
        derived = client.execute(directory.members().list(groupKey=outer, includeDerivedMembership=True),
                                 creds)["members"]
        batches = sim.stats.batch_requests
    rendered = render_google_snapshot(org, tmp_path / "r")
    sections = manifest(out)
    for name in ("groups", "groupMembers"):
        assert sections[name]["status"] == "ok", sections[name]
        assert json.loads((out / sections[name]["file"]).read_text()) == \
            json.loads((rendered / sections[name]["file"]).read_text()), name
    longest = max(len(v) for v in json.loads((out / sections["groupMembers"]["file"]).read_text()).values())
    assert batches >= longest >= 3  # one batch per page of the longest membership
    users = {m["id"] for m in derived if m["type"] == "USER"}
    assert {m["id"] for m in direct if m["type"] == "USER"} < users  # the nested group's users come only derived
    assert any(m["type"] == "GROUP" for m in direct)
