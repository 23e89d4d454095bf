"""The print setup every sheet gets, read back from the file: page setup, print areas, headers, row heights.

These read the workbook with openpyxl; tests/test_report_pdf.py converts it with LibreOffice and looks at the
printed pages themselves.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from reports import write_reports
from reports.printsetup import PageFacts, header_text
from reports.sheetio import Column, SheetWriter, Styled, new_workbook
from reports.textfit import row_height, text_width, wrapped_lines
from reports.workbook import SHEETS
from tests.report_fixtures import build_run


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    out = tmp_path_factory.mktemp("print")
    return openpyxl.load_workbook(write_reports(build_run(), out, ["xlsx"])[0])


@pytest.mark.parametrize("sheet", SHEETS)
def test_every_sheet_prints_one_page_wide_with_header_footer_and_area(workbook: openpyxl.Workbook,
                                                                       sheet: str) -> None:
    ws = workbook[sheet]
    assert ws.sheet_properties.pageSetUpPr.fitToPage, "fit to page is what makes 'one page wide' apply"
    assert ws.page_setup.fitToWidth == 1
    assert ws.page_setup.paperSize == 1  # letter
    assert ws.page_setup.orientation in ("portrait", "landscape")
    assert ws.page_margins.left == 0.5 and ws.page_margins.top == 0.75
    assert ws.oddHeader.left.text == "Lakeside Surgery Center"
    assert ws.oddHeader.center.text == "&A"  # the sheet's name
    assert ws.oddHeader.right.text == "Collected 2026-11-02 06:00 UTC"
    assert ws.oddFooter.right.text == "Page &P of &N"
    assert ws.print_area and ws.print_area.startswith(f"'{sheet}'!$A$1:")
    if sheet != "Summary":
        assert ws.print_title_rows == "$1:$1", "the header row repeats on every printed page"


def test_wide_sheets_print_landscape_and_leave_screen_only_columns_off_paper(workbook: openpyxl.Workbook) -> None:
    users = workbook["Users"]
    assert users.page_setup.orientation == "landscape"
    header = [c.value for c in users[1]]
    last_printed = users.print_area.split(":")[1].split("$")[1]  # e.g. 'L'
    printed = header[:openpyxl.utils.column_index_from_string(last_printed)]
    assert printed[-1] == "Open findings" and "User id" not in printed and "User id" in header
    assert workbook["Summary"].page_setup.orientation == "portrait"
    assert workbook["Summary"].page_setup.fitToHeight == 1


def test_wrapped_rows_get_heights_from_their_text(workbook: openpyxl.Workbook) -> None:
    ws = workbook["Action plan"]
    header = [c.value for c in ws[1]]
    col = header.index("Action")
    width = ws.column_dimensions[openpyxl.utils.get_column_letter(col + 1)].width
    for row in ws.iter_rows(min_row=2):
        text = row[col].value
        if not isinstance(text, str):
            continue
        lines = max(wrapped_lines(c.value, ws.column_dimensions[c.column_letter].width)
                    for c in row if isinstance(c.value, str))
        height = ws.row_dimensions[row[0].row].height
        if lines > 1:
            assert height == row_height(lines), f"row {row[0].row}: {lines} lines of text need {row_height(lines)}"
        assert wrapped_lines(text, width) <= lines
        assert row[col].alignment.wrap_text and row[col].alignment.vertical == "top"


def test_measured_lines_follow_the_font_and_the_column() -> None:
    # Calibri's advance widths: a digit is one unit of column width; "i" is under half of one, "W" almost two.
    assert text_width("0000000000") == pytest.approx(10 * 1.02)
    assert text_width("iiiiiiiiii") < text_width("WWWWWWWWWW") / 3
    assert wrapped_lines("short", 20) == 1
    assert wrapped_lines("word " * 40, 20) == 10  # whole words only: four "word"s (4.3 units each) to 19 units
    assert wrapped_lines("one\ntwo\nthree", 40) == 3  # each line break starts a line
    assert wrapped_lines("x" * 100, 20) == 5  # a word longer than the column breaks inside it: 87 units / 19
    assert row_height(1) == 15.0 and row_height(3) == pytest.approx(44.8) and row_height(1000) == 409.0


def test_page_header_keeps_an_organisations_name_as_text() -> None:
    # '&' starts a formatting code in a page header ('&P' is the page number): a name must not inject one.
    assert header_text("Smith & Jones &P Clinic") == "Smith && Jones &&P Clinic"
    assert header_text("Eve\x07 Lin\u202egnp") == "Eve␇ Lin[U+202E]gnp"
    assert header_text("line\nbreak") == "line break"
    assert len(header_text("x" * 500)) == 60


def test_a_printed_column_after_a_screen_only_one_is_refused() -> None:
    wb = new_workbook()
    with pytest.raises(ValueError, match="screen-only columns last"):
        SheetWriter(wb, "Bad", [Column("id", 10, printed=False), Column("name", 10)])


def test_a_new_sheet_gets_the_print_setup_without_code_of_its_own(tmp_path: Path) -> None:
    """A sheet another report adds (say, signs of account takeover) prints like the others by writing through
    SheetWriter: the page setup is applied when the workbook is saved."""
    wb = new_workbook(PageFacts(organisation="Harbour Clinic & Co", collected="2026-11-28 06:00 UTC"))
    s = SheetWriter(wb, "Signs of takeover", [Column("User", 30), Column("What was seen", 60),
                                               Column("Raw id", 40, printed=False)])
    s.header()
    s.row(["ana@harbour.example", "sign-in from a new country, then an inbox rule forwarding to gmail.com " * 3,
           "x"])
    s.row(["bo@harbour.example", Styled("short", wrap=True), "y"])
    wb.save(tmp_path / "t.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Signs of takeover"]
    assert ws.print_area == "'Signs of takeover'!$A$1:$B$3"
    assert ws.print_title_rows == "$1:$1" and ws.oddHeader.left.text == "Harbour Clinic && Co"
    assert ws.page_setup.orientation == "portrait"  # 90 units of printed columns fit a portrait page
    assert ws.row_dimensions[2].height == row_height(wrapped_lines(ws["B2"].value, 60)) > 15
    assert ws.row_dimensions[3].height is None  # one line: the default height
    # Bare text cells take the workbook's default format, which wraps and aligns to the top.
    assert ws["A2"].alignment.wrap_text and ws["A2"].alignment.vertical == "top"


def test_pdf_without_libreoffice_names_the_package_and_writes_nothing(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from idaudit.cli import main
    from reports.pdf import PdfError

    # Where LibreOffice is said to be, nothing is: the same as a machine without it.
    monkeypatch.setenv("IDAUDIT_SOFFICE", str(tmp_path / "no-soffice-here"))
    with pytest.raises(PdfError, match="install the package libreoffice-calc-nogui"):
        write_reports(build_run(), tmp_path / "out", ["xlsx", "pdf"])
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    code = main(["demo", "--out", str(tmp_path / "demo"), "--users", "20", "--direct", "--format", "xlsx,pdf"])
    assert code == 5  # exitcodes.ERROR, with the one-line reason
    assert "apt-get install libreoffice-calc-nogui" in capsys.readouterr().err
