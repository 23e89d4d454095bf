"""Read exactly the groups that policies and admin roles target: each group's name (groups.get) and its members,
nested groups flattened (members.list with includeDerivedMembership=true).

All calls go in Directory batches: the first round carries every group's `groups.get` and first members page, each
later round the next page of the groups that have one. A group whose read fails becomes a failed subject of its
section (the others are kept); a token refused for the scope, or every group failing, fails the whole section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from google.auth.exceptions import RefreshError, TransportError

from connectors.google.client import ApiFailure, GoogleClient, classify, token_failure
from connectors.google.options import SCOPE_GROUPS
from idaudit.core.snapshot import SectionStatus

MEMBERS_PAGE = 200  # members.list maxResults: the documented maximum


@dataclass
class GroupsRead:
    """What was read: per group its resource and its members, or why not."""

    groups: dict[str, Any] = field(default_factory=dict)
    members: dict[str, list[Any]] = field(default_factory=dict)
    failed_groups: dict[str, str] = field(default_factory=dict)
    failed_members: dict[str, str] = field(default_factory=dict)
    failure: ApiFailure | None = None  # the whole read failed (both sections)

    def section_failure(self, which: str, ids: Sequence[str]) -> ApiFailure | None:
        """The failure of a whole section: the read failed, or every group failed (forbidden when all were)."""
        if self.failure is not None:
            return self.failure
        failed = self.failed_groups if which == "groups" else self.failed_members
        if not ids or len(failed) < len(ids):
            return None
        first = next(iter(failed.values()))
        forbidden = all("HTTP 403" in why for why in failed.values())
        return ApiFailure(SectionStatus.FORBIDDEN if forbidden else SectionStatus.ERROR,
                          first if forbidden else f"every group failed: {first}")


def read_groups(client: GoogleClient, creds: Any, ids: Sequence[str], batch_size: int) -> GroupsRead:
    out = GroupsRead()
    if not ids:
        return out
    try:
        client.refresh(creds)
    except (RefreshError, TransportError) as exc:
        out.failure = token_failure(exc, SCOPE_GROUPS, client.creds.client_id)
        return out
    directory = client.service("admin", "directory_v1")
    pages: dict[str, str | None] = dict.fromkeys(ids)  # group -> page token of its next members page
    seen: dict[str, set[str]] = {gid: set() for gid in ids}
    calls = [(f"g|{gid}", directory.groups().get(groupKey=gid), creds) for gid in ids]
    for gid in ids:
        out.members[gid] = []
    while pages:
        calls += [(f"m|{gid}", directory.members().list(groupKey=gid, includeDerivedMembership=True,
                                                        maxResults=MEMBERS_PAGE, pageToken=token), creds)
                  for gid, token in pages.items()]
        try:
            results = client.batch(directory, calls, batch_size)
        except Exception as exc:  # the batch itself failed after its retries: every group in it failed
            out.failure = classify(exc, "groups batch", SCOPE_GROUPS, client.creds.client_id)
            return out
        calls, pages = [], {}
        for cid, (response, error) in sorted(results.items()):
            kind, gid = cid.split("|", 1)
            if error is not None:
                detail = classify(error, f"group {gid}", SCOPE_GROUPS).detail
                (out.failed_groups if kind == "g" else out.failed_members)[gid] = detail
                continue
            if kind == "g":
                out.groups[gid] = response or {}
                continue
            out.members[gid].extend((response or {}).get("members") or [])
            token = (response or {}).get("nextPageToken")
            if token and token in seen[gid]:
                out.failed_members[gid] = f"group {gid}: paging loop: nextPageToken {token!r} returned twice"
            elif token:
                seen[gid].add(token)
                pages[gid] = token
    for gid in out.failed_members:
        out.members.pop(gid, None)  # a group read in part is not its membership
    return out
