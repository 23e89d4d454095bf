"""The Google simulator's wire: token endpoint errors, API error shapes, multipart batch, quotas, Reports filters.

Raw HTTP (requests, trust_env=False) where the exact wire shape is the point; the real google-api-python-client
BatchHttpRequest where the point is that Google's own client parses what the simulator answers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import google_auth_httplib2
import httplib2
import pytest
import requests
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

from connectors.google.options import SCOPE_GMAIL_SETTINGS, SCOPE_REPORTS, SCOPE_USERS
from simulator import build_organisation
from simulator.google import GoogleSimulator
from simulator.google.auth import JWT_BEARER, NOT_DELEGATED, new_service_account, sign_assertion


@pytest.fixture(scope="module")
def sim() -> Iterator[GoogleSimulator]:
    org = build_organisation(users=40, seed=3)
    with GoogleSimulator(org, delegated_scopes={SCOPE_USERS, SCOPE_GMAIL_SETTINGS, SCOPE_REPORTS},
                         quotas={"reports": (2, 3600.0)}) as s:
        yield s


@pytest.fixture()
def http() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def assertion(sim: GoogleSimulator, scope: str, sub: str, pem: str | None = None, iss: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": iss or sim.account.client_email, "aud": sim.token_uri, "scope": scope, "sub": sub,
              "iat": now, "exp": now + 3600}
    return sign_assertion(pem or sim.account.private_key_pem, claims)


def token(http: requests.Session, sim: GoogleSimulator, jwt: str, grant: str = JWT_BEARER) -> requests.Response:
    return http.post(sim.token_uri, data={"grant_type": grant, "assertion": jwt}, timeout=10)


def test_token_endpoint_success_and_error_shapes(sim: GoogleSimulator, http: requests.Session) -> None:
    ok = token(http, sim, assertion(sim, SCOPE_USERS, sim.admin_subject))
    assert ok.status_code == 200 and ok.json()["token_type"] == "Bearer" and ok.json()["access_token"]

    undelegated = token(http, sim, assertion(sim, "https://www.googleapis.com/auth/admin.directory.user.security",
                                             sim.admin_subject))
    assert undelegated.status_code == 401
    assert undelegated.json() == {"error": "unauthorized_client", "error_description": NOT_DELEGATED}

    stranger = new_service_account("stranger")
    unknown = token(http, sim, assertion(sim, SCOPE_USERS, sim.admin_subject, pem=stranger.private_key_pem,
                                         iss=stranger.client_email))
    assert unknown.status_code == 401 and unknown.json()["error"] == "unauthorized_client"

    forged = token(http, sim, assertion(sim, SCOPE_USERS, sim.admin_subject, pem=stranger.private_key_pem))
    assert forged.status_code == 400 and forged.json() == {"error": "invalid_grant",
                                                           "error_description": "Invalid JWT Signature."}
    nobody = token(http, sim, assertion(sim, SCOPE_USERS, "nobody@riversidesurgery.org"))
    assert nobody.status_code == 400 and nobody.json()["error"] == "invalid_grant"
    assert token(http, sim, "x.y.z", grant="client_credentials").json()["error"] == "unsupported_grant_type"


def bearer(http: requests.Session, sim: GoogleSimulator, scope: str, sub: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + token(http, sim, assertion(sim, scope, sub)).json()["access_token"]}


def test_api_error_shapes(sim: GoogleSimulator, http: requests.Session) -> None:
    base = sim.api_endpoint
    anon = http.get(f"{base}/admin/directory/v1/users?customer=my_customer", timeout=10)
    assert anon.status_code == 401 and anon.json()["error"]["status"] == "UNAUTHENTICATED"

    admin = bearer(http, sim, SCOPE_USERS, sim.admin_subject)
    wrong_scope = http.get(f"{base}/admin/directory/v1/customer/my_customer/domains", headers=admin, timeout=10)
    assert wrong_scope.status_code == 403
    assert wrong_scope.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"
    big = http.get(f"{base}/admin/directory/v1/users?customer=my_customer&maxResults=900", headers=admin,
                   timeout=10)
    assert big.status_code == 200 and len(big.json()["users"]) == len(sim.tenant.users)  # capped at 500, no error
    bad = http.get(f"{base}/admin/directory/v1/users?customer=my_customer&maxResults=0", headers=admin, timeout=10)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == 400

    no_mail = next(u for u in sim.tenant.users if sim.tenant.gmail[u["id"]] is None)
    mailless = bearer(http, sim, SCOPE_GMAIL_SETTINGS, no_mail["primaryEmail"])
    r = http.get(f"{base}/gmail/v1/users/me/settings/filters", headers=mailless, timeout=10)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["message"] == "Mail service not enabled" and err["errors"][0]["reason"] == "failedPrecondition"
    other = http.get(f"{base}/gmail/v1/users/{sim.admin_subject}/settings/filters", headers=mailless, timeout=10)
    assert other.status_code == 403  # impersonating one user does not open another's mailbox


def test_batch_through_googles_own_client(sim: GoogleSimulator) -> None:
    info = sim.service_account_info
    base = service_account.Credentials.from_service_account_info(info)
    h = httplib2.Http(proxy_info=None)
    admin = google_auth_httplib2.AuthorizedHttp(base.with_scopes([SCOPE_USERS]).with_subject(sim.admin_subject),
                                                http=h)
    directory = build("admin", "directory_v1", http=admin, static_discovery=True,
                      client_options={"api_endpoint": sim.api_endpoint})
    results: dict[str, tuple[Any, Any]] = {}

    def done(rid: str, resp: Any, exc: Any) -> None:
        results[rid] = (resp, exc)

    batch = BatchHttpRequest(callback=done, batch_uri=sim.api_endpoint + "/batch")
    batch.add(directory.users().get(userKey=sim.admin_subject), request_id="me")
    batch.add(directory.users().get(userKey="ghost@riversidesurgery.org"), request_id="ghost")
    batch.add(directory.users().list(customer="C0nope", maxResults=2), request_id="badcustomer")
    batch.execute(http=admin)
    assert results["me"][1] is None and results["me"][0]["primaryEmail"] == sim.admin_subject
    assert isinstance(results["ghost"][1], HttpError) and results["ghost"][1].resp.status == 404
    assert isinstance(results["badcustomer"][1], HttpError) and results["badcustomer"][1].resp.status == 400

    gmail_creds = base.with_scopes([SCOPE_GMAIL_SETTINGS]).with_subject(sim.admin_subject)
    gmail_http = google_auth_httplib2.AuthorizedHttp(gmail_creds, http=h)
    gmail = build("gmail", "v1", http=gmail_http, static_discovery=True,
                  client_options={"api_endpoint": sim.api_endpoint})
    too_many = BatchHttpRequest(batch_uri=sim.api_endpoint + "/batch")
    for i in range(101):
        too_many.add(gmail.users().settings().filters().list(userId="me"), request_id=str(i))
    with pytest.raises(HttpError) as err:
        too_many.execute(http=gmail_http)
    assert err.value.resp.status == 400 and b"Gmail allows 100" in err.value.content


def test_batch_wire_echoes_content_ids(sim: GoogleSimulator, http: requests.Session) -> None:
    auth = bearer(http, sim, SCOPE_USERS, sim.admin_subject)["Authorization"]
    parts = []
    for cid, path in (("<abc + 1>", "/admin/directory/v1/users/" + sim.admin_subject), ("<abc + 2>", "/nowhere")):
        parts.append(f"--BOUND\r\nContent-Type: application/http\r\nContent-ID: {cid}\r\n\r\n"
                     f"GET {path} HTTP/1.1\r\nAuthorization: {auth}\r\n\r\n")
    body = "".join(parts) + "--BOUND--\r\n"
    r = http.post(sim.api_endpoint + "/batch", data=body.encode(), timeout=10,
                  headers={"Content-Type": 'multipart/mixed; boundary="BOUND"'})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("multipart/mixed; boundary=")
    text = r.text
    assert "Content-ID: <response-abc + 1>" in text and "Content-ID: <response-abc + 2>" in text
    assert "HTTP/1.1 200 OK" in text and "HTTP/1.1 400 Bad Request" in text  # unrouted part: its own error


def test_reports_filters_and_quota_shape(sim: GoogleSimulator, http: requests.Session) -> None:
    auth = bearer(http, sim, SCOPE_REPORTS, sim.admin_subject)
    url = f"{sim.api_endpoint}/admin/reports/v1/activity/users/all/applications/token"
    first = http.get(url, params={"eventName": "authorize", "maxResults": 2}, headers=auth, timeout=10)
    assert first.status_code == 200
    doc = first.json()
    assert len(doc["items"]) == 2 and doc["nextPageToken"]
    assert all(e["name"] == "authorize" for a in doc["items"] for e in a["events"])
    times = [a["id"]["time"] for a in doc["items"]]
    assert times == sorted(times, reverse=True)  # newest first, as the Reports API lists them
    # the fixture allows 2 Reports queries per window: the third is throttled with Google's quota shape
    third = http.get(url, params={"eventName": "authorize"}, headers=auth, timeout=10)
    third = third if third.status_code == 429 else http.get(url, headers=auth, timeout=10)
    assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1
    err = third.json()["error"]
    assert err["status"] == "RESOURCE_EXHAUSTED" and err["errors"][0]["reason"] == "rateLimitExceeded"
    assert sim.stats.quota_errors >= 1 and sim.stats.throttled["reports"] >= 1
    assert json.loads(json.dumps(sim.stats.requests))["reports"] >= 3
