"""Exchange recipients named by identity -> the SMTP address mail to them goes to.

A mailbox's ForwardingAddress (Set-Mailbox -ForwardingAddress) names "a recipient in your organization" by any
value that identifies it — name, display name, alias, distinguished name, email address or GUID — and Get-Mailbox
shows it by identity, not by address: the address behind it is the recipient's. Mail contacts and mail users carry
it in ExternalEmailAddress ("SMTP:x@y", outside the organisation); a mailbox is inside (its PrimarySmtpAddress).
Sources: exchange.recipients (Get-Recipient -RecipientTypeDetails MailContact,MailUser,GuestMailUser) and
exchange.mailboxes. A name that matches nothing, or more than one recipient, stays unresolved with the reason, and
the mail checks report it `unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idaudit.core.normalise.ms_context import Tables, as_list, text

RECIPIENTS = "exchange.recipients"
MAILBOXES = "exchange.mailboxes"
_KIND = {"mailcontact": "mail contact", "mailuser": "mail user", "guestmailuser": "guest mail user"}
_KEYS = ("Identity", "Name", "DisplayName", "Alias", "PrimarySmtpAddress", "Guid", "ExternalDirectoryObjectId",
         "DistinguishedName", "UserPrincipalName", "WindowsEmailAddress")


@dataclass(frozen=True)
class Resolved:
    """What a recipient identity resolved to: an address and the kind of recipient, or why it did not."""

    address: str = ""
    kind: str = ""  # mail contact | mail user | guest mail user | mailbox
    why: str = ""  # set when `address` is '' (not found, ambiguous, or the listing was not collected)


def _smtp(value: Any) -> str:
    v = text(value).strip()
    return v.split(":", 1)[1].strip() if v.casefold().startswith("smtp:") else v


def _keys(obj: dict[str, Any]) -> set[str]:
    keys = {text(obj.get(k)).strip().casefold() for k in _KEYS}
    keys |= {_smtp(a).casefold() for a in as_list(obj.get("EmailAddresses")) if text(a).casefold().startswith("smtp:")}
    return {k for k in keys if k}


class RecipientDirectory:
    """Looks identities up among the collected mail contacts / mail users and mailboxes of one snapshot."""

    def __init__(self, t: Tables) -> None:
        self._index: dict[str, list[tuple[str, str, str]]] = {}  # key -> [(object id, address, kind)]
        contacts = t.data(RECIPIENTS)
        self.contacts_known = isinstance(contacts, list)
        self.gap = "" if self.contacts_known else t.why(RECIPIENTS)
        for obj in contacts if isinstance(contacts, list) else []:
            if isinstance(obj, dict):
                kind = _KIND.get(text(obj.get("RecipientTypeDetails")).casefold(), "mail recipient")
                self._add(obj, _smtp(obj.get("ExternalEmailAddress")), kind)
        for obj in t.data(MAILBOXES) or []:
            if isinstance(obj, dict):
                self._add(obj, _smtp(obj.get("PrimarySmtpAddress")), "mailbox")

    def _add(self, obj: dict[str, Any], address: str, kind: str) -> None:
        oid = text(obj.get("Guid") or obj.get("ExternalDirectoryObjectId") or obj.get("Identity"))
        for key in _keys(obj):
            self._index.setdefault(key, []).append((oid, address, kind))

    def delivered(self, address: str) -> Resolved | None:
        """Where mail sent to an SMTP address goes when the address is a mail contact's or mail user's: its
        ExternalEmailAddress ("Email messages sent to mail users are delivered to the specified external email
        address", New-MailUser) — though the address itself may sit in an accepted domain. None when it is a
        mailbox's address, not a collected recipient's, or the same as where mail goes."""
        key = address.strip().casefold()
        hits = {oid: (target, kind) for oid, target, kind in self._index.get(key, [])}
        if len(hits) != 1:
            return None
        target, kind = next(iter(hits.values()))
        if kind == "mailbox" or not target or target.casefold() == key:
            return None
        return Resolved(target, kind)

    def resolve(self, identity: str) -> Resolved:
        value = identity.strip()
        if not value:
            return Resolved(why="empty recipient")
        candidates = [value.casefold()]
        if "/" in value:  # a canonical name (…/Users/Billing Vendor): its last part is the recipient's name
            candidates.append(value.rsplit("/", 1)[1].strip().casefold())
        for key in candidates:
            hits = {oid: (address, kind) for oid, address, kind in self._index.get(key, [])}
            if len(hits) > 1:
                return Resolved(why=f"the name matches {len(hits)} recipients")
            if hits:
                address, kind = next(iter(hits.values()))
                if not address:
                    return Resolved(kind=kind, why=f"the {kind} has no external address")
                return Resolved(address, kind)
        if not self.contacts_known:
            return Resolved(why=f"mail contacts and mail users were not collected ({self.gap})")
        return Resolved(why="no mailbox, mail contact or mail user by that name was collected")
