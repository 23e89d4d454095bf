"""Microsoft mail flow -> `mail_rules` and `forwarding`.

Sources: inbox rules (Graph messageRule: actions forwardTo / forwardAsAttachmentTo / redirectTo hold recipient
objects {"emailAddress": {"name", "address"}}; delete, permanentDelete, moveToFolder, markAsRead), mailbox-level
forwarding (Exchange Get-Mailbox ForwardingSmtpAddress "smtp:x@y" / ForwardingAddress /
DeliverToMailboxAndForward) and transport rules (Get-TransportRule RedirectMessageTo / BlindCopyTo / CopyTo, one
row per recipient with user_id '').

Graph gives a rule's target folder only as an opaque id: it is resolved to a name when it is the mailbox's archive
folder (mailboxSettings.archiveFolder) or a well-known folder name (exports from Get-InboxRule carry names);
otherwise the action is kept as `move_to:folder id ...` and does not by itself count as hiding mail.
"""

from __future__ import annotations

from typing import Any

from idaudit.normalise.availability import built, failed_subjects
from idaudit.normalise.ms_context import Tables, as_list, text

FORWARD_ACTIONS = {"forwardTo": "inbox_rule_forward", "forwardAsAttachmentTo": "inbox_rule_forward_attachment",
                   "redirectTo": "inbox_rule_redirect"}
# Folders nobody reads: a rule moving mail there hides it (names as Outlook shows them, and Graph well-known names).
HIDING_FOLDERS = {"rss feeds": "RSS Feeds", "rss subscriptions": "RSS Subscriptions", "rssfeeds": "RSS Feeds",
                  "archive": "Archive", "deleted items": "Deleted Items", "deleteditems": "Deleted Items",
                  "conversation history": "Conversation History", "conversationhistory": "Conversation History",
                  "junk email": "Junk Email", "junkemail": "Junk Email", "junk": "Junk Email"}
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


def _hide_action(actions: dict[str, Any], archive_folder: str) -> str:
    if actions.get("permanentDelete"):
        return "permanent_delete"
    if actions.get("delete"):
        return "delete"
    folder = text(actions.get("moveToFolder"))
    if folder:
        name = "Archive" if archive_folder and folder == archive_folder else HIDING_FOLDERS.get(folder.casefold())
        if name:
            return f"move_to:{name}"
    if actions.get("markAsRead"):
        return "mark_read"
    return ""


def _action_names(actions: dict[str, Any], archive_folder: str) -> list[str]:
    names = []
    for key, value in actions.items():
        if value in (None, False, [], ""):
            continue
        if key in ("moveToFolder", "copyToFolder"):
            folder = text(value)
            known = "Archive" if archive_folder and folder == archive_folder else HIDING_FOLDERS.get(folder.casefold())
            names.append(f"{key}: {known or ('folder id ' + folder[:12] + '...' if len(folder) > 16 else folder)}")
        else:
            names.append(key)
    return names


def mail_tables(t: Tables) -> None:
    rules_raw = t.per_user("inboxRules")
    settings = t.per_user("mailboxSettings") or {}
    rule_rows: list[dict[str, Any]] = []
    fwd_rows: list[dict[str, Any]] = []
    gaps: list[str] = []
    missing_subjects: dict[str, str] = {}
    sections = ("inboxRules", "exchange.mailboxes", "exchange.transportRules")

    if rules_raw is not None:
        missing_subjects = failed_subjects(t.snap, "inboxRules")
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
                        fwd_rows.append({"user_id": uid, "mechanism": mechanism, "rule_id": rid, "rule_name": name,
                                         "enabled": enabled, "recipient": addr, "recipient_domain": domain_of(addr),
                                         "keeps_copy": not (actions.get("delete") or actions.get("permanentDelete"))})
                hide = _hide_action(actions, archive)
                rule_rows.append({"user_id": uid, "rule_id": rid, "rule_name": name, "enabled": enabled,
                                  "source": "inbox_rule", "actions": "; ".join(_action_names(actions, archive)),
                                  "conditions": _rule_conditions(r), "forwards": forwards,
                                  "hides_mail": bool(hide), "hide_action": hide})
        t.put("mail_rules", rule_rows, built(("inboxRules", "mailboxSettings"), missing_subjects))
    else:
        t.missing("mail_rules", "inboxRules")
        gaps.append(f"inbox rules not collected ({t.why('inboxRules')})")

    mailboxes = t.data("exchange.mailboxes")
    if isinstance(mailboxes, list):
        for mb in mailboxes:
            if not isinstance(mb, dict):
                continue
            uid = text(mb.get("ExternalDirectoryObjectId"))
            keep = mb.get("DeliverToMailboxAndForward")
            for field in ("ForwardingSmtpAddress", "ForwardingAddress"):
                value = text(mb.get(field)).strip()
                if not value:
                    continue
                addr = value.split(":", 1)[1] if value.casefold().startswith("smtp:") else value
                # ForwardingAddress names a recipient object (often a mail contact): its domain is unknown here.
                fwd_rows.append({"user_id": uid, "mechanism": "mailbox_forwarding", "rule_id": field,
                                 "rule_name": f"mailbox {field}", "enabled": True, "recipient": addr,
                                 "recipient_domain": domain_of(addr),
                                 "keeps_copy": keep if isinstance(keep, bool) else None})
    else:
        gaps.append(f"mailbox forwarding not collected ({t.why('exchange.mailboxes')})")

    transport = t.data("exchange.transportRules")
    if isinstance(transport, list):
        for tr in transport:
            if not isinstance(tr, dict):
                continue
            state = text(tr.get("State")).casefold()
            for field, keeps in (("RedirectMessageTo", False), ("BlindCopyTo", True), ("CopyTo", True)):
                for rec in as_list(tr.get(field)):
                    addr = _address(rec)
                    if addr:
                        fwd_rows.append({"user_id": "", "mechanism": "transport_rule",
                                         "rule_id": text(tr.get("Guid") or tr.get("Identity")),
                                         "rule_name": text(tr.get("Name") or tr.get("Identity")),
                                         "enabled": state == "enabled" if state else None, "recipient": addr,
                                         "recipient_domain": domain_of(addr), "keeps_copy": keeps})
    else:
        gaps.append(f"transport rules not collected ({t.why('exchange.transportRules')})")

    if len(gaps) == 3:
        t.missing("forwarding", *sections, reason="; ".join(gaps))
    else:
        t.put("forwarding", fwd_rows, built(sections, missing_subjects, gaps))
