"""A provider-neutral synthetic organisation: a believable ambulatory-surgery centre, seeded and deterministic.

The organisation is data only (frozen dataclasses). Each provider simulator renders it into its own API objects
(Microsoft Graph / Exchange in simulator.microsoft.models, Google in simulator.google.models), so the demo, the
tests and the benchmark all audit the same people with the same planted problems.

Planted problems scale with size and are always present from 40 accounts up; every planted subject carries a tag
in `planted` (for example "no_mfa", "compromised", "stale_account") so tests can assert that a check finds exactly
what was planted. Most people are fine, so reports show pass, fail and unknown side by side.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from simulator.catalogue import ROLE_BY_NAME

MICROSOFT_FIRST_PARTY_ORG = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"

KINDS = ("staff", "admin", "guest", "shared", "room", "service", "break_glass")


@dataclass(frozen=True)
class RoleHolding:
    """A directory role held by a person or a group: active now, or only eligible (PIM, activated on demand)."""

    role: str  # role display name, e.g. "Global Administrator"
    template_id: str
    assignment: str = "active"  # active | eligible

    @staticmethod
    def of(role: str, assignment: str = "active") -> RoleHolding:
        return RoleHolding(role, ROLE_BY_NAME[role].template_id, assignment)


@dataclass(frozen=True)
class RuleConditions:
    subject_contains: tuple[str, ...] = ()
    body_or_subject_contains: tuple[str, ...] = ()
    from_addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleActions:
    forward_to: tuple[str, ...] = ()
    forward_as_attachment_to: tuple[str, ...] = ()
    redirect_to: tuple[str, ...] = ()
    move_to_folder: str = ""  # folder display name ("RSS Feeds", "Archive", ...)
    mark_as_read: bool = False
    delete: bool = False
    permanent_delete: bool = False
    stop_processing: bool = False


@dataclass(frozen=True)
class InboxRule:
    """A mailbox rule (Outlook inbox rule / Gmail filter) with its conditions and actions."""

    id: str
    name: str
    sequence: int
    enabled: bool
    conditions: RuleConditions
    actions: RuleActions


@dataclass(frozen=True)
class MailboxForward:
    """Mailbox-level forwarding (Exchange ForwardingSmtpAddress / Gmail auto-forwarding).

    `via_recipient` set: Exchange shows the forward as ForwardingAddress, naming a recipient of the organisation —
    a mail contact (rendered by Get-Recipient) when `address` is outside, a mailbox (its Name) when inside.
    """

    address: str
    keep_copy: bool = True
    via_recipient: str = ""


@dataclass(frozen=True)
class AppGrant:
    """A person's own consent to an app: delegated scopes (Microsoft names; Google scopes live on the App)."""

    app_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    """One account of the organisation, whatever its kind (staff, guest, shared mailbox, service, ...)."""

    id: str
    given_name: str
    surname: str
    display_name: str
    local_part: str
    domain: str  # the domain of `mail`: the organisation's, or the guest's home domain
    department: str
    title: str
    kind: str  # staff | admin | guest | shared | room | service | break_glass
    enabled: bool
    created_at: datetime
    last_sign_in: datetime | None  # None = never signed in
    licensed: bool
    has_mailbox: bool
    mailbox_type: str  # user | shared | room | none
    on_prem_synced: bool
    mfa_methods: tuple[str, ...]  # vocabulary of idaudit.core.methods
    per_user_mfa: str = "disabled"  # disabled | enabled | enforced (Microsoft legacy per-user MFA)
    roles: tuple[RoleHolding, ...] = ()  # held directly (roles held through a group sit on the Group)
    groups: tuple[str, ...] = ()  # ids of groups the person is a direct member of
    mailbox_forward: MailboxForward | None = None
    inbox_rules: tuple[InboxRule, ...] = ()
    app_grants: tuple[AppGrant, ...] = ()
    aliases: tuple[str, ...] = ()
    mobile_phone: str = ""
    org_unit: str = "/"
    planted: tuple[str, ...] = ()
    # a failed interactive sign-in after the last success (password spraying): Graph's lastSignInDateTime records
    # attempts, lastSuccessfulSignInDateTime only successes
    last_failed_sign_in: datetime | None = None

    @property
    def mail(self) -> str:
        return f"{self.local_part}@{self.domain}"

    @property
    def is_guest(self) -> bool:
        return self.kind == "guest"


@dataclass(frozen=True)
class Group:
    """A security or Microsoft 365 group; `member_group_ids` are nested groups (membership is transitive)."""

    id: str
    name: str
    mail_nickname: str
    description: str
    member_ids: tuple[str, ...]
    member_group_ids: tuple[str, ...] = ()
    kind: str = "security"  # security | microsoft365
    role_assignable: bool = False
    roles: tuple[RoleHolding, ...] = ()
    created_at: datetime | None = None


@dataclass(frozen=True)
class App:
    """An application known to the tenant: who publishes it, what users and admins consented to, what it may read."""

    id: str  # application (client) id
    object_id: str  # service principal object id in this tenant
    name: str
    publisher: str
    verified_publisher: str  # "" when the publisher is not verified
    owner: str  # first_party | own_org | third_party
    owner_org_id: str
    user_scopes: tuple[str, ...] = ()  # delegated scopes users consent to (Microsoft Graph names)
    admin_consent_scopes: tuple[str, ...] = ()  # tenant-wide (AllPrincipals) delegated consent, if any
    application_permissions: tuple[tuple[str, str], ...] = ()  # (resource: graph | exchange, permission)
    google_scopes: tuple[str, ...] = ()  # scopes the same app asks for on Google ("" = not a Google app)
    homepage: str = ""
    created_at: datetime | None = None
    planted: tuple[str, ...] = ()


@dataclass(frozen=True)
class MfaPolicy:
    """A sign-in policy (Microsoft Conditional Access; Google maps it to 2SV enforcement)."""

    id: str
    name: str
    state: str  # enabled | disabled | report_only
    grant: str  # mfa | block | phishing_resistant_mfa
    include_all_users: bool = True
    include_roles: tuple[str, ...] = ()  # role names
    exclude_group_ids: tuple[str, ...] = ()
    exclude_user_ids: tuple[str, ...] = ()
    legacy_clients_only: bool = False  # targets Exchange ActiveSync and other legacy clients
    narrowed_by_location: bool = False
    created_at: datetime | None = None


@dataclass(frozen=True)
class TransportRule:
    id: str
    name: str
    priority: int
    enabled: bool
    bcc_to: tuple[str, ...] = ()
    redirect_to: tuple[str, ...] = ()
    prepend_subject: str = ""
    sent_to_scope: str = ""  # "" | NotInOrganization | InOrganization
    description: str = ""
    add_to: tuple[str, ...] = ()  # AddToRecipients
    copy_to: tuple[str, ...] = ()  # CopyTo (Cc)
    incident_report_to: str = ""  # GenerateIncidentReport, with the original message attached
    subject_contains: tuple[str, ...] = ()  # SubjectContainsWords condition
    mode: str = "Enforce"  # Enforce | Audit | AuditAndNotify


@dataclass(frozen=True)
class TenantPolicy:
    """Tenant-level facts, as flags with the demo's defaults."""

    p1: bool = True
    p2: bool = True
    security_defaults: bool = False
    user_consent: str = "legacy"  # legacy (any app) | low_risk (verified publishers, low-risk scopes) | off
    sms_enabled: bool = True
    voice_enabled: bool = False
    email_otp_enabled: bool = True
    outbound_spam_autoforward: str = "Automatic"  # On | Off | Automatic (Microsoft's default: Off in effect)
    remote_domain_autoforward: bool = False  # remote domain '*'
    personal_mail_remote_domain: bool = True  # a 'gmail.com' remote domain that allows automatic forwarding
    transport_bcc: str = "records@offsite-archive-vault.com"  # "" = no BCC transport rule
    transport_copies: bool = True  # rules that add an outside recipient, report with the original, or only audit
    guest_invites: str = "everyone"  # none | adminsAndGuestInviters | adminsGuestInvitersAndAllMembers | everyone
    guest_user_role: str = "guest"  # member | guest | restricted_guest
    legacy_auth_block: str = "enabled"  # enabled | report_only
    # email security and detection (issue 17): Business Premium includes Defender for Office 365 Plan 1
    defender: bool = True  # False: the Safe Links / Safe Attachments cmdlets do not exist (Exchange Online only)
    unified_audit_log: bool = True  # Get-AdminAuditLogConfig UnifiedAuditLogIngestionEnabled
    mailbox_audit_disabled: bool = False  # Get-OrganizationConfig AuditDisabled


@dataclass(frozen=True)
class Organisation:
    name: str
    domain: str
    secondary_domains: tuple[str, ...]
    initial_domain: str  # <tenant>.onmicrosoft.com
    tenant_id: str
    seed: int
    as_of: datetime  # the organisation's "now": sign-in ages are relative to it
    created_at: datetime
    people: tuple[Person, ...]
    groups: tuple[Group, ...]
    apps: tuple[App, ...]
    mfa_policies: tuple[MfaPolicy, ...]
    transport_rules: tuple[TransportRule, ...]
    policy: TenantPolicy
    auditor_app_id: str  # the read-only app registration idaudit signs in as
    street: str = "1200 Riverside Parkway, Suite 300"
    city: str = "Columbus"
    state: str = "OH"
    postal_code: str = "43215"
    country: str = "US"
    _people_by_id: dict[str, Person] = field(default_factory=dict, repr=False, compare=False)
    _groups_by_id: dict[str, Group] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._people_by_id.update((p.id, p) for p in self.people)
        self._groups_by_id.update((g.id, g) for g in self.groups)

    @property
    def domains(self) -> tuple[str, ...]:
        return (self.domain, *self.secondary_domains, self.initial_domain)

    def person(self, person_id: str) -> Person:
        return self._people_by_id[person_id]

    def group(self, group_id: str) -> Group:
        return self._groups_by_id[group_id]

    def group_named(self, name: str) -> Group:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def app_named(self, name: str) -> App:
        for a in self.apps:
            if a.name == name:
                return a
        raise KeyError(name)

    def of_kind(self, *kinds: str) -> list[Person]:
        return [p for p in self.people if p.kind in kinds]

    def planted(self, tag: str) -> list[Person]:
        """People carrying a planted-problem tag (tests assert checks find exactly these)."""
        return [p for p in self.people if tag in p.planted]

    def transitive_member_ids(self, group_id: str) -> list[str]:
        """Every person inside a group, nested groups resolved (cycle-safe), in a stable order."""
        seen_groups: set[str] = set()
        out: dict[str, None] = {}

        def walk(gid: str) -> None:
            if gid in seen_groups:
                return
            seen_groups.add(gid)
            g = self._groups_by_id[gid]
            out.update((m, None) for m in g.member_ids)
            for sub in g.member_group_ids:
                walk(sub)

        walk(group_id)
        return list(out)

    def iter_role_holdings(self) -> Iterator[tuple[str, str, RoleHolding]]:
        """(principal kind "user" | "group", principal id, holding) for every role held."""
        for p in self.people:
            for h in p.roles:
                yield "user", p.id, h
        for g in self.groups:
            for h in g.roles:
                yield "group", g.id, h


def stable_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
