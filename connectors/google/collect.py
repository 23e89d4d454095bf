"""Collect a Google Workspace tenant into a snapshot: every section of GOOGLE_SECTIONS, raw objects as returned.

A failed section becomes its status in the manifest (forbidden with the scope to delegate, error with the reason);
one user's failure becomes a `failed_subjects` entry; neither stops the run. Only a failure to sign in as the
admin at all (bad key, unknown client) raises CollectionError.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError

from connectors.email_dns import collect_email_auth_sync, unanswered
from connectors.google.client import ApiFailure, GoogleClient, classify, error_reason, token_failure
from connectors.google.groups import read_groups
from connectors.google.options import (
    SCOPE_DOMAINS,
    SCOPE_GMAIL_SETTINGS,
    SCOPE_GROUPS,
    SCOPE_ORGUNITS,
    SCOPE_POLICIES,
    SCOPE_REPORTS,
    SCOPE_ROLES,
    SCOPE_TOKENS,
    SCOPE_USERS,
    USER_FIELDS,
    GoogleOptions,
    options_from_tenant,
)
from connectors.interface import CollectionProgress
from connectors.progress import make_progress
from idaudit.core.errors import CollectionError
from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS, GOOGLE_LOG_APPLICATIONS, LogWindow
from idaudit.core.sections import GOOGLE_SECTIONS, google_targeted_groups, section_spec
from idaudit.core.snapshot import SectionStatus, SnapshotWriter

if TYPE_CHECKING:
    from idaudit.core.config import TenantConfig

log = logging.getLogger(__name__)

GROUP_SECTIONS = ("groups", "groupMembers")
GMAIL_SECTIONS = ("gmail.autoForwarding", "gmail.forwardingAddresses", "gmail.filters", "gmail.delegates")
# Gmail's answer for a user without a Gmail licence / service: not an error of the audit (stored as null).
NO_MAILBOX_REASONS = frozenset({"failedPrecondition", "FAILED_PRECONDITION"})
GMAIL_THREADS_PER_SLOT = 3  # Gmail worker threads per connection slot (options.workers)
REPORT_WINDOW_DAYS = 180  # the Reports API keeps token events for about six months


GOOGLE_DKIM_SELECTOR = "google"  # the Admin console's default DKIM selector prefix


def _request(name: str) -> str:
    spec = section_spec("google", name)
    return spec.request if spec else ""


class _Run:
    """State of one collection: the client, the writer, the progress bar.

    tokens.list and the Gmail reads run at the same time (they are paced by different quotas), so sections are
    recorded through `add` / `fail`, which hold a lock: the writer rewrites the manifest on every section.
    """

    def __init__(self, client: GoogleClient, writer: SnapshotWriter, progress: CollectionProgress) -> None:
        self.client = client
        self.options = client.options
        self.writer = writer
        self.progress = progress
        self._record_lock = threading.Lock()

    def admin(self, scope: str) -> Any:
        return self.client.creds.for_subject(self.options.admin_subject, scope)

    def add(self, name: str, data: Any, **kwargs: Any) -> None:
        with self._record_lock:
            self.writer.add(name, data, request=_request(name), **kwargs)

    def fail(self, name: str, failure: ApiFailure) -> None:
        log.warning("section %s: %s", name, failure.detail)
        with self._record_lock:
            self.writer.fail(name, failure.status, failure.detail, request=_request(name))

    def listed(self, name: str, scope: str, make: Callable[[Any, str | None], Any], items_key: str,
               data: list[Any] | None = None, failure: ApiFailure | None = None,
               window: tuple[datetime, datetime] | None = None) -> list[Any] | None:
        """Collect (or record an already collected) paged list section; None when it failed."""
        self.progress.section_started(name)
        if data is None and failure is None:
            try:
                data = list(self.client.pages(lambda tok: make(self.client, tok), self.admin(scope), items_key))
            except Exception as exc:
                failure = classify(exc, name, scope, self.client.creds.client_id)
        if failure is not None:
            self.fail(name, failure)
            self.progress.section_finished(name, failure.status.value)
            return None
        assert data is not None
        self.add(name, data, window=window)
        self.progress.section_finished(name, "ok")
        return data


# ---- request builders (one per list section) -----------------------------------------------------------

def _users(c: GoogleClient, tok: str | None, customer: str) -> Any:
    return c.service("admin", "directory_v1").users().list(
        customer=customer, projection="full", maxResults=500, pageToken=tok, fields=USER_FIELDS)


def _domains(c: GoogleClient, tok: str | None, customer: str) -> Any:
    return c.service("admin", "directory_v1").domains().list(customer=customer)


def _orgunits(c: GoogleClient, tok: str | None, customer: str) -> Any:
    return c.service("admin", "directory_v1").orgunits().list(customerId=customer, orgUnitPath="/",
                                                              type="allIncludingParent")


def _roles(c: GoogleClient, tok: str | None, customer: str) -> Any:
    return c.service("admin", "directory_v1").roles().list(customer=customer, maxResults=100, pageToken=tok)


def _role_assignments(c: GoogleClient, tok: str | None, customer: str) -> Any:
    return c.service("admin", "directory_v1").roleAssignments().list(customer=customer, maxResults=200,
                                                                     pageToken=tok)


def _policies(c: GoogleClient, tok: str | None, customer: str) -> Any:
    return c.service("cloudidentity", "v1").policies().list(pageSize=100, pageToken=tok)


def _window_events(c: GoogleClient, tok: str | None, app: str, window: LogWindow) -> Any:
    """Every activity of one Reports application in the window (newest first, pages of 1,000)."""
    return c.service("admin", "reports_v1").activities().list(
        userKey="all", applicationName=app, maxResults=1000, startTime=_rfc3339(window.start),
        endTime=_rfc3339(window.end), pageToken=tok)


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _token_events(c: GoogleClient, tok: str | None, start: str) -> Any:
    return c.service("admin", "reports_v1").activities().list(
        userKey="all", applicationName="token", eventName="authorize", maxResults=1000, startTime=start,
        pageToken=tok)


# ---- the targeted groups ------------------------------------------------------------------------------------

def _collect_groups(run: _Run, ids: list[str], wanted: Collection[str]) -> None:
    """groups.get and members.list (nested groups flattened) for exactly the groups policies and roles name."""
    for name in GROUP_SECTIONS:
        if name in wanted:
            run.progress.section_started(name)
    read = read_groups(run.client, run.admin(SCOPE_GROUPS), ids, run.options.directory_batch_size)
    for name, data, failed in (("groups", read.groups, read.failed_groups),
                               ("groupMembers", read.members, read.failed_members)):
        if name not in wanted:
            continue
        failure = read.section_failure(name, ids)
        if failure is not None:
            run.fail(name, failure)
        else:
            run.add(name, data, count=len(data), failed_subjects=failed)
        run.progress.section_finished(name, failure.status.value if failure else "ok")


# ---- per-user sections -----------------------------------------------------------------------------------

def _collect_tokens(run: _Run, users: list[Mapping[str, Any]]) -> str:
    """tokens.list for every user, in Directory batches paced to the quota; returns the section's status.

    Runs beside the Gmail step, so it reports no per-user progress (the bar has one inner line) and the caller
    reports its start and end.
    """
    name = "tokens"
    client = run.client
    creds = run.admin(SCOPE_TOKENS)
    try:
        client.refresh(creds)
    except (RefreshError, TransportError) as exc:
        failure = token_failure(exc, SCOPE_TOKENS, client.creds.client_id)
        run.fail(name, failure)
        return failure.status.value
    size = run.options.directory_batch_size
    chunks = [users[i:i + size] for i in range(0, len(users), size)]

    def one_chunk(chunk: list[Mapping[str, Any]]) -> dict[str, tuple[Any, BaseException | None]]:
        directory = client.service("admin", "directory_v1")  # this thread's own service and Http
        calls = [(str(u["id"]), directory.tokens().list(userKey=str(u["id"])), creds) for u in chunk]
        return client.batch(directory, calls, size)

    data: dict[str, Any] = {}
    failed: dict[str, str] = {}
    results: dict[str, tuple[Any, BaseException | None]] = {}
    try:
        with ThreadPoolExecutor(max_workers=run.options.workers, thread_name_prefix="tokens") as pool:
            for part in pool.map(one_chunk, chunks):
                results.update(part)
    except Exception as exc:  # every failure becomes the section's status
        failure = classify(exc, name, SCOPE_TOKENS, client.creds.client_id)
        run.fail(name, failure)
        return failure.status.value
    forbidden = 0
    for uid, (response, error) in results.items():
        if error is None:
            data[uid] = (response or {}).get("items") or []
        else:
            failure = classify(error, f"tokens of user {uid}", SCOPE_TOKENS)
            forbidden += failure.status is SectionStatus.FORBIDDEN
            failed[uid] = failure.detail
    if users and forbidden == len(users):
        run.fail(name, ApiFailure(SectionStatus.FORBIDDEN, next(iter(failed.values()))))
        return "forbidden"
    if users and len(failed) == len(users):  # nothing was read: an error, not an empty section
        run.fail(name, ApiFailure(SectionStatus.ERROR, f"every user failed: {next(iter(failed.values()))}"))
        return "error"
    run.add(name, data, count=len(data), failed_subjects=failed)
    return "ok"


def _gmail_calls(client: GoogleClient, uid: str, email: str, creds: Any) -> list[tuple[str, Any, Any]]:
    """The four settings reads for one user; userId is the user's own address (same as "me" when impersonating)."""
    gmail = client.gmail_settings()
    return [
        (f"{uid}|gmail.autoForwarding", gmail.settings.getAutoForwarding(userId=email), creds),
        (f"{uid}|gmail.forwardingAddresses", gmail.forwarding_addresses.list(userId=email), creds),
        (f"{uid}|gmail.filters", gmail.filters.list(userId=email), creds),
        (f"{uid}|gmail.delegates", gmail.delegates.list(userId=email), creds),
    ]


_GMAIL_ITEMS = {"gmail.forwardingAddresses": "forwardingAddresses", "gmail.filters": "filter",
                "gmail.delegates": "delegates"}


def _collect_gmail(run: _Run, users: list[Mapping[str, Any]]) -> None:
    """Four settings reads per active user, impersonating that user, in batches of <= gmail_batch_size calls."""
    client = run.client
    active = [u for u in users if not u.get("suspended") and not u.get("archived")]
    data: dict[str, dict[str, Any]] = {s: {} for s in GMAIL_SECTIONS}
    failed: dict[str, dict[str, str]] = {s: {} for s in GMAIL_SECTIONS}
    not_delegated: list[ApiFailure] = []
    per_batch = max(1, run.options.gmail_batch_size // len(GMAIL_SECTIONS))
    chunks = [active[i:i + per_batch] for i in range(0, len(active), per_batch)]
    probed: dict[str, Any] = {}  # the probe's token serves its user's reads too
    if active:  # one probe: an undelegated scope fails every user the same way, so ask once
        probe = client.creds.for_subject(str(active[0]["primaryEmail"]), SCOPE_GMAIL_SETTINGS, cached=False)
        try:
            client.refresh(probe)
            probed[str(active[0]["id"])] = probe
        except (RefreshError, TransportError) as exc:
            failure = token_failure(exc, SCOPE_GMAIL_SETTINGS, client.creds.client_id)
            if failure.status is SectionStatus.FORBIDDEN:
                for section in GMAIL_SECTIONS:
                    run.fail(section, failure)
                run.progress.section_started("gmail")
                run.progress.section_finished("gmail", failure.status.value)
                return
    run.progress.section_started("gmail", total=len(active))

    def one_chunk(chunk: list[Mapping[str, Any]]) -> None:
        calls: list[tuple[str, Any, Any]] = []
        for user in chunk:
            uid = str(user["id"])
            creds = probed.pop(uid, None) or \
                client.creds.for_subject(str(user["primaryEmail"]), SCOPE_GMAIL_SETTINGS, cached=False)
            try:
                if not creds.valid:
                    client.refresh(creds)
            except (RefreshError, TransportError) as exc:
                failure = token_failure(exc, SCOPE_GMAIL_SETTINGS, client.creds.client_id)
                if failure.status is SectionStatus.FORBIDDEN:
                    not_delegated.append(failure)
                for s in GMAIL_SECTIONS:
                    failed[s][uid] = f"cannot impersonate {user['primaryEmail']}: {failure.detail}"
                continue
            calls.extend(_gmail_calls(client, uid, str(user["primaryEmail"]), creds))
        if calls:
            try:
                results = client.batch(client.service("gmail", "v1"), calls, run.options.gmail_batch_size)
            except Exception as exc:
                detail = classify(exc, "gmail batch", SCOPE_GMAIL_SETTINGS).detail
                for cid, _req, _creds in calls:
                    uid, section = cid.split("|", 1)
                    failed[section][uid] = detail
                results = {}
            for cid, (response, error) in results.items():
                uid, section = cid.split("|", 1)
                if error is None:
                    key = _GMAIL_ITEMS.get(section)
                    data[section][uid] = (response or {}).get(key) or [] if key else (response or {})
                elif isinstance(error, HttpError) and error.resp.status == 400 and \
                        error_reason(error)[0] in NO_MAILBOX_REASONS:
                    data[section][uid] = None  # no Gmail for this user: nothing to forward
                else:
                    failed[section][uid] = classify(error, section, SCOPE_GMAIL_SETTINGS).detail
        run.progress.advance(len(chunk))

    # More threads than connection slots: while `workers` round trips are in flight, the other threads sign the
    # next users' token requests and build their batches, so a slot never waits for that CPU work.
    threads = run.options.workers * GMAIL_THREADS_PER_SLOT
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gmail") as pool:
        list(pool.map(one_chunk, chunks))
    run.progress.section_finished("gmail", "ok")

    for section in GMAIL_SECTIONS:
        if active and not data[section] and not_delegated:
            run.fail(section, not_delegated[0])
        elif active and len(failed[section]) == len(active):  # nothing was read: an error, not an empty section
            detail = next(iter(failed[section].values()))
            run.fail(section, ApiFailure(SectionStatus.ERROR, f"every user failed: {detail}"))
        else:
            run.add(section, data[section], count=len(data[section]), failed_subjects=failed[section])


def _collect_per_user(run: _Run, users: list[Mapping[str, Any]], per_user: list[str]) -> None:
    """tokens.list and the Gmail reads at the same time: the first waits for Directory quota (2,400 calls a
    minute), the second for round trips (a token per impersonated user, then a batch), so in sequence a run
    pays both; side by side only the longer. They share the client's connection slots."""
    gmail = any(s in per_user for s in GMAIL_SECTIONS)
    if "tokens" not in per_user:
        _collect_gmail(run, users)
        return
    run.progress.section_started("tokens")
    if not gmail:
        run.progress.section_finished("tokens", _collect_tokens(run, users))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokens-lane") as lane:
        tokens = lane.submit(_collect_tokens, run, users)
        try:
            _collect_gmail(run, users)
        finally:
            status = tokens.result()  # waits; an unexpected error in the lane is raised here, never lost
    run.progress.section_finished("tokens", status)


def _any_token(client: GoogleClient, options: GoogleOptions) -> bool:
    """Can the admin get a token for any other scope? If not, the client is unknown or not delegated at all."""
    for scope in (SCOPE_DOMAINS, SCOPE_ORGUNITS, SCOPE_POLICIES, SCOPE_REPORTS):
        try:
            client.refresh(client.creds.for_subject(options.admin_subject, scope))
            return True
        except (RefreshError, TransportError):
            continue
    return False


# ---- the whole run ---------------------------------------------------------------------------------------

def collect_google(options: GoogleOptions, out_dir: str | Path, *, progress: bool | CollectionProgress = True,
                   sections: Collection[str] | None = None, client: GoogleClient | None = None) -> Path:
    """Collect one Workspace tenant into `out_dir` and return its path.

    Raises CollectionError when the admin cannot be impersonated at all (wrong key, unknown client, admin_subject
    not a user): nothing could be collected, so no snapshot is written that would look like an empty tenant.
    """
    wanted = set(sections) if sections is not None else {s.name for s in GOOGLE_SECTIONS}
    unknown = wanted - {s.name for s in GOOGLE_SECTIONS}
    if unknown:
        raise CollectionError(f"unknown Google section(s): {', '.join(sorted(unknown))}")
    client = client or GoogleClient(options)
    customer = options.customer_id
    # the four Gmail sections are read together, so they count as one step on the bar
    steps = len(wanted - set(GMAIL_SECTIONS)) + (1 if wanted & set(GMAIL_SECTIONS) else 0)
    bar: CollectionProgress = progress if not isinstance(progress, bool) else \
        make_progress(progress, steps, provider="google")
    try:
        # Users first: they name the tenant and drive every per-user section. A refused first token is a sign-in
        # failure unless only the users scope is missing.
        users: list[Any] | None = None
        users_failure: ApiFailure | None = None
        try:
            users = list(client.pages(lambda tok: _users(client, tok, customer),
                                      client.creds.for_subject(options.admin_subject, SCOPE_USERS), "users"))
        except (RefreshError, TransportError) as exc:
            users_failure = token_failure(exc, SCOPE_USERS, client.creds.client_id)
            if users_failure.status is SectionStatus.FORBIDDEN and _any_token(client, options):
                pass  # only this scope is missing: record it and collect the rest
            else:
                raise CollectionError(f"cannot sign in to Google Workspace as {options.admin_subject} with "
                                      f"service account {client.creds.client_email}: {users_failure.detail}"
                                      ) from exc
        except Exception as exc:
            users_failure = classify(exc, "users", SCOPE_USERS, client.creds.client_id)
        tenant_id = next((str(u.get("customerId")) for u in users or [] if u.get("customerId")), customer)
        writer = SnapshotWriter(out_dir, "google", tenant_id, tenant_name="", source="google-workspace")
        run = _Run(client, writer, bar)
        if "users" in wanted:
            run.listed("users", SCOPE_USERS, lambda c, t: None, "users", data=users, failure=users_failure)
        domains: list[Any] | None = None
        if "domains" in wanted:
            domains = run.listed("domains", SCOPE_DOMAINS, lambda c, t: _domains(c, t, customer), "domains")
            primary = next((d.get("domainName") for d in domains or [] if d.get("isPrimary")), "")
            writer.tenant_name = str(primary or "")
        if "dns.emailAuth" in wanted:
            _collect_email_dns(run, domains)
        listed: dict[str, list[Any] | None] = {}
        for name, scope, make, key in (
            ("orgUnits", SCOPE_ORGUNITS, lambda c, t: _orgunits(c, t, customer), "organizationUnits"),
            ("roles", SCOPE_ROLES, lambda c, t: _roles(c, t, customer), "items"),
            ("roleAssignments", SCOPE_ROLES, lambda c, t: _role_assignments(c, t, customer), "items"),
            ("policies", SCOPE_POLICIES, lambda c, t: _policies(c, t, customer), "policies"),
        ):
            if name in wanted:
                listed[name] = run.listed(name, scope, make, key)
        if wanted & set(GROUP_SECTIONS):
            _collect_groups(run, google_targeted_groups(listed.get("policies"), listed.get("roleAssignments")), wanted)
        if "reports.tokenAuthorize" in wanted:
            start = (datetime.now(UTC) - timedelta(days=REPORT_WINDOW_DAYS)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            run.listed("reports.tokenAuthorize", SCOPE_REPORTS, lambda c, t: _token_events(c, t, start), "items")
        window = LogWindow.ending(run.options.log_window_end or writer.collected_at, run.options.lookback_days)
        for name, app in GOOGLE_LOG_APPLICATIONS.items():
            if name in wanted:
                run.listed(name, SCOPE_REPORTS, lambda c, t, app=app: _window_events(c, t, app, window), "items",
                           window=(window.start, window.end))
        per_user = [s for s in ("tokens", *GMAIL_SECTIONS) if s in wanted]
        if per_user and users is None:
            why = ApiFailure(users_failure.status if users_failure else SectionStatus.ERROR,
                             "users could not be listed, so per-user data was not collected: "
                             + (users_failure.detail if users_failure else "unknown reason"))
            for name in per_user:
                run.fail(name, why)
                if name == "tokens" or name == per_user[-1]:
                    run.progress.section_started(name)
                    run.progress.section_finished(name, why.status.value)
        elif per_user:
            assert users is not None
            _collect_per_user(run, users, per_user)
        writer.finish(complete=True)
        return Path(out_dir)
    finally:
        bar.close()


def sending_domains(domains: list[Any]) -> list[str]:
    """Verified domains and verified domain aliases: every domain users can send mail from."""
    out = []
    for d in domains:
        if not isinstance(d, dict):
            continue
        if d.get("verified") is True and isinstance(d.get("domainName"), str):
            out.append(d["domainName"])
        for a in d.get("domainAliases") or []:
            if isinstance(a, dict) and a.get("verified") is True and isinstance(a.get("domainAliasName"), str):
                out.append(a["domainAliasName"])
    return out


def _collect_email_dns(run: _Run, domains: list[Any] | None) -> None:
    """SPF, DMARC and Google's DKIM key (selector `google`) of every sending domain (connectors/email_dns.py)."""
    name = "dns.emailAuth"
    run.progress.section_started(name)
    dns = run.options.dns
    if not dns.enabled or domains is None:
        why = "DNS lookups were turned off" if not dns.enabled else \
            "the domain list could not be read, so no domain was looked up"
        run.fail(name, ApiFailure(SectionStatus.ERROR, why))
        run.progress.section_finished(name, SectionStatus.ERROR.value)
        return
    data = collect_email_auth_sync(sending_domains(domains), dns, source="domains",
                                   dkim_selectors=(GOOGLE_DKIM_SELECTOR,))
    why = unanswered(data, dns.shown)
    if why:
        run.fail(name, ApiFailure(SectionStatus.ERROR, f"{why} — check the resolver (--dns-resolver / dns_resolver) "
                                                       "and that it answers TXT queries for public names"))
        run.progress.section_finished(name, SectionStatus.ERROR.value)
        return
    run.add(name, data, count=len(data["lookups"]), detail=f"looked up through {dns.shown}")
    run.progress.section_finished(name, "ok")


def collect_from_config(tenant: TenantConfig, out_dir: str | Path, *, progress: bool = True,
                        lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> Path:
    """`[[tenants]]` entry with provider = "google" -> snapshot directory; the Reports activities of the window
    cover the last `lookback_days`."""
    return collect_google(options_from_tenant(tenant.options, lookback_days=lookback_days), out_dir,
                          progress=progress)
