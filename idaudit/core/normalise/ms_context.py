"""Shared state of one Microsoft normalisation: the snapshot, the tables built so far, and small readers.

Each ms_*.py module fills some tables through `Tables.put` / `Tables.missing`; later modules read earlier results
(the users table, the role holders) from the same object instead of re-parsing JSON.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from idaudit.core.normalise.availability import missing as missing_status
from idaudit.core.normalise.availability import section_reason, usable
from idaudit.core.snapshot import Snapshot
from idaudit.core.tables import TableStatus, empty_table, make_table

MICROSOFT_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # appOwnerOrganizationId of Microsoft first-party apps


class Tables:
    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.tables: dict[str, pd.DataFrame] = {}
        self.status: dict[str, TableStatus] = {}
        self.gaps: dict[str, str] = {}
        users = self.data("users")
        self.users_ok = isinstance(users, list)
        self.users: list[dict[str, Any]] = [u for u in users if isinstance(u, dict)] if self.users_ok else []
        self.user_ids = frozenset(str(u.get("id")) for u in self.users if u.get("id"))

    # ---- raw data ---------------------------------------------------------------------------------------------
    def data(self, name: str) -> Any:
        """Raw JSON of a usable section, else None."""
        return self.snap.data(name) if usable(self.snap, name) else None

    def usable(self, name: str) -> bool:
        return usable(self.snap, name)

    def why(self, name: str) -> str:
        return section_reason(self.snap, name)

    def per_user(self, name: str) -> dict[str, Any] | None:
        """A per-user / per-key section as {id: value}; None when unusable or malformed.

        A subject the manifest lists as failed is left out even if the file still holds a value for it (a merged
        or hand-edited snapshot): data the collection itself disowned must not turn into evidence, e.g. an
        archive folder id that lets a rule read as ordinary filing."""
        raw = self.data(name)
        if not isinstance(raw, dict):
            return None
        rec = self.snap.section(name)
        failed = rec.failed_subjects if rec is not None else {}
        return {k: v for k, v in raw.items() if k not in failed} if failed else raw

    # ---- output -----------------------------------------------------------------------------------------------
    def put(self, name: str, rows: list[dict[str, Any]] | pd.DataFrame, status: TableStatus) -> None:
        self.tables[name] = make_table(name, rows)
        self.status[name] = status

    def missing(self, name: str, *sections: str, reason: str = "") -> None:
        self.tables[name] = empty_table(name)
        self.status[name] = TableStatus.missing(reason, *sections) if reason else missing_status(self.snap, *sections)


def text(value: Any) -> str:
    """Untrusted JSON value -> plain text ('' for null); never evaluated, only carried."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is None or value == "":
        return []
    return [value]
