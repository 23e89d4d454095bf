"""The Microsoft simulator on the wire: sign-in, paging, $select, $filter, $batch, permissions, licences, mailboxes,
Exchange paging. Plain `requests` over loopback TLS against the real server threads."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from simulator import build_organisation
from simulator.microsoft.simulator import MicrosoftSimulator
from simulator.org import Organisation
from tests.sim_ms_helpers import EXCHANGE, GRAPH, batch, get, get_all, invoke, session, token

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def org() -> Organisation:
    return build_organisation(300, seed=7, as_of=AS_OF)


@pytest.fixture(scope="module")
def sim(org: Organisation) -> Iterator[MicrosoftSimulator]:
    with MicrosoftSimulator(org, throttle=False) as s:
        yield s


@pytest.fixture(scope="module")
def http(sim: MicrosoftSimulator) -> requests.Session:
    return session(sim)


@pytest.fixture(scope="module")
def tok(sim: MicrosoftSimulator, http: requests.Session) -> str:
    return token(sim, http)


def _claims(jwt: str) -> dict[str, object]:
    parts = jwt.split(".")
    assert len(parts) == 3
    return dict(json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))))


# ---- identity platform -------------------------------------------------------------------------------------------

def test_openid_configuration_and_client_secret_token(sim: MicrosoftSimulator, http: requests.Session) -> None:
    conf = http.get(f"{sim.authority}/v2.0/.well-known/openid-configuration", timeout=10).json()
    assert conf["token_endpoint"] == sim.token_url
    assert conf["device_authorization_endpoint"].endswith("/oauth2/v2.0/devicecode")
    claims = _claims(token(sim, http))
    assert claims["aud"] == "https://graph.microsoft.com" and claims["tid"] == sim.tenant_id
    assert "User.Read.All" in claims["roles"] and "Exchange.ManageAsApp" not in claims["roles"]  # type: ignore[operator]
    assert int(claims["exp"]) > time.time() + 3000  # type: ignore[call-overload]
    assert _claims(token(sim, http, EXCHANGE))["roles"] == ["Exchange.ManageAsApp"]


def test_wrong_secret_gets_the_real_invalid_client_shape(sim: MicrosoftSimulator, http: requests.Session) -> None:
    r = http.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": sim.client_id,
                                       "client_secret": "not-the-secret", "scope": GRAPH}, timeout=10)
    assert r.status_code == 401
    body = r.json()
    assert body["error"] == "invalid_client" and body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215:")
    assert "not-the-secret" not in r.text and sim.client_secret not in r.text


def test_unknown_tenant_and_bad_scope(sim: MicrosoftSimulator, http: requests.Session) -> None:
    other = str(uuid.uuid4())
    r = http.get(f"{sim.authority_host}/{other}/v2.0/.well-known/openid-configuration", timeout=10)
    assert r.status_code == 400 and r.json()["error_codes"] == [90002]
    r = http.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": sim.client_id,
                                       "client_secret": sim.client_secret, "scope": "User.Read"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def _assertion(sim: MicrosoftSimulator, key: rsa.RSAPrivateKey) -> str:
    def enc(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    x5t = base64.urlsafe_b64encode(bytes.fromhex(sim.certificate_thumbprint)).decode().rstrip("=")
    now = int(time.time())
    signing = f"{enc({'alg': 'RS256', 'typ': 'JWT', 'x5t': x5t})}." \
              f"{enc({'aud': sim.token_url, 'iss': sim.client_id, 'sub': sim.client_id, 'jti': str(uuid.uuid4()), 'exp': now + 600, 'nbf': now})}"
    sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")


def test_certificate_assertion_verified_by_signature(sim: MicrosoftSimulator, http: requests.Session) -> None:
    key = serialization.load_pem_private_key(sim.certificate_pem_path.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    form = {"grant_type": "client_credentials", "client_id": sim.client_id, "scope": EXCHANGE,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    r = http.post(sim.token_url, data={**form, "client_assertion": _assertion(sim, key)}, timeout=10)
    assert r.status_code == 200, r.text
    assert _claims(r.json()["access_token"])["appidacr"] == "2"
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    r = http.post(sim.token_url, data={**form, "client_assertion": _assertion(sim, impostor)}, timeout=10)
    assert r.status_code == 401 and r.json()["error_codes"] == [700027]


def test_device_code_pending_then_success(sim: MicrosoftSimulator, http: requests.Session) -> None:
    r = http.post(f"{sim.authority}/oauth2/v2.0/devicecode", data={"client_id": sim.client_id,
                                                                    "scope": f"{GRAPH} offline_access"}, timeout=10)
    flow = r.json()
    assert flow["user_code"] in flow["message"]
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": sim.client_id,
            "device_code": flow["device_code"]}
    first = http.post(sim.token_url, data=poll, timeout=10)
    assert first.status_code == 400 and first.json()["error"] == "authorization_pending"
    second = http.post(sim.token_url, data=poll, timeout=10)
    assert second.status_code == 200
    claims = _claims(second.json()["access_token"])
    assert "User.Read.All" in str(claims["scp"]) and claims["idtyp"] == "user"


def test_graph_refuses_missing_garbage_and_expired_tokens(sim: MicrosoftSimulator, http: requests.Session) -> None:
    assert http.get(f"{sim.graph_url}/v1.0/users", timeout=10).json()["error"]["code"] == "InvalidAuthenticationToken"
    for bad in ("garbage", sim.issue_token(lifetime=-5), token(sim, http, EXCHANGE)):
        r = get(sim, http, bad, "/v1.0/users")
        assert r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationToken"
        assert set(r.json()["error"]["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert "expired" in get(sim, http, sim.issue_token(lifetime=-5), "/v1.0/users").json()["error"]["message"]


# ---- Graph query options -----------------------------------------------------------------------------------------

def test_paging_uses_absolute_next_links_and_keeps_select(sim: MicrosoftSimulator, http: requests.Session, tok: str,
                                                          org: Organisation) -> None:
    r = get(sim, http, tok, "/v1.0/users", **{"$top": "50", "$select": "id,userType"})
    link = r.json()["@odata.nextLink"]
    assert link.startswith(sim.graph_url + "/v1.0/users?") and "%24select" not in link and "$select=id,userType" in link
    users = get_all(sim, http, tok, "/v1.0/users", **{"$top": "50", "$select": "id,userType"})
    assert [u["id"] for u in users] == [p.id for p in org.people]
    assert all(set(u) == {"id", "userType"} for u in users)
    default_page = get(sim, http, tok, "/v1.0/users").json()
    assert len(default_page["value"]) == 100


def test_top_caps(sim: MicrosoftSimulator, http: requests.Session, tok: str) -> None:
    assert get(sim, http, tok, "/v1.0/users", **{"$top": "999"}).status_code == 200
    assert get(sim, http, tok, "/v1.0/users", **{"$top": "1000"}).status_code == 400
    with_sign_in = {"$select": "id,signInActivity"}
    assert get(sim, http, tok, "/v1.0/users", **with_sign_in, **{"$top": "500"}).status_code == 200
    r = get(sim, http, tok, "/v1.0/users", **with_sign_in, **{"$top": "501"})
    assert r.status_code == 400 and "500" in r.json()["error"]["message"]


def test_select_really_omits_fields(sim: MicrosoftSimulator, http: requests.Session, tok: str) -> None:
    default = get(sim, http, tok, "/v1.0/users", **{"$top": "5"}).json()["value"][0]
    assert "accountEnabled" not in default and "userType" not in default and "signInActivity" not in default
    assert {"id", "displayName", "userPrincipalName", "mail"} <= set(default)
    chosen = get(sim, http, tok, "/v1.0/users", **{"$top": "5", "$select": "accountEnabled,userType"}).json()
    assert all(set(u) == {"accountEnabled", "userType"} for u in chosen["value"])
    sps = get(sim, http, tok, "/v1.0/servicePrincipals", **{"$select": "id,appId"}).json()["value"]
    assert all(set(sp) == {"id", "appId"} for sp in sps)


def test_filter_subset(sim: MicrosoftSimulator, http: requests.Session, tok: str, org: Organisation) -> None:
    graph = get_all(sim, http, tok, "/v1.0/servicePrincipals",
                    **{"$filter": "appId eq '00000003-0000-0000-c000-000000000000'", "$select": "id,appDisplayName"})
    assert [g["appDisplayName"] for g in graph] == ["Microsoft Graph"]
    guests = get_all(sim, http, tok, "/v1.0/users", **{"$filter": "userType eq 'Guest' and accountEnabled eq true",
                                                       "$select": "id"})
    assert {g["id"] for g in guests} == {p.id for p in org.people if p.is_guest and p.enabled}
    starts = get_all(sim, http, tok, "/v1.0/users", **{"$filter": "startswith(userPrincipalName,'breakglass')",
                                                       "$select": "id"})
    assert len(starts) == 2
    bad = get(sim, http, tok, "/v1.0/users", **{"$filter": "signInActivity/lastSignInDateTime le 2026-01-01"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_expand_principal_on_role_assignments(sim: MicrosoftSimulator, http: requests.Session, tok: str) -> None:
    plain = get_all(sim, http, tok, "/v1.0/roleManagement/directory/roleAssignments")
    assert plain and all("principal" not in a for a in plain)
    expanded = get_all(sim, http, tok, "/v1.0/roleManagement/directory/roleAssignments", **{"$expand": "principal"})
    types = {a["principal"]["@odata.type"] for a in expanded}
    assert types == {"#microsoft.graph.user", "#microsoft.graph.group"}
    beta = get_all(sim, http, tok, "/beta/roleManagement/directory/roleDefinitions")
    v1 = get_all(sim, http, tok, "/v1.0/roleManagement/directory/roleDefinitions")
    assert all("isPrivileged" in d for d in beta) and not any("isPrivileged" in d for d in v1)


def test_transitive_members_resolve_nested_groups(sim: MicrosoftSimulator, http: requests.Session, tok: str,
                                                  org: Organisation) -> None:
    excl = org.group_named("MFA Exclusions")
    members = get_all(sim, http, tok, f"/v1.0/groups/{excl.id}/transitiveMembers")
    users = {m["id"] for m in members if m["@odata.type"] == "#microsoft.graph.user"}
    assert users == set(org.transitive_member_ids(excl.id))
    assert any(m["@odata.type"] == "#microsoft.graph.group" for m in members)


# ---- $batch ------------------------------------------------------------------------------------------------------

def test_batch_inner_statuses_and_mailbox_not_enabled(sim: MicrosoftSimulator, http: requests.Session, tok: str,
                                                      org: Organisation) -> None:
    staff = org.of_kind("staff")[0]
    glass = org.of_kind("break_glass")[0]
    out = batch(sim, http, tok, {
        "a": f"/users/{staff.id}/mailboxSettings",
        "b": f"/users/{glass.id}/mailFolders/inbox/messageRules",
        "c": f"/users/{uuid.uuid4()}/mailboxSettings",
        "d": f"users/{staff.id}/authentication/methods",
    })
    assert out["a"]["status"] == 200 and out["a"]["body"]["userPurpose"] == "user"
    # an unlicensed account has no Exchange Online mailbox: Graph's ResourceNotFound, not MailboxNotEnabledForRESTAPI
    assert out["b"]["status"] == 404 and out["b"]["body"]["error"] == {
        **out["b"]["body"]["error"], "code": "ResourceNotFound", "message": "Resource could not be discovered."}
    assert out["c"]["status"] == 404 and out["c"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert out["d"]["status"] == 200 and out["d"]["body"]["value"][0]["@odata.type"].endswith(
        "passwordAuthenticationMethod")
    by_upn = batch(sim, http, tok, {"u": f"/users/{staff.mail}/mailboxSettings", "v": f"/users/{staff.mail}"})
    assert by_upn["u"]["status"] == 200 and by_upn["v"]["body"]["id"] == staff.id  # Graph accepts a UPN as id
    beta = batch(sim, http, tok, {"r": f"/users/{staff.id}/authentication/requirements"}, version="beta")
    assert beta["r"]["body"]["perUserMfaState"] in ("disabled", "enabled", "enforced")


def test_batch_limits_and_relative_urls(sim: MicrosoftSimulator, http: requests.Session, tok: str) -> None:
    too_many = {"requests": [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(21)]}
    r = http.post(f"{sim.graph_url}/v1.0/$batch", json=too_many, headers={"Authorization": f"Bearer {tok}"},
                  timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"
    out = batch(sim, http, tok, {"abs": f"{sim.graph_url}/v1.0/organization", "rel": "/organization"})
    assert out["abs"]["status"] == 400 and out["rel"]["status"] == 200


def test_batch_inner_429_has_its_own_retry_after(sim: MicrosoftSimulator, http: requests.Session, tok: str,
                                                 org: Organisation) -> None:
    victim = org.of_kind("staff")[3]
    sim.faults.add(kind="status", status=429, retry_after=7, target="inner",
                   path=f"/users/{victim.id}/mailboxSettings", code="ApplicationThrottled")
    out = batch(sim, http, tok, {"ok": f"/users/{org.of_kind('staff')[4].id}/mailboxSettings",
                                 "hit": f"/users/{victim.id}/mailboxSettings"})
    assert out["ok"]["status"] == 200
    assert out["hit"]["status"] == 429 and out["hit"]["headers"]["Retry-After"] == "7"
    again = batch(sim, http, tok, {"hit": f"/users/{victim.id}/mailboxSettings"})
    assert again["hit"]["status"] == 200  # times=1: the fault fired once


# ---- permissions and licences ------------------------------------------------------------------------------------

def test_missing_permissions_give_403(org: Organisation) -> None:
    granted = ["User.Read.All", "Organization.Read.All", "Policy.Read.All"]
    with MicrosoftSimulator(org, throttle=False, permissions=granted) as sim:
        s = session(sim)
        t = token(sim, s)
        assert get(sim, s, t, "/v1.0/users", **{"$select": "id"}).status_code == 200
        r = get(sim, s, t, "/v1.0/users", **{"$select": "id,signInActivity"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "Authorization_RequestDenied"
        r = get(sim, s, t, "/v1.0/reports/authenticationMethods/userRegistrationDetails")
        assert r.status_code == 403
        inner = batch(sim, s, t, {"x": f"/users/{org.people[30].id}/mailFolders/inbox/messageRules"})
        assert inner["x"]["status"] == 403 and inner["x"]["body"]["error"]["code"] == "ErrorAccessDenied"
        r = s.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": sim.client_id,
                                        "client_secret": sim.client_secret, "scope": EXCHANGE}, timeout=10)
        ex = s.post(f"{sim.exchange_url}/adminapi/beta/{sim.tenant_id}/InvokeCommand",
                    json={"CmdletInput": {"CmdletName": "Get-RemoteDomain", "Parameters": {}}},
                    headers={"Authorization": f"Bearer {r.json()['access_token']}"}, timeout=10)
        assert ex.status_code == 403


def test_missing_licences_give_the_documented_errors(org: Organisation) -> None:
    with MicrosoftSimulator(org, throttle=False, licences={"p1": False, "p2": False}) as sim:
        s = session(sim)
        t = token(sim, s)
        for path, params in (("/v1.0/users", {"$select": "id,signInActivity"}),
                             ("/v1.0/reports/authenticationMethods/userRegistrationDetails", {}),
                             ("/v1.0/identity/conditionalAccess/policies", {})):
            r = get(sim, s, t, path, **params)
            assert r.status_code == 403, path
            assert r.json()["error"]["code"] == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
        r = get(sim, s, t, "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances")
        assert r.status_code == 400 and r.json()["error"]["code"] == "AadPremiumLicenseRequired"
        assert get(sim, s, t, "/v1.0/users", **{"$select": "id"}).status_code == 200
        skus = get_all(sim, s, t, "/v1.0/subscribedSkus")
        assert [k["skuPartNumber"] for k in skus] == ["O365_BUSINESS_PREMIUM"]


# ---- Exchange ----------------------------------------------------------------------------------------------------

def test_exchange_pages_by_posting_to_next_link(sim: MicrosoftSimulator, http: requests.Session,
                                                org: Organisation) -> None:
    et = token(sim, http, EXCHANGE)
    boxes = invoke(sim, http, et, "Get-Mailbox", page_size=40, ResultSize="Unlimited")
    assert [b["ExternalDirectoryObjectId"] for b in boxes] == [p.id for p in org.people if p.has_mailbox]
    fwd = [b for b in boxes if b["ForwardingSmtpAddress"]]
    assert [b["ExternalDirectoryObjectId"] for b in fwd] == [p.id for p in org.planted("mailbox_forward_external")]
    assert {b["RecipientTypeDetails"] for b in boxes} == {"UserMailbox", "SharedMailbox", "RoomMailbox"}
    domains = invoke(sim, http, et, "Get-RemoteDomain")
    assert next(d for d in domains if d["DomainName"] == "*")["AutoForwardEnabled"] is False
    assert next(d for d in domains if d["DomainName"] == "gmail.com")["AutoForwardEnabled"] is True
    policy = invoke(sim, http, et, "Get-HostedOutboundSpamFilterPolicy")
    assert next(p for p in policy if p["IsDefault"])["AutoForwardingMode"] == "Automatic"
    rules = invoke(sim, http, et, "Get-TransportRule", ResultSize="Unlimited")
    assert any(r["BlindCopyTo"] for r in rules)
    r = http.post(f"{sim.exchange_url}/adminapi/beta/{sim.tenant_id}/InvokeCommand",
                  json={"CmdletInput": {"CmdletName": "Set-Mailbox", "Parameters": {}}},
                  headers={"Authorization": f"Bearer {et}"}, timeout=10)
    assert r.status_code == 400
    graph_token = token(sim, http, GRAPH)
    r = http.post(f"{sim.exchange_url}/adminapi/beta/{sim.tenant_id}/InvokeCommand",
                  json={"CmdletInput": {"CmdletName": "Get-Mailbox", "Parameters": {}}},
                  headers={"Authorization": f"Bearer {graph_token}"}, timeout=10)
    assert r.status_code == 401
