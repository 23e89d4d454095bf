"""Microsoft takeover logs -> sign_in_countries, sign_in_summary, change_events, risky_users, risk_detections: what
each log says, the country of an address taken only from a sign-in from it, and gaps named, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from idaudit.core.normalise import normalise
from idaudit.core.normalise.ms_logs import bare_ip
from idaudit.core.signin_aggregate import aggregate_sign_ins
from idaudit.core.snapshot import SectionStatus
from idaudit.core.tables import Availability
from tests.ms_raw import CARA, raw_tenant
from tests.ms_raw import write_snapshot as snap


def test_change_events_carry_actor_address_and_the_country_of_a_sign_in_from_it(tmp_path: Path) -> None:
    data = normalise(snap(tmp_path / "s"))
    ev = data.tables["change_events"].set_index("event_id")
    mfa, fwd = ev.loc["da1"], ev.loc["pv1"]
    assert (mfa["kind"], mfa["user_id"], mfa["ip"], mfa["country"]) == ("mfa_added", CARA, "203.0.113.20", "NG")
    assert (fwd["kind"], fwd["user_id"], fwd["object"], fwd["ip"]) == \
        ("mailbox_forwarding", CARA, "Cara@Gmail.example", "203.0.113.20")  # ":port" dropped
    assert fwd["country"] == "NG" and fwd["actor"] == "cara@clinic.example"
    countries = data.tables["sign_in_countries"]
    assert set(countries["country"]) == {"US", "NG"}
    assert data.tables["risky_users"].iloc[0]["risk_level"] == "high"
    assert data.tables["risk_detections"].iloc[0]["country"] == "NG"


def test_an_address_no_sign_in_came_from_has_no_country(tmp_path: Path) -> None:
    raw = raw_tenant()
    raw["directoryAudits"][0]["initiatedBy"]["user"]["ipAddress"] = "100.64.9.9"
    data = normalise(snap(tmp_path / "s", raw))
    assert data.tables["change_events"].set_index("event_id").loc["da1", "country"] == ""


def test_lost_logs_are_gaps_naming_the_section(tmp_path: Path) -> None:
    data = normalise(snap(tmp_path / "s", fail={
        "signIns": (SectionStatus.UNLICENSED, "requires Microsoft Entra ID P1"),
        "exchangeAuditRecords": (SectionStatus.FORBIDDEN, "grant AuditLogsQuery-Exchange.Read.All")}))
    assert data.status["sign_in_countries"].availability is Availability.MISSING
    assert "Entra ID P1" in data.status["sign_in_summary"].reason
    ev = data.status["change_events"]
    assert ev.availability is Availability.PARTIAL and "exchangeAuditRecords" in ev.reason
    both = normalise(snap(tmp_path / "t", drop=("directoryAudits", "exchangeAuditRecords")))
    assert both.status["change_events"].availability is Availability.MISSING


@pytest.mark.parametrize(("logged", "bare"), [("203.0.113.20:50123", "203.0.113.20"),
                                              ("[2001:db8::1]:443", "2001:db8::1"), ("2001:db8::1", "2001:db8::1"),
                                              ("198.51.100.10", "198.51.100.10"), (None, "")])
def test_addresses_lose_their_port(logged: str | None, bare: str) -> None:
    assert bare_ip(logged) == bare


def test_sign_in_aggregate_ignores_failures_and_order() -> None:
    def s(i: int, when: str, country: str, client: str = "Browser", code: int = 0,
          req: str = "multiFactorAuthentication") -> dict[str, object]:
        return {"id": str(i), "userId": "u1", "createdDateTime": when, "ipAddress": f"203.0.113.{i}",
                "clientAppUsed": client, "status": {"errorCode": code}, "authenticationRequirement": req,
                "location": {"countryOrRegion": country, "city": "x"}}
    items = [s(1, "2026-11-22T00:00:00Z", "US"), s(2, "2026-11-23T00:00:00Z", "NG", "IMAP4",
                                                   req="singleFactorAuthentication"),
             s(3, "2026-11-24T00:00:00Z", "RO", code=50126)]
    a, b = aggregate_sign_ins(items), aggregate_sign_ins(list(reversed(items)))
    assert a == b
    assert set(a["u1"]["countries"]) == {"US", "NG"}  # the failed sign-in from RO is not a country seen
    assert a["u1"]["legacy"]["count"] == 1 and a["u1"]["legacy"]["clients"] == ["IMAP4"]
    assert a["u1"]["singleFactor"]["count"] == 1
