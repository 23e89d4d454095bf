"""The demo's Microsoft path: start the simulator, collect through the real connector, return the snapshot.

The demo exercises exactly the code a real tenant does (msal sign-in over TLS, the msgraph-sdk adapter, $batch,
Exchange InvokeCommand); only the time scale is shortened so throttling windows pass quickly.
"""

from __future__ import annotations

from pathlib import Path

from connectors.email_dns import DnsOptions
from connectors.interface import CollectionProgress
from connectors.microsoft.collect import collect_microsoft
from connectors.microsoft.options import MicrosoftOptions
from simulator import MicrosoftSimulator
from simulator.microsoft.identity import ALL_READ_PERMISSIONS
from simulator.org import Organisation

DEMO_TIME_SCALE = 0.05


def run_microsoft_demo_collection(org: Organisation, out_dir: str | Path, *,
                                  progress: bool | CollectionProgress | None = False,
                                  time_scale: float = DEMO_TIME_SCALE,
                                  withheld_permissions: tuple[str, ...] = ()) -> Path:
    """Serve `org` on loopback as a Microsoft 365 tenant and collect it with msal + msgraph-sdk.

    `withheld_permissions` are left out of the simulated app's consent, the way a real admin sometimes forgets one:
    the sections behind them come back 403 and their checks `unknown`, which the demo shows on purpose.
    """
    permissions = None
    if withheld_permissions:
        permissions = [p for p in ALL_READ_PERMISSIONS if p not in withheld_permissions]
    with MicrosoftSimulator(org, time_scale=time_scale, permissions=permissions) as sim:
        options = MicrosoftOptions(
            tenant_id=sim.tenant_id, client_id=sim.client_id, client_secret=sim.client_secret,
            authority_host=sim.authority_host, graph_endpoint=sim.graph_url, exchange_endpoint=sim.exchange_url,
            ca_bundle=Path(sim.ca_file), time_scale=time_scale,
            # The simulated logs describe the week before the organisation's "today", not the machine's.
            log_window_end=org.as_of,
            dns=DnsOptions(resolvers=(sim.dns_address,)))  # the simulated zone, never the real DNS
        return collect_microsoft(options, out_dir, progress=progress)
