"""Google Workspace policy precedence and per-OU settings, rule by rule, on a minimal hand-written tenant
(tests/google_mini.py: raw Policy API / Directory objects through the real normaliser and the real checks).

Each test is one row of docs/semantics.md, section "Google Workspace: policy precedence and per-OU settings";
each one failed before the fix it covers (the verdict before the fix is in the test's docstring).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from idaudit.core.normalise.google_settings import THIRD_PARTY_ACCESS
from idaudit.orchestration.pipeline import audit_snapshot
from simulator import build_organisation
from simulator.google import render_google_snapshot
from simulator.google.models import build_google_tenant
from tests.google_mini import MiniGoogle

APPS = "api_controls.unconfigured_third_party_apps"


# ---- api_controls.unconfigured_third_party_apps: the real accessLevel values (issue 21 item 1) --------------------

@pytest.mark.parametrize(("level", "want", "said"), [
    ("UNSPECIFIED_UBER_BLOCK", "fail", "any app"),  # before: pass ("BLOCK" read as blocked)
    ("BLOCK_ALL_SCOPES", "pass", "cannot"),
    ("ALLOW_SIGN_IN_SCOPES_ONLY", "pass", "sign in"),
    ("ACCESS_LEVEL_UNSPECIFIED", "unknown", "accessLevel 'ACCESS_LEVEL_UNSPECIFIED' not understood"),
    ("SOMETHING_NEW", "unknown", "accessLevel 'SOMETHING_NEW' not understood"),
])
def test_unconfigured_third_party_apps_access_levels(level: str, want: str, said: str) -> None:
    """ScubaGoggles (GWS.COMMONCONTROLS.10.4 tests) reads UNSPECIFIED_UBER_BLOCK as 'Allow users to access any
    third-party apps'. Before: anything containing BLOCK was 'off', so the default posture passed IDA-APPS-001."""
    t = MiniGoogle().user("ann").policy(APPS, {"accessLevel": level, "accessLevelUnder18":
                                               "UNDERAGE_UBER_BLOCK_UNSPECIFIED"}, order=1, kind="SYSTEM")
    assert t.verdict("IDA-APPS-001") == want, t.evidence("IDA-APPS-001")
    assert said.casefold() in t.evidence("IDA-APPS-001").casefold()


# ---- a policy without policyQuery.orgUnit applies to the top-level OU (issue 21 item 6) ---------------------------

def test_policy_without_org_unit_applies_to_the_top_level_ou() -> None:
    """Before: the policy named no OU known to the OU list, was dropped as 'unmapped', and the documented default
    (less secure apps off) made IDA-AUTH-010 pass."""
    t = MiniGoogle().user("ann", ou="/Clinical").policy("security.less_secure_apps",
                                                        {"allowLessSecureApps": True}, ou=None, order=5)
    assert t.verdict("IDA-AUTH-010") == "fail", t.evidence("IDA-AUTH-010")
    assert "/" in t.evidence("IDA-AUTH-010")


def test_the_simulator_serves_only_real_access_levels() -> None:
    """Before: the demo tenant served an invented ALLOW_ALL_SCOPES, which the Policy API never returns."""
    served = [p["setting"]["value"]["accessLevel"] for p in build_google_tenant(build_organisation(users=30)).policies
              if p["setting"]["type"] == f"settings/{APPS}"]
    assert served and set(served) <= set(THIRD_PARTY_ACCESS), served


# ---- group-targeted policies: decided through the collected memberships (issue 15 item 8) -------------------------

ENF = "security.two_step_verification_enforcement"
ON, OFF = {"enforcedFrom": "2025-01-01T00:00:00Z"}, {"enforcedFrom": "1970-01-01T00:00:00Z"}


def _exclusions(*, flags: bool) -> MiniGoogle:
    """2SV enforced for the whole account; a group policy turns it off for the group 'mfa-exclusions' (ann)."""
    return (MiniGoogle()
            .user("ann", ou="/Clinical", enforced=False if flags else None)
            .user("bob", ou="/Clinical", enforced=True if flags else None)
            .group("mfa-exclusions", "ann")
            .policy(ENF, ON, order=12).policy(ENF, OFF, ou="/", group="mfa-exclusions", order=30))


def test_group_policy_decides_2sv_for_its_members_and_only_them() -> None:
    """Before: ann (in the group) was enforced 'yes' from the OU policy alone — a false pass when Google's flag is
    absent — and 'unknown' when the flag is there; now the group policy decides: 'no', naming the group."""
    for flags in (False, True):
        t = _exclusions(flags=flags)
        ann, bob = t.enforcement("ann"), t.enforcement("bob")
        assert ann["enforced"] == "no", (flags, ann.to_dict())
        assert "mfa-exclusions@clinic.org" in ann["reason"], ann["reason"]
        assert bob["enforced"] == "yes", (flags, bob.to_dict())
    assert _exclusions(flags=False).verdict("IDA-AUTH-002", "ann") == "fail"


def test_group_policy_with_membership_not_read_is_unknown_only_where_it_matters() -> None:
    """The group's members could not be read: without Google's own flag nobody's verdict can be known (anyone may be
    a member); with the flag (True) bob's 'yes' does not depend on the group."""
    t = _exclusions(flags=False).group_failed("mfa-exclusions")
    for uid in ("ann", "bob"):
        row = t.enforcement(uid)
        assert row["enforced"] == "unknown" and "mfa-exclusions" in row["reason"], row.to_dict()
        assert "could not be read" in row["reason"]
    flagged = _exclusions(flags=True).group_failed("mfa-exclusions")
    assert flagged.enforcement("bob")["enforced"] == "yes"
    assert flagged.enforcement("ann")["enforced"] == "no"  # Google itself reports 2SV not enforced


def test_group_membership_section_missing_is_unknown_for_users_a_group_policy_may_reach() -> None:
    t = _exclusions(flags=False).fail("groupMembers", "forbidden", "grant admin.directory.group.readonly")
    row = t.enforcement("bob")
    assert row["enforced"] == "unknown" and "admin.directory.group.readonly" in row["reason"], row.to_dict()


def test_nested_group_members_are_members() -> None:
    """Directory members.list with includeDerivedMembership lists the users of nested groups."""
    t = (MiniGoogle().user("ann").user("bob").group("night-shift", "ann")
         .group("mfa-exclusions", "bob", nested=("night-shift",))
         .policy(ENF, ON, order=12).policy(ENF, OFF, group="mfa-exclusions", order=30))
    assert t.enforcement("ann")["enforced"] == "no" and t.enforcement("bob")["enforced"] == "no"


def test_the_whole_account_as_a_member_puts_everyone_in_the_group() -> None:
    t = MiniGoogle().user("ann").user("bob").policy(ENF, ON, order=12).policy(ENF, OFF, group="everyone", order=30)
    t.group("everyone")
    t.members["everyone"] = [{"kind": "admin#directory#member", "id": "C01", "type": "CUSTOMER", "role": "MEMBER",
                              "status": "ACTIVE"}]
    assert {t.enforcement(u)["enforced"] for u in ("ann", "bob")} == {"no"}


@pytest.mark.parametrize(("ou_value", "group_value", "want"), [
    (ON, OFF, "no"),   # a group turning 2SV off beats the child OU that enforces it
    (OFF, ON, "yes"),  # and a group enforcing it beats the child OU that turns it off
])
def test_a_group_setting_overrides_the_users_child_ou(ou_value: dict, group_value: dict, want: str) -> None:
    """Google: "A user's group settings always override their organizational unit's settings" — also a child OU's
    (the issue's reading, child OU over group, is not what Google's help says)."""
    t = (MiniGoogle().user("ann", ou="/Clinical/Nursing").group("nurses", "ann")
         .policy(ENF, OFF, order=5).policy(ENF, ou_value, ou="/Clinical/Nursing", order=20)
         .policy(ENF, group_value, group="nurses", order=30))
    assert t.enforcement("ann")["enforced"] == want


def test_between_two_groups_the_highest_sort_order_wins() -> None:
    t = (MiniGoogle().user("ann").group("a", "ann").group("b", "ann")
         .policy(ENF, OFF, order=5).policy(ENF, ON, group="a", order=31).policy(ENF, OFF, group="b", order=30))
    assert t.enforcement("ann")["enforced"] == "yes"
    t2 = (MiniGoogle().user("ann").group("a", "ann").group("b", "ann")
          .policy(ENF, OFF, order=5).policy(ENF, ON, group="a", order=30).policy(ENF, OFF, group="b", order=31))
    assert t2.enforcement("ann")["enforced"] == "no"


# ---- admin roles held through a group (issue 15 item 5, Google part) -----------------------------------------------

FACTORS = "security.two_step_verification_enforcement_factor"


def _helpdesk() -> MiniGoogle:
    return (MiniGoogle().user("root", admin=True).assign("91", "root").user("carol").user("dan")
            .group("it-helpdesk", "carol").assign("92", "it-helpdesk", group=True)
            .policy(FACTORS, {"allowedSignInFactorSet": "NO_TELEPHONY"}, order=3))


def test_a_role_held_through_a_group_is_held_by_its_members() -> None:
    """Before: the group assignment was skipped and role_assignments said ok: carol, a Help Desk admin, was in no
    privileged-admin check."""
    t = _helpdesk()
    roles = t.data().tables["role_assignments"]
    mine = roles[roles["user_id"] == "carol"]
    assert len(mine) == 1 and "it-helpdesk@clinic.org" in mine.iloc[0]["via_group"], roles
    assert mine.iloc[0]["privileged"]
    assert t.verdict("IDA-AUTH-003", "carol") == "fail"
    assert "dan" not in set(roles["user_id"])


def test_a_role_held_through_a_group_whose_members_were_not_read_is_unknown() -> None:
    t = _helpdesk().group_failed("it-helpdesk")
    data = t.data()
    st = data.status["role_assignments"]
    assert st.availability.value == "partial" and "it-helpdesk" in st.reason, st
    f = t.findings("IDA-AUTH-003")
    whole = f[f["subject_id"] == "*"]
    assert len(whole) == 1 and whole.iloc[0]["status"] == "unknown", f[["subject_id", "status"]]
    assert "it-helpdesk" in whole.iloc[0]["evidence"]


# ---- risky tenant settings in every OU and every group policy (issue 16 item 9) ----------------------------------

IMAP, POP = "gmail.imap_access", "gmail.pop_access"


def _mail_basics() -> MiniGoogle:
    """Root OU: forwarding, IMAP, POP and delegation off; third-party apps blocked; less secure apps off; no SMS
    codes; no trusted devices. Every check below passes on this tenant before the one change each case makes."""
    return (MiniGoogle().user("ann", ou="/Clinical").user("bob", ou="/Front Desk").group("billing", "bob")
            .policy("gmail.auto_forwarding", {"enableAutoForwarding": False}, order=10)
            .policy(IMAP, {"enableImapAccess": False}, order=10).policy(POP, {"enablePopAccess": False}, order=10)
            .policy("gmail.mail_delegation", {"enableMailDelegation": False}, order=10)
            .policy(APPS, {"accessLevel": "BLOCK_ALL_SCOPES"}, order=10)
            .policy("security.less_secure_apps", {"allowLessSecureApps": False}, order=10)
            .policy(FACTORS, {"allowedSignInFactorSet": "NO_TELEPHONY"}, order=10)
            .policy("security.two_step_verification_device_trust", {"allowTrustingDevice": False}, order=10))


RISKY = [  # check, the change, what the finding must name; before the fix every one of these passed
    ("IDA-MAIL-004", dict(setting="gmail.auto_forwarding", value={"enableAutoForwarding": True}, group="billing"),
     "billing@clinic.org (billing) (1 member)"),
    ("IDA-MAIL-007", dict(setting=IMAP, value={"enableImapAccess": True}, ou="/Clinical"), "/Clinical"),
    ("IDA-MAIL-007", dict(setting=POP, value={"enablePopAccess": True}, group="billing"), "billing@clinic.org"),
    ("IDA-MAIL-006", dict(setting="gmail.mail_delegation", value={"enableMailDelegation": True},
                          ou="/Clinical/Nursing"), "/Clinical/Nursing"),
    ("IDA-APPS-001", dict(setting=APPS, value={"accessLevel": "UNSPECIFIED_UBER_BLOCK"}, ou="/Front Desk"),
     "/Front Desk"),
    ("IDA-AUTH-010", dict(setting="security.less_secure_apps", value={"allowLessSecureApps": True},
                          group="billing"), "billing@clinic.org"),
    ("IDA-AUTH-008", dict(setting=FACTORS, value={"allowedSignInFactorSet": "ALL"}, group="billing"),
     "billing@clinic.org"),
    ("IDA-AUTH-009", dict(setting="security.two_step_verification_device_trust", value={"allowTrustingDevice": True},
                          ou="/Clinical"), "/Clinical"),
]


@pytest.mark.parametrize(("check", "change", "named"), RISKY, ids=[f"{c}-{x.get('ou') or x.get('group')}"
                                                                    for c, x, _ in RISKY])
def test_a_risky_value_in_a_child_ou_or_a_group_policy_fails(check: str, change: dict, named: str) -> None:
    assert _mail_basics().verdict(check) == "pass", _mail_basics().evidence(check)
    t = _mail_basics().policy(change["setting"], change["value"], ou=change.get("ou", "/"),
                              group=change.get("group", ""), order=30)
    assert t.verdict(check) == "fail", t.evidence(check)
    assert named in t.evidence(check)


def test_a_child_ou_that_turns_the_risk_off_is_not_named() -> None:
    t = (_mail_basics().policy(IMAP, {"enableImapAccess": True}, order=11)
         .policy(IMAP, {"enableImapAccess": False}, ou="/Clinical", order=20))
    text = t.evidence("IDA-MAIL-007")
    assert t.verdict("IDA-MAIL-007") == "fail" and "/Front Desk" in text and "/Clinical" not in text.split("group")[0]


def test_a_setting_no_policy_and_no_default_decides_is_unknown() -> None:
    """IMAP and POP have no documented default: without a root policy the OUs cannot be judged."""
    t = MiniGoogle().user("ann").policy(POP, {"enablePopAccess": False}, order=10)
    assert t.verdict("IDA-MAIL-007") == "unknown"
    assert "no gmail.imap_access policy" in t.evidence("IDA-MAIL-007")


# ---- the demo tenant shows what the per-OU / per-group reading catches ------------------------------------------

def test_the_demo_tenant_shows_a_group_policy_and_a_child_ou_override(tmp_path: Path) -> None:
    """IMAP on for the group 'Legacy Device Accounts' and any third-party app for /Administration/Billing (the root
    blocks both): a root-only reading passed IDA-MAIL-007 and IDA-APPS-001 here. 2SV off for the group 'MFA
    Exclusions' (its nested group included) leaves those members unenforced."""
    org = build_organisation(users=60, seed=11)
    f = audit_snapshot(render_google_snapshot(org, tmp_path / "demo")).findings
    tenant = f[f["subject_id"] == "tenant"].set_index("check_id")
    assert tenant.loc["IDA-MAIL-007", "status"] == "fail"
    assert "group policy for legacydevices@" in tenant.loc["IDA-MAIL-007", "evidence"]
    assert tenant.loc["IDA-APPS-001", "status"] == "fail"
    assert "/Administration/Billing" in tenant.loc["IDA-APPS-001", "evidence"]
    excluded = f[(f["check_id"] == "IDA-AUTH-002") & f["evidence"].astype(str).str.contains("mfaexclusions@")]
    nested = len(org.transitive_member_ids(org.group_named("MFA Exclusions").id))
    assert (excluded["status"] == "fail").all() and 0 < len(excluded) <= nested
