"""Untrusted text made safe for each output: spreadsheet cell, CSV field, HTML, terminal.

Display names, rule names and app names are chosen by whoever controls the account — after a phishing, the
attacker. They must arrive in the report as inert text: a display name `=HYPERLINK("http://evil","Open")` must
not become a live formula, a rule name with a right-to-left override must not disguise the text around it, and
a control character must not corrupt the file or the terminal. Every writer in `reports/` passes text through
one of the functions here.
"""

from __future__ import annotations

import html
import math
import re
from datetime import UTC, date, datetime
from typing import Any

# Cell text is truncated well below Excel's hard limit of 32,767 characters: a 30k evidence string helps nobody
# and slows every reader down. The marker says it was cut so the reader knows to look at the JSON export.
CELL_LIMIT = 10_000
TRUNCATION_MARKER = " …[truncated: {n} characters in total]"

# Unicode bidirectional controls (Trojan Source, CVE-2021-42574) and other invisible format characters that can
# make a name read differently from what it is.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")

# Characters a spreadsheet program treats as the start of a formula when it opens a CSV file (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

# openpyxl would store these strings as error cells rather than text.
SPREADSHEET_ERROR_CODES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"})


def _visible(ch: str) -> str:
    """A visible stand-in for an invisible or dangerous character."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: U+0007 -> ␇
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"[U+{code:04X}]"


def _needs_cleaning(ch: str, keep_newlines: bool) -> bool:
    code = ord(ch)
    if ch == "\n":
        return not keep_newlines
    return code < 0x20 or 0x7F <= code <= 0x9F or ch in BIDI_CONTROLS or ch in INVISIBLE


_DANGEROUS = re.compile("[\u0000-\u0009\u000b-\u001f\u007f-\u009f" + "".join(sorted(BIDI_CONTROLS | INVISIBLE)) + "]")


def clean_text(value: object, *, keep_newlines: bool = True) -> str:
    """Replace control, bidi and invisible characters by visible markers; everything else is kept.

    Newlines are kept by default (evidence spans lines); terminal output asks for them to be replaced too.
    """
    text = "" if value is None else str(value)
    if not keep_newlines and "\n" in text:
        text = text.replace("\n", _visible("\n"))
    if _DANGEROUS.search(text) is None:
        return text
    return "".join(_visible(ch) if _needs_cleaning(ch, keep_newlines) else ch for ch in text)


def truncate(text: str, limit: int = CELL_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + TRUNCATION_MARKER.format(n=len(text))


def cell_text(value: object) -> str:
    """Text for a spreadsheet cell: cleaned and truncated. The writer must still store it with the string type."""
    return truncate(clean_text(value))


def needs_forced_string(text: str) -> bool:
    """True when openpyxl would not store `text` as a plain string cell on its own."""
    return text.startswith("=") or text in SPREADSHEET_ERROR_CODES


def csv_text(value: object) -> str:
    """A CSV field: cleaned, and prefixed with a quote when a spreadsheet would read it as a formula."""
    raw = "" if value is None else str(value)
    text = clean_text(raw)
    if raw.startswith(FORMULA_PREFIXES) or text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def html_text(value: object) -> str:
    """Escaped HTML text (quotes included, so it is also safe inside attribute values)."""
    return html.escape(clean_text(value), quote=True)


def terminal_text(value: object) -> str:
    """One line of terminal output: no escape sequences, no newlines, no bidi tricks."""
    text = clean_text(value, keep_newlines=False)
    return "".join(ch if ch.isprintable() else _visible(ch) for ch in text)


def naive_utc(value: datetime) -> datetime:
    """Spreadsheets have no time zones: convert an aware datetime to UTC and drop the zone (naive = UTC)."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def is_missing(value: Any) -> bool:
    """None, NaN, NaT and pandas NA all mean "no value"."""
    if value is None:
        return True
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    return isinstance(value, float) and math.isnan(value)


def plain_value(value: Any) -> Any:
    """A cell-ready value: numbers and booleans as they are, times as naive UTC, everything else cleaned text."""
    if is_missing(value):
        return None
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):  # pandas Timestamp is a datetime subclass
        return naive_utc(value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)
    if isinstance(value, date):
        return value
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return plain_value(value.item())
    return cell_text(value)
