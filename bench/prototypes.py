"""Prototypes of the connector fixes that docs/benchmarks.md measures — not part of `python -m bench`.

The connectors belong to other modules' owners; these patches are applied in this process only, to measure
what a fix would gain with the same bench job, machine and settings:

    python -m bench.prototypes microsoft [--users 20000 --scale 0.5]
        1. userRegistrationDetails read with $top=999 instead of Graph's default 100-item pages;
        2. sections in three concurrent lanes (paced users; registration + tenant-wide + Exchange; per-user
           batches fed by a plain id listing), groups last.
    python -m bench.prototypes google [--users 20000 --scale 0.25]
        1. tokens.list and the Gmail reads at the same time;
        2. Directory batches paced on the client side to the quota (2,400 calls a minute, time-scaled).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from typing import Any


def patch_microsoft() -> None:
    from connectors.microsoft import graph
    from connectors.microsoft.collectors import EXCHANGE_CMDLETS, MicrosoftCollection

    original = graph.GraphClient.get_all

    async def get_all(self: Any, path: str, *, version: str = "v1.0", params: Any = None, pace: Any = None) -> Any:
        if path.startswith("reports/authenticationMethods/userRegistrationDetails") and not params:
            params = {"$top": "999"}
        return await original(self, path, version=version, params=params, pace=pace)

    async def run(self: Any) -> None:
        async def step(names: tuple[str, ...], fn: Any) -> None:
            if any(self.rec.wants(n) for n in names):
                await fn()

        async def lane_users() -> None:
            await step(("users", "signInActivity"), self.users)

        async def lane_tenant() -> None:
            await step(("userRegistrationDetails", "authenticationMethods"), self.registration)
            for names, fn in [
                (("domains",), lambda: self._simple_list("domains", "domains")),
                (("subscribedSkus",), lambda: self._simple_list("subscribedSkus", "subscribedSkus")),
                (("securityDefaults",), lambda: self._object(
                    "securityDefaults", "policies/identitySecurityDefaultsEnforcementPolicy")),
                (("conditionalAccessPolicies",), self.conditional_access),
                (("authorizationPolicy",), lambda: self._object("authorizationPolicy",
                                                                 "policies/authorizationPolicy")),
                (("authenticationMethodsPolicy",), lambda: self._object(
                    "authenticationMethodsPolicy", "policies/authenticationMethodsPolicy")),
                (("roleDefinitions",), lambda: self._simple_list(
                    "roleDefinitions", "roleManagement/directory/roleDefinitions", "beta")),
                (("roleAssignments",), self.role_assignments),
                (("roleEligibilities",), self.role_eligibilities),
                (("oauth2PermissionGrants",), lambda: self._simple_list("oauth2PermissionGrants",
                                                                         "oauth2PermissionGrants")),
                (("servicePrincipals",), self.service_principals),
                (("appRoleAssignments",), self.app_role_assignments),
                (tuple(c.section for c in EXCHANGE_CMDLETS), self.exchange_sections),
            ]:
                await step(names, fn)

        async def lane_per_user() -> None:
            await step(("perUserMfaState",), self.per_user_mfa)
            await step(("inboxRules",), lambda: self._mailbox_section(
                "inboxRules", "users/{id}/mailFolders/inbox/messageRules", all_pages=True))
            await step(("mailboxSettings",), lambda: self._mailbox_section("mailboxSettings",
                                                                            "users/{id}/mailboxSettings"))

        await asyncio.gather(lane_users(), lane_tenant(), lane_per_user())
        await step(("groups", "groupMembers"), self.groups)

    graph.GraphClient.get_all = get_all  # type: ignore[method-assign]
    MicrosoftCollection.run = run  # type: ignore[method-assign]


class _Window:
    """At most `limit` calls per `window` seconds (fixed windows): conservative against a token bucket."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self.lock = threading.Lock()
        self.start: float | None = None
        self.used = 0

    def take(self, n: int) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                if self.start is None or now - self.start >= self.window:
                    self.start, self.used = now, 0
                if self.used + n <= self.limit:
                    self.used += n
                    return
                wait = self.window - (now - self.start) + 0.005
            time.sleep(wait)


def patch_google(users: int, scale: float) -> None:
    from bench.collection_google import FULL_USERS
    from connectors.google import client as gclient
    from connectors.google import collect as gcollect
    from connectors.simulator.google import DEFAULT_QUOTAS

    limit, window = DEFAULT_QUOTAS["directory"]
    if users < FULL_USERS:  # the bench scales the quota with the tenant below 20,000 users
        limit = max(1, round(limit * users / FULL_USERS))
    pacer = _Window(int(limit * 0.99), window * scale * 1.02)
    original_execute = gclient.GoogleClient._execute_batch

    def execute_batch(self: Any, batch: Any, http: Any) -> None:
        uris = [r.uri for r in batch._requests.values()]
        if uris and "/admin/directory/" in uris[0]:
            pacer.take(len(uris))
        original_execute(self, batch, http)

    tokens, gmail = gcollect._collect_tokens, gcollect._collect_gmail
    started: dict[str, threading.Thread] = {}

    def tokens_in_thread(run: Any, all_users: Any) -> None:
        started["tokens"] = threading.Thread(target=tokens, args=(run, all_users))
        started["tokens"].start()

    def gmail_then_join(run: Any, all_users: Any) -> None:
        gmail(run, all_users)
        if "tokens" in started:
            started["tokens"].join()

    gclient.GoogleClient._execute_batch = execute_batch  # type: ignore[method-assign]
    setattr(gcollect, "_collect_tokens", tokens_in_thread)  # noqa: B010 - a deliberate monkey-patch
    setattr(gcollect, "_collect_gmail", gmail_then_join)  # noqa: B010


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.prototypes", description=__doc__.splitlines()[0])
    p.add_argument("provider", choices=["microsoft", "google"])
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--scale", type=float)
    args = p.parse_args(argv)
    out = tempfile.mkdtemp(prefix="idaudit-proto-") + "/snap"
    if args.provider == "microsoft":
        from bench.collection_microsoft import job

        patch_microsoft()
        r = job(args.users, args.scale or 0.5, out)
        keep: tuple[str, ...] = ("wall_s", "floor", "sections", "failed_subjects")
    else:
        from bench.collection_google import job as gjob

        scale = args.scale or 0.25
        patch_google(args.users, scale)
        r = gjob(args.users, scale, out)
        keep = ("wall_s", "floor", "sections", "failed_subjects", "client_retries")
    doc = {k: r[k] for k in keep} | {"ratio": round(r["wall_s"] / r["floor"]["seconds"], 3),
                                     "server_requests": r["server"]["requests"]}
    print(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
