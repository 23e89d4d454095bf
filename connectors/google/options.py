"""What the Google Workspace connector needs: a service account key, the admin to impersonate, endpoints, limits.

The OAuth scopes the service account must be granted through domain-wide delegation live here in one constant,
REQUIRED_SCOPES, with the reason for each: docs/google.md and the tests read it, so the instructions never drift
from what the code asks for. Every scope is read-only where Google offers a read-only variant; tokens.list has none.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from connectors.email_dns import DnsOptions, dns_options_from
from idaudit.core.errors import CollectionError
from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS
from idaudit.core.sections import GOOGLE_USER_FIELDS

log = logging.getLogger(__name__)

_AUTH = "https://www.googleapis.com/auth/"
SCOPE_USERS = _AUTH + "admin.directory.user.readonly"
SCOPE_DOMAINS = _AUTH + "admin.directory.domain.readonly"
SCOPE_ORGUNITS = _AUTH + "admin.directory.orgunit.readonly"
SCOPE_ROLES = _AUTH + "admin.directory.rolemanagement.readonly"
SCOPE_TOKENS = _AUTH + "admin.directory.user.security"
SCOPE_GMAIL_SETTINGS = _AUTH + "gmail.settings.basic"
SCOPE_POLICIES = _AUTH + "cloud-identity.policies.readonly"
SCOPE_REPORTS = _AUTH + "admin.reports.audit.readonly"
SCOPE_GROUPS = _AUTH + "admin.directory.group.readonly"

REQUIRED_SCOPES: dict[str, str] = {
    SCOPE_USERS: "every account: 2SV enrolled/enforced, suspended, archived, admin, last login, OU",
    SCOPE_DOMAINS: "verified domains, to tell an outside forwarding recipient from an inside one",
    SCOPE_ORGUNITS: "the OU tree, to resolve which policy applies to each user",
    SCOPE_ROLES: "admin roles and who holds them (super admins)",
    SCOPE_TOKENS: "OAuth apps each user authorised, with their scopes (no read-only variant exists: this "
                  "scope could also revoke tokens; idaudit only lists them)",
    SCOPE_GMAIL_SETTINGS: "per user, impersonating each user: auto-forwarding, forwarding addresses, filters "
                          "that forward or hide mail, delegates (read calls only)",
    SCOPE_POLICIES: "2SV enforcement, allowed factors, device trust, less secure apps, auto-forwarding, mail "
                    "delegation, IMAP/POP and third-party app settings per OU (impersonated admin must be a "
                    "super admin)",
    SCOPE_REPORTS: "OAuth authorisation events (the tenant-wide view of consented apps when tokens.list is not "
                   "granted) and the last lookback_days of sign-ins (address, country, suspicious), 2SV, recovery, "
                   "password and out-of-domain forwarding changes, and admin role grants: the takeover checks",
    SCOPE_GROUPS: "members (nested groups included) and names of only the groups that policies and admin roles "
                  "target, so group-based 2SV, forwarding, IMAP and app settings and roles held through a group "
                  "resolve per user",
}

# Partial response for users.list: part of the snapshot format, so it lives with the sections catalogue.
USER_FIELDS = GOOGLE_USER_FIELDS

DEFAULT_API_ENDPOINT = ""  # empty: each API's own Google host from the bundled discovery document
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret


def _url(value: str, what: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CollectionError(f"{what} must be an http(s) URL, got {value!r}")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise CollectionError(f"{what} may use plain http only on loopback (a local simulator), got {value!r}")
    return value.rstrip("/")


def parse_service_account(text: str, where: str) -> dict[str, Any]:
    """Validate a service-account key JSON; `where` names the file or variable in every error."""
    try:
        info = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CollectionError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(info, dict):
        raise CollectionError(f"{where}: a service account key must be a JSON object")
    if info.get("type") != "service_account":
        raise CollectionError(f"{where}: field 'type' must be 'service_account' (download a key for a service "
                              "account, not an OAuth client)")
    for key in ("client_email", "private_key", "token_uri"):
        if not isinstance(info.get(key), str) or not info[key]:
            raise CollectionError(f"{where}: missing field '{key}'")
    return info


def load_service_account_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        mode = p.stat().st_mode
    except OSError as exc:
        raise CollectionError(f"{p}: cannot read the service account key ({exc.strerror})") from None
    if mode & 0o077:
        log.warning("%s: the service account key is readable by other users (chmod 600 it)", p)
    return parse_service_account(text, str(p))


def load_service_account_env(variable: str) -> dict[str, Any]:
    text = os.environ.get(variable)
    if not text:
        raise CollectionError(f"environment variable {variable} is not set (it must hold the service account "
                              "key JSON)")
    return parse_service_account(text, f"environment variable {variable}")


@dataclass(frozen=True)
class GoogleOptions:
    """Everything one Workspace collection needs. The key never appears in repr, logs or snapshots."""

    service_account_info: Mapping[str, Any] = field(repr=False)
    admin_subject: str  # a super admin's address: Directory, Reports and Policy calls impersonate it
    customer_id: str = "my_customer"
    api_endpoint: str = DEFAULT_API_ENDPOINT  # e.g. http://127.0.0.1:PORT for the simulator
    token_uri: str = ""  # overrides the key's token_uri (simulator)
    ca_bundle: str = ""  # PEM bundle for an https endpoint signed by a private CA
    workers: int = 4  # requests in flight at once, across all sections; threads each have their own
    #                   httplib2.Http (httplib2 is not thread-safe)
    gmail_batch_size: int = 48  # calls per Gmail batch (Google: <= 100, 50 advised); 4 calls per user
    directory_batch_size: int = 200  # tokens.list calls per Directory batch (Google: <= 1000)
    # Directory API quota: queries per `quota_window` seconds per user per project (Google's default: 2,400 a
    # minute; raise it when the project's quota was raised). Directory calls are paced to stay under it.
    directory_quota: int = 2400
    quota_window: float = 60.0  # seconds (the time-scaled benchmark shrinks it with the simulator's windows)
    max_retries: int = 5  # quota errors (429, 403 rateLimitExceeded) retried with exponential backoff
    backoff_base: float = 1.0  # seconds; doubled each retry, with jitter
    backoff_cap: float = 32.0
    timeout: float = 60.0  # seconds per HTTP request
    # The Reports activities of the takeover checks (login, user_accounts, admin): the last `lookback_days` up to
    # `log_window_end` (None: when the collection starts).
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    log_window_end: datetime | None = None
    dns: DnsOptions = field(default_factory=DnsOptions)  # SPF / DMARC / DKIM lookups (resolver, timeout)

    def __post_init__(self) -> None:
        if "@" not in self.admin_subject:
            raise CollectionError(f"admin_subject must be a super admin's email address, got {self.admin_subject!r}")
        if self.api_endpoint:
            object.__setattr__(self, "api_endpoint", _url(self.api_endpoint, "api_endpoint"))
        if self.token_uri:
            object.__setattr__(self, "token_uri", _url(self.token_uri, "token_uri"))
        if not 1 <= self.gmail_batch_size <= 100:
            raise CollectionError("gmail_batch_size must be between 1 and 100 (Gmail batch limit)")
        if not 1 <= self.directory_batch_size <= 1000:
            raise CollectionError("directory_batch_size must be between 1 and 1000 (batch limit)")
        if self.workers < 1:
            raise CollectionError("workers must be at least 1")
        if not 1 <= self.lookback_days <= MAX_LOOKBACK_DAYS:
            raise CollectionError(f"lookback_days must be between 1 and {MAX_LOOKBACK_DAYS}, got {self.lookback_days}")
        if self.log_window_end is not None and self.log_window_end.tzinfo is None:
            raise CollectionError("log_window_end must be timezone-aware (UTC)")
        if self.directory_quota < 1 or self.quota_window <= 0:
            raise CollectionError("directory_quota must be at least 1 and quota_window above 0 seconds")

    @property
    def client_email(self) -> str:
        return str(self.service_account_info.get("client_email", ""))

    @property
    def client_id(self) -> str:
        return str(self.service_account_info.get("client_id", ""))

    @property
    def effective_token_uri(self) -> str:
        return self.token_uri or str(self.service_account_info.get("token_uri") or DEFAULT_TOKEN_URI)


def options_from_tenant(opts: Mapping[str, str], **overrides: Any) -> GoogleOptions:
    """Build options from a `[[tenants]]` table (idaudit.core.config.TenantConfig.options)."""
    if opts.get("service_account_file"):
        info = load_service_account_file(opts["service_account_file"])
    elif opts.get("service_account_env"):
        info = load_service_account_env(opts["service_account_env"])
    else:
        raise CollectionError(f"tenant {opts.get('name', '?')!r}: set service_account_file or service_account_env")
    subject = opts.get("admin_subject", "")
    if not subject:
        raise CollectionError(f"tenant {opts.get('name', '?')!r}: admin_subject (a super admin's address) is "
                              "required")
    if opts.get("directory_quota"):  # validated as a whole number by idaudit.core.config
        overrides = {"directory_quota": int(opts["directory_quota"]), **overrides}
    if "dns" not in overrides:
        overrides = {"dns": dns_options_from(opts.get("dns_resolver"), opts.get("dns_timeout"),
                                             where=f"tenant {opts.get('name', '?')!r}: "), **overrides}
    return GoogleOptions(service_account_info=info, admin_subject=subject,
                         customer_id=opts.get("customer_id") or "my_customer",
                         api_endpoint=opts.get("api_endpoint", ""), token_uri=opts.get("token_uri", ""),
                         ca_bundle=opts.get("ca_bundle", ""), **overrides)
