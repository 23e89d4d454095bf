"""Connectors: collect raw API objects from a provider into a snapshot directory (idaudit.snapshot).

Heavy client libraries (msal, msgraph-sdk, googleapiclient) are imported only when a connector is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from idaudit.config import TenantConfig


def collect_tenant(tenant: TenantConfig, out_dir: Path, *, progress: bool = True) -> Path:
    """Collect one configured tenant into `out_dir` (a new snapshot directory) and return its path.

    Dispatches to the provider's connector; raises idaudit.errors.CollectionError when collection cannot start
    (failed sign-in). Section-level failures are recorded in the manifest, not raised.
    """
    if tenant.provider == "microsoft":
        from connectors.microsoft.collect import collect_from_config as collect_ms

        return collect_ms(tenant, out_dir, progress=progress)
    if tenant.provider == "google":
        from connectors.google.collect import collect_from_config as collect_gg

        return collect_gg(tenant, out_dir, progress=progress)
    raise ValueError(f"unknown provider {tenant.provider!r}")
