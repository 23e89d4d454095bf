"""Text safety per output, and the CSV / JSON / HTML exports read back."""

from __future__ import annotations

import csv
import json
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports import write_reports
from reports.textsafe import CELL_LIMIT, cell_text, clean_text, csv_text, html_text, terminal_text
from tests.report_fixtures import HOSTILE_NAMES, build_run


@pytest.mark.parametrize("value", ['=HYPERLINK("http://x","y")', "+cmd", "-2+3", "@SUM(1)", "\tx", "\rx",
                                   "＝1+1"])
def test_csv_formula_prefixes_are_neutralised(value: str) -> None:
    out = csv_text(value)
    assert out.startswith("'")


def test_plain_values_unchanged() -> None:
    for v in ("alice@clinic.example", "Zoom", "Dr. O'Brien", "Müller-Lüdenscheidt", "山田太郎"):
        assert csv_text(v) == v and cell_text(v) == v and terminal_text(v) == v


def test_control_and_bidi_characters_made_visible() -> None:
    assert clean_text("a\x00b\x1bc\x7fd") == "a␀b␛c␡d"
    assert clean_text("invoice\u202egpj.exe") == "invoice[U+202E]gpj.exe"
    assert clean_text("zero\u200bwidth") == "zero[U+200B]width"
    assert clean_text("line1\nline2") == "line1\nline2"
    assert terminal_text("line1\nline2\x1b[31m") == "line1␊line2␛[31m"


def test_long_values_truncated_with_marker() -> None:
    out = cell_text("x" * 50_000)
    assert len(out) < CELL_LIMIT + 60 and out.endswith("[truncated: 50000 characters in total]")


@given(st.text())
def test_cleaned_text_has_no_control_or_bidi_characters(text: str) -> None:
    out = clean_text(text, keep_newlines=False)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                   for c in out)
    assert not csv_text(text).startswith(("=", "+", "-", "@"))


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("exp")
    paths = write_reports(build_run(), out, ["csv", "json", "html"], basename="weekly")
    return {p.suffix.lstrip("."): p for p in paths}


def test_exports_written_owner_only(exports: dict[str, Path]) -> None:
    assert set(exports) == {"csv", "json", "html"}
    for p in exports.values():
        assert p.name.startswith("weekly.") and stat.S_IMODE(p.stat().st_mode) == 0o600


def test_csv_export(exports: dict[str, Path]) -> None:
    with exports["csv"].open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 21
    subjects = {r["subject"] for r in rows}
    assert "'" + HOSTILE_NAMES["u-formula"] in subjects
    assert "'" + HOSTILE_NAMES["u-plus"] in subjects and "'" + HOSTILE_NAMES["u-at"] in subjects
    assert not any(r[k].startswith(("=", "+", "@")) for r in rows for k in r)
    fail = [r for r in rows if r["check_id"] == "IDA-MAIL-901" and r["status"] == "fail"]
    assert fail[0]["evidence"] == "forwards to bob.private@gmail.com"


def test_json_export(exports: dict[str, Path]) -> None:
    doc = json.loads(exports["json"].read_text(encoding="utf-8"))
    assert doc["format"] == "idaudit-findings" and doc["format_version"] == 1
    assert doc["tenant_name"] == "Lakeside Surgery Center"
    assert doc["counts"] == {"fail": 10, "unknown": 1, "waived": 0, "pass": 10, "not_applicable": 0}
    assert doc["posture_score"] == 0.0
    assert doc["expired_waivers"][0]["check_id"] == "IDA-ACCT-901"
    subjects = {f["subject"] for f in doc["findings"]}
    assert HOSTILE_NAMES["u-formula"] in subjects  # JSON keeps the text as data
    assert "Eve␇ Lin[U+202E]gnp.exe" in subjects


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    run = build_run()
    evil = run.findings.copy()
    evil.loc[evil.index[0], "evidence"] = '<script>alert(1)</script><img src="http://evil.example/b.png">'
    evil.loc[evil.index[0], "status"] = "fail"
    from dataclasses import replace

    path = write_reports(replace(run, findings=evil), tmp_path, ["html"])[0]
    text = path.read_text(encoding="utf-8")
    p = _Collect()
    p.feed(text)
    tags = {t for t, _ in p.tags}
    assert "script" not in tags and "img" not in tags and "link" not in tags
    assert not any("src" in a or "href" in a for _, a in p.tags)
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    body = "".join(p.text)
    assert '<script>alert(1)</script>' in body  # shown as text, not markup
    assert HOSTILE_NAMES["u-formula"] in body
    assert "Top risks" in body and "Action plan" in body


def test_unknown_format_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        write_reports(build_run(), tmp_path, ["docx"])


def test_html_text_escapes_quotes() -> None:
    assert html_text('"><b>x') == "&quot;&gt;&lt;b&gt;x"


def test_html_lists_changes_since_last_run(tmp_path: Path) -> None:
    from datetime import date

    from tests.report_fixtures import Week

    week1 = build_run(Week())
    week2 = build_run(Week(day=date(2026, 11, 9), new_forward=True, alice_mfa=True))
    text = write_reports(week2, tmp_path, ["html"], previous=week1)[0].read_text(encoding="utf-8")
    p = _Collect()
    p.feed(text)
    body = "".join(p.text)
    assert "NEW since run of 2026-11-02" in body and "collector@proton.example" in body
    assert "resolved" in body and "alice.nurse@clinic.example" in body
