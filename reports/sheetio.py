"""Streaming sheet writer: every sheet of the workbook goes through here, in openpyxl's write-only mode.

Write-only mode streams rows to disk, so a 100,000-finding workbook stays within tens of megabytes of memory
(see docs/reports.md for the measurement). The price is that a row cannot be touched once written: column
widths, the frozen header, the auto-filter, data validation and each row's height are set before the row goes.

The rules this module exists for:
- untrusted text is always stored as a string cell. openpyxl turns a str that starts with "=" into a formula and
  "#N/A" into an error value; `SheetWriter.row` forces those to plain strings;
- every sheet prints: a row with wrapped text gets the height its text needs (reports.textfit), and when the
  workbook is saved each sheet gets its page setup (reports.printsetup) — a new sheet written through
  `SheetWriter` needs no print code of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from reports.printsetup import PageFacts, PrintSpec, finish_sheet, prepare_sheet
from reports.textfit import BASE_SIZE, DEFAULT_ROW_PT, row_height, wrapped_lines
from reports.textsafe import needs_forced_string, plain_value

# Fonts are named: a cell font without a name prints in the spreadsheet program's default (a serif font in
# LibreOffice), not in the workbook's Calibri.
FONT_NAME = "Calibri"
HEADER_FONT = Font(name=FONT_NAME, bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
TITLE_FONT = Font(name=FONT_NAME, bold=True, size=14)
BOLD = Font(name=FONT_NAME, bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")
DEFAULT_WIDTH = 13.0

SEVERITY_FILLS = {
    "critical": PatternFill("solid", fgColor="C00000"),
    "high": PatternFill("solid", fgColor="FF7C80"),
    "medium": PatternFill("solid", fgColor="FFC000"),
    "low": PatternFill("solid", fgColor="FFF2CC"),
    "info": PatternFill("solid", fgColor="DDEBF7"),
}
SEVERITY_FONTS = {"critical": Font(name=FONT_NAME, bold=True, color="FFFFFF")}
STATUS_FILLS = {
    "fail": PatternFill("solid", fgColor="F8CBAD"),
    "unknown": PatternFill("solid", fgColor="D9D9D9"),
    "waived": PatternFill("solid", fgColor="E4DFEC"),
    "pass": PatternFill("solid", fgColor="C6EFCE"),
    "not_applicable": PatternFill("solid", fgColor="F2F2F2"),
}
DATE_FORMAT = "yyyy-mm-dd hh:mm"
DAY_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Column:
    header: str
    width: float = 14
    # Every text cell wraps and its row is made tall enough (the workbook's default style); `wrap` only marks the
    # columns meant for long text, for whoever reads the column list.
    wrap: bool = False
    # Inside the print area. Screen-only columns (ids, the reader's own notes) come after every printed column,
    # so the print area is one block and a printed page stays readable (issue 18).
    printed: bool = True


@dataclass(frozen=True)
class Styled:
    """A value with a style, for the odd cell that needs one (severity colour, bold label, wrapped text)."""

    value: Any
    font: Font | None = None
    fill: PatternFill | None = None
    wrap: bool = False
    number_format: str | None = None
    span: int = 1  # merged with the cells to its right (a sentence across a summary's columns)


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


# Every row takes the workbook's default (wrapped, top-aligned) format: LibreOffice applies a row's format to the
# cells written without one of their own, where Excel reads the default format (see AuditWorkbook).
ROW_FORMAT = {"s": "0", "customFormat": "1"}


class _RowFormats(dict[int, dict[str, str]]):
    """The row attributes openpyxl's streaming writer copies into each row as it writes it (it reads only
    `row_dimensions.get(row)`): ROW_FORMAT for every row, plus a height for a tall one. Plain mappings cost a tenth
    of openpyxl's RowDimension objects on a 100,000-row sheet."""

    def get(self, key: int, default: Any = None) -> dict[str, str]:  # type: ignore[override]
        return dict.get(self, key, ROW_FORMAT)


class AuditWorkbook(Workbook):
    """A write-only workbook that knows its sheet writers, so each sheet gets its page setup when it is saved."""

    def __init__(self, facts: PageFacts) -> None:
        super().__init__(write_only=True)
        self.facts = facts
        self.writers: list[SheetWriter] = []
        # The default cell format (the one every cell written without a style takes) wraps its text and aligns
        # to the top: long text stays inside its column in a row tall enough for it (SheetWriter measures every
        # text), and a short value sits beside the first line of its neighbour — with no styled cell object per
        # value, which would cost seconds on a 100,000-row sheet. openpyxl keeps the default in the first entry of
        # its style tables and writes an alignment only for a non-zero index, hence the second entry.
        self._alignments = IndexedList([Alignment(), WRAP])
        self._cell_styles = IndexedList([StyleArray([0, 0, 0, 0, 0, 1, 0, 0, 0])])

    def save(self, filename: Any) -> None:
        for writer in self.writers:
            writer.finish_print(self.facts)
        super().save(filename)


class SheetWriter:
    """Rows into one write-only worksheet, counting them so callers can place charts and ranges."""

    def __init__(self, wb: Workbook, title: str, columns: Sequence[Column] = (), *, freeze_header: bool = False,
                 auto_filter: bool = False, print_spec: PrintSpec | None = None) -> None:
        self.ws: WriteOnlyWorksheet = wb.create_sheet(title)
        self.title = title
        self.rows_written = 0
        self.columns = tuple(columns)
        printed = [c.printed for c in self.columns]
        if printed and any(p and not before for before, p in pairwise(printed)):
            raise ValueError(f"sheet {title!r}: a printed column follows a screen-only one; put screen-only "
                             "columns last so the print area is one block")
        self._widths = [c.width for c in self.columns]
        self.ws.row_dimensions = _RowFormats()
        for i, col in enumerate(self.columns, 1):
            self.ws.column_dimensions[get_column_letter(i)].width = col.width
        if freeze_header:
            self.ws.freeze_panes = "A2"
        self._auto_filter = auto_filter
        self.print_spec = print_spec or PrintSpec()
        self._print_rows: int | None = None
        self._print_note = ""
        self._has_header = False
        # Shared style arrays for dates: assigning a style per cell hashes it each time, which costs seconds on
        # a 100,000-row sheet; a shared array costs nothing.
        self._date_style = self._style_array(alignment=WRAP, number_format=DATE_FORMAT)
        self._day_style = self._style_array(alignment=WRAP, number_format=DAY_FORMAT)
        prepare_sheet(self.ws)
        if isinstance(wb, AuditWorkbook):
            wb.writers.append(self)

    def _style_array(self, **style: Any) -> Any:
        template = WriteOnlyCell(self.ws, value=None)
        for name, value in style.items():
            setattr(template, name, value)
        return template._style

    # -- printing -----------------------------------------------------------------------------------------------

    def print_through(self, last_row: int, note: str = "") -> None:
        """Print rows 1..last_row only (the Findings sheet leaves its passing rows to the screen); `note` tells
        the reader of the paper what was left off (in the page footer)."""
        self._print_rows = last_row
        self._print_note = note

    def printed_columns(self) -> int:
        """How many columns the print area spans (all, for a sheet without declared columns)."""
        n = sum(1 for c in self.columns if c.printed)
        return n or max(len(self.columns), 1)

    def finish_print(self, facts: PageFacts) -> None:
        n = self.printed_columns()
        units = sum(self._width(i) for i in range(n))
        last_row = self.rows_written if self._print_rows is None else min(self._print_rows, self.rows_written)
        finish_sheet(self.ws, self.print_spec, facts, printed_units=units,
                     last_column=get_column_letter(n), last_row=last_row, title_rows=self._has_header, note=self._print_note)

    def _width(self, idx: int) -> float:
        return self._widths[idx] if idx < len(self._widths) else DEFAULT_WIDTH

    def _set_height(self, height: float) -> None:
        """The next row's height in points, before it is streamed (openpyxl writes a row's dimensions with the
        row); the default height is left unset."""
        if height > DEFAULT_ROW_PT:
            self.ws.row_dimensions[self.rows_written + 1] = {**ROW_FORMAT, "ht": f"{height:g}", "customHeight": "1"}

    def _drop_height(self) -> None:
        # Already written with its row: forget it, or a 100,000-row sheet keeps 100,000 dimension objects.
        self.ws.row_dimensions.pop(self.rows_written, None)

    # -- rows ---------------------------------------------------------------------------------------------------

    def header(self) -> None:
        """Write the column headers as the first row (call before any other row); they wrap in narrow columns
        and repeat at the top of every printed page."""
        lines = max((wrapped_lines(c.header, c.width, bold=True) for c in self.columns), default=1)
        self._set_height(row_height(lines))
        self.ws.append([self._header_cell(c.header) for c in self.columns])
        self.rows_written += 1
        self._drop_height()
        self._has_header = True

    def _header_cell(self, text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=None)
        self._set(cell, text)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGN
        return cell

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
        cells = []
        height = DEFAULT_ROW_PT
        merges = []
        col = 0
        for v in values:
            cell, n, sz = self._cell(col, v)
            cells.append(cell)
            if n > 1 or sz > BASE_SIZE:
                height = max(height, row_height(n, sz))
            if isinstance(v, Styled) and v.span > 1:
                merges.append((col, v.span))
                cells.extend([None] * (v.span - 1))
                col += v.span
            else:
                col += 1
        self._set_height(height)
        self.ws.append(cells)
        self.rows_written += 1
        self._drop_height()
        for start, span in merges:
            r = self.rows_written
            self.ws.merged_cells.add(f"{get_column_letter(start + 1)}{r}:{get_column_letter(start + span)}{r}")

    def rows(self, rows: Iterable[Iterable[Any]]) -> None:
        for r in rows:
            self.row(r)

    def prepared_rows(self, columns: Sequence[list[Any]]) -> None:
        """Fast path for big sheets: columns already passed through `prepare_column`, written as they are.

        Texts are measured once per distinct value; only rows taller than one line carry a height, and only
        forced text and dates need a cell object (everything else takes the default wrapped, top-aligned style)."""
        append = self.ws.append
        per_row: list[int] | None = None
        for i, values in enumerate(columns):
            counts = _column_lines(values, self._width(i))
            if counts is not None:
                per_row = counts if per_row is None else [max(a, b) for a, b in zip(per_row, counts, strict=True)]
        for k, row in enumerate(zip(*columns, strict=True)):
            tall = per_row is not None and per_row[k] > 1
            if tall:
                self._set_height(row_height(per_row[k]))  # type: ignore[index]
            append([self._forced(v) if type(v) is ForcedText else self._date(v) if isinstance(v, date) else v
                    for v in row])
            self.rows_written += 1
            if tall:
                self._drop_height()

    def _date(self, value: date) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=value)
        cell._style = self._date_style if isinstance(value, datetime) else self._day_style
        return cell

    def _forced(self, value: ForcedText) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.ws, value=None)
        cell.value = value.text
        cell.data_type = "s"
        return cell

    def _cell(self, idx: int, value: Any) -> tuple[Any, int, float]:
        """The cell to write, and how many lines and what font size it needs."""
        if isinstance(value, Styled):
            cell = WriteOnlyCell(self.ws, value=None)
            self._set(cell, value.value)
            size = float(value.font.sz) if value.font is not None and value.font.sz else BASE_SIZE
            if value.font is not None:
                cell.font = value.font
            if value.fill is not None:
                cell.fill = value.fill
            lines = 1
            # A styled cell does not take the default alignment: it says its own. Unwrapped text (a heading)
            # may run on into the empty cells beside it.
            cell.alignment = WRAP if value.wrap else TOP
            if value.wrap and isinstance(cell.value, str):
                width = sum(self._width(i) for i in range(idx, idx + max(value.span, 1)))
                bold = bool(value.font is not None and value.font.b)
                lines = wrapped_lines(cell.value, width, size, bold)
            if value.number_format:
                cell.number_format = value.number_format
            return cell, lines, size
        v = plain_value(value)
        if isinstance(v, str):
            lines = wrapped_lines(v, self._width(idx))
            return (self._forced(ForcedText(v)) if needs_forced_string(v) else v), lines, BASE_SIZE
        if isinstance(v, date):  # a date or datetime: a readable format
            return self._date(v), 1, BASE_SIZE
        return v, 1, BASE_SIZE

    @staticmethod
    def _set(cell: WriteOnlyCell, raw: Any) -> None:
        v = plain_value(raw)
        cell.value = v
        if isinstance(v, str):
            cell.data_type = "s"  # never a formula, never an error value: untrusted text stays text
        elif hasattr(v, "hour"):
            cell.number_format = DATE_FORMAT


def _lines_of(value: Any, width: float) -> int:
    if type(value) is ForcedText:
        value = value.text
    return wrapped_lines(value, width) if isinstance(value, str) else 1


def _column_lines(values: Sequence[Any], width: float) -> list[int] | None:
    """Lines each value of a column needs, or None when every value fits on one line (most columns)."""
    try:
        distinct = {v: _lines_of(v, width) for v in set(values)}
    except TypeError:  # an unhashable value: measure them all
        return [_lines_of(v, width) for v in values]
    if max(distinct.values(), default=1) <= 1:
        return None
    return [distinct[v] for v in values]


def new_workbook(facts: PageFacts | None = None) -> AuditWorkbook:
    """A streamed workbook whose sheets print well: `facts` go into every page's header."""
    return AuditWorkbook(facts or PageFacts())
