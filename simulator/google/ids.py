"""Deterministic ids, etags and timestamps of the simulated Workspace objects (shared by the renderers)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def _digits(*parts: object, n: int = 21) -> str:
    h = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    return str(int(h, 16) % (9 * 10 ** (n - 1)) + 10 ** (n - 1))


def _token(*parts: object, n: int = 15) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:n]


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
