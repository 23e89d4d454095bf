"""Streaming sheet writer: every sheet of the workbook goes through here, in openpyxl's write-only mode.

Write-only mode streams rows to disk, so a 100,000-finding workbook stays within tens of megabytes of memory
(see docs/reports.md for the measurement). The price is that a row cannot be touched once written: column
widths, the frozen header, the auto-filter and data validation are set up front.

The one rule this module exists for: untrusted text is always stored as a string cell. openpyxl turns a str that
starts with "=" into a formula and "#N/A" into an error value; `SheetWriter.row` forces those to plain strings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reports.textsafe import needs_forced_string, plain_value

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")

SEVERITY_FILLS = {
    "critical": PatternFill("solid", fgColor="C00000"),
    "high": PatternFill("solid", fgColor="FF7C80"),
    "medium": PatternFill("solid", fgColor="FFC000"),
    "low": PatternFill("solid", fgColor="FFF2CC"),
    "info": PatternFill("solid", fgColor="DDEBF7"),
}
SEVERITY_FONTS = {"critical": Font(bold=True, color="FFFFFF")}
STATUS_FILLS = {
    "fail": PatternFill("solid", fgColor="F8CBAD"),
    "unknown": PatternFill("solid", fgColor="D9D9D9"),
    "waived": PatternFill("solid", fgColor="E4DFEC"),
    "pass": PatternFill("solid", fgColor="C6EFCE"),
    "not_applicable": PatternFill("solid", fgColor="F2F2F2"),
}
DATE_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14
    wrap: bool = False


@dataclass(frozen=True)
class Styled:
    """A value with a style, for the odd cell that needs one (severity colour, bold label)."""

    value: Any
    font: Font | None = None
    fill: PatternFill | None = None
    wrap: bool = False
    number_format: str | None = None


def severity_cell(severity: str) -> Styled:
    return Styled(severity, font=SEVERITY_FONTS.get(severity), fill=SEVERITY_FILLS.get(severity))


def status_cell(status: str) -> Styled:
    return Styled(status, fill=STATUS_FILLS.get(status))


@dataclass(frozen=True)
class ForcedText:
    """Cleaned text openpyxl would store as a formula or error value: written as an explicit string cell."""

    text: str


def _prepare(value: Any) -> Any:
    v = plain_value(value)
    if isinstance(v, str):
        if not v:
            return None  # an empty cell, not an empty string: cheaper, and reads the same
        if needs_forced_string(v):
            return ForcedText(v)
    return v


def prepare_column(values: Sequence[Any]) -> list[Any]:
    """Clean a whole column once per distinct value (check ids, titles and statuses repeat on every row)."""
    cache: dict[Any, Any] = {}
    out = []
    for v in values:
        try:
            hit = cache[v]
        except (KeyError, TypeError):
            hit = _prepare(v)
            with contextlib.suppress(TypeError):  # unhashable values are simply not cached
                cache[v] = hit
        out.append(hit)
    return out


def colour_rules(ws: WriteOnlyWorksheet, column: str, last_row: int, fills: dict[str, PatternFill],
                 fonts: dict[str, Font] | None = None) -> None:
    """Colour a column by its value with conditional formatting: no per-cell style, and the colour follows
    the value if the reader edits it."""
    from openpyxl.formatting.rule import CellIsRule

    rng = f"{column}2:{column}{max(last_row, 2)}"
    for value, fill in fills.items():
        colour = fill.fgColor.rgb
        dxf_fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
        font = (fonts or {}).get(value)
        ws.conditional_formatting.add(rng, CellIsRule(operator="equal", formula=[f'"{value}"'], fill=dxf_fill,
                                                      font=font))


class SheetWriter:
    """Rows into one write-only worksheet, counting them so callers can place charts and ranges."""

    def __init__(self, wb: Workbook, title: str, columns: Sequence[Column] = (), *, freeze_header: bool = False,
                 auto_filter: bool = False) -> None:
        self.ws: WriteOnlyWorksheet = wb.create_sheet(title)
        self.title = title
        self.rows_written = 0
        self.columns = tuple(columns)
        self._wrap_cols = {i for i, c in enumerate(self.columns) if c.wrap}
        for i, col in enumerate(self.columns, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = col.width
        if freeze_header:
            self.ws.freeze_panes = "A2"
        self._auto_filter = auto_filter

    def header(self) -> None:
        """Write the column headers as the first row (call before any other row)."""
        self.row([Styled(c.header, font=HEADER_FONT, fill=HEADER_FILL) for c in self.columns])

    def finish_table(self) -> None:
        """Set the auto-filter over everything written so far (the header plus data rows)."""
        if self._auto_filter and self.columns:
            last_row = max(self.rows_written, 1)
            self.ws.auto_filter.ref = f"A1:{get_column_letter(len(self.columns))}{last_row}"

    def blank(self, n: int = 1) -> None:
        for _ in range(n):
            self.row([])

    def title_row(self, text: str) -> None:
        self.row([Styled(text, font=TITLE_FONT)])

    def heading(self, text: str) -> None:
        self.row([Styled(text, font=BOLD)])

    def row(self, values: Iterable[Any]) -> None:
        self.ws.append([self._cell(i, v) for i, v in enumerate(values)])
        self.rows_written += 1

    def rows(self, rows: Iterable[Iterable[Any]]) -> None:
        for r in rows:
            self.row(r)

    def prepared_rows(self, columns: Sequence[list[Any]]) -> None:
        """Fast path for big sheets: columns already passed through `prepare_column`, written as they are."""
        append = self.ws.append
        n = 0
        for row in zip(*columns, strict=True):
            append([self._forced(v) if type(v) is ForcedText else v for v in row])
            n += 1
        self.rows_written += n

    def _forced(self, value: ForcedText) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=None)
        cell.value = value.text
        cell.data_type = "s"
        return cell

    def _cell(self, idx: int, value: Any) -> Any:
        if isinstance(value, Styled):
            cell = WriteOnlyCell(self.ws, value=None)
            self._set(cell, value.value)
            if value.font is not None:
                cell.font = value.font
            if value.fill is not None:
                cell.fill = value.fill
            if value.wrap:
                cell.alignment = WRAP
            if value.number_format:
                cell.number_format = value.number_format
            return cell
        v = plain_value(value)
        if isinstance(v, str) and (needs_forced_string(v) or idx in self._wrap_cols):
            cell = WriteOnlyCell(self.ws, value=None)
            self._set(cell, v)
            if idx in self._wrap_cols:
                cell.alignment = WRAP
            return cell
        if hasattr(v, "hour"):  # datetime: give it a readable format
            cell = WriteOnlyCell(self.ws, value=v)
            cell.number_format = DATE_FORMAT
            return cell
        return v

    @staticmethod
    def _set(cell: WriteOnlyCell, raw: Any) -> None:
        v = plain_value(raw)
        cell.value = v
        if isinstance(v, str):
            cell.data_type = "s"  # never a formula, never an error value: untrusted text stays text
        elif hasattr(v, "hour"):
            cell.number_format = DATE_FORMAT


def new_workbook() -> Workbook:
    return Workbook(write_only=True)
