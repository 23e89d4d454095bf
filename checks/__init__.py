"""The built-in checks. Importing this package imports every check module in it, and each registers its checks in
checks.catalogue.CATALOGUE; `builtin_checks()` returns that registry for the engine.

Adding a check is one file here (or a function in an existing family module) plus its test: modules are
discovered, not listed. Shared helpers live in checks.common, framework references in checks.references;
checks.docs generates docs/checks.md and is not imported. Importing is cheap: no I/O, no data read until a check
runs.
"""

from __future__ import annotations

import importlib
import pkgutil

from idaudit.core.engine import CheckRegistry

from .catalogue import CATALOGUE

_TOOLS = frozenset({"docs"})  # modules that are tools over the catalogue, not checks

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module not in _TOOLS:
        importlib.import_module(f"{__name__}.{_module}")


def builtin_checks() -> CheckRegistry:
    """The registry holding every built-in check (filled when this package was imported)."""
    return CATALOGUE


__all__ = ["CATALOGUE", "builtin_checks"]
