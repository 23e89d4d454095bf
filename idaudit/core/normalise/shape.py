"""Shape check of raw sections before normalising: a malformed file becomes a section gap, never a crash or a pass.

A snapshot can come from anyone's export (docs/snapshot-format.md), so a section file may be valid JSON of the
wrong shape: an object where the catalogue (idaudit.core.sections) says array, a string where a user's list of inbox
rules belongs, a number among the users. The normalisers read the documented shapes; rather than teach every
reader to distrust every value, this module rewrites the loaded snapshot once:

- a section whose top level is not the documented shape, or a `list` section holding a non-object element,
  becomes status `error` with the reason ("malformed: ...") — its tables are `missing`, its checks `unknown`;
- a user without a string `id` makes the `users` section `error` too (ids are the subjects' keys: a user
  who cannot be named could not be reported, and would silently drop out of every count);
- in a per-user / per-key section, a subject whose value is neither null nor the documented shape is added to
  `failed_subjects` and its value removed (the section stays usable; that subject's checks are `unknown`).

Only the snapshot in memory changes; the files on disk are left as they are.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from idaudit.core.sections import section_spec
from idaudit.core.snapshot import Manifest, SectionRecord, SectionStatus, Snapshot

PER_SUBJECT_LIST = frozenset({"per_user_list", "per_key_list"})
PER_SUBJECT_OBJECT = frozenset({"per_user_object", "per_key_object"})
SUBJECT_SECTIONS = frozenset({"users"})  # list sections whose objects' `id` is the subject key of other sections


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _list_problem(value: Any, what: str, string_ids: bool = False) -> str:
    """'' when value is an array of objects (with string ids when asked), else what is wrong with it."""
    if not isinstance(value, list):
        return f"{what} is {_kind(value)}, expected an array of objects"
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            return f"{what}[{i}] is {_kind(item)}, expected an object"
        if string_ids and not (isinstance(item.get("id"), str) and item["id"]):
            got = _kind(item["id"]) if "id" in item else "missing"
            return f"field 'id' of {what}[{i}] is {got}, expected a non-empty string"
    return ""


def _check_section(name: str, shape: str, raw: Any) -> tuple[str, dict[str, str]]:
    """(whole-section problem, {subject: problem}) for one section's raw JSON."""
    if shape == "list":
        return _list_problem(raw, "the file", string_ids=name in SUBJECT_SECTIONS), {}
    if shape == "object":
        return ("" if isinstance(raw, dict) else f"the file is {_kind(raw)}, expected an object"), {}
    if shape in PER_SUBJECT_LIST or shape in PER_SUBJECT_OBJECT:
        if not isinstance(raw, dict):
            return f"the file is {_kind(raw)}, expected an object keyed by id", {}
        bad: dict[str, str] = {}
        for key, value in raw.items():
            if value is None:
                continue  # documented: no mailbox / no Gmail
            if shape in PER_SUBJECT_OBJECT:
                problem = "" if isinstance(value, dict) else f"value is {_kind(value)}, expected an object"
            else:
                problem = _list_problem(value, "value")
            if problem:
                bad[str(key)] = f"malformed in the snapshot: {problem}"
        return "", bad
    return "", {}  # status_only and sections outside the catalogue: nothing to check


def checked_snapshot(snap: Snapshot) -> Snapshot:
    """The snapshot with malformed sections marked `error` and malformed subjects marked failed."""
    provider = snap.manifest.provider
    sections: dict[str, SectionRecord] = dict(snap.manifest.sections)
    raw = dict(snap.raw)
    changed = False
    for name, rec in snap.manifest.sections.items():
        spec = section_spec(provider, name)
        if spec is None or not rec.usable or name not in snap.raw:
            continue
        problem, bad_subjects = _check_section(name, spec.shape, snap.raw[name])
        where = f"{rec.file or name}"
        if problem:
            sections[name] = SectionRecord(name=name, status=SectionStatus.ERROR, file=rec.file, count=rec.count,
                                           detail=f"malformed file {where}: {problem}", request=rec.request)
            raw.pop(name, None)
            changed = True
        elif bad_subjects:
            failed = dict(rec.failed_subjects)
            for sid, why in bad_subjects.items():
                failed.setdefault(sid, f"{why} ({where})")
            sections[name] = replace(rec, failed_subjects=failed)
            # Readers that do not consult failed_subjects must not see the malformed value either.
            raw[name] = {k: v for k, v in snap.raw[name].items() if str(k) not in bad_subjects}
            changed = True
    if not changed:
        return snap
    manifest: Manifest = replace(snap.manifest, sections=sections)
    return Snapshot(path=snap.path, manifest=manifest, raw=raw)
