"""Throttling and fault injection in the Microsoft simulator: 429s where Graph sends them (with and without
Retry-After), token buckets and the time scale, and every fault kind a connector must survive."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from simulator import build_organisation
from simulator.faults import FaultPlan
from simulator.microsoft.graph_throttle import directory_capacity
from simulator.microsoft.simulator import MicrosoftSimulator
from simulator.org import Organisation
from simulator.throttle import ConcurrencyLimit, Limit, TokenBucket, retry_after_seconds
from tests.sim_ms_helpers import get, session, token


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(60, seed=3, as_of=datetime(2026, 11, 1, tzinfo=UTC))


@pytest.fixture()
def sim(org: Organisation) -> Iterator[MicrosoftSimulator]:
    with MicrosoftSimulator(org) as s:  # throttled, time_scale 1: the documented limits as they are
        yield s


# ---- buckets (unit level, with a fake clock) ---------------------------------------------------------------------

class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_refills_and_reports_the_wait() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Limit(5, 10), clock=clock)
    assert all(bucket.take() == 0.0 for _ in range(5))
    assert bucket.take() == pytest.approx(2.0)  # one unit every 2 s
    clock.now += 2.0
    assert bucket.take() == 0.0


def test_time_scale_shrinks_the_window() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Limit(5, 10), time_scale=0.01, clock=clock)
    for _ in range(5):
        bucket.take()
    assert bucket.take() == pytest.approx(0.02)
    clock.now += 0.02
    assert bucket.take() == 0.0


def test_directory_capacity_by_tenant_size_and_retry_after_rounding() -> None:
    assert [directory_capacity(n) for n in (49, 50, 500, 501)] == [3500, 5000, 5000, 8000]
    assert retry_after_seconds(0.01) == 1 and retry_after_seconds(2.2) == 3


def test_concurrency_limit_per_key() -> None:
    limit = ConcurrencyLimit(4)
    assert all(limit.enter("mailbox-a") for _ in range(4))
    assert not limit.enter("mailbox-a")
    assert limit.enter("mailbox-b")
    limit.leave("mailbox-a")
    assert limit.enter("mailbox-a")


# ---- throttling on the wire --------------------------------------------------------------------------------------

def test_conditional_access_429_has_no_retry_after(sim: MicrosoftSimulator) -> None:
    s = session(sim)
    t = token(sim, s)
    statuses = [get(sim, s, t, "/v1.0/identity/conditionalAccess/policies") for _ in range(3)]
    limited = [r for r in statuses if r.status_code == 429]
    assert statuses[0].status_code == 200 and limited
    assert all("Retry-After" not in r.headers for r in limited)
    assert sim.stats.throttled["conditionalAccessPolicies"] == len(limited)


def test_reports_five_per_ten_seconds_with_retry_after(sim: MicrosoftSimulator) -> None:
    s = session(sim)
    t = token(sim, s)
    codes = [get(sim, s, t, "/v1.0/reports/authenticationMethods/userRegistrationDetails") for _ in range(6)]
    assert [r.status_code for r in codes[:5]] == [200] * 5
    assert codes[5].status_code == 429 and int(codes[5].headers["Retry-After"]) >= 1
    assert codes[5].json()["error"]["code"] == "TooManyRequests"


def test_sign_in_activity_ten_per_minute(sim: MicrosoftSimulator) -> None:
    s = session(sim)
    t = token(sim, s)
    params = {"$select": "id,signInActivity"}
    codes = [get(sim, s, t, "/v1.0/users", **params).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429
    assert get(sim, s, t, "/v1.0/users", **{"$select": "id"}).status_code == 200  # other reads unaffected


def test_outlook_mailbox_concurrency(org: Organisation) -> None:
    """Five requests held open at once on one mailbox: Graph allows four.

    The only patch is timing: GraphThrottle.release waits until the fifth answer is in, so four requests really
    are in flight on the server when the fifth arrives (handlers are otherwise too fast to overlap)."""
    gate = threading.Barrier(5, timeout=10)
    user = org.of_kind("staff")[0].id
    faults = FaultPlan()
    with MicrosoftSimulator(org, faults=faults) as sim:
        t = token(sim, session(sim))
        results: list[int] = []

        def one() -> None:
            s = session(sim)
            gate.wait()
            results.append(get(sim, s, t, f"/v1.0/users/{user}/mailboxSettings").status_code)

        from simulator.microsoft import graph_throttle

        original = graph_throttle.GraphThrottle.release
        hold = threading.Event()

        def slow_release(self: graph_throttle.GraphThrottle, ep: object, args: object) -> None:
            hold.wait(2)  # keep the mailbox busy until every request has been admitted or refused
            original(self, ep, args)  # type: ignore[arg-type]

        graph_throttle.GraphThrottle.release = slow_release  # type: ignore[method-assign]
        try:
            threads = [threading.Thread(target=one) for _ in range(5)]
            for th in threads:
                th.start()
            deadline = 50
            while len(results) < 1 and deadline:
                deadline -= 1
                threading.Event().wait(0.05)
            hold.set()
            for th in threads:
                th.join(10)
        finally:
            graph_throttle.GraphThrottle.release = original  # type: ignore[method-assign]
        assert sorted(results) == [200, 200, 200, 200, 429]


def test_throttle_false_turns_limits_off(org: Organisation) -> None:
    with MicrosoftSimulator(org, throttle=False) as sim:
        s = session(sim)
        t = token(sim, s)
        codes = {get(sim, s, t, "/v1.0/identity/conditionalAccess/policies").status_code for _ in range(4)}
        assert codes == {200}


# ---- faults ------------------------------------------------------------------------------------------------------

def test_status_fault_with_retry_after_fires_the_set_number_of_times(sim: MicrosoftSimulator) -> None:
    s = session(sim)
    t = token(sim, s)
    sim.faults.add(kind="status", path=r"^/v1\.0/domains", status=503, retry_after=2, times=2)
    codes = [get(sim, s, t, "/v1.0/domains") for _ in range(3)]
    assert [r.status_code for r in codes] == [503, 503, 200]
    assert codes[0].headers["Retry-After"] == "2" and codes[0].json()["error"]["code"] == "ServiceUnavailable"
    assert sim.faults.fired == 2 and sim.stats.faults == 2


def test_malformed_truncated_and_looping_pages(sim: MicrosoftSimulator) -> None:
    s = session(sim)
    t = token(sim, s)
    sim.faults.add(kind="malformed_json", path="/v1.0/users")
    with pytest.raises(ValueError):
        get(sim, s, t, "/v1.0/users").json()
    sim.faults.add(kind="truncate_page", path="/v1.0/users")
    r = get(sim, s, t, "/v1.0/users", **{"$select": "id"})
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    sim.faults.add(kind="loop_next_link", path="/v1.0/users")
    r = get(sim, s, t, "/v1.0/users", **{"$select": "id", "$top": "10"})
    assert r.json()["@odata.nextLink"] == r.url


def test_reset_delay_and_expired_token_faults(sim: MicrosoftSimulator) -> None:
    s = session(sim)
    t = token(sim, s)
    sim.faults.add(kind="reset", path="/v1.0/organization")
    with pytest.raises(requests.exceptions.RequestException):
        get(sim, s, t, "/v1.0/organization")
    sim.faults.add(kind="delay", path="/v1.0/organization", delay=1.0)
    with pytest.raises(requests.exceptions.Timeout):
        s.get(f"{sim.graph_url}/v1.0/organization", headers={"Authorization": f"Bearer {t}"}, timeout=0.3)
    sim.faults.add(kind="expire_token", path="/v1.0/organization")
    r = get(sim, s, t, "/v1.0/organization")
    assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert get(sim, session(sim), t, "/v1.0/organization").status_code == 200


def test_faults_match_method_and_reach_the_token_endpoint(sim: MicrosoftSimulator) -> None:
    s = session(sim)
    sim.faults.add(kind="status", method="POST", path="/oauth2/v2.0/token", status=503)
    r = s.post(sim.token_url, data={"grant_type": "client_credentials"}, timeout=10)
    assert r.status_code == 503
    assert token(sim, s)  # next sign-in works
    with pytest.raises(ValueError, match="unknown fault kind"):
        sim.faults.add(kind="explode")
