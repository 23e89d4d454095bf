"""Google Workspace snapshot -> the provider-neutral tables every check reads (idaudit.core.tables).

What Google can and cannot tell, and how it lands in the tables:
- 2SV: the Directory says whether a user enrolled (`isEnrolledIn2Sv`), not which methods, so `mfa_methods` is
  missing (checks on method strength report unknown) and `mfa_registration.strongest` is derived from the allowed
  factor set of the user's OU (PASSKEY_ONLY -> phishing_resistant; NO_TELEPHONY -> standard; ALL -> unknown).
- Enforcement (`mfa_enforcement`) comes from the Policy API resolved per OU (google_policy.py), cross-checked with
  Google's own `isEnforcedIn2Sv`; without the Policy API, from `isEnforcedIn2Sv` alone.
- Gmail filters become `mail_rules` (Gmail filters have no name: the criteria are the name); auto-forwarding and
  filter forwards become `forwarding`. A user without Gmail (`null` in the snapshot) has nothing to forward.
- OAuth: per-user `tokens` when granted, otherwise the Reports API authorize events (marked partial: they only
  reach back about six months).
- Signs of takeover: the Reports activities of the window become sign_in_countries and change_events
  (google_logs.py); Identity Protection's tables are Microsoft's and stay missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from idaudit.core.normalise.google_email import email_tables_google
from idaudit.core.normalise.google_groups import GroupDirectory, group_id
from idaudit.core.normalise.google_logs import GoogleLogs
from idaudit.core.normalise.google_policy import (
    FACTORS,
    PolicyResolver,
    parse_time,
    two_sv_for_user,
    two_sv_from_flag,
)
from idaudit.core.normalise.google_settings import ROOT_KEYS, SCOPED_KEYS, root_rows, scoped_rows
from idaudit.core.sections import section_spec
from idaudit.core.snapshot import Snapshot
from idaudit.core.tables import AuditData, Availability, TableStatus, empty_table, make_table

NEVER = "1970-01-01"
GMAIL_FORWARD_SECTIONS = ("gmail.autoForwarding", "gmail.filters")
PRIVILEGED_SYSTEM_ROLES = frozenset({"_SEED_ADMIN_ROLE", "_USER_MANAGEMENT_ADMIN_ROLE", "_SERVICES_ADMIN_ROLE",
                                     "_GROUPS_ADMIN_ROLE", "_HELP_DESK_ADMIN_ROLE"})
SYSTEM_LABELS = frozenset({"INBOX", "UNREAD", "TRASH", "SPAM", "STARRED", "IMPORTANT", "SENT", "DRAFT",
                           "CATEGORY_PERSONAL", "CATEGORY_SOCIAL", "CATEGORY_PROMOTIONS", "CATEGORY_UPDATES",
                           "CATEGORY_FORUMS"})


def _why(snap: Snapshot, name: str) -> str:
    """Why a section is not usable, with the fix from the section catalogue."""
    rec = snap.section(name)
    spec = section_spec("google", name)
    fix = f" Fix: {spec.fix}." if spec and spec.fix else ""
    if rec is None:
        if not snap.manifest.complete:  # the scope may be granted: the run stopped before reaching the section
            return f"section '{name}' was not collected (the collection was interrupted: run it again).{fix}"
        return f"section '{name}' was not collected.{fix}"
    return f"section '{name}' {rec.status.value}: {rec.detail}{fix}".strip()


def _obj(value: Any) -> dict[str, Any]:
    """A nested JSON object, or {} when the field is absent or of another type (read as absent)."""
    return value if isinstance(value, dict) else {}


def _seq(value: Any) -> list[Any]:
    """A nested JSON array, or [] when the field is absent or of another type (read as absent)."""
    return value if isinstance(value, list) else []


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[1].strip().casefold() if "@" in address else ""


def _failed(snap: Snapshot, *names: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in names:
        rec = snap.section(name)
        if rec is not None:
            for sid, why in rec.failed_subjects.items():
                out.setdefault(sid, f"{name}: {why}")
    return out


def _status(sections: tuple[str, ...], missing: Mapping[str, str], reason: str = "") -> TableStatus:
    if missing:
        return TableStatus(Availability.PARTIAL, reason=reason or "some users could not be collected",
                           sections=sections, missing_subjects=dict(missing))
    return TableStatus(Availability.OK, reason=reason, sections=sections)


class _Normaliser:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.now = pd.Timestamp(snap.manifest.collected_at).tz_convert("UTC").to_pydatetime()
        self.tables: dict[str, pd.DataFrame] = {}
        self.status: dict[str, TableStatus] = {}
        self.gaps: dict[str, str] = {}
        self.users: list[dict[str, Any]] = list(snap.data("users") or [])
        self.user_ok = snap.data("users") is not None
        self.groups = self._group_directory()
        policies, ous = snap.data("policies"), snap.data("orgUnits")
        self.resolver = PolicyResolver(policies, ous, self.groups) \
            if policies is not None and ous is not None else None
        self.policy_gap = "" if self.resolver else "; ".join(
            _why(snap, n) for n in ("policies", "orgUnits") if snap.data(n) is None)

    def _group_directory(self) -> GroupDirectory:
        """Members of the groups policies and roles target; undecided where they were not collected."""
        members = self.snap.data("groupMembers")
        if members is None:
            return GroupDirectory.not_collected(self.users, _why(self.snap, "groupMembers"))
        rec = self.snap.section("groupMembers")
        failed = dict(rec.failed_subjects) if rec is not None else {}
        return GroupDirectory(self.snap.data("groups") or {}, members, failed, self.users)

    def put(self, name: str, rows: list[dict[str, Any]], status: TableStatus) -> None:
        self.tables[name] = make_table(name, rows)
        self.status[name] = status

    def missing(self, name: str, reason: str, *sections: str) -> None:
        self.tables[name] = empty_table(name)
        self.status[name] = TableStatus.missing(reason, *sections)

    # ---- users and 2SV ---------------------------------------------------------------------------------
    def users_table(self) -> None:
        if not self.user_ok:
            self.missing("users", _why(self.snap, "users"), "users")
            return
        gmail = self.snap.data("gmail.autoForwarding")
        rows = []
        for u in self.users:
            last = str(u.get("lastLoginTime") or "")
            has_mail = u.get("isMailboxSetup")
            mailbox = "unknown" if has_mail is None else ("user" if has_mail else "none")
            if isinstance(gmail, dict) and u.get("id") in gmail:
                mailbox = "none" if gmail[u["id"]] is None else "user"
            rows.append({
                "user_id": u.get("id"), "principal": u.get("primaryEmail"),
                "display_name": _obj(u.get("name")).get("fullName") or u.get("primaryEmail"),
                "mail": u.get("primaryEmail"),
                "enabled": not u.get("suspended", False) and not u.get("archived", False),
                "user_type": "guest" if u.get("isGuestUser") else "member",
                "created_at": u.get("creationTime"),
                "last_sign_in": None if not last or last.startswith(NEVER) else last,
                "sign_in_known": "lastLoginTime" in u, "on_premises_synced": None, "licensed": None,
                "mailbox": mailbox, "org_unit": u.get("orgUnitPath") or "/",
            })
        self.put("users", rows, TableStatus.ok("users"))

    def mfa_tables(self) -> None:
        self.missing("mfa_methods", "Google's Directory API reports whether a user enrolled in 2-Step Verification, "
                                    "not which methods (SMS, authenticator, security key) they use.", "users")
        if not self.user_ok:
            self.missing("mfa_registration", _why(self.snap, "users"), "users")
            self.missing("mfa_enforcement", _why(self.snap, "users"), "users")
            return
        reg, enf = [], []
        for u in self.users:
            enrolled = u.get("isEnrolledIn2Sv")
            if not isinstance(enrolled, bool):
                enrolled = None  # absent or not a JSON boolean ("yes", 1): not known, never read as enrolled
            strongest = "none" if enrolled is False else "unknown"
            if enrolled and self.resolver is not None:
                factors, _undecided = self.resolver.settled(FACTORS, u)  # a group policy may set the factors
                fs = str(((factors.value if factors else None) or {}).get("allowedSignInFactorSet", ""))
                strongest = {"PASSKEY_ONLY": "phishing_resistant", "ONLY_SECURITY_KEY": "phishing_resistant",
                             "NO_TELEPHONY": "standard"}.get(fs, "unknown")
            reg.append({"user_id": u.get("id"), "registered": None if enrolled is None else bool(enrolled),
                        "strongest": strongest, "methods": "2sv" if enrolled else "", "source": "directory"})
            if u.get("suspended") or u.get("archived"):
                continue
            v = two_sv_for_user(self.resolver, u, self.now) if self.resolver else \
                two_sv_from_flag(u, self.policy_gap)
            enf.append({"user_id": u.get("id"), "enforced": v.enforced, "enforced_by": v.enforced_by,
                        "strength": v.strength, "reason": v.reason, "phishing_resistant": v.phishing_resistant})
        self.put("mfa_registration", reg, TableStatus.ok("users"))
        reason = "" if self.resolver else f"from isEnforcedIn2Sv only: {self.policy_gap}"
        sections = ("users", "policies", "orgUnits") + (("groupMembers",) if self._group_policies() else ())
        self.put("mfa_enforcement", enf, _status(sections, {}, reason))

    # ---- roles -----------------------------------------------------------------------------------------
    def roles_table(self) -> None:
        roles, assignments = self.snap.data("roles"), self.snap.data("roleAssignments")
        if roles is None or assignments is None:
            if not self.user_ok:
                self.missing("role_assignments", _why(self.snap, "roleAssignments"), "roles", "roleAssignments")
                return
            rows = [{"user_id": u["id"], "role_id": "super_admin", "role_name": "Super Admin", "privileged": True,
                     "assignment": "active", "via_group": "", "scope": "tenant"}
                    for u in self.users if u.get("isAdmin")]
            why = _why(self.snap, "roleAssignments" if assignments is None else "roles")
            delegated = {u["id"]: f"delegated admin role not known: {why}" for u in self.users
                         if u.get("isDelegatedAdmin")}
            self.put("role_assignments", rows, _status(("users",), delegated, f"super admins from users.isAdmin; {why}"))
            return
        by_id = {str(r.get("roleId")): r for r in roles}
        rows = []
        unexpanded: dict[str, str] = {}  # group label -> why its members are not known
        for a in assignments:
            holders = [(str(a.get("assignedTo")), "")]
            if a.get("assigneeType", "user") != "user":  # held through a group: every member holds it
                gid = group_id(a.get("assignedTo"))
                members = self.groups.members(gid)
                if members is None:
                    unexpanded[self.groups.label(gid)] = self.groups.why_unknown(gid)
                    continue
                holders = [(uid, self.groups.label(gid)) for uid in members]
            role = by_id.get(str(a.get("roleId")), {})
            name = str(role.get("roleName") or a.get("roleId"))
            super_admin = bool(role.get("isSuperAdminRole"))
            shown = "Super Admin" if super_admin else (str(role.get("roleDescription") or name)
                                                        if name.startswith("_") else name)
            privileged = super_admin or name in PRIVILEGED_SYSTEM_ROLES or any(
                p.get("privilegeName") == "SUPER_ADMIN" for p in _seq(role.get("rolePrivileges")) if isinstance(p, dict))
            scope = "tenant" if a.get("scopeType", "CUSTOMER") == "CUSTOMER" else f"OU {a.get('orgUnitId', '')}"
            rows += [{"user_id": uid, "role_id": a.get("roleId"), "role_name": shown, "privileged": privileged,
                      "assignment": "active", "via_group": via, "scope": scope} for uid, via in holders]
        have = {r["user_id"] for r in rows if r["role_name"] == "Super Admin"}
        for u in self.users:  # a super admin always shows in users.isAdmin, even if the assignment list lags
            if u.get("isAdmin") and u.get("id") not in have:
                rows.append({"user_id": u["id"], "role_id": "super_admin", "role_name": "Super Admin",
                             "privileged": True, "assignment": "active", "via_group": "", "scope": "tenant"})
        sections = ("roles", "roleAssignments") + (("groupMembers",) if self._role_groups(assignments) else ())
        if unexpanded:  # holders unknown: never an "ok" table that silently lacks them
            why = "; ".join(f"{g}: {w}" for g, w in sorted(unexpanded.items()))
            self.put("role_assignments", rows, TableStatus(
                Availability.PARTIAL, reason=f"admin roles held through groups whose members are not known ({why})",
                sections=sections))
            return
        self.put("role_assignments", rows, TableStatus.ok(*sections))

    @staticmethod
    def _role_groups(assignments: list[Any]) -> bool:
        return any(isinstance(a, dict) and a.get("assigneeType", "user") != "user" for a in assignments)

    def _group_policies(self) -> bool:
        return any(isinstance(p, dict) and _obj(p.get("policyQuery")).get("group")
                   for p in self.snap.data("policies") or [])

    # ---- mail ------------------------------------------------------------------------------------------
    @staticmethod
    def _filter_facts(f: Mapping[str, Any]) -> dict[str, Any]:
        action = _obj(f.get("action"))
        criteria = _obj(f.get("criteria"))
        add = [str(x) for x in _seq(action.get("addLabelIds"))]
        remove = [str(x) for x in _seq(action.get("removeLabelIds"))]
        user_labels = [x for x in add if x not in SYSTEM_LABELS]
        actions = []
        if action.get("forward"):
            actions.append(f"forward:{action['forward']}")
        actions += [f"add_label:{x}" for x in add] + [f"remove_label:{x}" for x in remove]
        conds = "; ".join(f"{k}: {v}" for k, v in sorted(criteria.items()) if v not in (None, "", False))
        hide = ""
        if "TRASH" in add:
            hide = "delete"
        elif "INBOX" in remove:
            hide = f"move_to:{user_labels[0]}" if user_labels else "move_to:Archive"
            if user_labels and "UNREAD" not in remove:
                hide = ""  # filed under a label, still unread: ordinary filing
        elif "UNREAD" in remove:
            hide = "mark_read"
        return {"actions": "; ".join(actions), "conditions": conds or "all mail",
                "forwards": bool(action.get("forward")), "hides_mail": bool(hide), "hide_action": hide,
                "forward": str(action.get("forward") or ""), "trash": "TRASH" in add}

    def mail_tables(self) -> None:
        filters = self.snap.data("gmail.filters")
        auto = self.snap.data("gmail.autoForwarding")
        rule_rows, fwd_rows = [], []
        if isinstance(filters, dict):
            for uid, items in filters.items():
                for f in items or []:
                    facts = self._filter_facts(f)
                    name = f"Gmail filter ({facts['conditions']})"
                    rule_rows.append({"user_id": uid, "rule_id": f.get("id"), "rule_name": name, "enabled": True,
                                      "source": "gmail_filter", "actions": facts["actions"],
                                      "conditions": facts["conditions"], "forwards": facts["forwards"],
                                      "hides_mail": facts["hides_mail"], "hide_action": facts["hide_action"]})
                    if facts["forward"]:
                        fwd_rows.append({"user_id": uid, "mechanism": "gmail_filter_forward", "rule_id": f.get("id"),
                                         "rule_name": name, "enabled": True, "recipient": facts["forward"],
                                         "recipient_domain": _domain(facts["forward"]),
                                         "keeps_copy": not facts["trash"]})
            self.put("mail_rules", rule_rows, _status(("gmail.filters",), _failed(self.snap, "gmail.filters")))
        else:
            self.missing("mail_rules", _why(self.snap, "gmail.filters"), "gmail.filters")
        if not isinstance(filters, dict) or not isinstance(auto, dict):
            why = "; ".join(_why(self.snap, n) for n in GMAIL_FORWARD_SECTIONS if self.snap.data(n) is None)
            self.missing("forwarding", why, *GMAIL_FORWARD_SECTIONS)
            return
        for uid, af in auto.items():
            if isinstance(af, dict) and af.get("enabled") and af.get("emailAddress"):
                addr = str(af["emailAddress"])
                fwd_rows.append({"user_id": uid, "mechanism": "gmail_auto_forward", "rule_id": "autoForwarding",
                                 "rule_name": "Gmail automatic forwarding", "enabled": True, "recipient": addr,
                                 "recipient_domain": _domain(addr),
                                 "keeps_copy": af.get("disposition") != "trash"})
        missing = _failed(self.snap, *GMAIL_FORWARD_SECTIONS)
        # Users Gmail was not asked about (suspended or archived) have no forwarding table rows either way.
        self.put("forwarding", fwd_rows, _status(GMAIL_FORWARD_SECTIONS, missing))

    # ---- apps ------------------------------------------------------------------------------------------
    def oauth_table(self) -> None:
        tokens = self.snap.data("tokens")
        rows = []
        if isinstance(tokens, dict):
            for uid, items in tokens.items():
                for tok in items or []:
                    for scope in _seq(tok.get("scopes")):
                        rows.append(self._grant(uid, str(tok.get("clientId", "")), str(tok.get("displayText", "")),
                                                str(scope)))
            self.put("oauth_grants", rows, _status(("tokens",), _failed(self.snap, "tokens")))
            return
        events = self.snap.data("reports.tokenAuthorize")
        if events is None:
            self.missing("oauth_grants", f"{_why(self.snap, 'tokens')} Also {_why(self.snap, 'reports.tokenAuthorize')}",
                         "tokens", "reports.tokenAuthorize")
            return
        latest: dict[tuple[str, str], tuple[str, str, list[str]]] = {}
        for act in sorted(events, key=lambda a: str(_obj(a.get("id")).get("time", ""))):
            uid = str(_obj(act.get("actor")).get("profileId", ""))
            for ev in (e for e in _seq(act.get("events")) if isinstance(e, dict)):
                if ev.get("name") != "authorize":
                    continue
                params = {p.get("name"): p for p in _seq(ev.get("parameters")) if isinstance(p, dict)}
                client = str(_obj(params.get("client_id")).get("value", ""))
                app = str(_obj(params.get("app_name")).get("value", client))
                scopes = [str(s) for s in _seq(_obj(params.get("scope")).get("multiValue"))]
                latest[(uid, client)] = (client, app, scopes)
        for (uid, _), (client, app, scopes) in latest.items():
            rows += [self._grant(uid, client, app, s) for s in scopes]
        reason = (f"from Reports API authorize events (about the last six months only): "
                  f"{_why(self.snap, 'tokens')}")
        self.tables["oauth_grants"] = make_table("oauth_grants", rows)
        self.status["oauth_grants"] = TableStatus(Availability.PARTIAL, reason=reason,
                                                  sections=("reports.tokenAuthorize",))

    @staticmethod
    def _grant(uid: str, client: str, app: str, scope: str) -> dict[str, Any]:
        return {"grant_id": f"{uid}:{client}", "app_id": client, "app_name": app, "publisher": "",
                "publisher_verified": None, "app_owner": "third_party", "grant_kind": "delegated",
                "consent_scope": "single_user", "user_id": uid, "resource": "google", "scope": scope}

    # ---- domains and tenant settings -------------------------------------------------------------------
    def domains_table(self) -> None:
        domains = self.snap.data("domains")
        if domains is None:
            self.missing("domains", _why(self.snap, "domains"), "domains")
            return
        rows = []
        for d in domains:
            rows.append({"domain": str(d.get("domainName", "")).casefold(), "verified": bool(d.get("verified")),
                         "default": bool(d.get("isPrimary"))})
            for alias in (a for a in _seq(d.get("domainAliases")) if isinstance(a, dict)):
                rows.append({"domain": str(alias.get("domainAliasName", "")).casefold(),
                             "verified": bool(alias.get("verified")), "default": False})
        self.put("domains", rows, TableStatus.ok("domains"))

    def settings_table(self) -> None:
        """Root values, and every OU and group policy where a risky value applies (google_settings.py)."""
        r = self.resolver
        if r is None:
            for k in ROOT_KEYS + SCOPED_KEYS:
                self.gaps[k] = f"Google policies not collected: {self.policy_gap}"
            self.missing("tenant_settings", self.policy_gap, "policies", "orgUnits")
            return
        rows = root_rows(r, self.gaps) + scoped_rows(r)
        sections = ("policies", "orgUnits") + (("groupMembers",) if self._group_policies() else ())
        self.put("tenant_settings", rows, TableStatus.ok(*sections))

    def run(self) -> AuditData:
        self.users_table()
        self.mfa_tables()
        self.roles_table()
        self.mail_tables()
        self.oauth_table()
        self.domains_table()
        self.settings_table()
        email_tables_google(self)
        self.missing("conditional_access", "Conditional Access is a Microsoft Entra feature; Google Workspace "
                                           "enforcement is read from the Policy API (mfa_enforcement).")
        window = self.log_tables()
        m = self.snap.manifest
        return AuditData(provider="google", tenant_id=m.tenant_id, tenant_name=m.tenant_name,
                         collected_at=pd.Timestamp(m.collected_at).tz_convert("UTC"), tables=self.tables,
                         status=self.status, setting_gaps=self.gaps, manifest=m, log_window=window)

    # ---- signs of takeover: the Reports activities of the window (google_logs.py) ----------------------
    def log_tables(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        logs = GoogleLogs(self.snap, self.users)
        window = logs.window()
        logs.sign_ins()
        logs.changes(window)
        for name in ("sign_in_countries", "change_events"):
            if name in logs.tables:
                self.put(name, logs.tables[name], logs.status[name])
            else:
                self.tables[name] = empty_table(name)
                self.status[name] = logs.status[name]
        self.missing("sign_in_summary", "Google's login audit does not say which sign-ins used a legacy protocol; "
                                        "the password-only and legacy-protocol check is Microsoft's.")
        for name in ("risky_users", "risk_detections"):
            self.missing(name, "Identity Protection is a Microsoft Entra feature; Google's own rating of a sign-in "
                               "is the login audit's is_suspicious and its suspicious-login warnings.")
        return window


def normalise(snapshot: Snapshot) -> AuditData:
    """Build AuditData from a Google snapshot; sections that were not collected make their tables missing."""
    return _Normaliser(snapshot).run()


__all__ = ["normalise", "parse_time"]
