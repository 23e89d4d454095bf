"""User consent from `authorizationPolicy.defaultUserRolePermissions.permissionGrantPoliciesAssigned`: every
Microsoft-documented built-in policy id a tenant can assign to users maps to a verdict (issue 21 item 3). Sources:
Microsoft Learn "Manage app consent policies" (built-in policies; "Microsoft recommended current settings") and
"Configure how users consent to applications"; rules in docs/semantics.md.

- microsoft-user-default-recommended ("Let Microsoft manage your consent settings", the default for new tenants):
  users may consent, for apps from any publisher, to any user-consentable delegated permission except Microsoft's
  list (mail, calendar, chat, all files/sites, EWS/IMAP/POP...). Their own OneDrive (Files.Read / Files.ReadWrite),
  notes and contacts stay open to a consent-phishing app: fail, medium confidence, the open paths named.
- microsoft-user-default-allow-consent-apps (spelled microsoft-user-allow-default-consent-apps in one place of the
  same page): users may consent to six named mail clients for mail permissions only: no path for an unknown app.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from idaudit.core.normalise import normalise
from tests.checkkit import Tenant, run, status
from tests.ms_raw import raw_tenant
from tests.ms_raw import write_snapshot as snap

SELF = "ManagePermissionGrantsForSelf."
RSC = "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-chat"


@pytest.mark.parametrize(("assigned", "expected"), [
    pytest.param([SELF + "microsoft-user-default-recommended", RSC], "microsoft_managed", id="recommended"),
    pytest.param([SELF + "microsoft-user-default-recommended", SELF + "microsoft-user-default-allow-consent-apps"],
                 "microsoft_managed", id="recommended-with-mail-clients"),
    pytest.param([SELF + "microsoft-user-default-allow-consent-apps"], "mail_clients_only", id="mail-clients"),
    pytest.param([SELF + "microsoft-user-allow-default-consent-apps"], "mail_clients_only",
                 id="mail-clients-other-spelling"),
    pytest.param([SELF + "microsoft-user-default-low", SELF + "microsoft-user-default-allow-consent-apps"],
                 "verified_publishers_low_risk", id="low-with-mail-clients"),
    pytest.param([SELF + "microsoft-user-default-legacy", SELF + "microsoft-user-default-recommended"], "any_app",
                 id="legacy-wins"),
    pytest.param([SELF + "microsoft-company-admin"], "custom:" + SELF + "microsoft-company-admin",
                 id="not-a-user-consent-option-stays-custom"),
])
def test_documented_consent_policy_ids(tmp_path: Path, assigned: list[str], expected: str) -> None:
    raw = raw_tenant()
    raw["authorizationPolicy"]["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"] = assigned
    assert normalise(snap(tmp_path / "s", raw)).setting("user_consent") == expected


def _consent(value: str) -> Tenant:
    return Tenant("microsoft").domains("clinic.org").user("u1", "nurse@clinic.org").setting("user_consent", value)


def test_microsoft_managed_consent_fails_and_names_what_stays_open() -> None:
    findings = run(_consent("microsoft_managed").build(), "IDA-APPS-001")
    assert status(findings, "tenant") == "fail"
    row = findings.iloc[0]
    assert row["confidence"] == "medium"
    assert "Files.ReadWrite" in row["evidence"] and "any publisher" in row["evidence"]


def test_mail_clients_only_consent_passes() -> None:
    findings = run(_consent("mail_clients_only").build(), "IDA-APPS-001")
    assert status(findings, "tenant") == "pass"
    assert "mail clients" in findings.iloc[0]["evidence"]
