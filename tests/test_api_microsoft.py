"""idaudit.collect_microsoft against the Microsoft simulator: the real msal and msgraph-sdk over loopback TLS, signed
in with a client secret and with a device code (the prompt goes to the callback, or to stderr outside Jupyter),
then the API on the collected snapshot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import idaudit
from connectors.email_dns import DnsOptions
from idaudit.core.errors import CollectionError
from idaudit.core.snapshot import load_snapshot

simulator = pytest.importorskip("simulator")
try:
    simulator.MicrosoftSimulator  # noqa: B018 - lazy attribute
except (AttributeError, ImportError):  # pragma: no cover
    pytest.skip("simulator.MicrosoftSimulator not available", allow_module_level=True)

SCALE = 0.01  # the simulator's throttling clocks and the connector's pacing run 100x faster, in step


@pytest.fixture(scope="module")
def org() -> Any:
    return simulator.build_organisation(users=40, seed=5)


@pytest.fixture(scope="module")
def sim(org: Any) -> Any:
    with simulator.MicrosoftSimulator(org, time_scale=SCALE) as s:
        yield s


def _endpoints(sim: Any) -> dict[str, Any]:
    return {"authority_host": sim.authority_host, "graph_endpoint": sim.graph_url,
            "exchange_endpoint": sim.exchange_url, "ca_bundle": sim.ca_file, "time_scale": SCALE,
            "dns": DnsOptions(resolvers=(sim.dns_address,))}


@pytest.fixture(scope="module")
def collected(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ms") / "snap"
    snap = idaudit.collect_microsoft(out, tenant_id=sim.tenant_id, client_id=sim.client_id,
                                     client_secret=sim.client_secret, progress=False, **_endpoints(sim))
    assert snap == out
    return snap


def test_secret_collection_writes_a_complete_snapshot_without_the_secret(collected: Path, sim: Any) -> None:
    snap = load_snapshot(collected)
    assert snap.manifest.complete and snap.manifest.provider == "microsoft"
    assert not [n for n, r in snap.manifest.sections.items() if not r.usable]
    for f in collected.iterdir():
        assert sim.client_secret not in f.read_text(encoding="utf-8"), f.name


def test_device_code_prompt_reaches_the_callback_and_collection_completes(sim: Any, tmp_path: Path) -> None:
    messages: list[str] = []
    snap = idaudit.collect_microsoft(tmp_path / "snap", tenant_id=sim.tenant_id, client_id=sim.client_id,
                                     device_code=True, on_device_code=messages.append, sections=["users"],
                                     progress=False, token_cache_path=tmp_path / "cache.json", **_endpoints(sim))
    assert len(messages) == 1 and "devicelogin" in messages[0]
    assert load_snapshot(snap).manifest.sections["users"].usable
    assert ((tmp_path / "cache.json").stat().st_mode & 0o077) == 0  # the token cache is owner-only


def test_device_code_prompt_outside_jupyter_is_printed_to_stderr(sim: Any, tmp_path: Path) -> None:
    """Default callback in a plain interpreter (a subprocess: no IPython kernel there): link and code on stderr."""
    code = (
        "import sys, idaudit\n"
        "idaudit.collect_microsoft(sys.argv[1], tenant_id=sys.argv[2], client_id=sys.argv[3], device_code=True,\n"
        "    sections=['domains'], progress=False, authority_host=sys.argv[4], graph_endpoint=sys.argv[5],\n"
        "    exchange_endpoint=sys.argv[6], ca_bundle=sys.argv[7], time_scale=0.01)\n"
    )
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "snap"), sim.tenant_id, sim.client_id,
                          sim.authority_host, sim.graph_url, sim.exchange_url, str(sim.ca_file)],
                         capture_output=True, text=True, timeout=120, check=True)
    assert "https://microsoft.com/devicelogin" in run.stderr and "enter the code" in run.stderr


def test_wrong_secret_is_a_collection_error_naming_no_secret(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(CollectionError) as exc:
        idaudit.collect_microsoft(tmp_path / "snap", tenant_id=sim.tenant_id, client_id=sim.client_id,
                                  client_secret="not-the-secret-123", progress=False, **_endpoints(sim))
    assert "not-the-secret-123" not in str(exc.value)
    assert not (tmp_path / "snap" / "manifest.json").exists()  # nothing that could look like an empty tenant


def test_two_credentials_are_refused(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(CollectionError, match="exactly one credential"):
        idaudit.collect_microsoft(tmp_path, tenant_id=sim.tenant_id, client_id=sim.client_id,
                                  client_secret="x", device_code=True, **_endpoints(sim))


def test_api_on_the_collected_snapshot_finds_the_compromised_nurse(collected: Path, org: Any) -> None:
    audit = idaudit.load(collected)
    nurse = org.planted("compromised")[0]
    outside = audit.external_forwarding()
    assert nurse.mail.casefold() in set(outside["principal"].str.casefold())
    assert "SecureDocs Viewer" in set(audit.apps_reading_mail()["app_name"])
    planted = {p.mail.casefold() for p in org.planted("no_mfa") if p.enabled}
    assert planted <= set(audit.no_mfa()["principal"].str.casefold())


def test_sections_not_collected_are_errors_or_warnings_never_empty_answers(sim: Any, org: Any,
                                                                           tmp_path: Path) -> None:
    """One mailbox's rules unreadable (403 from the simulator) and Exchange not collected at all: the answers
    must say so — a warning naming the gap, the nurse unknown in the findings — and never look clean."""
    nurse = org.planted("compromised")[0]
    sim.faults.add(path=f"/users/{nurse.id}/mailFolders/inbox/messageRules", status=403, times=None,
                   code="ErrorAccessDenied", message="Access is denied.")
    try:
        snap = idaudit.collect_microsoft(tmp_path / "snap", tenant_id=sim.tenant_id, client_id=sim.client_id,
                                         client_secret=sim.client_secret, collect_exchange=False, progress=False,
                                         **_endpoints(sim))
    finally:
        sim.faults.clear()
    audit = idaudit.load(snap)
    with pytest.warns(idaudit.IncompleteDataWarning, match="forwarding"):
        outside = audit.external_forwarding()
    assert nurse.mail.casefold() not in set(outside["principal"].str.casefold())  # her rules could not be read
    unknown = audit.unknown(check="IDA-MAIL-001")
    assert nurse.mail.casefold() in set(unknown["subject"].str.casefold())  # unknown, not passed
    assert "unknown" in set(audit.findings_for(nurse.mail)["status"])
    cov = audit.coverage.set_index("section")
    assert cov.loc["inboxRules", "subjects_failed"] == 1
    assert cov.loc["exchange.mailboxes", "status"] != "ok"
    assert "subject(s) failed" in audit._repr_html_()
    quick = idaudit.collect_microsoft(tmp_path / "quick", tenant_id=sim.tenant_id, client_id=sim.client_id,
                                      client_secret=sim.client_secret, sections=["users"], progress=False,
                                      **_endpoints(sim))
    with pytest.raises(idaudit.DataNotCollected, match="mfa_registration"):
        idaudit.load(quick).no_mfa()


def test_config_waives_the_break_glass_exclusion_and_rerun_changes_it(collected: Path, org: Any,
                                                                      tmp_path: Path) -> None:
    from idaudit.orchestration.demo import BREAK_GLASS_WAIVED_CHECKS, demo_config_text

    config = tmp_path / "idaudit.toml"
    config.write_text(demo_config_text(org, "microsoft"), encoding="utf-8")
    plain = idaudit.load(collected)
    waived = plain.rerun(config=config)
    check_id = BREAK_GLASS_WAIVED_CHECKS[0]
    bg = next(p for p in org.people if p.kind == "break_glass").mail
    before = plain.findings_for(bg)
    assert set(before.loc[before["check_id"] == check_id, "status"]) == {"fail"}
    after = waived.findings_for(bg)
    mine = after[after["check_id"] == check_id]
    assert set(mine["status"]) == {"waived"} and set(mine["waiver_owner"]) == {"IT manager"}
    assert bool(waived.not_enforced().set_index("principal").loc[bg, "break_glass"]) is True
    assert waived.data is plain.data  # the same normalised tables, checked again


def test_catalogue_and_per_user_tables_carry_names(collected: Path) -> None:
    audit = idaudit.load(collected)
    cat = idaudit.catalogue()
    assert set(audit.checks["check_id"]) == set(cat["check_id"])
    assert (cat["rationale"].str.len() > 20).all() and cat["references"].str.contains("HIPAA").all()
    users = set(audit.users["user_id"])
    for frame in (audit.mfa, audit.enforcement, audit.rules):
        in_directory = frame["user_id"].isin(users)
        assert (frame.loc[in_directory, "principal"] != "").all()
        assert list(frame.columns[:2]) == ["principal", "display_name"]
