"""Page setup for every sheet: how the workbook prints, and how LibreOffice turns it into the board's PDF.

A vCISO attaches the workbook, printed or as a PDF, to a board pack (issue 18). Every sheet the writer makes gets,
without the sheet's own code doing anything (reports.sheetio applies it when the workbook is saved):

- letter paper, landscape when the printed columns are wider than a portrait page, fitted to one page wide
  (as many pages tall as needed; the Summary: exactly one page);
- the header row repeated on every page, and the print area set to the printed columns and rows (screen-only
  columns such as ids and the reader's notes come last and stay off paper);
- margins of half an inch at the sides, gridlines;
- a header with the organisation, the sheet and the collection time, a footer with the page number.

The organisation's name is chosen by whoever runs the tenant: in a header it is text, never a formatting code
(`&` is doubled), with control characters made visible like everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties

from reports.textsafe import clean_text

# Letter paper with the margins below leaves 7.5 in (portrait) or 10 in (landscape) for the columns. One unit of
# column width is about 7 pixels = 5.25 pt, so a portrait page holds ~100 units at 100 %.
PORTRAIT_UNITS = 100.0
PAPER_LETTER = 1
MARGINS = PageMargins(left=0.5, right=0.5, top=0.75, bottom=0.7, header=0.3, footer=0.3)
HEADER_SIZE = 9
ORGANISATION_CHARS = 60  # a header holds at most 255 characters in all


@dataclass(frozen=True)
class PageFacts:
    """What every printed page says about the audit it comes from."""

    organisation: str = ""
    collected: str = ""  # e.g. "2026-11-28 06:00 UTC"


@dataclass(frozen=True)
class PrintSpec:
    """How one sheet prints. The defaults suit a table; the Summary asks for one page."""

    pages_tall: int = 0  # 0: as many pages as the rows need; 1: everything on one page
    gridlines: bool = True
    landscape: bool | None = None  # None: decided from the width of the printed columns
    area: bool = True  # False: no print area, the program prints what is used (a sheet with a chart beside it)


def header_text(text: str, limit: int = ORGANISATION_CHARS) -> str:
    """Untrusted text for a page header: one line, visible control characters, '&' doubled (no codes)."""
    one_line = " ".join(clean_text(text).split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return one_line.replace("&", "&&")


def prepare_sheet(ws: WriteOnlyWorksheet) -> None:
    """Before the first row: the fit-to-page flag lives in the sheet's properties, which a streamed sheet writes
    with its first row."""
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)


def finish_sheet(ws: WriteOnlyWorksheet, spec: PrintSpec, facts: PageFacts, *, printed_units: float,
                 last_column: str, last_row: int, title_rows: bool, note: str = "") -> None:
    """After the last row: orientation, fit, margins, header and footer, print area and titles."""
    landscape = spec.landscape if spec.landscape is not None else printed_units > PORTRAIT_UNITS
    setup = ws.page_setup
    setup.orientation = "landscape" if landscape else "portrait"
    setup.paperSize = PAPER_LETTER
    setup.fitToWidth = 1
    setup.fitToHeight = spec.pages_tall
    ws.page_margins = MARGINS
    ws.print_options.gridLines = spec.gridlines
    for part, text in ((ws.oddHeader.left, header_text(facts.organisation)), (ws.oddHeader.center, "&A"),
                       (ws.oddHeader.right, f"Collected {header_text(facts.collected)}" if facts.collected else ""),
                       (ws.oddFooter.left, "idaudit · confidential"),
                       (ws.oddFooter.center, header_text(note, 120)),
                       (ws.oddFooter.right, "Page &P of &N")):
        part.text = text
        part.size = HEADER_SIZE
    if spec.area:
        ws.print_area = f"A1:{last_column}{max(last_row, 1)}"
    if title_rows:
        ws.print_title_rows = "1:1"
