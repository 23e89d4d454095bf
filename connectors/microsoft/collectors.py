"""What to read from Microsoft Graph and Exchange, section by section (names from idaudit/core/sections.py).

Each section is one small method: fetch through the shared layer (graph.py / exchange.py), then record data or a
status. Sections depend on each other only through cached fetches (per-user sections need the user list, group
expansion needs CA policies and role assignments), so a section filter still works.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from connectors.email_dns import DnsOptions, collect_email_auth, unanswered
from connectors.microsoft.exchange import EXCHANGE_CMDLETS, ExchangeClient, cmdlet_absent
from connectors.microsoft.graph import GraphClient, split_ok
from connectors.microsoft.http import ApiError
from connectors.microsoft.logs import LogCollection
from connectors.microsoft.recorder import SectionRecorder, subject_reason
from connectors.microsoft.rule_folders import archive_folders, collect_rule_folders
from idaudit.core.logwindow import MICROSOFT_LOG_SECTIONS
from idaudit.core.snapshot import SectionStatus

log = logging.getLogger(__name__)

USER_SELECT = ("id,userPrincipalName,mail,displayName,accountEnabled,userType,createdDateTime,"
               "onPremisesSyncEnabled,assignedLicenses")
# publisherName is a beta-only property: on v1.0 the publisher is named by verifiedPublisher (and $select of it
# answers 400), so the v1.0 listing asks only for what v1.0 has.
SP_SELECT = ("id,appId,appDisplayName,displayName,verifiedPublisher,appOwnerOrganizationId,"
             "servicePrincipalType,accountEnabled,appRoles")
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE_APP_ID = "00000002-0000-0ff1-ce00-000000000000"
RESOURCE_APP_IDS = (GRAPH_APP_ID, EXCHANGE_APP_ID)
SHAREPOINT_APP_ID = "00000003-0000-0ff1-ce00-000000000000"  # Office 365 SharePoint Online
SIGN_IN_LICENCE_CODE = "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
# Graph's 404 codes for "this user has no Exchange Online mailbox", on mailbox endpoints only: guests and unlicensed
# accounts get ResourceNotFound ("Resource could not be discovered."), inactive / on-premises mailboxes
# MailboxNotEnabledForRESTAPI (docs/semantics.md, docs/fidelity.md).
_NO_MAILBOX_CODES = {"mailboxnotenabledforrestapi", "mailboxnotfound", "errormailboxnotfound", "resourcenotfound"}

ALL_SECTIONS_IN_ORDER = (
    "organization", "domains", "subscribedSkus", "users", "signInActivity", "userRegistrationDetails",
    "authenticationMethods", "perUserMfaState", "securityDefaults", "conditionalAccessPolicies",
    "authorizationPolicy", "authenticationMethodsPolicy", "roleDefinitions", "roleAssignments",
    "roleEligibilities", "groups", "groupMembers", "inboxRules", "mailboxSettings", "inboxRuleFolders",
    "oauth2PermissionGrants",
    "servicePrincipals", "appRoleAssignments", "sharePointAppRoleAssignments", "exchange.mailboxes",
    "exchange.remoteDomains",
    "exchange.outboundSpamPolicies", "exchange.outboundSpamRules", "exchange.transportRules", "exchange.recipients",
    "exchange.acceptedDomains", "exchange.dkimSigningConfig", "exchange.antiPhishPolicies", "exchange.antiPhishRules",
    "exchange.safeLinksPolicies", "exchange.safeLinksRules", "exchange.safeAttachmentPolicies",
    "exchange.safeAttachmentRules", "exchange.malwareFilterPolicies", "exchange.contentFilterPolicies",
    "exchange.connectionFilterPolicies", "exchange.externalInOutlook", "exchange.adminAuditLogConfig",
    "exchange.organizationConfig", "exchange.mailboxAuditBypass", "dns.emailAuth",
    *MICROSOFT_LOG_SECTIONS,
)

Step = tuple[tuple[str, ...], Callable[[], Awaitable[None]]]  # the sections a step records, and the step


def is_no_mailbox(error: ApiError) -> bool:
    """Graph's 404 for a user without an Exchange Online mailbox: a fact about the user, not a failure."""
    return error.status == 404 and error.code.casefold() in _NO_MAILBOX_CODES


class MicrosoftCollection:
    """One collection run over an authenticated Graph client (and Exchange client when available)."""

    def __init__(self, graph: GraphClient, recorder: SectionRecorder, *, exchange: ExchangeClient | None = None,
                 exchange_unavailable: ApiError | None = None, logs: LogCollection | None = None,
                 dns: DnsOptions | None = None) -> None:
        self.graph = graph
        self.logs = logs
        self.rec = recorder
        self.exchange = exchange
        self.exchange_unavailable = exchange_unavailable
        self.dns = dns or DnsOptions()
        self._accepted_domains: list[Any] | ApiError | None = None
        self._domains: list[Any] | ApiError | None = None
        self._users: list[dict[str, Any]] | ApiError | None = None
        self._id_listing: list[dict[str, Any]] | ApiError | None = None  # the per-user lane's own user listing
        self._id_listing_lock = asyncio.Lock()  # one listing shared by the per-user sections
        self._ca: list[Any] | ApiError | None = None
        self._role_assignments: list[Any] | ApiError | None = None
        self._role_eligibilities: list[Any] | ApiError | None = None
        self._sps: list[Any] | ApiError | None = None
        self._per_user_data: dict[str, dict[str, Any]] = {}  # inbox rules and mailbox settings (rule folders)
        self._per_user_tried: set[str] = set()

    async def run(self) -> None:
        """Read every wanted section in three concurrent lanes, then the groups.

        The throttle classes of PLATFORM-FACTS are independent budgets, so a collector that reads them one after the
        other pays their sum (measured 3.8x the floor on 20,000 users) where the provider allows their maximum:
          1. paced users: the users pages with signInActivity (10 requests/min — the longest term of the floor);
          2. tenant-wide: the registration report (reports, 5 per 10 s), policies, roles, apps and Exchange —
             each step after the one it depends on (appRoleAssignments after servicePrincipals);
          3. per user: the $batch fan-outs (perUserMfaState, inbox rules, mailbox settings, then the rule folders
             they name), fed by a plain id listing of their own rather than waiting for lane 1.
        Groups come last: they need CA policies, role assignments and eligibilities (lane 2) and the user list.

        Concurrency stays bounded by the GraphClient: every request of every lane takes one of its `concurrency`
        slots (default 4 = Outlook's 4 concurrent requests per mailbox; Graph runs at most 4 inner Outlook requests
        of a batch at once), and the paced classes (signInActivity, reports, conditional access) still wait for
        their RateLimit slot before taking one, so lanes add overlap, never more Graph requests in flight. The
        Exchange cmdlets (lane 2) go one at a time to another service with its own throttling: at most
        `concurrency` + 1 requests are in flight in all. Each step records its own sections: a failure or a bug
        in one lane becomes that step's status, never the others'.
        """
        await asyncio.gather(*(self._lane(lane) for lane in self._lanes()))
        await self._lane([(("groups", "groupMembers"), self.groups)])

    def _lanes(self) -> list[list[Step]]:
        paced_users: list[Step] = [
            (("users", "signInActivity"), self.users),
        ]
        tenant_wide: list[Step] = [
            (("userRegistrationDetails", "authenticationMethods"), self.registration),
            (("domains",), lambda: self._simple_list("domains", "domains")),
            (("subscribedSkus",), lambda: self._simple_list("subscribedSkus", "subscribedSkus")),
            (("securityDefaults",), lambda: self._object("securityDefaults",
                                                          "policies/identitySecurityDefaultsEnforcementPolicy")),
            (("conditionalAccessPolicies",), self.conditional_access),
            (("authorizationPolicy",), lambda: self._object("authorizationPolicy", "policies/authorizationPolicy")),
            (("authenticationMethodsPolicy",), lambda: self._object("authenticationMethodsPolicy",
                                                                     "policies/authenticationMethodsPolicy")),
            (("roleDefinitions",), lambda: self._simple_list("roleDefinitions",
                                                              "roleManagement/directory/roleDefinitions", "beta")),
            (("roleAssignments",), self.role_assignments),
            (("roleEligibilities",), self.role_eligibilities),
            (("oauth2PermissionGrants",), lambda: self._simple_list("oauth2PermissionGrants",
                                                                     "oauth2PermissionGrants")),
            (("servicePrincipals",), self.service_principals),
            (("appRoleAssignments",), self.app_role_assignments),
            (("sharePointAppRoleAssignments",), self.sharepoint_role_assignments),
            (tuple(c.section for c in EXCHANGE_CMDLETS), self.exchange_sections),
            (("dns.emailAuth",), self.email_dns),
        ]
        per_user: list[Step] = [
            (("perUserMfaState",), self.per_user_mfa),
            (("inboxRules",), lambda: self._mailbox_section(
                "inboxRules", "users/{id}/mailFolders/inbox/messageRules", all_pages=True)),
            (("mailboxSettings",), lambda: self._mailbox_section("mailboxSettings", "users/{id}/mailboxSettings")),
            (("inboxRuleFolders",), self.rule_folders),
        ]
        lanes = [paced_users, tenant_wide, per_user]
        if self.logs is not None:  # 4. the takeover logs, each bounded by the window and paced to its class
            lanes.append([(MICROSOFT_LOG_SECTIONS, self.logs.run)])
        return lanes

    async def _lane(self, steps: list[Step]) -> None:
        """Run steps in order; whatever one raises ends as its own sections' status and the lane goes on."""
        for names, step in steps:
            if not any(self.rec.wants(n) for n in names):
                continue
            try:
                await step()
            except ApiError as exc:  # a dependency failed in a way the step did not anticipate
                for n in names:
                    if n not in self.rec.writer.sections:
                        self.rec.fail(n, exc)
            except Exception as exc:  # a bug must not look like an empty tenant: record it as an error
                log.exception("section %s failed unexpectedly", names[0])
                err = ApiError(0, "InternalError", f"{type(exc).__name__}: {exc}", names[0])
                for n in names:
                    if n not in self.rec.writer.sections:
                        self.rec.fail(n, err, SectionStatus.ERROR)

    # ---- simple sections -------------------------------------------------------------------------------------

    async def _simple_list(self, name: str, path: str, version: str = "v1.0",
                           params: dict[str, str] | None = None, pace: str | None = None) -> None:
        self.rec.progress.section_started(name)
        try:
            items = await self.graph.get_all(path, version=version, params=params, pace=pace)
        except ApiError as exc:
            if name == "domains":
                self._domains = exc
            self.rec.fail(name, exc)
            return
        if name == "domains":
            self._domains = items
        self.rec.ok(name, items)

    async def _object(self, name: str, path: str) -> None:
        self.rec.progress.section_started(name)
        try:
            body = await self.graph.get(path)
        except ApiError as exc:
            self.rec.fail(name, exc)
            return
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "@odata.context"}
        self.rec.ok(name, body, count=1)

    # ---- users -----------------------------------------------------------------------------------------------

    async def users(self) -> None:
        """Users with signInActivity; without P1 (or AuditLog.Read.All) Graph refuses the whole request, so ask
        again without the field and record why last sign-in is unknown."""
        self.rec.progress.section_started("users")
        try:
            users = await self.graph.get_all("users", params={"$select": USER_SELECT + ",signInActivity",
                                                              "$top": "500"}, pace="sign_in_activity")
        except ApiError as first:
            # Whatever went wrong with signInActivity (licence, permission, its 10/min throttle exhausted),
            # the accounts themselves may still be readable.
            status = SectionStatus.UNLICENSED if first.code == SIGN_IN_LICENCE_CODE else first.section_status
            try:
                users = await self.graph.get_all("users", params={"$select": USER_SELECT, "$top": "999"})
            except ApiError as exc:
                self._users = exc
                self.rec.fail("users", exc)
                self.rec.fail("signInActivity", first, status)
                return
            self._users = users
            self.rec.ok("users", users)
            self.rec.fail("signInActivity", first, status)
            return
        self._users = users
        self.rec.ok("users", users)
        with_activity = sum(1 for u in users if isinstance(u, dict) and u.get("signInActivity"))
        self.rec.ok("signInActivity", {"embeddedIn": "users", "field": "signInActivity"}, count=with_activity,
                    detail="data embedded in users.json (signInActivity of each user)")

    async def _user_ids(self) -> list[str] | ApiError:
        """The ids the per-user sections ask about: the users section's list when it is already read, else a
        plain listing ($top=999, directory class only) read once, so the per-user lane never waits for the
        signInActivity pages (10 requests/min) of the users lane."""
        async with self._id_listing_lock:
            listing = self._users if isinstance(self._users, list) else self._id_listing
            if listing is None:
                try:
                    listing = await self.graph.get_all("users", params={"$select": USER_SELECT, "$top": "999"})
                except ApiError as exc:
                    listing = exc
                self._id_listing = listing
        if isinstance(listing, ApiError):
            return listing
        return [str(u["id"]) for u in listing if isinstance(u, dict) and u.get("id")]

    def _known_users(self) -> list[dict[str, Any]]:
        for listing in (self._users, self._id_listing):
            if isinstance(listing, list):
                return listing
        return []

    # ---- MFA ---------------------------------------------------------------------------------------------------

    async def registration(self) -> None:
        self.rec.progress.section_started("userRegistrationDetails")
        try:
            # Graph's default page is 100 items; 999 (the directory maximum) is 10x fewer requests of the
            # 5-per-10-s reports class.
            items = await self.graph.get_all("reports/authenticationMethods/userRegistrationDetails",
                                             params={"$top": "999"}, pace="reports")
        except ApiError as exc:
            self.rec.fail("userRegistrationDetails", exc)
            await self._per_user("authenticationMethods", "users/{id}/authentication/methods", all_pages=True)
            return
        self.rec.ok("userRegistrationDetails", items)
        if self.rec.wanted is not None and "authenticationMethods" in self.rec.wanted:
            await self._per_user("authenticationMethods", "users/{id}/authentication/methods", all_pages=True)

    async def per_user_mfa(self) -> None:
        await self._per_user("perUserMfaState", "users/{id}/authentication/requirements", version="beta")

    async def _per_user(self, name: str, template: str, *, version: str = "v1.0", all_pages: bool = False,
                        mailbox: bool = False) -> None:
        """Fan a per-user request out through $batch; one user's failure becomes a failed subject."""
        self._per_user_tried.add(name)
        ids = await self._user_ids()
        if isinstance(ids, ApiError):
            self.rec.progress.section_started(name)
            self.rec.fail(name, ids, SectionStatus.ERROR,
                          detail=f"the user list could not be read ({ids}), so no user could be asked")
            return
        self.rec.progress.section_started(name, total=len(ids))
        results = await self.graph.batch({uid: template.format(id=uid) for uid in ids}, version=version,
                                         all_pages=all_pages, on_done=self.rec.progress.advance)
        ok, failed = split_ok(results)
        data: dict[str, Any] = {}
        for uid in ids:
            if uid in ok:
                body = ok[uid]
                if isinstance(body, dict):
                    body = {k: v for k, v in body.items() if k != "@odata.context"}
                data[uid] = body
            elif mailbox and is_no_mailbox(failed[uid]):
                data[uid] = None
        real_failures = {uid: err for uid, err in failed.items() if uid not in data}
        if ids and len(real_failures) == len(ids):
            # Nobody could be read: a permission or licence problem of the whole section, not of its users.
            first = next(iter(real_failures.values()))
            self.rec.fail(name, first)
            return
        if name in ("inboxRules", "mailboxSettings"):  # kept for the rule-folder lookups
            self._per_user_data[name] = data
        self.rec.ok(name, data, failed_subjects={uid: subject_reason(e) for uid, e in real_failures.items()})

    async def _mailbox_section(self, name: str, template: str, *, all_pages: bool = False) -> None:
        await self._per_user(name, template, all_pages=all_pages, mailbox=True)

    async def rule_folders(self) -> None:
        """Name the folders collected inbox rules file mail into (connectors/microsoft/rule_folders.py)."""
        if "inboxRules" not in self._per_user_tried:  # a section filter without inboxRules: read the rules anyway
            await self._mailbox_section("inboxRules", "users/{id}/mailFolders/inbox/messageRules", all_pages=True)
        rec = self.rec.writer.sections.get("inboxRules")
        await collect_rule_folders(self.graph, self.rec, self._per_user_data.get("inboxRules"),
                                   rec.detail if rec is not None else "",
                                   known=archive_folders(self._per_user_data.get("mailboxSettings") or {}))

    # ---- policies and roles -------------------------------------------------------------------------------------

    async def conditional_access(self) -> None:
        self.rec.progress.section_started("conditionalAccessPolicies")
        self._ca = await self._fetch_list("identity/conditionalAccess/policies", pace="conditional_access")
        self._record_list("conditionalAccessPolicies", self._ca)

    async def role_assignments(self) -> None:
        self.rec.progress.section_started("roleAssignments")
        self._role_assignments = await self._fetch_list("roleManagement/directory/roleAssignments",
                                                        params={"$expand": "principal"})
        self._record_list("roleAssignments", self._role_assignments)

    async def role_eligibilities(self) -> None:
        self.rec.progress.section_started("roleEligibilities")
        self._role_eligibilities = await self._fetch_list(
            "roleManagement/directory/roleEligibilityScheduleInstances")
        self._record_list("roleEligibilities", self._role_eligibilities)

    async def _fetch_list(self, path: str, *, version: str = "v1.0", params: dict[str, str] | None = None,
                          pace: str | None = None) -> list[Any] | ApiError:
        try:
            return await self.graph.get_all(path, version=version, params=params, pace=pace)
        except ApiError as exc:
            return exc

    def _record_list(self, name: str, result: list[Any] | ApiError) -> None:
        if isinstance(result, ApiError):
            self.rec.fail(name, result)
        else:
            self.rec.ok(name, result)

    async def groups(self) -> None:
        """Groups that matter to the audit: those excluded from (or targeted by) CA policies and those holding
        roles. Their transitive members are who an exclusion really covers."""
        if self._ca is None:
            self._ca = await self._fetch_list("identity/conditionalAccess/policies", pace="conditional_access")
        if self._role_assignments is None:
            self._role_assignments = await self._fetch_list("roleManagement/directory/roleAssignments",
                                                            params={"$expand": "principal"})
        missing = [n for n, v in (("conditionalAccessPolicies", self._ca),
                                  ("roleAssignments", self._role_assignments)) if isinstance(v, ApiError)]
        referenced = referenced_group_ids(
            [] if isinstance(self._ca, ApiError) else self._ca,
            [] if isinstance(self._role_assignments, ApiError) else self._role_assignments)
        users = self._known_users()
        # PIM eligibilities carry no expanded principal: a non-user principal may be a group (or an app).
        candidates = [p for p in eligible_principal_ids(self._role_eligibilities, users) if p not in referenced]
        group_ids = referenced + candidates
        note = (f"incomplete: {', '.join(missing)} could not be read, so the groups they reference are unknown"
                if missing else "")
        self.rec.progress.section_started("groups", total=len(group_ids))
        found = await self.graph.batch({gid: f"groups/{gid}" for gid in group_ids})
        groups_ok, groups_failed = split_ok(found)
        real_group_ids = referenced + [p for p in candidates if p in groups_ok]
        group_list = [{k: v for k, v in groups_ok[g].items() if k != "@odata.context"}
                      for g in real_group_ids if g in groups_ok]
        failed = {g: subject_reason(groups_failed[g]) for g in real_group_ids if g in groups_failed}
        if referenced and all(g in groups_failed for g in referenced):
            # No referenced group could be read: a permission problem of the section, not of its groups.
            error = groups_failed[referenced[0]]
            self.rec.fail("groups", error)
            self.rec.fail("groupMembers", error)
            return
        self.rec.ok("groups", group_list, failed_subjects=failed, detail=note)
        self.rec.progress.section_started("groupMembers", total=len(real_group_ids))
        members = await self.graph.batch({gid: f"groups/{gid}/transitiveMembers" for gid in real_group_ids},
                                         all_pages=True, on_done=self.rec.progress.advance)
        m_ok, m_failed = split_ok(members)
        if real_group_ids and len(m_failed) == len(real_group_ids):
            self.rec.fail("groupMembers", next(iter(m_failed.values())))
            return
        self.rec.ok("groupMembers", {g: m_ok[g] for g in real_group_ids if g in m_ok},
                    failed_subjects={g: subject_reason(e) for g, e in m_failed.items()}, detail=note)

    # ---- apps ----------------------------------------------------------------------------------------------------

    async def service_principals(self) -> None:
        self.rec.progress.section_started("servicePrincipals")
        self._sps = await self._fetch_list("servicePrincipals", params={"$select": SP_SELECT, "$top": "999"})
        self._record_list("servicePrincipals", self._sps)

    async def app_role_assignments(self) -> None:
        """Application permissions granted on Microsoft Graph and Exchange Online, keyed by resource SP id."""
        self.rec.progress.section_started("appRoleAssignments")
        resource_ids: list[str] = []
        if isinstance(self._sps, list):
            resource_ids = [str(sp["id"]) for sp in self._sps
                            if isinstance(sp, dict) and sp.get("appId") in RESOURCE_APP_IDS and sp.get("id")]
        else:
            for app_id in RESOURCE_APP_IDS:
                try:
                    found = await self.graph.get_all("servicePrincipals",
                                                     params={"$filter": f"appId eq '{app_id}'", "$select": "id"})
                except ApiError as exc:
                    self.rec.fail("appRoleAssignments", exc)
                    return
                resource_ids.extend(str(sp["id"]) for sp in found if isinstance(sp, dict) and sp.get("id"))
        results = await self.graph.batch({rid: f"servicePrincipals/{rid}/appRoleAssignedTo"
                                          for rid in resource_ids}, all_pages=True)
        ok, failed = split_ok(results)
        if resource_ids and len(failed) == len(resource_ids):
            self.rec.fail("appRoleAssignments", next(iter(failed.values())))
            return
        self.rec.ok("appRoleAssignments", {rid: ok[rid] for rid in resource_ids if rid in ok},
                    failed_subjects={rid: subject_reason(e) for rid, e in failed.items()})

    async def sharepoint_role_assignments(self) -> None:
        """Application permissions granted on SharePoint Online (Sites.*.All work on every site with no user
        present), keyed by the SharePoint resource's SP id; {} when the tenant has no such service principal."""
        name = "sharePointAppRoleAssignments"
        self.rec.progress.section_started(name)
        if isinstance(self._sps, list):
            ids = [str(sp["id"]) for sp in self._sps
                   if isinstance(sp, dict) and sp.get("appId") == SHAREPOINT_APP_ID and sp.get("id")]
        else:
            try:
                found = await self.graph.get_all("servicePrincipals", params={
                    "$filter": f"appId eq '{SHAREPOINT_APP_ID}'", "$select": "id"})
            except ApiError as exc:
                self.rec.fail(name, exc)
                return
            ids = [str(sp["id"]) for sp in found if isinstance(sp, dict) and sp.get("id")]
        data: dict[str, Any] = {}
        for rid in ids:
            try:
                data[rid] = await self.graph.get_all(f"servicePrincipals/{rid}/appRoleAssignedTo")
            except ApiError as exc:
                self.rec.fail(name, exc)
                return
        self.rec.ok(name, data)

    # ---- Exchange --------------------------------------------------------------------------------------------

    async def exchange_sections(self) -> None:
        for cmdlet in EXCHANGE_CMDLETS:
            if not self.rec.wants(cmdlet.section):
                continue
            self.rec.progress.section_started(cmdlet.section)
            if self.exchange is None:
                err = self.exchange_unavailable or ApiError(0, "NotCollected", "Exchange collection is turned off")
                self.rec.fail(cmdlet.section, err)
                continue
            try:
                items = await self.exchange.invoke(cmdlet)
            except ApiError as exc:
                if cmdlet.section == "exchange.acceptedDomains":
                    self._accepted_domains = exc
                self.rec.fail(cmdlet.section, exc, SectionStatus.UNLICENSED if cmdlet_absent(cmdlet, exc) else None)
                continue
            if cmdlet.section == "exchange.acceptedDomains":
                self._accepted_domains = items
            self.rec.ok(cmdlet.section, items)

    # ---- DNS (SPF, DMARC) ------------------------------------------------------------------------------------

    def _sending_domains(self) -> tuple[list[str], str] | ApiError:
        """Accepted domains (Exchange), else verified Graph domains that support Email; never *.onmicrosoft.com,
        whose DNS Microsoft publishes (docs/semantics.md)."""
        def own(name: Any) -> bool:
            return isinstance(name, str) and bool(name.strip()) and \
                not name.casefold().rstrip(".").endswith(".onmicrosoft.com")

        if isinstance(self._accepted_domains, list):
            names = [d.get("DomainName") for d in self._accepted_domains if isinstance(d, dict)]
            return [n for n in names if own(n)], "exchange.acceptedDomains"
        if isinstance(self._domains, list):
            names = [d.get("id") for d in self._domains if isinstance(d, dict) and d.get("isVerified") is True
                     and "email" in [str(x).casefold() for x in d.get("supportedServices") or []]]
            return [n for n in names if own(n)], "domains"
        failed = self._accepted_domains if isinstance(self._accepted_domains, ApiError) else self._domains
        return failed if isinstance(failed, ApiError) else ApiError(0, "NotCollected",
                                                                    "no domain list was collected")

    async def email_dns(self) -> None:
        name = "dns.emailAuth"
        self.rec.progress.section_started(name)
        if not self.dns.enabled:
            self.rec.fail(name, ApiError(0, "NotCollected", "DNS lookups were turned off"), SectionStatus.ERROR)
            return
        found = self._sending_domains()
        if isinstance(found, ApiError):
            self.rec.fail(name, ApiError(found.status, found.code, f"the domain list could not be read, so no "
                                         f"domain was looked up: {found.message}"), SectionStatus.ERROR)
            return
        domains, source = found
        data = await collect_email_auth(domains, self.dns, source=source)
        why = unanswered(data, self.dns.shown)
        if why:
            self.rec.fail(name, ApiError(0, "DnsNoAnswer", why), SectionStatus.ERROR,
                          detail=f"{why} — check the resolver (--dns-resolver / [dns] resolver) and that it "
                                 "answers TXT queries for public names")
            return
        self.rec.ok(name, data, detail=f"looked up through {self.dns.shown}", count=len(data["lookups"]))


def referenced_group_ids(ca_policies: Iterable[Any], role_assignments: Iterable[Any]) -> list[str]:
    """Group ids named in CA include/exclude conditions, and groups that hold directory roles (in order)."""
    out: list[str] = []

    def add(gid: Any) -> None:
        if isinstance(gid, str) and gid and gid.casefold() not in ("all", "none") and gid not in out:
            out.append(gid)

    for policy in ca_policies:
        users = ((policy or {}).get("conditions") or {}).get("users") or {}
        for key in ("includeGroups", "excludeGroups"):
            for gid in users.get(key) or []:
                add(gid)
    for assignment in role_assignments:
        principal = (assignment or {}).get("principal") or {}
        if str(principal.get("@odata.type", "")).casefold() == "#microsoft.graph.group":
            add(assignment.get("principalId") or principal.get("id"))
    return out


def eligible_principal_ids(eligibilities: Any, users: list[dict[str, Any]]) -> list[str]:
    """PIM-eligible principals that are not users: candidates for groups (eligibility has no $expand here)."""
    if not isinstance(eligibilities, list):
        return []
    user_ids = {u.get("id") for u in users if isinstance(u, dict)}
    out: list[str] = []
    for e in eligibilities:
        pid = (e or {}).get("principalId")
        if isinstance(pid, str) and pid and pid not in user_ids and pid not in out:
            out.append(pid)
    return out
