"""PDF ruled tables in the row model (#19 item 1): a 任务分工表 built by reportlab (tests/pdfgen.py)
with a 类别 cell merged down over its rows and the table running over a page break (header
repeated, a row broken across the break, a merged 类别 cell going on at the top of page 2) reads
as the same table typed in a .docx (python-docx, the cells merged) does: the same clause texts,
labels and heading paths."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from rag.reading.load import load_file
from rag.reading.readers.pdf import read_pdf
from rag.reading.readers.table import Cell, table_lines, table_lines_by_row
from rag.text.split import split_document
from tests import pdfgen

CAPTION = "附件：重点任务分工表"
HEADER = ["类别", "序号", "重点任务", "责任单位", "完成时限"]
WIDTHS = (70, 50, 190, 100, 90)
TASKS = [
    "建设农贸市场快检室，配备快速检测设备和专职检测人员",
    "推进养老服务中心建设，完善助餐、助浴、日间照料等服务功能",
    "开展食品安全专项整治行动",
]
UNITS = ["市市场监管局", "市民政局", "市市场监管局、市教育局"]
DUE = ["2024年6月底前", "2024年9月30日前", "长期坚持"]
LONG = "，并建立健全长效管理机制，定期通报进展情况" * 4
CATEGORIES = [("食品安全", 14), ("养老服务", 10)]  # 养老服务 runs from page 1 onto page 2
BROKEN = 16  # the row broken across the page break (in the table with one)


def _rows(broken: int | None = BROKEN) -> list[list[str]]:
    """The table's data rows, the 类别 written on every row (as the reader gives it to every row)."""
    rows, n = [], 0
    for category, count in CATEGORIES:
        for _ in range(count):
            n += 1
            task = TASKS[n % 3] + (LONG if n == broken else "")
            rows.append([category, str(n), task, UNITS[n % 3], DUE[n % 3]])
    return rows


def _merged(rows: list[list[str]]) -> list[list[str | None]]:
    """The rows as drawn: the 类别 cell only in the first row of its category, merged down over the rest."""
    return [[None if i and row[0] == rows[i - 1][0] else row[0], *row[1:]] for i, row in enumerate(rows)]


def _expected_lines(broken: int | None) -> list[str]:
    lines = [CAPTION, "\t".join(HEADER)]
    rows = _rows(broken)
    for i, row in enumerate(rows):
        if i == 0 or row[0] != rows[i - 1][0]:
            lines.append(row[0])
        lines.append("；".join(f"{k}：{v}" for k, v in zip(HEADER[1:], row[1:])))
    return lines


@pytest.fixture(scope="module", params=[BROKEN, None], ids=["row-broken", "rows-whole"])
def task_pdf(request, tmp_path_factory) -> tuple[int | None, Path]:
    """The table with row BROKEN broken across the page break, or with the break between two rows."""
    folder = tmp_path_factory.mktemp("pdf-table")
    rows = _merged(_rows(request.param))
    return request.param, pdfgen.long_table_pdf(folder, rows, caption=CAPTION, header=HEADER, widths=WIDTHS)


def task_docx(path: Path, broken: int | None = BROKEN) -> Path:
    """The same 任务分工表 typed in Word: the caption, then the table with each 类别 cell merged down."""
    d = docx.Document()
    d.add_paragraph(CAPTION)
    rows = _rows(broken)
    t = d.add_table(rows=len(rows) + 1, cols=len(HEADER))
    for r, values in enumerate([HEADER, *rows]):
        for c, value in enumerate(values):
            t.cell(r, c).text = value if c or r == 0 else ""  # the 类别 cells: merged below
    first = 1
    for _, count in CATEGORIES:
        merged = t.cell(first, 0).merge(t.cell(first + count - 1, 0))
        merged.text = rows[first - 1][0]
        first += count
    d.save(str(path))
    return path


def _cells(path: Path, page: int) -> list[list[str | None]]:
    import pdfplumber

    with pdfplumber.open(path) as doc:
        return doc.pages[page].extract_tables()[0]


def test_fixture_breaks_a_row_and_a_merged_cell_across_the_page(task_pdf):
    broken, path = task_pdf
    one, two = _cells(path, 0), _cells(path, 1)
    assert one[0] == two[0] == HEADER  # the header repeated on page 2
    assert one[1][0] == "食品安全" and one[2][0] is None  # merged down: no cell of its own below its first row
    assert one[15][0] == "养老服务" and one[-1][0] is None  # the category starts on page 1 ...
    assert two[1][0] == "" and two[2][0] is None  # ... and goes on at the top of page 2, empty
    if broken:  # with the rest of the broken row
        assert one[-1][1] == str(broken) and two[1][1] == "" and two[1][2]
    else:
        assert two[1][1] == str(int(one[-1][1]) + 1)


def test_task_table_across_a_page_reads_in_the_row_model(task_pdf):
    broken, path = task_pdf
    got = read_pdf(path, path.read_bytes())
    assert got.text.split("\n") == _expected_lines(broken)
    assert len(got.pages) == 2
    last = _cells(path, 0)[-1][1]  # each row on the page it starts on
    assert got.text[got.pages[1] :].startswith(f"序号：{int(last) + 1}；")


def test_pdf_table_gives_the_clauses_of_the_same_docx_table(task_pdf, tmp_path):
    broken, path = task_pdf

    def clauses(path: Path) -> list[tuple[str, tuple[str, ...], str]]:
        return [(c.label, c.headings, c.text) for c in split_document(load_file(path))]

    from_pdf = clauses(path)
    from_docx = clauses(task_docx(tmp_path / "任务分工表.docx", broken))
    expected = [
        (f"序号 {row[1]}", (CAPTION, row[0]), "；".join(f"{k}：{v}" for k, v in zip(HEADER[1:], row[1:])))
        for row in _rows(broken)
    ]
    assert from_pdf == expected
    assert from_docx == expected


def test_table_lines_by_row_says_where_each_line_comes_from():
    grid = [
        [Cell(), Cell()],
        [Cell("类别"), Cell("序号"), Cell("重点任务")],
        [Cell("食品安全"), Cell("1"), Cell("快检室建设")],
        [Cell(up=True), Cell("2"), Cell("专项整治")],
    ]
    assert table_lines_by_row(grid) == [
        (1, "类别\t序号\t重点任务"),
        (2, "食品安全"),
        (2, "序号：1；重点任务：快检室建设"),
        (3, "序号：2；重点任务：专项整治"),
    ]
    assert [line for _, line in table_lines_by_row(grid)] == table_lines(grid)
