"""Contract: every request the Google connector sends to the simulator and every answer the simulator serves in the
Google demo collection hold to the discovery documents bundled in google-api-python-client — query parameters the
method declares (with valid values), response fields the schema declares, the published JSON types and enum sets —
and errors have Google's JSON error shape. Policy API setting values have no published schema:
test_contract_public_fixtures.py holds them to public tools' output. See docs/fidelity.md.
"""

from __future__ import annotations

from collections import Counter

from tests import served
from tests.google_contract import (
    Findings,
    check_error,
    check_request,
    check_response,
    method_for,
    methods,
)


def check_run(items: tuple[served.Served, ...]) -> tuple[Findings, Counter[str]]:
    found, used = Findings(), Counter()
    for s in items:
        if s.route in ("token", "batch"):  # OAuth token endpoint; a batch's parts are served one by one
            continue
        method = method_for(s.method, s.path)
        where = f"{s.method} {s.path} ({s.status})"
        if method is None:
            found.problems.append(f"{where}: no discovery method serves this path")
            continue
        used[method.name] += 1
        check_request(method, s.query, found, where)
        if s.status >= 400:
            check_error(s.body, s.status, found, where)
        else:
            check_response(method, s.body, found, where)
    return found, used


def test_every_google_request_and_answer_holds_to_the_discovery_documents() -> None:
    found, used = check_run(served.google_demo())
    assert found.objects > 1000 and len(used) >= 11, (found.objects, used)
    assert found.problems == [], "\n".join(sorted(set(found.problems))[:40])


def test_the_validator_reports_unknown_fields_parameters_and_enum_values() -> None:
    users_list = next(m for m in methods() if m.name == "admin.directory_v1 users.list")
    found = Findings()
    check_request(users_list, {"maxResults": "900", "projection": "everything", "inventedParam": "1"}, found, "q")
    body = {"users": [{"primaryEmail": "a@b.org", "isEnrolledIn2Sv": "yes", "inventedField": 1}], "kind": "x"}
    check_response(users_list, body, found, "r")
    text = "\n".join(found.problems)
    assert "maxResults = 900 is above the maximum 500" in text
    assert "projection = 'everything' is not one of" in text
    assert "unknown request parameter inventedParam" in text
    assert "User.isEnrolledIn2Sv = 'yes' is not a boolean" in text
    assert "unknown field User.inventedField" in text
