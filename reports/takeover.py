"""Signs of takeover in the reports: the "Signs of takeover" sheet, the red call-out at the top of the Summary and
in the notification, and the incident actions at the head of the action plan.

A sign is a failing check of the takeover family (checks/takeover.py). The sheet groups the signs by user and
lays out that user's logged events of the window as a timeline — time, what happened, address, country, actor and
the log it comes from — so whoever responds sees the sequence (a sign-in from a new country, an authenticator
registered from the same address, a consent, the forwarding rule) without reading the raw logs. What the logs
could not show (a section not collected, an address with no sign-in to place it) is said, never filled in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
from openpyxl.workbook import Workbook

from idaudit.core.engine import AuditRun
from idaudit.core.model import Severity, Status
from idaudit.core.tables import AuditData
from idaudit.core.takeover_signals import EXPOSURE_CHECKS, new_countries
from reports.sheetio import BOLD, Column, SheetWriter, Styled, severity_cell, status_cell
from reports.subjects import user_resolver

SHEET = "Signs of takeover"
FAMILY = "takeover"
# The tables the takeover checks read; one not collected is named on the sheet.
LOG_TABLES = ("change_events", "sign_in_countries", "sign_in_summary", "risk_detections", "risky_users")
NOT_LOGGED = "not logged"


@dataclass(frozen=True)
class Sign:
    """The failing takeover findings of one user (or of one subject no user could be found for)."""

    user_id: str
    user: str
    findings: tuple[tuple[str, str, str, str, str], ...]  # (check id, title, severity, subject, evidence)

    @property
    def severity(self) -> str:
        return max((f[2] for f in self.findings), key=lambda s: Severity(s).rank)


@dataclass(frozen=True)
class Event:
    time: Any  # pd.Timestamp or NaT
    what: str
    ip: str
    country: str
    actor: str
    log: str


def _families(run: AuditRun) -> dict[str, str]:
    return {m.id: m.family for m in run.checks}


def _is_sign(check_id: object, families: dict[str, str]) -> bool:
    return families.get(str(check_id)) == FAMILY and str(check_id) not in EXPOSURE_CHECKS


def signs(run: AuditRun) -> list[Sign]:
    """Failing takeover findings grouped by the user they concern, most severe first (the exposure checks, such
    as password-only sign-ins, are findings but not signs)."""
    families = _families(run)
    f = run.findings
    hit = f[(f["status"] == Status.FAIL.value) & f["check_id"].map(lambda c: _is_sign(c, families))]
    if hit.empty:
        return []
    resolve = user_resolver(run.data)
    labels = run.data.user_labels()
    grouped: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for r in hit.itertuples(index=False):
        uid = resolve(str(r.subject_id)) or ""
        key = uid or f"subject:{r.subject_id}"
        grouped.setdefault(key, []).append((str(r.check_id), str(r.title), str(r.severity), str(r.subject),
                                            str(r.evidence)))
    out = []
    for key, rows in grouped.items():
        uid = "" if key.startswith("subject:") else key
        name = labels.get(uid, uid) if uid else rows[0][3].split(":")[0]
        out.append(Sign(uid, name, tuple(sorted(rows))))
    out.sort(key=lambda s: (-Severity(s.severity).rank, s.user.casefold()))
    return out


def callout_lines(run: AuditRun) -> list[str]:
    """One red line per user with a sign of takeover (the Summary, the HTML report and the notification)."""
    lines = []
    for s in signs(run):
        titles = "; ".join(dict.fromkeys(t for _, t, _, _, _ in s.findings))
        lines.append(f"SIGN OF TAKEOVER — {s.user}: {titles}. Treat it as an incident now: see the "
                     f"'{SHEET}' sheet and the action plan.")
    return lines


def _ts(value: Any) -> Any:
    t = pd.Timestamp(value) if value is not None and value != "" else pd.NaT
    return t


def timeline(data: AuditData, user_id: str) -> list[Event]:
    """The user's logged events of the window, oldest first: changes to the account, mailbox or grants (by anyone,
    or made by the user), the first successful sign-in from each country, and Identity Protection's detections."""
    out: list[Event] = []
    if data.available("sign_in_countries"):
        new = {n.country for n in new_countries(data).get(user_id, [])}
        c = data.table("sign_in_countries")
        for r in c[c["user_id"] == user_id].itertuples(index=False):
            tag = " (new country)" if r.country in new else ""
            out.append(Event(_ts(r.first_seen), f"first successful sign-in from this country{tag}; "
                             f"{r.sign_ins} in the window", str(r.first_ip), str(r.country), "the user",
                             "sign-in log"))
    if data.available("change_events"):
        ev = data.table("change_events")
        mine = ev[(ev["user_id"] == user_id) | (ev["actor_id"] == user_id)]
        for r in mine.itertuples(index=False):
            what = str(r.operation) + (f" '{r.object}'" if str(r.object) else "")
            if str(r.detail):
                what += f" ({r.detail})"
            out.append(Event(_ts(r.time), what, str(r.ip), str(r.country), str(r.actor) or NOT_LOGGED,
                             str(r.source)))
    if data.available("risk_detections"):
        d = data.table("risk_detections")
        for r in d[d["user_id"] == user_id].itertuples(index=False):
            out.append(Event(_ts(r.time), f"Identity Protection: {r.event_type} ({r.level} risk, {r.state})",
                             str(r.ip), str(r.country), "", "riskDetections"))
    out.sort(key=lambda e: (pd.isna(e.time), e.time if not pd.isna(e.time) else pd.Timestamp(0, tz="UTC")))
    return out


def _window(data: AuditData) -> str:
    if data.log_window is None:
        return "no log window recorded (the snapshot holds no time-bounded log)"
    start, end = data.log_window
    days = max(round((end - start).total_seconds() / 86400), 1)
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({days} days)"


def _gaps(data: AuditData) -> list[str]:
    out = []
    for name in LOG_TABLES:
        if name in data.tables and not data.available(name):
            st = data.status.get(name)
            out.append(f"{name}: {st.reason if st and st.reason else 'not collected'}")
    return out


def _unknowns(run: AuditRun) -> Iterator[tuple[str, str, int, str]]:
    """(check id, title, count, first evidence) of the takeover checks that could not decide some subjects."""
    families = _families(run)
    f = run.findings
    u = f[(f["status"] == Status.UNKNOWN.value) & f["check_id"].map(lambda c: _is_sign(c, families))]
    for check_id, grp in u.groupby("check_id", sort=True):
        yield str(check_id), str(grp["title"].iloc[0]), len(grp), str(grp["evidence"].iloc[0])


def _exposures(run: AuditRun) -> Iterator[tuple[str, str, int]]:
    """(check id, title, failing subjects) of the exposure checks: open doors the log shows, not signs."""
    f = run.findings
    e = f[(f["status"] == Status.FAIL.value) & f["check_id"].isin(list(EXPOSURE_CHECKS))]
    for check_id, grp in e.groupby("check_id", sort=True):
        yield str(check_id), str(grp["title"].iloc[0]), len(grp)


def short_subject(subject: str, user: str) -> str:
    """A finding's subject without the user's name in front (the sheet and the incident name the user already)."""
    head, sep, rest = subject.partition(": ")
    return rest if sep and head == user else ("" if subject == user else subject)


COLUMNS = [
    Column("User", 26, wrap=True), Column("Sign, or event of the window", 46, wrap=True), Column("Time (UTC)", 16),
    Column("IP address", 15, wrap=True), Column("Country", 8), Column("Actor", 22, wrap=True),
    Column("Log", 13, wrap=True), Column("Status", 8), Column("Severity", 9),
    Column("Check id", 12, printed=False),
]
SPAN = len(COLUMNS) - 2  # a note runs across the printed columns after the first


def write_takeover(wb: Workbook, run: AuditRun) -> None:
    data = run.data
    s = SheetWriter(wb, SHEET, COLUMNS, freeze_header=True)
    s.header()
    s.row([Styled("Log window", font=BOLD), Styled(_window(data), wrap=True, span=SPAN)])
    for gap in _gaps(data):
        s.row([Styled("Not collected", font=BOLD), Styled(gap, wrap=True, span=SPAN)])
    found = signs(run)
    if not found:
        s.row([Styled("No sign", font=BOLD), Styled(
            "No takeover check fails: no forwarding or hiding rule after a risky sign-in, no mail-reading consent by "
            "a non-admin, no MFA method from an unfamiliar address" + ("" if data.provider == "google" else
                                                                        ", no unremediated high-risk user")
            + " in the log window. That is what the logs read can show, not proof of no compromise: see "
              "docs/semantics.md, 'Signs of takeover'.", wrap=True, span=SPAN)])
    for sign in found:
        s.blank()
        for check_id, title, severity, subject, evidence in sign.findings:
            what = short_subject(subject, sign.user)
            s.row([Styled(sign.user, font=BOLD), Styled(f"{title}{': ' + what if what else ''}. {evidence}",
                                                        wrap=True), "", "", "", "", "",
                   status_cell(Status.FAIL.value), severity_cell(severity), check_id])
        if not sign.user_id:
            continue
        events = timeline(data, sign.user_id)
        if not events:
            s.row([sign.user, Styled("no event of this user in the logs read", wrap=True)])
        for e in events:
            s.row([sign.user, Styled(e.what, wrap=True),
                   e.time.to_pydatetime() if not pd.isna(e.time) else NOT_LOGGED,
                   e.ip or NOT_LOGGED, e.country or "not known", e.actor, e.log])
    exposures = list(_exposures(run))
    if exposures:
        s.blank()
        for check_id, title, n in exposures:
            s.row([Styled("Open door", font=BOLD), Styled(
                f"{title}: {n} account{'' if n == 1 else 's'} in the window (see the Findings sheet). Not a sign "
                "that someone else signed in, but the way a stolen password gets in.", wrap=True), "", "", "", "",
                "", status_cell(Status.FAIL.value), "", check_id])
    unknown = list(_unknowns(run))
    if unknown:
        s.blank()
        for check_id, title, n, evidence in unknown:
            s.row([Styled("Could not tell", font=BOLD), Styled(
                f"{title}: {n} case{'' if n == 1 else 's'} the logs could not decide, e.g. {evidence}", wrap=True),
                "", "", "", "", "", status_cell(Status.UNKNOWN.value), "", check_id])
