"""SharePoint Online application permissions (sharePointAppRoleAssignments): Sites.*.All as an application
permission opens every site and file with no user present (IDA-APPS-004); not collected -> unknown, never a pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from idaudit.core.normalise import normalise
from idaudit.core.snapshot import SectionStatus
from idaudit.core.tables import Availability
from tests.checkkit import run, status
from tests.ms_raw import APP_SP, MICROSOFT, raw_tenant
from tests.ms_raw import write_snapshot as snap

SP_RESOURCE = "cccccccc-0000-4000-8000-0000000000f5"
FULL_CONTROL = "dddddddd-0000-4000-8000-000000000001"


def _raw() -> dict[str, Any]:
    raw = raw_tenant()
    raw["servicePrincipals"].append(
        {"id": SP_RESOURCE, "appId": "00000003-0000-0ff1-ce00-000000000000",
         "appDisplayName": "Office 365 SharePoint Online", "appOwnerOrganizationId": MICROSOFT,
         "verifiedPublisher": {"displayName": None, "verifiedPublisherId": None},
         "appRoles": [{"id": FULL_CONTROL, "value": "Sites.FullControl.All", "allowedMemberTypes": ["Application"]}]})
    raw["sharePointAppRoleAssignments"] = {SP_RESOURCE: [
        {"id": "sp1", "principalType": "ServicePrincipal", "principalId": APP_SP, "resourceId": SP_RESOURCE,
         "appRoleId": FULL_CONTROL, "resourceDisplayName": "Office 365 SharePoint Online"}]}
    return raw


def test_sites_full_control_on_sharepoint_fails_application_permission_check(tmp_path: Path) -> None:
    data = normalise(snap(tmp_path / "s", _raw()))
    grants = data.table("oauth_grants")
    row = grants[grants["grant_id"] == "sp1"].iloc[0]
    assert row["scope"] == "Sites.FullControl.All" and row["resource"] == "Office 365 SharePoint Online"
    got = run(data, "IDA-APPS-004")
    app = grants.loc[grants["grant_id"] == "sp1", "app_id"].iloc[0]
    assert status(got, app) == "fail"
    assert "Sites.FullControl.All (full control of every SharePoint site)" in got[got["subject_id"] == app].iloc[0][
        "evidence"]


def test_not_collected_makes_the_application_view_incomplete(tmp_path: Path) -> None:
    data = normalise(snap(tmp_path / "s", _raw(),
                          fail={"sharePointAppRoleAssignments": (SectionStatus.FORBIDDEN, "403 Forbidden")}))
    st = data.status["oauth_grants"]
    assert st.availability == Availability.PARTIAL and "sharePointAppRoleAssignments: forbidden" in st.reason
    assert "Application.Read.All" in st.reason
    got = run(data, "IDA-APPS-004")
    assert "pass" not in set(got.loc[got["subject_id"].isin(["tenant", "*"]), "status"])
