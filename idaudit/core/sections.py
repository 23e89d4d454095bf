"""The catalogue of snapshot sections: what each holds, the request behind it, and how to fix a gap.

The catalogue itself is data (sections.toml beside this module); this module gives it a type and look-ups.

The Coverage sheet reads `fix` to tell the reader exactly which permission or licence would close a gap. Section
names are stable identifiers used in manifests; connectors, normalisers and the simulator all use these names.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class SectionSpec:
    name: str
    provider: str
    shape: str  # "list" | "object" | "per_user_list" | "per_user_object" | "per_key_list" | "per_key_object" |
    #             "status_only"
    request: str
    permission: str
    licence: str = ""
    purpose: str = ""

    @property
    def fix(self) -> str:
        """One sentence on how to make this section collectable."""
        parts = [f"grant {self.permission}" if self.permission else ""]
        if self.licence:
            parts.append(f"requires {self.licence}")
        return "; ".join(p for p in parts if p)


_MS = "microsoft"
_GG = "google"

# The partial response the Google connector asks users.list for: only the fields the audit reads (smaller pages,
# less personal data stored). Part of the snapshot format: the simulator renders exactly these fields.
GOOGLE_USER_FIELDS = ("nextPageToken,users(id,primaryEmail,name/fullName,isAdmin,isDelegatedAdmin,isEnrolledIn2Sv,"
                      "isEnforcedIn2Sv,lastLoginTime,creationTime,suspended,suspensionReason,archived,orgUnitPath,"
                      "isMailboxSetup,customerId,isGuestUser,aliases)")



def google_targeted_groups(policies: Iterable[Any] | None, assignments: Iterable[Any] | None) -> list[str]:
    """Which groups the Google `groups` and `groupMembers` sections hold (part of the snapshot format): the ids of
    the Directory groups that policies (`policyQuery.group` = 'groups/<id>') and admin role assignments
    (`assigneeType` group) name. A name that is not a Directory group (`WORKSPACE_ALL_ADMIN_GROUP`) is left out."""
    out: set[str] = set()
    for pol in policies or ():
        query = pol.get("policyQuery") if isinstance(pol, Mapping) else None
        raw = query.get("group") if isinstance(query, Mapping) else None
        if isinstance(raw, str) and raw.startswith("groups/") and raw.removeprefix("groups/").strip():
            out.add(raw.removeprefix("groups/").strip())
    for a in assignments or ():
        if isinstance(a, Mapping) and a.get("assigneeType") == "group" and a.get("assignedTo"):
            out.add(str(a["assignedTo"]).removeprefix("groups/").strip())
    return sorted(out)


def _load_catalogue() -> tuple[tuple[SectionSpec, ...], tuple[SectionSpec, ...]]:
    """Read sections.toml (packaged beside this module): the catalogue is data, one entry per section."""
    data = tomllib.loads(resources.files("idaudit.core").joinpath("sections.toml").read_text(encoding="utf-8"))
    microsoft = tuple(SectionSpec(provider=_MS, **entry) for entry in data[_MS])
    google = tuple(SectionSpec(provider=_GG, **entry) for entry in data[_GG])
    return microsoft, google


MICROSOFT_SECTIONS, GOOGLE_SECTIONS = _load_catalogue()

SECTIONS: dict[tuple[str, str], SectionSpec] = {(s.provider, s.name): s for s in MICROSOFT_SECTIONS + GOOGLE_SECTIONS}


def section_spec(provider: str, name: str) -> SectionSpec | None:
    return SECTIONS.get((provider, name))


def sections_for(provider: str) -> tuple[SectionSpec, ...]:
    return tuple(s for s in SECTIONS.values() if s.provider == provider)
