"""`idaudit collect ... --redact` (idaudit/core/snapshot_redact.py): a snapshot a user can send to report a mismatch
with their real tenant. Personal data must be gone from every file; the shape must stay — every key, every
section's status, and (because mail domains and object relations are kept) every check's verdicts."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from idaudit.cli import main
from idaudit.core.snapshot import load_snapshot
from idaudit.core.snapshot_redact import Redactor, redact_snapshot
from idaudit.orchestration.pipeline import audit_snapshot
from simulator import build_organisation
from simulator.google import render_google_snapshot
from simulator.microsoft.snapshot import render_microsoft_snapshot

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _keys(value: object, out: Counter[str]) -> Counter[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if "@" not in k:
                out[k] += 1
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


def _verdicts(path: Path) -> Counter[tuple[str, str]]:
    findings = audit_snapshot(path).findings
    return Counter(zip(findings["check_id"], findings["status"], strict=True))


@pytest.mark.parametrize("provider", ["microsoft", "google"])
def test_redaction_removes_personal_data_and_keeps_shapes_and_verdicts(tmp_path: Path, provider: str) -> None:
    org = build_organisation(120, seed=5, as_of=AS_OF)
    render = render_microsoft_snapshot if provider == "microsoft" else render_google_snapshot
    path = render(org, tmp_path / "snap")
    before = load_snapshot(path)
    verdicts = _verdicts(path)
    redact_snapshot(path)
    after = load_snapshot(path)

    text = "\n".join(p.read_text(encoding="utf-8") for p in path.iterdir())
    leaked = []
    for person in org.people:
        if person.kind in ("shared", "room"):  # "Front Desk" is also an org unit's name: not a person
            continue
        for value in (person.display_name, person.local_part + "@", person.mobile_phone):
            if value and value in text:
                leaked.append(value)
    assert leaked == []
    assert org.name not in text

    assert after.manifest.sections.keys() == before.manifest.sections.keys()
    for name, rec in before.manifest.sections.items():
        assert after.manifest.sections[name].status == rec.status
        assert _keys(after.raw.get(name), Counter()).keys() == _keys(rec and before.raw.get(name), Counter()).keys()
    assert _verdicts(path) == verdicts


def test_the_same_address_gets_the_same_pseudonym_and_keeps_its_domain() -> None:
    r = Redactor(b"k" * 32)
    doc = r.walk({"a": "nurse.one@clinic.org", "b": ["Forward to nurse.one@clinic.org"],
                  "nurse.one@clinic.org": {"userPrincipalName": "nurse.one@clinic.org", "displayName": "Nurse One",
                                           "mobilePhone": "+1 614 555 0199", "state": "enabled"}})
    pseudonym = doc["a"]
    assert pseudonym.endswith("@clinic.org") and "nurse" not in pseudonym
    assert doc["b"] == [f"Forward to {pseudonym}"]
    person = doc[pseudonym]
    assert person["userPrincipalName"] == pseudonym
    assert person["displayName"].startswith("redacted-") and person["mobilePhone"].startswith("+1 555 01")
    assert person["state"] == "enabled"  # not personal: kept
    assert Redactor(b"j" * 32).walk("nurse.one@clinic.org") != pseudonym  # another key, another pseudonym


def test_collect_redact_flag_redacts_what_it_wrote(tmp_path: Path) -> None:
    """The flag is wired into `idaudit collect` for both providers (here Google against its simulator)."""
    from simulator.google import GoogleSimulator

    org = build_organisation(40, seed=2, as_of=AS_OF)
    with GoogleSimulator(org) as sim:
        key = tmp_path / "sa.json"
        key.write_text(json.dumps(sim.service_account_info))
        key.chmod(0o600)
        out = tmp_path / "g"
        code = main(["collect", "google", "--service-account-file", str(key), "--admin-subject", sim.admin_subject,
                     "--api-endpoint", sim.api_endpoint, "--token-uri", sim.token_uri, "--out", str(out),
                     "--dns-resolver", sim.dns_address, "--no-progress", "--redact"])
    assert code in (0, 4)
    text = (out / "users.json").read_text(encoding="utf-8")
    assert sim.admin_subject not in text
    assert all(p.display_name not in text for p in org.people if p.kind not in ("shared", "room"))


def test_email_security_sections_keep_no_staff_names(tmp_path: Path) -> None:
    """Get-AntiPhishPolicy names the people it protects ('Name;address') and Get-MailboxAuditBypassAssociation has
    one object per mailbox named after its owner: both are personal data (issue 17's sections)."""
    from idaudit.core.snapshot_redact import redact_snapshot
    from simulator import build_organisation, render_microsoft_snapshot

    org = build_organisation(40, seed=3)
    path = redact_snapshot(render_microsoft_snapshot(org, tmp_path / "snap"))
    text = (path / "exchange.mailboxAuditBypass.json").read_text() + (path / "exchange.antiPhishPolicies.json").read_text()
    people = [p for p in org.people if p.has_mailbox]
    assert not [p.local_part for p in people if f'"{p.local_part}"' in text]
    assert not [p.display_name for p in people if p.display_name in text]
