"""Directory groups as Google serves them: the organisation's groups, their members, and who is in them.

Shapes follow the Admin SDK Directory v1 references (Group: id, email, name, description, directMembersCount as an
int64 string, adminCreated; Member: id, email, role, type USER | GROUP | CUSTOMER, status). `members.list` lists a
group's direct members; with `includeDerivedMembership=true` it adds the members of nested groups (each member
once). A Google group id is an opaque 15-character lower-case string ("03ep43zb3nttmr1"); the Cloud Identity Policy
API names the same group `groups/<id>` in `policyQuery.group`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulator.org import Organisation


def group_key(seed: int, group_id: str) -> str:
    """The Directory id of a neutral group (deterministic for the organisation)."""
    return "0" + hashlib.sha256(f"{seed}|group|{group_id}".encode()).hexdigest()[:14]


@dataclass(frozen=True)
class RenderedGroups:
    """Every group of the organisation as the Directory holds it."""

    groups: dict[str, dict[str, Any]]  # group id -> Group resource
    members: dict[str, list[dict[str, Any]]]  # group id -> direct members (Member resources)
    id_by_name: dict[str, str]  # group display name -> group id
    user_groups: dict[str, frozenset[str]]  # Google user id -> ids of every group they are in (nested included)


def render_groups(org: Organisation, users_by_person: Mapping[str, Mapping[str, Any]]) -> RenderedGroups:
    """`users_by_person`: neutral person id -> the rendered Directory user (people Google does not hold are left
    out of every group, as they do not exist there)."""
    key = {g.id: group_key(org.seed, g.id) for g in org.groups}
    groups: dict[str, dict[str, Any]] = {}
    members: dict[str, list[dict[str, Any]]] = {}
    for g in org.groups:
        gid = key[g.id]
        rows: list[dict[str, Any]] = []
        for pid in g.member_ids:
            user = users_by_person.get(pid)
            if user is None:
                continue
            rows.append({"kind": "admin#directory#member", "etag": f'"m{gid}{user["id"]}"', "id": user["id"],
                         "email": user["primaryEmail"], "role": "MEMBER", "type": "USER",
                         "status": "SUSPENDED" if user.get("suspended") else "ACTIVE"})
        for sub in g.member_group_ids:
            rows.append({"kind": "admin#directory#member", "etag": f'"m{gid}{key[sub]}"', "id": key[sub],
                         "email": f"{org.group(sub).mail_nickname}@{org.domain}", "role": "MEMBER",
                         "type": "GROUP", "status": "ACTIVE"})
        members[gid] = rows
        groups[gid] = {"kind": "admin#directory#group", "etag": f'"g{gid}"', "id": gid,
                       "email": f"{g.mail_nickname}@{org.domain}", "name": g.name, "description": g.description,
                       "directMembersCount": str(len(rows)), "adminCreated": True, "nonEditableAliases": []}
    user_groups: dict[str, set[str]] = {}
    for gid in members:
        for m in derived_members(members, gid):
            if m["type"] == "USER":
                user_groups.setdefault(m["id"], set()).add(gid)
    return RenderedGroups(groups, members, {g.name: key[g.id] for g in org.groups},
                          {uid: frozenset(ids) for uid, ids in user_groups.items()})


def derived_members(members: Mapping[str, list[dict[str, Any]]], gid: str) -> list[dict[str, Any]]:
    """A group's direct members followed by the members of its nested groups, each member once (cycle-safe)."""
    out: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()

    def walk(g: str) -> None:
        if g in seen:
            return
        seen.add(g)
        for m in members.get(g, []):
            out.setdefault(m["id"], m)
            if m["type"] == "GROUP":
                walk(m["id"])

    walk(gid)
    return list(out.values())
