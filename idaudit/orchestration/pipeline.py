"""One audit, from snapshot to findings: the path shared by `idaudit check`, `audit`, the demo and the API."""

from __future__ import annotations

import os
from collections.abc import Iterable

from checks import builtin_checks
from idaudit.core.config import Config
from idaudit.core.engine import AuditRun, run_checks
from idaudit.core.normalise import normalise
from idaudit.core.snapshot import Snapshot, load_snapshot


def audit_snapshot(snapshot: Snapshot | str | os.PathLike[str], config: Config | None = None,
                   only: Iterable[str] | None = None, keep_passes: bool = True) -> AuditRun:
    """Normalise a snapshot and run the checks with the config's thresholds and waivers."""
    snap = snapshot if isinstance(snapshot, Snapshot) else load_snapshot(snapshot)
    cfg = config or Config(path=None)
    registry = builtin_checks()
    data = normalise(snap)
    return run_checks(data, cfg.settings, cfg.waivers, only=only, registry=registry, keep_passes=keep_passes)
