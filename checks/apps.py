"""App checks: OAuth consent is how a phished user hands an attacker's app a token that reads mail for months.

A consented app keeps its refresh token when the password is reset and MFA is re-registered, so these grants
outlive every other remediation. Apps on `audit.allowed_apps` pass after review — matched by app id (Microsoft) or
client id (Google) only, never by display name; an app registered in the tenant itself is judged like any other.
"""

from __future__ import annotations

import pandas as pd

from checks import references as R
from checks.catalogue import check
from checks.common import (
    FAIL,
    HIGH,
    MEDIUM,
    PASS,
    RISKY_SCOPES,
    TENANT_WIDE_APP_SCOPES,
    UNKNOWN,
    google_ou_setting,
    nothing_found_row,
    setting_or_none,
    tenant_row,
    truthy,
)
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.tables import AuditData

MS, GG = Provider.MICROSOFT, Provider.GOOGLE
FAMILY = "apps"


def _allowed(app: pd.DataFrame, settings: CheckSettings) -> bool:
    """On the allow-list by its app id (Microsoft appId / Google client id), never by its display name: anyone can
    register an app named 'DocuSign', and a phished user consents to it just the same."""
    if not settings.allowed_apps:
        return False
    return str(app["app_id"].iloc[0]).casefold() in {a.casefold() for a in settings.allowed_apps}


def _name_only_note(app: pd.DataFrame, settings: CheckSettings) -> str:
    """Evidence for an app whose display name (not its id) is on the allow-list: a look-alike, or a stale entry."""
    name = str(app["app_name"].iloc[0]).casefold()
    if name and name in {a.casefold() for a in settings.allowed_apps}:
        return (f"; audit.allowed_apps names '{app['app_name'].iloc[0]}' by display name only — names are not "
                f"trusted (any app can be registered under any name): allow this app by its id "
                f"{app['app_id'].iloc[0]} after review")
    return ""


OWN_ORG_NOTE = ("; registered in your own organisation, so not trusted automatically (an unverified app that "
                "reads mail is exactly what a phished account registers): allow it by its app id after review")


def _risky(grants: pd.DataFrame, scopes: frozenset[str] | None = None) -> pd.DataFrame:
    wanted = scopes if scopes is not None else frozenset(RISKY_SCOPES)
    return grants[grants["scope"].str.strip().str.casefold().isin(wanted)]


def _scope_text(group: pd.DataFrame) -> str:
    names = sorted(set(group["scope"].str.strip()))
    return ", ".join(f"{s} ({RISKY_SCOPES.get(s.casefold(), 'sensitive')})" for s in names)


def _who(group: pd.DataFrame, labels: dict[str, str]) -> str:
    if (group["consent_scope"] == "all_users").any():
        return "consented for ALL users (admin consent)"
    users = sorted({labels.get(u, u) for u in group["user_id"] if u})
    shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
    return f"consented by {len(users)} user(s): {shown}" if users else "consent scope not recorded"


def _app_label(group: pd.DataFrame) -> str:
    name = str(group["app_name"].iloc[0]) or str(group["app_id"].iloc[0])
    return f"app '{name}'"


def _publisher(group: pd.DataFrame) -> str:
    pub = str(group["publisher"].iloc[0]) or "unknown publisher"
    verified = group["publisher_verified"].iloc[0]
    state = "publisher not verified" if verified is False or (not pd.isna(verified) and not verified) \
        else "verified publisher" if not pd.isna(verified) else "publisher verification not collected"
    owner = {"first_party": "Microsoft / Google first-party", "own_org": "registered in your own organisation",
             "third_party": "third-party"}.get(str(group["app_owner"].iloc[0]), "owner not collected")
    return f"{pub}, {state}, {owner}"


def _no_grant_row(data: AuditData, grants: pd.DataFrame, what: str) -> dict[str, str]:
    return nothing_found_row(data, ("oauth_grants",), f"no {what} ({grants['grant_id'].nunique()} grants examined)")


@check(
    id="IDA-APPS-001", title="Users may consent to apps on their own", severity=Severity.HIGH,
    rationale="""Consent phishing skips the password entirely: a link asks the user to 'allow' an app named like a
    document viewer, and the app receives a token that reads their mail and files — and keeps working after a
    password reset. While ordinary users may consent to any app, one click is all it takes.""",
    remediation="""Allow consent only by administrators (with an admin consent request workflow) or, at most,
    to verified publishers for low-risk permissions.""",
    steps={MS: """Entra admin centre > Enterprise apps > Consent and permissions > User consent settings > 'Do
           not allow user consent'; Graph: `PATCH /policies/authorizationPolicy` with
           defaultUserRolePermissions.permissionGrantPoliciesAssigned [].""",
           GG: """Admin console > Security > Access and data control > API controls > Settings > unconfigured
           third-party apps: 'Don't allow users to access any third-party apps'."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.CPG_VENDOR, R.CIS_M365_USER_CONSENT, R.SCUBA_CONSENT,
                R.SCUBA_GWS_APP_ACCESS, R.T_STEAL_TOKEN),
    providers=(MS, GG), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("user_consent", "google_third_party_apps_ous", "google_third_party_apps_groups",
                   "google_third_party_apps_undecided"),
)
def users_may_consent(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    if data.provider == "google":  # per OU and per group policy, the root value aside
        return result_frame([_google_app_access(data)])
    value, why = setting_or_none(data, "user_consent")
    if value is None:
        return result_frame([tenant_row(UNKNOWN, f"user consent setting not collected: {why}")])
    if value == "any_app":
        return result_frame([tenant_row(FAIL, "ordinary users may consent to any app, from any publisher, for any "
                                              "permission they hold (user_consent = any_app)")])
    if value == "verified_publishers_low_risk":
        return result_frame([tenant_row(PASS, "users may consent only to verified publishers for low-risk "
                                              "permissions; CIS and SCuBA recommend admin-only consent",
                                        MEDIUM)])
    if value == "microsoft_managed":
        return result_frame([tenant_row(FAIL, "users may consent under Microsoft's managed policy "
                                              "(microsoft-user-default-recommended): mail, calendar, chat and "
                                              "all-files permissions need an admin, but an app from any publisher "
                                              "can still be granted the user's own OneDrive (Files.Read, "
                                              "Files.ReadWrite), notes and contacts (user_consent = "
                                              "microsoft_managed)", MEDIUM)])
    if value == "mail_clients_only":
        return result_frame([tenant_row(PASS, "users may consent only to the popular mail clients Microsoft names "
                                              "(Apple Mail, Thunderbird, ...), for mail permissions; any other app "
                                              "needs an admin", MEDIUM)])
    if value == "off":
        return result_frame([tenant_row(PASS, "users cannot consent to apps; administrators decide")])
    return result_frame([tenant_row(UNKNOWN, f"unrecognised user consent setting {value!r}")])


def _google_app_access(data: AuditData) -> dict[str, str]:
    """Google's unconfigured third-party apps setting (api_controls.unconfigured_third_party_apps), for every OU:
    'any app' anywhere fails; sign-in only passes with medium confidence (apps still learn who the user is)."""
    row = google_ou_setting(data, "user_consent", "google_third_party_apps_ous", {"any_app"},
                            "users may give any app access to their Google account (unconfigured third-party "
                            "apps: 'Allow users to access any third-party apps'): an app may be granted any "
                            "scope, Gmail and Drive included,",
                            "users cannot access unconfigured third-party apps; administrators decide")
    root, _ = setting_or_none(data, "user_consent")
    if row["status"] == PASS and root == "sign_in_only":
        row = tenant_row(PASS, "unconfigured third-party apps may only use Sign in with Google (basic profile "
                               "info): they cannot be granted mail or file scopes; " + row["evidence"], MEDIUM)
    return row


@check(
    id="IDA-APPS-002", title="Mail or file access granted to an app from an unverified publisher",
    severity=Severity.HIGH,
    rationale="""Illicit consent grants come from apps whose publisher nobody vouches for: a 'Secure Docs' app with
    Mail.Read holds a refresh token that pulls every message the user receives, invisible in Outlook and untouched
    by a password reset or new MFA method. An app registered in your own tenant is judged the same way: an
    unverified, mail-reading app consented by one user is exactly what a phished account registers. Only an app
    id on audit.allowed_apps exempts an app — a display name proves nothing.""",
    remediation="""If nobody can vouch for the app, revoke the grant and disable the app, then check what it
    read; if the app is legitimate, add its app id to audit.allowed_apps.""",
    steps={MS: """Entra admin centre > Enterprise apps > (app) > Permissions > Review permissions / Properties
           > Enabled for users to sign in: No; what it read: audit log, MailItemsAccessed; PowerShell:
           `Get-MgOauth2PermissionGrant -Filter "clientId eq '<spId>'" | Remove-MgOauth2PermissionGrant;
           Update-MgServicePrincipal -ServicePrincipalId <spId> -AccountEnabled:$false`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.HIPAA_REVIEW, R.CPG_VENDOR, R.CPG_EMAIL, R.SCUBA_CONSENT,
                R.T_STEAL_TOKEN, R.T_APP_TOKEN),
    providers=(MS,), requires=("oauth_grants",), subject_kind=SubjectKind.APP, family=FAMILY,
    owner_role="IT manager + compliance",
    provenance="consent",
)
def unverified_publisher_risky_grant(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    grants = data.table("oauth_grants")
    risky = _risky(grants[grants["grant_kind"] == "delegated"])
    labels = data.user_labels()
    rows: list[dict[str, str]] = []
    for app_id, group in risky.groupby("app_id", sort=True):
        owner = str(group["app_owner"].iloc[0])
        verified = group["publisher_verified"].iloc[0]
        detail = f"{_app_label(group)} ({_publisher(group)}) holds {_scope_text(group)}; {_who(group, labels)}"
        if _allowed(group, settings):
            status, conf, evidence = PASS, HIGH, f"{detail} — on the allow-list (audit.allowed_apps)"
        elif owner == "first_party":
            status, conf, evidence = PASS, HIGH, detail
        elif owner in ("third_party", "own_org") and not pd.isna(verified):
            own = OWN_ORG_NOTE if owner == "own_org" else ""
            status, conf, evidence = (PASS, HIGH, detail) if bool(verified) else \
                (FAIL, HIGH, detail + own + _name_only_note(group, settings))
        else:
            status, conf, evidence = UNKNOWN, HIGH, f"{detail}; publisher or owner not collected"
        rows.append({"subject_id": str(app_id), "subject": _app_label(group), "status": status,
                     "evidence": evidence, "confidence": conf})
    if not risky.shape[0]:
        rows.append(_no_grant_row(data, grants, "app holds a delegated mail or file scope"))
    return result_frame(rows)


@check(
    id="IDA-APPS-003", title="Non-Microsoft app holds mail or file access for all users", severity=Severity.HIGH,
    rationale="""An admin consent ('Consent on behalf of your organisation') gives the app the permission for every
    user at once (apps registered in your own tenant included: they are not trusted automatically). If that app or
    its vendor is compromised, or the consent was phished from an admin, every mailbox or file share is readable
    through one token.""",
    remediation="""Review why the app needs organisation-wide mail or file access; revoke the
    organisation-wide grant or replace it with per-user consent, or document the vendor (BAA) and add its app id
    to audit.allowed_apps.""",
    steps={MS: """Entra admin centre > Enterprise apps > (app) > Permissions > Admin consent > Revoke;
           PowerShell: `Get-MgOauth2PermissionGrant -Filter "clientId eq '<spId>' and consentType eq
           'AllPrincipals'" | Remove-MgOauth2PermissionGrant`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.CPG_VENDOR, R.SCUBA_CONSENT, R.T_STEAL_TOKEN, R.T_APP_TOKEN),
    providers=(MS,), requires=("oauth_grants",), subject_kind=SubjectKind.APP, family=FAMILY,
    owner_role="IT manager + compliance",
    provenance="consent",
)
def tenant_wide_risky_grant(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    grants = data.table("oauth_grants")
    risky = _risky(grants[(grants["grant_kind"] == "delegated") & (grants["consent_scope"] == "all_users")])
    rows: list[dict[str, str]] = []
    for app_id, group in risky.groupby("app_id", sort=True):
        owner = str(group["app_owner"].iloc[0])
        detail = f"{_app_label(group)} ({_publisher(group)}) holds {_scope_text(group)} for ALL users"
        if _allowed(group, settings):
            status, evidence = PASS, f"{detail} — on the allow-list (audit.allowed_apps)"
        elif owner == "first_party":
            status, evidence = PASS, detail
        elif owner in ("third_party", "own_org"):
            own = OWN_ORG_NOTE if owner == "own_org" else ""
            status, evidence = FAIL, detail + own + _name_only_note(group, settings)
        else:
            status, evidence = UNKNOWN, f"{detail}; app owner not collected"
        rows.append({"subject_id": str(app_id), "subject": _app_label(group), "status": status,
                     "evidence": evidence, "confidence": HIGH})
    if not risky.shape[0]:
        rows.append(_no_grant_row(data, grants, "organisation-wide consent to a mail or file scope"))
    return result_frame(rows)


@check(
    id="IDA-APPS-004", title="App permission reads every mailbox or file in the organisation",
    severity=Severity.CRITICAL,
    rationale="""Application permissions such as Mail.Read, full_access_as_app or Files.Read.All work with no user
    present: whoever holds the app's secret or certificate reads every mailbox and file, with no MFA and no
    sign-in to notice. A leaked secret of a forgotten integration is a tenant-wide breach of patient data.""",
    remediation="""Remove the permission unless the app truly needs it; if it does, limit which mailboxes it
    can reach, rotate its credentials, and add it to audit.allowed_apps.""",
    steps={MS: """Limit Exchange access with an application access policy / RBAC for Applications. Entra admin
           centre > Enterprise apps > (app) > Permissions; PowerShell:
           `Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId <spId> |
           Remove-MgServicePrincipalAppRoleAssignment`; Exchange: `New-ApplicationAccessPolicy -AppId <appId>
           -PolicyScopeGroupId <group> -AccessRight RestrictAccess`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.HIPAA_AUDIT, R.CPG_VENDOR, R.T_STEAL_TOKEN, R.T_APP_TOKEN,
                R.T_REMOTE_EMAIL),
    providers=(MS,), requires=("oauth_grants",), subject_kind=SubjectKind.APP, family=FAMILY,
    owner_role="IT manager + compliance",
    provenance="consent",
)
def application_permission_reads_all(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    grants = data.table("oauth_grants")
    wide = _risky(grants[grants["grant_kind"] == "application"], TENANT_WIDE_APP_SCOPES)
    rows: list[dict[str, str]] = []
    for app_id, group in wide.groupby("app_id", sort=True):
        owner = str(group["app_owner"].iloc[0])
        detail = f"{_app_label(group)} ({_publisher(group)}) has application permission {_scope_text(group)}"
        if _allowed(group, settings):
            status, evidence = PASS, f"{detail} — on the allow-list (audit.allowed_apps)"
        elif owner == "first_party":
            status, evidence = PASS, f"{detail} — Microsoft first-party service"
        elif owner in ("own_org", "third_party"):
            status, evidence = FAIL, detail + _name_only_note(group, settings)
        else:
            status, evidence = UNKNOWN, f"{detail}; app owner not collected"
        rows.append({"subject_id": str(app_id), "subject": _app_label(group), "status": status,
                     "evidence": evidence, "confidence": HIGH})
    if not wide.shape[0]:
        rows.append(_no_grant_row(data, grants, "app holds an application permission to all mail or files"))
    return result_frame(rows)


@check(
    id="IDA-APPS-005", title="Google: app not on the allow-list holds Gmail or Drive access", severity=Severity.HIGH,
    rationale="""Any user can authorise a third-party app with Gmail or Drive scopes unless apps are restricted; the
    app's refresh token then reads mail and files until it is revoked, surviving password resets. Consent
    phishing uses exactly this.""",
    remediation="""Revoke the tokens of apps nobody approved and restrict API access to trusted apps; approved
    apps go on audit.allowed_apps.""",
    steps={GG: """Admin console > Security > Access and data control > API controls > Manage third-party app
           access (set to Blocked / Limited); revoke: `gam user <email> deprovision` or `gam user <email>
           delete token clientid <clientId>`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.CPG_VENDOR, R.SCUBA_GWS_APP_ACCESS, R.T_STEAL_TOKEN,
                R.T_APP_TOKEN),
    providers=(GG,), requires=("oauth_grants",), subject_kind=SubjectKind.APP, family=FAMILY,
    owner_role="IT manager + compliance",
    provenance="consent",
)
def google_token_not_allowed(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    grants = data.table("oauth_grants")
    risky = _risky(grants)
    labels = data.user_labels()
    rows: list[dict[str, str]] = []
    for app_id, group in risky.groupby("app_id", sort=True):
        detail = f"{_app_label(group)} (client {app_id}) holds {_scope_text(group)}; {_who(group, labels)}"
        if _allowed(group, settings):
            status, evidence = PASS, f"{detail} — on the allow-list (audit.allowed_apps)"
        elif str(group["app_owner"].iloc[0]) == "first_party":
            status, evidence = PASS, f"{detail} — Google first-party client"
        else:
            status, evidence = FAIL, detail + _name_only_note(group, settings)
        rows.append({"subject_id": str(app_id), "subject": _app_label(group), "status": status,
                     "evidence": evidence, "confidence": HIGH})
    if not risky.shape[0]:
        rows.append(_no_grant_row(data, grants, "app token with a Gmail or Drive scope"))
    return result_frame(rows)


@check(
    id="IDA-APPS-006", title="Google: internal apps trusted automatically", severity=Severity.LOW,
    rationale="""When internal apps are trusted automatically, any Apps Script or project someone in the domain
    publishes gets access to Gmail and Drive data without an admin review — a path for a phished account to plant
    a script that keeps reading mail.""",
    remediation="""Stop trusting every internal app by default; trust reviewed internal apps one by one.""",
    steps={GG: """Admin console > Security > Access and data control > API controls > Settings > uncheck
           'Trust internal apps'. Check with `gam print policies query
           "setting.type.matches('api_controls')"`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.SCUBA_GWS_APP_ACCESS, R.T_STEAL_TOKEN),
    providers=(GG,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("google_internal_apps_trusted",),
)
def google_internal_apps_trusted(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    value, why = setting_or_none(data, "google_internal_apps_trusted")
    state = truthy(value)
    if state is None:
        return result_frame([tenant_row(UNKNOWN, f"setting google_internal_apps_trusted not collected: "
                                                 f"{why or repr(value)}")])
    if state:
        return result_frame([tenant_row(FAIL, "internal apps are trusted without review")])
    return result_frame([tenant_row(PASS, "internal apps are not trusted automatically")])
