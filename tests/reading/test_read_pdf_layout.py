"""PDF page layout: two-column pages read column by column, mixed layouts named, and ruled tables
that run over pages (header repeated on each page, a row broken across the break) read as one table.
Fixtures are built by reportlab (see tests/pdfgen.py) or exported from Word documents by LibreOffice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag.reading.load import load_file
from rag.reading.readers import layout
from rag.reading.readers.pdf import UNCERTAIN_PAGES, read_pdf
from rag.text.split import split_document
from tests import pdfgen

needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None or not pdfgen.CJK_SANS.exists(),
    reason="LibreOffice (soffice) and fonts-noto-cjk are needed to export the test documents",
)

EXPLAINER_LINES = [pdfgen.EXPLAINER_TITLE, pdfgen.EXPLAINER_SOURCE, *pdfgen.EXPLAINER]
MIDDLE = "相关链接：《宁波市居家养老服务补贴管理办法》全文见市民政局门户网站“政策文件”栏目。"


def _read(path: Path):
    return read_pdf(path, path.read_bytes())


def _column_text(path: Path, page: int, x0: float, x1: float) -> list[str]:
    import pdfplumber

    with pdfplumber.open(path) as doc:
        p = doc.pages[page]
        return (p.crop((x0, 130, x1, p.height - 60)).extract_text() or "").splitlines()


# --- columns -----------------------------------------------------------------------------------


def test_two_column_explainer_keeps_its_clauses(tmp_path):
    path = pdfgen.two_column_pdf(tmp_path, pdfgen.EXPLAINER)
    # the fixture: the left column breaks inside （二）, the right column goes on with its end
    assert _column_text(path, 0, 297, 595)[0] == "每月500元，完全失能每人每月800元，补贴以"
    got = _read(path)
    assert got.text.splitlines() == EXPLAINER_LINES
    assert got.notes == ("read column by column: page 1",) and got.meta == {}
    doc = load_file(path)
    assert doc.title == pdfgen.EXPLAINER_TITLE
    clauses = [(c.label, c.headings, c.text) for c in split_document(doc) if c.label]  # the numbered ones
    assert clauses == [
        ("一、", (), f"一、出台背景\n{pdfgen.EXPLAINER[1]}"),
        ("（一）", ("二、主要内容",), f"二、主要内容\n{pdfgen.EXPLAINER[3]}"),
        ("（二）", ("二、主要内容",), pdfgen.EXPLAINER[4]),
        ("（三）", ("二、主要内容",), pdfgen.EXPLAINER[5]),
        ("三、", (), f"三、实施时间\n{pdfgen.EXPLAINER[7]}"),
    ]
    assert "重度失能每人每月500元，完全失能每人每月800元" in doc.text  # across the column break
    assert doc.meta.get(UNCERTAIN_PAGES) is None


@pytest.mark.parametrize("height", [80, 125, 200])
def test_columns_flow_over_pages(tmp_path, height):
    """Short columns: the text runs through the columns of two or three pages; on the last page it
    may stop in the left column (read with the columns of the page before)."""
    got = _read(pdfgen.two_column_pdf(tmp_path, pdfgen.EXPLAINER, column_height=height))
    assert len(got.pages) > 1
    assert got.text.splitlines() == EXPLAINER_LINES
    assert got.meta == {}


@needs_office
def test_word_document_in_two_columns_exported_by_libreoffice(tmp_path):
    import docx
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = docx.Document()
    title = d.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pdfgen._cjk_font(title.add_run(pdfgen.EXPLAINER_TITLE), pdfgen.CJK_SERIF, 18)
    section = d.add_section(WD_SECTION.CONTINUOUS)  # the body in two columns under the title
    cols = section._sectPr.find(qn("w:cols"))
    if cols is None:
        cols = OxmlElement("w:cols")
        section._sectPr.append(cols)
    cols.set(qn("w:num"), "2")
    cols.set(qn("w:space"), "425")
    body = pdfgen.EXPLAINER * 3  # three pages
    for text in body:
        p = d.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Pt(28)
        pdfgen._cjk_font(p.add_run(text), pdfgen.CJK_SERIF, 14)
    d.save(tmp_path / "columns.docx")
    got = _read(pdfgen.docx_to_pdf([tmp_path / "columns.docx"], tmp_path)[0])
    assert len(got.pages) == 3
    assert got.text.splitlines() == [pdfgen.EXPLAINER_TITLE, *body]
    assert got.notes == ("read column by column: page 1, 2, 3",)


def test_mixed_layout_is_indexed_and_its_page_named(tmp_path, capsys):
    """Columns, a line across the page, columns again: read in that order, and page 1 is named."""
    from rag.embedding.embed import parse_spec
    from rag.ingest.pipeline import ingest
    from rag.interfaces.cli import main

    lib = tmp_path / "lib"
    lib.mkdir()
    path = pdfgen.two_column_pdf(lib, pdfgen.EXPLAINER, name="mixed.pdf", column_height=130, middle=MIDDLE)
    pdfgen.two_column_pdf(lib, pdfgen.EXPLAINER, name="plain.pdf")
    got = _read(path)
    assert got.text.splitlines() == EXPLAINER_LINES[:6] + [MIDDLE] + EXPLAINER_LINES[6:]
    assert got.meta == {UNCERTAIN_PAGES: "1"}
    assert "reading order uncertain on page 1 (columns interrupted by text across the page)" in got.notes
    assert ingest([lib], tmp_path / "idx", parse_spec("hash:64"), show_progress=False).failures == ()
    assert main(["info", "--index", str(tmp_path / "idx")]) == 0
    out = capsys.readouterr().out
    assert "reading order uncertain: 1 document" in out
    named = [ln for ln in out.splitlines() if ln.endswith(": page 1")]
    assert len(named) == 1 and named[0].startswith("  ") and named[0].endswith(f"{path.name}: page 1")
    assert "plain.pdf" not in out


# --- the column rules on their own ---------------------------------------------------------------


def _chars(text: str, x0: float, top: float, size: float = 10.0) -> list[dict]:
    return [
        {"text": ch, "x0": x0 + i * size, "x1": x0 + (i + 1) * size, "top": top, "bottom": top + size, "size": size}
        for i, ch in enumerate(text)
    ]


def test_one_column_page_and_a_form_have_no_columns():
    one = [c for k in range(8) for c in _chars("甲" * 40, 50, 100 + 18 * k)]
    got = layout.order_lines(one)
    assert got.gutter is None and [ln.text for ln in got.lines] == ["甲" * 40] * 8
    # label : value pairs side by side in rows (a form): the left parts do not wrap at a common edge
    form = []
    pairs = [("姓名：张三", "电话：1"), ("单位：市民政局", "职务：科员"), ("地址：海曙区", "邮编：3"),
             ("邮箱：无", "传真：无"), ("备注：", "日期：今日")]  # fmt: skip
    for k, (a, b) in enumerate(pairs):
        form += _chars(a, 50, 100 + 18 * k) + _chars(b, 300, 100 + 18 * k)
    rows = layout.group_rows(form, lambda c: c["top"], lambda c: c["bottom"])
    assert layout.find_gutter(rows, 10.0) is None
    lines = [ln.text for ln in layout.order_lines(form).lines]
    assert lines[:2] == ["姓名：张三\u3000电话：1", "单位：市民政局\u3000职务：科员"]  # row by row, as before
    # articles whose number is followed by a tab (an auto-numbered list exported to PDF): a label, not a column
    articles = []
    for k, n in enumerate("一二三"):
        articles += _chars(f"第十{n}条", 50, 100 + 18 * k) + _chars("乙" * 20, 130, 100 + 18 * k)
    assert layout.order_lines(articles).gutter is None
    # a borderless task table: 序号, a task that wraps in its cell, a unit, a deadline
    table = []
    for k in range(6):
        y = 100 + 18 * k
        table += _chars("甲" * 18, 80, y)
        if k % 2 == 0:  # a row's first line
            table += _chars(str(k // 2 + 1), 50, y) + _chars("市民政局", 280, y) + _chars("六月底前", 380, y)
    assert layout.order_lines(table).gutter is None


def test_two_columns_from_character_positions():
    chars = _chars("标题横跨两栏居中排列的一行文字标题横跨两栏", 100, 40)
    for k in range(6):
        chars += _chars("左" * 20, 50, 100 + 18 * k) + _chars("右" * (20 if k < 5 else 7), 270, 100 + 18 * k)
    got = layout.order_lines(chars)
    assert got.gutter == layout.Gutter(250.0, 270.0) and got.uncertain is None
    title = "标题横跨两栏居中排列的一行文字标题横跨两栏"
    assert [ln.text for ln in got.lines] == [title] + ["左" * 20] * 6 + ["右" * 20] * 5 + ["右" * 7]
    text, _ = layout.layout_text([layout.PageLines(500, 800, got.lines)])
    assert text.splitlines() == [title, "左" * 120 + "右" * 107]


# --- tables over pages ---------------------------------------------------------------------------

TASKS = [
    "建设农贸市场快检室，配备快速检测设备和专职检测人员，实现每日抽检结果公示",
    "推进养老服务中心建设，完善助餐、助浴、日间照料等服务功能",
    "开展食品安全专项整治行动，重点检查校园周边和农村集市",
]
UNITS = ["市市场监管局", "市民政局", "市市场监管局、市教育局"]
DUE = ["2024年6月底前", "2024年9月30日前", "长期坚持"]
LONG = "，并建立健全长效管理机制，定期通报进展情况" * 6


def _task_rows(n: int, long_row: int) -> list[list[str]]:
    return [
        [str(i + 1), TASKS[i % 3] + (LONG if i + 1 == long_row else ""), UNITS[i % 3], DUE[i % 3]] for i in range(n)
    ]


def _row_model(rows: list[list[str]]) -> list[str]:
    """A 任务分工表 as the reader renders it (`table.table_lines`): the header, then "列名：值；…" rows."""
    header = pdfgen.TASK_HEADER
    return ["\t".join(header), *("；".join(f"{k}：{v}" for k, v in zip(header, r)) for r in rows)]


def _first_rows(path: Path, page: int) -> list[list[str | None]]:
    import pdfplumber

    with pdfplumber.open(path) as doc:
        return doc.pages[page].extract_tables()[0][:2]


@pytest.mark.parametrize("repeat_header", [True, False])
def test_table_over_two_pages_is_one_table(tmp_path, repeat_header):
    rows = _task_rows(22, long_row=16)
    path = pdfgen.long_table_pdf(tmp_path, rows, caption="附件：重点任务分工表", repeat_header=repeat_header)
    # the fixture: row 16 breaks across the page; page 2 repeats the header (or not), then row 16 goes on
    top = _first_rows(path, 1)
    cont = top[1] if repeat_header else top[0]
    assert (top[0] == pdfgen.TASK_HEADER) is repeat_header
    assert cont[0] == "" and cont[1] and rows[15][1].endswith(cont[1].replace("\n", "")) and cont[2:] == ["", ""]
    got = _read(path)
    assert len(got.pages) == 2
    assert got.text.splitlines() == ["附件：重点任务分工表", *_row_model(rows)]  # the header once, row 16 whole


def test_table_over_three_pages_keeps_its_first_header(tmp_path):
    rows = _task_rows(45, long_row=16)
    got = _read(pdfgen.long_table_pdf(tmp_path, rows))
    assert len(got.pages) == 3
    assert got.text.splitlines() == _row_model(rows)


@needs_office
def test_word_table_with_header_rows_exported_by_libreoffice(tmp_path):
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rows = [[str(i + 1), TASKS[i % 3] + (LONG * 2 if i == 17 else ""), UNITS[i % 3], DUE[i % 3]] for i in range(30)]
    d = docx.Document()
    table = d.add_table(rows=len(rows) + 1, cols=4)
    table.style = "Table Grid"
    for r, row in enumerate([pdfgen.TASK_HEADER, *rows]):
        for c, text in enumerate(row):
            cell = table.cell(r, c)
            cell.text = ""
            pdfgen._cjk_font(cell.paragraphs[0].add_run(text), pdfgen.CJK_SERIF, 12)
    repeat = OxmlElement("w:tblHeader")  # 在各页顶端以标题行形式重复出现
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    d.save(tmp_path / "tasks.docx")
    path = pdfgen.docx_to_pdf([tmp_path / "tasks.docx"], tmp_path)[0]
    got = _read(path)
    assert len(got.pages) > 2
    assert got.text.splitlines() == _row_model(rows)
