"""Secrets never reach an artefact: logs (at DEBUG), snapshot, reports, history, token cache.

A full run — real msal + msgraph-sdk against the simulator, with a client secret and then a certificate — is
grepped for the client secret, the certificate's private key material and any access token the simulator signed
(its tokens all start with the same base64url JWT header, so one prefix finds every one of them).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from connectors.email_dns import DnsOptions
from connectors.microsoft.collect import collect_microsoft
from connectors.microsoft.options import MicrosoftOptions
from idaudit.orchestration.pipeline import audit_snapshot
from reports import write_reports
from reports.history import History
from simulator import MicrosoftSimulator, build_organisation

SIM_TOKEN_HEADER = base64.urlsafe_b64encode(
    json.dumps({"typ": "JWT", "alg": "HS256", "kid": "idaudit-sim"}, separators=(",", ":")).encode()
).rstrip(b"=").decode()


def _private_key_lines(pem_path: str) -> list[str]:
    """The base64 body lines of the private key block: any one of them in an artefact is a leak."""
    text = Path(pem_path).read_text()
    start = text.index("PRIVATE KEY-----") + len("PRIVATE KEY-----")
    end = text.index("-----END", start)
    return [ln.strip() for ln in text[start:end].splitlines() if len(ln.strip()) >= 40]


@pytest.mark.parametrize("credential", ["secret", "certificate"])
def test_full_run_leaves_no_secret_in_any_artefact(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                  credential: str) -> None:
    org = build_organisation(users=40, seed=5)
    caplog.set_level(logging.DEBUG)
    with MicrosoftSimulator(org, time_scale=0.01) as sim:
        secret = sim.client_secret
        key_lines = _private_key_lines(sim.certificate_pem_path)
        options = MicrosoftOptions(
            tenant_id=sim.tenant_id, client_id=sim.client_id,
            client_secret=secret if credential == "secret" else None,
            certificate_path=Path(sim.certificate_pem_path) if credential == "certificate" else None,
            authority_host=sim.authority_host, graph_endpoint=sim.graph_url, exchange_endpoint=sim.exchange_url,
            ca_bundle=Path(sim.ca_file), time_scale=0.01, token_cache_path=tmp_path / "cache" / "tokens.json",
            dns=DnsOptions(resolvers=(sim.dns_address,)))
        snap = collect_microsoft(options, tmp_path / "snapshot", progress=False)
    run = audit_snapshot(snap)
    reports = write_reports(run, tmp_path / "reports", ["xlsx", "csv", "json", "html"])
    with History(tmp_path / "history.sqlite") as history:
        history.record(run, snapshot=str(snap), reports=tuple(str(p) for p in reports))
    (tmp_path / "debug.log").write_text("\n".join(r.getMessage() for r in caplog.records))
    assert caplog.records, "DEBUG logging captured nothing: the grep below would prove nothing"

    artefacts = [p for p in tmp_path.rglob("*") if p.is_file() and "cache" not in p.parts]
    assert any(p.suffix == ".xlsx" for p in artefacts) and any(p.name == "manifest.json" for p in artefacts)
    needles = [secret, SIM_TOKEN_HEADER, *key_lines]
    for path in artefacts:
        blob = path.read_bytes()
        if path.suffix == ".xlsx":  # a zip: search the decompressed XML too
            import zipfile

            with zipfile.ZipFile(path) as z:
                blob += b"".join(z.read(n) for n in z.namelist())
        for needle in needles:
            assert needle.encode() not in blob, f"{needle[:12]}… leaked into {path.relative_to(tmp_path)}"

    # The token cache legitimately holds the tokens: it proves the prefix above finds them, and must be 0600.
    cache = tmp_path / "cache" / "tokens.json"
    assert SIM_TOKEN_HEADER in cache.read_text()
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
