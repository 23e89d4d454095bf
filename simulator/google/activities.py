"""The organisation's recent activity (simulator.activity) as Google Reports API activities.

Shapes follow the Admin SDK Reports v1 Activity resource (id, actor, ipAddress, networkInfo.regionCode, events
with typed parameters) and the event appendices (login, user_accounts, admin delegated-admin settings, token):

- login: every sign-in as `login_success` (`login_type`, `login_challenge_method`, `is_second_factor`,
  `is_suspicious`) or `login_failure`; the compromised nurse's phishing sign-in is a successful one Google rates
  suspicious (`is_suspicious` true — how Google's guide finds "suspicious successful logins"), preceded by a
  `suspicious_login` account warning naming her in `affected_email_address`;
- user_accounts: the MFA registration of the story becomes `recovery_phone_edit` for the nurse (the attacker
  makes the account theirs) and `2sv_enroll` for staff enrolling from home; password changes are
  `password_edit`; mailbox forwarding to an outside address is `email_forwarding_out_of_domain`
  (`email_forwarding_destination_address`). Creating a Gmail filter is logged by no Reports application, so the
  nurse's filters leave no event — as in a real tenant;
- admin: a role granted by the IT manager is `ASSIGN_ROLE` (`ROLE_NAME`, `USER_EMAIL`);
- token: an `authorize` event of the story (the nurse's consent) carries its time and address (models.py).

Every activity carries the address of the action and `networkInfo.regionCode`, the country Google derives from it
(for the story's addresses: where the sign-ins from them were).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from simulator.activity import Activity, Change, SignIn, build_activity
from simulator.google.ids import _digits, _token, iso
from simulator.org import Organisation

APPLICATIONS = ("login", "user_accounts", "admin")


class GoogleActivities:
    """Renders one organisation's Activity; `users` maps a person id to its Directory user object."""

    def __init__(self, org: Organisation, activity: Activity, users: Mapping[str, dict[str, Any]],
                 customer_id: str, role_names: Mapping[str, str]) -> None:
        self.org = org
        self.activity = activity
        self.users = users
        self.customer_id = customer_id
        self.role_names = role_names  # neutral role name -> Google roleName
        self.country_of_ip: dict[str, str] = {}
        for s in activity.sign_ins:
            self.country_of_ip.setdefault(s.ip, s.country)
        self._n = 0

    def _activity(self, app: str, when: datetime, actor: dict[str, Any], ip: str, event: dict[str, Any],
                  country: str = "") -> dict[str, Any]:
        self._n += 1
        stamp = iso(when)
        out: dict[str, Any] = {
            "kind": "admin#reports#activity", "etag": f'"{_token(app, self._n, stamp, n=27)}"',
            "id": {"time": stamp, "uniqueQualifier": "-" + _digits(app, self._n, stamp, n=19),
                   "applicationName": app, "customerId": self.customer_id},
            "actor": actor, "ipAddress": ip, "events": [event]}
        country = country or self.country_of_ip.get(ip, "")
        if country:
            out["networkInfo"] = {"regionCode": country}
        return out

    @staticmethod
    def _user_actor(user: Mapping[str, Any]) -> dict[str, Any]:
        return {"callerType": "USER", "email": user["primaryEmail"], "profileId": user["id"]}

    def login(self) -> list[dict[str, Any]]:
        out = []
        for s in self.activity.sign_ins:
            user = self.users.get(s.person_id)
            if user is None:
                continue
            out.extend(self._sign_in(s, user))
        return _newest_first(out)

    def _sign_in(self, s: SignIn, user: Mapping[str, Any]) -> list[dict[str, Any]]:
        actor = self._user_actor(user)
        if not s.success:
            return [self._activity("login", s.time, actor, s.ip, {"type": "login", "name": "login_failure",
                                                                 "parameters": [
                {"name": "login_type", "value": "google_password"},
                {"name": "login_failure_type", "value": "login_failure_invalid_password"},
                {"name": "login_challenge_method", "multiValue": ["password"]},
                {"name": "is_suspicious", "boolValue": False}]}, s.country)]
        suspicious = s.risk_level == "high"
        methods = ["password"] if s.single_factor else ["password", "google_authenticator"]
        out = [self._activity("login", s.time, actor, s.ip, {"type": "login", "name": "login_success", "parameters": [
            {"name": "login_type", "value": "google_password"},
            {"name": "login_challenge_method", "multiValue": methods},
            {"name": "is_second_factor", "boolValue": not s.single_factor},
            {"name": "is_suspicious", "boolValue": suspicious}]}, s.country)]
        if suspicious:
            out.append(self._activity("login", s.time - timedelta(minutes=2), actor, s.ip, {
                "type": "account_warning", "name": "suspicious_login",
                "parameters": [{"name": "affected_email_address", "value": user["primaryEmail"]}]}, s.country))
        return out

    def user_accounts(self) -> list[dict[str, Any]]:
        compromised = set(self.activity.story.get("compromised", ()))
        own = {d.casefold() for d in (self.org.domain, *self.org.secondary_domains)}
        out = []
        for c in self.activity.changes:
            user = self.users.get(c.target_id)
            if user is None or c.actor_id != c.target_id:
                continue
            event = self._account_event(c, compromised, own)
            if event is not None:
                out.append(self._activity("user_accounts", c.time, self._user_actor(user), c.ip, event))
        return _newest_first(out)

    @staticmethod
    def _account_event(c: Change, compromised: set[str], own: set[str]) -> dict[str, Any] | None:
        if c.kind == "mfa_registered":
            if c.target_id in compromised:
                return {"type": "recovery_info_change", "name": "recovery_phone_edit"}
            return {"type": "2sv_change", "name": "2sv_enroll"}
        if c.kind in ("password_changed", "password_reset"):
            return {"type": "password_change", "name": "password_edit"}
        if c.kind == "mailbox_forwarding" and c.forward_to.rsplit("@", 1)[-1].casefold() not in own:
            return {"type": "email_forwarding_change", "name": "email_forwarding_out_of_domain",
                    "parameters": [{"name": "email_forwarding_destination_address", "value": c.forward_to}]}
        return None  # Gmail filters: no Reports application logs their creation

    def admin(self) -> list[dict[str, Any]]:
        out = []
        for c in self.activity.changes:
            if c.kind != "role_added" or c.role not in self.role_names:
                continue
            actor, target = self.users.get(c.actor_id), self.users.get(c.target_id)
            if actor is None or target is None:
                continue
            out.append(self._activity("admin", c.time, self._user_actor(actor), c.ip, {
                "type": "DELEGATED_ADMIN_SETTINGS", "name": "ASSIGN_ROLE", "parameters": [
                    {"name": "ROLE_NAME", "value": self.role_names[c.role]},
                    {"name": "USER_EMAIL", "value": target["primaryEmail"]},
                    {"name": "ORG_UNIT_NAME", "value": "/"}]}))
        return _newest_first(out)

    def consents(self) -> dict[tuple[str, str], tuple[datetime, str]]:
        """(person id, app id) -> (time, address) of the story's consents, for the token authorize events."""
        return {(c.target_id, c.app_id): (c.time, c.ip) for c in self.activity.changes if c.kind == "consent"}

    def render(self, app: str) -> list[dict[str, Any]]:
        return {"login": self.login, "user_accounts": self.user_accounts, "admin": self.admin}[app]()


def _newest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items.sort(key=lambda a: a["id"]["time"], reverse=True)  # Reports lists newest first
    return items


class LazyGoogleActivities:
    """Builds the organisation's Activity and its Google rendering on first use, once (thread-safe through the
    tenant's activities lock: only GoogleTenant.activities_for calls it)."""

    def __init__(self, org: Organisation, users: Mapping[str, dict[str, Any]], customer_id: str,
                 role_names: Mapping[str, str]) -> None:
        self._args = (org, users, customer_id, role_names)
        self._built: GoogleActivities | None = None

    def __call__(self) -> GoogleActivities:
        if self._built is None:
            org, users, customer_id, role_names = self._args
            self._built = GoogleActivities(org, build_activity(org), users, customer_id, role_names)
        return self._built

    def renderer(self, app: str) -> Callable[[], list[dict[str, Any]]]:
        return lambda: self().render(app)
