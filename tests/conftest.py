"""Session-wide guard: no test asks a DNS resolver beyond loopback.

The email-authentication section looks up TXT records; a test that builds collector options by hand (without the
simulator's DNS address) would otherwise fall back to the machine's system resolver, which is not on loopback and,
with no network, answers late or never. A loopback DNS server with an empty zone answers every such lookup at once
(NXDOMAIN), and IDAUDIT_DNS_RESOLVER points every run without a resolver of its own at it, child processes included.
Tests that pass the simulator's resolver explicitly are unaffected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from connectors.email_dns import RESOLVER_ENV
from simulator.dns_server import DnsZoneServer


@pytest.fixture(autouse=True, scope="session")
def _dns_stays_on_loopback() -> Iterator[None]:
    server = DnsZoneServer({}).start()
    previous = os.environ.get(RESOLVER_ENV)
    os.environ[RESOLVER_ENV] = server.address
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(RESOLVER_ENV, None)
        else:
            os.environ[RESOLVER_ENV] = previous
        server.stop()
