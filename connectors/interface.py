"""Extension points shared by every connector: what a collector is, and how it reports progress.

A collector turns a provider's API into a snapshot directory (idaudit.core.snapshot). A failure of one section is a
value (its status in the manifest); only a failure that stops collection altogether (sign-in) is an exception,
idaudit.core.errors.CollectionError. Progress is reported through a small protocol so the same collector can drive a
terminal bar, a notebook widget, or nothing at all (cron).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class CollectionProgress(Protocol):
    """Receives progress events; must never raise and never block for long."""

    def section_started(self, name: str, total: int | None = None) -> None:
        """A section begins; `total` is the number of subjects when it fans out per user or per key."""

    def advance(self, n: int = 1) -> None:
        """`n` more subjects of the current section are done."""

    def section_finished(self, name: str, status: str) -> None:
        """The section ended with its manifest status (ok, forbidden, unlicensed, not_found, error)."""

    def close(self) -> None:
        """Collection is over (normally or not)."""


@runtime_checkable
class Collector(Protocol):
    """Collects one tenant of one provider into a snapshot directory and returns its path."""

    provider: str

    def collect(self, out_dir: Path, *, sections: Collection[str] | None = None,
                progress: CollectionProgress | None = None) -> Path:
        ...
