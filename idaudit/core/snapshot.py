"""The snapshot: the contract between collection and checking (format documented in docs/snapshot-format.md).

A snapshot is a directory holding `manifest.json` and one JSON file per collected section, each holding the API
objects exactly as the provider returned them (after paging). Re-running checks on an old snapshot needs no
network, and anyone can build a snapshot from their own export.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idaudit.core.atomic import write_text_atomic
from idaudit.core.errors import SnapshotError
from idaudit.core.version import __version__

FORMAT_NAME = "idaudit-snapshot"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SUPPORTED_VERSIONS = frozenset({1})


class SectionStatus(enum.StrEnum):
    OK = "ok"
    FORBIDDEN = "forbidden"  # 403: a permission was not granted
    UNLICENSED = "unlicensed"  # 403 for a missing licence (Entra ID P1/P2, Workspace edition)
    NOT_FOUND = "not_found"  # the endpoint or object does not exist in this tenant
    ERROR = "error"  # anything else: timeout, 5xx after retries, parse error


@dataclass(frozen=True)
class SectionRecord:
    """What the manifest says about one section.

    `failed_subjects` maps a subject id (usually a user id) to the reason its part of a per-user section could
    not be collected; the section can be `ok` overall while some users are unknown.
    """

    name: str
    status: SectionStatus
    file: str | None = None
    count: int = 0
    detail: str = ""
    request: str = ""
    failed_subjects: Mapping[str, str] = field(default_factory=dict)
    # Log sections (sign-ins, audit events): the time range asked for, (start, end) UTC. An event outside it is
    # "not in the log window", which is not the same as "did not happen".
    window: tuple[datetime, datetime] | None = None

    @property
    def usable(self) -> bool:
        return self.status is SectionStatus.OK

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status.value, "file": self.file, "count": self.count}
        if self.detail:
            out["detail"] = self.detail
        if self.request:
            out["request"] = self.request
        if self.failed_subjects:
            out["failed_subjects"] = dict(self.failed_subjects)
        if self.window is not None:
            out["window"] = {"start": _iso(self.window[0]), "end": _iso(self.window[1])}
        return out


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Manifest:
    provider: str
    tenant_id: str
    tenant_name: str
    collected_at: datetime
    sections: Mapping[str, SectionRecord]
    tool_version: str = __version__
    complete: bool = True  # False when collection was interrupted: checks then treat missing sections as unknown
    source: str = ""  # free text: "microsoft-graph", "simulator", "export from ..."

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "provider": self.provider,
            "tenant_id": self.tenant_id,
            "tenant_name": self.tenant_name,
            "collected_at": _iso(self.collected_at),
            "tool_version": self.tool_version,
            "complete": self.complete,
            "source": self.source,
            "sections": {name: rec.to_json() for name, rec in sorted(self.sections.items())},
        }


@dataclass(frozen=True)
class Snapshot:
    """A loaded snapshot: the manifest plus the raw JSON of every usable section."""

    path: Path | None
    manifest: Manifest
    raw: Mapping[str, Any]

    def section(self, name: str) -> SectionRecord | None:
        return self.manifest.sections.get(name)

    def data(self, name: str) -> Any:
        """Raw JSON of a section, or None when it was not collected or not usable."""
        rec = self.manifest.sections.get(name)
        if rec is None or not rec.usable:
            return None
        return self.raw.get(name)


def section_filename(name: str) -> str:
    """Section names are stable identifiers (`users`, `exchange.mailboxes`); the file is `<name>.json`."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return f"{safe}.json"


class SnapshotWriter:
    """Writes a snapshot incrementally: each section file atomically, the manifest last.

    The manifest is first written with `complete: false` so an interrupted collection never looks complete.
    """

    def __init__(self, directory: str | os.PathLike[str], provider: str, tenant_id: str, tenant_name: str,
                 source: str = "", collected_at: datetime | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self.provider = provider
        self.tenant_id = tenant_id
        self.tenant_name = tenant_name
        self.source = source
        self.collected_at = collected_at or datetime.now(UTC)
        self.sections: dict[str, SectionRecord] = {}
        self._remove_previous_sections()
        # A stale manifest from an earlier run must not describe this one.
        self._write_manifest(complete=False)

    def _remove_previous_sections(self) -> None:
        """Delete the section files an earlier run into this directory listed in its manifest (an interrupted run,
        a re-run with fewer --sections): personal data the new manifest does not describe must not linger. Only
        files named in that manifest and shaped like a section file are removed, never anything else."""
        try:
            old = json.loads((self.directory / MANIFEST).read_text(encoding="utf-8"))
            listed = [rec.get("file") for rec in old.get("sections", {}).values() if isinstance(rec, dict)]
        except (OSError, ValueError, AttributeError):
            return
        for name in listed:
            if isinstance(name, str) and name == section_filename(name.removesuffix(".json")) and name != MANIFEST:
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / name).unlink()

    def add(self, name: str, data: Any, *, count: int | None = None, request: str = "",
            failed_subjects: Mapping[str, str] | None = None, detail: str = "",
            window: tuple[datetime, datetime] | None = None) -> SectionRecord:
        """Record a section collected successfully (possibly with per-subject failures; a log section with the
        time window it covers)."""
        fname = section_filename(name)
        write_text_atomic(self.directory / fname, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        if count is None:
            count = len(data) if isinstance(data, list | dict) else 1
        rec = SectionRecord(name=name, status=SectionStatus.OK, file=fname, count=count, detail=detail,
                            request=request, failed_subjects=dict(failed_subjects or {}), window=window)
        self.sections[name] = rec
        self._write_manifest(complete=False)
        return rec

    def fail(self, name: str, status: SectionStatus, detail: str, request: str = "") -> SectionRecord:
        """Record a section that could not be collected: its checks will report `unknown` with `detail`."""
        if status is SectionStatus.OK:
            raise ValueError("fail() needs a failure status")
        rec = SectionRecord(name=name, status=status, file=None, count=0, detail=detail, request=request)
        self.sections[name] = rec
        self._write_manifest(complete=False)
        return rec

    def finish(self, complete: bool = True) -> Manifest:
        """Write the final manifest, after removing any temporary file an interrupted section write left behind
        (`.NAME.json.XXXX.tmp`, see idaudit.core.atomic): nothing half-written stays beside the snapshot."""
        names = {section_filename(n) for n in self.sections} | {MANIFEST}
        for leftover in self.directory.glob(".*.tmp"):
            if any(leftover.name.startswith(f".{n}.") for n in names):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        return self._write_manifest(complete=complete)

    def _write_manifest(self, complete: bool) -> Manifest:
        manifest = Manifest(provider=self.provider, tenant_id=self.tenant_id, tenant_name=self.tenant_name,
                            collected_at=self.collected_at, sections=dict(self.sections), complete=complete,
                            source=self.source)
        write_text_atomic(self.directory / MANIFEST, json.dumps(manifest.to_json(), indent=2, ensure_ascii=False))
        return manifest


def _require(obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: Path, ctx: str = "") -> Any:
    if key not in obj:
        raise SnapshotError(where, f"missing field '{ctx}{key}'")
    value = obj[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SnapshotError(where, f"field '{ctx}{key}' must be {names}, got {type(value).__name__}")
    return value


def _parse_time(value: str, where: Path, key: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SnapshotError(where, f"field '{key}' is not an ISO 8601 time: {value!r}") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _parse_window(value: Any, where: Path, ctx: str) -> tuple[datetime, datetime] | None:
    """A log section's `window`: {"start": ISO time, "end": ISO time}, start not after end."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SnapshotError(where, f"field '{ctx}window' must be an object with start and end")
    start = _parse_time(_require(value, "start", str, where, f"{ctx}window."), where, f"{ctx}window.start")
    end = _parse_time(_require(value, "end", str, where, f"{ctx}window."), where, f"{ctx}window.end")
    if start > end:
        raise SnapshotError(where, f"field '{ctx}window' starts after it ends")
    return start, end


def parse_manifest(doc: Any, where: Path) -> Manifest:
    if not isinstance(doc, dict):
        raise SnapshotError(where, "manifest must be a JSON object")
    fmt = _require(doc, "format", str, where)
    if fmt != FORMAT_NAME:
        raise SnapshotError(where, f"field 'format' is {fmt!r}, expected {FORMAT_NAME!r}")
    version = _require(doc, "format_version", int, where)
    if version not in SUPPORTED_VERSIONS:
        raise SnapshotError(where, f"format_version {version} is not supported by idaudit {__version__} "
                                   f"(supported: {sorted(SUPPORTED_VERSIONS)})")
    sections_doc = _require(doc, "sections", dict, where)
    sections: dict[str, SectionRecord] = {}
    for name, sec in sections_doc.items():
        ctx = f"sections.{name}."
        if not isinstance(sec, dict):
            raise SnapshotError(where, f"field 'sections.{name}' must be an object")
        raw_status = _require(sec, "status", str, where, ctx)
        try:
            status = SectionStatus(raw_status)
        except ValueError:
            raise SnapshotError(where, f"field '{ctx}status' is {raw_status!r}; expected one of "
                                       f"{[s.value for s in SectionStatus]}") from None
        file = sec.get("file")
        if file is not None and (not isinstance(file, str) or "/" in file or file.startswith(".")):
            raise SnapshotError(where, f"field '{ctx}file' must be a plain file name inside the snapshot")
        if status is SectionStatus.OK and not file:
            raise SnapshotError(where, f"field '{ctx}file' is required when status is ok")
        failed = sec.get("failed_subjects") or {}
        if not isinstance(failed, dict):
            raise SnapshotError(where, f"field '{ctx}failed_subjects' must be an object")
        count = sec.get("count", 0)
        if not isinstance(count, int):
            raise SnapshotError(where, f"field '{ctx}count' must be an integer")
        sections[name] = SectionRecord(name=name, status=status, file=file, count=count,
                                       detail=str(sec.get("detail", "")), request=str(sec.get("request", "")),
                                       failed_subjects={str(k): str(v) for k, v in failed.items()},
                                       window=_parse_window(sec.get("window"), where, ctx))
    complete = doc.get("complete", True)
    if not isinstance(complete, bool):
        raise SnapshotError(where, "field 'complete' must be true or false")
    return Manifest(
        provider=_require(doc, "provider", str, where),
        tenant_id=_require(doc, "tenant_id", str, where),
        tenant_name=str(doc.get("tenant_name", "")),
        collected_at=_parse_time(_require(doc, "collected_at", str, where), where, "collected_at"),
        tool_version=str(doc.get("tool_version", "")),
        complete=complete,
        source=str(doc.get("source", "")),
        sections=sections,
    )


def _read_json(path: Path, what: str) -> Any:
    """Parse one snapshot file; every way it can be unreadable becomes a SnapshotError naming the file.

    Beyond syntax errors, json.loads raises RecursionError for deeply nested arrays and ValueError for integers
    longer than Python's digit limit: hostile or corrupt files must not surface those as a trace.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SnapshotError(path, f"not valid JSON{what}: {exc}") from exc
    except RecursionError:
        raise SnapshotError(path, f"not readable JSON{what}: nested too deeply") from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
        raise SnapshotError(path, f"not readable JSON{what}: {exc}") from exc
    except OSError as exc:
        raise SnapshotError(path, f"cannot be read{what}: {exc.strerror or exc}") from exc


def load_snapshot(directory: str | os.PathLike[str]) -> Snapshot:
    """Load and validate a snapshot directory; raises SnapshotError naming the file and problem."""
    directory = Path(directory)
    mpath = directory / MANIFEST
    if not directory.is_dir():
        raise SnapshotError(directory, "not a snapshot directory (it does not exist or is not a directory)")
    if not mpath.is_file():
        raise SnapshotError(mpath, "missing: a snapshot directory must contain manifest.json")
    doc = _read_json(mpath, "")
    manifest = parse_manifest(doc, mpath)
    raw: dict[str, Any] = {}
    for name, rec in manifest.sections.items():
        if not rec.usable or rec.file is None:
            continue
        fpath = directory / rec.file
        if not fpath.is_file():
            raise SnapshotError(fpath, f"missing: the manifest lists it for section '{name}'")
        raw[name] = _read_json(fpath, f" (section '{name}')")
    return Snapshot(path=directory, manifest=manifest, raw=raw)


def snapshot_from_memory(manifest: Manifest, raw: Mapping[str, Any]) -> Snapshot:
    """A snapshot that never touched disk (tests, the library API)."""
    return Snapshot(path=None, manifest=manifest, raw=dict(raw))
