"""Turns each section's outcome into a manifest entry: data, or a status with a reason a reader can act on.

"403 Authorization_RequestDenied" alone tells an IT manager nothing; the detail therefore ends with the fix from
idaudit/core/sections.py ("grant AuditLog.Read.All (application)", "requires Microsoft Entra ID P1").
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from connectors.interface import CollectionProgress
from connectors.microsoft.http import ApiError
from idaudit.core.sections import section_spec
from idaudit.core.snapshot import SectionStatus, SnapshotWriter

log = logging.getLogger(__name__)


def failure_detail(name: str, error: ApiError, status: SectionStatus | None = None) -> str:
    """`<what happened> — <how to fix it>`, naming the permission or the licence."""
    spec = section_spec("microsoft", name)
    status = status or error.section_status
    if spec is None:
        return str(error)
    if status is SectionStatus.UNLICENSED and spec.licence:
        fix = f"requires {spec.licence}"
    elif status is SectionStatus.FORBIDDEN:
        fix = f"grant {spec.permission}" + (f" (and {spec.licence})" if spec.licence else "")
    else:
        fix = spec.fix
    return f"{error} — {fix}" if fix else str(error)


def subject_reason(error: ApiError) -> str:
    """Short reason for one user's part of a per-user section (failed_subjects)."""
    return f"{error.section_status.value}: {error}"


class SectionRecorder:
    """Writes sections through SnapshotWriter, honours the caller's section filter, and reports progress."""

    def __init__(self, writer: SnapshotWriter, progress: CollectionProgress,
                 wanted: Collection[str] | None = None) -> None:
        self.writer = writer
        self.progress = progress
        self.wanted = set(wanted) if wanted is not None else None

    def wants(self, name: str) -> bool:
        return self.wanted is None or name in self.wanted

    def request_of(self, name: str) -> str:
        spec = section_spec("microsoft", name)
        return spec.request if spec else ""

    def ok(self, name: str, data: Any, *, failed_subjects: Mapping[str, str] | None = None,
           detail: str = "", count: int | None = None, window: tuple[datetime, datetime] | None = None) -> None:
        if not self.wants(name):
            return
        self.writer.add(name, data, count=count, request=self.request_of(name),
                        failed_subjects=failed_subjects, detail=detail, window=window)
        self.progress.section_finished(name, SectionStatus.OK.value)

    def fail(self, name: str, error: ApiError, status: SectionStatus | None = None,
             detail: str | None = None) -> None:
        if not self.wants(name):
            return
        status = status or error.section_status
        text = detail or failure_detail(name, error, status)
        log.info("section %s: %s (%s)", name, status.value, text)
        self.writer.fail(name, status, text, request=self.request_of(name))
        self.progress.section_finished(name, status.value)
