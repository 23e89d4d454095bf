"""Builds the synthetic organisation (build_organisation): its people, groups, apps and policies, from the state
dataclasses in org.py.

One pass, no per-person heavy work, so 100,000 accounts build in a few seconds. Special accounts (break-glass,
administrators, shared mailboxes, service accounts, guests) come first; ordinary staff fill the rest, and planted
problems are drawn from disjoint slices of one shuffled staff order so their counts are exact for a size and seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.activity import with_attacker_sign_ins
from simulator.catalogue import (
    ANSWERING_SERVICE,
    BILLING_VENDOR,
    DEPARTMENTS,
    FIRST_NAMES,
    LAST_NAMES,
    MSP,
    PARTNER_LAB,
)
from simulator.idgen import fixed_uuid, rule_id
from simulator.org import (
    MICROSOFT_FIRST_PARTY_ORG,
    App,
    AppGrant,
    Group,
    InboxRule,
    MailboxForward,
    MfaPolicy,
    Organisation,
    Person,
    RoleHolding,
    RuleActions,
    RuleConditions,
    TenantPolicy,
    TransportRule,
    stable_uuid,
)
from simulator.planted import plant_problems

GRAPH_READ_PERMISSIONS: tuple[str, ...] = (
    "Organization.Read.All", "Domain.Read.All", "User.Read.All", "AuditLog.Read.All",
    "UserAuthenticationMethod.Read.All", "Policy.Read.All", "Policy.Read.AuthenticationMethod",
    "RoleManagement.Read.Directory", "GroupMember.Read.All", "MailboxSettings.Read", "Directory.Read.All",
    "Application.Read.All",
)
# Optional permissions idaudit uses when granted (connectors.microsoft.options.OPTIONAL_PERMISSIONS); the simulated
# auditor app holds them (and the tenant's own app list says so) unless a test withholds them.
OPTIONAL_READ_PERMISSIONS: tuple[str, ...] = ("Mail.ReadBasic.All",)
# The logs the takeover checks read beyond AuditLog.Read.All: Identity Protection and the Purview audit log query.
TAKEOVER_READ_PERMISSIONS: tuple[str, ...] = ("IdentityRiskyUser.Read.All", "IdentityRiskEvent.Read.All",
                                              "AuditLogsQuery-Exchange.Read.All")


_PRIVILEGED_FOR_ADMIN_POLICY = ("Global Administrator", "Privileged Role Administrator", "Security Administrator",
                                "Exchange Administrator", "Helpdesk Administrator", "User Administrator")


@dataclass(frozen=True)
class Built:
    people: tuple[Person, ...]
    groups: tuple[Group, ...]
    apps: tuple[App, ...]
    mfa_policies: tuple[MfaPolicy, ...]
    transport_rules: tuple[TransportRule, ...]
    auditor_app_id: str


class _LocalParts:
    """Unique mailbox local parts: first.last, then first.last2, first.last3 ..."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str) -> str:
        base = re.sub(r"[^a-z0-9.\-]", "", wanted.lower())
        candidate, n = base, 1
        while candidate in self.used:
            n += 1
            candidate = f"{base}{n}"
        self.used.add(candidate)
        return candidate


def _staff_methods(r: float, rng: random.Random) -> tuple[str, ...]:
    """MFA methods of an ordinary staff member who registered (most use authenticator push)."""
    if r < 0.70:
        return ("authenticator_push", "sms") if rng.random() < 0.4 else ("authenticator_push",)
    if r < 0.80:
        return ("sms",)
    if r < 0.87:
        return ("software_otp", "sms")
    if r < 0.94:
        return ("windows_hello", "authenticator_push")
    if r < 0.97:
        return ("authenticator_passwordless", "authenticator_push")
    return ("fido2", "authenticator_push")


_BENIGN_RULES: tuple[tuple[str, RuleConditions, RuleActions], ...] = (
    ("Newsletters", RuleConditions(from_addresses=("news@ascassociation.org",)),
     RuleActions(move_to_folder="Newsletters", stop_processing=True)),
    ("Vendor statements", RuleConditions(subject_contains=("statement",)),
     RuleActions(move_to_folder="Vendors")),
    ("Webinars", RuleConditions(subject_contains=("webinar", "conference")),
     RuleActions(move_to_folder="Archive", mark_as_read=True)),
    ("Schedule updates", RuleConditions(subject_contains=("OR schedule",)),
     RuleActions(move_to_folder="Schedules")),
)


def _apps(rng: random.Random, tenant_id: str, as_of: datetime) -> dict[str, App]:
    def made(days: int) -> datetime:
        return as_of - timedelta(days=days)

    def third(name: str, publisher: str, verified: str, **kw: Any) -> App:
        return App(id=stable_uuid(rng), object_id=stable_uuid(rng), name=name, publisher=publisher,
                   verified_publisher=verified, owner="third_party", owner_org_id=stable_uuid(rng), **kw)

    apps = [
        App(id=stable_uuid(rng), object_id=stable_uuid(rng), name="idaudit (read-only audit)",
            publisher="Riverside Surgery Center", verified_publisher="", owner="own_org", owner_org_id=tenant_id,
            application_permissions=(*(("graph", p) for p in (*GRAPH_READ_PERMISSIONS, *TAKEOVER_READ_PERMISSIONS,
                                                              *OPTIONAL_READ_PERMISSIONS)),
                                     ("exchange", "Exchange.ManageAsApp")), created_at=made(20), planted=("auditor",)),
        App(id="de8bc8b5-d9f9-48b1-a8ad-b748da725064", object_id=stable_uuid(rng), name="Graph Explorer",
            publisher="Microsoft", verified_publisher="", owner="first_party", owner_org_id=MICROSOFT_FIRST_PARTY_ORG,
            user_scopes=("openid", "profile", "User.Read", "Directory.Read.All"), created_at=made(700)),
        App(id="14d82eec-204b-4c2f-b7e8-296a70dab67e", object_id=stable_uuid(rng),
            name="Microsoft Graph Command Line Tools", publisher="Microsoft", verified_publisher="",
            owner="first_party", owner_org_id=MICROSOFT_FIRST_PARTY_ORG,
            user_scopes=("openid", "profile", "offline_access", "User.Read.All", "Directory.ReadWrite.All"),
            created_at=made(400)),
        third("Zoom", "Zoom Video Communications, Inc.", "Zoom Video Communications, Inc.",
              user_scopes=("openid", "profile", "offline_access", "User.Read", "Calendars.ReadWrite"),
              google_scopes=("openid", "https://www.googleapis.com/auth/userinfo.email",
                             "https://www.googleapis.com/auth/calendar"),
              homepage="https://zoom.us", created_at=made(1100)),
        third("DocuSign", "DocuSign, Inc.", "DocuSign, Inc.",
              admin_consent_scopes=("openid", "profile", "offline_access", "User.Read"),
              google_scopes=("openid", "https://www.googleapis.com/auth/userinfo.email",
                             "https://www.googleapis.com/auth/userinfo.profile"),
              homepage="https://www.docusign.com", created_at=made(950)),
        third("Adobe Acrobat", "Adobe Inc.", "Adobe Inc.",
              user_scopes=("openid", "offline_access", "User.Read", "Files.ReadWrite.All"),
              google_scopes=("openid", "https://www.googleapis.com/auth/drive"),
              homepage="https://www.adobe.com", created_at=made(800)),
        third("SecureDocs Viewer", "SecureDocs Viewer", "",
              user_scopes=("openid", "offline_access", "User.Read", "Mail.Read"),
              admin_consent_scopes=("offline_access", "User.Read", "Mail.Read"),
              google_scopes=("openid", "https://www.googleapis.com/auth/userinfo.email", "https://mail.google.com/"),
              homepage="https://securedocs-viewer.app", created_at=made(35),
              planted=("unverified_publisher", "risky_delegated_scopes")),
        third("PatientPay Portal", "PatientPay Portal", "",
              user_scopes=("openid", "profile", "email", "User.Read"),
              google_scopes=("openid", "https://www.googleapis.com/auth/userinfo.email"),
              homepage="https://patientpay-portal.com", created_at=made(300), planted=("unverified_publisher",)),
        third("ArchiveIt Mail Backup", "ArchiveIt Software", "ArchiveIt Software Ltd",
              application_permissions=(("graph", "Mail.Read"), ("graph", "User.Read.All")),
              homepage="https://archiveit-backup.com", created_at=made(500),
              planted=("application_mail_read",)),
        App(id=stable_uuid(rng), object_id=stable_uuid(rng), name="Riverside EHR Connector",
            publisher="Riverside Surgery Center", verified_publisher="", owner="own_org", owner_org_id=tenant_id,
            application_permissions=(("graph", "User.Read.All"),), created_at=made(1300)),
    ]
    out = {a.name: a for a in apps}
    # Added for issue 16 with ids derived from their names (no draw from `rng`, so every earlier id stays put).
    extra = [
        App(id=fixed_uuid(tenant_id, "app", "DocuVault"), object_id=fixed_uuid(tenant_id, "sp", "DocuVault"),
            name="DocuVault Records Sync", publisher="DocuVault Inc.", verified_publisher="DocuVault Inc.",
            owner="third_party", owner_org_id=fixed_uuid("docuvault-tenant"),
            application_permissions=(("sharepoint", "Sites.FullControl.All"),), homepage="https://docuvault.io",
            created_at=made(210), planted=("sharepoint_full_control",)),
        App(id=fixed_uuid(tenant_id, "app", "Scan Helper"), object_id=fixed_uuid(tenant_id, "sp", "Scan Helper"),
            name="Scan Helper", publisher="Riverside Surgery Center", verified_publisher="", owner="own_org",
            owner_org_id=tenant_id, user_scopes=("openid", "offline_access", "User.Read", "Mail.Read"),
            created_at=made(12), planted=("own_org_unverified_mail_app",)),
        # a look-alike of idaudit's own app registration: same display name, another tenant, unverified
        App(id=fixed_uuid(tenant_id, "app", "impostor"), object_id=fixed_uuid(tenant_id, "sp", "impostor"),
            name="idaudit (read-only audit)", publisher="idaudit", verified_publisher="", owner="third_party",
            owner_org_id=fixed_uuid("impostor-tenant"), user_scopes=("openid", "offline_access", "Mail.Read"),
            created_at=made(6), planted=("impostor_named_like_allowed_app",)),
    ]
    out.update({f"{a.name} [{a.planted[0]}]": a for a in extra})
    return out


def build_people(rng: random.Random, *, users: int, domain: str, secondary_domain: str, as_of: datetime,
                 policy: TenantPolicy, tenant_id: str) -> Built:
    full = users >= 40  # below 40 accounts only the essential special accounts exist
    names = _LocalParts()
    group_names = ["Break Glass", "MFA Exclusions", "Legacy Device Accounts", "IT Helpdesk Admins"]
    gid = {n: stable_uuid(rng) for n in group_names}
    dept_gid = {d.name: stable_uuid(rng) for d in DEPARTMENTS}
    dept_by_name = {d.name: d for d in DEPARTMENTS}
    apps = _apps(rng, tenant_id, as_of)
    people: list[Person] = []

    def ago(lo_days: float, hi_days: float) -> datetime:
        return as_of - timedelta(seconds=rng.randint(int(lo_days * 86400), int(hi_days * 86400)))

    def phone() -> str:
        return f"+1 614555{rng.randint(1000, 9999)}"

    def add(first: str, last: str, *, kind: str, dept: str, title: str, local: str = "", dom: str = domain,
            display: str = "", **kw: Any) -> Person:
        kw.setdefault("enabled", True)
        kw.setdefault("created_at", ago(60, 2400))
        kw.setdefault("last_sign_in", ago(0.01, 10))
        kw.setdefault("licensed", True)
        kw.setdefault("mailbox_type", "user")
        kw.setdefault("on_prem_synced", False)
        kw.setdefault("mfa_methods", ())
        kw["has_mailbox"] = kw["mailbox_type"] != "none"
        if "sms" in kw["mfa_methods"]:
            kw.setdefault("mobile_phone", phone())
        groups = list(kw.pop("groups", ()))
        if dept in dept_gid and kind in ("staff", "admin"):
            groups.append(dept_gid[dept])
        ou = dept_by_name[dept].org_unit if dept in dept_by_name else "/"
        p = Person(id=stable_uuid(rng), given_name=first, surname=last, display_name=display or f"{first} {last}",
                   local_part=local or names.take(f"{first}.{last}"), domain=dom, department=dept, title=title,
                   kind=kind, groups=tuple(groups), org_unit=kw.pop("org_unit", ou), **kw)
        people.append(p)
        return p

    def name() -> tuple[str, str]:
        return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)

    ga = RoleHolding.of("Global Administrator")
    it = "Information Technology"
    # --- break-glass: cloud-only, FIDO2 in the safe, excluded from Conditional Access by group "Break Glass"
    for i in (1, 2):
        add("Break Glass", f"0{i}", local=names.take(f"breakglass0{i}"), kind="break_glass", dept=it,
            title="Emergency access account", licensed=False, mailbox_type="none", mfa_methods=("fido2",),
            roles=(ga,), groups=(gid["Break Glass"],), created_at=ago(900, 1200), last_sign_in=ago(20, 45),
            planted=("break_glass",))
    # --- administrators
    f, s = name()
    add(f, s, kind="admin", dept=it, title="IT Manager", mfa_methods=("authenticator_push", "fido2"),
        roles=(ga, RoleHolding.of("Exchange Administrator", "eligible"),
               RoleHolding.of("Privileged Role Administrator", "eligible")), planted=("global_admin",),
        app_grants=(AppGrant(apps["Graph Explorer"].id, apps["Graph Explorer"].user_scopes),))
    f, s = name()
    add(f, s, kind="admin", dept=it, title="Systems Administrator", mfa_methods=("sms",),
        roles=(ga, RoleHolding.of("Exchange Administrator")), planted=("global_admin", "admin_sms_only"),
        app_grants=(AppGrant(apps["Microsoft Graph Command Line Tools"].id,
                             apps["Microsoft Graph Command Line Tools"].user_scopes),))
    if full:
        f, s = name()
        add(f, s, kind="staff", dept="Leadership", title="Administrator", mfa_methods=("authenticator_push",),
            roles=(ga,), planted=("global_admin",))
        add("Northbridge", "IT Admin", local=names.take("msp.admin"), display="Northbridge IT (MSP) Admin",
            kind="admin", dept=it, title="Managed service provider administrator", mfa_methods=("software_otp",),
            roles=(ga, RoleHolding.of("Security Administrator", "eligible")), licensed=False,
            mailbox_type="none", planted=("global_admin",))
        f, s = name()
        add(f, s, local=names.take(f"adm-{f[0]}{s}"), display=f"ADM {f} {s}", kind="admin", dept=it,
            title="Server Administrator (AD)", mfa_methods=("authenticator_push",), roles=(ga,),
            on_prem_synced=True, licensed=False, mailbox_type="none",
            planted=("global_admin", "privileged_on_prem"))
        for _ in range(2):
            f, s = name()
            add(f, s, kind="admin", dept=it, title="IT Support Specialist",
                mfa_methods=("fido2", "windows_hello", "authenticator_push"), groups=(gid["IT Helpdesk Admins"],),
                planted=("helpdesk_phishing_resistant",))
        f, s = name()
        add(f, s, kind="staff", dept="Billing and Revenue Cycle", title="Billing Manager",
            mfa_methods=("authenticator_push",), roles=(RoleHolding.of("Billing Administrator"),))
        f, s = name()
        add(f, s, kind="staff", dept="Quality and Compliance", title="Compliance Officer",
            mfa_methods=("authenticator_push", "software_otp"), roles=(RoleHolding.of("Global Reader"),))
    # --- shared and room mailboxes (no licence; sign-in should be blocked)
    # Front Desk forwards to the after-hours answering service through a mail contact (Exchange ForwardingAddress):
    # the address outside is only visible once the contact is resolved (Get-Recipient, issue 16).
    answering = MailboxForward(f"frontdesk@{ANSWERING_SERVICE}", keep_copy=True,
                               via_recipient="AnswerPoint After-hours")
    front_desk = add("Front", "Desk", local=names.take("frontdesk"), display="Front Desk", kind="shared",
                     dept="Front Desk and Scheduling", title="", enabled=False, licensed=False, mailbox_type="shared",
                     last_sign_in=None, mailbox_forward=answering, planted=("mailbox_forward_contact",))
    if full:
        add("Billing", "Office", local=names.take("billing"), display="Billing Office", kind="shared",
            dept="Billing and Revenue Cycle", title="", enabled=True, licensed=False, mailbox_type="shared",
            last_sign_in=ago(0.5, 6), planted=("shared_sign_in_enabled",))
        add("Surgical", "Scheduling", local=names.take("scheduling"), display="Surgical Scheduling",
            kind="shared", dept="Front Desk and Scheduling", title="", enabled=False, licensed=False,
            mailbox_type="shared", last_sign_in=None,
            mailbox_forward=MailboxForward(front_desk.mail, keep_copy=True, via_recipient=front_desk.local_part),
            planted=("mailbox_forward_internal",))
        add("OR", "Conference Room", local=names.take("conf.or"), display="OR Conference Room", kind="room",
            dept="Leadership", title="", enabled=False, licensed=False, mailbox_type="room", last_sign_in=None)
        # --- service accounts: copier scan-to-email and fax gateway sit in a group nested in "MFA Exclusions"
        for local, disp, title in (("scan2mail", "Scan to Email (Copier)", "Scan-to-email service account"),
                                   ("fax-gateway", "Fax Gateway", "Fax-to-email service account")):
            add(disp, "", local=names.take(local), display=disp, kind="service", dept=it, title=title,
                groups=(gid["Legacy Device Accounts"],), planted=("service_account", "mfa_excluded"))
        add("Backup", "Service", local=names.take("svc-backup"), display="Backup Service", kind="service",
            dept=it, title="Backup service account", licensed=False, mailbox_type="none",
            planted=("service_account",))
    # --- guests from partner organisations (MFA lives in their home tenant)
    guest_domains = (PARTNER_LAB, BILLING_VENDOR, MSP)
    for i in range(max(3, round(users * 0.02)) if full else 1):
        f, s = name()
        gdom = guest_domains[i % len(guest_domains)]
        stale = full and i == 0
        add(f, s, local=names.take(f"{f}.{s}"), dom=gdom, kind="guest", dept="", title="",
            licensed=False, mailbox_type="none",
            created_at=ago(420, 600) if stale else ago(30, 900),
            last_sign_in=ago(250, 380) if stale else ago(1, 60),
            planted=("stale_guest",) if stale else ())
    # --- ordinary staff
    n_staff = users - len(people)
    if n_staff < 1:
        raise ValueError(f"{users} accounts are too few for the special accounts ({len(people)})")
    cum: list[float] = []
    acc = 0.0
    for d in DEPARTMENTS:
        acc += d.share
        cum.append(acc)
    depts = rng.choices(DEPARTMENTS, cum_weights=cum, k=n_staff)
    staff: list[dict[str, Any]] = []
    for d in depts:
        f, s = name()
        methods = _staff_methods(rng.random(), rng)
        kw: dict[str, Any] = {"first": f, "last": s, "dept": d.name, "title": rng.choice(d.titles),
                              "mfa_methods": methods, "planted": [], "rules": [], "grants": []}
        r = rng.random()
        if r < 0.08:
            kw["grants"].append(AppGrant(apps["Zoom"].id, apps["Zoom"].user_scopes))
        elif r < 0.10:
            kw["grants"].append(AppGrant(apps["Adobe Acrobat"].id, apps["Adobe Acrobat"].user_scopes))
        elif r < 0.11:
            kw["grants"].append(AppGrant(apps["PatientPay Portal"].id, apps["PatientPay Portal"].user_scopes))
        if rng.random() < 0.25:
            for j, (rname, cond, act) in enumerate(rng.sample(_BENIGN_RULES, rng.randint(1, 2))):
                kw["rules"].append(InboxRule(rule_id(rng), rname, j + 1, True, cond, act))
        staff.append(kw)
    if full:
        plant_problems(rng, staff, as_of, ago, gid, apps, domain)
    for kw in staff:
        f, s = kw.pop("first"), kw.pop("last")
        rules = kw.pop("rules")
        grants = kw.pop("grants")
        planted = tuple(kw.pop("planted"))
        add(f, s, kind="staff", inbox_rules=tuple(rules), app_grants=tuple(grants), planted=planted, **kw)

    groups = _groups(rng, people, gid, dept_gid, as_of)
    policies = _policies(rng, gid, policy, as_of)
    transport = _transport_rules(rng, policy)
    people = with_attacker_sign_ins(people, as_of)  # no random draw: the organisation is otherwise unchanged
    return Built(people=tuple(people), groups=groups, apps=tuple(apps.values()), mfa_policies=policies,
                 transport_rules=transport, auditor_app_id=apps["idaudit (read-only audit)"].id)


def _groups(rng: random.Random, people: list[Person], gid: dict[str, str], dept_gid: dict[str, str],
            as_of: datetime) -> tuple[Group, ...]:
    members: dict[str, list[str]] = {g: [] for g in (*gid.values(), *dept_gid.values())}
    for p in people:
        for g in p.groups:
            members[g].append(p.id)

    def made() -> datetime:
        return as_of - timedelta(days=rng.randint(200, 2000))

    out = [
        Group(gid["Break Glass"], "Break Glass", "breakglass",
              "Emergency access accounts: excluded from Conditional Access", tuple(members[gid["Break Glass"]]),
              created_at=made()),
        Group(gid["MFA Exclusions"], "MFA Exclusions", "mfaexclusions",
              "Temporary exclusions from the MFA policy (travel, devices)", tuple(members[gid["MFA Exclusions"]]),
              member_group_ids=(gid["Legacy Device Accounts"],), created_at=made()),
        Group(gid["Legacy Device Accounts"], "Legacy Device Accounts", "legacydevices",
              "Copiers and fax gateway that cannot do MFA", tuple(members[gid["Legacy Device Accounts"]]),
              created_at=made()),
        Group(gid["IT Helpdesk Admins"], "IT Helpdesk Admins", "ithelpdeskadmins",
              "Role-assignable group holding Helpdesk Administrator", tuple(members[gid["IT Helpdesk Admins"]]),
              role_assignable=True, roles=(RoleHolding.of("Helpdesk Administrator"),), created_at=made()),
    ]
    for d in DEPARTMENTS:
        g = dept_gid[d.name]
        nick = re.sub(r"[^a-z]", "", d.name.lower())
        out.append(Group(g, d.name, nick, f"{d.name} department", tuple(members[g]), kind="microsoft365",
                         created_at=made()))
    return tuple(out)


def _policies(rng: random.Random, gid: dict[str, str], policy: TenantPolicy, as_of: datetime) -> tuple[MfaPolicy, ...]:
    def made() -> datetime:
        return as_of - timedelta(days=rng.randint(100, 900))

    legacy_state = "enabled" if policy.legacy_auth_block == "enabled" else "report_only"
    return (
        MfaPolicy(stable_uuid(rng), "Require MFA for all users", "enabled", "mfa",
                  exclude_group_ids=(gid["Break Glass"], gid["MFA Exclusions"]), created_at=made()),
        MfaPolicy(stable_uuid(rng), "Block legacy authentication", legacy_state, "block",
                  exclude_group_ids=(gid["Break Glass"],), legacy_clients_only=True, created_at=made()),
        MfaPolicy(stable_uuid(rng), "Require phishing-resistant MFA for administrators", "report_only",
                  "phishing_resistant_mfa", include_all_users=False, include_roles=_PRIVILEGED_FOR_ADMIN_POLICY,
                  exclude_group_ids=(gid["Break Glass"],), created_at=made()),
        MfaPolicy(stable_uuid(rng), "Block sign-ins from outside the United States", "disabled", "block",
                  exclude_group_ids=(gid["Break Glass"],), narrowed_by_location=True, created_at=made()),
    )


def _transport_rules(rng: random.Random, policy: TenantPolicy) -> tuple[TransportRule, ...]:
    rules = [TransportRule(stable_uuid(rng), "External sender warning", 0, True, prepend_subject="[EXTERNAL] ",
                           description="Prepend [EXTERNAL] to the subject of mail from outside the organisation")]
    if policy.transport_bcc:
        rules.append(TransportRule(stable_uuid(rng), "Copy outbound mail to records archive", 1, True,
                                   bcc_to=(policy.transport_bcc,), sent_to_scope="NotInOrganization",
                                   description="Blind-copy every message sent outside to the records vendor"))
    if policy.transport_copies:
        # Caught since issue 16: an added recipient (narrowed to referrals), an incident report that carries the
        # original message; and a rule in test mode (Audit), which takes no action and must not fail.
        rules += [
            TransportRule(stable_uuid(rng), "Copy referrals to billing service", 2, True,
                          add_to=("referrals@medbill-outsource.com",), subject_contains=("referral",),
                          description="Add the outsourced billing service to every message about a referral"),
            TransportRule(stable_uuid(rng), "PHI to personal mail: incident report", 3, True,
                          incident_report_to="phi-reports@compliance-desk.net", sent_to_scope="NotInOrganization",
                          description="Report messages sent outside to the compliance desk, original attached"),
            TransportRule(stable_uuid(rng), "Pilot: copy lab results to new LIS vendor", 4, True,
                          copy_to=("intake@lis-vendor-pilot.com",), subject_contains=("lab result",),
                          mode="Audit", description="Test only: what would be copied to the LIS pilot"),
        ]
    return tuple(rules)


def build_organisation(users: int = 300, seed: int = 7, *, name: str = "Riverside Surgery Center",
                       domain: str = "riversidesurgery.org", secondary_domain: str = "riversidesurgerycenter.com",
                       as_of: datetime | None = None, policy: TenantPolicy | None = None,
                       every_account_licensed_with_mailbox: bool = False) -> Organisation:
    """Build the organisation: `users` accounts in all (staff, admins, guests, mailboxes, service accounts).

    `every_account_licensed_with_mailbox` gives the few accounts built without one (break-glass, service
    accounts, guests, leavers, shared and room mailboxes) a licence and a user mailbox: the collection benchmark's
    tenant, where every per-user mailbox read returns data rather than a cheap 404. Off by default.

    Deterministic for (users, seed, as_of). `as_of` defaults to today 00:00 UTC so sign-in ages stay realistic
    against a real clock while two builds on the same day are identical. 100,000 accounts build in a few seconds.
    """
    if not 10 <= users <= 200_000:
        raise ValueError(f"users must be between 10 and 200000, got {users}")
    if as_of is None:
        now = datetime.now(UTC)
        as_of = datetime(now.year, now.month, now.day, tzinfo=UTC)
    elif as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    policy = policy or TenantPolicy()
    rng = random.Random(f"idaudit-org:{seed}")
    tenant_id = stable_uuid(rng)
    stem = domain.split(".")[0]
    initial_domain = f"{stem}.onmicrosoft.com"
    built = build_people(rng, users=users, domain=domain, secondary_domain=secondary_domain,
                         as_of=as_of, policy=policy, tenant_id=tenant_id)
    people = built.people
    if every_account_licensed_with_mailbox:
        people = tuple(replace(p, licensed=True, has_mailbox=True,
                               mailbox_type="user" if p.mailbox_type == "none" else p.mailbox_type) for p in people)
    org = Organisation(
        name=name, domain=domain, secondary_domains=(secondary_domain,), initial_domain=initial_domain,
        tenant_id=tenant_id, seed=seed, as_of=as_of, created_at=as_of - timedelta(days=6 * 365 + 41),
        people=people, groups=built.groups, apps=built.apps, mfa_policies=built.mfa_policies,
        transport_rules=built.transport_rules, policy=policy, auditor_app_id=built.auditor_app_id,
    )
    return org
