"""What the Microsoft connector needs to know: tenant, app, credential, endpoints (national clouds), limits.

The permissions the app registration must hold live here in one constant, REQUIRED_PERMISSIONS: the docs and the
tests assert on it, so the README can never drift from what the code asks for. Every one of them is read-only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from connectors.email_dns import DnsOptions
from idaudit.core.errors import CollectionError
from idaudit.core.logwindow import DEFAULT_LOOKBACK_DAYS, MAX_LOOKBACK_DAYS

# Application permissions (Microsoft Graph unless noted) and why each is needed. Read-only, all of them.
REQUIRED_PERMISSIONS: dict[str, str] = {
    "Organization.Read.All": "tenant name and subscribed licences (is Entra ID P1/P2 present?)",
    "Domain.Read.All": "verified domains, to tell an outside forwarding recipient from an inside one",
    "User.Read.All": "every account: enabled, guest or member, created, synced from on-premises",
    "AuditLog.Read.All": "last sign-in (signInActivity), the MFA registration report, and the sign-in and "
                         "directory audit logs of the last lookback_days",
    "UserAuthenticationMethod.Read.All": "MFA methods per user when the registration report is not licensed",
    "Policy.Read.All": "security defaults, Conditional Access, consent settings, per-user MFA state",
    "Policy.Read.AuthenticationMethod": "which methods (SMS, voice, email) the tenant allows",
    "RoleManagement.Read.Directory": "who holds (or is eligible for) privileged roles",
    "GroupMember.Read.All": "who is really inside a group excluded from MFA or holding a role",
    "MailboxSettings.Read": "inbox rules that forward or hide mail, and mailbox purpose",
    "Directory.Read.All": "delegated permission grants (OAuth consents) to apps",
    "Application.Read.All": "service principals and the application permissions granted to them",
    "IdentityRiskyUser.Read.All": "users Identity Protection rates at risk, and whether that was remediated "
                                  "(needs Entra ID P2)",
    "IdentityRiskEvent.Read.All": "risk detections of the log window: unfamiliar sign-ins, new countries",
    "AuditLogsQuery-Exchange.Read.All": "who created an inbox rule, set mailbox forwarding or added a mailbox "
                                        "permission, when and from where (Purview audit log; "
                                        "AuditLogsQuery.Read.All also works)",
    "Exchange.ManageAsApp (Office 365 Exchange Online)": "mailbox forwarding, remote domains, outbound spam "
                                                         "and transport rules via the Exchange admin API "
                                                         "(with Entra role Global Reader, or an Exchange "
                                                         "role group holding 'View-Only Recipients' and "
                                                         "'View-Only Configuration')",
}

# Optional application permissions: used when granted; without one, its section is `forbidden` (naming it) and the
# checks that would use it say `unknown` where it matters. Each has a real cost, said here and in docs/microsoft.md.
OPTIONAL_PERMISSIONS: dict[str, str] = {
    "Mail.ReadBasic.All": "names the folder an inbox rule moves mail to (RSS Feeds, Conversation History, hidden "
                          "folders); least privileged permission for Get mailFolder, but it also lets the app read "
                          "message headers (subject, sender, recipients; not bodies) in every mailbox",
}

GLOBAL_AUTHORITY_HOST = "https://login.microsoftonline.com"
GLOBAL_GRAPH = "https://graph.microsoft.com"
GLOBAL_EXCHANGE = "https://outlook.office365.com"

# Hosts of the national clouds: the token audience is the API's own host there.
_GRAPH_HOSTS = {"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
                "microsoftgraph.chinacloudapi.cn"}
_EXCHANGE_HOSTS = {"outlook.office365.com", "outlook.office365.us", "webmail.apps.mil", "partner.outlook.cn"}


def _https(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise CollectionError(f"{what} must be an https URL, got {url!r}")
    return url.rstrip("/")


def resource_for(endpoint: str, known_hosts: set[str], default: str) -> str:
    """Token audience for an API endpoint: its own host in a known cloud, otherwise the global audience.

    A local simulator or a proxy in front of Graph still expects tokens for the real resource.
    """
    host = urlsplit(endpoint).hostname or ""
    return f"https://{host}" if host in known_hosts else default


@dataclass(frozen=True)
class CertificateCredential:
    """A certificate credential ready for msal: private key (PEM) and the SHA-1 thumbprint of the certificate."""

    private_key_pem: str = field(repr=False)
    thumbprint: str
    public_certificate_pem: str = field(default="", repr=False)


def load_certificate(path: Path, password: str | None = None) -> CertificateCredential:
    """Read a PEM (key + certificate) or PFX/PKCS#12 file; the thumbprint is computed, never typed by hand."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CollectionError(f"{path}: cannot read the certificate file ({exc.strerror})") from None
    pw = password.encode() if password else None
    try:
        if path.suffix.lower() in (".pfx", ".p12"):
            key, cert, _extra = pkcs12.load_key_and_certificates(data, pw)
        else:
            key = serialization.load_pem_private_key(data, password=pw)
            cert = x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError) as exc:
        raise CollectionError(f"{path}: not a usable certificate with private key "
                              f"(wrong password or format?): {exc}") from None
    if key is None or cert is None:
        raise CollectionError(f"{path}: the file must hold both the private key and the certificate")
    der = cert.public_bytes(serialization.Encoding.DER)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumbprint = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    return CertificateCredential(private_key_pem=key_pem, thumbprint=thumbprint, public_certificate_pem=cert_pem)


@dataclass(frozen=True)
class MicrosoftOptions:
    """How to reach one Microsoft 365 tenant. Exactly one credential: secret, certificate or device code.

    `time_scale` shrinks the connector's own pacing and back-off (1 request/s for Conditional Access, 5 per 10 s
    for reports, 10 per minute for signInActivity) for a simulator running with the same scale; keep 1.0 against
    a real tenant.
    """

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    certificate_path: Path | None = None
    certificate_password: str | None = field(default=None, repr=False)
    device_code: bool = False
    device_code_callback: Callable[[str], None] | None = field(default=None, repr=False, compare=False)
    authority_host: str = GLOBAL_AUTHORITY_HOST
    graph_endpoint: str = GLOBAL_GRAPH
    exchange_endpoint: str = GLOBAL_EXCHANGE
    graph_resource: str = ""  # token audience; derived from graph_endpoint when empty
    exchange_resource: str = ""
    ca_bundle: Path | None = None
    token_cache_path: Path | None = None
    concurrency: int = 4
    timeout: float = 60.0
    time_scale: float = 1.0
    collect_exchange: bool = True
    dns: DnsOptions = field(default_factory=DnsOptions)  # SPF / DMARC lookups (resolver, timeout)
    # The sign-in and audit logs: the last `lookback_days` up to `log_window_end` (None: when collection starts).
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    log_window_end: datetime | None = None
    # The Purview audit log query runs on Microsoft's side: its status is read every `audit_query_poll_s` until it
    # succeeds, for at most `audit_query_timeout_s` (both scaled by time_scale).
    audit_query_poll_s: float = 20.0
    audit_query_timeout_s: float = 900.0

    def __post_init__(self) -> None:
        if not self.tenant_id.strip():
            raise CollectionError("Microsoft tenant id is required (directory id or primary domain)")
        if not self.client_id.strip():
            raise CollectionError("Microsoft client (application) id is required")
        creds = [bool(self.client_secret), self.certificate_path is not None, self.device_code]
        if sum(creds) != 1:
            raise CollectionError("give exactly one credential: a client secret, a certificate, or device code")
        object.__setattr__(self, "authority_host", _https(self.authority_host, "authority host"))
        object.__setattr__(self, "graph_endpoint", _https(self.graph_endpoint, "Graph endpoint"))
        object.__setattr__(self, "exchange_endpoint", _https(self.exchange_endpoint, "Exchange endpoint"))
        if not 1 <= self.concurrency <= 32:
            raise CollectionError(f"concurrency must be between 1 and 32, got {self.concurrency}")
        if not 0 < self.time_scale <= 1:
            raise CollectionError(f"time_scale must be in (0, 1], got {self.time_scale}")
        if not 1 <= self.lookback_days <= MAX_LOOKBACK_DAYS:
            raise CollectionError(f"lookback_days must be between 1 and {MAX_LOOKBACK_DAYS}, got {self.lookback_days}")
        if self.log_window_end is not None and self.log_window_end.tzinfo is None:
            raise CollectionError("log_window_end must be timezone-aware (UTC)")
        if self.ca_bundle is not None and not Path(self.ca_bundle).is_file():
            raise CollectionError(f"{self.ca_bundle}: CA bundle not found")

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def graph_scope(self) -> str:
        return f"{self.graph_resource or resource_for(self.graph_endpoint, _GRAPH_HOSTS, GLOBAL_GRAPH)}/.default"

    @property
    def exchange_scope(self) -> str:
        res = self.exchange_resource or resource_for(self.exchange_endpoint, _EXCHANGE_HOSTS, GLOBAL_EXCHANGE)
        return f"{res}/.default"

    @property
    def credential_kind(self) -> str:
        return "secret" if self.client_secret else "certificate" if self.certificate_path else "device_code"
