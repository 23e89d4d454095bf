"""idaudit: MFA and identity-hygiene auditor for small healthcare organisations.

The public library API (docs/api.md) lives in idaudit.api and is re-exported here lazily (PEP 562), so
`import idaudit` does no work and loads no heavy dependency: pandas loads on first use of the API, msal and
msgraph-sdk (or the Google client) only when a connector collects.

    import idaudit
    audit = idaudit.load("snapshot-dir")
    audit.no_mfa()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idaudit.core.version import __version__

if TYPE_CHECKING:
    from idaudit.api import (
        Audit,
        DataNotCollected,
        IncompleteDataWarning,
        audit_snapshot,
        catalogue,
        collect_google,
        collect_microsoft,
        load,
        show_device_code,
    )

__all__ = [
    "Audit",
    "DataNotCollected",
    "IncompleteDataWarning",
    "__version__",
    "audit_snapshot",
    "catalogue",
    "collect_google",
    "collect_microsoft",
    "load",
    "show_device_code",
]

_LAZY = frozenset(__all__) - {"__version__"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from idaudit import api  # lazy: start-up time

        value = getattr(api, name)
        globals()[name] = value  # later look-ups skip this hook
        return value
    raise AttributeError(f"module 'idaudit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY)
