"""Pseudonymised reports: stable across runs with the same key, different with another, no real names left."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from idaudit.core.errors import IdauditError
from reports import write_reports
from reports.pseudonym import Pseudonymizer, load_or_create_key
from tests.report_fixtures import Week, build_data, build_run

REAL = ["alice.nurse", "Alice Nightingale", "bob.admin", "Bob Administrator", "carol@clinic.example",
        "Carol Frontdesk", "bob.private@gmail.com", "collector@proton.example", "u-alice", "u-bob"]


def _all_text(paths: list[Path]) -> str:
    chunks = []
    for p in paths:
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as z:  # every XML part: cells, sheet names, chart titles
                chunks += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        else:
            chunks.append(p.read_text(encoding="utf-8"))
    return "\n".join(chunks)


def test_key_file_created_owner_only_and_reused(tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "pseudonym.key"
    k1 = load_or_create_key(key_path)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600 and len(k1) == 32
    assert load_or_create_key(key_path) == k1
    os.chmod(key_path, 0o644)
    with pytest.raises(IdauditError, match="readable by others"):
        load_or_create_key(key_path)


def test_no_real_names_in_any_format(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "k")
    week1 = build_run(Week())
    week2 = build_run(Week(day=date(2026, 11, 9), new_forward=True))
    paths = write_reports(week2, tmp_path / "out", ["xlsx", "html", "csv", "json"], previous=week1,
                          pseudonymize_key=key)
    text = _all_text(paths)
    for name in REAL:
        assert name.casefold() not in text.casefold(), f"{name!r} leaked into a pseudonymised report"
    assert "@gmail.com" in text and "@proton.example" in text  # the domain, the point of the finding, stays
    assert "Lakeside Surgery Center" in text


def test_pseudonyms_stable_across_runs_and_keys(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "k")
    other = load_or_create_key(tmp_path / "k2")

    def users(k: bytes, day: date) -> dict[str, str]:
        out = tmp_path / f"{k.hex()[:6]}-{day}"
        path = write_reports(build_run(Week(day=day)), out, ["xlsx"], pseudonymize_key=k)[0]
        ws = openpyxl.load_workbook(path)["Users"]
        rows = list(ws.iter_rows(values_only=True))
        i_user, i_mfa = rows[0].index("User"), rows[0].index("MFA registered")
        return {str(r[i_user]): str(r[i_mfa]) for r in rows[1:]}

    a = users(key, date(2026, 11, 2))
    b = users(key, date(2026, 11, 9))
    c = users(other, date(2026, 11, 2))
    assert a == b  # same key, next week: same pseudonyms, same facts
    assert set(a) != set(c) and len(set(a) & set(c)) == 0  # another key: unlinkable
    assert all(u.startswith("user-") for u in a)


def test_changes_sheet_still_matches_under_pseudonyms(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "k")
    week1 = build_run(Week())
    week2 = build_run(Week(day=date(2026, 11, 9), alice_mfa=True))
    path = write_reports(week2, tmp_path, ["xlsx"], previous=week1, pseudonymize_key=key)[0]
    rows = list(openpyxl.load_workbook(path)["Changes since last run"].iter_rows(values_only=True))[1:]
    resolved = [r for r in rows if r[0] == "resolved"]
    assert len(resolved) == 1 and resolved[0][1] == "IDA-AUTH-901" and str(resolved[0][4]).startswith("user-")
    assert not any(r[0] == "new" for r in rows)  # pseudonymising the old run the same way: nothing spurious


def test_pseudonymizer_text_replaces_names_and_addresses() -> None:
    data = build_data()
    pz = Pseudonymizer(b"k" * 32, data.tables["users"])
    out = pz.text("Alice Nightingale (alice.nurse@clinic.example) forwards to someone@gmail.com")
    assert "Alice" not in out and "alice" not in out and "someone" not in out
    assert out.count("user-") == 2 and "@gmail.com" in out
    assert pz.text("someone@gmail.com") == pz.text("SOMEONE@gmail.com")
    doc = json.dumps({"x": out})
    assert "Nightingale" not in doc


def test_name_matching_respects_word_boundaries_and_odd_names() -> None:
    import pandas as pd

    from idaudit.core.tables import make_table

    users = make_table("users", [
        {"user_id": "id-1", "principal": "ann.lee@x.example", "display_name": "Ann Lee", "mail": ""},
        {"user_id": "id-2", "principal": "ann.lees@x.example", "display_name": "Ann Lee-Smith", "mail": ""},
        {"user_id": "id-3", "principal": "odd@x.example", "display_name": '=HYPERLINK("http://e/x","Go")',
         "mail": ""},
    ])
    pz = Pseudonymizer(b"q" * 32, users)
    a, b, c = pz.user("id-1"), pz.user("id-2"), pz.user("id-3")
    assert len({a, b, c}) == 3
    assert pz.text("Ann Lee and ann lee-smith met Ann Leeds") == f"{a} and {b} met Ann Leeds"
    assert pz.text('rule by =HYPERLINK("http://e/x","Go") today') == f"rule by {c} today"
    assert pz.series(pd.Series(["Ann Lee", "Ann Lee"])).tolist() == [a, a]


def test_sign_in_addresses_and_countries_are_pseudonymised() -> None:
    """Issue 20: IP addresses and the countries the logs place them in are personal data (where someone was)."""
    from reports.pseudonym import Pseudonymizer

    pz = Pseudonymizer(b"k" * 32)
    text = ("2026-11-30 13:00 UTC: first successful sign-in from a new country from 203.0.113.20 (NG) "
            "(earlier in the window: US, CA); Set-Mailbox from 2001:db8::1 (US) at 13:03:00")
    out = pz.text(text)
    for leaked in ("203.0.113.20", "2001:db8::1", "(NG)", "(US)", "US, CA"):
        assert leaked not in out, out
    assert "13:03:00" in out and out.count(pz.ip("203.0.113.20")) == 1
    assert pz.text("from 203.0.113.20 (NG)") == f"from {pz.ip('203.0.113.20')} ({pz.country('NG')})"
