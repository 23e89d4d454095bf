"""Redact a snapshot for sharing: personal data out, shapes kept (`idaudit collect ... --redact`).

Why: a user whose real tenant answers differently from what idaudit (and its simulator) expects should be able to
send the raw snapshot that shows it without sending staff names, mail addresses and phone numbers. What a
maintainer needs from it is the *shape* — which properties, which types, which enum values, which sections failed
and how — so redaction keeps every key, every non-personal value (ids, enums, flags, dates, policy settings) and the
relations between objects, and replaces personal values by pseudonyms of the same kind:

- a mail address keeps its domain (inside vs outside still decides the forwarding checks) and gets a pseudonymous
  local part; the same address gets the same pseudonym everywhere in the snapshot, dict keys included (Google's
  per-user sections are keyed by address);
- names, job titles, phone numbers and postal addresses of people (objects that carry a user principal name or a
  primary address, and the users' name fields of every provider) become `redacted-<hash>` / `+1 555 01xx`;
- IPv4 addresses become documentation addresses (198.51.100.x); the tenant's name becomes 'redacted' in the
  manifest and a pseudonym wherever else it appears (Google's root org unit carries it).

Pseudonyms are HMAC-SHA256 of the value under a random key that is never written: nobody (not even the sender)
can reverse or recompute them later. GUIDs are kept: they identify objects, not people, and relations need them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from idaudit.core.atomic import write_text_atomic
from idaudit.core.snapshot import MANIFEST, load_snapshot

EMAIL = re.compile(r"(?<![\w.%+'-])([A-Za-z0-9._%+'-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Keys whose values identify an object as a person (user, mailbox, Google user, registration detail) or as the
# organisation itself (Graph's organization object: its name, street and phones identify the clinic).
PERSON_MARKERS = frozenset(k.casefold() for k in (
    "userPrincipalName", "primaryEmail", "PrimarySmtpAddress", "userDisplayName", "onPremisesSamAccountName",
    "tenantType", "verifiedDomains",
    "AuditBypassEnabled"))  # Get-MailboxAuditBypassAssociation: one object per mailbox, named after its owner
# Inside a person object: every string under these keys is personal.
PERSON_KEYS = frozenset(k.casefold() for k in (
    "displayName", "givenName", "surname", "name", "fullName", "familyName", "Alias", "Identity", "Name", "street",
    "DisplayName", "jobTitle", "department", "officeLocation", "companyName", "employeeId", "streetAddress",
    "city", "postalCode", "mailNickname", "aboutMe", "preferredName", "userDisplayName", "organizations",
    "addresses", "externalIds", "thumbnailPhotoUrl", "onPremisesSamAccountName", "onPremisesDistinguishedName",
    "onPremisesDomainName"))
# Anywhere: values under these keys are personal whatever the object.
ALWAYS_KEYS = frozenset(k.casefold() for k in (
    "mobilePhone", "businessPhones", "faxNumber", "phoneNumber", "phones", "recoveryPhone", "principalDisplayName",
    "userDisplayName", "ipAddress", "recoveryEmail",
    # Exchange names a recipient by identity (a mail contact's name) in these: pseudonymised like the recipient's
    # own Name / Identity / Alias, so a redacted snapshot still resolves them to the same recipient
    "ForwardingAddress", "RedirectMessageTo", "BlindCopyTo", "CopyTo", "AddToRecipients", "ModerateMessageByUser",
    "GenerateIncidentReport",
    "TargetedUsersToProtect"))  # Get-AntiPhishPolicy: 'Display Name;address' of each protected person
# Recipient objects ({"name": ..., "address": ...} in inbox rules and messages): the name is the person's.
RECIPIENT_KEYS = frozenset({"name", "address"})


class Redactor:
    """Pseudonymises personal values consistently within one snapshot (one random key per Redactor)."""

    def __init__(self, key: bytes | None = None, names: tuple[str, ...] = ()) -> None:
        self._key = key or secrets.token_bytes(32)
        # known names to replace wherever they appear (the organisation's, e.g. as Google's root org unit name)
        self._names = [re.compile(re.escape(n), re.IGNORECASE) for n in names if len(n.strip()) >= 3]

    def _tag(self, value: str, n: int = 8) -> str:
        return hmac.new(self._key, value.casefold().encode("utf-8"), hashlib.sha256).hexdigest()[:n]

    def email(self, match: re.Match[str]) -> str:
        return f"u{self._tag(match.group(0))}@{match.group(2)}"

    def text(self, value: str) -> str:
        """Free text that may name a person: mail addresses and IPs pseudonymised, the rest kept."""
        out = EMAIL.sub(self.email, value)
        for name in self._names:
            out = name.sub(lambda m: f"redacted-{self._tag(m.group(0))}", out)
        return IPV4.sub(lambda m: f"198.51.100.{int(self._tag(m.group(0), 2), 16) % 254 + 1}", out)

    def personal(self, value: Any) -> Any:
        """A value that is personal as a whole: strings replaced, containers walked, other types kept."""
        if isinstance(value, str):
            if not value:
                return value
            if EMAIL.fullmatch(value):
                return EMAIL.sub(self.email, value)
            if re.fullmatch(r"\+?[\d\s().-]{6,}", value):
                return f"+1 555 01{int(self._tag(value, 2), 16) % 100:02d}"
            if IPV4.fullmatch(value):
                return self.text(value)
            return f"redacted-{self._tag(value)}"
        if isinstance(value, list):
            return [self.personal(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.personal(v) for k, v in value.items()}
        return value

    def walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.walk(v) for v in value]
        if isinstance(value, dict):
            return self._object(value)
        return value

    def _object(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        keys = {k.casefold() for k in obj}
        person = bool(keys & PERSON_MARKERS)
        recipient = keys == RECIPIENT_KEYS or keys == RECIPIENT_KEYS | {"@odata.type"}
        out: dict[str, Any] = {}
        for key, value in obj.items():
            k = key.casefold()
            if k in ALWAYS_KEYS or (person and k in PERSON_KEYS) or (recipient and k == "name"):
                out[self.text(key)] = self.personal(value)
            else:
                out[self.text(key)] = self.walk(value)
        return out


def organisation_names(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """The organisation's own name as the data carries it: Graph's organization displayName, Google's root org unit
    (whose name is the organisation's). Mail domains are not names: they stay, inside vs outside depends on them."""
    names = []
    for org in raw.get("organization") or []:
        if isinstance(org, dict) and isinstance(org.get("displayName"), str):
            names.append(org["displayName"])
    units = raw.get("orgUnits")
    for unit in (units.get("organizationUnits", []) if isinstance(units, dict) else units or []):
        if isinstance(unit, dict) and unit.get("orgUnitPath") == "/" and isinstance(unit.get("name"), str):
            names.append(unit["name"])
    return tuple(names)


def redact_snapshot(directory: str | Path, key: bytes | None = None) -> Path:
    """Rewrite the snapshot in `directory` in place (each file atomically, owner-only) and return its path.

    The snapshot is loaded (and so validated) first; the manifest's tenant name and every detail or failed-subject
    reason go through the same pseudonyms as the data.
    """
    path = Path(directory)
    snap = load_snapshot(path)
    redactor = Redactor(key, names=organisation_names(snap.raw))
    for name, rec in snap.manifest.sections.items():
        if rec.file and name in snap.raw:
            text = json.dumps(redactor.walk(snap.raw[name]), ensure_ascii=False, indent=1)
            write_text_atomic(path / rec.file, text + "\n")
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    manifest["tenant_name"] = "redacted"
    for section in manifest.get("sections", {}).values():
        if isinstance(section.get("detail"), str):
            section["detail"] = redactor.text(section["detail"])
        if isinstance(section.get("failed_subjects"), dict):
            section["failed_subjects"] = {redactor.text(k): redactor.text(str(v))
                                          for k, v in section["failed_subjects"].items()}
    write_text_atomic(path / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return path
