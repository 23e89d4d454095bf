"""Documented Microsoft semantics, end to end on a minimal tenant: raw Graph JSON -> snapshot -> normalise -> check.

Each case edits the small tenant of tests/ms_raw.py the way a real tenant can be (every shape is one Graph
documents), runs one check through the real engine and states the verdict Microsoft's documentation implies.
The rule and its source are in docs/semantics.md, section "Microsoft: who MFA really covers"; the case names
match its rows. Every case here failed before the fix that introduced it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from idaudit.core.engine import CheckSettings
from idaudit.core.normalise import normalise
from tests.checkkit import row, run
from tests.ms_raw import BEN, raw_tenant
from tests.ms_raw import write_snapshot as snap

NOW = CheckSettings(now=datetime(2026, 11, 28, 12, tzinfo=UTC))
Edit = Callable[[dict[str, Any]], None]


def _user(raw: dict[str, Any], uid: str) -> dict[str, Any]:
    return next(u for u in raw["users"] if u["id"] == uid)


def sign_in(uid: str, created: str = "2023-01-10T09:00:00Z", **activity: Any) -> Edit:
    """Replace one user's signInActivity (keys absent from `activity` are absent from the object)."""
    def edit(raw: dict[str, Any]) -> None:
        user = _user(raw, uid)
        user["createdDateTime"] = created
        user["signInActivity"] = dict(activity)
    return edit


@dataclass(frozen=True)
class Case:
    edit: Edit
    check: str
    subject: str
    expect: str
    evidence: str = ""


CASES: dict[str, Case] = {
    # ---- IDA-ACCT-001: stale accounts decide on lastSuccessfulSignInDateTime --------------------------------
    "password-sprayed dormant account is stale": Case(
        sign_in(BEN, lastSignInDateTime="2026-11-27T03:00:00Z", lastSuccessfulSignInDateTime=None,
                lastNonInteractiveSignInDateTime=None),
        "IDA-ACCT-001", BEN, "fail", "no successful sign-in recorded"),
    "successful sign-in decides, not the attempt": Case(
        sign_in(BEN, lastSignInDateTime="2026-11-27T03:00:00Z", lastSuccessfulSignInDateTime="2026-03-01T08:00:00Z",
                lastNonInteractiveSignInDateTime="2026-03-01T08:00:00Z"),
        "IDA-ACCT-001", BEN, "fail", "lastSuccessfulSignInDateTime"),
    "non-interactive success keeps an account active": Case(
        sign_in(BEN, lastSignInDateTime="2026-01-02T08:00:00Z", lastSuccessfulSignInDateTime="2026-11-25T08:00:00Z",
                lastNonInteractiveSignInDateTime="2026-11-25T08:00:00Z"),
        "IDA-ACCT-001", BEN, "pass", "last successful sign-in 2026-11-25"),
    "recent attempt without the success field is unknown": Case(
        sign_in(BEN, lastSignInDateTime="2026-11-27T03:00:00Z", lastNonInteractiveSignInDateTime=None),
        "IDA-ACCT-001", BEN, "unknown", "successful or not"),
    "old attempts without the success field are stale": Case(
        sign_in(BEN, lastSignInDateTime="2026-01-02T08:00:00Z",
                lastNonInteractiveSignInDateTime="2026-02-02T08:00:00Z"),
        "IDA-ACCT-001", BEN, "fail", "lastNonInteractiveSignInDateTime"),
}


def verdict(tmp_path: Path, case: Case) -> Any:
    raw = raw_tenant()
    case.edit(raw)
    data = normalise(snap(tmp_path / "snap", raw))
    return row(run(data, case.check, NOW), case.subject)


@pytest.mark.parametrize("name", list(CASES))
def test_documented_semantics(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    got = verdict(tmp_path, case)
    assert got["status"] == case.expect, f"{name}: {got['status']} — {got['evidence']}"
    assert case.evidence.casefold() in str(got["evidence"]).casefold(), f"{name}: {got['evidence']}"
