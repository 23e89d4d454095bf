"""The 30/90-day action plan: findings rolled up into the actions an IT manager schedules.

One action per failing check (not per subject: "enrol these 14 users in MFA" is one piece of work), plus one
incident per user with a sign of takeover (due the day of the audit, first in the plan: revoke sessions, reset
credentials, remove the rule, review what was forwarded, HIPAA breach risk assessment), plus one
action per collection gap (a permission or licence to grant so the next run can see what this one could not).
Critical and high items are due within 30 days, the rest within 90 — the plan format small healthcare
organisations already use with their vCISO. Owner roles come from each check's metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from idaudit.core.engine import AuditRun
from idaudit.core.model import Framework, Severity, Status
from idaudit.core.takeover_signals import EXPOSURE_CHECKS
from reports.posture import Gap, collection_gaps
from reports.subjects import user_resolver, users_of_apps
from reports.takeover import short_subject, signs

DUE_DAYS = {"critical": 30, "high": 30, "medium": 90, "low": 90, "info": 90}
USER_KINDS = frozenset({"user", "mailbox"})


@dataclass(frozen=True)
class Action:
    priority: int
    due_days: int
    due_date: date
    owner_role: str
    action: str
    expected_outcome: str
    check_id: str
    severity: str
    subjects_affected: int
    users_affected: int | None  # None when the subjects are not users (apps, tenant settings)
    hipaa: str
    title: str
    what: str = ""  # what to do in a few words any reader follows (the Summary's five things to do this month)
    affected: str = ""  # who is affected, in words: "14 users", "3 mail rules in 2 mailboxes", "1 tenant setting"


def _hipaa(refs: object) -> str:
    return "; ".join(str(r) for r in refs if r.framework is Framework.HIPAA)  # type: ignore[attr-defined]


def _outcome(rationale: str) -> str:
    text = " ".join(rationale.split())
    cut = text.find(". ")
    first = text if cut < 0 else text[:cut + 1]
    return f"Closes this path: {first}"


def action_plan(run: AuditRun, start: date | None = None) -> list[Action]:
    start = start or run.data.collected_at.date()
    f = run.findings
    failing = f[f["status"] == Status.FAIL.value]
    metas = {m.id: m for m in run.checks}
    resolve = user_resolver(run.data)
    actions: list[Action] = incident_actions(run, start)
    for check_id, grp in failing.groupby("check_id"):
        meta = metas.get(str(check_id))
        if meta is None or (meta.family == TAKEOVER and meta.id not in EXPOSURE_CHECKS):  # an incident per user
            continue
        subjects = set(grp["subject_id"].astype(str))
        kind = meta.subject_kind.value
        users: int | None = None
        if kind == "app":
            users = users_of_apps(run.data, subjects)
        elif kind in USER_KINDS or kind == "rule":
            owners = {resolve(s) for s in subjects} - {None}
            users = len(owners) if owners else (len(subjects) if kind in USER_KINDS else None)
        days = DUE_DAYS.get(meta.severity.value, 90)
        actions.append(Action(0, days, start + timedelta(days=days), meta.owner_role,
                              meta.fix_for(run.data.provider), _outcome(meta.rationale), meta.id,
                              meta.severity.value, len(subjects), users, _hipaa(meta.references), meta.title,
                              meta.remediation, _affected(kind, len(subjects), users)))
    by_fix: dict[str, list[Gap]] = {}
    for gap in collection_gaps(run):
        by_fix.setdefault(gap.fix or f"see the Coverage sheet for '{gap.section}'", []).append(gap)
    for fix, gaps in by_fix.items():
        names = ", ".join(g.section for g in gaps)
        failed = sum(g.failed_subjects for g in gaps)
        what = "; ".join(f"'{g.section}' {g.status}" + (f" ({g.failed_subjects} subject(s) unreadable)"
                                                       if g.failed_subjects else "") for g in gaps)
        purposes = "; ".join(g.purpose for g in gaps if g.purpose) or names
        actions.append(Action(0, 30, start + timedelta(days=30), "IT manager",
                              f"Close a collection gap: {fix}. ({what})",
                              f"The next audit can check {purposes} instead of reporting unknown.",
                              "", "info", failed, None,
                              "HIPAA 164.308(a)(1)(ii)(A) Risk analysis", f"Collection gap: {names}",
                              f"Grant what the audit lacks: {fix}.", f"{len(gaps)} section(s) not collected"))
    actions.sort(key=lambda a: (a.due_days, -Severity(a.severity).rank, -a.subjects_affected, a.check_id))
    return [replace(a, priority=i) for i, a in enumerate(actions, 1)]


TAKEOVER = "takeover"
LOGGED_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?= UTC)")  # how the takeover evidence writes a time
INCIDENT_OWNER = "IT manager + privacy officer"
INCIDENT_STEPS = {
    "microsoft": (
        "1. Revoke sessions: Entra admin centre > Users > {user} > Revoke sessions (`Revoke-MgUserSignInSession "
        "-UserId {user}`). 2. Reset the password; delete the authentication methods the user did not register "
        "(Users > {user} > Authentication methods) and have them register again. 3. Remove what the attacker "
        "added: {added} (`Remove-InboxRule -Mailbox {user} -Identity <rule>`, `Set-Mailbox {user} "
        "-ForwardingSmtpAddress $null`; Enterprise applications > <app> > Permissions > revoke). 4. Review what "
        "was forwarded or read since {since}: Exchange admin centre > Mail flow > Message trace; Purview > Audit."),
    "google": (
        "1. Sign the user out everywhere: Admin console > Directory > Users > {user} > Security > Sign-in cookies "
        "> Reset (`gam user {user} signout`). 2. Reset the password; remove 2-step verification methods and "
        "recovery details the user did not add (Security > 2-step verification). 3. Remove what the attacker "
        "added: {added} (`gam user {user} delete filter <id>`, `gam user {user} forward off`, `gam user {user} "
        "delete token clientid <id>`). 4. Review what was forwarded or read since {since}: Reporting > Email Log "
        "Search."),
}
BREACH_STEP = (" 5. Run the HIPAA breach risk assessment (45 CFR 164.402: what PHI, who received it, whether it was "
               "viewed, how far the harm was mitigated) and document it; a breach is notified without unreasonable "
               "delay and within 60 days of discovery (164.404).")


def incident_actions(run: AuditRun, start: date) -> list[Action]:
    """One incident per user with a sign of takeover, due today, ahead of every other action."""
    steps = INCIDENT_STEPS.get(run.data.provider, INCIDENT_STEPS["microsoft"])
    metas = {m.id: m for m in run.checks}
    out = []
    for sign in signs(run):
        ids = tuple(dict.fromkeys(f[0] for f in sign.findings))
        added = "; ".join(dict.fromkeys(x for f in sign.findings if (x := short_subject(f[3], sign.user)))) or \
            "any rule, forwarding, app consent or MFA method the user did not set up"
        times = sorted(t for f in sign.findings for t in LOGGED_TIME.findall(f[4]))
        since = f"{times[0]} UTC" if times else "the start of the log window"
        hipaa = "; ".join(dict.fromkeys(h for i in ids if i in metas for h in _hipaa(metas[i].references).split("; ")
                                        if h))
        titles = "; ".join(dict.fromkeys(f[1] for f in sign.findings))
        out.append(Action(0, 0, start, INCIDENT_OWNER,
                          steps.format(user=sign.user, added=added, since=since) + BREACH_STEP,
                          "The attacker loses the session, the password, the second factor and the rule or app that "
                          "kept their access; what left the mailbox is known and the breach decision is documented.",
                          ", ".join(ids), sign.severity, len(sign.findings), 1, hipaa,
                          f"Incident: possible takeover of {sign.user}",
                          f"Respond today to a possible takeover of {sign.user} ({titles}): revoke sessions, reset "
                          "credentials, remove the rule, forwarding or app, review what was forwarded, HIPAA breach "
                          "risk assessment.", "1 user"))
    return out


KIND_WORDS = {"user": ("user", "users"), "mailbox": ("mailbox", "mailboxes"), "rule": ("mail rule", "mail rules"),
              "app": ("app", "apps"), "tenant": ("tenant setting", "tenant settings"),
              "policy": ("policy", "policies"), "role": ("role", "roles")}


def _count(n: int, kind: str) -> str:
    one, many = KIND_WORDS.get(kind, (kind, f"{kind}s"))
    return f"{n} {one if n == 1 else many}"


def _affected(kind: str, subjects: int, users: int | None) -> str:
    """The reach of one failing check in words, with the same numbers the Action plan's columns hold."""
    if kind in USER_KINDS:
        return _count(subjects if users is None else users, kind)
    text = _count(subjects, kind)
    if users is None:
        return text
    return f"{text} ({_count(users, 'user')}{' with access' if kind == 'app' else ''})"
