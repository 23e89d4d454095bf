"""Normalisers: provider-specific raw JSON -> provider-neutral tables (idaudit.tables).

Each provider module exposes `normalise(snapshot) -> AuditData`. The engine and checks never see raw JSON.
"""

from __future__ import annotations

from idaudit.snapshot import Snapshot
from idaudit.tables import AuditData


def normalise(snapshot: Snapshot) -> AuditData:
    provider = snapshot.manifest.provider
    if provider == "microsoft":
        from idaudit.normalise import microsoft

        return microsoft.normalise(snapshot)
    if provider == "google":
        from idaudit.normalise import google

        return google.normalise(snapshot)
    from idaudit.errors import SnapshotError

    raise SnapshotError(snapshot.path or "<memory>", f"unknown provider {provider!r} (expected microsoft or google)")
