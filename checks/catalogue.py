"""The built-in check catalogue: the one registry every module in checks/ registers its checks into.

The engine (idaudit.core.engine) keeps no global registry and never imports this package; the layers above it
(orchestration, CLI, notebook API) hand it `CATALOGUE`. A check module decorates its functions with `check` from
here, which is the engine's decorator bound to this registry.
"""

from __future__ import annotations

from functools import partial

from idaudit.core.engine import CheckRegistry
from idaudit.core.engine import check as _check

CATALOGUE = CheckRegistry()

check = partial(_check, registry=CATALOGUE)
