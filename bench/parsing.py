"""Measure 3 — parsing: raw Graph JSON pages to our tables vs msgraph-sdk's model deserialisation.

The pages are what Graph sends for a complete user read: `/users?$select=…,signInActivity&$top=500` pages and
`/reports/authenticationMethods/userRegistrationDetails` pages, rendered from the simulator's tenant model (the
same objects the simulator serves), as bytes, 500 objects a page.

* ours: json.loads of every page, the items concatenated as the connector stores them, then
  idaudit.core.normalise (users, mfa_registration, mfa_methods tables — the real normaliser, all its work counted);
* SDK: what `await client.users.get()` does with the same bytes — kiota's JsonParseNodeFactory root node and
  `get_object_value(UserCollectionResponse)` / `UserRegistrationDetailsCollectionResponse` — and nothing more
  (no table is built on that side, so the comparison favours the SDK).

Both sides get the identical pages in the same child process, each timed separately; the SDK runs on a slice
(it manages a few hundred users per second) and the ratio compares time per user.
Target: ours ≥ 100× faster per user.
"""

from __future__ import annotations

import json
from typing import Any

from bench.common import Context, run_child, timer

USER_SELECT = ("id", "userPrincipalName", "mail", "displayName", "accountEnabled", "userType", "createdDateTime",
               "onPremisesSyncEnabled", "assignedLicenses", "signInActivity")
GRAPH = "https://graph.microsoft.com/v1.0"


def graph_pages(items: list[dict[str, Any]], path: str, context: str, size: int) -> list[bytes]:
    """Items cut into Graph collection pages (with @odata.context and absolute @odata.nextLink), as bytes."""
    pages = []
    for start in range(0, len(items), size):
        body: dict[str, Any] = {"@odata.context": f"{GRAPH}/$metadata#{context}", "value": items[start:start + size]}
        if start + size < len(items):
            body["@odata.nextLink"] = f"{GRAPH}/{path}?$skiptoken=opaque{start + size}"
        pages.append(json.dumps(body, separators=(",", ":")).encode())
    return pages


def tenant_pages(users: int, seed: int = 8) -> tuple[list[bytes], list[bytes], Any]:
    from simulator import build_organisation
    from simulator.microsoft.models import MicrosoftTenant, select

    org = build_organisation(users=users, seed=seed)
    tenant = MicrosoftTenant(org, {"p1": True, "p2": True})
    user_pages = graph_pages([select(u, USER_SELECT) for u in tenant.users], "users", "users", 500)
    reg_pages = graph_pages(list(tenant.registration_details),
                            "reports/authenticationMethods/userRegistrationDetails",
                            "reports/authenticationMethods/userRegistrationDetails", 500)
    return user_pages, reg_pages, org


def ours(user_pages: list[bytes], reg_pages: list[bytes], org: Any) -> dict[str, int]:
    """Raw pages -> json -> snapshot in memory -> the Microsoft normaliser's tables."""
    from datetime import UTC, datetime

    from idaudit.core.normalise import normalise
    from idaudit.core.snapshot import Manifest, SectionRecord, SectionStatus, snapshot_from_memory

    users: list[Any] = []
    for page in user_pages:
        users.extend(json.loads(page)["value"])
    regs: list[Any] = []
    for page in reg_pages:
        regs.extend(json.loads(page)["value"])
    ok = SectionStatus.OK
    sections = {
        "users": SectionRecord("users", ok, "users.json", len(users)),
        "signInActivity": SectionRecord("signInActivity", ok, "signInActivity.json", len(users)),
        "userRegistrationDetails": SectionRecord("userRegistrationDetails", ok, "userRegistrationDetails.json",
                                                 len(regs)),
    }
    manifest = Manifest(provider="microsoft", tenant_id=org.tenant_id, tenant_name=org.name,
                        collected_at=datetime(2026, 11, 28, 6, tzinfo=UTC), sections=sections)
    snap = snapshot_from_memory(manifest, {"users": users, "userRegistrationDetails": regs,
                                           "signInActivity": {"embeddedIn": "users", "field": "signInActivity"}})
    data = normalise(snap)
    return {"users_rows": len(data.tables["users"]), "registration_rows": len(data.tables["mfa_registration"])}


def sdk(user_pages: list[bytes], reg_pages: list[bytes]) -> dict[str, int]:
    """What msgraph-sdk does with each response body: kiota JSON parse node -> generated model objects."""
    from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
    from msgraph.generated.models.user_collection_response import UserCollectionResponse
    from msgraph.generated.models.user_registration_details_collection_response import (
        UserRegistrationDetailsCollectionResponse,
    )

    factory = JsonParseNodeFactory()
    n_users = n_regs = 0
    for page in user_pages:
        resp = factory.get_root_parse_node("application/json", page).get_object_value(UserCollectionResponse)
        n_users += len(resp.value or [])
    for page in reg_pages:
        resp2 = factory.get_root_parse_node("application/json", page).get_object_value(
            UserRegistrationDetailsCollectionResponse)
        n_regs += len(resp2.value or [])
    return {"users": n_users, "registrations": n_regs}


def job(users: int, sdk_users: int) -> dict[str, Any]:
    user_pages, reg_pages, org = tenant_pages(users)
    # The SDK's slice: whole pages from the start of the same page lists.
    sdk_user_pages = user_pages[: max(1, sdk_users // 500)]
    sdk_reg_pages = reg_pages[: max(1, sdk_users // 500)]
    # Import and warm both sides once, untimed, on a five-user page.
    tiny_users = [graph_pages(json.loads(user_pages[0])["value"][:5], "users", "users", 5)[0]]
    tiny_regs = [graph_pages(json.loads(reg_pages[0])["value"][:5], "r", "r", 5)[0]]
    sdk(tiny_users, tiny_regs)
    ours(tiny_users, tiny_regs, org)
    with timer() as t_sdk:
        sdk_counts = sdk(sdk_user_pages, sdk_reg_pages)
    with timer() as t_ours:
        ours_counts = ours(user_pages, reg_pages, org)
    return {"ours_s": round(t_ours["s"], 4), "sdk_s": round(t_sdk["s"], 4), "ours_objects": users * 2,
            "ours_counts": ours_counts, "sdk_counts": sdk_counts,
            "sdk_objects": sdk_counts["users"] + sdk_counts["registrations"],
            "page_bytes": sum(map(len, user_pages)) + sum(map(len, reg_pages))}


def run(ctx: Context) -> dict[str, Any]:
    users, sdk_users = (5_000, 500) if ctx.quick else (20_000, 3_000)
    ctx.say(f"parsing: {users:,} users' pages ours, {sdk_users:,} through the SDK models")
    r = run_child("bench.parsing:job", users=users, sdk_users=sdk_users)
    ours_rate = r["ours_objects"] / r["ours_s"]
    sdk_rate = r["sdk_objects"] / r["sdk_s"]
    speedup = round(ours_rate / sdk_rate, 1)
    complete = r["ours_counts"]["users_rows"] == users
    return {
        "name": "parsing",
        "title": "Parsing: raw Graph pages -> our tables vs msgraph-sdk model deserialisation (objects/s)",
        "ratio": speedup, "ratio_label": "our objects/s ÷ SDK objects/s", "target": "≥ 100",
        "target_met": speedup >= 100 and complete,
        "raw": {"users": users, "ours_s": r["ours_s"], "ours_objects": r["ours_objects"],
                "ours_objects_per_s": round(ours_rate), "sdk_s": r["sdk_s"], "sdk_objects": r["sdk_objects"],
                "sdk_objects_per_s": round(sdk_rate), "page_mb": round(r["page_bytes"] / 2**20, 1),
                "ours_table_rows": r["ours_counts"], "peak_rss_mb": r["peak_rss_mb"]},
    }
