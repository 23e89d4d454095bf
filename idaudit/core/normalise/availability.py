"""Section status -> table availability, with a reason a reader can act on.

A normaliser never guesses: when a section it needs was not collected, the table it feeds is `missing` (or
`partial`), and the reason names the section, what happened, and the permission or licence that would fix it
(from the section catalogue, idaudit.core.sections) — e.g. "userRegistrationDetails: unlicensed — 403 ...; fix: grant
AuditLog.Read.All (application); requires Microsoft Entra ID P1".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from idaudit.core.sections import section_spec
from idaudit.core.snapshot import Snapshot
from idaudit.core.tables import Availability, TableStatus


def section_reason(snap: Snapshot, name: str) -> str:
    """Why section `name` cannot be used ('' when it is usable)."""
    rec = snap.section(name)
    spec = section_spec(snap.manifest.provider, name)
    fix = f"; fix: {spec.fix}" if spec is not None and spec.fix else ""
    if rec is None:
        incomplete = "" if snap.manifest.complete else " (the collection was interrupted)"
        return f"{name}: not collected{incomplete}{fix}"
    if rec.usable:
        if snap.raw.get(name) is None and spec is not None and spec.shape != "status_only":
            return f"{name}: listed as ok but its file holds no data{fix}"
        return ""
    detail = f" — {rec.detail}" if rec.detail else ""
    return f"{name}: {rec.status.value}{detail}{fix}"


def usable(snap: Snapshot, name: str) -> bool:
    rec = snap.section(name)
    if rec is None or not rec.usable:
        return False
    spec = section_spec(snap.manifest.provider, name)
    return (spec is not None and spec.shape == "status_only") or snap.raw.get(name) is not None


def failed_subjects(snap: Snapshot, *names: str) -> dict[str, str]:
    """Subjects (user ids) whose part of a per-user section failed, with '<section>: <reason>'."""
    out: dict[str, str] = {}
    for name in names:
        rec = snap.section(name)
        if rec is None or not rec.usable:
            continue
        for sid, why in rec.failed_subjects.items():
            out.setdefault(sid, f"{name}: {why}")
    return out


def missing(snap: Snapshot, *names: str) -> TableStatus:
    """The table cannot be built: every listed section's reason, joined."""
    reasons = [r for r in (section_reason(snap, n) for n in names) if r]
    return TableStatus.missing("; ".join(reasons) or "not collected", *names)


def built(sections: Iterable[str], missing_subjects: Mapping[str, str] | None = None, gaps: Iterable[str] = ()
          ) -> TableStatus:
    """A table that was built: `ok`, or `partial` when some subjects failed or a part (named in gaps) is absent."""
    subjects = dict(missing_subjects or {})
    gap_list = [g for g in gaps if g]
    secs = tuple(sections)
    if subjects or gap_list:
        reason = "; ".join(gap_list) if gap_list else (
            f"{len(subjects)} subject(s) could not be collected (listed per subject)")
        return TableStatus(Availability.PARTIAL, reason=reason, sections=secs, missing_subjects=subjects)
    return TableStatus(Availability.OK, sections=secs)
