"""The demo's Google path: start the simulator, collect through the real connector, return the snapshot."""

from __future__ import annotations

from pathlib import Path

from connectors.email_dns import DnsOptions
from connectors.google.collect import collect_google
from connectors.google.options import GoogleOptions
from simulator.google import GoogleSimulator
from simulator.org import Organisation


def run_google_demo_collection(org: Organisation, out_dir: str | Path, *, progress: bool = False) -> Path:
    """Serve `org` on loopback as Google Workspace and collect it with google-auth + google-api-python-client."""
    with GoogleSimulator(org) as sim:
        options = GoogleOptions(service_account_info=sim.service_account_info, admin_subject=sim.admin_subject,
                                api_endpoint=sim.api_endpoint, token_uri=sim.token_uri,
                                dns=DnsOptions(resolvers=(sim.dns_address,)),  # the simulated zone only
                                # the simulated activity is the week before the organisation's "today"
                                log_window_end=org.as_of)
        return collect_google(options, out_dir, progress=progress)
