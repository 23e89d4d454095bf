"""The demo's Microsoft path: start the simulator, collect through the real connector, return the snapshot.

The demo exercises exactly the code a real tenant does (msal sign-in over TLS, the msgraph-sdk adapter, $batch,
Exchange InvokeCommand); only the time scale is shortened so throttling windows pass quickly.
"""

from __future__ import annotations

from pathlib import Path

from connectors.interface import CollectionProgress
from connectors.microsoft.collect import collect_microsoft
from connectors.microsoft.options import MicrosoftOptions
from connectors.simulator.org import Organisation

DEMO_TIME_SCALE = 0.05


def run_microsoft_demo_collection(org: Organisation, out_dir: str | Path, *,
                                  progress: bool | CollectionProgress | None = False,
                                  time_scale: float = DEMO_TIME_SCALE) -> Path:
    """Serve `org` on loopback as a Microsoft 365 tenant and collect it with msal + msgraph-sdk."""
    from connectors.simulator import MicrosoftSimulator

    with MicrosoftSimulator(org, time_scale=time_scale) as sim:
        options = MicrosoftOptions(
            tenant_id=sim.tenant_id, client_id=sim.client_id, client_secret=sim.client_secret,
            authority_host=sim.authority_host, graph_endpoint=sim.graph_url, exchange_endpoint=sim.exchange_url,
            ca_bundle=Path(sim.ca_file), time_scale=time_scale)
        return collect_microsoft(options, out_dir, progress=progress)
