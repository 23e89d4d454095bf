"""The risky-scope catalogue (idaudit/core/scopes.py) is data with sources, complete by its own stated rules, and the
one list the checks, the notebook answers and the workbook read."""

from __future__ import annotations

from pathlib import Path

from checks import common
from idaudit.api import answers
from idaudit.core import scopes
from idaudit.core.normalise import normalise
from reports import sheets_people
from tests.checkkit import run
from tests.ms_raw import raw_tenant
from tests.ms_raw import write_snapshot as snap


def test_every_entry_cites_a_public_source() -> None:
    for s in scopes.CATALOGUE:
        assert s.source.startswith("https://"), s.name
        assert s.exposes.strip(), s.name


def test_every_read_scope_has_its_readwrite_superset() -> None:
    names = {s.name.casefold() for s in scopes.CATALOGUE}
    for s in scopes.CATALOGUE:
        n = s.name
        if n.startswith("https://"):
            if n.endswith(".readonly"):  # drive.readonly -> drive; gmail.readonly -> gmail.modify
                full = n[: -len(".readonly")]
                full = full + ".modify" if full.endswith("/gmail") else full
                assert full.casefold() in names, n
            continue
        if ".Read." in n or n.endswith(".Read") or ".ReadBasic" in n:
            superset = n.replace(".ReadBasic.All", ".ReadWrite").replace(".ReadBasic", ".ReadWrite") \
                .replace(".Read.", ".ReadWrite.")
            superset = superset[: -len(".Read")] + ".ReadWrite" if superset.endswith(".Read") else superset
            if n.startswith("MailboxItem."):
                superset = "MailboxItem.ImportExport.All"
            assert superset.casefold() in names, f"{n}: {superset} missing"


def test_issue_16_entries_are_present() -> None:
    for name in ("EAS.AccessAsUser.All", "EWS.AccessAsUser.All", "Directory.AccessAsUser.All",
                 "Application.ReadWrite.All", "Sites.FullControl.All", "Sites.Manage.All",
                 "https://www.googleapis.com/auth/spreadsheets.readonly",
                 "https://www.googleapis.com/auth/documents"):
        assert scopes.is_risky(name), name
    assert "application.readwrite.all" in scopes.TENANT_WIDE_APP_SCOPES
    assert "directory.accessasuser.all" not in scopes.TENANT_WIDE_APP_SCOPES  # delegated only


def test_checks_answers_and_workbook_read_the_same_catalogue() -> None:
    assert dict(common.RISKY_SCOPES) == dict(scopes.RISKY_SCOPES)
    assert common.TENANT_WIDE_APP_SCOPES == scopes.TENANT_WIDE_APP_SCOPES
    assert answers.MAIL_READING_SCOPES == scopes.MAIL_READING_SCOPES
    assert set(scopes.RISKY_SCOPES) == sheets_people.RISKY_SCOPES
    assert answers.is_mail_reading_scope("gmail.readonly")  # bare Google scope names are still recognised
    assert answers.is_mail_reading_scope("EAS.ACCESSASUSER.ALL")


def test_own_files_and_shared_mail_headers_are_risky_delegated_scopes(tmp_path: Path) -> None:
    """Files.Read / Files.ReadWrite read (and change) the signed-in user's own OneDrive — a clinician's patient
    documents — and need no admin consent (OneDrive permissions reference); Mail.ReadBasic.Shared reads the headers of
    every mailbox the user can open. An unverified app holding one of them consented by one user fails IDA-APPS-002
    (before this review it was not even listed: no scope of the catalogue)."""
    for name in ("Files.Read", "Files.ReadWrite", "Mail.ReadBasic.Shared"):
        assert scopes.is_risky(name), name
        assert name.casefold() not in scopes.TENANT_WIDE_APP_SCOPES  # delegated only
    assert scopes.reads_mail("Mail.ReadBasic.Shared") and not scopes.reads_mail("Files.ReadWrite")
    raw = raw_tenant()
    raw["oauth2PermissionGrants"][0]["scope"] = "Files.ReadWrite offline_access User.Read"  # 'Secure Docs Viewer'
    got = run(normalise(snap(tmp_path / "s", raw)), "IDA-APPS-002")
    row = got[got["subject"].astype(str).str.contains("Secure Docs Viewer")]
    assert len(row) == 1 and row.iloc[0]["status"] == "fail", got[["subject", "status", "evidence"]]
    assert "Files.ReadWrite" in str(row.iloc[0]["evidence"])


def test_direct_paths_to_global_admin_are_tenant_takeover_permissions(tmp_path: Path) -> None:
    """Tier-0 application permissions with a direct path to Global Administrator (azure-tiering): a TAP for a
    break-glass account (UserAuthenticationMethod.ReadWrite.All), an active PIM role or role-assignable group
    assignment, an eligibility then activation, a permission grant policy that lets the app grant itself
    RoleManagement.ReadWrite.Directory. Each then reads every mailbox; before this review an app holding one of them
    was not listed by IDA-APPS-004."""
    names = ("UserAuthenticationMethod.ReadWrite.All", "RoleAssignmentSchedule.ReadWrite.Directory",
             "RoleEligibilitySchedule.ReadWrite.Directory", "PrivilegedAccess.ReadWrite.AzureADGroup",
             "PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup", "Policy.ReadWrite.PermissionGrant")
    for name in names:
        assert name.casefold() in scopes.TENANT_WIDE_APP_SCOPES, name
    raw = raw_tenant()
    tap_role = "50483e42-d915-4231-9639-7fdb7fd190e5"
    raw["servicePrincipals"][0]["appRoles"].append(
        {"id": tap_role, "value": "UserAuthenticationMethod.ReadWrite.All", "allowedMemberTypes": ["Application"]})
    raw["appRoleAssignments"][raw["servicePrincipals"][0]["id"]][0]["appRoleId"] = tap_role  # 'Secure Docs Viewer'
    got = run(normalise(snap(tmp_path / "s", raw)), "IDA-APPS-004")
    row = got[got["subject"].astype(str).str.contains("Secure Docs Viewer")]
    assert len(row) == 1 and row.iloc[0]["status"] == "fail", got[["subject", "status", "evidence"]]
