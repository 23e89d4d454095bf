"""The Microsoft collection's concurrent lanes (connectors/microsoft/collectors.py, MicrosoftCollection.run):
bounded concurrency, overlap of the paced users pages with the per-user fan-outs, one lane's failure confined to its
own sections, and the same sections as a fault-free render. Real msal + msgraph-sdk adapter against the simulator
over loopback TLS; the one monkeypatch (a collector method that raises) stands in for a bug, which no simulator
answer can produce, and says so below."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from connectors.microsoft.collect import collect_microsoft
from connectors.microsoft.collectors import MicrosoftCollection
from connectors.progress import TqdmProgress
from idaudit.core.snapshot import SectionStatus, load_snapshot
from tests.conftest_ms import SCALE, options_for

simulator = pytest.importorskip("simulator")

PER_USER = ("perUserMfaState", "inboxRules", "mailboxSettings", "inboxRuleFolders")


@pytest.fixture(scope="module")
def org() -> Any:
    return simulator.build_organisation(users=60, seed=11)


@pytest.fixture()
def sim(org: Any) -> Any:
    s = simulator.MicrosoftSimulator(org, time_scale=SCALE)
    with s:
        yield s


@pytest.fixture(scope="module")
def rendered(org: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_snapshot(simulator.render_microsoft_snapshot(org, tmp_path_factory.mktemp("r") / "snap"))


class EventLog:
    """A CollectionProgress that remembers the order of section events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def section_started(self, name: str, total: int | None = None) -> None:
        self.events.append(("start", name))

    def advance(self, n: int = 1) -> None:
        pass

    def section_finished(self, name: str, status: str) -> None:
        self.events.append(("end", name))

    def close(self) -> None:
        pass

    def at(self, kind: str, name: str) -> int:
        return self.events.index((kind, name))


def test_all_sections_equal_the_fault_free_render_with_bounded_concurrency(sim: Any, rendered: Any,
                                                                           tmp_path: Path) -> None:
    snap = load_snapshot(collect_microsoft(options_for(sim, concurrency=2), tmp_path / "s", progress=False))
    assert snap.manifest.complete
    assert {n for n, r in snap.manifest.sections.items() if r.status is not SectionStatus.OK} == set()
    assert {n: snap.raw.get(n) for n in rendered.raw} == dict(rendered.raw)
    # 2 Graph slots shared by the three lanes + the Exchange cmdlets, one at a time on their own service
    peak = sim.stats.as_dict()["max_concurrency"]
    assert peak <= 3, peak


def test_per_user_lane_does_not_wait_for_the_paced_users_pages(sim: Any, rendered: Any, tmp_path: Path) -> None:
    """The signInActivity users page is held for 2 s: the per-user fan-outs, fed by their own id listing, start
    (and finish) meanwhile; sequential sections would start them only after `users` ended."""
    held = sim.faults.add(kind="delay", method="GET", path=r"/v1\.0/users\?.*signInActivity", delay=2.0, times=1)
    log = EventLog()
    snap = load_snapshot(collect_microsoft(options_for(sim), tmp_path / "s", progress=log,
                                           sections=["users", "signInActivity", "perUserMfaState", "mailboxSettings"]))
    assert held.fired == 1
    assert log.at("start", "perUserMfaState") < log.at("end", "users")
    assert log.at("start", "mailboxSettings") < log.at("end", "users")
    for name in ("users", "perUserMfaState", "mailboxSettings"):
        assert snap.section(name).usable and snap.raw[name] == rendered.raw[name], name


def test_a_failed_section_in_one_lane_leaves_the_other_lanes_ok(sim: Any, rendered: Any, tmp_path: Path) -> None:
    """The users listing with signInActivity and the registration report are refused for good (403 on every try):
    their own sections end as errors; the per-user and tenant-wide sections are still read in full."""
    sim.faults.add(kind="status", method="GET", path=r"/v1\.0/users\?.*signInActivity", status=403,
                   code="Authorization_RequestDenied", times=None)
    sim.faults.add(kind="status", method="GET", path=r"userRegistrationDetails", status=403,
                   code="Authorization_RequestDenied", times=None)
    snap = load_snapshot(collect_microsoft(options_for(sim), tmp_path / "s", progress=False))
    assert snap.section("signInActivity").status is SectionStatus.FORBIDDEN
    assert snap.section("userRegistrationDetails").status is SectionStatus.FORBIDDEN
    without_activity = [{k: v for k, v in u.items() if k != "signInActivity"} for u in rendered.raw["users"]]
    assert snap.section("users").status is SectionStatus.OK and snap.raw["users"] == without_activity
    for name in (*PER_USER, "conditionalAccessPolicies", "roleAssignments", "groups", "groupMembers",
                 "servicePrincipals", "appRoleAssignments", "exchange.mailboxes"):
        rec = snap.section(name)
        assert rec.status is SectionStatus.OK and not rec.failed_subjects, name
        assert snap.raw[name] == rendered.raw[name], name


def test_a_bug_in_one_lane_is_that_sections_error_not_a_crash(sim: Any, rendered: Any, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Mock: a collector that raises stands in for a programming error (no server answer makes one)."""
    async def broken(self: MicrosoftCollection) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(MicrosoftCollection, "conditional_access", broken)
    snap = load_snapshot(collect_microsoft(options_for(sim), tmp_path / "s", progress=False))
    ca = snap.section("conditionalAccessPolicies")
    assert ca.status is SectionStatus.ERROR and "boom" in ca.detail
    # the next steps of the same lane and the other lanes still ran; groups read CA policies again themselves
    for name in ("users", "signInActivity", *PER_USER, "authorizationPolicy", "roleEligibilities",
                 "exchange.transportRules", "groups", "groupMembers"):
        assert snap.section(name).status is SectionStatus.OK, name
    assert snap.raw["groups"] == rendered.raw["groups"]


def test_terminal_progress_keeps_a_fan_out_bar_while_other_sections_finish() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    bar = TqdmProgress(3, stream=Tty(), provider="microsoft")
    bar.section_started("inboxRules", total=40)
    inner = bar._inner
    bar.section_started("domains")  # another lane
    bar.section_finished("domains", "ok")
    assert bar._inner is inner  # the fan-out's bar survives
    bar.advance(40)
    assert inner.n == 40
    bar.section_finished("inboxRules", "ok")
    assert bar._inner is None and bar._overall.n == 2
    bar.close()


def test_benchmark_tenant_every_account_licensed_with_a_mailbox(tmp_path: Path) -> None:
    """The collection benchmark's tenant (build_organisation(..., every_account_licensed_with_mailbox=True)):
    every per-user mailbox read returns data, none the 'no mailbox' 404 a default tenant gives some accounts."""
    default = simulator.build_organisation(users=60, seed=11)
    assert any(not p.has_mailbox for p in default.people)  # the option changes something
    org = simulator.build_organisation(users=60, seed=11, every_account_licensed_with_mailbox=True)
    assert all(p.licensed and p.has_mailbox for p in org.people)
    with simulator.MicrosoftSimulator(org, time_scale=SCALE) as sim:
        snap = load_snapshot(collect_microsoft(options_for(sim), tmp_path / "s", progress=False,
                                               sections=["users", "inboxRules", "mailboxSettings"]))
    for name in ("inboxRules", "mailboxSettings"):
        rec = snap.section(name)
        assert rec.status is SectionStatus.OK and not rec.failed_subjects, name
        assert len(snap.raw[name]) == len(org.people) and all(v is not None for v in snap.raw[name].values()), name
