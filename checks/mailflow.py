"""Vectorised helpers for the mail checks: place every forwarding recipient inside or outside, fold recipients
into one verdict per rule or mailbox, and spot the markers of an attacker's hiding rule.

Kept apart from checks/mail.py so the check definitions stay readable; everything here works on whole columns
(a tenant can hold tens of thousands of rules).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from checks.common import (
    FAIL,
    HIGH,
    INSIDE,
    MEDIUM,
    OUTSIDE,
    PASS,
    UNDECIDED,
    UNKNOWN,
    InsideDomains,
    classify_recipients,
    meaningless_name,
    partner_recipients,
)
from checks.hiding_words import HIDING_WORDS

UNREAD_FOLDERS = ("rss feeds", "rss subscriptions", "conversation history")


def place(recipients: pd.DataFrame, inside: InsideDomains) -> pd.DataFrame:
    """Adds `where` (inside / outside / unknown) and a readable `shown` to each recipient row."""
    out = recipients.copy()
    out["where"] = classify_recipients(out["recipient"], out["recipient_domain"], inside)
    partner = partner_recipients(out["recipient"], out["recipient_domain"], inside)
    note = out["where"].map({OUTSIDE: "outside", UNDECIDED: "no SMTP address: cannot tell inside or outside",
                             INSIDE: "inside"}).astype(str)
    note = note.where(~((out["where"] == INSIDE) & partner), "trusted partner domain")
    name = out["recipient"].where(out["recipient"].str.strip() != "", "(empty recipient)")
    out["shown"] = "'" + name + "' (" + note + ")"
    return out


def verdicts(placed: pd.DataFrame, keys: list[str], part: pd.Series, disabled_note: str | pd.Series,
             active: pd.Series | None = None) -> pd.DataFrame:
    """One row per `keys` group: status, confidence, joined evidence parts, enabled flag, first rule name.

    A group fails when an active member sends outside; an inactive one that would (a disabled rule, a transport
    rule in test mode) is a pass with medium confidence (visible, not leaking now) and says why with
    `disabled_note` (one text, or one per row: the group's first); a recipient that cannot be placed makes an
    active group unknown, never pass. `active` defaults to the `enabled` column (unknown counts as enabled).
    """
    frame = placed[keys].copy()
    frame["part"] = part.to_numpy()
    frame["out"] = (placed["where"] == OUTSIDE).to_numpy()
    frame["und"] = (placed["where"] == UNDECIDED).to_numpy()
    on = placed["enabled"].fillna(True).astype(bool) if active is None else active
    frame["on"] = on.to_numpy()
    frame["note"] = disabled_note.to_numpy() if isinstance(disabled_note, pd.Series) else disabled_note
    frame["name"] = placed["rule_name"].to_numpy() if "rule_name" in placed else ""
    grouped = frame.groupby(keys, sort=True)
    res = grouped.agg(out=("out", "any"), und=("und", "any"), on=("on", "any"), name=("name", "first"),
                      note=("note", "first"))
    res["evidence"] = grouped["part"].agg(lambda s: "; ".join(dict.fromkeys(s)))
    res = res.reset_index()
    res["status"] = np.select([res["out"] & res["on"], res["und"] & res["on"]], [FAIL, UNKNOWN], PASS)
    res["confidence"] = np.where((res["out"] | res["und"]) & ~res["on"], MEDIUM, HIGH)
    res["evidence"] = res["evidence"] + np.where(res["on"], "", res["note"])
    return res


def grouped_parts(placed: pd.DataFrame, keys: list[str], how: pd.Series) -> pd.Series:
    """'forwards to 'a' (outside), 'b' (inside)' per (keys, how): recipients of the same action on one line."""
    frame = placed[keys].copy()
    frame["how"] = how.to_numpy()
    frame["shown"] = placed["shown"].to_numpy()
    joined = frame.groupby([*keys, "how"], sort=False)["shown"].agg(", ".join).rename("joined").reset_index()
    merged = frame.merge(joined, on=[*keys, "how"], how="left")
    return pd.Series((merged["how"] + " " + merged["joined"]).to_numpy(), index=placed.index)


def _append(acc: pd.Series, piece: pd.Series) -> pd.Series:
    sep = np.where((acc != "") & (piece != ""), "; ", "")
    return acc + sep + piece


def hiding_markers(rules: pd.DataFrame) -> pd.Series:
    """Why each hiding rule looks like an attacker's: suspicious words, meaningless name, unread folder, ..."""
    names = rules["rule_name"].astype(str)
    conditions = rules["conditions"].astype(str)
    action = rules["hide_action"].astype(str).str.casefold().str.strip()
    found = (names + " " + conditions).str.findall(HIDING_WORDS.regex)
    words = found.map(lambda hits: ", ".join(sorted({HIDING_WORDS.base(h) for h in hits})))
    idx = rules.index
    empty = pd.Series("", index=idx, dtype="str")
    markers = empty.copy()
    markers = _append(markers, ("matches words attackers hide: " + words).where(words != "", ""))
    meaningless = names.map(meaningless_name).astype(bool)
    markers = _append(markers, ("meaningless rule name '" + names + "'").where(meaningless, ""))
    moves = action.str.startswith("move_to:")
    folder = action.str.replace(r"^move_to:\s*", "", regex=True).where(moves, "")
    unread = folder.isin(UNREAD_FOLDERS)
    markers = _append(markers, ("moves mail to '" + folder + "', a folder nobody reads").where(unread, ""))
    if "folder_hidden" in rules:  # Graph isHidden: the folder does not show in Outlook at all
        hidden = rules["folder_hidden"].fillna(False).astype(bool) & moves
        target = rules["target_folder"].astype(str) if "target_folder" in rules else empty
        markers = _append(markers, ("moves mail to hidden folder '" + target + "'").where(hidden, ""))
    markers = _append(markers, pd.Series(np.where(action == "permanent_delete", "permanently deletes mail", ""),
                                         index=idx))
    # a move to a folder that could not be named is still an action on every message when nothing narrows it
    unnamed = rules["folder_unresolved"].astype(str).str.strip() != "" if "folder_unresolved" in rules else False
    every = (conditions.str.strip() == "") & ((action != "") | unnamed)
    markers = _append(markers, pd.Series(np.where(every, "applies to every incoming message", ""), index=idx))
    forwards = rules["forwards"].fillna(False).astype(bool)
    markers = _append(markers, pd.Series(np.where(forwards, "also forwards mail", ""), index=idx))
    return markers

