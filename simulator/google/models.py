"""The organisation as Google Workspace sees it: Directory, Gmail settings, Policy API and Reports objects.

Shapes follow the published references (Admin SDK Directory v1 User / OrgUnit / Role / RoleAssignment / Domains /
Token, Gmail v1 AutoForwarding / ForwardingAddress / Filter / Delegate, Cloud Identity v1 Policy, Admin Reports v1
Activity). Everything is rendered once, deterministically, from the provider-neutral organisation; the wire
layer (responses.py) only pages, filters fields and applies errors.

Google has no guest accounts, room mailboxes or PIM eligibility in the Directory: guests and rooms are left out,
eligible-only role holdings are not rendered. A person without a mailbox gets no Gmail service (Gmail answers
400 failedPrecondition "Mail service not enabled").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulator.activity import SPAN_DAYS, home_ip, office_ip
from simulator.google.activities import APPLICATIONS, LazyGoogleActivities
from simulator.google.groups import render_groups
from simulator.google.ids import _digits, _token, iso
from simulator.org import InboxRule, Organisation, Person

EPOCH = "1970-01-01T00:00:00.000Z"  # Directory lastLoginTime of a user who never signed in; 2SV "off"
SETTING_PREFIX = "settings/"

# Microsoft role names of the neutral organisation -> Google system admin roles (roleName, description).
ROLE_MAP: dict[str, tuple[str, str]] = {
    "Global Administrator": ("_SEED_ADMIN_ROLE", "Google Apps Administrator Seed Role"),
    "User Administrator": ("_USER_MANAGEMENT_ADMIN_ROLE", "User Management Administrator"),
    "Helpdesk Administrator": ("_HELP_DESK_ADMIN_ROLE", "Help Desk Administrator"),
    "Exchange Administrator": ("_SERVICES_ADMIN_ROLE", "Services Administrator"),
    "Groups Administrator": ("_GROUPS_ADMIN_ROLE", "Groups Administrator"),
    "Global Reader": ("Read-only auditor", "Custom role: read-only access to the Admin console"),
    "Billing Administrator": ("_RESELLER_ADMIN_ROLE", "Billing and reseller administration"),
}
SYSTEM_ROLES = ("_SEED_ADMIN_ROLE", "_GROUPS_ADMIN_ROLE", "_USER_MANAGEMENT_ADMIN_ROLE", "_HELP_DESK_ADMIN_ROLE",
                "_SERVICES_ADMIN_ROLE", "_RESELLER_ADMIN_ROLE", "_GROUPS_EDITOR_ROLE")


@dataclass(frozen=True)
class OuPolicy:
    """One Policy API policy to render: setting for an OU path (or for the members of a group), with a sort order
    (highest wins per OU; a group's policy overrides its members' OU, as Google documents)."""

    ou: str
    setting: str  # e.g. security.two_step_verification_enforcement
    value: Mapping[str, Any]
    sort_order: float
    kind: str = "ADMIN"  # ADMIN | SYSTEM
    group: str = ""  # a group's display name: the policy applies to its members (nested groups included)


# Gmail safety (issue 17): mostly Google's recommended settings at the root, with the mistakes idaudit must find —
# warnings on untrusted links left off, enhanced pre-delivery scanning turned off for the front desk ("it delays
# appointment mail"), and the copier's relay address on the email allowlist, so its mail skips spam filtering.
GMAIL_SAFETY_POLICIES: tuple[OuPolicy, ...] = (
    OuPolicy("/", "gmail.enhanced_pre_delivery_message_scanning",
             {"enableImprovedSuspiciousContentDetection": True}, 10),
    OuPolicy("/", "gmail.email_attachment_safety",
             {"enableEncryptedAttachmentProtection": True, "encryptedAttachmentProtectionConsequence": "WARNING",
              "enableAttachmentWithScriptsProtection": True,
              "attachmentWithScriptsProtectionConsequence": "SPAM_FOLDER",
              "enableAnomalousAttachmentProtection": True, "anomalousAttachmentProtectionConsequence": "SPAM_FOLDER",
              "applyFutureRecommendedSettingsAutomatically": True}, 10),
    OuPolicy("/", "gmail.links_and_external_images",
             {"enableShortenerScanning": True, "enableExternalImageScanning": True,
              "enableAggressiveWarningsOnUntrustedLinks": False, "applyFutureSettingsAutomatically": False}, 10),
    OuPolicy("/", "gmail.spoofing_and_authentication",
             {"detectDomainNameSpoofing": True, "domainNameSpoofingConsequence": "SPAM_FOLDER",
              "detectEmployeeNameSpoofing": True, "employeeNameSpoofingConsequence": "SPAM_FOLDER",
              "detectDomainSpoofingFromUnauthenticatedSenders": True, "domainSpoofingConsequence": "SPAM_FOLDER",
              "detectUnauthenticatedEmails": True, "unauthenticatedEmailConsequence": "WARNING",
              "detectGroupsSpoofing": True, "groupsSpoofingConsequence": "SPAM_FOLDER",
              "applyFutureSettingsAutomatically": True}, 10),
    OuPolicy("/", "gmail.email_spam_filter_ip_allowlist", {"allowedIpAddresses": ["203.0.113.25"]}, 10),
    OuPolicy("/Administration/Front Desk", "gmail.enhanced_pre_delivery_message_scanning",
             {"enableImprovedSuspiciousContentDetection": False}, 25),
)


def default_policies(as_of: datetime) -> tuple[OuPolicy, ...]:
    """The demo's Workspace posture: 2SV enforced at the root, with OU exceptions that only a per-OU reading sees.

    - root: 2SV enforced since a year ago (an ADMIN policy outranking the SYSTEM default 1970 = off), any factor
      allowed (SMS/voice too), trusted devices may skip 2SV, 7-day grace period, auto-forwarding on (the
      default), mail delegation on, IMAP and POP off.
    - /Administration/Front Desk: 2SV enforcement turned off ("the front desk shares a PC").
    - /Clinical/Surgery: enforcement scheduled 30 days in the future (not in effect yet).
    - /Administration/IT: security keys / passkeys only; trusted devices not allowed.
    - /Clinical/Sterile Processing: less secure apps allowed (old scanners).
    - unconfigured third-party apps blocked at the root (an ADMIN policy over the SYSTEM default "any app"), but
      /Administration/Billing allows any app again ("the clearinghouse app"): a child-OU override.
    - group "MFA Exclusions" (the copier and fax accounts nested in it included): 2SV enforcement off.
    - group "Legacy Device Accounts": IMAP on (the scanners read a mailbox), while IMAP is off at the root.
    """
    enforced = iso(as_of - timedelta(days=380))
    return (
        OuPolicy("/", "security.two_step_verification_enforcement", {"enforcedFrom": EPOCH}, 1, "SYSTEM"),
        OuPolicy("/", "security.two_step_verification_enforcement", {"enforcedFrom": enforced}, 12),
        OuPolicy("/", "security.two_step_verification_enrollment", {"allowEnrollment": True}, 1, "SYSTEM"),
        OuPolicy("/", "security.two_step_verification_enforcement_factor", {"allowedSignInFactorSet": "ALL"}, 1,
                 "SYSTEM"),
        OuPolicy("/", "security.two_step_verification_grace_period", {"enrollmentGracePeriod": "604800s"}, 10),
        OuPolicy("/", "security.two_step_verification_device_trust", {"allowTrustingDevice": True}, 1, "SYSTEM"),
        OuPolicy("/", "security.less_secure_apps", {"allowLessSecureApps": False}, 1, "SYSTEM"),
        OuPolicy("/", "gmail.auto_forwarding", {"enableAutoForwarding": True}, 1, "SYSTEM"),
        OuPolicy("/", "gmail.mail_delegation", {"enableMailDelegation": True}, 10),
        OuPolicy("/", "gmail.imap_access", {"enableImapAccess": False}, 10),
        OuPolicy("/", "gmail.pop_access", {"enablePopAccess": False}, 10),
        # the Policy API's real value for "Allow users to access any third-party apps" (ScubaGoggles, 10.4 tests)
        OuPolicy("/", "api_controls.unconfigured_third_party_apps",
                 {"accessLevel": "UNSPECIFIED_UBER_BLOCK", "accessLevelUnder18": "UNDERAGE_UBER_BLOCK_UNSPECIFIED"},
                 1, "SYSTEM"),
        OuPolicy("/", "api_controls.unconfigured_third_party_apps", {"accessLevel": "BLOCK_ALL_SCOPES"}, 10),
        OuPolicy("/", "api_controls.internal_apps", {"trustInternalApps": True}, 10),
        OuPolicy("/Administration/Front Desk", "security.two_step_verification_enforcement",
                 {"enforcedFrom": EPOCH}, 20),
        OuPolicy("/Clinical/Surgery", "security.two_step_verification_enforcement",
                 {"enforcedFrom": iso(as_of + timedelta(days=30))}, 21),
        OuPolicy("/Administration/IT", "security.two_step_verification_enforcement_factor",
                 {"allowedSignInFactorSet": "PASSKEY_ONLY"}, 22),
        OuPolicy("/Administration/IT", "security.two_step_verification_device_trust",
                 {"allowTrustingDevice": False}, 23),
        OuPolicy("/Clinical/Sterile Processing", "security.less_secure_apps", {"allowLessSecureApps": True}, 24),
        OuPolicy("/Administration/Billing", "api_controls.unconfigured_third_party_apps",
                 {"accessLevel": "UNSPECIFIED_UBER_BLOCK"}, 25),
        OuPolicy("/", "security.two_step_verification_enforcement", {"enforcedFrom": EPOCH}, 30,
                 group="MFA Exclusions"),
        OuPolicy("/", "gmail.imap_access", {"enableImapAccess": True}, 31, group="Legacy Device Accounts"),
        *GMAIL_SAFETY_POLICIES,
    )


@dataclass
class GoogleTenant:
    """Rendered Workspace state; plain JSON-ready dicts keyed the way the wire layer looks them up."""

    customer_id: str
    primary_domain: str
    as_of: datetime
    users: list[dict[str, Any]] = field(default_factory=list)
    domains: list[dict[str, Any]] = field(default_factory=list)
    orgunits: list[dict[str, Any]] = field(default_factory=list)  # root first
    roles: list[dict[str, Any]] = field(default_factory=list)
    role_assignments: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user id -> tokens
    gmail: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # user id -> settings | None
    policies: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # group id -> Directory Group
    group_members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # group id -> direct members
    activities: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # application -> events
    user_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)  # id / email / alias -> user
    lazy_activities: dict[str, Callable[[], list[dict[str, Any]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def find_user(self, key: str) -> dict[str, Any] | None:
        return self.user_by_key.get(key.casefold())

    def find_group(self, key: str) -> dict[str, Any] | None:
        """A group by id or address (groupKey accepts either)."""
        if key in self.groups:
            return self.groups[key]
        return next((g for g in self.groups.values() if g["email"].casefold() == key.casefold()), None)

    def activities_for(self, app: str) -> list[dict[str, Any]]:
        with self._lock:
            if app not in self.activities and app in self.lazy_activities:
                self.activities[app] = self.lazy_activities[app]()
            return self.activities.get(app, [])


def _ou_tree(org: Organisation, people: list[Person]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    paths = {"/"}
    for p in people:
        parts = [x for x in p.org_unit.split("/") if x]
        paths.update("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))
    ids = {path: "03ph8a2z" + _token(org.seed, "ou", path, n=7) for path in paths}
    out = []
    for path in sorted(paths, key=lambda x: (x.count("/") if x != "/" else 0, x)):
        node: dict[str, Any] = {"kind": "admin#directory#orgUnit", "etag": f'"{_token("etag", path, n=27)}"',
                                "name": org.name if path == "/" else path.rsplit("/", 1)[1],
                                "description": "" if path == "/" else f"{path.rsplit('/', 1)[1]} staff",
                                "orgUnitPath": path, "orgUnitId": f"id:{ids[path]}"}
        if path != "/":
            parent = path.rsplit("/", 1)[0] or "/"
            node.update(parentOrgUnitPath=parent, parentOrgUnitId=f"id:{ids[parent]}", blockInheritance=False)
        out.append(node)
    return out, ids


def _two_sv_in_effect(policies: tuple[OuPolicy, ...], path: str, groups: frozenset[str], as_of: datetime) -> bool:
    """Simulator's own resolution (the normaliser re-derives it from the wire objects independently): the
    highest-sortOrder policy of a group the user is in, else the nearest OU's."""
    mine = [p for p in policies if p.group and p.group in groups
            and p.setting == "security.two_step_verification_enforcement"]
    if mine:
        best = max(mine, key=lambda p: p.sort_order)
        start = datetime.fromisoformat(str(best.value["enforcedFrom"]).replace("Z", "+00:00"))
        return start.year > 1970 and start <= as_of
    node = path
    while True:
        mine = [p for p in policies if p.ou == node and not p.group
                and p.setting == "security.two_step_verification_enforcement"]
        if mine:
            best = max(mine, key=lambda p: p.sort_order)
            start = datetime.fromisoformat(str(best.value["enforcedFrom"]).replace("Z", "+00:00"))
            return start.year > 1970 and start <= as_of
        if node == "/":
            return False
        node = node.rsplit("/", 1)[0] or "/"


def _filter(rule: InboxRule) -> dict[str, Any] | None:
    """An Outlook-style rule as a Gmail filter; disabled rules do not exist in Gmail (no enabled flag)."""
    if not rule.enabled:
        return None
    c, a = rule.conditions, rule.actions
    criteria: dict[str, Any] = {}
    if c.from_addresses:
        criteria["from"] = " OR ".join(c.from_addresses)
    if c.subject_contains:
        criteria["subject"] = " OR ".join(c.subject_contains)
    if c.body_or_subject_contains:
        criteria["query"] = " OR ".join(c.body_or_subject_contains)
    action: dict[str, Any] = {}
    add: list[str] = []
    remove: list[str] = []
    targets = a.forward_to + a.forward_as_attachment_to + a.redirect_to
    if targets:
        action["forward"] = targets[0]  # a Gmail filter forwards to one verified address
    if a.delete or a.permanent_delete:
        add.append("TRASH")
    if a.move_to_folder:
        remove.append("INBOX")
        if a.move_to_folder != "Archive":
            add.append("Label_" + _digits(a.move_to_folder, n=6))
    if a.mark_as_read:
        remove.append("UNREAD")
    if add:
        action["addLabelIds"] = add
    if remove:
        action["removeLabelIds"] = remove
    return {"id": "ANe1Bm" + _token(rule.id, n=26), "criteria": criteria or {"query": "*"}, "action": action}


def _gmail_settings(p: Person, org: Organisation, delegates: list[str]) -> dict[str, Any]:
    filters = [f for f in (_filter(r) for r in sorted(p.inbox_rules, key=lambda r: r.sequence)) if f]
    addresses = {f["action"]["forward"] for f in filters if "forward" in f.get("action", {})}
    auto: dict[str, Any] = {"enabled": False}
    if p.mailbox_forward:
        auto = {"enabled": True, "emailAddress": p.mailbox_forward.address,
                "disposition": "leaveInInbox" if p.mailbox_forward.keep_copy else "trash"}
        addresses.add(p.mailbox_forward.address)
    return {
        "autoForwarding": auto,
        "forwardingAddresses": [{"forwardingEmail": a, "verificationStatus": "accepted"} for a in sorted(addresses)],
        "filters": filters,
        "delegates": [{"delegateEmail": d, "verificationStatus": "accepted"} for d in delegates],
    }


def build_google_tenant(org: Organisation, *, policies: tuple[OuPolicy, ...] | None = None) -> GoogleTenant:
    """Render the organisation into Workspace objects (deterministic for the organisation)."""
    as_of = org.as_of
    customer_id = "C0" + _token(org.seed, org.tenant_id, "customer", n=7)
    policies = policies if policies is not None else default_policies(as_of)
    people = [p for p in org.people if p.kind not in ("guest", "room")]
    t = GoogleTenant(customer_id=customer_id, primary_domain=org.domain, as_of=as_of)
    t.orgunits, ou_ids = _ou_tree(org, people)

    for i, d in enumerate((org.domain, *org.secondary_domains)):
        t.domains.append({"kind": "admin#directory#domain", "etag": f'"{_token("dom", d, n=27)}"',
                          "domainName": d, "isPrimary": i == 0, "verified": True, "domainAliases": [],
                          "creationTime": str(int((org.created_at + timedelta(days=i)).timestamp() * 1000))})

    role_ids = {name: _digits(org.seed, "role", name, n=17) for name in SYSTEM_ROLES}
    for _ms, (rname, _desc) in ROLE_MAP.items():
        role_ids.setdefault(rname, _digits(org.seed, "role", rname, n=17))
    for rname, rid in role_ids.items():
        desc = next((d for n, d in ROLE_MAP.values() if n == rname), rname.strip("_").replace("_", " ").title())
        t.roles.append({"kind": "admin#directory#role", "etag": f'"{_token("role", rname, n=27)}"', "roleId": rid,
                        "roleName": rname, "roleDescription": desc,
                        "rolePrivileges": [{"privilegeName": "SUPER_ADMIN" if rname == "_SEED_ADMIN_ROLE"
                                            else "USERS_RETRIEVE", "serviceId": "00haapch16h1ysv"}],
                        "isSystemRole": rname in SYSTEM_ROLES, "isSuperAdminRole": rname == "_SEED_ADMIN_ROLE"})

    gid = {p.id: _digits(org.seed, "user", p.id) for p in people}
    apps = {a.id: a for a in org.apps if a.google_scopes}
    shared = {p.id for p in people if p.kind == "shared"}
    leaders = [p for p in people if p.kind == "staff" and p.department == "Leadership" and p.enabled]
    enforced_ou: dict[tuple[str, frozenset[str]], bool] = {}
    policy_groups = {pol.group for pol in policies if pol.group}
    groups_of: dict[str, frozenset[str]] = {}  # person -> names of the policy-targeted groups they are in
    for g in org.groups:
        if g.name in policy_groups:
            for pid in org.transitive_member_ids(g.id):
                groups_of[pid] = groups_of.get(pid, frozenset()) | {g.name}
    for p in people:
        uid = gid[p.id]
        super_admin = any(h.role == "Global Administrator" and h.assignment == "active" for h in p.roles)
        delegated = any(h.role in ROLE_MAP and h.role != "Global Administrator" and h.assignment == "active"
                        for h in p.roles)
        mine = groups_of.get(p.id, frozenset())
        in_effect = enforced_ou.get((p.org_unit, mine))
        if in_effect is None:
            in_effect = enforced_ou[(p.org_unit, mine)] = _two_sv_in_effect(policies, p.org_unit, mine, as_of)
        grace_end = p.created_at + timedelta(days=7)
        enrolled = bool(p.mfa_methods)
        user: dict[str, Any] = {
            "kind": "admin#directory#user", "id": uid, "etag": f'"u{uid}"',
            "primaryEmail": p.mail, "name": {"givenName": p.given_name, "familyName": p.surname,
                                             "fullName": p.display_name},
            "isAdmin": super_admin, "isDelegatedAdmin": delegated and not super_admin,
            "lastLoginTime": iso(p.last_sign_in) if p.last_sign_in else EPOCH,
            "creationTime": iso(p.created_at), "agreedToTerms": p.last_sign_in is not None,
            "suspended": not p.enabled, "archived": False, "changePasswordAtNextLogin": False,
            "ipWhitelisted": False, "emails": [{"address": p.mail, "primary": True}],
            "aliases": list(p.aliases), "nonEditableAliases": [f"{p.local_part}@{org.domain.split('.')[0]}.test-google-a.com"],
            "customerId": customer_id, "orgUnitPath": p.org_unit, "isMailboxSetup": p.has_mailbox,
            "isEnrolledIn2Sv": enrolled, "isEnforcedIn2Sv": in_effect and (enrolled or grace_end <= as_of),
            "includeInGlobalAddressList": True,
            "organizations": [{"title": p.title, "department": p.department, "primary": True}],
        }
        if not p.enabled:
            user["suspensionReason"] = "ADMIN"
        t.users.append(user)
        for key in (uid, p.mail, *p.aliases):
            t.user_by_key[key.casefold()] = user
        holdings = [h for h in p.roles if h.assignment == "active" and h.role in ROLE_MAP]
        for h in holdings:
            rid = role_ids[ROLE_MAP[h.role][0]]
            t.role_assignments.append({"kind": "admin#directory#roleAssignment",
                                       "etag": f'"{_token("ra", uid, rid, n=27)}"',
                                       "roleAssignmentId": _digits("ra", uid, rid, n=17), "roleId": rid,
                                       "assignedTo": uid, "assigneeType": "user", "scopeType": "CUSTOMER"})
        toks = []
        for g in p.app_grants:
            app = apps.get(g.app_id)
            if app is None:
                continue
            client = client_id(app.id)
            toks.append({"kind": "admin#directory#token", "etag": f'"{_token("t", uid, app.id, n=27)}"',
                         "clientId": client, "displayText": app.name, "scopes": list(app.google_scopes),
                         "userKey": uid, "anonymous": False, "nativeApp": False})
        t.tokens[uid] = toks
        if p.has_mailbox:
            delegates = [d.mail for d in leaders[:2]] if p.id in shared else []
            t.gmail[uid] = _gmail_settings(p, org, delegates)
        else:
            t.gmail[uid] = None
    rendered = render_groups(org, {p.id: t.user_by_key[gid[p.id]] for p in people})
    t.groups, t.group_members = rendered.groups, rendered.members
    for grp in org.groups:
        for h in grp.roles:
            if h.assignment == "active" and h.role in ROLE_MAP:
                rid = role_ids[ROLE_MAP[h.role][0]]
                t.role_assignments.append({"kind": "admin#directory#roleAssignment",
                                           "etag": f'"{_token("ra", grp.id, rid, n=27)}"',
                                           "roleAssignmentId": _digits("ra", grp.id, rid, n=17), "roleId": rid,
                                           "assignedTo": rendered.id_by_name[grp.name], "assigneeType": "group",
                                           "scopeType": "CUSTOMER"})
    t.policies = _policies(policies, ou_ids, rendered.id_by_name, org.seed, customer_id)
    # Reports activities are built on first request (a 100,000-user tenant stays cheap to build): the story of
    # simulator.activity rendered by simulator.google.activities; the token authorize events place the story's
    # consents at their time and address and every other authorisation before the activity's span.
    story = LazyGoogleActivities(org, {p.id: t.user_by_key[gid[p.id]] for p in people}, customer_id,
                                 {ms: g for ms, (g, _) in ROLE_MAP.items()})
    person_of = {gid[p.id]: p for p in people}
    t.activities = {}
    t.lazy_activities = {"token": lambda: _token_events(t, customer_id, person_of, story().consents(),
                                                        story().country_of_ip),
                         **{app: story.renderer(app) for app in APPLICATIONS}}
    return t


def _policies(policies: tuple[OuPolicy, ...], ou_ids: Mapping[str, str], group_ids: Mapping[str, str], seed: int,
              customer_id: str) -> list[dict[str, Any]]:
    """Policy API objects. A group's policy names the group (`groups/<id>`) and the top-level OU, with the CEL
    query joining both clauses, as PolicyQuery documents them."""
    out = []
    for i, pol in enumerate(policies):
        ou_id = ou_ids.get(pol.ou)
        if ou_id is None or (pol.group and pol.group not in group_ids):
            continue
        query: dict[str, Any] = {"query": f"entity.org_units.exists(org_unit, org_unit.org_unit_id == "
                                          f"orgUnitId('{ou_id}'))", "orgUnit": f"orgUnits/{ou_id}"}
        if pol.group:
            gid = group_ids[pol.group]
            query["query"] += f" && entity.groups.exists(group, group.group_id == groupId('{gid}'))"
            query["group"] = f"groups/{gid}"
        query["sortOrder"] = pol.sort_order
        out.append({
            "name": f"policies/{'A' if pol.kind == 'ADMIN' else 'S'}{_token(seed, 'pol', i, n=20)}",
            "customer": f"customers/{customer_id}", "policyQuery": query,
            "setting": {"type": SETTING_PREFIX + pol.setting, "value": dict(pol.value)}, "type": pol.kind,
        })
    return out


def client_id(app_id: str) -> str:
    """The OAuth client id Google shows for one of the organisation's apps."""
    return f"{_digits('client', app_id, n=12)}-{_token('c', app_id, n=32)}.apps.googleusercontent.com"


def _token_events(t: GoogleTenant, customer_id: str, person_of: Mapping[str, Person],
                  consents: Mapping[tuple[str, str], tuple[datetime, str]],
                  country_of_ip: Mapping[str, str]) -> list[dict[str, Any]]:
    """One `authorize` event per token: a consent of the activity's story at its time and address, every other
    one from the user's home address, between the activity's span and Google's six months (Reports keep 180
    days), so the log window holds exactly the story's consents."""
    clients = {(pid, client_id(app)): logged for (pid, app), logged in consents.items()}
    out = []
    n = 0
    for user in t.users:
        person = person_of.get(user["id"])
        for tok in t.tokens.get(user["id"], []):
            n += 1
            logged = clients.get((person.id, tok["clientId"])) if person is not None else None
            if logged is not None:
                when, ip = logged
            else:
                when = t.as_of - timedelta(days=SPAN_DAYS + 1 + int(_digits(tok["clientId"], user["id"], n=3)) % 120)
                ip = home_ip(person.id) if person is not None else office_ip()
            event = {"type": "auth", "name": "authorize", "parameters": [
                {"name": "client_id", "value": tok["clientId"]}, {"name": "app_name", "value": tok["displayText"]},
                {"name": "client_type", "value": "WEB"}, {"name": "scope", "multiValue": list(tok["scopes"])}]}
            stamp = iso(when)
            out.append({"kind": "admin#reports#activity", "etag": f'"{_token("token", n, stamp, n=27)}"',
                        "id": {"time": stamp, "uniqueQualifier": "-" + _digits("token", n, stamp, n=19),
                               "applicationName": "token", "customerId": customer_id},
                        "actor": {"callerType": "USER", "email": user["primaryEmail"], "profileId": user["id"]},
                        "ipAddress": ip, "events": [event]})
            if country_of_ip.get(ip):
                out[-1]["networkInfo"] = {"regionCode": country_of_ip[ip]}
    out.sort(key=lambda a: a["id"]["time"], reverse=True)  # Reports lists newest first
    return out
