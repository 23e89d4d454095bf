"""Policy API resolution per OU and the effective 2SV enforcement per user (pure functions, hand-made objects)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from idaudit.core.normalise.google_policy import (
    DEVICE_TRUST,
    ENFORCEMENT,
    FACTORS,
    PolicyResolver,
    parse_duration,
    two_sv_for_user,
    two_sv_from_flag,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
OUS = [
    {"orgUnitPath": "/", "orgUnitId": "id:root"},
    {"orgUnitPath": "/Clinical", "orgUnitId": "id:clin", "parentOrgUnitPath": "/", "parentOrgUnitId": "id:root"},
    {"orgUnitPath": "/Clinical/Nursing", "orgUnitId": "id:nurse", "parentOrgUnitPath": "/Clinical",
     "parentOrgUnitId": "id:clin"},
    {"orgUnitPath": "/Front Desk", "orgUnitId": "id:desk", "parentOrgUnitPath": "/", "parentOrgUnitId": "id:root"},
]


def pol(ou: str, setting: str, value: dict, order: float, name: str = "", group: str = "") -> dict:
    query = {"orgUnit": f"orgUnits/{ou}", "sortOrder": order}
    if group:
        query = {"group": f"groups/{group}", "sortOrder": order}
    return {"name": name or f"policies/{ou}-{setting}-{order}", "policyQuery": query,
            "setting": {"type": f"settings/{setting}", "value": value}}


def enforced(ou: str, when: str, order: float) -> dict:
    return pol(ou, ENFORCEMENT, {"enforcedFrom": when}, order)


def user(ou: str = "/", enrolled: bool = True, flag: bool | None = None,
         created: str = "2020-01-01T00:00:00.000Z") -> dict:
    u = {"id": "1", "orgUnitPath": ou, "isEnrolledIn2Sv": enrolled, "creationTime": created}
    if flag is not None:
        u["isEnforcedIn2Sv"] = flag
    return u


def test_highest_sort_order_wins_for_the_same_ou() -> None:
    r = PolicyResolver([enforced("root", "2025-01-01T00:00:00Z", 12), enforced("root", "1970-01-01T00:00:00Z", 1),
                        enforced("root", "2026-01-01T00:00:00Z", 5)], OUS)
    res = r.resolve(ENFORCEMENT, "/")
    assert res.value == {"enforcedFrom": "2025-01-01T00:00:00Z"}
    assert res.ou == "/" and "root-" in res.policy


def test_child_inherits_from_nearest_ancestor_and_own_policy_overrides() -> None:
    r = PolicyResolver([pol("root", FACTORS, {"allowedSignInFactorSet": "ALL"}, 1),
                        pol("clin", FACTORS, {"allowedSignInFactorSet": "NO_TELEPHONY"}, 3)], OUS)
    assert r.resolve(FACTORS, "/Clinical/Nursing").value == {"allowedSignInFactorSet": "NO_TELEPHONY"}
    assert r.resolve(FACTORS, "/Clinical/Nursing").ou == "/Clinical"
    assert r.resolve(FACTORS, "/Front Desk").value == {"allowedSignInFactorSet": "ALL"}
    assert r.ous_where(FACTORS, lambda v: v["allowedSignInFactorSet"] == "ALL") == ["/", "/Front Desk"]


def test_documented_default_when_no_policy_and_unknown_when_none_documented() -> None:
    r = PolicyResolver([], OUS)
    trust = r.resolve(DEVICE_TRUST, "/Clinical")
    assert trust.value == {"allowTrustingDevice": True} and trust.policy == "" and "default" in trust.source
    assert r.resolve("gmail.mail_delegation", "/").value is None


def test_policy_for_an_unknown_ou_is_not_applied_anywhere() -> None:
    r = PolicyResolver([enforced("elsewhere", "2025-01-01T00:00:00Z", 50)], OUS)
    assert r.unmapped and r.resolve(ENFORCEMENT, "/").policy == ""


@pytest.mark.parametrize(("policies", "u", "want", "reason_part"), [
    ([enforced("root", "2025-01-01T00:00:00Z", 10)], user("/Clinical/Nursing"), "yes", ""),
    ([enforced("root", "1970-01-01T00:00:00Z", 10)], user(), "no", "epoch"),
    ([], user(), "no", "Google default"),
    ([enforced("root", "2027-02-01T00:00:00Z", 10)], user(), "no", "only starts on 2027-02-01"),
    ([enforced("root", "2025-01-01T00:00:00Z", 10), enforced("desk", "1970-01-01T00:00:00Z", 20)],
     user("/Front Desk"), "no", "OU /Front Desk"),
    # not enrolled, created 3 days ago, 7-day grace period: may still sign in with a password alone
    ([enforced("root", "2025-01-01T00:00:00Z", 10),
      pol("root", "security.two_step_verification_grace_period", {"enrollmentGracePeriod": "604800s"}, 1)],
     user(enrolled=False, created="2026-11-25T12:00:00.000Z"), "no", "grace period until 2026-12-02"),
    # not enrolled and past the grace period: sign-in requires enrolment, so 2SV is enforced
    ([enforced("root", "2025-01-01T00:00:00Z", 10)], user(enrolled=False, created="2025-01-01T00:00:00.000Z"),
     "yes", ""),
    # the OU says enforced but Google's own flag disagrees: never a false pass
    ([enforced("root", "2025-01-01T00:00:00Z", 10)], user(flag=False), "no", "isEnforcedIn2Sv=false"),
    # a group policy may change things for members we cannot see
    ([enforced("root", "1970-01-01T00:00:00Z", 10), pol("x", ENFORCEMENT, {"enforcedFrom": "2025-01-01T00:00:00Z"},
                                                        30, group="g1")], user(), "unknown", "group-based"),
    ([enforced("root", "1970-01-01T00:00:00Z", 10)], user(flag=True), "yes", ""),
])
def test_effective_2sv(policies: list[dict], u: dict, want: str, reason_part: str) -> None:
    v = two_sv_for_user(PolicyResolver(policies, OUS), u, NOW)
    assert v.enforced == want, v
    assert reason_part in (v.reason or v.enforced_by)
    if want == "yes":
        assert v.enforced_by.startswith("2SV enforced") and v.reason == ""


def test_passkey_only_ou_is_phishing_resistant_and_trusted_devices_are_named() -> None:
    policies = [enforced("root", "2025-01-01T00:00:00Z", 10),
                pol("clin", FACTORS, {"allowedSignInFactorSet": "PASSKEY_ONLY"}, 2),
                pol("root", DEVICE_TRUST, {"allowTrustingDevice": True}, 1)]
    r = PolicyResolver(policies, OUS)
    strong = two_sv_for_user(r, user("/Clinical/Nursing"), NOW)
    weak = two_sv_for_user(r, user("/Front Desk"), NOW)
    assert (strong.strength, strong.phishing_resistant) == ("phishing_resistant", "yes")
    assert (weak.strength, weak.phishing_resistant) == ("mfa", "no")
    assert "trusted devices may skip 2SV" in weak.enforced_by


def test_without_policies_the_directory_flag_decides() -> None:
    assert two_sv_from_flag(user(flag=True), "policies forbidden").enforced == "yes"
    no = two_sv_from_flag(user(flag=False), "policies forbidden")
    assert no.enforced == "no" and "policies forbidden" in no.reason
    assert two_sv_from_flag(user(), "x").enforced == "unknown"


def test_durations() -> None:
    assert parse_duration("604800s").days == 7
    assert parse_duration("12h").seconds == 12 * 3600
    assert parse_duration("soon") is None
