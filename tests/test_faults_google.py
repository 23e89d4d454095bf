"""The Google fault matrix (issue 9): each case injects one fault into one section through the simulator's
FaultPlan (outer requests, or parts inside a multipart /batch), runs the real connector (google-auth +
google-api-python-client + httplib2 over loopback) for the whole tenant, and asserts the outcome the case names —
and, when data is lost, that the audit holds every dependent check `unknown` (never `pass`) with a reason naming
the section, and (for a representative subset) that the workbook's Coverage sheet names the section and its fix.
docs/reliability.md is generated from CASES (tests/fault_matrix.py).

Which checks depend on a section is derived, not hand-listed: SECTION_TABLES is checked against the `sections`
each table records in a fault-free normalisation, and the checks come from their metadata (`requires`,
`uses_settings`). One simulator serves the module (faults cleared, delegation restored between cases); the whole
tenant (40 users) is collected each time, so the faulted section is the only thing missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from connectors.email_dns import DnsOptions
from connectors.google.collect import GMAIL_SECTIONS, collect_google
from connectors.google.options import (
    REQUIRED_SCOPES,
    SCOPE_GMAIL_SETTINGS,
    SCOPE_GROUPS,
    SCOPE_POLICIES,
    SCOPE_REPORTS,
    SCOPE_ROLES,
    SCOPE_TOKENS,
    SCOPE_USERS,
    GoogleOptions,
)
from idaudit.core.model import Provider
from idaudit.core.snapshot import Snapshot, load_snapshot
from idaudit.orchestration.pipeline import audit_snapshot
from simulator import build_organisation
from simulator.google import GoogleSimulator, render_google_snapshot
from tests import fault_kit as kit
from tests.fault_kit import Inject
from tests.fault_matrix import FaultCase, Outcome

TIMEOUT = 1.5          # the connector's per-request timeout in the timeout cases (GoogleOptions.timeout)
SLOW = TIMEOUT + 0.5   # how long the simulator stalls a request in those cases
DNS_TIMEOUT = 1.0      # DnsOptions.timeout in the matrix (the simulator's zone answers at once)
MAX_RETRIES = 3        # GoogleOptions.max_retries in the matrix (default 5; fewer keeps "every time" cases quick)

# Section -> the normalised tables built from it (checked by test_section_tables_match_the_normaliser). Sections
# no table reads (forwarding addresses, delegates, the token report when tokens.list worked) hide nothing when lost.
SECTION_TABLES: dict[str, tuple[str, ...]] = {
    "users": ("users", "mfa_registration", "mfa_enforcement"),
    "policies": ("mfa_enforcement", "tenant_settings", "mail_protections"),
    "orgUnits": ("mfa_enforcement", "tenant_settings", "mail_protections"),
    "dns.emailAuth": ("mail_domains",),
    "roles": ("role_assignments",),
    "roleAssignments": ("role_assignments",),
    "tokens": ("oauth_grants",),
    "gmail.autoForwarding": ("forwarding",),
    "gmail.filters": ("forwarding", "mail_rules"),
    "domains": ("domains",),
    "groupMembers": ("mfa_enforcement", "role_assignments", "tenant_settings"),
    # signs of takeover: the Reports activities of the window (the token report also gives the window's consents)
    "reports.login": ("sign_in_countries", "change_events"),
    "reports.userAccounts": ("change_events",),
    "reports.admin": ("change_events",),
    "reports.tokenAuthorize": ("change_events",),
}
UNREAD = {"gmail.forwardingAddresses": "no check reads verified forwarding addresses (auto-forwarding and filters "
                                       "name the recipient)",
          "gmail.delegates": "no check reads mail delegates yet",
          "groups": "names the targeted groups in findings only (without it the group id is shown)"}
# A section whose loss the normaliser makes good, in part, from another source: (table, source).
FALLBACK = {"tokens": ("oauth_grants", "reports.tokenAuthorize")}
# Sections whose loss the normaliser makes good from complete data, saying so in the table's reason.
CONSERVATIVE = {"roles": "super admins come from users.isAdmin; a delegated admin (users.isDelegatedAdmin) would be "
                         "held unknown, and this tenant's admins are all super admins",
                "roleAssignments": "super admins come from users.isAdmin; a delegated admin (users.isDelegatedAdmin) "
                                   "would be held unknown, and this tenant's admins are all super admins"}


def dependent_checks(section: str) -> tuple[str, ...]:
    """Google checks that read a table (or, for the Policy API, a tenant setting) built from `section`."""
    tables = set(SECTION_TABLES.get(section, ())) - {"tenant_settings"}
    policy_settings = "tenant_settings" in SECTION_TABLES.get(section, ())
    return kit.checks_reading(Provider.GOOGLE, tables, lambda uses: policy_settings and bool(uses))


@dataclass(frozen=True)
class GCase:
    case: FaultCase
    inject: tuple[Inject, ...]
    detail: str = ""                 # text the section's detail (or the victim's failed-subject reason) contains
    timeout: float | None = None     # connector per-request timeout for this case
    undelegate: str = ""             # a scope the administrator did not delegate (token refused)
    victim_only: bool = False        # the fault hits one user: FAILED_SUBJECTS for that user
    victim_group: bool = False       # ... one group (IT Helpdesk Admins, which holds an admin role) instead
    workbook: bool = False           # also write the workbook and read the Coverage sheet back


# Where each section's requests go (regex on path + query, as the simulator matches them).
OUTER = {
    "users": r"^/admin/directory/v1/users\?",
    "domains": r"/customer/[^/]+/domains",
    "orgUnits": r"/customer/[^/]+/orgunits",
    "roles": r"/customer/[^/]+/roles\?",
    "roleAssignments": r"/customer/[^/]+/roleassignments",
    "policies": r"^/v1/policies",
    "reports.tokenAuthorize": r"^/admin/reports/v1/activity/users/all/applications/token",
    "reports.login": r"^/admin/reports/v1/activity/users/all/applications/login",
    "reports.userAccounts": r"^/admin/reports/v1/activity/users/all/applications/user_accounts",
    "reports.admin": r"^/admin/reports/v1/activity/users/all/applications/admin",
}
INNER = {  # parts of a multipart /batch
    "tokens": r"/tokens",
    "gmail.autoForwarding": r"/settings/autoForwarding",
    "gmail.forwardingAddresses": r"/settings/forwardingAddresses",
    "gmail.filters": r"/settings/filters",
    "gmail.delegates": r"/settings/delegates",
    "groups": r"/admin/directory/v1/groups/[^/?]+\?",
    "groupMembers": r"/members\?",
}
BATCH_BODY = {"tokens": r"/tokens", "groupMembers": r"/members\?", **{s: r"/gmail/v1/" for s in GMAIL_SECTIONS}}  # tells the two batches apart
SCOPE = {"users": SCOPE_USERS, "roles": SCOPE_ROLES, "roleAssignments": SCOPE_ROLES, "policies": SCOPE_POLICIES,
         "tokens": SCOPE_TOKENS, "groups": SCOPE_GROUPS, "groupMembers": SCOPE_GROUPS,
         **{s: SCOPE_REPORTS for s in ("reports.login", "reports.userAccounts", "reports.admin",
                                       "reports.tokenAuthorize")},
         **{s: SCOPE_GMAIL_SETTINGS for s in GMAIL_SECTIONS}}
API_DISABLED = ("accessNotConfigured", "Cloud Identity API has not been used in project 1234 before or it is "
                "disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
                "cloudidentity.googleapis.com/overview?project=1234 then retry.")


def _case(section: str, fault: str, expected: Outcome, inject: Inject | tuple[Inject, ...], note: str,
          **kw: Any) -> GCase:
    losing = expected not in (Outcome.RECOVERED, Outcome.FALLBACK)
    lossless = (UNREAD.get(section, "") or CONSERVATIVE.get(section, "")) if losing else ""
    checks = dependent_checks(section) if losing and not lossless else ()
    note = f"{note}; nothing held unknown: {lossless}" if lossless else note
    if section in FALLBACK and losing and expected is not Outcome.FAILED_SUBJECTS:
        note += f"; {FALLBACK[section][0]} read from {FALLBACK[section][1]} (six months, partial): never a pass"
    return GCase(FaultCase("google", section, fault, expected, checks, note),
                 inject if isinstance(inject, tuple) else (inject,), **kw)


def _outer(section: str, kind: str, **kw: Any) -> Inject:
    return Inject(kind, OUTER[section], target="outer", **kw)


def _inner(section: str, kind: str, victim: bool = False, **kw: Any) -> Inject:
    if section in ("groups", "groupMembers"):  # the victim is a group: /groups/<id>[/members]
        path = INNER[section].replace("[^/?]+", "{victim}") if victim else INNER[section]
        if victim and section == "groupMembers":
            path = r"/groups/{victim}/members\?"
        return Inject(kind, path, method=None, target="inner", **kw)
    path = (r"/users/{victim}" if victim else "") + INNER[section]
    return Inject(kind, path, method=None, target="inner", **kw)


def _batch(section: str, kind: str, **kw: Any) -> Inject:
    """The outer POST /batch carrying this section's parts."""
    return Inject(kind, r"^/batch", method="POST", target="outer", body_match=BATCH_BODY[section], **kw)


def _build_cases() -> tuple[GCase, ...]:
    c: list[GCase] = []
    rec, err, subj, forb = Outcome.RECOVERED, Outcome.SECTION_ERROR, Outcome.FAILED_SUBJECTS, Outcome.SECTION_FORBIDDEN
    # --- throttling ---------------------------------------------------------------------------------------
    for s in ("users", "policies", "roleAssignments"):
        c.append(_case(s, "429 with Retry-After", rec,
                       _outer(s, "status", status=429, code="rateLimitExceeded", retry_after=1, times=2),
                       "backed off at least the Retry-After (capped by backoff_cap) and resent"))
    for s in ("roles", "reports.tokenAuthorize"):
        c.append(_case(s, "429 without Retry-After", rec, _outer(s, "status", status=429, times=2),
                       "exponential back-off with jitter, resent"))
    c.append(_case("users", "403 rateLimitExceeded", rec,
                   _outer("users", "status", status=403, code="rateLimitExceeded", message="Rate Limit Exceeded",
                          times=2), "a 403 whose reason is a quota reason is throttling, not a refusal: resent"))
    c.append(_case("policies", "429 every time", err,
                   _outer("policies", "status", status=429, retry_after=0, times=None),
                   f"gave up after {MAX_RETRIES} retries; HTTP 429 in the detail", detail="429"))
    c.append(_case("tokens", "inner 429 with Retry-After", rec,
                   _inner("tokens", "status", status=429, retry_after=1, times=5),
                   "only the throttled parts are re-sent in a later batch"))
    for s in ("gmail.filters", "gmail.autoForwarding"):
        c.append(_case(s, "inner 403 userRateLimitExceeded", rec,
                       _inner(s, "status", status=403, code="userRateLimitExceeded",
                              message="User-rate limit exceeded.  Retry after a short wait", retry_after=1, times=4),
                       "Gmail's per-user quota answer (403, not 429) is throttling: the parts are re-sent"))
    c.append(_case("gmail.delegates", "inner 403 rateLimitExceeded", rec,
                   _inner("gmail.delegates", "status", status=403, code="rateLimitExceeded", times=6),
                   "re-sent parts"))
    c.append(_case("tokens", "outer batch 429", rec,
                   _batch("tokens", "status", status=429, retry_after=1, times=1),
                   "the whole batch POST is resent"))
    c.append(_case("gmail.filters", "inner 429 every time for one user", subj,
                   _inner("gmail.filters", "status", victim=True, status=429, retry_after=0, times=None),
                   "retries exhausted for that user's part: failed subject", detail="429", victim_only=True))
    # --- server errors ------------------------------------------------------------------------------------
    for status, s in ((500, "users"), (502, "roles"), (503, "policies"), (504, "orgUnits")):
        c.append(_case(s, f"{status} once", rec, _outer(s, "status", status=status), "5xx retried"))
    for status, s in ((500, "roleAssignments"), (502, "policies"), (503, "domains"), (504, "users")):
        c.append(_case(s, f"{status} every time", err, _outer(s, "status", status=status, retry_after=0, times=None),
                       f"retries exhausted; HTTP {status} in the detail", detail=str(status),
                       workbook=s == "policies"))
    for status, s in ((500, "tokens"), (503, "gmail.autoForwarding"), (502, "gmail.filters")):
        c.append(_case(s, f"inner {status} once each", rec, _inner(s, "status", status=status, times=6),
                       "failed parts re-sent in the next batch"))
    for status, s in ((500, "tokens"), (503, "gmail.filters"), (500, "gmail.autoForwarding"),
                      (502, "gmail.delegates")):
        c.append(_case(s, f"inner {status} for one user", subj,
                       _inner(s, "status", victim=True, status=status, times=None),
                       "the rest of the tenant is collected; that user is a failed subject", detail=str(status),
                       victim_only=True, workbook=s == "gmail.filters"))
    c.append(_case("gmail.forwardingAddresses", "inner 500 once each", rec,
                   _inner("gmail.forwardingAddresses", "status", status=500, times=6), "re-sent parts"))
    c.append(_case("gmail.forwardingAddresses", "inner 503 for one user", subj,
                   _inner("gmail.forwardingAddresses", "status", victim=True, status=503, times=None),
                   "failed subject", detail="503", victim_only=True))
    c.append(_case("gmail.filters", "outer batch 503 every time", err,
                   _batch("gmail.filters", "status", status=503, retry_after=0, times=None),
                   "every Gmail batch failed: every user failed, the section error", detail="503"))
    c.append(_case("tokens", "outer batch 500 every time", err,
                   _batch("tokens", "status", status=500, times=None), "section error", detail="500"))
    # --- timeouts, cut connections, bad bodies ------------------------------------------------------------
    for s in ("users", "policies"):
        c.append(_case(s, "timeout once", rec, _outer(s, "delay", delay=SLOW), "socket timeout; resent",
                       timeout=TIMEOUT))
    c.append(_case("roles", "timeout every time", err, _outer("roles", "delay", delay=SLOW, times=None),
                   "every attempt timed out: section error", detail="timed out", timeout=TIMEOUT))
    c.append(_case("gmail.filters", "batch timeout once", rec, _batch("gmail.filters", "delay", delay=SLOW),
                   "the batch POST timed out and was resent", timeout=TIMEOUT))
    for s in ("users", "policies", "roleAssignments"):
        c.append(_case(s, "connection reset mid-body", rec, _outer(s, "reset"), "transport error; resent"))
    c.append(_case("domains", "connection reset every time", err, _outer("domains", "reset", times=None),
                   "no answer after the retries: section error", detail="transport error"))
    c.append(_case("tokens", "batch connection reset mid-body", rec, _batch("tokens", "reset"),
                   "the batch POST is resent"))
    for s in ("users", "policies"):
        c.append(_case(s, "malformed JSON once", rec, _outer(s, "malformed_json"),
                       "a 2xx body that is not JSON is re-read (the library returns it as text)"))
    c.append(_case("orgUnits", "malformed JSON every time", err, _outer("orgUnits", "malformed_json", times=None),
                   "not valid JSON: section error", detail="JSON"))
    c.append(_case("tokens", "inner malformed JSON once each", rec,
                   _inner("tokens", "malformed_json", times=4), "the garbled parts re-sent"))
    c.append(_case("gmail.autoForwarding", "inner malformed JSON for one user", subj,
                   _inner("gmail.autoForwarding", "malformed_json", victim=True, times=None),
                   "that user's part never parsed: failed subject (the text is never stored as settings)",
                   detail="JSON", victim_only=True))
    c.append(_case("gmail.filters", "batch answer malformed once", rec,
                   _batch("gmail.filters", "malformed_json"), "a batch answer that is not multipart is resent"))
    for s in ("users", "roleAssignments"):
        c.append(_case(s, "truncated page once", rec, _outer(s, "truncate_page"), "cut body re-read"))
    c.append(_case("policies", "truncated page every time", err, _outer("policies", "truncate_page", times=None),
                   "section error", detail="JSON"))
    for s in ("users", "policies", "reports.tokenAuthorize"):
        c.append(_case(s, "nextPageToken that loops", err, _outer(s, "loop_next_link", times=None),
                       "the same nextPageToken twice: paging stops with an error", detail="nextPageToken"))
    # --- permissions, delegation, disabled APIs -----------------------------------------------------------
    for s in ("tokens", "policies", "roles"):
        c.append(_case(s, "scope not delegated", forb, (), "token refused (unauthorized_client): detail and "
                       "Coverage name the scope and the client id", detail=SCOPE[s], undelegate=SCOPE[s],
                       workbook=s == "tokens"))
    c.append(_case("gmail.filters", "scope not delegated", forb, (),
                   "the first impersonation is refused: every Gmail section forbidden naming the scope",
                   detail=SCOPE_GMAIL_SETTINGS, undelegate=SCOPE_GMAIL_SETTINGS, workbook=True))
    for s in ("roleAssignments", "policies"):
        c.append(_case(s, "403 insufficient permissions", forb,
                       _outer(s, "status", status=403, code="insufficientPermissions",
                              message="Request had insufficient authentication scopes.", times=None),
                       "forbidden naming the scope to delegate", detail=SCOPE[s],
                       workbook=s == "roleAssignments"))
    c.append(_case("users", "403 not authorised", forb,
                   _outer("users", "status", status=403, code="forbidden",
                          message="Not Authorized to access this resource/api", times=None),
                   "forbidden; every per-user section says users could not be listed", detail=SCOPE_USERS))
    c.append(_case("tokens", "inner 403 for one user", subj,
                   _inner("tokens", "status", victim=True, status=403, code="forbidden",
                          message="Not Authorized to access this resource/api", times=None),
                   "one user's tokens refused: failed subject", detail="403", victim_only=True))
    c.append(_case("gmail.filters", "inner 403 delegation denied for one user", subj,
                   _inner("gmail.filters", "status", victim=True, status=403, code="forbidden",
                          message="Delegation denied", times=None),
                   "failed subject", detail="Delegation denied", victim_only=True))
    c.append(_case("policies", "403 API not enabled", forb,
                   _outer("policies", "status", status=403, code=API_DISABLED[0], message=API_DISABLED[1],
                          times=None),
                   "the Cloud Identity API is off in the service account's project: detail says to enable it",
                   detail="enable", workbook=True))
    # --- token expiry -------------------------------------------------------------------------------------
    for s in ("users", "policies"):
        c.append(_case(s, "token expired mid-run (401)", rec, _outer(s, "expire_token"),
                       "one 401: google-auth fetched a fresh token and resent"))
    c.append(_case("tokens", "token expired on batch parts (401)", rec, _inner("tokens", "expire_token", times=3),
                   "the library refreshes the parts' credentials and re-sends the 401 parts"))
    c.append(_case("gmail.filters", "token expired on one user's part (401)", rec,
                   _inner("gmail.filters", "expire_token", victim=True, times=1),
                   "that user's token refreshed, the part re-sent"))
    c.append(_case("users", "token endpoint connection reset", rec, Inject("reset", r"^/token", method="POST"),
                   "the first token request was cut: re-sent with backoff (google-auth retries only 5xx)"))
    c.append(_case("users", "token endpoint 503 once", rec,
                   Inject("status", r"^/token", method="POST", status=503), "google-auth's own retry"))
    c.append(_case("users", "token endpoint timeout once", rec,
                   Inject("delay", r"^/token", method="POST", delay=SLOW), "re-sent after the timeout",
                   timeout=TIMEOUT))
    c.append(_case("roles", "401 every time", forb, _outer("roles", "expire_token", times=None),
                   "refreshed, still 401: forbidden, not retried forever", detail=SCOPE_ROLES))
    # --- the groups policies and admin roles target (groups.get + members.list parts in Directory batches) -------
    c.append(_case("groupMembers", "scope not delegated", forb, (),
                   "token refused: groups and groupMembers forbidden naming the scope; group-based 2SV and roles held "
                   "through a group unknown", detail=SCOPE_GROUPS, undelegate=SCOPE_GROUPS, workbook=True))
    c.append(_case("groupMembers", "inner 403 insufficient permissions", forb,
                   _inner("groupMembers", "status", status=403, code="insufficientPermissions",
                          message="Request had insufficient authentication scopes.", times=None),
                   "every group's members refused: forbidden naming the scope", detail=SCOPE_GROUPS))
    c.append(_case("groupMembers", "inner 503 for one group", subj,
                   _inner("groupMembers", "status", victim=True, status=503, times=None),
                   "that group is a failed subject; the role it holds is unknown ('(whole check)' rows), the other "
                   "groups are read", detail="503", victim_only=True, victim_group=True))
    c.append(_case("groupMembers", "inner 500 once each", rec, _inner("groupMembers", "status", status=500, times=3),
                   "failed parts re-sent in the next batch"))
    c.append(_case("groupMembers", "inner 429 with Retry-After", rec,
                   _inner("groupMembers", "status", status=429, retry_after=1, times=3), "throttled parts re-sent"))
    c.append(_case("groupMembers", "outer batch 503 every time", err,
                   _batch("groupMembers", "status", status=503, retry_after=0, times=None),
                   "the groups batch never went through: groups and groupMembers error", detail="503"))
    c.append(_case("groups", "inner 404 for one group", subj,
                   _inner("groups", "status", victim=True, status=404, code="notFound",
                          message="Resource Not Found: groupKey", times=None),
                   "that group is a failed subject of groups; findings name it by id", detail="404",
                   victim_only=True, victim_group=True))
    # --- signs of takeover: the Reports activities of the window (login, user_accounts, admin) --------------
    c.append(_case("reports.login", "429 without Retry-After", rec, _outer("reports.login", "status", status=429,
                                                                           times=2),
                   "the window's sign-ins re-read after the back-off"))
    c.append(_case("reports.userAccounts", "500 once", rec, _outer("reports.userAccounts", "status", status=500),
                   "5xx retried"))
    c.append(_case("reports.admin", "malformed JSON once", rec, _outer("reports.admin", "malformed_json"),
                   "re-read"))
    c.append(_case("reports.login", "503 every time", err,
                   _outer("reports.login", "status", status=503, retry_after=0, times=None),
                   "no sign-ins of the window: new countries and suspicious sign-ins unknown, never 'no sign'",
                   detail="503", workbook=True))
    c.append(_case("reports.userAccounts", "timeout every time", err,
                   _outer("reports.userAccounts", "delay", delay=SLOW, times=None),
                   "2SV, recovery and forwarding changes unknown", detail="timed out", timeout=TIMEOUT))
    c.append(_case("reports.admin", "truncated page every time", err,
                   _outer("reports.admin", "truncate_page", times=None), "role grants of the window unknown",
                   detail="JSON"))
    c.append(_case("reports.login", "nextPageToken that loops", err,
                   _outer("reports.login", "loop_next_link", times=None),
                   "the same nextPageToken twice: paging stops with an error", detail="nextPageToken"))
    c.append(_case("reports.login", "403 not authorised to read activity records", forb,
                   _outer("reports.login", "status", status=403, code="forbidden",
                          message="Access denied. You are not authorized to read activity records.", times=None),
                   "the impersonated admin lacks the Reports privilege: forbidden naming the scope",
                   detail=SCOPE_REPORTS))
    c.append(_case("reports.login", "scope not delegated", forb, (),
                   "token refused: every Reports section forbidden naming the scope; takeover checks unknown",
                   detail=SCOPE_REPORTS, undelegate=SCOPE_REPORTS, workbook=True))
    # email authentication (issue 17): the DNS lookups of SPF, DMARC and Google's DKIM key
    for fault, inject, note in (
            ("no DNS answer (timeout)", Inject("delay", ".*", method="DNS", delay=DNS_TIMEOUT + 1.0, times=None),
             "every TXT lookup timed out: section error naming the resolver"),
            ("SERVFAIL every time", Inject("status", ".*", method="DNS", code="SERVFAIL", times=None),
             "the resolver failed every name: section error"),
            ("REFUSED every time", Inject("status", ".*", method="DNS", code="REFUSED", times=None),
             "the resolver refuses us (the DNS analogue of 403): section error, fix the resolver"),
            ("reply that is not DNS (malformed)", Inject("malformed_json", ".*", method="DNS", times=None),
             "dnspython drops the bad reply and times out: section error")):
        c.append(_case("dns.emailAuth", fault, err, inject, note, detail="no TXT lookup got an answer",
                       workbook=fault.startswith("no DNS")))
    return tuple(c)


G_CASES: tuple[GCase, ...] = _build_cases()
CASES: tuple[FaultCase, ...] = tuple(gc.case for gc in G_CASES)


# ---- fixtures ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def org() -> Any:
    return build_organisation(users=40, seed=5)  # the smallest seed-5 tenant with forwarding filters to find


@pytest.fixture(scope="module")
def sim_module(org: Any) -> Iterator[GoogleSimulator]:
    # throttle off: only the injected faults throttle, so a case's outcome never depends on the module's pace
    with GoogleSimulator(org, throttle=False) as s:
        yield s


@pytest.fixture()
def sim(sim_module: GoogleSimulator) -> Iterator[GoogleSimulator]:
    client_id = sim_module.account.client_id
    sim_module.faults.clear()
    yield sim_module
    sim_module.faults.clear()
    sim_module.issuer.delegated[client_id] = None


@pytest.fixture(scope="module")
def rendered(org: Any, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    return load_snapshot(render_google_snapshot(org, tmp_path_factory.mktemp("r") / "snap"))


@pytest.fixture(scope="module")
def clean_passes(rendered: Snapshot) -> set[tuple[str, str]]:
    return kit.passing_pairs(rendered)


@pytest.fixture(scope="module")
def victim(sim_module: GoogleSimulator) -> dict[str, Any]:
    """An active, non-admin user with a filter that forwards mail outside and at least one OAuth token: losing
    their data must turn a `fail` into `unknown`, never into a silent pass."""
    t = sim_module.tenant
    return next(u for u in t.users if not u["suspended"] and not u.get("archived") and not u["isAdmin"]
                and t.tokens.get(u["id"])
                and any("forward" in f.get("action", {}) for f in (t.gmail.get(u["id"]) or {}).get("filters", [])))


def victim_group_id(sim: GoogleSimulator) -> str:
    """The group whose read the group cases break: IT Helpdesk Admins, which holds the Help Desk admin role."""
    return next(gid for gid, g in sim.tenant.groups.items() if g["name"] == "IT Helpdesk Admins")


def options_for(sim: GoogleSimulator, **kw: Any) -> GoogleOptions:
    base: dict[str, Any] = {"service_account_info": sim.service_account_info, "admin_subject": sim.admin_subject,
                            "api_endpoint": sim.api_endpoint, "backoff_base": 0.01, "backoff_cap": 1.0,
                            "max_retries": MAX_RETRIES, "gmail_batch_size": 24, "workers": 2,
                            "log_window_end": sim.org.as_of,
                            "dns": DnsOptions(resolvers=(sim.dns_address,), timeout=DNS_TIMEOUT)}
    base.update(kw)
    return GoogleOptions(**base)


# ---- the matrix --------------------------------------------------------------------------------------------------

def _inject(sim: GoogleSimulator, gc: GCase, victim: dict[str, Any]) -> list[Any]:
    who = quote(str(victim["id"] if gc.case.section == "tokens" else victim["primaryEmail"]), safe="")
    if gc.victim_group:
        who = victim_group_id(sim)
    if gc.undelegate:
        sim.issuer.delegated[sim.account.client_id] = frozenset(set(REQUIRED_SCOPES) - {gc.undelegate})
    return kit.add_rules(sim.faults, gc.inject, who)


@pytest.mark.parametrize("gc", G_CASES, ids=[gc.case.id for gc in G_CASES])
def test_fault(gc: GCase, sim: GoogleSimulator, rendered: Snapshot, clean_passes: set[tuple[str, str]],
               victim: dict[str, Any], tmp_path: Path) -> None:
    case = gc.case
    token_errors = sim.stats.tokens_issued, sim.stats.token_errors
    rules = _inject(sim, gc, victim)
    kw: dict[str, Any] = {"timeout": gc.timeout} if gc.timeout else {}
    snap = load_snapshot(collect_google(options_for(sim, **kw), tmp_path / "snap", progress=False))
    if gc.undelegate:
        assert sim.stats.token_errors > token_errors[1], "no token was refused: the case tests nothing"
    else:
        assert any(r.fired for r in rules), "the fault never fired: the case tests nothing"
    assert snap.manifest.complete
    rec = snap.section(case.section)
    assert rec is not None
    truth = rendered.raw[case.section]
    if case.expected is Outcome.RECOVERED:
        assert rec.usable and not rec.failed_subjects, (rec.status, rec.detail, rec.failed_subjects)
        assert snap.raw[case.section] == truth
        for name, other in snap.manifest.sections.items():  # nothing else was disturbed either
            assert other.usable and not other.failed_subjects, (name, other.status, other.detail)
            assert snap.raw[name] == rendered.raw[name], name
        return
    uid = victim_group_id(sim) if gc.victim_group else str(victim["id"])
    kit.assert_data_loss_recorded(rec, snap.raw.get(case.section), truth, case.expected, gc.detail, uid)
    if case.expected is not Outcome.FAILED_SUBJECTS:
        assert case.section not in snap.raw or snap.raw[case.section] is None
        if gc.undelegate:
            assert sim.account.client_id in rec.detail
    _assert_held_unknown(snap, gc, uid, clean_passes, tmp_path)


def _assert_held_unknown(snap: Snapshot, gc: GCase, uid: str, clean_passes: set[tuple[str, str]],
                         tmp_path: Path) -> None:
    case = gc.case
    run = audit_snapshot(snap)
    f = run.findings
    # 1. never a pass the fault-free tenant does not support
    passes = f[f["status"] == "pass"]
    if case.expected is Outcome.FAILED_SUBJECTS:
        # a tenant-level "nothing found among the accounts collected" stands only beside the affected user's
        # own unknown row for the same check (checks/common.py nothing_found_row; engine.cover_missing_subjects)
        held = set(f[(f["subject_id"] == uid) & (f["status"] == "unknown")]["check_id"])
        about_rest = passes["evidence"].astype(str).str.contains("among the accounts collected", regex=False) \
            & passes["check_id"].isin(held)
        passes = passes[~about_rest]
    invented = kit.invented_passes(passes, clean_passes)
    assert not invented, sorted(invented)
    if gc.workbook:
        _assert_coverage(run, gc, uid, tmp_path)
    if case.section in CONSERVATIVE and case.expected is not Outcome.FAILED_SUBJECTS:
        lost = [n for n, r in snap.manifest.sections.items() if not r.usable]
        assert case.section in lost
        for table in SECTION_TABLES[case.section]:  # the table says what it stands on instead, and what was lost
            assert any(n in run.data.status[table].reason for n in lost), (table, run.data.status[table])
    if not case.dependent_checks:
        return
    dep = f[f["check_id"].isin(case.dependent_checks)]
    evidence = dep["evidence"].astype(str)
    if case.expected is Outcome.FAILED_SUBJECTS and gc.victim_group:
        # 2. a group's members are unknown: the checks over what it holds say so for the whole check, naming it
        whole = (dep["subject_id"] == "*") & (dep["status"] == "unknown") & evidence.str.contains(uid, regex=False)
        assert whole.any(), dep[dep["status"] != "pass"][["check_id", "subject_id", "status", "evidence"]].to_string()
        return
    if case.expected is Outcome.FAILED_SUBJECTS:
        # 2. the affected user passes no dependent check whose table lists them as not collected, and some
        #    dependent check holds them unknown, saying why
        kit.assert_victim_never_passes(run, case.dependent_checks, uid)
        said = evidence.str.contains(case.section, regex=False) | evidence.str.contains("not collected",
                                                                                       regex=False)
        assert ((dep["subject_id"] == uid) & (dep["status"] == "unknown") & said).any(), \
            f[f["subject_id"] == uid][["check_id", "status", "evidence"]].to_string()
        return
    # 2. a check whose table could not be built passes nothing, and the loss shows as an unknown naming the
    #    section (or the data it carried); settings read from the Policy API are gaps naming it
    missing = {t for t, st in run.data.status.items() if st.availability.value == "missing"}
    for meta in run.checks:
        if meta.id in case.dependent_checks and missing & set(meta.requires):
            assert not ((f["check_id"] == meta.id) & (f["status"] == "pass")).any(), meta.id
    if case.section in FALLBACK:  # partial data from the other source: never a pass on it, and it says why
        table, source = FALLBACK[case.section]
        st = run.data.status[table]
        assert st.availability.value == "partial" and source in st.sections and case.section in st.reason, st
        assert not (dep["status"] == "pass").any(), dep[dep["status"] == "pass"].to_string()
        return
    if case.section == "policies":
        assert run.data.setting_gaps and all("polic" in v.lower() for v in run.data.setting_gaps.values()), \
            run.data.setting_gaps
    named = evidence.str.contains(case.section, regex=False)
    assert ((dep["status"] == "unknown") & named).any(), \
        dep[dep["status"] != "fail"][["check_id", "status", "evidence"]].head(8).to_string()


def _assert_coverage(run: Any, gc: GCase, uid: str, tmp_path: Path) -> None:
    row = kit.coverage_row(run, gc.case.section, tmp_path)
    fix = str(row.get("Permission / licence that fixes a gap") or "")
    if gc.case.expected is Outcome.FAILED_SUBJECTS:
        assert row["Failed subjects"] == 1 and uid in str(row["Failed subjects (first 20)"]), row
        assert gc.detail in str(row["Failed subjects (first 20)"]), row
        return
    assert row["Status"] == kit.coverage_status_word(gc.case.expected), row
    assert gc.detail in str(row["Detail"]), row
    if gc.case.expected is Outcome.SECTION_FORBIDDEN:
        assert SCOPE[gc.case.section] in fix, row  # the scope to delegate


# ---- what the matrix itself promises -------------------------------------------------------------------------------

def test_section_tables_match_the_normaliser(rendered: Snapshot) -> None:
    """SECTION_TABLES is exactly the inverse of the `sections` each available table records in a fault-free run
    (mfa_methods, conditional_access, sign_in_summary and Identity Protection's tables do not exist for Google and
    are always missing)."""
    from idaudit.core.normalise import normalise

    data = normalise(rendered)
    derived: dict[str, set[str]] = {}
    for table, st in data.status.items():
        if table in ("mfa_methods", "conditional_access", "sign_in_summary", "risky_users", "risk_detections"):
            assert st.availability.value == "missing", (table, st)
            continue
        assert st.availability.value == "ok", (table, st)
        for section in st.sections:
            derived.setdefault(section, set()).add(table)
    assert derived == {sec: set(t) for sec, t in SECTION_TABLES.items()}
    assert set(UNREAD) | set(SECTION_TABLES) == set(rendered.manifest.sections)


def test_matrix_covers_every_fault_the_issue_lists() -> None:
    faults = " | ".join(c.fault for c in CASES)
    for wanted in ("429 with Retry-After", "429 without Retry-After", "rateLimitExceeded", "userRateLimitExceeded",
                   "500", "502", "503", "504", "timeout", "connection reset", "malformed JSON", "truncated page",
                   "nextPageToken that loops", "scope not delegated", "insufficient permissions", "API not enabled",
                   "inner 500", "inner 429", "inner 403", "token expired"):
        assert wanted in faults, wanted
    sections = {c.section for c in CASES}
    assert {"users", "tokens", "policies", "roles", "roleAssignments", *GMAIL_SECTIONS} <= sections
    assert {"reports.login", "reports.userAccounts", "reports.admin", "reports.tokenAuthorize"} <= sections
    assert 40 <= len(CASES) <= 120
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.provider == "google" for c in CASES)


def test_the_matrix_catches_a_swallowed_failure(rendered: Snapshot, clean_passes: set[tuple[str, str]],
                                                 victim: dict[str, Any], tmp_path: Path) -> None:
    """Negative control: a connector that turned a refused Gmail filters read into "nobody has a filter" (the silent
    pass this matrix exists to prevent) must fail the very assertions the matrix runs."""
    path = kit.swallowed(rendered, tmp_path / "swallowed", "gmail.filters", lambda data: {uid: [] for uid in data})
    gc = next(g for g in G_CASES if g.case.id == "gmail.filters-scope_not_delegated")
    with pytest.raises(AssertionError, match="IDA-MAIL-00"):
        _assert_held_unknown(load_snapshot(path), gc, str(victim["id"]), clean_passes, tmp_path)


# ---- grouped: set-ups the parametrised matrix cannot express ----------------------------------------------------

def test_gmail_disabled_for_a_user_is_no_mailbox_not_a_failure(sim: GoogleSimulator, rendered: Snapshot,
                                                              victim: dict[str, Any], tmp_path: Path) -> None:
    """Gmail answers 400 failedPrecondition "Mail service not enabled" for a user whose Gmail service is off (no
    licence, or turned off for the OU). Nothing can be forwarded from a mailbox that does not run, so the user is
    stored as null, exactly like a user without Gmail — not as a failure, and not as "no filters"."""
    who = quote(str(victim["primaryEmail"]), safe="")
    rule = sim.faults.add(kind="status", path=rf"/users/{who}/settings/", status=400, code="failedPrecondition",
                          message="Mail service not enabled", times=None, target="inner")
    snap = load_snapshot(collect_google(options_for(sim), tmp_path / "snap", progress=False))
    assert rule.fired == len(GMAIL_SECTIONS)
    uid = str(victim["id"])
    for section in GMAIL_SECTIONS:
        rec = snap.section(section)
        assert rec is not None and rec.usable and not rec.failed_subjects, (section, rec)
        assert snap.raw[section][uid] is None
        assert {k: v for k, v in snap.raw[section].items() if k != uid} == \
            {k: v for k, v in rendered.raw[section].items() if k != uid}
    from idaudit.orchestration.pipeline import audit_snapshot

    f = audit_snapshot(snap).findings
    mail = f[f["check_id"].astype(str).str.startswith("IDA-MAIL")]
    sid = mail["subject_id"].astype(str)
    mine = mail[(sid == uid) | sid.str.startswith(uid + ":")]  # the user, or a rule of theirs (uid:rule)
    assert mine.empty, mine[["check_id", "status", "evidence"]].to_string()  # no mailbox: no verdict either way


def test_token_endpoint_down_stops_the_run_without_a_snapshot(sim: GoogleSimulator, tmp_path: Path) -> None:
    """A token endpoint that keeps failing is a sign-in failure: a clear CollectionError and no manifest that could
    pass for an empty tenant (google-auth retries the 5xx itself; idaudit then stops)."""
    from idaudit.core.errors import CollectionError

    sim.faults.add(kind="status", path=r"^/token", method="POST", status=500, times=None)
    with pytest.raises(CollectionError, match="cannot sign in"):
        collect_google(options_for(sim), tmp_path / "snap", progress=False)
    assert not (tmp_path / "snap" / "manifest.json").exists()
