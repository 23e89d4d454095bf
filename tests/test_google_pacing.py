"""Client-side pacing of the Google connector: Directory calls stay under the quota, tokens.list runs beside Gmail.

Real parts: the real google-auth / google-api-python-client connector against the Google simulator on loopback,
whose Directory quota is a token bucket that answers 429 when it is empty. The only instrumentation is a recorder
around the simulator's own request counter (`stats.count`), to see in which order the server answered the calls.
"""

from __future__ import annotations

import email.parser as email_parser
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httplib2
import pytest
from googleapiclient.http import BatchHttpRequest

from connectors.email_dns import DnsOptions
from connectors.google.client import GoogleClient, PartBatch
from connectors.google.collect import collect_google
from connectors.google.options import SCOPE_GMAIL_SETTINGS, GoogleOptions
from connectors.google.pacing import ConnectionSlots, QuotaWindow
from idaudit.core.errors import CollectionError
from idaudit.core.sections import google_targeted_groups, sections_for
from simulator import build_organisation
from simulator.google import DEFAULT_QUOTAS, GoogleSimulator, render_google_snapshot
from simulator.org import Organisation

SCALE = 0.005  # the simulator's windows and the client's quota window, alike: 60 s -> 0.3 s
DIRECTORY_QUOTA = 20  # calls per (scaled) minute: a 60-user tenant needs about 65, so at least three windows


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(users=60, seed=11)


def _quotas() -> dict[str, tuple[int, float]]:
    return dict(DEFAULT_QUOTAS) | {"directory": (DIRECTORY_QUOTA, 60.0)}


def _opts(sim: GoogleSimulator, **kw: object) -> GoogleOptions:
    base: dict[str, object] = {"service_account_info": sim.service_account_info, "admin_subject": sim.admin_subject,
                               "api_endpoint": sim.api_endpoint, "backoff_base": 0.01, "backoff_cap": 0.05,
                               "directory_quota": DIRECTORY_QUOTA, "quota_window": 60.0 * SCALE,
                               "log_window_end": sim.org.as_of, "dns": DnsOptions(resolvers=(sim.dns_address,))}
    base.update(kw)
    return GoogleOptions(**base)  # type: ignore[arg-type]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, org: Organisation) -> Iterator[tuple[GoogleSimulator, list[str]]]:
    """A throttled simulator and the route classes it answered, in order (batch parts included)."""
    order: list[str] = []
    with GoogleSimulator(org, quotas=_quotas(), time_scale=SCALE) as sim:
        count = sim.stats.count

        def recording(route: str, status: int) -> None:
            order.append(route)
            count(route, status)

        monkeypatch.setattr(sim.stats, "count", recording)
        yield sim, order


def _sections(path: Path) -> dict[str, dict]:
    return json.loads((path / "manifest.json").read_text())["sections"]


def test_paced_collection_meets_no_quota_error_and_equals_a_fault_free_render(
        served: tuple[GoogleSimulator, list[str]], org: Organisation, tmp_path: Path) -> None:
    sim, order = served
    client = GoogleClient(_opts(sim))
    out = collect_google(client.options, tmp_path / "paced", progress=False, client=client)
    stats = sim.stats
    targeted = google_targeted_groups(sim.tenant.policies, sim.tenant.role_assignments)
    # tokens.list per user, one users page, 4 tenant lists, groups.get and one members page per targeted group
    needed = len(sim.tenant.users) + 1 + 4 + 2 * len(targeted)
    assert needed > 3 * DIRECTORY_QUOTA  # the quota really binds: several windows were needed
    assert stats.quota_errors == 0 and client.retries == 0
    assert stats.requests["directory"] == needed  # nothing re-sent
    rendered = render_google_snapshot(org, tmp_path / "rendered")
    sections = _sections(out)
    assert {s["status"] for s in sections.values()} == {"ok"}
    assert set(sections) == {s.name for s in sections_for("google")}
    assert not any(s.get("failed_subjects") for s in sections.values())
    for name, rec in sections.items():
        assert json.loads((out / rec["file"]).read_text()) == json.loads((rendered / rec["file"]).read_text()), name
    # tokens.list (waiting for Directory quota) and the Gmail reads overlapped: Gmail answers came in between
    directory_at = [i for i, route in enumerate(order) if route == "directory"]
    gmail_at = [i for i, route in enumerate(order) if route == "gmail"]
    assert any(directory_at[0] < i < directory_at[-1] for i in gmail_at)
    assert order.index("gmail") < directory_at[-1]


def test_without_pacing_the_same_collection_is_throttled(served: tuple[GoogleSimulator, list[str]],
                                                         tmp_path: Path) -> None:
    """The control: a client that believes in a 50× larger quota meets the simulator's 429s and must retry.

    This is what shows the test above can fail, and that its zero comes from the pacing."""
    sim, _order = served
    client = GoogleClient(_opts(sim, directory_quota=50 * DIRECTORY_QUOTA, max_retries=8))
    out = collect_google(client.options, tmp_path / "unpaced", progress=False, client=client,
                         sections={"users", "tokens"})
    assert sim.stats.quota_errors > 0 and client.retries > 0
    assert _sections(out)["tokens"]["status"] == "ok"


def test_quota_that_runs_out_leaves_users_failed_never_dropped(org: Organisation, tmp_path: Path) -> None:
    """Pacing told a wrong (too large) quota and no retries: the throttled users are failed subjects."""
    with GoogleSimulator(org, quotas=_quotas(), time_scale=1.0) as sim:  # a real minute: the bucket stays empty
        client = GoogleClient(_opts(sim, directory_quota=2400, quota_window=60.0, max_retries=0))
        out = collect_google(client.options, tmp_path / "lost", progress=False, client=client,
                             sections={"users", "tokens"})
    tokens = _sections(out)["tokens"]
    data = json.loads((out / tokens["file"]).read_text())
    assert tokens["status"] == "ok" and tokens["failed_subjects"]
    assert set(data) | set(tokens["failed_subjects"]) == {u["id"] for u in sim.tenant.users}
    assert not set(data) & set(tokens["failed_subjects"])
    assert all("429" in why for why in tokens["failed_subjects"].values())


def test_quota_window_waits_for_the_oldest_answer_to_leave_the_window() -> None:
    quota = QuotaWindow(5, 0.2)
    ends: list[float] = []
    for units in (3, 2):
        with quota.spend(units):
            pass
        ends.append(time.monotonic())
    with quota.spend(1):
        started = time.monotonic()
    assert started >= ends[0] + 0.2 - 1e-3  # the first answer had to leave the window first


def test_quota_window_counts_calls_in_flight() -> None:
    quota = QuotaWindow(4, 0.05)
    inside = threading.Event()
    release = threading.Event()
    events: list[str] = []

    def long_call() -> None:
        with quota.spend(4):
            inside.set()
            release.wait(5)
            events.append("long call answered")

    t = threading.Thread(target=long_call)
    t.start()
    inside.wait(5)
    threading.Timer(0.15, release.set).start()  # three windows pass while the call is still in flight
    with quota.spend(1):
        events.append("next call sent")
    t.join()
    assert events == ["long call answered", "next call sent"]


def test_quota_window_refuses_what_can_never_fit() -> None:
    with pytest.raises(ValueError, match="never fit"), QuotaWindow(10, 1.0).spend(11):
        pass
    with pytest.raises(ValueError):
        QuotaWindow(0, 1.0)


def test_connection_slots_bound_requests_in_flight_across_threads(org: Organisation,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted on the client, inside httplib2 (the server's own counter leaves a request a moment after its
    answer was sent, so it may briefly overlap the next one)."""
    in_flight, peak = 0, 0
    lock = threading.Lock()
    request = httplib2.Http.request

    def counting(self: httplib2.Http, *args: object, **kwargs: object) -> object:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return request(self, *args, **kwargs)
        finally:
            with lock:
                in_flight -= 1

    monkeypatch.setattr(httplib2.Http, "request", counting)
    with GoogleSimulator(org, latency=0.02) as sim:
        slots = ConnectionSlots(2)
        url = sim.api_endpoint + "/admin/directory/v1/users?customer=my_customer"

        def hit() -> None:
            http = slots.http(proxy_info=None)  # one Http per thread, as the client does
            for _ in range(3):
                http.request(url)

        threads = [threading.Thread(target=hit) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sim.stats.statuses[401] == 18  # every request was answered (no token: 401)
    assert peak == 2  # six threads, two slots: never more, and the slots were used


def test_batch_parts_are_written_exactly_as_the_library_writes_them(org: Organisation) -> None:
    with GoogleSimulator(org) as sim:
        client = GoogleClient(_opts(sim))
        email = sim.admin_subject
        creds = client.creds.for_subject(email, SCOPE_GMAIL_SETTINGS, cached=False)
        client.refresh(creds)
        gmail = client.gmail_settings()
        requests = [gmail.settings.getAutoForwarding(userId=email), gmail.filters.list(userId=email),
                    gmail.delegates.list(userId=email), gmail.forwarding_addresses.list(userId=email),
                    gmail.filters.create(userId=email, body={"criteria": {"from": "From x"}})]  # with a body
        for request in requests:
            request.http = client.authorized(creds)
            ours = PartBatch(batch_uri="http://127.0.0.1/batch")._serialize_request(request)
            library = BatchHttpRequest(batch_uri="http://127.0.0.1/batch")._serialize_request(request)
            assert ours == library
            assert "authorization: bearer " in ours.lower()


def test_batch_larger_than_the_quota_is_split_and_options_are_checked(
        served: tuple[GoogleSimulator, list[str]], tmp_path: Path) -> None:
    sim, _order = served
    client = GoogleClient(_opts(sim, directory_batch_size=1000))
    collect_google(client.options, tmp_path / "split", progress=False, client=client, sections={"users", "tokens"})
    assert sim.stats.quota_errors == 0
    assert sim.stats.batch_requests >= len(sim.tenant.users) / DIRECTORY_QUOTA
    with pytest.raises(CollectionError, match="directory_quota"):
        _opts(sim, directory_quota=0)


def test_partbatch_sends_a_body_that_parses_like_the_library_one_and_gets_the_same_answers(
        org: Organisation) -> None:
    """The same five Gmail reads (one to a user that does not exist in the tenant: an error part) sent once with
    the library's BatchHttpRequest and once with PartBatch, through the real simulator."""
    sent: dict[str, tuple[str, str]] = {}

    class Recording(httplib2.Http):  # a real Http that keeps a copy of the batch body it sends
        kind = ""

        def request(self, uri: str, method: str = "GET", body: object = None, headers: object = None,
                    **kw: object) -> object:
            if uri.endswith("/batch"):
                sent[self.kind] = (dict(headers or {})["content-type"], str(body))  # type: ignore[call-overload]
            return super().request(uri, method=method, body=body, headers=headers, **kw)  # type: ignore[arg-type]

    with GoogleSimulator(org) as sim:
        client = GoogleClient(_opts(sim))
        email = next(u["primaryEmail"] for u in sim.tenant.users if sim.tenant.gmail.get(u["id"]) is not None)
        creds = client.creds.for_subject(email, SCOPE_GMAIL_SETTINGS, cached=False)
        client.refresh(creds)
        gmail = client.gmail_settings()
        answers: dict[str, dict[str, tuple[object, str]]] = {}
        for kind, cls in (("library", BatchHttpRequest), ("ours", PartBatch)):
            got: dict[str, tuple[object, str]] = {}
            batch = cls(callback=lambda rid, resp, exc, _got=got: _got.__setitem__(rid, (resp, str(exc or ""))),
                        batch_uri=sim.api_endpoint + "/batch")
            for rid, request in (("1|gmail.autoForwarding", gmail.settings.getAutoForwarding(userId=email)),
                                 ("1|gmail.filters", gmail.filters.list(userId=email)),
                                 ("1|gmail.delegates", gmail.delegates.list(userId=email)),
                                 ("1|gmail.forwardingAddresses", gmail.forwarding_addresses.list(userId=email)),
                                 ("2|gmail.filters", gmail.filters.list(userId="nobody@elsewhere.example"))):
                request.http = client.authorized(creds)
                batch.add(request, request_id=rid)
            outer = Recording(proxy_info=None)
            outer.kind = kind
            batch.execute(http=client.authorized(creds).__class__(creds, http=outer))
            answers[kind] = got
    assert answers["ours"] == answers["library"]
    assert answers["ours"]["2|gmail.filters"][1]  # the error part is an error in both
    assert not answers["ours"]["1|gmail.filters"][1]

    def parts(kind: str) -> list[tuple[list[tuple[str, str]], str]]:
        ctype, body = sent[kind]
        msg = email_parser.Parser().parsestr(f"Content-Type: {ctype}\n\n{body}")
        out = []
        for part in msg.get_payload():
            headers = [(k, " ".join(v.split()).split(" + ")[-1] if k == "Content-ID" else v) for k, v in part.items()]
            out.append((headers, part.get_payload()))  # Content-ID compared without the per-batch uuid
        return out

    assert parts("ours") == parts("library") and len(parts("ours")) == 5


def test_a_redirect_keeps_its_slot_instead_of_waiting_for_a_second_one() -> None:
    """httplib2 follows a redirect by calling request() from inside request(): with one slot, taking a second
    one would wait forever. A plain loopback HTTP server answers /old with 302 -> /new."""

    class Redirecting(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if self.path == "/old":
                self.send_response(302)
                self.send_header("Location", "/new")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b"moved here"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    got: list[bytes] = []
    try:
        http = ConnectionSlots(1).http(proxy_info=None)
        caller = threading.Thread(target=lambda: got.append(
            http.request(f"http://127.0.0.1:{server.server_address[1]}/old")[1]), daemon=True)
        caller.start()
        caller.join(10)
        assert not caller.is_alive(), "the redirect waited for a second connection slot"
        assert got == [b"moved here"]
        http.request(f"http://127.0.0.1:{server.server_address[1]}/new")  # and the slot was given back
    finally:
        server.shutdown()
        server.server_close()
