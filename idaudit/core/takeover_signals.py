"""The pieces the takeover checks combine: who signed in from a new country, which changes came from where, and
how an event reads as evidence (time, address, country, actor, operation). Pure functions over the normalised
tables; the rules are the ones docs/semantics.md states under "Signs of takeover".

A country is **new** for a user when it is not the organisation's home country (the country most of the window's
successful sign-ins come from) and the user signed in successfully from another country earlier in the same window.
A user abroad for the whole window has no earlier country to compare with and is not flagged; a country the user
also used before the window counts as new (the evidence shows its dates) — the logs read cover only the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from idaudit.core.tables import AuditData

# Delegated or application permissions that let an app read a mailbox (a subset of checks.common.RISKY_SCOPES).
MAIL_READING_SCOPES: frozenset[str] = frozenset(s.casefold() for s in (
    "Mail.Read", "Mail.ReadBasic", "Mail.ReadBasic.All", "Mail.ReadWrite", "Mail.Read.Shared",
    "Mail.ReadWrite.Shared", "MailboxItem.Read.All", "EWS.AccessAsUser.All", "IMAP.AccessAsUser.All",
    "POP.AccessAsUser.All", "full_access_as_app", "https://mail.google.com/",
    "https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/gmail.modify",
))
RISKY_DETECTION_LEVELS = frozenset({"medium", "high"})
# Checks of the takeover family that show an open door in the log window (a sign-in that needed only a password)
# rather than a sign that someone walked through it: findings like any other, never an incident or a call-out.
EXPOSURE_CHECKS = frozenset({"IDA-TKO-005"})


def when(ts: object) -> str:
    """A time as evidence: 2026-11-30 13:00 UTC ('time not logged' for NaT)."""
    t = pd.Timestamp(ts) if ts is not None else pd.NaT  # type: ignore[arg-type]
    return "time not logged" if pd.isna(t) else t.strftime("%Y-%m-%d %H:%M UTC")


def where(ip: str, country: str) -> str:
    """'from 203.0.113.20 (NG)'; the country is said to be unknown rather than guessed."""
    ip = ip or "an address not logged"
    return f"from {ip} ({country or 'country not in the sign-in log'})"


def event_text(row: object, labels: dict[str, str]) -> str:
    """One change event as evidence: time, operation, object, actor, address and country."""
    r = row  # a change_events row (itertuples)
    actor = str(getattr(r, "actor", "")) or labels.get(str(getattr(r, "actor_id", "")), "") or "an actor not logged"
    obj = str(getattr(r, "object", ""))
    what = f"{getattr(r, 'operation', '')}" + (f" '{obj}'" if obj else "")
    return f"{when(getattr(r, 'time', None))}: {what} by {actor} {where(str(getattr(r, 'ip', '')), str(getattr(r, 'country', '')))}"


def home_country(countries: pd.DataFrame) -> str:
    """The country most of the window's successful sign-ins come from ('' when there are none)."""
    known = countries[countries["country"] != ""]
    if known.empty:
        return ""
    totals = known.groupby("country")["sign_ins"].sum().sort_values(ascending=False, kind="stable")
    return str(totals.index[0])


@dataclass(frozen=True)
class NewCountry:
    user_id: str
    country: str
    first_seen: pd.Timestamp
    first_ip: str
    baseline: str  # the countries the user signed in from before

    def text(self) -> str:
        return (f"{when(self.first_seen)}: first successful sign-in from a new country "
                f"{where(self.first_ip, self.country)} (earlier in the window: {self.baseline})")


def new_countries(data: AuditData) -> dict[str, list[NewCountry]]:
    """user id -> the new countries of the window (docstring of this module), oldest first."""
    if not data.available("sign_in_countries"):
        return {}
    c = data.table("sign_in_countries")
    home = home_country(c)
    out: dict[str, list[NewCountry]] = {}
    for uid, rows in c.groupby("user_id", sort=False):
        rows = rows.sort_values("first_seen", kind="stable")
        for r in rows.itertuples(index=False):
            first = pd.Timestamp(r.first_seen)  # type: ignore[arg-type]
            if not r.country or r.country == home or pd.isna(first):
                continue
            earlier = rows[(rows["first_seen"] < first) & (rows["country"] != r.country)]
            if earlier.empty:
                continue
            out.setdefault(str(uid), []).append(NewCountry(str(uid), str(r.country), first, str(r.first_ip),
                                                            ", ".join(sorted(set(earlier["country"])))))
    return out


def user_ips(data: AuditData) -> dict[str, set[str]]:
    """user id -> every address the user signed in from successfully in the window (up to 10 per country)."""
    if not data.available("sign_in_countries"):
        return {}
    out: dict[str, set[str]] = {}
    for r in data.table("sign_in_countries").itertuples(index=False):
        out.setdefault(str(r.user_id), set()).update(i.strip() for i in str(r.ips).split(";") if i.strip())
    return out


def events(data: AuditData, *kinds: str) -> pd.DataFrame:
    ev = data.table("change_events")
    return ev[ev["kind"].isin(kinds)].sort_values("time", kind="stable")


def risky_detections(data: AuditData) -> pd.DataFrame:
    if not data.available("risk_detections"):
        return pd.DataFrame(columns=["user_id", "time", "event_type", "level", "state", "ip", "country"])
    d = data.table("risk_detections")
    return d[d["level"].str.casefold().isin(RISKY_DETECTION_LEVELS)]


def before(t: pd.Timestamp, days: int, start: object) -> bool:
    """`start` lies in the `days` up to (and including) `t`."""
    s = pd.Timestamp(start)  # type: ignore[arg-type]
    return not pd.isna(s) and not pd.isna(t) and t - pd.Timedelta(days=days) <= s <= t


def window_text(data: AuditData) -> str:
    if data.log_window is None:
        return "the log window"
    start, end = data.log_window
    return f"the log window ({start:%Y-%m-%d} to {end:%Y-%m-%d})"


def mail_scopes(scopes: str) -> list[str]:
    """The mail-reading scopes named in a space-separated scope text, in order."""
    return [s for s in scopes.replace(",", " ").split() if s.casefold() in MAIL_READING_SCOPES]
