"""Measure 1 — Microsoft 365 collection against the throttle floor.

A 20,000-user tenant (build_organisation(20_000, seed 8, every_account_licensed_with_mailbox=True): every account
licensed with a mailbox, the generator's share of rules, grants and admins; Entra ID P1 + P2, Exchange Online) served by the
Microsoft simulator in its own process with the documented throttle classes (simulator/microsoft/
graph_throttle.py) and a fixed latency per round trip, everything time-scaled; idaudit's real connector
(collect_microsoft: msal + msgraph-sdk adapter) collects every section into a snapshot.

Requests a complete collection needs (the minimum: largest page sizes the API accepts, $batch of 20):
  signInActivity class: ceil(U/500) users pages ($top ≤ 500 with signInActivity)   10/min bucket
  reports class:        ceil(U/999) userRegistrationDetails pages                   5/10 s bucket
  directory class (RU): the users pages (2 RU − 1 for $select), U perUserMfaState reads, policies, roles
                        (+1 for $expand), groups and their members, grants, service principals (8,000 RU/10 s)
  conditional access:   1 request (1/s)
  outlook:              2U reads (inbox rules, mailbox settings): per-mailbox limits never bind
  takeover logs (a week): one directoryAudits page per category (1,000 a page) and ceil(S/1000) signIns pages
                        (S = successful sign-ins) in the reports class; riskyUsers and riskDetections pages in
                        the conditional access class; the audit log query: create, polls every 20 s, record pages
  round trips:          ceil(U/20) × 3 batches + pages + singles + Exchange InvokeCommand pages (1,000 a page;
                        Get-Mailbox and Get-MailboxAuditBypassAssociation page over every mailbox, 17 more
                        cmdlets one page each). The SPF / DMARC TXT lookups go to the loopback DNS server, not
                        through the latency-injected HTTP listeners, and are not counted.
  longest chain:        the users pages (each needs the previous nextLink)
over 4 connections (Outlook: 4 concurrent requests per mailbox; Graph runs ≤ 4 inner Outlook requests of a batch
at once; the connector's default concurrency). Target: wall time ≤ 1.3× floor.

Not counted in the floor (so it stays a lower bound): the connector's own plain user listing that feeds the per-user
lane (ceil(U/999) directory pages, read while the signInActivity pages are paced) and the rule-folder lookups of
inboxRuleFolders (one per folder a rule moves mail into). The connector reads its sections in three concurrent lanes
(connectors/microsoft/collectors.py, MicrosoftCollection.run), so the classes overlap as the floor assumes.
"""

from __future__ import annotations

import math
from typing import Any

from bench.common import Context, run_child, timer
from bench.floor import BucketClass, QueryWait, collection_floor
from bench.msim import SimProcess

LATENCY_S = 0.1  # per round trip before scaling
EMAIL_SECURITY_SINGLE_CMDLETS = 14  # Get-AcceptedDomain ... Get-OrganizationConfig (one page each)
CONCURRENCY = 4


LOG_PAGE = 1000  # directoryAudits and signIns: $top=1000 (connectors/microsoft/logs.py)
DEFAULT_PAGE = 100  # Identity Protection and the audit log records: the connector asks no $top (simulator: 100)
AUDIT_QUERY_POLL_S = 20.0  # MicrosoftOptions.audit_query_poll_s


def log_requests(logs: dict[str, Any]) -> dict[str, int]:
    """Requests the takeover logs of one window need (issue 20): pages per directory audit category and of the
    successful sign-ins (reports class), Identity Protection pages (conditional access class), and the audit log
    query (create, polls, record pages)."""
    audits = sum(max(1, math.ceil(n / LOG_PAGE)) for n in logs.get("directory_audits", {}).values())
    return {"directoryAudits": audits, "signIns": max(1, math.ceil(logs.get("sign_ins", 0) / LOG_PAGE)),
            "riskyUsers": max(1, math.ceil(logs.get("risky_users", 0) / DEFAULT_PAGE)),
            "riskDetections": max(1, math.ceil(logs.get("risk_detections", 0) / DEFAULT_PAGE)),
            "auditQuery": 1, "auditQueryPolls": int(logs.get("audit_query_polls", 0)),
            "auditRecords": max(1, math.ceil(logs.get("audit_records", 0) / DEFAULT_PAGE))}


def microsoft_floor(facts: dict[str, Any], scale: float) -> dict[str, Any]:
    u, g, m = facts["users"], facts["groups"], facts["mailboxes"]
    logs = log_requests(facts["logs"]) if "logs" in facts else {}
    pages = math.ceil(u / 500)
    reports = math.ceil(u / 999)
    grants = max(1, math.ceil(facts["grants"] / 999))
    sps = max(1, math.ceil(facts["service_principals"] / 999))
    singles_directory = 3 + 3 + 1 + 2 + 1  # organization, domains, skus; 3 policies; roleDefinitions;
    #                                        roleAssignments with $expand (2 RU); roleEligibilities
    directory_ru = pages + u + singles_directory + 2 * g + grants + sps + 2
    capacity = 3500 if u < 50 else 5000 if u <= 500 else 8000
    log_reports = logs.get("directoryAudits", 0) + logs.get("signIns", 0)
    identity_protection = logs.get("riskyUsers", 0) + logs.get("riskDetections", 0)
    classes: list[BucketClass | QueryWait] = [
        BucketClass("signInActivity", pages, 10, 60 * scale),
        BucketClass("reports", reports + log_reports, 5, 10 * scale),
        BucketClass("directory", directory_ru, capacity, 10 * scale),
        BucketClass("conditional_access", 1 + identity_protection, 1, 1 * scale),
        BucketClass("global", directory_ru + 2 * u + reports + 1 + log_reports + identity_protection, 130_000,
                    10 * scale),
    ]
    if logs:
        classes.append(QueryWait("audit_log_query", logs["auditQueryPolls"], AUDIT_QUERY_POLL_S * scale,
                                 logs["auditRecords"]))
    exchange_pages = max(1, math.ceil(m / 1000))
    # Exchange: Get-Mailbox and Get-MailboxAuditBypassAssociation page over every mailbox (1,000 a page); the
    # other 18 cmdlets answer in one page each (4 forwarding ones + 14 of email security, issue 17)
    exchange_requests = 2 * exchange_pages + 4 + EMAIL_SECURITY_SINGLE_CMDLETS
    batches = 3 * math.ceil(u / 20) + math.ceil(2 * g / 20)
    log_trips = sum(logs.values())
    round_trips = (batches + pages + reports + singles_directory + 1 + grants + sps + 2 + exchange_requests + 2
                   + log_trips)
    floor = collection_floor(classes, longest_chain=max(pages, reports + log_reports, exchange_pages),
                             round_trips=round_trips, concurrency=CONCURRENCY, latency=LATENCY_S * scale)
    needed = {c.name: (c.units if isinstance(c, BucketClass) else c.requests) for c in classes}
    return {"floor": floor.to_json(), "needed": needed | {"round_trips": round_trips, "takeover_logs": logs}}


def job(users: int, scale: float, out: str) -> dict[str, Any]:
    from pathlib import Path

    from connectors.email_dns import DnsOptions
    from connectors.microsoft.collect import collect_microsoft
    from connectors.microsoft.options import MicrosoftOptions
    from idaudit.core.snapshot import load_snapshot

    sp = SimProcess(users, LATENCY_S, scale)
    with sp as info:
        options = MicrosoftOptions(tenant_id=info["tenant_id"], client_id=info["client_id"],
                                   client_secret=info["client_secret"], authority_host=info["authority_host"],
                                   graph_endpoint=info["graph_url"], exchange_endpoint=info["exchange_url"],
                                   ca_bundle=Path(info["ca_file"]), time_scale=scale, concurrency=CONCURRENCY,
                                   dns=DnsOptions(resolvers=(info["dns_address"],)),
                                   log_window_end=info["as_of"])  # the simulated week before the tenant's as_of
        with timer() as t:
            collect_microsoft(options, out, progress=False)
        stats = sp.stats()
    manifest = load_snapshot(out).manifest
    return {"wall_s": round(t["s"], 3), "server": stats, "facts": info["facts"],
            "sections": {n: r.status.value for n, r in manifest.sections.items()},
            "failed_subjects": {n: len(r.failed_subjects) for n, r in manifest.sections.items()
                                if r.failed_subjects},
            **microsoft_floor(info["facts"], scale)}


def settings(quick: bool) -> tuple[int, float]:
    return (2_000, 0.05) if quick else (20_000, 0.5)


def run(ctx: Context) -> dict[str, Any]:
    users, scale = settings(ctx.quick)
    ctx.say(f"microsoft: collecting {users:,} users, time scale {scale}, latency {LATENCY_S * scale:.3f} s")
    r = run_child("bench.collection_microsoft:job", users=users, scale=scale, out=str(ctx.work / "ms-snap"))
    floor = r["floor"]["seconds"]
    ratio = round(r["wall_s"] / floor, 3)
    all_ok = all(v == "ok" for v in r["sections"].values()) and not r["failed_subjects"]
    srv = r["server"]
    return {
        "name": "collection_microsoft",
        "title": f"Microsoft 365 collection, {users:,} users, time scale {scale}",
        "ratio": ratio, "ratio_label": "wall time ÷ throttle/latency floor", "target": "≤ 1.3",
        "target_met": ratio <= 1.3 and all_ok,
        "raw": {"users": users, "time_scale": scale, "latency_per_round_trip_s": LATENCY_S * scale,
                "wall_s": r["wall_s"], "floor_s": floor, "floor_binding": r["floor"]["binding"],
                "floor_terms": r["floor"]["terms"], "requests_needed": r["needed"],
                "requests_by_route": srv["requests"], "http_requests": sum(srv["requests"].values()),
                "batch_requests": srv["batch_requests"], "batch_inner": srv["batch_inner"],
                "statuses": srv["statuses"], "429s": sum(srv["throttled"].values()),
                "429s_by_route": srv["throttled"], "max_concurrency_seen": srv["max_concurrency"],
                "simulator_latency_overruns": srv["latency_overruns"],
                "all_sections_ok": all_ok, "sections_not_ok": {k: v for k, v in r["sections"].items() if v != "ok"},
                "failed_subjects": r["failed_subjects"], "per_user_ms": round(r["wall_s"] / users * 1000, 3),
                "peak_rss_mb": r["peak_rss_mb"]},
    }
