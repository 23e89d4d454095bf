"""How tall a row must be for its wrapped text: lines from the text and the column width, height from the lines.

A spreadsheet file stores row heights; it does not compute them. Excel recomputes the height of a wrapped row
only when the row is edited, and LibreOffice keeps the default height for rows a file leaves unset, so wrapped
remediation text printed over the next row (issue 18). openpyxl cannot measure text, so this module does: it lays
the words out greedily, as both programs do, with the advance widths of Calibri (the workbook's font; Carlito,
its metric-compatible twin, stands in for it on Linux), in units of the width of the digit zero — the unit of a
column width. It errs on the tall side: a little white space under a row costs less than text cut off.

Cost: one measurement per distinct (text, width); the Findings sheet repeats its texts, so a cache makes a
100,000-row sheet cheap (see docs/reports.md for the measurement).
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

# Advance widths of Calibri 11 relative to the digit zero (the unit of Excel column widths), from the font's
# horizontal metrics (units per em 2048; digits are 1038). Characters not listed count as one digit; wide (East
# Asian) characters as two.
_NARROW = dict.fromkeys("il.,:;'!|I[]()j", 0.52)
_WIDTHS: dict[str, float] = {
    **dict.fromkeys("0123456789", 1.0),
    " ": 0.45, "f": 0.61, "t": 0.67, "r": 0.69, "s": 0.78, "c": 0.84, "z": 0.79, "J": 0.63,
    "a": 0.95, "e": 0.99, "g": 0.93, "k": 0.91, "v": 0.9, "x": 0.87, "y": 0.91,
    "b": 1.04, "d": 1.04, "h": 1.04, "n": 1.04, "o": 1.05, "p": 1.04, "q": 1.04, "u": 1.04,
    "m": 1.58, "w": 1.42, "L": 0.84, "F": 0.92, "E": 0.97, "T": 0.97, "S": 0.92, "Z": 0.93, "Y": 0.96,
    "P": 1.03, "B": 1.08, "R": 1.07, "K": 1.05, "X": 1.03, "C": 1.06, "A": 1.15, "V": 1.13,
    "D": 1.22, "G": 1.25, "H": 1.24, "N": 1.28, "U": 1.27, "O": 1.31, "Q": 1.33, "M": 1.69, "W": 1.76,
    "@": 1.72, "%": 1.39, "&": 1.37, "#": 0.98, "-": 0.6, "_": 0.98, "/": 0.75, "\\": 0.75, '"': 0.78,
    "`": 0.6, "<": 0.98, ">": 0.98, "=": 0.98, "+": 0.98, "*": 0.98, "~": 0.98, "?": 0.89, "$": 0.98,
    "{": 0.62, "}": 0.62, "—": 1.98, "–": 0.98, "…": 1.36, "×": 0.98, "÷": 0.98,
    **_NARROW,
}
# Kerning, hinting and the other program's rounding: measure every text a little wider than its advances.
SAFETY = 1.02
# Space a cell keeps free at its left and right edge, in digit widths (about 2-3 pixels each side).
CELL_PADDING = 1.0
LINE_HEIGHT_PT = 14.4  # one line of 11-point Calibri/Carlito, as Excel and LibreOffice lay it out
ROW_PADDING_PT = 1.6
DEFAULT_ROW_PT = 15.0
MAX_ROW_PT = 409.0  # the largest row height a spreadsheet file may store
BASE_SIZE = 11.0


def _char_width(ch: str) -> float:
    w = _WIDTHS.get(ch)
    if w is not None:
        return w
    return 1.95 if ord(ch) >= 0x1100 and unicodedata.east_asian_width(ch) in ("W", "F") else 1.0


class _Advances(dict[str, float]):
    """Advance width per character; a character not yet seen is looked up once and remembered."""

    def __missing__(self, ch: str) -> float:
        w = _char_width(ch)
        self[ch] = w
        return w


_ADVANCES = _Advances(_WIDTHS)
WIDEST = 2.0  # no character is wider than this many digit widths (the em dash is 1.98)


def text_width(text: str) -> float:
    """Width of `text` in digit widths (11-point Calibri)."""
    return sum(map(_ADVANCES.__getitem__, text)) * SAFETY


def _paragraph_lines(paragraph: str, room: float) -> int:
    if not paragraph:
        return 1
    if len(paragraph) * WIDEST * SAFETY <= room or text_width(paragraph) <= room:
        return 1  # fits on one line: the common case, decided without splitting into words
    lines = 1
    used = 0.0
    space = _WIDTHS[" "] * SAFETY
    for word in paragraph.split(" "):
        w = text_width(word)
        if w > room:  # a word longer than the line is broken across lines
            if used > 0:
                lines += 1
            extra = math.ceil(w / room)
            lines += extra - 1
            used = w - (extra - 1) * room
            continue
        needed = w if used == 0 else used + space + w
        if needed <= room:
            used = needed
        else:
            lines += 1
            used = w
    return lines


@lru_cache(maxsize=65536)
def wrapped_lines(text: str, width: float, size: float = BASE_SIZE, bold: bool = False) -> int:
    """Lines `text` takes in a wrapped cell `width` characters wide (Excel column-width units)."""
    scale = (size / BASE_SIZE) * (1.06 if bold else 1.0)
    room = max(width - CELL_PADDING, 1.0) / scale
    return sum(_paragraph_lines(p, room) for p in text.split("\n"))


def row_height(lines: int, size: float = BASE_SIZE) -> float:
    """Points for a row holding `lines` lines of text at `size` points (at least the default row height)."""
    if lines <= 1 and size <= BASE_SIZE:
        return DEFAULT_ROW_PT
    line = LINE_HEIGHT_PT * size / BASE_SIZE
    return min(MAX_ROW_PT, max(DEFAULT_ROW_PT, round(lines * line + ROW_PADDING_PT, 1)))
