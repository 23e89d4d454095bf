"""Who is in the groups Google policies and admin roles target (snapshot sections `groups` and `groupMembers`).

The connector reads exactly those groups: `groups.get` for the name and address, `members.list` with
`includeDerivedMembership=true` for the members, so nested groups are already flattened. A member is a user
(`type` USER), a nested group (GROUP: its own users are listed too, so the entry itself adds no one), or the whole
account (CUSTOMER: every user of the customer). A member that is not one of the tenant's users (an outside address)
is nobody whose settings idaudit reports.

A group whose members could not be read — the section was not collected, or the group is one of its failed
subjects — is undecided: `contains` answers None, and a user's value under it is decided only when it does not
depend on the answer (google_policy.py).

`WORKSPACE_ALL_ADMIN_GROUP`: ScubaGoggles has seen the Policy API name this instead of `groups/<id>`. It is no
Directory group, so its members cannot be listed; by its name it holds administrators only, so for anyone who is
not an administrator it is decided (not a member), and for an administrator it is undecided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ALL_ADMINS = "WORKSPACE_ALL_ADMIN_GROUP"
GROUP_PREFIX = "groups/"


def group_id(value: Any) -> str:
    """A policy's `policyQuery.group` ('groups/<id>') or a role assignment's `assignedTo` -> the group id."""
    return str(value or "").strip().removeprefix(GROUP_PREFIX)


def is_admin(user: Mapping[str, Any]) -> bool:
    return bool(user.get("isAdmin") or user.get("isDelegatedAdmin"))


class GroupDirectory:
    """Membership of the targeted groups, as collected; undecided where it was not."""

    def __init__(self, groups: Mapping[str, Any] | None, members: Mapping[str, Any] | None,
                 failed: Mapping[str, str], users: Iterable[Mapping[str, Any]], missing_reason: str = "") -> None:
        self._users = [u for u in users if isinstance(u, Mapping) and u.get("id")]
        self._known_users = {str(u["id"]) for u in self._users}
        self._info: dict[str, Mapping[str, Any]] = {
            str(k): v for k, v in (groups or {}).items() if isinstance(v, Mapping)}
        self._members: dict[str, list[str]] = {}
        self._member_sets: dict[str, frozenset[str]] = {}
        self._failed = {str(k): str(v) for k, v in failed.items()}
        self.missing_reason = missing_reason  # why no membership was collected at all ('' when it was)
        self.collected = members is not None
        for gid, rows in (members or {}).items():
            if str(gid) in self._failed or not isinstance(rows, list):
                continue
            self._members[str(gid)] = self._user_ids(rows)
            self._member_sets[str(gid)] = frozenset(self._members[str(gid)])

    @classmethod
    def not_collected(cls, users: Iterable[Mapping[str, Any]], reason: str) -> GroupDirectory:
        return cls(None, None, {}, users, reason)

    def _user_ids(self, rows: list[Any]) -> list[str]:
        out: dict[str, None] = {}
        for m in rows:
            if not isinstance(m, Mapping):
                continue
            kind = str(m.get("type") or "").upper()
            if kind == "CUSTOMER":  # the whole account is a member
                out.update((uid, None) for uid in sorted(self._known_users))
            elif kind == "USER" and str(m.get("id", "")) in self._known_users:
                out[str(m["id"])] = None
        return list(out)

    # ---- questions -------------------------------------------------------------------------------------
    def members(self, gid: str) -> list[str] | None:
        """The tenant's users in the group (direct and nested); None when its membership was not read."""
        return self._members.get(group_id(gid))

    def contains(self, gid: str, user: Mapping[str, Any]) -> bool | None:
        """Is the user in the group? None: not known (membership not read)."""
        gid = group_id(gid)
        if gid == ALL_ADMINS:
            return None if is_admin(user) else False
        members = self._member_sets.get(gid)
        if members is None:
            return None
        return str(user.get("id", "")) in members

    def label(self, gid: str) -> str:
        """How a report names the group: its address (or name), else its id."""
        gid = group_id(gid)
        if gid == ALL_ADMINS:
            return "all administrators (WORKSPACE_ALL_ADMIN_GROUP)"
        info = self._info.get(gid, {})
        name = str(info.get("email") or info.get("name") or "")
        return f"{name} ({gid})" if name else f"group {gid}"

    def why_unknown(self, gid: str) -> str:
        gid = group_id(gid)
        if gid == ALL_ADMINS:
            return "the Policy API names all administrators, a group the Directory cannot list"
        if gid in self._failed:
            return f"its members could not be read: {self._failed[gid]}"
        if not self.collected:
            return f"group memberships were not collected: {self.missing_reason}"
        return "the group was not among those collected"

    def count(self, gid: str) -> str:
        """'N members' or why the number is not known."""
        members = self.members(gid)
        if members is None:
            return "membership not collected"
        return f"{len(members)} member{'s' if len(members) != 1 else ''}"

