"""Transport (mail flow) rules -> `forwarding` rows: every action that puts a copy of a message in front of another
recipient, the rule's test mode, and the conditions that narrow it (New-TransportRule's documented actions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from idaudit.core.normalise import normalise
from tests.checkkit import run, status
from tests.ms_raw import raw_tenant
from tests.ms_raw import write_snapshot as snap


def _rule(name: str, **fields: Any) -> dict[str, Any]:
    return {"Identity": name, "Name": name, "Guid": f"g-{name}", "State": "Enabled", "Mode": "Enforce",
            "Priority": 0, "BlindCopyTo": None, "RedirectMessageTo": None, "CopyTo": None, "AddToRecipients": None,
            "AddManagerAsRecipientType": None, "ModerateMessageByUser": None, "ModerateMessageByManager": False,
            "GenerateIncidentReport": None, "IncidentReportContent": None, "SentToScope": None, "FromScope": None,
            "ExceptIfFrom": None, "SubjectContainsWords": None, **fields}


def _transport(tmp_path: Path, *rules: dict[str, Any]) -> pd.DataFrame:
    raw = raw_tenant()
    raw["exchange.transportRules"] = list(rules)
    data = normalise(snap(tmp_path / "s", raw))
    fwd = data.table("forwarding")
    return fwd[fwd["mechanism"] == "transport_rule"].reset_index(drop=True)


def test_every_action_that_adds_a_recipient_is_a_forwarding_row(tmp_path: Path) -> None:
    rows = _transport(
        tmp_path,
        _rule("add", AddToRecipients=["collector@outside.example"]),
        _rule("cc", CopyTo=["cc@outside.example"]),
        _rule("moderate", ModerateMessageByUser=["approver@outside.example"]),
        _rule("report", GenerateIncidentReport="soc@outside.example",
              IncidentReportContent=["Sender", "Subject", "AttachOriginalMail"]),
        _rule("report-no-original", GenerateIncidentReport="soc2@outside.example",
              IncidentReportContent=["Sender", "Subject"]),
        _rule("manager", AddManagerAsRecipientType="Bcc"),
    )
    got = {(r.rule_name, r.recipient, r.how) for r in rows.itertuples()}
    assert ("add", "collector@outside.example", "adds as a recipient") in got
    assert ("cc", "cc@outside.example", "copies (Cc) to") in got
    assert ("moderate", "approver@outside.example", "sends for approval to") in got
    assert ("report", "soc@outside.example", "sends an incident report with the original message attached to") \
        in got
    assert not any(r == "report-no-original" for r, _, _ in got)  # metadata only: no copy of the message
    manager = rows[rows["rule_name"] == "manager"].iloc[0]
    assert manager["recipient_domain"] == "" and "manager" in manager["recipient"]  # cannot be placed: unknown


def test_mode_and_conditions_are_kept(tmp_path: Path) -> None:
    rows = _transport(
        tmp_path,
        _rule("audit", Mode="Audit", BlindCopyTo=["x@outside.example"], SentToScope="NotInOrganization",
              ExceptIfFrom=["ceo@clinic.example"]),
        _rule("all", BlindCopyTo=["y@outside.example"]),
    ).set_index("rule_name")
    assert rows.loc["audit", "mode"] == "audit"
    assert rows.loc["audit", "applies_when"] == "SentToScope: NotInOrganization; except From: ceo@clinic.example"
    assert rows.loc["all", "mode"] == "enforce" and rows.loc["all", "applies_when"] == ""


def test_a_rule_in_test_mode_takes_no_action(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["exchange.transportRules"] = [_rule("audit", Mode="AuditAndNotify", BlindCopyTo=["x@outside.example"])]
    got = run(normalise(snap(tmp_path / "s", raw)), "IDA-MAIL-005")
    assert status(got, "transport:g-audit") == "pass"
    assert "test mode (AuditAndNotify)" in got.iloc[0]["evidence"]


def test_conditions_narrow_and_the_evidence_says_so(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["exchange.transportRules"] = [_rule("subj", AddToRecipients=["x@outside.example"],
                                            SubjectContainsWords=["lab result"])]
    got = run(normalise(snap(tmp_path / "s", raw)), "IDA-MAIL-005")
    assert status(got, "transport:g-subj") == "fail"
    ev = got.iloc[0]["evidence"]
    assert "adds as a recipient 'x@outside.example' (outside)" in ev
    assert "only messages matching SubjectContainsWords: lab result" in ev
