"""Helpers shared by the Microsoft connector tests (imported explicitly; pytest does not auto-load this file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.email_dns import DnsOptions
from connectors.microsoft.options import MicrosoftOptions

SCALE = 0.01  # simulator and connector agree on the time scale, so pacing and Retry-After stay short


def options_for(sim: Any, **kw: Any) -> MicrosoftOptions:
    """Connector options pointing at a running MicrosoftSimulator (client secret unless another credential)."""
    base: dict[str, Any] = {"tenant_id": sim.tenant_id, "client_id": sim.client_id,
                            "authority_host": sim.authority_host, "graph_endpoint": sim.graph_url,
                            "exchange_endpoint": sim.exchange_url, "ca_bundle": Path(sim.ca_file),
                            "time_scale": SCALE, "log_window_end": sim.org.as_of,
                            "dns": DnsOptions(resolvers=(sim.dns_address,), timeout=2.0)}
    if not any(k in kw for k in ("client_secret", "certificate_path", "device_code")):
        base["client_secret"] = sim.client_secret
    base.update(kw)
    return MicrosoftOptions(**base)
