"""Microsoft 365 / Entra ID connector: msal for sign-in, the msgraph-sdk request adapter for Graph, and the
Exchange Online admin REST endpoint for what Graph cannot see. Entry point: `collect_microsoft`.

Heavy imports (msal, msgraph) happen inside the modules that need them, not here, so `import connectors` stays cheap.
"""

from __future__ import annotations

from connectors.microsoft.options import REQUIRED_PERMISSIONS, MicrosoftOptions

__all__ = ["REQUIRED_PERMISSIONS", "MicrosoftOptions", "collect_microsoft"]


def __getattr__(name: str) -> object:
    if name == "collect_microsoft":
        from connectors.microsoft.collect import collect_microsoft  # lazy: start-up time

        return collect_microsoft
    raise AttributeError(name)
