"""Keyed, stable pseudonyms for sharing a report under HIPAA's minimum-necessary standard.

A vCISO or leadership may need to see that "user-7KQ2M4XD" has had no MFA for three weeks without seeing which
nurse that is. The pseudonym is HMAC-SHA256(key, user id): the same key gives the same pseudonym every week (so
trends and diffs still line up), and without the key nobody can reverse or recompute it — unlike a plain hash of
a guessable e-mail address. The key is a local file created owner-only (0600); it never goes into a report.

Pseudonymisation happens on the AuditRun before any writer sees it, so every format (xlsx, HTML, CSV, JSON)
gets the same treatment: user ids, principals, display names and mail addresses in the tables, and every
occurrence of a known name or any e-mail address inside free text (subjects, evidence, rule names).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from dataclasses import replace
from pathlib import Path

import pandas as pd

from idaudit.core.atomic import write_bytes_atomic
from idaudit.core.engine import AuditRun
from idaudit.core.errors import IdauditError
from idaudit.core.tables import AuditData

KEY_BYTES = 32
_WORD = re.compile(r"\w+")
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# Sign-in and audit log addresses, and the countries evidence names beside them: personal data (where someone was).
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
# Country codes in the evidence's own wording: "(NG)" after an address, "earlier in the window: US, CA".
COUNTRY_IN_PARENS = re.compile(r"(?<=\) )\(([A-Z]{2})\)|(?<=\d )\(([A-Z]{2})\)|(?<=ip-[A-Z2-7]{10} )\(([A-Z]{2})\)")
COUNTRY_LIST = re.compile(r"(earlier in the window: )([A-Z]{2}(?:, [A-Z]{2})*)")


def load_or_create_key(path: str | os.PathLike[str]) -> bytes:
    """Read the pseudonym key, or create a new random one owner-only (0600) when the file does not exist."""
    p = Path(path)
    if p.exists():
        data = p.read_bytes().strip()
        try:
            key = base64.b64decode(data, validate=True)
        except ValueError:
            raise IdauditError(f"{p}: pseudonym key file is not base64 text") from None
        if len(key) < 16:
            raise IdauditError(f"{p}: pseudonym key is too short ({len(key)} bytes; at least 16 needed)")
        mode = p.stat().st_mode & 0o077
        if mode:
            raise IdauditError(f"{p}: pseudonym key file is readable by others (mode {oct(p.stat().st_mode & 0o777)});"
                               " run chmod 600 on it")
        return key
    key = secrets.token_bytes(KEY_BYTES)
    write_bytes_atomic(p, base64.b64encode(key) + b"\n", mode=0o600)
    return key


class Pseudonymizer:
    """Maps identifiers to pseudonyms with one key; the mapping is deterministic and one-way."""

    def __init__(self, key: bytes, users: pd.DataFrame | None = None) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key must be at least 16 bytes")
        self._key = key
        self._names: dict[str, str] = {}  # casefolded real name/principal/mail/id -> pseudonym
        self._by_id: dict[str, str] = {}
        if users is not None and not users.empty:
            for row in users[["user_id", "principal", "display_name", "mail"]].itertuples(index=False):
                p = self.user(str(row.user_id))
                self._by_id[str(row.user_id)] = p
                for name in (row.user_id, row.principal, row.display_name, row.mail):
                    if isinstance(name, str) and len(name.strip()) >= 3:
                        self._names[name.strip().casefold()] = p
        # Names are found by their first word: a dict lookup per word of the text, so the cost grows with the
        # text, not with the number of users (one regex alternation of 100,000 names would take minutes).
        # Candidates are grouped by (offset of the first word, length): one slice and one dict lookup per group,
        # however many staff share a first name.
        groups: dict[str, dict[tuple[int, int], dict[str, str]]] = {}
        for name_cf, pseudonym in self._names.items():
            first = _WORD.search(name_cf)
            if first is None:
                continue
            groups.setdefault(first.group(0), {}).setdefault((first.start(), len(name_cf)), {})[name_cf] = pseudonym
        self._by_first: dict[str, list[tuple[int, int, dict[str, str]]]] = {
            word: sorted(((lead, length, names) for (lead, length), names in g.items()), key=lambda c: -c[1])
            for word, g in groups.items()}  # longest first: "Ann Lee-Smith" before "Ann Lee"

    def _tag(self, prefix: str, value: str) -> str:
        digest = hmac.new(self._key, value.strip().casefold().encode("utf-8"), hashlib.sha256).digest()
        return f"{prefix}-{base64.b32encode(digest).decode('ascii')[:10]}"

    def user(self, user_id: str) -> str:
        """The pseudonym of a user id (stable across runs for the same key)."""
        if not user_id:
            return ""
        return self._by_id.get(user_id) or self._tag("user", user_id)

    def address(self, email: str) -> str:
        """A mail address: a known user's pseudonym, else the local part replaced and the domain kept.

        The domain stays because it is the point of the finding (a free-mail domain is outside the organisation).
        """
        known = self._names.get(email.strip().casefold())
        if known:
            return known
        if "@" not in email:
            return self._tag("addr", email)
        local, _, domain = email.rpartition("@")
        return f"{self._tag('addr', local + '@' + domain)}@{domain}"

    def ip(self, address: str) -> str:
        """A sign-in or audit log address: a keyed pseudonym (the same address, the same pseudonym)."""
        return self._tag("ip", address) if address else ""

    def _ipv6(self, m: re.Match[str]) -> str:
        try:
            ipaddress.IPv6Address(m.group(0))
        except ValueError:
            return m.group(0)  # a time like 13:03:00 or other text, not an address
        return self.ip(m.group(0))

    def country(self, code: str) -> str:
        """A country code: a keyed pseudonym, so 'same country as before' stays readable."""
        return self._tag("loc", code) if code else ""

    def text(self, value: object) -> str:
        """Free text with every known name, e-mail address, IP address and logged country replaced."""
        s = "" if value is None else str(value)
        if not s:
            return s
        if self._by_first:
            s = self._replace_names(s)
        s = EMAIL.sub(lambda m: m.group(0) if m.group(0).startswith(("user-", "addr-"))
                      else self.address(m.group(0)), s)
        if any(ch.isdigit() for ch in s) or "::" in s:
            s = IPV6.sub(self._ipv6, IPV4.sub(lambda m: self.ip(m.group(0)), s))
        if "ip-" in s or "earlier in the window" in s:
            s = COUNTRY_IN_PARENS.sub(lambda m: f"({self.country(next(g for g in m.groups() if g))})", s)
            s = COUNTRY_LIST.sub(lambda m: m.group(1) + ", ".join(self.country(c) for c in m.group(2).split(", ")),
                                 s)
        return s

    def _replace_names(self, s: str) -> str:
        out: list[str] = []
        last = 0
        for m in _WORD.finditer(s):
            if m.start() < last:
                continue
            cands = self._by_first.get(m.group(0).casefold())
            if not cands:
                continue
            for lead, length, names in cands:
                a = m.start() - lead
                b = a + length
                if a < last:
                    continue
                found = s[a:b].casefold()
                pseudonym = names.get(found)
                if pseudonym is None:
                    continue
                if b < len(s) and found[-1:].isalnum() and (s[b].isalnum() or s[b] == "_"):
                    continue  # "Ann Lee" must not eat the start of "Ann Leeds"
                out.append(s[last:a])
                out.append(pseudonym)
                last = b
                break
        if not out:
            return s
        out.append(s[last:])
        return "".join(out)

    def series(self, s: pd.Series) -> pd.Series:
        uniq = {v: self.text(v) for v in pd.unique(s.astype(str))}
        return s.astype(str).map(uniq).astype("str")

    def ids(self, s: pd.Series) -> pd.Series:
        uniq = {v: self._id(v) for v in pd.unique(s.astype(str))}
        return s.astype(str).map(uniq).astype("str")

    def _id(self, value: str) -> str:
        if value in ("", "*", "tenant"):
            return value
        head, sep, tail = value.partition(":")
        if sep and head in self._by_id:  # "<user id>:<event id>": still the user's, as the reports resolve it
            return f"{self._by_id[head]}:{self.text(tail)}"
        return self.user(value)


_USER_KINDS = {"user", "mailbox"}
# Every text column of every table is passed through Pseudonymizer.text (a name can turn up anywhere: an OU
# called after a person, a CA policy excluding "Dr Smith", a reason quoting an address) — except these, whose
# values are vocabulary or provider identifiers and must stay joinable.
_KEEP_COLUMNS = frozenset({"user_id", "user_type", "mailbox", "strongest", "methods", "source", "method",
                           "strength", "enforced", "phishing_resistant", "assignment", "mechanism", "grant_kind",
                           "consent_scope", "app_owner", "state", "setting", "hide_action", "actions"})


def pseudonymize_run(run: AuditRun, key: bytes) -> AuditRun:
    """A copy of the run in which users appear only as pseudonyms (every report format reads this copy)."""
    data = run.data
    users = data.tables.get("users")
    pz = Pseudonymizer(key, users)
    tables: dict[str, pd.DataFrame] = {}
    for name, df in data.tables.items():
        out = df.copy()
        if "user_id" in out.columns:
            out["user_id"] = pz.ids(out["user_id"])
        for col in out.columns:
            if col not in _KEEP_COLUMNS and (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])):
                out[col] = pz.series(out[col])
        if name == "users":
            out["display_name"] = out["user_id"]
        if "country" in out.columns:
            out["country"] = out["country"].astype(str).map(pz.country).astype("str")
        if "countries" in out.columns:
            out["countries"] = out["countries"].astype(str).map(
                lambda v: "; ".join(pz.country(c.strip()) for c in v.split(";") if c.strip())).astype("str")
        tables[name] = out
    f = run.findings.copy()
    user_rows = f["subject_kind"].isin(list(_USER_KINDS))
    f.loc[user_rows, "subject_id"] = pz.ids(f.loc[user_rows, "subject_id"])
    f.loc[~user_rows, "subject_id"] = pz.series(f.loc[~user_rows, "subject_id"])
    for col in ("subject", "evidence", "waiver_owner", "waiver_reason", "how_it_got_there"):
        if col in f.columns:
            f[col] = pz.series(f[col])
    statuses = {k: replace(v, missing_subjects={pz.user(s): pz.text(r) for s, r in v.missing_subjects.items()})
                for k, v in data.status.items()}
    manifest = data.manifest
    if manifest is not None:
        manifest = replace(manifest, sections={
            n: replace(rec, failed_subjects={pz.user(s): pz.text(r) for s, r in rec.failed_subjects.items()})
            for n, rec in manifest.sections.items()})
    new_data = AuditData(provider=data.provider, tenant_id=data.tenant_id, tenant_name=data.tenant_name,
                         collected_at=data.collected_at, tables=tables, status=statuses,
                         setting_gaps=dict(data.setting_gaps), manifest=manifest, log_window=data.log_window)
    expired = tuple(replace(w, subject=pz.text(w.subject)) for w in run.expired_waivers)
    return replace(run, data=new_data, findings=f, expired_waivers=expired)
