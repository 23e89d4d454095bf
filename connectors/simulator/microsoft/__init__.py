"""The Microsoft 365 simulator: identity platform token endpoint, Microsoft Graph and Exchange admin REST."""

from __future__ import annotations

from typing import Any

__all__ = ["MicrosoftSimulator", "MicrosoftTenant", "render_microsoft_snapshot"]


def __getattr__(name: str) -> Any:
    if name == "MicrosoftSimulator":
        from connectors.simulator.microsoft.simulator import MicrosoftSimulator

        return MicrosoftSimulator
    if name == "MicrosoftTenant":
        from connectors.simulator.microsoft.models import MicrosoftTenant

        return MicrosoftTenant
    if name == "render_microsoft_snapshot":
        from connectors.simulator.microsoft.snapshot import render_microsoft_snapshot

        return render_microsoft_snapshot
    raise AttributeError(name)
