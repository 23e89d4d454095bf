"""Microsoft normaliser over the simulator's rendered snapshot: the organisation's planted problems land in the
neutral tables (and, without Entra ID P1, the gaps land as unknown / missing, never as "no").

The snapshot is rendered by simulator (the same objects its Graph and Exchange routes serve) and
written to disk; the normaliser itself never imports a connector.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from idaudit.core.normalise import normalise
from idaudit.core.snapshot import load_snapshot
from idaudit.core.tables import AuditData, Availability

simulator = pytest.importorskip("simulator")
ms_snapshot = pytest.importorskip("simulator.microsoft.snapshot")


@pytest.fixture(scope="module")
def org():  # type: ignore[no-untyped-def]
    return simulator.build_organisation(users=120, seed=11)


def _normalise(org, tmp: Path, licences: dict[str, bool] | None = None) -> AuditData:  # type: ignore[no-untyped-def]
    return normalise(load_snapshot(ms_snapshot.render_microsoft_snapshot(org, tmp, licences=licences)))


@pytest.fixture(scope="module")
def data(org, tmp_path_factory: pytest.TempPathFactory) -> AuditData:  # type: ignore[no-untyped-def]
    return _normalise(org, tmp_path_factory.mktemp("ms") / "snap", {"p1": True, "p2": True})


def test_planted_mail_problems(org, data: AuditData) -> None:  # type: ignore[no-untyped-def]
    fwd = data.table("forwarding")
    rule_fwd = fwd[fwd["mechanism"].str.startswith("inbox_rule")]
    for p in org.planted("forward_external_rule"):
        mine = rule_fwd[rule_fwd["user_id"] == p.id]
        assert not mine.empty and (mine["recipient_domain"] != "").all(), p.display_name
    for p in org.planted("mailbox_forward_external"):
        assert ((fwd["user_id"] == p.id) & (fwd["mechanism"] == "mailbox_forwarding")).any(), p.display_name
    rules = data.table("mail_rules")
    for p in org.planted("hiding_rule"):
        assert rules.loc[rules["user_id"] == p.id, "hides_mail"].any(), p.display_name


def test_planted_identity_problems(org, data: AuditData) -> None:  # type: ignore[no-untyped-def]
    reg = data.table("mfa_registration").set_index("user_id")
    for p in org.planted("no_mfa"):
        assert not bool(reg.loc[p.id, "registered"])
    for p in org.planted("admin_sms_only"):
        assert reg.loc[p.id, "strongest"] == "weak"
    enf = data.table("mfa_enforcement").set_index("user_id")
    excluded = [p for p in org.planted("mfa_excluded") if p.enabled]
    assert excluded
    for p in excluded:
        if p.per_user_mfa == "disabled":
            assert enf.loc[p.id, "enforced"] == "no" and "excluded through group" in enf.loc[p.id, "reason"]
        else:  # 'enabled' + a registered method covers modern clients; the demo's legacy block covers the rest
            assert enf.loc[p.id, "enforced"] == "yes" and "per-user MFA" in enf.loc[p.id, "enforced_by"]
            assert "Block legacy" in enf.loc[p.id, "enforced_by"] or p.per_user_mfa == "enforced"
    for p in org.planted("per_user_mfa_only"):
        assert enf.loc[p.id, "enforced"] == "yes" and "per-user MFA" in enf.loc[p.id, "enforced_by"]
    roles = data.table("role_assignments")
    assert (roles["assignment"] == "eligible").any() and (roles["via_group"] != "").any()
    grants = data.table("oauth_grants")
    risky = grants[(grants["app_owner"] == "third_party") & ~grants["publisher_verified"].fillna(True).astype(bool)]
    assert risky["scope"].isin(["Mail.Read", "Mail.ReadWrite", "Files.Read.All"]).any()


def test_without_p1_gaps_are_unknown_not_no(org, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    d = _normalise(org, tmp_path / "snap", {"p1": False, "p2": False})
    assert d.status["conditional_access"].availability is Availability.MISSING
    assert set(d.table("mfa_registration")["source"]) == {"authenticationMethods"}
    enf = d.table("mfa_enforcement")
    assert "no" not in set(enf["enforced"])  # nothing proves "not enforced" when the policies are unreadable
    unknown = enf[enf["enforced"] == "unknown"]
    assert not unknown.empty and unknown["reason"].str.contains("Entra ID P1").all()
    assert not d.table("users")["sign_in_known"].any()


def test_sprayed_dormant_account_stays_stale(org, data: AuditData) -> None:  # type: ignore[no-untyped-def]
    """A failed attempt (password spraying) moves lastSignInDateTime, never lastSuccessfulSignInDateTime."""
    from tests.checkkit import row, run

    (sprayed,) = org.planted("sprayed_dormant")
    user = data.table("users").set_index("user_id").loc[sprayed.id]
    assert user["sign_in_source"] == "lastSuccessfulSignInDateTime"
    assert user["last_sign_in_attempt"] > user["last_sign_in"]
    got = row(run(data, "IDA-ACCT-001"), sprayed.id)
    assert got["status"] == "fail" and "lastSuccessfulSignInDateTime" in got["evidence"], got["evidence"]
