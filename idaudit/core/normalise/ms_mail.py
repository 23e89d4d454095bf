"""Microsoft mail flow -> `mail_rules` and `forwarding`.

Sources: inbox rules (Graph messageRule: actions forwardTo / forwardAsAttachmentTo / redirectTo hold recipient
objects {"emailAddress": {"name", "address"}}; delete, permanentDelete, moveToFolder, markAsRead), mailbox-level
forwarding (Exchange Get-Mailbox ForwardingSmtpAddress "smtp:x@y" / ForwardingAddress, resolved by
ms_recipients.py / DeliverToMailboxAndForward) and transport rules (ms_transport.py: every action that adds a recipient, one row per
recipient with user_id '').

Graph gives a rule's target folder only as an opaque id. It is named from, in order: a folder name standing in for
the id (exports from Get-InboxRule carry names), the mailbox's archive folder (mailboxSettings.archiveFolder), and
the `inboxRuleFolders` section (beta mailFolder: displayName, wellKnownName, isHidden; needs the optional
Mail.ReadBasic.All). A move to RSS Feeds / RSS Subscriptions / Conversation History / Archive / Deleted Items /
Junk Email or to a hidden folder hides mail. A folder that could not be named keeps the reason in
`folder_unresolved` (the rule check reports such a rule, while enabled, `unknown`: it may be RSS Feeds).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idaudit.core.normalise.availability import built, failed_subjects
from idaudit.core.normalise.ms_context import Tables, as_list, text
from idaudit.core.normalise.ms_recipients import RECIPIENTS, RecipientDirectory
from idaudit.core.normalise.ms_transport import transport_rows
from idaudit.core.sections import section_spec

FORWARD_ACTIONS = {"forwardTo": "inbox_rule_forward", "forwardAsAttachmentTo": "inbox_rule_forward_attachment",
                   "redirectTo": "inbox_rule_redirect"}
RULE_VERBS = {"forwardTo": "forwards to", "forwardAsAttachmentTo": "forwards as attachment to",
              "redirectTo": "redirects to"}  # `how`, set only when the address stands for another (a mail user)
# Folders nobody reads: a rule moving mail there hides it (names as Outlook shows them, and Graph well-known names).
HIDING_FOLDERS = {"rss feeds": "RSS Feeds", "rss subscriptions": "RSS Subscriptions", "rssfeeds": "RSS Feeds",
                  "archive": "Archive", "deleted items": "Deleted Items", "deleteditems": "Deleted Items",
                  "conversation history": "Conversation History", "conversationhistory": "Conversation History",
                  "junk email": "Junk Email", "junkemail": "Junk Email", "junk": "Junk Email"}
# Graph well-known names (beta mailFolder.wellKnownName, the same whatever the mailbox's language) of folders that
# hide mail. RSS Feeds has no well-known name: it is recognised by its display name.
WELL_KNOWN_HIDING = {"archive": "Archive", "deleteditems": "Deleted Items", "junkemail": "Junk Email",
                     "conversationhistory": "Conversation History",
                     "recoverableitemsdeletions": "Recoverable Items Deletions"}
FOLDER_SECTION = "inboxRuleFolders"
CONDITION_KEYS = ("subjectContains", "bodyContains", "bodyOrSubjectContains", "senderContains", "recipientContains",
                  "headerContains", "fromAddresses", "sentToAddresses", "importance", "sensitivity",
                  "hasAttachments", "isAutomaticReply", "messageActionFlag", "sentToMe", "sentOnlyToMe",
                  "sentCcMe", "sentToOrCcMe", "notSentToMe", "isEncrypted", "isMeetingRequest", "withinSizeRange")


def _address(recipient: Any) -> str:
    if isinstance(recipient, dict):
        email = recipient.get("emailAddress")
        if isinstance(email, dict):
            return text(email.get("address") or email.get("name")).strip()
        return text(recipient.get("address")).strip()
    return text(recipient).strip()


def domain_of(address: str) -> str:
    address = address.strip().strip("<>")
    return address.rsplit("@", 1)[1].strip().casefold() if "@" in address else ""


def _conditions(cond: Any) -> str:
    if not isinstance(cond, dict):
        return ""
    parts = []
    for key in CONDITION_KEYS:
        value = cond.get(key)
        if value in (None, False, [], ""):
            continue
        if isinstance(value, list):
            shown = ", ".join(_address(v) if isinstance(v, dict) else text(v) for v in value)
        else:
            shown = text(value)
        parts.append(f"{key}: {shown}")
    return "; ".join(parts)


def _rule_conditions(rule: dict[str, Any]) -> str:
    text_ = _conditions(rule.get("conditions"))
    exceptions = _conditions(rule.get("exceptions"))
    return f"{text_}; except {exceptions}" if exceptions else text_


@dataclass(frozen=True)
class RuleFolder:
    """What is known about the folder a rule action files mail into."""

    name: str = ""  # display name ('' when it could not be named)
    hidden: bool | None = None  # Graph isHidden; None when not known
    hiding: bool = False  # a folder nobody reads, or hidden from mail clients
    unresolved: str = ""  # why it could not be named ('' when named)
    kind: str = ""  # the English name of a well-known hiding folder ('Conversation History'), whatever the language


class FolderNames:
    """Names rule folder ids for one snapshot: archive folder, name-like ids, then the inboxRuleFolders section."""

    def __init__(self, t: Tables) -> None:
        self.folders = t.per_user(FOLDER_SECTION)
        self.failed = failed_subjects(t.snap, FOLDER_SECTION) if self.folders is not None else {}
        spec = section_spec("microsoft", FOLDER_SECTION)
        grant = f"grant {spec.permission.split(' (')[0]} (application) to name it" if spec else ""
        rec = t.snap.section(FOLDER_SECTION)
        if rec is None:
            self.gap = f"rule folders were not collected (snapshot without {FOLDER_SECTION}); {grant}"
        elif self.folders is None:
            self.gap = f"{FOLDER_SECTION} {rec.status.value}: {grant}"
        else:
            self.gap = ""

    def resolve(self, user_id: str, folder_id: str, archive_folder: str) -> RuleFolder:
        if not folder_id:
            return RuleFolder()
        known = HIDING_FOLDERS.get(folder_id.casefold())
        if known:
            return RuleFolder(known, None, True, kind=known)
        if archive_folder and folder_id == archive_folder:
            return RuleFolder("Archive", None, True, kind="Archive")
        if self.folders is None:
            return RuleFolder(unresolved=self.gap)
        if user_id in self.failed:
            return RuleFolder(unresolved=f"the folder lookup failed ({self.failed[user_id]})")
        mine = self.folders.get(user_id)
        if not isinstance(mine, dict) or folder_id not in mine:
            return RuleFolder(unresolved="the folder was not looked up")
        folder = mine[folder_id]
        if not isinstance(folder, dict):
            return RuleFolder(unresolved="the folder does not exist in the mailbox (404)")
        hidden = folder.get("isHidden") if isinstance(folder.get("isHidden"), bool) else None
        well_known = text(folder.get("wellKnownName")).casefold()
        name = text(folder.get("displayName")).strip() or WELL_KNOWN_HIDING.get(well_known, "")
        if not name:
            return RuleFolder(hidden=hidden, hiding=bool(hidden), unresolved="the folder has no display name")
        kind = WELL_KNOWN_HIDING.get(well_known) or HIDING_FOLDERS.get(name.casefold(), "")
        return RuleFolder(name, hidden, bool(kind) or hidden is True, kind=kind)


def _shown(folder: RuleFolder, folder_id: str) -> str:
    if folder.name:
        return folder.name + (" (hidden folder)" if folder.hidden else "")
    short = folder_id[:12] + "..." if len(folder_id) > 16 else folder_id
    return f"folder id {short} (not named: {folder.unresolved})"


def _hide_action(actions: dict[str, Any], move: RuleFolder) -> str:
    if actions.get("permanentDelete"):
        return "permanent_delete"
    if actions.get("delete"):
        return "delete"
    if move.hiding:
        return f"move_to:{move.kind or move.name or 'hidden folder'}"
    if actions.get("markAsRead"):
        return "mark_read"
    return ""


def _action_names(actions: dict[str, Any], folders: dict[str, RuleFolder]) -> list[str]:
    names = []
    for key, value in actions.items():
        if value in (None, False, [], ""):
            continue
        if key in ("moveToFolder", "copyToFolder"):
            names.append(f"{key}: {_shown(folders[key], text(value))}")
        else:
            names.append(key)
    return names


def _mailbox_forwarding(mb: dict[str, Any], directory: RecipientDirectory) -> list[dict[str, Any]]:
    """ForwardingSmtpAddress ('smtp:x@y') and ForwardingAddress (a recipient named by identity, resolved to the
    address it stands for: a mail contact's external address is outside, a mailbox's is inside)."""
    uid = text(mb.get("ExternalDirectoryObjectId"))
    keep = mb.get("DeliverToMailboxAndForward")
    out = []
    for field in ("ForwardingSmtpAddress", "ForwardingAddress"):
        value = text(mb.get(field)).strip()
        if not value:
            continue
        addr = value.split(":", 1)[1] if value.casefold().startswith("smtp:") else value
        how = f"mailbox forwarding ({field}) to"
        addr, via = _delivered(addr, directory)
        if via:
            how = f"mailbox forwarding ({field}) to {via}"
        elif field == "ForwardingAddress":
            found = directory.resolve(value)
            if found.address:
                addr, how = found.address, f"mailbox forwarding (ForwardingAddress: {found.kind} '{value}') to"
            else:
                how = f"mailbox forwarding (ForwardingAddress not resolved: {found.why}) to"
        out.append({"user_id": uid, "mechanism": "mailbox_forwarding", "rule_id": field,
                    "rule_name": f"mailbox {field}", "enabled": True, "recipient": addr,
                    "recipient_domain": domain_of(addr) if "@" in addr else "",
                    "keeps_copy": keep if isinstance(keep, bool) else None, "how": how})
    return out


def _delivered(addr: str, directory: RecipientDirectory) -> tuple[str, str]:
    """(where mail to `addr` goes, 'mail user 'addr', delivered to' or ''): a mail user's or mail contact's own
    address, even in an accepted domain, delivers to its external address (docs/semantics.md)."""
    found = directory.delivered(addr) if "@" in addr else None
    if found is None:
        return addr, ""
    return found.address, f"{found.kind} '{addr}', delivered to"


def _resolved_address(recipient: Any, directory: RecipientDirectory) -> str:
    """A transport-rule recipient as an address: given as one (a mail user's or contact's address standing for
    where it delivers), or named by identity and resolved when possible."""
    addr = _address(recipient)
    if not addr:
        return addr
    if "@" in addr:
        return _delivered(addr, directory)[0]
    found = directory.resolve(addr)
    return found.address or addr


def mail_tables(t: Tables) -> None:
    rules_raw = t.per_user("inboxRules")
    settings = t.per_user("mailboxSettings") or {}
    rule_rows: list[dict[str, Any]] = []
    fwd_rows: list[dict[str, Any]] = []
    gaps: list[str] = []
    missing_subjects: dict[str, str] = {}
    sections = ("inboxRules", "exchange.mailboxes", "exchange.transportRules", RECIPIENTS)

    directory = RecipientDirectory(t)
    if rules_raw is not None:
        missing_subjects = failed_subjects(t.snap, "inboxRules")
        names = FolderNames(t)
        for uid in t.user_ids:
            if uid not in rules_raw and uid not in missing_subjects:
                missing_subjects[uid] = "inboxRules: no entry for this user in the snapshot"
        for uid, rules in rules_raw.items():
            if uid in missing_subjects or not isinstance(rules, list):
                continue  # null: no mailbox, nothing to forward
            box = settings.get(uid)
            archive = text(box.get("archiveFolder")) if isinstance(box, dict) else ""
            for r in rules:
                if not isinstance(r, dict):
                    continue
                actions: dict[str, Any] = r["actions"] if isinstance(r.get("actions"), dict) else {}
                enabled = r.get("isEnabled") if isinstance(r.get("isEnabled"), bool) else None
                rid, name = text(r.get("id")), text(r.get("displayName"))
                forwards = False
                for key, mechanism in FORWARD_ACTIONS.items():
                    for rec in as_list(actions.get(key)):
                        addr = _address(rec)
                        if not addr:
                            continue
                        forwards = True
                        addr, via = _delivered(addr, directory)
                        fwd_rows.append({"user_id": uid, "mechanism": mechanism, "rule_id": rid, "rule_name": name,
                                         "enabled": enabled, "recipient": addr, "recipient_domain": domain_of(addr),
                                         "keeps_copy": not (actions.get("delete") or actions.get("permanentDelete")),
                                         "how": f"{RULE_VERBS[key]} {via}" if via else ""})
                folders = {key: names.resolve(uid, text(actions.get(key)), archive)
                           for key in ("moveToFolder", "copyToFolder")}
                move = folders["moveToFolder"]
                target = move if text(actions.get("moveToFolder")) else folders["copyToFolder"]
                hide = _hide_action(actions, move)
                rule_rows.append({"user_id": uid, "rule_id": rid, "rule_name": name, "enabled": enabled,
                                  "source": "inbox_rule", "actions": "; ".join(_action_names(actions, folders)),
                                  "conditions": _rule_conditions(r), "forwards": forwards,
                                  "hides_mail": bool(hide), "hide_action": hide, "target_folder": target.name,
                                  "folder_hidden": target.hidden, "folder_unresolved": move.unresolved})
        t.put("mail_rules", rule_rows, built(("inboxRules", "mailboxSettings", FOLDER_SECTION), missing_subjects))
    else:
        t.missing("mail_rules", "inboxRules")
        gaps.append(f"inbox rules not collected ({t.why('inboxRules')})")

    mailboxes = t.data("exchange.mailboxes")
    if isinstance(mailboxes, list):
        for mb in mailboxes:
            if isinstance(mb, dict):
                fwd_rows.extend(_mailbox_forwarding(mb, directory))
    else:
        gaps.append(f"mailbox forwarding not collected ({t.why('exchange.mailboxes')})")

    transport = t.data("exchange.transportRules")
    if isinstance(transport, list):
        fwd_rows.extend(transport_rows(transport, lambda rec: _resolved_address(rec, directory), domain_of))
    else:
        gaps.append(f"transport rules not collected ({t.why('exchange.transportRules')})")

    if len(gaps) == 3:
        t.missing("forwarding", *sections, reason="; ".join(gaps))
    else:
        t.put("forwarding", fwd_rows, built(sections, missing_subjects, gaps))
