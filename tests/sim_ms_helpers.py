"""Small `requests` helpers for the Microsoft simulator tests (the real msal / msgraph-sdk are tested by the
connector's own tests; here the wire itself is under test, so plain HTTP keeps every byte visible)."""

from __future__ import annotations

from typing import Any

import requests

from simulator.microsoft.simulator import MicrosoftSimulator

GRAPH = "https://graph.microsoft.com/.default"
EXCHANGE = "https://outlook.office365.com/.default"


def session(sim: MicrosoftSimulator) -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # this machine sets REQUESTS_CA_BUNDLE, which would override verify
    s.verify = str(sim.ca_file)
    return s


def token(sim: MicrosoftSimulator, s: requests.Session, scope: str = GRAPH) -> str:
    r = s.post(sim.token_url, data={"grant_type": "client_credentials", "client_id": sim.client_id,
                                    "client_secret": sim.client_secret, "scope": scope}, timeout=10)
    r.raise_for_status()
    return str(r.json()["access_token"])


def get(sim: MicrosoftSimulator, s: requests.Session, tok: str, path: str, **params: str) -> requests.Response:
    url = path if path.startswith("https://") else f"{sim.graph_url}{path}"
    return s.get(url, params=params or None, headers={"Authorization": f"Bearer {tok}"}, timeout=10)


def get_all(sim: MicrosoftSimulator, s: requests.Session, tok: str, path: str, **params: str) -> list[Any]:
    """Every page, following absolute @odata.nextLink verbatim."""
    out: list[Any] = []
    r = get(sim, s, tok, path, **params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        out.extend(body["value"])
        link = body.get("@odata.nextLink")
        if not link:
            return out
        assert link.startswith(sim.graph_url + "/"), link
        r = get(sim, s, tok, link)


def batch(sim: MicrosoftSimulator, s: requests.Session, tok: str, urls: dict[str, str],
          version: str = "v1.0") -> dict[str, dict[str, Any]]:
    body = {"requests": [{"id": k, "method": "GET", "url": u} for k, u in urls.items()]}
    r = s.post(f"{sim.graph_url}/{version}/$batch", json=body, headers={"Authorization": f"Bearer {tok}"},
               timeout=20)
    assert r.status_code == 200, r.text
    return {x["id"]: x for x in r.json()["responses"]}


def per_user(sim: MicrosoftSimulator, s: requests.Session, tok: str, ids: list[str], template: str,
             version: str = "v1.0") -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), 20):
        chunk = ids[i:i + 20]
        out.update(batch(sim, s, tok, {u: template.format(id=u) for u in chunk}, version))
    return out


def invoke(sim: MicrosoftSimulator, s: requests.Session, tok: str, cmdlet: str, page_size: int = 1000,
           **parameters: Any) -> list[Any]:
    """Exchange InvokeCommand with nextLink paging by POSTing the same body."""
    body = {"CmdletInput": {"CmdletName": cmdlet, "Parameters": parameters}}
    headers = {"Authorization": f"Bearer {tok}", "X-ResponseFormat": "json",
               "Prefer": f"odata.maxpagesize={page_size}"}
    url: str | None = f"{sim.exchange_url}/adminapi/beta/{sim.tenant_id}/InvokeCommand"
    out: list[Any] = []
    while url:
        r = s.post(url, json=body, headers=headers, timeout=10)
        assert r.status_code == 200, r.text
        out.extend(r.json()["value"])
        url = r.json().get("@odata.nextLink")
    return out
