"""The Microsoft 365 simulator: identity platform token endpoint, Microsoft Graph and Exchange admin REST."""

from __future__ import annotations

from typing import Any

__all__ = ["MicrosoftSimulator", "MicrosoftTenant", "render_microsoft_snapshot"]


def __getattr__(name: str) -> Any:
    if name == "MicrosoftSimulator":
        from simulator.microsoft.simulator import MicrosoftSimulator  # lazy: start-up time

        return MicrosoftSimulator
    if name == "MicrosoftTenant":
        from simulator.microsoft.models import MicrosoftTenant  # lazy: start-up time

        return MicrosoftTenant
    if name == "render_microsoft_snapshot":
        from simulator.microsoft.snapshot import render_microsoft_snapshot  # lazy: start-up time

        return render_microsoft_snapshot
    raise AttributeError(name)
