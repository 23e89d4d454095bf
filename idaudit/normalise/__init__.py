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
        from idaudit.normalise.shape import checked_snapshot

        module = importlib.import_module(f"idaudit.normalise.{provider}")
        # Malformed sections become gaps (unknown) before any reader sees them: shape.py.
        result: AuditData = module.normalise(checked_snapshot(snapshot))
        return result
    from idaudit.errors import SnapshotError

    raise SnapshotError(snapshot.path or "<memory>", f"unknown provider {provider!r} (expected microsoft or google)")
