"""Account hygiene checks: accounts nobody watches, guests, shared mailboxes, and how admins are set up.

A departed nurse's account that still signs in, a guest with an admin role, or an admin who reads mail every
day are all ways a phished password turns into patient data leaving quietly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from checks import references as R
from checks.authentication import _labels, _privileged_users
from checks.catalogue import check
from checks.common import (
    FAIL,
    HIGH,
    MEDIUM,
    NOT_APPLICABLE,
    PASS,
    UNKNOWN,
    enabled_mask,
    evaluation_time,
    is_break_glass,
    is_global_admin_role,
    is_guest,
    or_not_applicable,
    setting_or_none,
    tenant_row,
    tri_state,
    unsure_privilege,
)
from idaudit.core.engine import CheckSettings, result_frame
from idaudit.core.model import Provider, Severity, SubjectKind
from idaudit.core.tables import AuditData

MS, GG = Provider.MICROSOFT, Provider.GOOGLE
FAMILY = "accounts"
RESOURCE_MAILBOXES = ("shared", "room", "equipment")


SUCCESS_FIELD = "lastSuccessfulSignInDateTime"  # Microsoft: successes only (interactive or not), since 2023-12-01
ATTEMPT_FIELDS = ("lastSignInDateTime", "lastNonInteractiveSignInDateTime")  # attempts, failed ones included


def _stale_rows(users: pd.DataFrame, settings: CheckSettings, now: pd.Timestamp, days: int,
                what: str) -> pd.DataFrame:
    """Vectorised staleness: no successful sign-in for `days`, or never signed in and older than `days`.

    The evidence names the field that decided (users.sign_in_source). A Microsoft attempt field counts failed
    attempts too, so a recent one proves nothing (password spraying looks the same): unknown, never pass."""
    known = users["sign_in_known"].fillna(False).astype(bool)
    last = users["last_sign_in"]
    created = users["created_at"]
    source = users["sign_in_source"].fillna("").astype(str)
    attempt = users["last_sign_in_attempt"]
    success_field = source == SUCCESS_FIELD
    attempts_only = source.isin(ATTEMPT_FIELDS)
    idle = (now - last).dt.days
    age = (now - created).dt.days
    never = last.isna()
    bg = is_break_glass(users, settings)
    resource = users["mailbox"].str.casefold().isin(RESOURCE_MAILBOXES)
    last_txt = last.dt.strftime("%Y-%m-%d").fillna("")
    created_txt = created.dt.strftime("%Y-%m-%d").fillna("")
    idle_txt = idle.astype("Int64").astype(str)
    age_txt = age.astype("Int64").astype(str)
    field = pd.Series(np.where(source != "", "; " + source, ""), index=users.index).astype(str)
    seen = pd.Series(np.where(success_field, "last successful sign-in ", "last sign-in "), index=users.index).astype(str)
    attempt_txt = attempt.dt.strftime("%Y-%m-%d").fillna("")
    tried = pd.Series(np.where(success_field & attempt.notna(), "; last sign-in attempt " + attempt_txt
                               + " (failed attempts count there)", ""), index=users.index).astype(str)
    none_yet = pd.Series(np.where(success_field, "no successful sign-in recorded (lastSuccessfulSignInDateTime is "
                                  "empty: none since 2023-12-01, when Microsoft began recording it)",
                                  "never signed in"), index=users.index).astype(str)
    conds = [
        bg, resource, ~known,
        ~never & (idle > days), attempts_only & ~never, ~never,
        never & created.isna(), never & (age > days), never,
    ]
    statuses = [NOT_APPLICABLE, NOT_APPLICABLE, UNKNOWN, FAIL, UNKNOWN, PASS, FAIL, FAIL, PASS]
    texts = [
        pd.Series("break-glass account (audit.break_glass): rarely used by design; monitor its sign-ins instead",
                  index=users.index),
        "resource mailbox (" + users["mailbox"] + "): no interactive sign-in expected, see IDA-ACCT-007",
        pd.Series("last sign-in not collected for this account (sign-in activity needs Entra ID P1 and "
                  "AuditLog.Read.All, or Google lastLoginTime)", index=users.index),
        f"{what}: " + pd.Series(np.where(attempts_only, "no sign-in attempt at all since ", seen),
                                 index=users.index).astype(str) + last_txt + " (" + idle_txt + f" days ago, limit {days}" + field + ")",
        "last sign-in attempt " + last_txt + " (" + idle_txt + " days ago" + field + "), but Graph returned no "
        "lastSuccessfulSignInDateTime and attempts are recorded successful or not (password spraying looks the "
        "same)",
        seen + last_txt + " (" + idle_txt + " days ago" + field + ")",
        f"{what}: " + none_yet + " and the creation date was not collected" + tried,
        f"{what}: " + none_yet + ", created " + created_txt + " (" + age_txt + " days ago)" + tried,
        none_yet.str.replace("never signed in", "never signed in yet", regex=False) + ", created " + created_txt
        + " (" + age_txt + f" days ago, within {days} days)" + tried,
    ]
    status = np.select(conds, statuses, UNKNOWN)
    evidence = np.select(conds, texts, "sign-in data incomplete")
    confidence = np.where(never & created.isna() & known & ~bg & ~resource, MEDIUM, HIGH)
    return pd.DataFrame({"subject_id": users["user_id"], "subject": _labels(users), "status": status,
                         "evidence": evidence, "confidence": confidence})


@check(
    id="IDA-ACCT-001", title="Enabled account with no recent sign-in (stale; default 90 days)", severity=Severity.HIGH,
    rationale="""Accounts of departed or long-absent staff are the quietest way in: nobody notices an MFA prompt, a
    new inbox rule or a forwarding address on a mailbox nobody reads. A password reused from a breached site
    opens it and the attacker can read and forward patient mail for months.""",
    remediation="""Confirm with HR whether the person still works here; if not, block sign-in, reset the
    password, revoke sessions and convert or remove the mailbox per your retention policy.""",
    steps={MS: """Entra admin centre > Users > (user) > Edit properties > Account enabled: off; PowerShell:
           `Update-MgUser -UserId <upn> -AccountEnabled:$false; Revoke-MgUserSignInSession -UserId <upn>`.""",
           GG: """Admin console > Directory > Users > (user) > Suspend user; `gam update user <email>
           suspended on`."""},
    references=(R.HIPAA_TERMINATION, R.HIPAA_INFO_ACCESS, R.HIPAA_REVIEW, R.CPG_REVOKE, R.T_VALID_CLOUD),
    providers=(MS, GG), requires=("users",), subject_kind=SubjectKind.USER, family=FAMILY,
    owner_role="HR + IT manager", uses_settings=(),
)
def stale_member_accounts(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    users = data.table("users")
    members = users[enabled_mask(users) & ~is_guest(users)]
    return result_frame(or_not_applicable(
        _stale_rows(members, settings, evaluation_time(data, settings), settings.stale_days, "stale"),
        "no enabled member accounts in the directory"))


@check(
    id="IDA-ACCT-002", title="Global Administrator / super admin count outside the allowed range",
    severity=Severity.MEDIUM,
    rationale="""Every Global Administrator (Google: super admin) can read any mailbox, add forwarding or consent
    to an app for the whole organisation; the more there are, the more phishing targets hold the keys. Fewer than
    two means one lost phone locks you out of your own tenant during an incident.""",
    remediation="""Keep between the configured minimum and maximum (default 2–4, including break-glass
    accounts): move day-to-day administrators to narrower roles.""",
    steps={MS: """Narrower roles: Exchange / User / Helpdesk Administrator. Entra admin centre > Roles &
           admins > Global Administrator > Assignments; PowerShell: `Get-MgDirectoryRoleMember
           -DirectoryRoleId <id>`, `Remove-MgRoleManagementDirectoryRoleAssignment`.""",
           GG: """Admin console > Account > Admin roles > Super Admin > Admins; `gam print admins role "Super
           Admin"`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.CPG_SEPARATE, R.CIS_M365_GA_COUNT, R.SCUBA_GA_COUNT,
                R.SCUBA_GWS_SUPER_ADMINS, R.T_CLOUD_ROLES),
    providers=(MS, GG), requires=("users", "role_assignments"), subject_kind=SubjectKind.TENANT, family=FAMILY,
    owner_role="leadership + IT manager",
    # Google: a delegated admin whose role list failed is no super admin (users.isAdmin always names those)
    lookup_tables=("role_assignments",),
)
def global_admin_count(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    roles = data.table("role_assignments")
    users = data.table("users")
    ga = roles[is_global_admin_role(roles)]
    enabled_ids = set(users.loc[enabled_mask(users), "user_id"])
    holders = sorted(set(ga["user_id"]) & enabled_ids)
    labels = dict(zip(users["user_id"], _labels(users), strict=True))
    bg_ids = set(users.loc[is_break_glass(users, settings), "user_id"])
    eligible_only = set(ga["user_id"]) - set(ga.loc[ga["assignment"].str.casefold() != "eligible", "user_id"])
    names = [labels.get(u, u) + (" (break-glass)" if u in bg_ids else "")
             + (" (PIM-eligible)" if u in eligible_only else "") for u in holders]
    n = len(holders)
    lo, hi = settings.global_admin_min, settings.global_admin_max
    listing = ", ".join(names[:12]) + (f" and {n - 12} more" if n > 12 else "")
    text = f"{n} enabled account(s) hold Global Administrator / super admin (allowed {lo}–{hi})" \
        + (f": {listing}" if n else "")
    status = PASS if lo <= n <= hi else FAIL
    return result_frame([tenant_row(status, text)])


@check(
    id="IDA-ACCT-003", title="Guest account with no recent sign-in (default 90 days)", severity=Severity.MEDIUM,
    rationale="""A guest invited for one project keeps access to the Teams, SharePoint sites and shared mailboxes it
    was given long after the project ends. Nobody at your organisation notices when its home account is
    compromised and used to pull shared patient files.""",
    remediation="""Remove guests that no longer need access and set up recurring access reviews.""",
    steps={MS: """Entra admin centre > Users > filter User type = Guest > Delete; PowerShell: `Remove-MgUser
           -UserId <id>`; Entra ID Governance > Access reviews > New access review (guests)."""},
    references=(R.HIPAA_TERMINATION, R.HIPAA_INFO_ACCESS, R.CPG_REVOKE, R.CIS_M365_GUEST_REVIEW, R.T_VALID_CLOUD),
    providers=(MS,), requires=("users",), subject_kind=SubjectKind.USER, family=FAMILY,
)
def stale_guest_accounts(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    users = data.table("users")
    guests = users[enabled_mask(users) & is_guest(users)]
    if guests.empty:
        return result_frame([tenant_row(NOT_APPLICABLE, "no enabled guest accounts")])
    return result_frame(_stale_rows(guests, settings, evaluation_time(data, settings), settings.guest_stale_days,
                                    "stale guest"))


@check(
    id="IDA-ACCT-004", title="Guest account holds a directory role", severity=Severity.HIGH,
    rationale="""A guest's password, MFA and offboarding are controlled by another organisation. Giving it an admin
    or directory role means a compromise you cannot see or stop can read mailboxes, change forwarding, or grant
    apps access to your patient data.""",
    remediation="""Remove the role from the guest; if the person needs admin access, give them a member
    account you control, with phishing-resistant MFA.""",
    steps={MS: """Entra admin centre > Roles & admins > (role) > Assignments > Remove; PowerShell:
           `Remove-MgRoleManagementDirectoryRoleAssignment -UnifiedRoleAssignmentId <id>`."""},
    references=(R.HIPAA_ACCESS, R.HIPAA_INFO_ACCESS, R.CPG_SEPARATE, R.T_CLOUD_ROLES, R.T_VALID_CLOUD),
    providers=(MS,), requires=("users", "role_assignments"), subject_kind=SubjectKind.USER, family=FAMILY,
    provenance="role",
)
def guest_with_role(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    users = data.table("users")
    guests = users[enabled_mask(users) & is_guest(users)]
    if guests.empty:
        return result_frame([tenant_row(NOT_APPLICABLE, "no enabled guest accounts")])
    roles = data.table("role_assignments")
    held = roles[roles["user_id"].isin(guests["user_id"])].copy()
    held["label"] = held["role_name"].where(held["role_name"] != "", held["role_id"]) \
        + np.where(held["assignment"].str.casefold() == "eligible", " (PIM-eligible)", "")
    summary = held.groupby("user_id")["label"].agg(lambda s: ", ".join(sorted(set(s))))
    roles_of = guests["user_id"].map(summary).astype(object)
    has = roles_of.notna()
    # "holds no role" is a claim about every role holder: it cannot stand on a role table that is incomplete
    # without naming whom it misses (e.g. PIM eligibilities unreadable) — then the guest is unknown, not a pass.
    st = data.status.get("role_assignments")
    gap = st.reason if st is not None and st.availability == "partial" and not st.missing_subjects else ""
    none_text = f"no directory role in the data collected, but role_assignments is incomplete: {gap}" if gap \
        else "guest holds no directory role"
    return result_frame(pd.DataFrame({
        "subject_id": guests["user_id"], "subject": _labels(guests),
        "status": np.where(has, FAIL, UNKNOWN if gap else PASS),
        "evidence": np.where(has, "guest holds: " + roles_of.fillna(""), none_text),
    }))


def _setting_row(data: AuditData, key: str, bad: dict[str, str], good_text: str) -> pd.DataFrame:
    value, why = setting_or_none(data, key)
    if value is None:
        return result_frame([tenant_row(UNKNOWN, f"setting {key} not collected: {why}")])
    for v, text in bad.items():
        if value == v.casefold():
            return result_frame([tenant_row(FAIL, f"{text} ({key} = {value})")])
    return result_frame([tenant_row(PASS, f"{good_text} ({key} = {value})")])


@check(
    id="IDA-ACCT-005", title="Anyone, including guests, may invite more guests", severity=Severity.MEDIUM,
    rationale="""When every user and guest can invite outsiders, an attacker holding one phished account invites
    their own external identity, which then keeps access to shared mailboxes, Teams and files after the phished
    password is reset.""",
    remediation="""Let only administrators (and the Guest Inviter role) invite guests.""",
    steps={MS: """Entra admin centre > External Identities > External collaboration settings > Guest invite
           settings > 'Only users assigned to specific admin roles can invite guest users'; Graph: `PATCH
           /policies/authorizationPolicy` with `{"allowInvitesFrom":"adminsAndGuestInviters"}`."""},
    references=(R.HIPAA_INFO_ACCESS, R.HIPAA_ACCESS, R.CIS_M365_GUEST_INVITES, R.SCUBA_GUEST_INVITES,
                R.T_VALID_CLOUD),
    providers=(MS,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("guest_invites_from",),
)
def guest_invites_open(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return _setting_row(data, "guest_invites_from",
                        {"everyone": "every user, including guests, may invite external accounts"},
                        "guest invitations are limited")


@check(
    id="IDA-ACCT-006", title="Guests have the same directory access as members", severity=Severity.MEDIUM,
    rationale="""With member-level access a guest (or whoever phished the guest's home account) can list every user,
    group and mail address in the directory — the target list for the next phishing wave against your staff.""",
    remediation="""Give guests the most limited view of the directory.""",
    steps={MS: """Entra admin centre > External Identities > External collaboration settings > Guest user
           access > 'Guest users have limited access to properties and memberships of directory objects' (or
           the most restrictive option); Graph: `PATCH /policies/authorizationPolicy` with
           `{"guestUserRoleId":"10dae51f-b6af-4016-8d66-8c2a99b929b3"}`."""},
    references=(R.HIPAA_INFO_ACCESS, R.HIPAA_ACCESS, R.CIS_M365_GUEST_ACCESS, R.SCUBA_GUEST_ACCESS,
                R.T_ACCOUNT_DISCOVERY),
    providers=(MS,), requires=("tenant_settings",), subject_kind=SubjectKind.TENANT, family=FAMILY,
    uses_settings=("guest_user_role",),
)
def guest_member_access(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    return _setting_row(data, "guest_user_role",
                        {"member": "guests have the same directory access as members"},
                        "guest directory access is limited")


@check(
    id="IDA-ACCT-007", title="Shared or resource mailbox account with sign-in enabled", severity=Severity.MEDIUM,
    rationale="""A shared mailbox (billing@, referrals@) holds patient mail from many people, and its account has a
    password nobody owns and usually no MFA. If sign-in is enabled, a reset or guessed password opens the whole
    mailbox directly, with no individual user in the audit trail.""",
    remediation="""Block sign-in for every shared, room and equipment mailbox account; people reach the
    mailbox through delegated permissions.""",
    steps={MS: """Microsoft 365 admin centre > Teams & groups > Shared mailboxes > (mailbox) > Block sign-in;
           PowerShell: `Update-MgUser -UserId <id> -AccountEnabled:$false`."""},
    references=(R.HIPAA_UNIQUE_ID, R.HIPAA_ACCESS, R.CPG_UNIQUE, R.CIS_M365_SHARED_MAILBOX, R.T_VALID_CLOUD),
    providers=(MS,), requires=("users",), subject_kind=SubjectKind.MAILBOX, family=FAMILY,
)
def shared_mailbox_sign_in(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    users = data.table("users")
    kind = users["mailbox"].str.casefold()
    resource = users[kind.isin(RESOURCE_MAILBOXES)]
    undecided = users[kind.isin(("unknown", ""))]
    rows = pd.DataFrame({
        "subject_id": resource["user_id"], "subject": _labels(resource),
        "status": np.select([resource["enabled"].isna(), resource["enabled"].fillna(False).astype(bool)],
                            [UNKNOWN, FAIL], PASS),
        "evidence": np.select([resource["enabled"].isna(), resource["enabled"].fillna(False).astype(bool)],
                              ["whether sign-in is blocked was not collected",
                               resource["mailbox"] + " mailbox account can sign in"],
                              resource["mailbox"] + " mailbox account has sign-in blocked"),
    })
    extra = []
    if len(undecided):
        sample = ", ".join(_labels(undecided).head(5))
        extra.append({"subject_id": "*mailbox-type-unknown", "subject": f"({len(undecided)} accounts)",
                      "status": UNKNOWN, "confidence": HIGH,
                      "evidence": f"mailbox type not collected for {len(undecided)} account(s), e.g. {sample}: "
                                  "shared mailboxes among them cannot be checked"})
    if rows.empty and not extra:
        return result_frame([tenant_row(NOT_APPLICABLE, "no shared, room or equipment mailboxes")])
    return result_frame(pd.concat([rows, pd.DataFrame(extra)], ignore_index=True) if extra else rows)


@check(
    id="IDA-ACCT-008", title="Privileged account synced from on-premises Active Directory", severity=Severity.HIGH,
    rationale="""A privileged cloud account synced from on-premises AD can be taken over from the clinic network:
    whoever compromises a domain controller or the sync server resets its password and walks into the cloud
    tenant as an administrator, then into every mailbox.""",
    remediation="""Use separate cloud-only accounts for administration and remove the roles from the synced
    account.""",
    steps={MS: """Create the admin account as …@<tenant>.onmicrosoft.com: Entra admin centre > Users > New
           user (cloud-only) > assign the role; PowerShell: `Get-MgUser -UserId <upn> -Property
           onPremisesSyncEnabled`."""},
    references=(R.HIPAA_ACCESS, R.CPG_SEPARATE, R.CIS_M365_CLOUD_ONLY_ADMINS, R.SCUBA_CLOUD_ONLY, R.T_HYBRID),
    providers=(MS,), requires=("users", "role_assignments"), subject_kind=SubjectKind.USER, family=FAMILY,
    provenance="role",
)
def privileged_synced(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    priv = _privileged_users(data)
    if priv.empty:
        return result_frame([tenant_row(NOT_APPLICABLE, "no enabled account holds a privileged role")])
    users = data.table("users").drop_duplicates("user_id").set_index("user_id")
    synced = tri_state(priv["user_id"].map(users["on_premises_synced"]))
    status = np.select([synced == "yes", synced == "no"], [FAIL, PASS], UNKNOWN)
    evidence = np.select([synced == "yes", synced == "no"],
                         ["holds " + priv["roles"] + "; synced from on-premises AD",
                          "holds " + priv["roles"] + "; cloud-only account"],
                         "holds " + priv["roles"] + "; on-premises sync state not collected")
    status, evidence = unsure_privilege(data, priv, status, evidence)
    return result_frame(pd.DataFrame({
        "subject_id": priv["user_id"], "subject": priv["subject"],
        "status": status, "evidence": evidence}))


@check(
    id="IDA-ACCT-009", title="Privileged account used as a daily mailbox", severity=Severity.MEDIUM,
    rationale="""An administrator who reads mail with the admin account opens phishing with admin rights: one click
    on a consent prompt or a fake sign-in page hands the attacker the whole tenant. Admin work belongs in a
    separate account without a mailbox.""",
    remediation="""Give the person a normal account for mail and a separate admin account without a mailbox.""",
    steps={MS: """Microsoft 365 admin centre > Users > (admin) > Licenses and apps > remove Exchange Online;
           PowerShell: `Set-MgUserLicense -UserId <upn> -RemoveLicenses @(<skuId>) -AddLicenses @()`.""",
           GG: """Turn Gmail off for an admins-only OU: Admin console > Apps > Google Workspace > Gmail >
           Service status."""},
    references=(R.HIPAA_ACCESS, R.CPG_SEPARATE, R.CIS_M365_ADMIN_LICENCE, R.T_PHISH_LINK, R.T_VALID_CLOUD),
    providers=(MS, GG), requires=("users", "role_assignments"), subject_kind=SubjectKind.USER, family=FAMILY,
    provenance="role",
)
def privileged_with_mailbox(data: AuditData, settings: CheckSettings) -> pd.DataFrame:
    priv = _privileged_users(data)
    if priv.empty:
        return result_frame([tenant_row(NOT_APPLICABLE, "no enabled account holds a privileged role")])
    users = data.table("users").drop_duplicates("user_id").set_index("user_id")
    mailbox = priv["user_id"].map(users["mailbox"]).fillna("").astype(str).str.casefold()
    has = mailbox == "user"
    known = mailbox.isin(("user", "none", "shared", "room", "equipment"))
    status = np.select([has, known], [FAIL, PASS], UNKNOWN)
    evidence = np.select([has, known],
                         ["holds " + priv["roles"] + "; the same account has a personal mailbox",
                          "holds " + priv["roles"] + "; no personal mailbox (" + mailbox + ")"],
                         "holds " + priv["roles"] + "; mailbox type not collected")
    status, evidence = unsure_privilege(data, priv, status, evidence)
    return result_frame(pd.DataFrame({
        "subject_id": priv["user_id"], "subject": priv["subject"],
        "status": status, "evidence": evidence}))
