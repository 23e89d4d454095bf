"""Prototypes of the connector fixes that docs/benchmarks.md measures — not part of `python -m bench`.

The connectors belong to other modules' owners; these patches are applied in this process only, to measure
what a fix would gain with the same bench job, machine and settings:

    python -m bench.prototypes microsoft [--users 20000 --scale 0.5]
        1. userRegistrationDetails read with $top=999 instead of Graph's default 100-item pages;
        2. sections in three concurrent lanes (paced users; registration + tenant-wide + Exchange; per-user
           batches fed by a plain id listing), groups last.

(The Google prototype — tokens.list beside the Gmail reads, Directory batches paced to the quota — is now the
connector itself: connectors/google/collect.py and connectors/google/pacing.py.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.prototypes", description=__doc__.splitlines()[0])
    p.add_argument("provider", choices=["microsoft"])
    p.add_argument("--users", type=int, default=20_000)
    p.add_argument("--scale", type=float)
    args = p.parse_args(argv)
    out = tempfile.mkdtemp(prefix="idaudit-proto-") + "/snap"
    from bench.collection_microsoft import job

    patch_microsoft()
    r = job(args.users, args.scale or 0.5, out)
    keep: tuple[str, ...] = ("wall_s", "floor", "sections", "failed_subjects")
    doc = {k: r[k] for k in keep} | {"ratio": round(r["wall_s"] / r["floor"]["seconds"], 3),
                                     "server_requests": r["server"]["requests"]}
    print(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
