"""Exceptions each layer raises for a whole-source failure.

Per-item failures (one user's inbox rules, one section) are values, not exceptions: they become a section
status in the manifest. Only the CLI turns these exceptions into exit codes.
"""

from __future__ import annotations


class IdauditError(Exception):
    """Base class: anything the CLI should report as a clear one-line error instead of a trace."""


class SnapshotError(IdauditError):
    """A snapshot directory cannot be read: names the file and the problem."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(IdauditError):
    """The configuration file is invalid: names the file and the key."""

    def __init__(self, path: object, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.path}: [{key}] {problem}")


class CollectionError(IdauditError):
    """Collection could not start at all (failed sign-in, unreachable endpoint)."""


class DataUnavailable(Exception):
    """Raised inside a check when a value it needs was not collected; the engine reports `unknown`."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
