"""The OAuth scopes and app permissions that let an app copy mail or files out, or take over the tenant — as data.

One catalogue, read by the checks (checks/apps.py), the notebook answers (idaudit/api/answers.py) and the
workbook (reports/sheets_people.py), so the three never disagree. Each entry cites where its risk is documented;
docs/semantics.md shows the list, and `python -m checks.docs` prints it into docs/checks.md.

Completeness rules the list follows (issue 16):
- every Read scope listed is listed with its ReadWrite / Manage / FullControl supersets (a superset reads too);
- the legacy mail protocols are listed beside Graph (EAS / EWS / IMAP / POP .AccessAsUser.All);
- full user impersonation (Directory.AccessAsUser.All) and the tenant-takeover permissions are listed:
  Application.ReadWrite.All can add a secret to any app that reads mail, then sign in as it;
- Microsoft names are compared case-insensitively whatever the resource (Graph, Exchange Online, SharePoint
  Online use the same names: Sites.FullControl.All of SharePoint is as wide as Graph's);
- Google's Sheets and Docs scopes sit beside Gmail and Drive: a spreadsheet of patients is a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

GRAPH_PERMISSIONS = "https://learn.microsoft.com/graph/permissions-reference"
ENTRA_CONSENT_REVIEW = "https://learn.microsoft.com/entra/architecture/ops-guide-auth#consent-grants"
AZURE_TIERING = ("https://github.com/emiliensocchi/azure-tiering/blob/main/"
                 "Microsoft%20Graph%20application%20permissions/README.md")
EWS_OAUTH = ("https://learn.microsoft.com/exchange/client-developer/exchange-web-services/"
             "how-to-authenticate-an-ews-application-by-using-oauth")
EXCHANGE_APP_ONLY = "https://learn.microsoft.com/powershell/exchange/app-only-auth-powershell-v2"
ONEDRIVE_PERMISSIONS = "https://learn.microsoft.com/onedrive/developer/rest-api/concepts/permissions_reference"
GMAIL_SCOPES = "https://developers.google.com/gmail/api/auth/scopes"
GOOGLE_RESTRICTED = "https://support.google.com/cloud/answer/13464325"
GOOGLE_DOCS_SCOPES = "https://developers.google.com/docs/api/auth"
GOOGLE_SHEETS_SCOPES = ("https://googleapis.dev/dotnet/Google.Apis.Sheets.v4/latest/api/"
                        "Google.Apis.Sheets.v4.SheetsService.ScopeConstants.html")

GOOGLE_SCOPE_PREFIX = "https://www.googleapis.com/auth/"


@dataclass(frozen=True)
class RiskyScope:
    """One scope or app permission, what it exposes, and where that is documented."""

    name: str
    exposes: str  # what an app holding it can do, in the evidence's words
    source: str
    reads_mail: bool = False  # reads message content or headers (the "which apps read mail" answer)
    every_mailbox_as_app: bool = False  # as an application permission: every mailbox / file / the whole tenant


def _ms(name: str, exposes: str, source: str = GRAPH_PERMISSIONS, *, mail: bool = False,
        wide: bool = True) -> RiskyScope:
    return RiskyScope(name, exposes, source, reads_mail=mail, every_mailbox_as_app=wide)


def _gg(name: str, exposes: str, source: str, *, mail: bool = False) -> RiskyScope:
    return RiskyScope(name, exposes, source, reads_mail=mail)


CATALOGUE: tuple[RiskyScope, ...] = (
    # ---- Microsoft: mail (Graph; Exchange Online uses the same names) -----------------------------------------
    _ms("Mail.Read", "reads mail", mail=True),
    _ms("Mail.ReadBasic", "reads mail headers and bodies' metadata", mail=True),
    _ms("Mail.ReadBasic.All", "reads every mailbox's message metadata", mail=True),
    _ms("Mail.ReadWrite", "reads and changes mail", mail=True),
    _ms("Mail.Read.Shared", "reads mail the user can open, including shared mailboxes", mail=True, wide=False),
    _ms("Mail.ReadBasic.Shared", "reads the message metadata of every mailbox the user can open", mail=True,
        wide=False),
    _ms("Mail.ReadWrite.Shared", "reads and changes mail the user can open, including shared mailboxes",
        mail=True, wide=False),
    _ms("Mail.Send", "sends mail as the user"),
    _ms("Mail.Send.Shared", "sends mail as any mailbox the user can send as", wide=False),
    _ms("MailboxSettings.ReadWrite", "creates forwarding and inbox rules"),
    _ms("MailboxItem.Read.All", "reads every mailbox item", mail=True),
    _ms("MailboxItem.ImportExport.All", "exports every mailbox item", mail=True),
    _ms("EWS.AccessAsUser.All", "full mailbox access through Exchange Web Services", ENTRA_CONSENT_REVIEW,
        mail=True, wide=False),
    _ms("EAS.AccessAsUser.All", "syncs the whole mailbox through Exchange ActiveSync", ENTRA_CONSENT_REVIEW,
        mail=True, wide=False),
    _ms("IMAP.AccessAsUser.All", "reads the mailbox over IMAP", mail=True, wide=False),
    _ms("POP.AccessAsUser.All", "downloads the mailbox over POP", mail=True, wide=False),
    _ms("full_access_as_app", "full access to every mailbox", EWS_OAUTH, mail=True),
    _ms("Exchange.ManageAsApp", "administers Exchange Online", EXCHANGE_APP_ONLY),
    # ---- Microsoft: files, notes, contacts ----------------------------------------------------------------------
    _ms("Files.Read", "reads the user's own OneDrive files", ONEDRIVE_PERMISSIONS, wide=False),
    _ms("Files.ReadWrite", "reads and changes the user's own OneDrive files", ONEDRIVE_PERMISSIONS, wide=False),
    _ms("Files.Read.All", "reads every file the user can open"),
    _ms("Files.ReadWrite.All", "reads and changes every file the user can open"),
    _ms("Sites.Read.All", "reads every SharePoint site"),
    _ms("Sites.ReadWrite.All", "reads and changes every SharePoint site"),
    _ms("Sites.Manage.All", "reads, changes and creates lists in every SharePoint site"),
    _ms("Sites.FullControl.All", "full control of every SharePoint site"),
    _ms("Notes.Read.All", "reads OneNote notebooks"),
    _ms("Notes.ReadWrite.All", "reads and changes OneNote notebooks"),
    _ms("Contacts.Read", "reads contacts (patients, partners)", wide=False),
    _ms("Contacts.ReadWrite", "reads and changes contacts (patients, partners)", wide=False),
    # ---- Microsoft: the whole tenant --------------------------------------------------------------------------
    _ms("Directory.ReadWrite.All", "changes the directory", AZURE_TIERING),
    _ms("Directory.AccessAsUser.All", "acts in the directory with all of the signed-in user's rights",
        ENTRA_CONSENT_REVIEW, wide=False),
    _ms("Application.ReadWrite.All", "adds a secret to any app, including one that reads every mailbox",
        AZURE_TIERING),
    _ms("AppRoleAssignment.ReadWrite.All", "grants itself any permission", AZURE_TIERING),
    _ms("RoleManagement.ReadWrite.Directory", "grants admin roles", AZURE_TIERING),
    _ms("RoleAssignmentSchedule.ReadWrite.Directory", "assigns admin roles through PIM", AZURE_TIERING),
    _ms("RoleEligibilitySchedule.ReadWrite.Directory", "makes anyone eligible for an admin role", AZURE_TIERING),
    _ms("PrivilegedAccess.ReadWrite.AzureADGroup", "adds members to groups that hold admin roles", AZURE_TIERING),
    _ms("PrivilegedAssignmentSchedule.ReadWrite.AzureADGroup", "adds members to groups that hold admin roles",
        AZURE_TIERING),
    _ms("UserAuthenticationMethod.ReadWrite.All", "issues a Temporary Access Pass for any account, admins included",
        AZURE_TIERING),
    _ms("Policy.ReadWrite.PermissionGrant", "lets an app grant itself any permission", AZURE_TIERING),
    # ---- Google Workspace ---------------------------------------------------------------------------------------
    _gg("https://mail.google.com/", "full Gmail access (and IMAP, SMTP, POP)", GOOGLE_RESTRICTED, mail=True),
    _gg(GOOGLE_SCOPE_PREFIX + "gmail.readonly", "reads Gmail", GMAIL_SCOPES, mail=True),
    _gg(GOOGLE_SCOPE_PREFIX + "gmail.modify", "reads and changes Gmail", GMAIL_SCOPES, mail=True),
    _gg(GOOGLE_SCOPE_PREFIX + "gmail.metadata", "reads Gmail headers (who wrote to whom, subjects)", GMAIL_SCOPES,
        mail=True),
    _gg(GOOGLE_SCOPE_PREFIX + "gmail.settings.sharing", "creates Gmail forwarding and delegates", GMAIL_SCOPES),
    _gg(GOOGLE_SCOPE_PREFIX + "drive", "full Google Drive access", GOOGLE_RESTRICTED),
    _gg(GOOGLE_SCOPE_PREFIX + "drive.readonly", "reads all of Google Drive", GOOGLE_RESTRICTED),
    _gg(GOOGLE_SCOPE_PREFIX + "spreadsheets", "reads and changes every Google Sheets spreadsheet",
        GOOGLE_SHEETS_SCOPES),
    _gg(GOOGLE_SCOPE_PREFIX + "spreadsheets.readonly", "reads every Google Sheets spreadsheet", GOOGLE_SHEETS_SCOPES),
    _gg(GOOGLE_SCOPE_PREFIX + "documents", "reads and changes every Google Docs document", GOOGLE_DOCS_SCOPES),
    _gg(GOOGLE_SCOPE_PREFIX + "documents.readonly", "reads every Google Docs document", GOOGLE_DOCS_SCOPES),
)

BY_NAME: Mapping[str, RiskyScope] = {s.name.casefold(): s for s in CATALOGUE}

# casefolded name -> what it exposes
RISKY_SCOPES: Mapping[str, str] = {k: s.exposes for k, s in BY_NAME.items()}
# Application permissions (no user present) that read every mailbox or file, or take over the tenant.
TENANT_WIDE_APP_SCOPES: frozenset[str] = frozenset(
    k for k, s in BY_NAME.items() if s.every_mailbox_as_app and not s.name.startswith("https://"))
MAIL_READING_SCOPES: frozenset[str] = frozenset(k for k, s in BY_NAME.items() if s.reads_mail)


def normalised(scope: str) -> str:
    """The catalogue key of a granted scope: case-folded; a bare Google scope gets its URL prefix back."""
    s = scope.strip().casefold()
    if s.startswith(("gmail.", "drive", "spreadsheets", "documents")) and "://" not in s:
        return GOOGLE_SCOPE_PREFIX + s
    return s


def is_risky(scope: str) -> bool:
    return normalised(scope) in BY_NAME


def reads_mail(scope: str) -> bool:
    return normalised(scope) in MAIL_READING_SCOPES
