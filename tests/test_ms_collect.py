"""The Microsoft connector end to end: the real msal and the real msgraph-sdk adapter over loopback TLS against
the simulator (simulator). No mocks: sign-in, paging, $batch, throttling and faults are the simulator's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from connectors.microsoft.collect import collect_microsoft, run_coroutine
from idaudit.core.errors import CollectionError
from idaudit.core.snapshot import SectionStatus, load_snapshot
from tests.conftest_ms import SCALE, options_for

simulator = pytest.importorskip("simulator")
try:
    simulator.MicrosoftSimulator  # noqa: B018 - lazy attribute: present once the simulator lands
except (AttributeError, ImportError):  # pragma: no cover
    pytest.skip("simulator.MicrosoftSimulator not available yet", allow_module_level=True)

@pytest.fixture(scope="module")
def org() -> Any:
    return simulator.build_organisation(users=60, seed=11)


@pytest.fixture(scope="module")
def sim(org: Any) -> Any:
    s = simulator.MicrosoftSimulator(org, time_scale=SCALE)
    with s:
        yield s


@pytest.fixture(scope="module")
def full_snapshot(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ms") / "snap"
    return collect_microsoft(options_for(sim), out, progress=False)


def test_full_collection_equals_the_rendered_snapshot(full_snapshot: Path, org: Any,
                                                      tmp_path: Path) -> None:
    snap = load_snapshot(full_snapshot)
    assert snap.manifest.complete
    assert snap.manifest.provider == "microsoft"
    bad = {n: (r.status.value, r.detail) for n, r in snap.manifest.sections.items() if not r.usable}
    assert not bad, bad
    expected = load_snapshot(simulator.render_microsoft_snapshot(org, tmp_path / "rendered"))
    assert snap.manifest.tenant_id == expected.manifest.tenant_id
    assert snap.manifest.tenant_name == expected.manifest.tenant_name
    for name, rec in expected.manifest.sections.items():
        assert name in snap.manifest.sections, f"section {name} not collected"
        assert snap.manifest.sections[name].status is rec.status, name
        if rec.usable:
            assert snap.raw[name] == expected.raw[name], f"section {name} differs from what the simulator serves"


def test_snapshot_files_are_owner_only(full_snapshot: Path) -> None:
    assert (full_snapshot.stat().st_mode & 0o777) == 0o700
    for f in full_snapshot.iterdir():
        assert (f.stat().st_mode & 0o777) == 0o600, f.name


def test_user_without_mailbox_is_not_a_failure(full_snapshot: Path, org: Any) -> None:
    snap = load_snapshot(full_snapshot)
    no_mailbox = [p.id for p in org.people if not p.has_mailbox]
    assert no_mailbox, "the organisation should have people without a mailbox (guests)"
    for section in ("inboxRules", "mailboxSettings"):
        rec = snap.section(section)
        assert rec is not None and rec.usable
        assert not rec.failed_subjects
        for pid in no_mailbox:
            assert snap.raw[section][pid] is None
    with_mailbox = next(p for p in org.people if p.has_mailbox)
    assert isinstance(snap.raw["inboxRules"][with_mailbox.id], list)


def test_certificate_sign_in(sim: Any, tmp_path: Path) -> None:
    opts = options_for(sim, certificate_path=Path(sim.certificate_pem_path))
    snap = load_snapshot(collect_microsoft(opts, tmp_path / "s", progress=False, sections=["domains"]))
    assert snap.section("domains") is not None and snap.section("domains").usable
    assert set(snap.manifest.sections) == {"domains"}


def test_wrong_secret_is_a_clear_error_without_the_secret(sim: Any, tmp_path: Path) -> None:
    wrong = "Not-The-Secret-~8Q"
    with pytest.raises(CollectionError) as info:
        collect_microsoft(options_for(sim, client_secret=wrong), tmp_path / "s", progress=False)
    text = str(info.value)
    assert "AADSTS7000215" in text
    assert wrong not in text and sim.client_secret not in text
    assert not (tmp_path / "s" / "manifest.json").exists()


def test_no_secret_or_token_in_debug_logs(sim: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    collect_microsoft(options_for(sim), tmp_path / "s", progress=False, sections=["domains", "inboxRules"])
    text = caplog.text
    assert "domains" in text or "HTTP Request" in text  # debug logging really happened
    assert sim.client_secret not in text
    assert "Bearer ey" not in text and "access_token\": \"ey" not in text


def test_token_cache_is_owner_only_and_reused(sim: Any, tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "msal.json"
    opts = options_for(sim, token_cache_path=cache)
    collect_microsoft(opts, tmp_path / "a", progress=False, sections=["domains"])
    assert (cache.stat().st_mode & 0o777) == 0o600
    assert sim.client_secret not in cache.read_text()
    before = sim.stats.requests["token"]
    assert before >= 1
    collect_microsoft(opts, tmp_path / "b", progress=False, sections=["domains"])
    after = sim.stats.requests["token"]
    assert after == before, "the cached token should have been reused"


def test_keyboard_interrupt_leaves_an_incomplete_manifest(sim: Any, tmp_path: Path) -> None:
    class Interrupting:
        def section_started(self, name: str, total: int | None = None) -> None:
            if name == "perUserMfaState":
                raise KeyboardInterrupt

        def advance(self, n: int = 1) -> None:
            pass

        def section_finished(self, name: str, status: str) -> None:
            pass

        def close(self) -> None:
            pass

    with pytest.raises(KeyboardInterrupt):
        collect_microsoft(options_for(sim), tmp_path / "s", progress=Interrupting())
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["complete"] is False
    assert "users" in manifest["sections"] and "perUserMfaState" not in manifest["sections"]


def test_paging_follows_next_links_and_select_is_honoured(sim: Any, org: Any) -> None:
    from connectors.microsoft.auth import MsalAccessTokenProvider, MsalSignIn
    from connectors.microsoft.graph import GraphClient
    from connectors.microsoft.http import AdapterTransport, build_http_client

    opts = options_for(sim)
    sign_in = MsalSignIn(opts)

    async def run() -> tuple[list[Any], dict[str, int]]:
        stats: dict[str, int] = {}
        client = build_http_client(opts.ca_bundle, 30, 4, SCALE, stats)
        try:
            transport = AdapterTransport(client, MsalAccessTokenProvider(sign_in, opts.graph_scope, sim.graph_url),
                                         sim.graph_url, SCALE, stats)
            graph = GraphClient(transport, sim.graph_url, time_scale=SCALE)
            users = await graph.get_all("users", params={"$select": "id,displayName", "$top": "7"})
            return users, stats
        finally:
            await client.aclose()

    users, stats = run_coroutine(run())
    assert len(users) == len(org.people)
    assert len({u["id"] for u in users}) == len(users)
    assert stats["requests"] >= -(-len(org.people) // 7)  # one request per page at least
    assert all(set(u) <= {"id", "displayName", "@odata.type"} for u in users)
    assert all("accountEnabled" not in u for u in users)


def test_unlicensed_tenant_falls_back(org: Any, tmp_path: Path) -> None:
    licences = {"p1": False, "p2": False}
    with simulator.MicrosoftSimulator(org, time_scale=SCALE, licences=licences) as s:
        path = collect_microsoft(options_for(s), tmp_path / "s", progress=False)
    expected = load_snapshot(simulator.render_microsoft_snapshot(org, tmp_path / "r", licences=licences))
    snap = load_snapshot(path)
    status = {n: r.status for n, r in snap.manifest.sections.items()}
    assert status["users"] is SectionStatus.OK
    assert status["signInActivity"] is SectionStatus.UNLICENSED
    assert "P1" in snap.section("signInActivity").detail
    assert status["userRegistrationDetails"] is SectionStatus.UNLICENSED
    assert status["authenticationMethods"] is SectionStatus.OK
    assert len(snap.raw["authenticationMethods"]) == len(org.people) - len(
        snap.section("authenticationMethods").failed_subjects)
    assert status["conditionalAccessPolicies"] is SectionStatus.UNLICENSED
    assert status["roleEligibilities"] is SectionStatus.UNLICENSED
    assert all("signInActivity" not in u for u in snap.raw["users"])
    for name, rec in expected.manifest.sections.items():
        assert snap.manifest.sections[name].status is rec.status, name
        if rec.usable:
            assert snap.raw[name] == expected.raw[name], name


def test_device_code_flow_shows_the_message_once_then_uses_the_cache(sim: Any, tmp_path: Path) -> None:
    messages: list[str] = []
    cache = tmp_path / "msal-cache.json"
    opts = options_for(sim, device_code=True, device_code_callback=messages.append, token_cache_path=cache)
    snap = load_snapshot(collect_microsoft(opts, tmp_path / "a", progress=False, sections=["domains"]))
    assert snap.section("domains").usable
    assert len(messages) == 1 and "devicelogin" in messages[0]
    assert (cache.stat().st_mode & 0o777) == 0o600
    collect_microsoft(opts, tmp_path / "b", progress=False, sections=["domains"])
    assert len(messages) == 1, "the cached sign-in should not ask for a device code again"


def test_cli_collect_microsoft_against_the_simulator(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from idaudit.cli import main

    monkeypatch.setenv("IDAUDIT_SIM_SECRET", sim.client_secret)
    out = tmp_path / "snap"
    code = main(["collect", "microsoft", "--tenant-id", sim.tenant_id, "--client-id", sim.client_id,
                 "--client-secret-env", "IDAUDIT_SIM_SECRET", "--authority-host", sim.authority_host,
                 "--graph-endpoint", sim.graph_url, "--exchange-endpoint", sim.exchange_url,
                 "--ca-bundle", str(sim.ca_file), "--sections", "domains,users,signInActivity", "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed
    assert f"wrote {out}" in printed.out
    assert sim.client_secret not in printed.out + printed.err
    assert set(load_snapshot(out).manifest.sections) == {"domains", "users", "signInActivity"}
    # a failed sign-in is exit code 5 with the AADSTS code, never the secret
    monkeypatch.setenv("IDAUDIT_SIM_SECRET", "wrong-" + sim.client_secret)
    code = main(["collect", "microsoft", "--tenant-id", sim.tenant_id, "--client-id", sim.client_id,
                 "--client-secret-env", "IDAUDIT_SIM_SECRET", "--authority-host", sim.authority_host,
                 "--graph-endpoint", sim.graph_url, "--ca-bundle", str(sim.ca_file), "--out", str(tmp_path / "x")])
    printed = capsys.readouterr()
    assert code == 5
    assert "AADSTS7000215" in printed.err and sim.client_secret not in printed.err


def test_collect_tenant_from_config(sim: Any, tmp_path: Path) -> None:
    from idaudit.core.config import TenantConfig
    from idaudit.orchestration.collecting import collect_tenant

    secret_file = tmp_path / "secret"
    secret_file.write_text(sim.client_secret + "\n")
    secret_file.chmod(0o600)
    tenant = TenantConfig("riverside", "microsoft", {
        "name": "riverside", "provider": "microsoft", "tenant_id": sim.tenant_id, "client_id": sim.client_id,
        "client_secret_file": str(secret_file), "authority": sim.authority, "graph_endpoint": sim.graph_url,
        "exchange_endpoint": sim.exchange_url, "ca_bundle": str(sim.ca_file), "dns_resolver": sim.dns_address})
    path = collect_tenant(tenant, tmp_path / "snap", progress=False)
    snap = load_snapshot(path)
    assert snap.manifest.complete
    assert all(r.usable for r in snap.manifest.sections.values())


def test_progress_bars_only_on_a_terminal() -> None:
    import io

    from connectors.progress import SilentProgress, TqdmProgress, make_progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(make_progress(True, 3, stream=io.StringIO()), SilentProgress)  # cron: not a TTY
    assert isinstance(make_progress(False, 3, stream=Tty()), SilentProgress)
    tty = Tty()
    bar = make_progress(True, 2, provider="microsoft", stream=tty)
    assert isinstance(bar, TqdmProgress)
    bar.section_started("inboxRules", total=40)
    bar.advance(20)
    bar.section_finished("inboxRules", "ok")
    bar.close()
    assert "collect microsoft" in tty.getvalue() and "inboxRules" in tty.getvalue()


def test_collect_works_inside_a_running_event_loop(sim: Any, tmp_path: Path) -> None:
    """Jupyter runs an event loop already: asyncio.run would refuse, so collection moves to a worker thread."""
    import asyncio

    async def notebook_cell() -> Path:
        return collect_microsoft(options_for(sim), tmp_path / "s", progress=False, sections=["domains"])

    path = asyncio.run(notebook_cell())
    assert load_snapshot(path).section("domains").usable


def test_demo_collection_goes_through_the_connector(org: Any, tmp_path: Path) -> None:
    from idaudit.orchestration.demo_microsoft import run_microsoft_demo_collection

    snap = load_snapshot(run_microsoft_demo_collection(org, tmp_path / "demo"))
    assert snap.manifest.source == "microsoft-graph" and snap.manifest.complete
    expected = load_snapshot(simulator.render_microsoft_snapshot(org, tmp_path / "rendered"))
    assert {n: snap.raw.get(n) for n in expected.raw} == dict(expected.raw)


def test_microsoft_collector_implements_the_collector_protocol(sim: Any, tmp_path: Path) -> None:
    from connectors.interface import Collector
    from connectors.microsoft.collect import MicrosoftCollector

    collector = MicrosoftCollector(options_for(sim))
    assert isinstance(collector, Collector)
    seen: list[tuple[str, str]] = []

    class Recording:
        def section_started(self, name: str, total: int | None = None) -> None:
            pass

        def advance(self, n: int = 1) -> None:
            pass

        def section_finished(self, name: str, status: str) -> None:
            seen.append((name, status))

        def close(self) -> None:
            pass

    path = collector.collect(tmp_path / "s", sections=["domains", "inboxRules"], progress=Recording())
    assert sorted(seen) == [("domains", "ok"), ("inboxRules", "ok")]
    assert load_snapshot(path).manifest.complete
