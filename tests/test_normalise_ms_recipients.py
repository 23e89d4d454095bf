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
from tests.ms_raw import ADA, CARA, SHARED, raw_tenant
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


# ---- review (issue 16 audit): an in-domain address of a mail user or mail contact delivers outside ----------------
# New-MailUser: "Email messages sent to mail users are delivered to the specified external email address" — a mail
# user's own address sits in an accepted domain, so forwarding to it looked inside (a pass) while the mail left.
LIAISON = {"Identity": "Lab Liaison", "Name": "Lab Liaison", "Alias": "labliaison", "DisplayName": "Lab Liaison",
           "RecipientTypeDetails": "MailUser", "ExternalEmailAddress": "SMTP:liaison@gmail.example",
           "PrimarySmtpAddress": "lab-liaison@clinic.example",
           "EmailAddresses": ["SMTP:lab-liaison@clinic.example", "smtp:labliaison@clinic.onmicrosoft.com"],
           "Guid": "rc-2"}


def _with_liaison() -> dict[str, Any]:
    raw = raw_tenant()
    raw["exchange.recipients"].append(dict(LIAISON))
    return raw


def test_inbox_rule_to_a_mail_users_in_domain_address_fails(tmp_path: Path) -> None:
    raw = _with_liaison()
    raw["inboxRules"][CARA][0]["actions"]["forwardTo"] = [
        {"emailAddress": {"name": "Lab Liaison", "address": "Lab-Liaison@clinic.example"}}]
    got = run(_data(tmp_path, raw), "IDA-MAIL-001")
    row = got[got["subject_id"] == f"{CARA}:r4"].iloc[0]
    assert row["status"] == "fail", row["evidence"]
    assert "lab-liaison@clinic.example" in row["evidence"].casefold()
    assert "'liaison@gmail.example' (outside)" in row["evidence"]


def test_mailbox_smtp_forwarding_to_a_mail_users_secondary_address_fails(tmp_path: Path) -> None:
    raw = _with_liaison()
    raw["exchange.mailboxes"][0]["ForwardingSmtpAddress"] = "smtp:labliaison@clinic.onmicrosoft.com"
    got = run(_data(tmp_path, raw), "IDA-MAIL-003")
    assert status(got, ADA) == "fail"
    assert "mail user" in got[got["subject_id"] == ADA].iloc[0]["evidence"]


def test_transport_rule_copy_to_a_mail_users_address_fails(tmp_path: Path) -> None:
    raw = _with_liaison()
    raw["exchange.transportRules"] = [{"Identity": "Copy lab", "Name": "Copy lab", "Guid": "tr-9", "State": "Enabled",
                                       "BlindCopyTo": ["lab-liaison@clinic.example"]}]
    got = run(_data(tmp_path, raw), "IDA-MAIL-005")
    assert set(got["status"]) == {"fail"}, got[["subject", "status", "evidence"]]


def test_a_mailboxs_own_address_stays_inside(tmp_path: Path) -> None:
    raw = _with_liaison()
    raw["exchange.mailboxes"][0].update(PrimarySmtpAddress="ada@clinic.example",
                                        EmailAddresses=["SMTP:ada@clinic.example"])
    raw["exchange.mailboxes"][1]["ForwardingSmtpAddress"] = "smtp:ada@clinic.example"
    got = run(_data(tmp_path, raw), "IDA-MAIL-003")
    assert "(inside)" in got[got["subject_id"] == CARA].iloc[0]["evidence"]
