"""Normalisers: provider-specific raw JSON -> provider-neutral tables (idaudit.tables).

Each provider module exposes `normalise(snapshot) -> AuditData`. The engine and checks never see raw JSON.
"""

from __future__ import annotations

import importlib

from idaudit.snapshot import Snapshot
from idaudit.tables import AuditData


def normalise(snapshot: Snapshot) -> AuditData:
    provider = snapshot.manifest.provider
    if provider in ("microsoft", "google"):
        module = importlib.import_module(f"idaudit.normalise.{provider}")
        result: AuditData = module.normalise(snapshot)
        return result
    from idaudit.errors import SnapshotError

    raise SnapshotError(snapshot.path or "<memory>", f"unknown provider {provider!r} (expected microsoft or google)")
