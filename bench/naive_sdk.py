"""Measure 2 — idaudit against the naive script the SDK's samples teach.

The naive script, as msgraph-sdk's README and samples show it: a GraphServiceClient over azure-identity's
ClientSecretCredential (pointed at the simulator's login endpoint, with its CA), `await client.users.get()`, then
for each user, one awaited request after the other — inbox rules, authentication methods, mailbox settings —
each answer deserialised into SDK model objects; next page through `with_url(odata_next_link)`. No $batch, no
concurrency. Errors (404 for a user without a mailbox) are caught per request, as a careful sample would.

It runs against the same simulated 20,000-user tenant (same latency, throttles and time scale as measure 1, its
own simulator process) but stops after a slice of users (2,000; 200 in --quick); the comparison is per user:
naive seconds per user ÷ idaudit's seconds per user in measure 1 (which reads far more per user: MFA state,
sign-in, registration, rules, mailbox settings, plus the tenant-wide sections). Target: ≥ 20×.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from bench.collection_microsoft import CONCURRENCY, LATENCY_S, settings
from bench.common import Context, run_child
from bench.msim import SimProcess


async def naive_script(info: dict[str, Any], limit: int) -> dict[str, Any]:
    import httpx
    from azure.identity import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphServiceClient
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.graph_request_adapter import GraphRequestAdapter
    from msgraph_core import GraphClientFactory

    credential = ClientSecretCredential(info["tenant_id"], info["client_id"], info["client_secret"],
                                        authority=info["authority_host"], connection_verify=info["ca_file"],
                                        disable_instance_discovery=True)
    auth = AzureIdentityAuthenticationProvider(credential, scopes=["https://graph.microsoft.com/.default"],
                                               allowed_hosts=["127.0.0.1"])
    tls = ssl.create_default_context(cafile=info["ca_file"])
    http = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient(verify=tls, trust_env=False))
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = info["graph_url"] + "/v1.0"
    client = GraphServiceClient(request_adapter=adapter)

    import time

    # The first user is a warm-up, not counted: the SDK imports its model modules lazily on first use, and
    # idaudit's figure does not include import time either.
    done = rules = methods = errors = 0
    started = 0.0
    page = await client.users.get()
    while page is not None and done < limit + 1:
        for user in page.value or []:
            if done == 1:
                started = time.perf_counter()
                rules = methods = errors = 0
            if done >= limit + 1:
                break
            me = client.users.by_user_id(user.id or "")
            try:
                r = await me.mail_folders.by_mail_folder_id("inbox").message_rules.get()
                rules += len(r.value or []) if r else 0
            except ODataError:
                errors += 1
            try:
                m = await me.authentication.methods.get()
                methods += len(m.value or []) if m else 0
            except ODataError:
                errors += 1
            try:
                await me.mailbox_settings.get()
            except ODataError:
                errors += 1
            done += 1
        if not page.odata_next_link or done >= limit + 1:
            break
        page = await client.users.with_url(page.odata_next_link).get()
    elapsed = time.perf_counter() - started
    await http.aclose()
    return {"users": done - 1, "rules": rules, "methods": methods, "errors": errors, "seconds": elapsed}


def job(users: int, scale: float, limit: int) -> dict[str, Any]:
    sp = SimProcess(users, LATENCY_S, scale)
    with sp as info:
        counts = asyncio.run(naive_script(info, limit))
        stats = sp.stats()
    return {"wall_s": round(counts.pop("seconds"), 3), "counts": counts, "server": stats}


def run(ctx: Context) -> dict[str, Any]:
    users, scale = settings(ctx.quick)
    limit = 200 if ctx.quick else 2_000
    ours = ctx.results.get("collection_microsoft")
    if ours is None or "error" in ours:
        from bench import collection_microsoft

        ours = collection_microsoft.run(ctx)
    ctx.say(f"naive SDK script: {limit:,} of {users:,} users, time scale {scale}")
    r = run_child("bench.naive_sdk:job", users=users, scale=scale, limit=limit)
    naive_per_user = r["wall_s"] / r["counts"]["users"]
    ours_per_user = ours["raw"]["wall_s"] / ours["raw"]["users"]
    speedup = round(naive_per_user / ours_per_user, 1)
    return {
        "name": "naive_sdk",
        "title": f"idaudit vs the SDK-sample script (sequential awaits, models, no $batch), {limit:,}-user slice",
        "ratio": speedup, "ratio_label": "naive s/user ÷ idaudit s/user", "target": "≥ 20",
        "target_met": speedup >= 20 and r["counts"]["users"] == limit,
        "raw": {"slice_users": r["counts"]["users"], "naive_wall_s": r["wall_s"],
                "naive_ms_per_user": round(naive_per_user * 1000, 2),
                "idaudit_ms_per_user": round(ours_per_user * 1000, 3),
                "naive_projected_tenant_s": round(naive_per_user * users, 1),
                "idaudit_tenant_s": ours["raw"]["wall_s"], "naive_counts": r["counts"],
                "naive_http_requests": sum(r["server"]["requests"].values()),
                "naive_429s": sum(r["server"]["throttled"].values()), "time_scale": scale,
                "latency_per_round_trip_s": LATENCY_S * scale, "idaudit_concurrency": CONCURRENCY,
                "auth": "azure-identity ClientSecretCredential (authority = simulator, connection_verify = its CA)",
                "peak_rss_mb": r["peak_rss_mb"]},
    }
