"""The snapshot contract: round trip, incomplete marking, and clear errors naming file and field."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from idaudit.core.errors import SnapshotError
from idaudit.core.snapshot import MANIFEST, SectionStatus, SnapshotWriter, load_snapshot


def _write(tmp_path: Path) -> Path:
    d = tmp_path / "snap"
    w = SnapshotWriter(d, "microsoft", "tid-1", "Riverside")
    w.add("users", [{"id": "u1", "displayName": "=HYPERLINK(\"x\")"}], request="GET /v1.0/users")
    w.add("inboxRules", {"u1": [], "u2": None}, failed_subjects={"u3": "error: timeout"})
    w.fail("userRegistrationDetails", SectionStatus.UNLICENSED, "needs Entra ID P1")
    w.finish()
    return d


def test_round_trip_keeps_raw_objects_and_statuses(tmp_path: Path) -> None:
    snap = load_snapshot(_write(tmp_path))
    assert snap.manifest.provider == "microsoft"
    assert snap.manifest.complete is True
    assert snap.data("users") == [{"id": "u1", "displayName": "=HYPERLINK(\"x\")"}]
    assert snap.data("inboxRules") == {"u1": [], "u2": None}
    assert snap.section("inboxRules").failed_subjects == {"u3": "error: timeout"}  # type: ignore[union-attr]
    assert snap.section("userRegistrationDetails").status is SectionStatus.UNLICENSED  # type: ignore[union-attr]
    assert snap.data("userRegistrationDetails") is None


def test_files_are_owner_only(tmp_path: Path) -> None:
    d = _write(tmp_path)
    for f in d.iterdir():
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700


def test_unfinished_writer_leaves_incomplete_manifest(tmp_path: Path) -> None:
    d = tmp_path / "snap"
    w = SnapshotWriter(d, "microsoft", "tid", "T")
    w.add("users", [])
    # no finish(): an interrupted collection
    assert load_snapshot(d).manifest.complete is False


@pytest.mark.parametrize("mutate, expected", [
    (lambda m: m.update(format_version=7), "format_version 7 is not supported"),
    (lambda m: m.update(format="other"), "field 'format'"),
    (lambda m: m.pop("provider"), "missing field 'provider'"),
    (lambda m: m["sections"]["users"].update(status="great"), "sections.users.status"),
    (lambda m: m["sections"]["users"].update(file="../etc/passwd"), "sections.users.file"),
    (lambda m: m.update(collected_at="yesterday"), "collected_at"),
])
def test_bad_manifest_names_file_and_field(tmp_path: Path, mutate, expected: str) -> None:  # type: ignore[no-untyped-def]
    d = _write(tmp_path)
    m = json.loads((d / MANIFEST).read_text())
    mutate(m)
    (d / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(SnapshotError) as err:
        load_snapshot(d)
    assert expected in str(err.value)
    assert str(d / MANIFEST) in str(err.value)


def test_malformed_section_file_names_the_file(tmp_path: Path) -> None:
    d = _write(tmp_path)
    (d / "users.json").write_text("{not json")
    with pytest.raises(SnapshotError) as err:
        load_snapshot(d)
    assert "users.json" in str(err.value) and "not valid JSON" in str(err.value)


def test_missing_directory_and_manifest(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="not a snapshot directory"):
        load_snapshot(tmp_path / "nope")
    with pytest.raises(SnapshotError, match=r"manifest\.json"):
        load_snapshot(tmp_path)
