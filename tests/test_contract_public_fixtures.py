"""Contract where no machine-readable schema exists: the Exchange admin REST objects (InvokeCommand) and the
Policy API's setting values. Each is held to a fixture of what public tools that read real tenants use
(tests/fixtures/public/*.json, with the source of every name): a property or setting field the simulator serves
that no public source attests fails here, so an invented shape cannot pass silently. docs/fidelity.md lists what is
attested only this way.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests import served

FIXTURES = Path(__file__).parent / "fixtures" / "public"
EXCHANGE = json.loads((FIXTURES / "exchange_admin_rest.json").read_text(encoding="utf-8"))
POLICY = json.loads((FIXTURES / "policy_api_settings.json").read_text(encoding="utf-8"))
KINDS = {
    "bool": lambda v: isinstance(v, bool),
    "enum": lambda v: isinstance(v, str) and re.fullmatch(r"[A-Z0-9_]+", v) is not None,
    "timestamp": lambda v: isinstance(v, str)
    and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z", v) is not None,
    "duration": lambda v: isinstance(v, str) and re.fullmatch(r"\d+[hms]", v) is not None,
    "list": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def _exchange_objects() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for s in served.microsoft_demo():
        if s.server == "exchange" and s.status == 200:
            cmdlet = json.loads(s.request_body)["CmdletInput"]["CmdletName"]
            out.setdefault(cmdlet, []).extend(s.body["value"])
    return out


def test_every_exchange_property_served_is_attested_by_a_public_source() -> None:
    objects = _exchange_objects()
    assert set(objects) == set(EXCHANGE["cmdlets"])
    problems = []
    for cmdlet, items in objects.items():
        attested = {name for names in EXCHANGE["cmdlets"][cmdlet].values() for name in names}
        for obj in items:
            problems += [f"{cmdlet}.{k}: not attested" for k in obj if k not in attested]
            for key, allowed in EXCHANGE["values"].items():
                value = obj.get(key)
                if value is not None and value not in allowed:
                    problems.append(f"{cmdlet}.{key} = {value!r} not in {allowed}")
    assert sorted(set(problems)) == []


def test_every_exchange_property_idaudit_reads_is_attested_by_a_public_tool() -> None:
    """The properties the normaliser and checks decide on must not rest on the 'unattested' list."""
    reads = {
        "Get-Mailbox": {"ExternalDirectoryObjectId", "ForwardingSmtpAddress", "ForwardingAddress",
                        "DeliverToMailboxAndForward", "RecipientTypeDetails"},
        "Get-RemoteDomain": {"DomainName", "AutoForwardEnabled"},
        "Get-Recipient": {"Identity", "Name", "DisplayName", "Alias", "PrimarySmtpAddress", "Guid",
                          "ExternalDirectoryObjectId", "ExternalEmailAddress", "RecipientTypeDetails"},
        "Get-HostedOutboundSpamFilterPolicy": {"AutoForwardingMode", "IsDefault", "Name", "Identity"},
        "Get-HostedOutboundSpamFilterRule": {"HostedOutboundSpamFilterPolicy", "State", "From", "FromMemberOf",
                                             "SenderDomainIs"},
        "Get-TransportRule": {"BlindCopyTo", "RedirectMessageTo", "CopyTo", "AddToRecipients", "SentToScope",
                              "FromScope", "Mode", "State", "SentTo"},
    }
    for cmdlet, names in reads.items():
        tools = {n for src, ns in EXCHANGE["cmdlets"][cmdlet].items() if src != "unattested" for n in ns}
        assert names <= tools, (cmdlet, names - tools)


def test_every_policy_setting_served_has_the_shape_public_tools_see() -> None:
    problems, seen = [], set()
    for s in served.google_demo():
        if s.status != 200 or not s.path.endswith("/v1/policies"):
            continue
        for policy in s.body.get("policies", []):
            kind = policy["setting"]["type"].removeprefix("settings/")
            seen.add(kind)
            spec = POLICY["settings"].get(kind)
            if spec is None:
                problems.append(f"{kind}: no public source for this setting")
                continue
            for field, value in policy["setting"]["value"].items():
                want = spec["fields"].get(field)
                if want is None:
                    problems.append(f"{kind}.{field}: not a field public tools read")
                elif not KINDS[want](value):
                    problems.append(f"{kind}.{field} = {value!r} is not a {want}")
    assert len(seen) >= 10
    assert sorted(set(problems)) == []


def test_the_fixture_checks_can_fail() -> None:
    assert not KINDS["timestamp"]("2026-01-01")
    assert not KINDS["duration"]("7 days")
    assert not KINDS["enum"]("Allow all")
    assert KINDS["duration"]("604800s") and KINDS["timestamp"]("1970-01-01T00:00:00Z")
