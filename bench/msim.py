"""The Microsoft simulator in its own process, for the collection benchmarks.

The simulator (three TLS listeners, threaded) and the client under test would otherwise share one GIL: the
client's measured time would include the server's CPU. `SimProcess` starts MicrosoftSimulator in a forked child,
hands back what a client needs (endpoints, client credentials, CA file) plus the tenant facts the floor formula
reads, and at the end the server's own counters (requests per route, statuses, 429s, batch sizes).
"""

from __future__ import annotations

import multiprocessing
from typing import Any


def _serve(conn: Any, users: int, latency: float, scale: float) -> None:
    from simulator import MicrosoftSimulator, build_organisation
    from simulator.microsoft.snapshot import referenced_groups

    org = build_organisation(users=users, seed=8, every_account_licensed_with_mailbox=True)  # issue 8: all licensed with mailboxes
    sim = MicrosoftSimulator(org, latency=latency, time_scale=scale, throttle=True)
    with sim:
        t = sim.tenant
        conn.send({
            "tenant_id": sim.tenant_id, "client_id": sim.client_id, "client_secret": sim.client_secret,
            "authority_host": sim.authority_host, "graph_url": sim.graph_url, "exchange_url": sim.exchange_url,
            "dns_address": sim.dns_address,
            "ca_file": str(sim.ca_file),
            "as_of": org.as_of,
            "facts": {"users": len(t.users), "groups": len(referenced_groups(t)),
                      "grants": len(t.oauth2_permission_grants), "service_principals": len(t.service_principals),
                      "mailboxes": len(t.exchange.mailboxes), "p1": t.p1, "p2": t.p2,
                      "logs": log_facts(sim, org.as_of)},
        })
        conn.recv()
        conn.send(sim.stats.as_dict())


def log_facts(sim: Any, end: Any, days: int = 7) -> dict[str, Any]:
    """What the takeover logs hold for the window [end - days, end]: the objects a complete read must page
    through (directory audits per category, successful sign-ins, Identity Protection, Purview records)."""
    from idaudit.core.logwindow import (
        DIRECTORY_AUDIT_CATEGORIES,
        PURVIEW_OPERATIONS,
        PURVIEW_RECORD_TYPES,
        LogWindow,
        iso_z,
    )

    w = LogWindow.ending(end, days)
    lo, hi = iso_z(w.start), iso_z(w.end)
    logs = sim.logs
    audits = {c: sum(1 for e in logs.directory_audits if e["category"] == c and lo <= e["activityDateTime"] <= hi)
              for c in DIRECTORY_AUDIT_CATEGORIES}
    ok = sum(1 for s in logs.sign_ins if s["status"]["errorCode"] == 0 and lo <= s["createdDateTime"] <= hi)
    records = len(logs.purview_matching({"filterStartDateTime": lo, "filterEndDateTime": hi,
                                         "recordTypeFilters": list(PURVIEW_RECORD_TYPES),
                                         "operationFilters": list(PURVIEW_OPERATIONS)}))
    detections = sum(1 for d in logs.risk_detections if lo <= d["activityDateTime"] <= hi)
    return {"directory_audits": audits, "sign_ins": ok, "risky_users": len(logs.risky_users),
            "risk_detections": detections, "audit_records": records,
            "audit_query_polls": sim.audit_queries.polls_to_finish}


class SimProcess:
    """`with SimProcess(users, latency, scale) as info:` … `stats = sp.stats()` before leaving."""

    def __init__(self, users: int, latency: float, scale: float) -> None:
        ctx = multiprocessing.get_context("fork")
        self._conn, self._theirs = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(self._theirs, users, latency, scale), daemon=True)
        self._stats: dict[str, Any] | None = None

    def __enter__(self) -> dict[str, Any]:
        self._proc.start()
        self._theirs.close()  # a simulator that dies then ends recv() with EOFError instead of hanging
        info: dict[str, Any] = self._conn.recv()
        return info

    def stats(self) -> dict[str, Any]:
        if self._stats is None:
            self._conn.send("done")
            self._stats = self._conn.recv()
        return self._stats

    def __exit__(self, *exc: object) -> None:
        self.stats()
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()
