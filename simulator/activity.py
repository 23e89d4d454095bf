"""What the organisation did lately: sign-ins, changes and risk, consistent with who the people are.

Provider-neutral and derived from a finished Organisation (its own seeded random stream, so the organisation's
planted counts never move): each provider simulator renders it into its own log shapes (Entra audit and sign-in
logs, Identity Protection, the Purview audit log in simulator.microsoft.logs; Google Reports activities in
simulator.google.activities).

The story it tells (times relative to the organisation's `as_of`):
  * everyone who signs in does so from home (a per-person address) or the office, in the organisation's country,
    their latest sign-in at `last_sign_in` — the same instant signInActivity / lastLoginTime report;
  * the copier and fax service accounts send mail over authenticated SMTP (legacy, single factor), and people
    excluded from MFA sign in with a password only;
  * one traveller signs in from abroad for a few days and changes nothing (a new country alone is not a takeover);
  * each compromised nurse: a phishing sign-in from an unusual country (4 days before `as_of`), a second MFA
    method registered from the attacker's address 20 minutes later, consent to "SecureDocs Viewer" the next day,
    and two days after the phishing sign-in the forwarding rule and the hiding rule, created from the same
    address; Identity Protection rates her at high risk, not remediated;
  * ordinary housekeeping: a staff member updating an inbox rule from Outlook at the office, MFA registrations
    from home, password changes, a user setting mailbox forwarding from home, a role granted by the IT manager.

Addresses come from ranges reserved for documentation and shared address space (RFC 5737, RFC 6598), never a
real person's: office 198.51.100.0/24, homes 100.64.0.0/10, abroad 203.0.113.0/24.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from simulator.org import Organisation, Person

SPAN_DAYS = 30  # what the simulated logs hold (Entra P1/P2 keep 30 days of sign-ins and audit events)
SIGN_IN_EVERY_DAYS = 2.5  # an interactive sign-in every ~2.5 days (tokens are refreshed silently in between)

# Where travellers and attackers appear from: (country code, city, state)
ABROAD: tuple[tuple[str, str, str], ...] = (("NG", "Lagos", "Lagos"), ("RO", "Bucharest", "Bucuresti"),
                                           ("VN", "Ho Chi Minh City", "Ho Chi Minh"), ("BR", "Sao Paulo", "SP"))
TRAVEL: tuple[str, str, str] = ("CA", "Toronto", "Ontario")

LEGACY_SMTP = "Authenticated SMTP"


@dataclass(frozen=True, slots=True)
class SignIn:
    """One interactive sign-in (success or not)."""

    time: datetime
    person_id: str
    ip: str
    country: str  # ISO 3166-1 alpha-2
    city: str
    state: str
    client_app: str  # Browser | Mobile Apps and Desktop clients | Authenticated SMTP | ...
    app: str  # the application signed in to
    single_factor: bool
    success: bool = True
    risk_level: str = "none"  # none | low | medium | high (Identity Protection, P2)


@dataclass(frozen=True, slots=True)
class Change:
    """One logged change to an account, a mailbox or an app grant.

    kind: inbox_rule_created | inbox_rule_updated | mailbox_forwarding | mailbox_permission | consent |
    mfa_registered | password_changed | password_reset | role_added
    """

    time: datetime
    kind: str
    actor_id: str  # who did it (a person id)
    ip: str
    target_id: str  # whose account or mailbox
    rule_id: str = ""
    rule_name: str = ""
    app_id: str = ""
    scopes: tuple[str, ...] = ()
    method: str = ""  # MFA method vocabulary (idaudit.core.methods)
    role: str = ""
    forward_to: str = ""
    delegate_id: str = ""
    via_outlook: bool = False  # an inbox rule changed from Outlook (UpdateInboxRules) rather than New-InboxRule


@dataclass(frozen=True, slots=True)
class RiskDetection:
    time: datetime
    person_id: str
    event_type: str  # riskDetection.riskEventType
    level: str
    state: str
    ip: str
    country: str
    city: str
    timing: str = "realtime"


@dataclass(frozen=True, slots=True)
class RiskyUser:
    person_id: str
    level: str
    state: str  # atRisk | confirmedCompromised | remediated | dismissed
    detail: str
    updated: datetime


@dataclass(frozen=True)
class Activity:
    """The organisation's recent activity; `story` names the people each scripted scene is about (tests)."""

    home_country: str
    sign_ins: tuple[SignIn, ...]  # newest first, as Graph returns them
    changes: tuple[Change, ...]  # newest first
    risky_users: tuple[RiskyUser, ...]
    risk_detections: tuple[RiskDetection, ...]
    story: dict[str, tuple[str, ...]] = field(default_factory=dict)


def home_ip(person_id: str) -> str:
    """A stable home address for a person in 100.64.0.0/10 (shared address space, RFC 6598)."""
    h = int(hashlib.sha1(person_id.encode(), usedforsecurity=False).hexdigest()[:8], 16)
    return f"100.{64 + (h >> 16) % 64}.{(h >> 8) % 256}.{1 + h % 254}"


def office_ip(n: int = 0) -> str:
    return f"198.51.100.{10 + n % 5}"


def abroad_ip(n: int) -> str:
    return f"203.0.113.{20 + n % 200}"


def _days_ago(as_of: datetime, days: float) -> datetime:
    """`days` before as_of, to the whole second (logs carry whole seconds)."""
    return as_of - timedelta(seconds=round(days * 86400))


def _signs_in(p: Person) -> bool:
    return p.enabled and p.last_sign_in is not None and p.kind not in ("shared", "room", "guest")


def build_activity(org: Organisation) -> Activity:
    """The activity of the `SPAN_DAYS` before `org.as_of`, deterministic for the organisation."""
    rng = random.Random(f"idaudit-activity:{org.seed}:{len(org.people)}")
    as_of = org.as_of
    start = as_of - timedelta(days=SPAN_DAYS)
    city, state = org.city, org.state
    sign_ins: list[SignIn] = []
    changes: list[Change] = []
    story: dict[str, list[str]] = {}
    compromised = [p for p in org.people if "compromised" in p.planted]
    compromised_ids = {p.id for p in compromised}

    # --- everyday sign-ins, ending at each person's last sign-in
    for p in org.people:
        if not _signs_in(p) or p.last_sign_in is None or p.last_sign_in < start:
            continue
        legacy = p.kind == "service" and "mfa_excluded" in p.planted and p.licensed
        single = not p.mfa_methods or "mfa_excluded" in p.planted
        t = p.last_sign_in
        n = 0
        while t >= start:
            at_office = (t.hour + n) % 3 != 0
            ip = office_ip(n) if at_office or legacy else home_ip(p.id)
            sign_ins.append(SignIn(t, p.id, ip, org.country, city, state,
                                   LEGACY_SMTP if legacy else "Browser" if n % 2 == 0
                                   else "Mobile Apps and Desktop clients",
                                   "Office 365 Exchange Online" if legacy else "OfficeHome", single or legacy))
            n += 1
            step = 1.0 if legacy else SIGN_IN_EVERY_DAYS * (0.5 + rng.random())
            t = t - timedelta(seconds=round(step * 86400))
        if legacy:
            story.setdefault("legacy_smtp", []).append(p.id)
        elif single:
            story.setdefault("single_factor", []).append(p.id)

    staff = [p for p in org.people if p.kind == "staff" and _signs_in(p) and p.id not in compromised_ids
             and p.last_sign_in is not None and p.last_sign_in >= as_of - timedelta(days=3)]
    it_manager = next((p for p in org.people if p.kind == "admin" and p.title == "IT Manager"), None)

    # --- a traveller: a new country, and nothing changed
    if staff:
        trav = rng.choice(staff)
        assert trav.last_sign_in is not None
        for n, d in enumerate((2.9, 2.0, 1.1)):  # abroad, then back home for the latest sign-in
            sign_ins.append(SignIn(trav.last_sign_in - timedelta(days=d), trav.id, f"203.0.113.{240 + n}",
                                   *TRAVEL, "Browser", "OfficeHome", False))
        story["traveller"] = [trav.id]

    # --- compromised nurses: phishing sign-in, MFA method, consent, then the rules
    securedocs = next((a for a in org.apps if a.name == "SecureDocs Viewer"), None)
    risky: list[RiskyUser] = []
    detections: list[RiskDetection] = []
    for k, p in enumerate(compromised):
        country, acity, astate = ABROAD[k % len(ABROAD)]
        ip = abroad_ip(k)
        t0 = as_of - timedelta(days=4) + timedelta(hours=13, minutes=7 * k)
        for dt in (timedelta(0), timedelta(days=1, hours=2), timedelta(days=2)):
            sign_ins.append(SignIn(t0 + dt, p.id, ip, country, acity, astate, "Browser", "OfficeHome", False,
                                   risk_level="high" if dt == timedelta(0) else "medium"))
        changes.append(Change(t0 + timedelta(minutes=20), "mfa_registered", p.id, ip, p.id,
                              method=p.mfa_methods[-1] if p.mfa_methods else "authenticator_push"))
        if securedocs is not None and any(g.app_id == securedocs.id for g in p.app_grants):
            scopes = next(g.scopes for g in p.app_grants if g.app_id == securedocs.id)
            changes.append(Change(t0 + timedelta(days=1, hours=2, minutes=5), "consent", p.id, ip, p.id,
                                  app_id=securedocs.id, scopes=scopes))
        for j, rule in enumerate(p.inbox_rules):
            fwd = ",".join(rule.actions.forward_to)
            changes.append(Change(t0 + timedelta(days=2, minutes=3 + j), "inbox_rule_created", p.id, ip, p.id,
                                  rule_id=rule.id, rule_name=rule.name, forward_to=fwd))
        detections.append(RiskDetection(t0, p.id, "unfamiliarFeatures", "high", "atRisk", ip, country, acity))
        detections.append(RiskDetection(t0 + timedelta(days=2, minutes=30), p.id, "suspiciousInboxForwarding",
                                        "medium", "atRisk", ip, country, acity, timing="offline"))
        risky.append(RiskyUser(p.id, "high", "atRisk", "none", t0 + timedelta(days=2, minutes=30)))
    story["compromised"] = [p.id for p in compromised]

    # --- housekeeping in the window
    if staff:
        ruled = [p for p in staff if p.inbox_rules and p.id not in story.get("traveller", ())]
        if ruled:
            p = rng.choice(ruled)
            r = p.inbox_rules[0]
            changes.append(Change(as_of - timedelta(days=3, hours=2), "inbox_rule_updated", p.id, office_ip(1),
                                  p.id, rule_id=r.id, rule_name=r.name, via_outlook=True))
            story["rule_updated_at_office"] = [p.id]
        for p in rng.sample(staff, min(len(staff), max(2, len(staff) // 150))):
            if p.mfa_methods:
                when = _days_ago(as_of, rng.uniform(0.5, 6.5))
                # registering security info needs a sign-in first, from the same place
                sign_ins.append(SignIn(when - timedelta(minutes=3), p.id, home_ip(p.id), org.country, city, state,
                                       "Browser", "My Signins", False))
                changes.append(Change(when, "mfa_registered", p.id, home_ip(p.id), p.id, method=p.mfa_methods[-1]))
                story.setdefault("mfa_registered_at_home", []).append(p.id)
        for p in rng.sample(staff, min(len(staff), max(2, len(staff) // 100))):
            changes.append(Change(_days_ago(as_of, rng.uniform(0.5, 6.5)), "password_changed", p.id,
                                  home_ip(p.id), p.id))
    forwarders = [p for p in org.people if "mailbox_forward_external" in p.planted and p.mailbox_forward]
    if forwarders:
        p = forwarders[0]
        assert p.mailbox_forward is not None
        t = as_of - timedelta(days=2, hours=20)
        sign_ins.append(SignIn(t - timedelta(minutes=4), p.id, home_ip(p.id), org.country, city, state, "Browser",
                               "Outlook on the web", False))
        changes.append(Change(t, "mailbox_forwarding", p.id, home_ip(p.id), p.id, forward_to=p.mailbox_forward.address))
        story["forwarding_set_at_home"] = [p.id]
    reader = next((p for p in org.people for h in p.roles if h.role == "Global Reader"), None)
    if reader is not None and it_manager is not None:
        changes.append(Change(as_of - timedelta(days=3, hours=5), "role_added", it_manager.id, office_ip(2),
                              reader.id, role="Global Reader"))
        story["role_added"] = [reader.id]
    # a medium-risk user who reset the password: remediated
    if len(staff) > 1:
        p = staff[-1]
        t = as_of - timedelta(days=5, hours=3)
        detections.append(RiskDetection(t, p.id, "unfamiliarFeatures", "medium", "remediated", home_ip(p.id),
                                        org.country, city))
        risky.append(RiskyUser(p.id, "medium", "remediated", "userPerformedSecuredPasswordReset",
                               t + timedelta(hours=1)))
        changes.append(Change(t + timedelta(hours=1), "password_reset", p.id, home_ip(p.id), p.id))
        story["risk_remediated"] = [p.id]

    sign_ins.sort(key=lambda s: s.time, reverse=True)
    changes.sort(key=lambda c: c.time, reverse=True)
    detections.sort(key=lambda d: d.time, reverse=True)
    return Activity(home_country=org.country, sign_ins=tuple(sign_ins), changes=tuple(changes),
                    risky_users=tuple(risky), risk_detections=tuple(detections),
                    story={k: tuple(v) for k, v in story.items()})
