"""Normalisers: provider-specific raw JSON -> provider-neutral tables (idaudit.core.tables).

Each provider module exposes `normalise(snapshot) -> AuditData`. The engine and checks never see raw JSON.
"""

from __future__ import annotations

import importlib

from idaudit.core.errors import SnapshotError
from idaudit.core.normalise.shape import checked_snapshot
from idaudit.core.snapshot import Snapshot
from idaudit.core.tables import AuditData


def normalise(snapshot: Snapshot) -> AuditData:
    provider = snapshot.manifest.provider
    if provider in ("microsoft", "google"):
        module = importlib.import_module(f"idaudit.core.normalise.{provider}")
        # Malformed sections become gaps (unknown) before any reader sees them: shape.py.
        result: AuditData = module.normalise(checked_snapshot(snapshot))
        return result
    raise SnapshotError(snapshot.path or "<memory>", f"unknown provider {provider!r} (expected microsoft or google)")
