"""Google Workspace policy precedence and per-OU settings, rule by rule, on a minimal hand-written tenant
(tests/google_mini.py: raw Policy API / Directory objects through the real normaliser and the real checks).

Each test is one row of docs/semantics.md, section "Google Workspace: policy precedence and per-OU settings";
each one failed before the fix it covers (the verdict before the fix is in the test's docstring).
"""

from __future__ import annotations

import pytest

from tests.google_mini import MiniGoogle

APPS = "api_controls.unconfigured_third_party_apps"


# ---- api_controls.unconfigured_third_party_apps: the real accessLevel values (issue 21 item 1) --------------------

@pytest.mark.parametrize(("level", "want", "said"), [
    ("UNSPECIFIED_UBER_BLOCK", "fail", "any app"),  # before: pass ("BLOCK" read as blocked)
    ("BLOCK_ALL_SCOPES", "pass", "cannot"),
    ("ALLOW_SIGN_IN_SCOPES_ONLY", "pass", "sign in"),
    ("ACCESS_LEVEL_UNSPECIFIED", "unknown", "not understood"),
    ("SOMETHING_NEW", "unknown", "not understood"),
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
    from idaudit.core.normalise.google import THIRD_PARTY_ACCESS
    from simulator import build_organisation
    from simulator.google.models import build_google_tenant

    served = [p["setting"]["value"]["accessLevel"] for p in build_google_tenant(build_organisation(users=30)).policies
              if p["setting"]["type"] == f"settings/{APPS}"]
    assert served and set(served) <= set(THIRD_PARTY_ACCESS), served
