"""Measure 6 — Google Workspace collection against the floor its quotas allow.

A 20,000-user Workspace tenant (build_organisation, seed 8) is served by the Google simulator with its
documented quotas as token buckets (Directory 2,400 queries/min, Policy 60/min, Reports 2,400/min, Gmail 250
units/s per user) and a fixed latency per HTTP round trip (arrival to answer, the simulator's own work inside it;
answers that come later anyway are counted as simulator_latency_overruns); a batch is one round trip. Everything
is time-scaled (windows, latency, the connector's back-off) so the run takes minutes. The simulator runs in its
own process so that its CPU does not share a GIL with the connector.

The quick run keeps the shape with 2,000 users: the Directory quota is scaled by the same factor (240/min) so that
tokens.list still has to wait for quota windows, as it does at 20,000 users.

Requests a complete collection needs (from the tenant, not from what the connector did):
  directory: ceil(U/500) users pages + domains + orgunits + roles + roleassignments + U tokens.list
  policy: ceil(policies/100); reports: ceil(token events/1000) + the takeover logs of a week (login, user_accounts,
  admin activities between startTime and endTime, 1,000 a page); gmail: 4 settings reads per active user
  round trips: the users pages are chained (the longest chain); every other call, one token fetch per
  impersonated user (domain-wide delegation issues a token per subject) and the batches (≤ 1,000 Directory calls,
  ≤ 100 Gmail calls each) are independent, spread over 4 connections (the connector's workers; Google documents
  no lower concurrency limit for these APIs).
Target: wall time ≤ 1.3× floor.
"""

from __future__ import annotations

import math
import multiprocessing
from typing import Any

from bench.common import Context, run_child, timer
from bench.floor import BucketClass, collection_floor

LATENCY_S = 0.1  # per round trip before scaling
FULL_USERS = 20_000


def google_log_pages(t: Any, end: Any, days: int = 7) -> dict[str, int]:
    """Reports pages the takeover logs of one window need (issue 20): login, user_accounts and admin activities
    between startTime and endTime, 1,000 a page (at least one page each)."""
    from idaudit.core.logwindow import GOOGLE_LOG_APPLICATIONS, LogWindow

    w = LogWindow.ending(end, days)
    lo, hi = w.start.strftime("%Y-%m-%dT%H:%M:%S"), w.end.strftime("%Y-%m-%dT%H:%M:%S.999Z")
    return {name: max(1, math.ceil(sum(1 for a in t.activities_for(app) if lo <= a["id"]["time"] <= hi) / 1000))
            for name, app in GOOGLE_LOG_APPLICATIONS.items()}


def _serve(conn: Any, users: int, latency: float, scale: float, quotas: dict[str, tuple[int, float]]) -> None:
    from simulator import build_organisation
    from simulator.google import GoogleSimulator

    sim = GoogleSimulator(build_organisation(users=users, seed=8), latency=latency, time_scale=scale,
                          quotas=quotas)
    t = sim.tenant
    with sim:
        conn.send({"api_endpoint": sim.api_endpoint, "token_uri": sim.token_uri, "dns_address": sim.dns_address,
                   "service_account_info": sim.service_account_info, "admin_subject": sim.admin_subject,
                   "users": len(t.users),
                   "active": sum(1 for u in t.users if not u.get("suspended") and not u.get("archived")),
                   "policies": len(t.policies), "token_events": len(t.activities_for("token")),
                   "as_of": sim.org.as_of, "log_pages": google_log_pages(t, sim.org.as_of)})
        conn.recv()  # the collection is over
        s = sim.stats
        conn.send(s.as_dict() | {"tokens_issued": s.tokens_issued, "quota_errors": s.quota_errors})


def job(users: int, scale: float, out: str) -> dict[str, Any]:
    from connectors.email_dns import DnsOptions
    from connectors.google.client import GoogleClient
    from connectors.google.collect import collect_google
    from connectors.google.options import GoogleOptions
    from simulator.google import DEFAULT_QUOTAS

    share = users / FULL_USERS
    quotas = dict(DEFAULT_QUOTAS)
    if share < 1:  # keep the 20,000-user shape: quota per user of the tenant stays the same
        quotas["directory"] = (max(1, round(DEFAULT_QUOTAS["directory"][0] * share)), DEFAULT_QUOTAS["directory"][1])
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(theirs, users, LATENCY_S, scale, quotas), daemon=True)
    server.start()
    theirs.close()  # a simulator that dies then ends recv() with EOFError instead of hanging
    info = mine.recv()
    # The connector paces Directory calls to the quota it is told (the documented 2,400 a minute, or the quick
    # run's scaled-down share), over the same time-scaled window as the simulator's.
    options = GoogleOptions(service_account_info=info["service_account_info"], admin_subject=info["admin_subject"],
                            api_endpoint=info["api_endpoint"], token_uri=info["token_uri"],
                            dns=DnsOptions(resolvers=(info["dns_address"],)),
                            backoff_base=1.0 * scale, backoff_cap=32.0 * scale,
                            directory_quota=int(quotas["directory"][0]), quota_window=quotas["directory"][1] * scale,
                            log_window_end=info["as_of"])  # the simulated activity is the week before its as_of
    client = GoogleClient(options)
    with timer() as t:
        collect_google(options, out, progress=False, client=client)
    mine.send("done")
    stats = mine.recv()
    server.join(timeout=10)

    from idaudit.core.snapshot import load_snapshot

    manifest = load_snapshot(out).manifest
    sections = {n: r.status.value for n, r in manifest.sections.items()}
    failed = {n: len(r.failed_subjects) for n, r in manifest.sections.items() if r.failed_subjects}

    u, active = info["users"], info["active"]
    directory = math.ceil(u / 500) + 4 + u
    classes = [
        BucketClass("directory", directory, quotas["directory"][0], quotas["directory"][1] * scale),
        BucketClass("policy", max(1, math.ceil(info["policies"] / 100)), quotas["policy"][0],
                    quotas["policy"][1] * scale),
        BucketClass("reports", max(1, math.ceil(info["token_events"] / 1000)) + sum(info["log_pages"].values()),
                    quotas["reports"][0], quotas["reports"][1] * scale),
        # Gmail's quota is per impersonated user: 4 reads per user never fill 250 units/s.
        BucketClass("gmail(per user)", 4, quotas["gmail"][0], quotas["gmail"][1] * scale),
    ]
    round_trips = (math.ceil(u / 500) + 4 + int(classes[1].units + classes[2].units) + math.ceil(u / 1000)
                   + math.ceil(4 * active / 100) + active + 7)
    floor = collection_floor(classes, longest_chain=math.ceil(u / 500), round_trips=round_trips, concurrency=4,
                             latency=LATENCY_S * scale)
    return {"wall_s": round(t["s"], 3), "floor": floor.to_json(), "server": stats, "client_retries": client.retries,
            "sections": sections, "failed_subjects": failed, "users": u, "active": active,
            "needed": {c.name: c.units for c in classes} | {"token_fetches": active + 7,
                                                             "takeover_log_pages": info["log_pages"]},
            "quota_directory_per_window": quotas["directory"][0]}


def run(ctx: Context) -> dict[str, Any]:
    users, scale = (2_000, 0.02) if ctx.quick else (FULL_USERS, 0.25)
    ctx.say(f"google: collecting {users:,} users, time scale {scale}")
    r = run_child("bench.collection_google:job", users=users, scale=scale, out=str(ctx.work / "google-snap"))
    floor = r["floor"]["seconds"]
    ratio = round(r["wall_s"] / floor, 3)
    all_ok = all(v == "ok" for v in r["sections"].values()) and not r["failed_subjects"]
    srv = r["server"]
    return {
        "name": "collection_google",
        "title": f"Google Workspace collection, {users:,} users, time scale {scale}",
        "ratio": ratio, "ratio_label": "wall time ÷ quota/latency floor", "target": "≤ 1.3",
        "target_met": ratio <= 1.3 and all_ok,
        "raw": {"users": users, "active_users": r["active"], "time_scale": scale,
                "latency_per_round_trip_s": LATENCY_S * scale, "wall_s": r["wall_s"], "floor_s": floor,
                "floor_binding": r["floor"]["binding"], "floor_terms": r["floor"]["terms"],
                "requests_by_class": srv["requests"], "batches": srv["batch_requests"],
                "batch_parts": srv["batch_inner"], "tokens_issued": srv["tokens_issued"],
                "quota_errors (429 + Gmail 403)": srv["quota_errors"],
                "client_retries": r["client_retries"], "max_concurrency_seen": srv["max_concurrency"],
                "simulator_latency_overruns": srv["latency_overruns"],
                "requests_needed": r["needed"], "all_sections_ok": all_ok,
                "failed_subjects": r["failed_subjects"], "peak_rss_mb": r["peak_rss_mb"]},
    }
