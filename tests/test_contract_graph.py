"""Contract: every Graph answer the simulator serves in a demo-shaped collection holds to Microsoft's published
schema — the msgraph-sdk (v1.0) and msgraph-beta-sdk models generated from its CSDL — with zero unknown properties,
zero values of the wrong type and zero enum values outside the published sets; errors have Graph's error shape.

Why: every other test runs against this simulator, so a wrong belief shared by the connector and the simulator
(a beta-only property selected on v1.0, an invented enum value) would pass everything and fail on the first real
tenant. See docs/fidelity.md for what this covers and what it cannot.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator

import pytest
import requests

from simulator import MicrosoftSimulator, build_organisation
from simulator.microsoft.auth_methods import authentication_methods, for_version
from simulator.microsoft.graph_schema import ENTITY_BY_ROUTE, PROPERTIES_FILE
from tests import served
from tests.graph_contract import Findings, model, properties_document, validate, validate_body, validate_error
from tests.sim_ms_helpers import get, session, token

RUNS = {"demo (P1+P2)": served.microsoft_demo, "no P1/P2": served.microsoft_without_premium}


def check_run(items: tuple[served.Served, ...]) -> tuple[Findings, Counter[str]]:
    found, routes = Findings(), Counter()
    for s in items:
        if s.server != "graph" or s.route == "batch":  # a $batch's inner answers are served (and tapped) one by one
            continue
        version = s.path.split("/")[1]
        where = f"{s.method} {s.path} ({s.status})"
        if s.status >= 400:
            validate_error(s.body, found, where)
            continue
        entity, collection = ENTITY_BY_ROUTE[s.route]
        validate_body(s.body, version, entity, found, where, collection=collection)
        routes[s.route] += 1
    return found, routes


@pytest.mark.parametrize("run", sorted(RUNS))
def test_every_graph_answer_holds_to_the_published_schema(run: str) -> None:
    found, routes = check_run(RUNS[run]())
    assert found.objects > 1000 and routes, (found.objects, routes)
    assert found.problems == [], "\n".join(sorted(set(found.problems))[:40])


def test_the_runs_together_exercise_every_collected_route() -> None:
    seen: set[str] = set()
    for run in RUNS.values():
        seen |= set(check_run(run())[1])
    collected = set(ENTITY_BY_ROUTE) - {"user", "groups", "servicePrincipal"}  # the connector does not read these
    assert collected - seen == set()


@pytest.fixture(scope="module")
def sim() -> Iterator[MicrosoftSimulator]:
    with MicrosoftSimulator(build_organisation(60, seed=3), throttle=False) as s:
        yield s


@pytest.fixture(scope="module")
def http(sim: MicrosoftSimulator) -> requests.Session:
    return session(sim)


@pytest.fixture(scope="module")
def tok(sim: MicrosoftSimulator, http: requests.Session) -> str:
    return token(sim, http)


def test_reads_the_connector_does_not_make_hold_to_the_schema(sim: MicrosoftSimulator, http: requests.Session, tok: str) -> None:
    found = Findings()
    person = sim.org.people[0]
    group = sim.org.groups[0]
    sp = get(sim, http, tok, "/v1.0/servicePrincipals", **{"$top": "1"}).json()["value"][0]
    for version in ("v1.0", "beta"):
        for path, entity in ((f"/{version}/users/{person.id}", "user"), (f"/{version}/groups/{group.id}", "group"),
                             (f"/{version}/servicePrincipals/{sp['id']}", "servicePrincipal")):
            r = get(sim, http, tok, path)
            assert r.status_code == 200, r.text
            validate_body(r.json(), version, entity, found, path, collection=False)
        listing = get(sim, http, tok, f"/{version}/groups")
        validate_body(listing.json(), version, "group", found, "groups", collection=True)
    assert found.objects > 6 and found.problems == []


def test_every_method_type_the_simulator_can_serve_exists_in_its_api_version() -> None:
    """Each method of the vocabulary, as GET /users/{id}/authentication/methods lists it: v1.0 leaves out the
    types its schema lacks (hardware OATH is beta-only), beta lists them all."""
    org = build_organisation(40, seed=1)
    vocabulary = ("sms", "voice", "email", "authenticator_push", "authenticator_passwordless", "software_otp",
                  "hardware_otp", "fido2", "passkey", "windows_hello", "temporary_access_pass", "platform_credential")
    person = dataclasses.replace(org.people[0], mfa_methods=vocabulary)
    listed = authentication_methods(person)
    found = Findings()
    for version in ("v1.0", "beta"):
        validate_body({"value": for_version(listed, version)}, version, "authenticationMethod", found,
                      f"{version} methods", collection=True)
    assert found.problems == []
    assert len(found.types) >= 9


def test_select_of_a_property_the_version_lacks_is_graphs_400(sim: MicrosoftSimulator, http: requests.Session,
                                                               tok: str) -> None:
    """publisherName is a beta-only property of servicePrincipal: v1.0 answers 400, beta serves it."""
    r = get(sim, http, tok, "/v1.0/servicePrincipals", **{"$select": "id,publisherName"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "BadRequest"
    assert err["message"] == ("Parsing OData Select and Expand failed: Could not find a property named "
                              "'publisherName' on type 'microsoft.graph.servicePrincipal'.")
    found = Findings()
    validate_error(r.json(), found, "400")
    assert found.problems == []
    beta = get(sim, http, tok, "/beta/servicePrincipals", **{"$select": "id,publisherName"})
    assert beta.status_code == 200 and any("publisherName" in sp for sp in beta.json()["value"])
    # a plain v1.0 listing never carries the beta-only property either
    plain = get(sim, http, tok, "/v1.0/servicePrincipals").json()["value"]
    assert plain and all("publisherName" not in sp for sp in plain)
    assert get(sim, http, tok, "/v1.0/users", **{"$select": "id,noSuchProperty"}).status_code == 400
    assert get(sim, http, tok, "/v1.0/users", **{"$select": "ID,DisplayName"}).status_code == 200  # any case


def test_the_property_lists_the_simulator_checks_select_against_are_current() -> None:
    """simulator/microsoft/graph_properties.json is generated from the SDKs: regenerate with
    `python -m tests.graph_contract` when an SDK upgrade changes it."""
    on_disk = json.loads(PROPERTIES_FILE.read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(properties_document())), "run: python -m tests.graph_contract"


def test_the_validator_reports_what_kiota_would_swallow() -> None:
    """The validator itself can fail: an unknown property, a wrong type and an enum value outside the set."""
    found = Findings()
    bad = {"id": "x", "displayName": 7, "inventedProperty": True, "userType": "Member",
           "@odata.type": "#microsoft.graph.user"}
    validate(bad, model("v1.0", "user"), found, "user")
    policy = {"id": "p", "state": "enabledButNotReally", "conditions": {"clientAppTypes": ["all", "smtp"]}}
    validate(policy, model("v1.0", "conditionalAccessPolicy"), found, "ca")
    text = "\n".join(found.problems)
    assert "unknown property User.inventedProperty" in text
    assert "User.displayName = 7 is not str" in text
    assert "'enabledButNotReally' is not a member of ConditionalAccessPolicyState" in text
    assert "'smtp' is not a member of ConditionalAccessClientApp" in text
