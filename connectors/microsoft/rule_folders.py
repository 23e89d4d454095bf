"""Section `inboxRuleFolders`: name the folders inbox rules move or copy mail to.

Graph's messageRule gives `actions.moveToFolder` / `copyToFolder` only as an opaque folder id, so a rule that
files every 'invoice' mail into RSS Feeds (MITRE ATT&CK T1564.008) looks like ordinary filing. Each distinct folder
id is looked up once (`GET /beta/users/{id}/mailFolders/{folderId}`, beta for `wellKnownName`), through the
shared `$batch` layer, and only for users whose collected rules name a folder: a few requests per tenant, not one
per user.

The least privileged application permission for it is Mail.ReadBasic.All (Graph reference, "Get mailFolder",
permissions table); MailboxSettings.Read is not enough. It also lets the app read message headers in every
mailbox, so it is optional: without it the section is `forbidden` naming the permission, and the rule check
reports a suspicious-looking rule with an unnamed folder `unknown`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from connectors.microsoft.graph import GraphClient, split_ok
from connectors.microsoft.http import ApiError
from connectors.microsoft.recorder import SectionRecorder, subject_reason
from idaudit.core.snapshot import SectionStatus

SECTION = "inboxRuleFolders"
FOLDER_SELECT = "id,displayName,parentFolderId,isHidden,wellKnownName"
FOLDER_ACTIONS = ("moveToFolder", "copyToFolder")
_NOT_FOUND_CODES = {"erroritemnotfound", "itemnotfound", "resourcenotfound", "request_resourcenotfound"}


def archive_folders(mailbox_settings: Mapping[str, Any]) -> dict[str, str]:
    """user id -> the mailbox's archive folder id (mailboxSettings.archiveFolder): already named, never looked up."""
    return {str(uid): str(box["archiveFolder"]) for uid, box in mailbox_settings.items()
            if isinstance(box, dict) and isinstance(box.get("archiveFolder"), str) and box["archiveFolder"]}


def rule_folder_ids(rules_by_user: Mapping[str, Any], known: Mapping[str, str] | None = None
                    ) -> dict[str, list[str]]:
    """user id -> the distinct folder ids that user's inbox rules move or copy mail to (users with none left out),
    except each user's `known` folder (the archive folder mailboxSettings already names)."""
    out: dict[str, list[str]] = {}
    for uid, rules in rules_by_user.items():
        if not isinstance(rules, list):
            continue
        skip = (known or {}).get(str(uid))
        ids: dict[str, None] = {}
        for rule in rules:
            actions = rule.get("actions") if isinstance(rule, dict) else None
            if not isinstance(actions, dict):
                continue
            for key in FOLDER_ACTIONS:
                value = actions.get(key)
                if isinstance(value, str) and value.strip() and value != skip:
                    ids[value] = None
        if ids:
            out[str(uid)] = list(ids)
    return out


def _lookup_key(uid: str, fid: str) -> str:
    return f"{uid}\n{fid}"


def is_missing_folder(error: ApiError) -> bool:
    """404 for a folder id the mailbox no longer holds (the rule points at a deleted folder): a fact, not a failure."""
    return error.status == 404 and error.code.casefold() in _NOT_FOUND_CODES


async def collect_rule_folders(graph: GraphClient, rec: SectionRecorder, rules_by_user: Mapping[str, Any] | None,
                               rules_problem: str = "", *, known: Mapping[str, str] | None = None) -> None:
    """Record {user id: {folder id: folder or null}}; a user whose lookups failed is a failed subject.

    `known`: user id -> a folder already named elsewhere (the archive folder from mailboxSettings), not asked for:
    it is a quarter of all rule folders in the simulated tenants."""
    if rules_by_user is None:
        rec.progress.section_started(SECTION)
        rec.fail(SECTION, ApiError(0, "NotCollected", "inbox rules could not be read"), SectionStatus.ERROR,
                 detail=f"inbox rules could not be read{f' ({rules_problem})' if rules_problem else ''}, so the "
                        "folders they name are unknown")
        return
    wanted = rule_folder_ids(rules_by_user, known)
    paths = {_lookup_key(uid, fid): f"users/{uid}/mailFolders/{quote(fid, safe='')}?$select={FOLDER_SELECT}"
             for uid, fids in wanted.items() for fid in fids}
    rec.progress.section_started(SECTION, total=len(paths))
    results = await graph.batch(paths, version="beta", on_done=rec.progress.advance)
    ok, failed = split_ok(results)
    data: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    for uid, fids in wanted.items():
        folders: dict[str, Any] = {}
        for fid in fids:
            key = _lookup_key(uid, fid)
            if key in ok:
                body = ok[key]
                folders[fid] = ({k: v for k, v in body.items() if k != "@odata.context"}
                                if isinstance(body, dict) else body)
            elif is_missing_folder(failed[key]):
                folders[fid] = None
            else:
                failures.setdefault(uid, subject_reason(failed[key]))
        if uid not in failures:
            data[uid] = folders
    if wanted and not data:
        # Nobody's folder could be read: a permission problem of the section (403 without Mail.ReadBasic.All).
        rec.fail(SECTION, next(e for e in failed.values() if not is_missing_folder(e)))
        return
    rec.ok(SECTION, data, failed_subjects=failures,
           detail=f"{len(paths)} folder lookups for {len(wanted)} users whose rules name a folder")
