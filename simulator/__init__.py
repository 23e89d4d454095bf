"""Local stand-ins for Microsoft 365 and Google Workspace, like getmoto/moto for AWS (docs/simulator.md).

State (org.py: a provider-neutral synthetic organisation; <provider>/models.py: its API objects) is kept apart
from wire handling (<provider>/responses.py) and routes (<provider>/urls.py). The shared machinery (TLS, the
threaded server, throttling, fault injection) sits beside them and is used by both providers.
Heavy parts are imported on first use so `from simulator import build_organisation` stays cheap.
"""

from __future__ import annotations

from typing import Any

from simulator.builder import build_organisation
from simulator.org import Organisation, Person, TenantPolicy

__all__ = ["MicrosoftSimulator", "Organisation", "Person", "TenantPolicy", "build_organisation",
           "render_microsoft_snapshot"]


def __getattr__(name: str) -> Any:
    if name == "MicrosoftSimulator":
        from simulator.microsoft import MicrosoftSimulator  # lazy: start-up time

        return MicrosoftSimulator
    if name == "render_microsoft_snapshot":
        from simulator.microsoft.snapshot import render_microsoft_snapshot  # lazy: start-up time

        return render_microsoft_snapshot
    raise AttributeError(name)
