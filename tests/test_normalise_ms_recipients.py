"""Mailbox ForwardingAddress (a recipient named by identity) resolved to the address it stands for: a mail contact's
external address, a mailbox's own — and `unknown`, never inside, when it cannot be resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from idaudit.core.normalise import normalise
from idaudit.core.snapshot import SectionStatus
from idaudit.core.tables import AuditData
from tests.checkkit import run, status
from tests.ms_raw import ADA, SHARED, raw_tenant
from tests.ms_raw import write_snapshot as snap


def _data(tmp_path: Path, raw: dict[str, Any] | None = None, **kw: Any) -> AuditData:
    return normalise(snap(tmp_path / "s", raw if raw is not None else raw_tenant(), **kw))


def _forward(data: AuditData, user_id: str) -> pd.Series:
    fwd = data.table("forwarding")
    return fwd[(fwd["user_id"] == user_id) & (fwd["rule_id"] == "ForwardingAddress")].iloc[0]


def test_contact_resolves_to_its_external_address_and_fails(tmp_path: Path) -> None:
    data = _data(tmp_path)
    row = _forward(data, SHARED)
    assert row["recipient"] == "ar@billing-vendor.example" and row["recipient_domain"] == "billing-vendor.example"
    assert "mail contact 'Billing Vendor Contact'" in row["how"]
    got = run(data, "IDA-MAIL-003")
    assert status(got, SHARED) == "fail"
    assert "'ar@billing-vendor.example' (outside)" in got[got["subject_id"] == SHARED].iloc[0]["evidence"]


def test_a_mailbox_named_by_identity_is_inside(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["exchange.mailboxes"][0].update(Name="ada", Alias="ada", PrimarySmtpAddress="ada@clinic.example")
    raw["exchange.mailboxes"][2]["ForwardingAddress"] = "ada"
    data = _data(tmp_path, raw)
    assert _forward(data, SHARED)["recipient"] == "ada@clinic.example"
    assert status(run(data, "IDA-MAIL-003"), SHARED) == "pass"
    assert ADA != SHARED


def test_canonical_name_and_case_resolve(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["exchange.mailboxes"][2]["ForwardingAddress"] = "clinic.onmicrosoft.com/Contacts/BILLING VENDOR CONTACT"
    assert _forward(_data(tmp_path, raw), SHARED)["recipient"] == "ar@billing-vendor.example"


def test_not_collected_is_unknown_naming_the_section(tmp_path: Path) -> None:
    data = _data(tmp_path, fail={"exchange.recipients": (SectionStatus.FORBIDDEN, "403 Forbidden")})
    got = run(data, "IDA-MAIL-003")
    assert status(got, SHARED) == "unknown"
    ev = got[got["subject_id"] == SHARED].iloc[0]["evidence"]
    assert "exchange.recipients: forbidden" in ev and "Exchange.ManageAsApp" in ev


def test_ambiguous_or_unknown_names_stay_unknown(tmp_path: Path) -> None:
    raw = raw_tenant()
    twin = dict(raw["exchange.recipients"][0], Guid="rc-2", ExternalEmailAddress="SMTP:other@x.example")
    raw["exchange.recipients"].append(twin)
    got = run(_data(tmp_path, raw), "IDA-MAIL-003")
    assert status(got, SHARED) == "unknown" and "matches 2 recipients" in got[got["subject_id"] == SHARED].iloc[0][
        "evidence"]
    raw = raw_tenant()
    raw["exchange.mailboxes"][2]["ForwardingAddress"] = "Somebody Else"
    got = run(_data(tmp_path / "b", raw), "IDA-MAIL-003")
    assert status(got, SHARED) == "unknown"


def test_transport_rule_recipient_named_by_identity_is_resolved(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["exchange.transportRules"][0]["BlindCopyTo"] = ["Billing Vendor Contact"]
    fwd = _data(tmp_path, raw).table("forwarding")
    tr = fwd[fwd["rule_id"] == "tr-1"].iloc[0]
    assert tr["recipient"] == "ar@billing-vendor.example"
