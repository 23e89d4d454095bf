"""What the takeover logs are asked for: the time window, the categories and operations, and how long each
provider keeps them. Shared by the connectors (what to ask), the simulator (what to serve) and the normalisers
(what an empty answer means); the sources are cited in docs/semantics.md, section "Signs of takeover".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DEFAULT_LOOKBACK_DAYS = 7
MAX_LOOKBACK_DAYS = 180  # Google Reports keeps about 6 months; Purview Audit (Standard) 180 days
DEFAULT_TAKEOVER_WINDOW_DAYS = 3  # a rule "soon after" a risky sign-in: within this many days

# Entra audit log categories read (one $filter per category, each bounded by activityDateTime).
DIRECTORY_AUDIT_CATEGORIES: tuple[str, ...] = ("UserManagement", "ApplicationManagement", "RoleManagement")

# Purview audit log: the mailbox-side changes that move or hide mail, and who may read a mailbox.
PURVIEW_RECORD_TYPES: tuple[str, ...] = ("exchangeAdmin", "exchangeItem")
PURVIEW_OPERATIONS: tuple[str, ...] = ("New-InboxRule", "Set-InboxRule", "UpdateInboxRules", "Set-Mailbox",
                                       "Add-MailboxPermission")

# Google Reports API applications read for the window (token/authorize is its own section already).
GOOGLE_LOG_APPLICATIONS: dict[str, str] = {"reports.login": "login", "reports.userAccounts": "user_accounts",
                                           "reports.admin": "admin"}

MICROSOFT_LOG_SECTIONS: tuple[str, ...] = ("directoryAudits", "signIns", "riskyUsers", "riskDetections",
                                           "exchangeAuditRecords")
GOOGLE_LOG_SECTIONS: tuple[str, ...] = ("reports.login", "reports.userAccounts", "reports.admin",
                                        "reports.tokenAuthorize")

# How far back each log goes, by licence (Microsoft Entra data retention; Purview audit retention; Google Reports
# data retention), as documented (docs/semantics.md). The window asked for is not cut to these: a provider simply
# returns what it keeps, so a window longer than the retention holds the retention's worth of events.
RETENTION_DAYS: dict[str, dict[str, int]] = {
    "directoryAudits": {"free": 7, "p1": 30, "p2": 30},
    "signIns": {"free": 0, "p1": 30, "p2": 30},
    "riskDetections": {"free": 7, "p1": 30, "p2": 90},
    "exchangeAuditRecords": {"audit_standard": 180, "audit_premium": 365},
    "google_reports": {"all": 180},
}


@dataclass(frozen=True)
class LogWindow:
    """The time range a log section was asked for: [start, end], UTC."""

    start: datetime
    end: datetime

    @staticmethod
    def ending(end: datetime, days: int) -> LogWindow:
        if end.tzinfo is None:
            raise ValueError("the log window end must be timezone-aware (UTC)")
        if not 1 <= days <= MAX_LOOKBACK_DAYS:
            raise ValueError(f"lookback_days must be between 1 and {MAX_LOOKBACK_DAYS}, got {days}")
        return LogWindow(end - timedelta(days=days), end)

    def odata(self, prop: str) -> str:
        """`<prop> ge <start> and <prop> le <end>`, the $filter Graph's audit and sign-in logs accept."""
        return f"{prop} ge {iso_z(self.start)} and {prop} le {iso_z(self.end)}"

    def describe(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"


def iso_z(dt: datetime) -> str:
    """ISO 8601 UTC with a Z, whole seconds: what Graph and Google accept in time filters."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
