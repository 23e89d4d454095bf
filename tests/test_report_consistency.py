"""The workbook's sheets tell one story: the counts on the Summary, the Checks sheet, the Action plan ("subjects
affected", "users affected") and the Users sheet ("open findings") agree with the Findings sheet, for every check,
on both demo tenants (issue 18).

Everything is recomputed from the sheets themselves, as a reader with a filter would: the Findings sheet's rows,
the Users sheet's ids, the Forwarding sheet's rule owners and the Apps sheet's consents.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from idaudit.orchestration.demo import run_demo
from reports.posture import SEVERITY_ORDER, STATUS_ORDER


def _table(wb: openpyxl.Workbook, sheet: str) -> list[dict[str, Any]]:
    rows = [r for r in wb[sheet].iter_rows(values_only=True)]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


@pytest.fixture(scope="module", params=("microsoft", "google"))
def book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    out: Path = tmp_path_factory.mktemp(f"consistency-{request.param}")
    result = run_demo(out, users=300, provider=request.param, formats=("xlsx",), direct=True, progress=False)
    return openpyxl.load_workbook(result.reports[0])


@pytest.fixture(scope="module")
def findings(book: openpyxl.Workbook) -> list[dict[str, Any]]:
    return _table(book, "Findings")


def test_checks_sheet_counts_are_the_findings_sheets(book: openpyxl.Workbook,
                                                     findings: list[dict[str, Any]]) -> None:
    counted = Counter((f["Check"], f["Status"]) for f in findings)
    checks = _table(book, "Checks")
    assert checks
    for c in checks:
        shown = [c[s if s != "not_applicable" else "not applicable"] for s in STATUS_ORDER]
        assert shown == [counted[(c["Check"], s)] for s in STATUS_ORDER], c["Check"]


def test_summary_totals_are_the_findings_sheets(book: openpyxl.Workbook, findings: list[dict[str, Any]]) -> None:
    rows = list(book["Summary"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r[:6] == ("severity", *STATUS_ORDER))
    by = Counter((f["Severity"], f["Status"]) for f in findings)
    for offset, sev in enumerate(SEVERITY_ORDER, 1):
        assert rows[head + offset][:6] == (sev, *(by[(sev, s)] for s in STATUS_ORDER))
    total = Counter(f["Status"] for f in findings)
    assert rows[head + 6][:6] == ("all findings", *(total[s] for s in STATUS_ORDER))


def _owners(book: openpyxl.Workbook) -> tuple[set[str], dict[str, str], dict[str, str]]:
    """User ids, principal -> user id, and rule id -> user id, from the Users and Forwarding sheets."""
    users = _table(book, "Users")
    ids = {str(u["User id"]) for u in users}
    by_principal = {str(u["User"]): str(u["User id"]) for u in users}
    rules = {str(r["Rule id"]): by_principal[str(r["User"])] for r in _table(book, "Forwarding")
             if r.get("Rule id") and str(r["User"]) in by_principal}
    return ids, by_principal, rules


def _user_of(subject_id: str, ids: set[str], rules: dict[str, str]) -> str | None:
    if subject_id in ids:
        return subject_id
    if subject_id in rules:
        return rules[subject_id]
    head, sep, _ = subject_id.partition(":")
    return head if sep and head in ids else None


def test_action_plan_counts_are_the_findings_sheets_for_every_failing_check(
        book: openpyxl.Workbook, findings: list[dict[str, Any]]) -> None:
    ids, by_principal, rules = _owners(book)
    failing: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, str] = {}
    for f in findings:
        if f["Status"] == "fail":
            failing[f["Check"]].add(str(f["Subject id"]))
            kinds[f["Check"]] = f["Subject kind"]
    rows = _table(book, "Action plan")
    # Signs of takeover are one incident per user (reports.actions.incident_actions), naming every sign's check
    incidents = [p for p in rows if str(p["Finding"]).startswith("Incident: possible takeover of ")]
    signs = {c for p in incidents for c in str(p["Check"]).split(", ")}
    plan = {p["Check"]: p for p in rows if p["Check"] and p not in incidents}
    assert set(plan) | signs == set(failing) and not set(plan) & signs, "one action per failing check, no more"
    assert all(p["Users affected"] == 1 for p in incidents)
    assert sum(p["Subjects affected"] for p in incidents) == sum(len(failing[c]) for c in signs)
    apps = _table(book, "Apps and consents")
    enabled = sum(1 for u in _table(book, "Users") if u["Enabled"] == "yes")
    for check, subjects in failing.items():
        if check in signs:
            continue
        action = plan[check]
        assert action["Subjects affected"] == len(subjects), check
        kind = kinds[check]
        if kind == "app":
            grants = [a for a in apps if a["App id"] in subjects]
            if any(a["Consented for"] in ("all_users", "application") for a in grants):
                expected: int | None = enabled
            else:
                expected = len({by_principal.get(str(a["User"])) for a in grants if a["User"]} - {None}) or None
        elif kind in ("user", "mailbox", "rule"):
            people = {_user_of(s, ids, rules) for s in subjects} - {None}
            expected = len(people) if people else (len(subjects) if kind != "rule" else None)
        else:
            expected = None
        assert action["Users affected"] == expected, f"{check} ({kind})"


def test_users_sheet_open_findings_are_the_findings_sheets(book: openpyxl.Workbook,
                                                           findings: list[dict[str, Any]]) -> None:
    ids, _, rules = _owners(book)
    per_user = Counter(u for f in findings if f["Status"] == "fail"
                       if (u := _user_of(str(f["Subject id"]), ids, rules)) is not None)
    users = _table(book, "Users")
    assert sum(per_user.values()) > 0
    for u in users:
        assert u["Open findings"] == per_user[str(u["User id"])], u["User"]


def test_summary_things_to_do_count_what_the_findings_sheet_counts(book: openpyxl.Workbook,
                                                                   findings: list[dict[str, Any]]) -> None:
    failing: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        if f["Status"] == "fail":
            failing[f["Title"]].add(str(f["Subject id"]))
    plan = {p["#"]: p for p in _table(book, "Action plan")}
    things = [v for r in book["Summary"].iter_rows(values_only=True) for v in r
              if isinstance(v, str) and re.match(r"[1-5]\. ", v)]
    assert len(things) == 5
    for text in things:
        number, rest = text.split(". ", 1)
        action = plan[int(number)]
        assert rest.startswith(f"{action['Finding']} — "), (text, action["Finding"])
        if action["Finding"].startswith("Incident: possible takeover of "):  # one incident per user
            assert re.search(r" — 1 user ", text) and action["Users affected"] == 1, text
        elif action["Check"]:
            count = int(re.search(r" — (\d+) ", text).group(1))  # type: ignore[union-attr]
            assert count == len(failing[action["Finding"]]) == action["Subjects affected"], text


def test_action_plan_and_checks_sheet_speak_of_the_tenants_own_provider_only(book: openpyxl.Workbook) -> None:
    """A Microsoft tenant's plan used to say "Google: Admin console > ..." and `gam ...` in the same cell."""
    # the facts row (its place moves with the call-outs above it): "Organisation", name, "Provider", provider
    provider = next(r[4] for r in book["Summary"].iter_rows(values_only=True) if r[3] == "Provider")
    text = " ".join(str(p["Action"]) for p in _table(book, "Action plan"))
    text += " ".join(str(c["Remediation"]) for c in _table(book, "Checks"))
    google_words, microsoft_words = ("Google:", "gam ", "Admin console"), ("Entra", "PowerShell", "Exchange admin")
    if provider == "microsoft":
        assert "Entra admin centre" in text and not [w for w in google_words if w in text]
    else:
        assert provider == "google" and "Admin console" in text and not [w for w in microsoft_words if w in text]
