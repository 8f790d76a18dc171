"""Task rows across the library (#19 item 8): column recognition, deadlines, `rag tasks`, the app's 任务 view.

The test library holds three 任务分工表 made by the test: an .xlsx (openpyxl; the one of
tests/reading/test_read_sheet.py), a .docx whose 附件 table has a category row merged across
(python-docx), and a PDF table running over two pages with its header repeated and a row
broken across the page break (reportlab, tests/pdfgen.py).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.search.tasks import task_rows
from rag.storage.index import ClauseIndex
from rag.text.tasks import columns, normalise_deadline, row_fields, task_fields
from tests.conftest import REPO, run_cli
from tests.pdfgen import long_table_pdf
from tests.reading.test_read_sheet import task_workbook


@pytest.mark.parametrize(
    "written,date",
    [
        ("2024年6月底前", "2024-06-30"),
        ("2024年三季度", "2024-09-30"),
        ("2024年第四季度末", "2024-12-31"),
        ("2024年上半年", "2024-06-30"),
        ("2024年底前", "2024-12-31"),
        ("2025年年底", "2025-12-31"),
        ("2024年9月15日前", "2024-09-15"),
        ("2024-09-30", "2024-09-30"),
        ("2024年十二月", "2024-12-31"),
        ("2024年2月", "2024-02-29"),
        ("2024年3月启动，6月底前完成", "2024-06-30"),
        ("2024年", "2024-12-31"),
        ("长期坚持", None),
        ("持续推进", None),
        ("2024年起持续推进", None),
        ("每季度", None),
        ("6月底前", None),  # no year written: no date guessed
        ("", None),
    ],
)
def test_deadlines_normalised(written, date):
    assert normalise_deadline(written) == date


def test_columns_recognised():
    cols = columns(["序号", "重点任务", "责任单位·牵头单位", "责任单位·配合单位", "完成时限"])
    assert (cols.task, cols.units, cols.deadline) == (
        "重点任务",
        ("责任单位·牵头单位", "责任单位·配合单位"),
        "完成时限",
    )
    assert columns(["工作内容", "时间节点"]).is_task_table
    assert columns(["具体措施", "牵头部门"]).is_task_table
    assert not columns(["项目", "2022年", "2023年"]).is_task_table  # a 统计表
    assert not columns(["重点任务", "备注"]).is_task_table  # no unit, no deadline


def test_rows_read_back_in_both_forms():
    keyed = "序号：3；重点任务：建设；配备设备；牵头单位：市环保局；完成时限：2024年三季度"
    assert row_fields(keyed) == {
        "序号": "3",
        "重点任务": "建设；配备设备",
        "牵头单位": "市环保局",
        "完成时限": "2024年三季度",
    }
    path = ("附件", "序号｜重点任务｜责任单位｜完成时限")
    first = "附件\n序号\t重点任务\t责任单位\t完成时限\n1\t河道清淤\t市水利局\t2024年6月底前"
    t = task_fields(first, path)
    assert (t.task, t.units, t.deadline) == ("河道清淤", {"责任单位": "市水利局"}, "2024-06-30")
    assert task_fields("序号\t重点任务\t责任单位\t完成时限", path) is None  # the header line itself
    assert task_fields("一、总体要求：坚持问题导向；突出重点：抓落实") is None  # not a task table
    assert task_fields("1\t河道清淤\t市水利局") is None  # a TAB row with no header in its path


# ---------------------------------------------------------------- the library of three tables

PDF_ROWS = [
    [str(i), f"第{i}项：推进农贸市场食品安全快检能力建设，做好常态化监督检查和信息公开工作",
     "市环保局" if i % 5 == 0 else "市场监管局", f"2024年{(i - 1) % 12 + 1}月底前"]
    for i in range(1, 26)
]  # fmt: skip


def annex_docx(path: Path) -> Path:
    """A 工作方案 with its 附件 task table: a category row merged across, two rows for 环保局."""
    d = docx.Document()
    d.add_paragraph("关于印发生态环境保护工作方案的通知")
    d.add_paragraph("一、工作目标")
    d.add_paragraph("全面改善生态环境质量。")
    d.add_paragraph("附件")
    d.add_paragraph("生态环境保护重点任务分工表")
    rows = [
        ["序号", "重点任务", "责任单位", "完成时限"],
        ["一、大气污染防治", "", "", ""],
        ["1", "开展大气污染防治专项行动", "市环保局", "2024年三季度"],
        ["2", "推进餐饮油烟治理", "市城管局", "2024年底前"],
        ["二、水环境治理", "", "", ""],
        ["3", "河道水质监测", "市环保局、市水利局", "长期坚持"],
    ]
    t = d.add_table(rows=len(rows), cols=4)
    for r, values in enumerate(rows):
        for c, v in enumerate(values):
            t.cell(r, c).text = v
    for r in (1, 4):
        t.cell(r, 0).merge(t.cell(r, 3)).text = rows[r][0]
    d.save(str(path))
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tasks")
    lib = d / "library"
    lib.mkdir()
    task_workbook(lib / "2024年重点任务分工表.xlsx")
    annex_docx(lib / "生态环境保护工作方案.docx")
    long_table_pdf(lib, PDF_ROWS, name="快检能力建设任务.pdf", caption="附件 快检能力建设任务分工表")
    index = d / "index"
    ingest([lib], index, parse_spec("hash:64"), show_progress=False)
    return index


def test_pdf_table_over_two_pages_is_one_row_per_task(library):
    index = ClauseIndex.load(library)
    doc = next(d for d in index.docs.values() if d.kind == "pdf")
    assert len(doc.pages) == 2
    rows = [c for c in index.doc_clauses(doc.doc_id)]
    assert [c.label for c in rows] == [f"序号 {i}" for i in range(1, 26)]  # the repeated header is no row
    assert all(PDF_ROWS[i][1] in c.text for i, c in enumerate(rows))  # the row broken across the page is whole


def test_rag_tasks_unit_returns_exactly_its_rows(library, capsys):
    rc, out, _ = run_cli(capsys, "tasks", "--index", str(library), "--unit", "环保局", "--json")
    assert rc == 0
    got = [(r["task"], r["deadline"], r["deadline_text"]) for r in json.loads(out)]
    pdf = [(PDF_ROWS[i - 1][1], f"2024-{m:02d}-31", f"2024年{m}月底前") for i, m in ((5, 5), (10, 10), (15, 3),
                                                                                   (20, 8), (25, 1))]  # fmt: skip
    dates = [t[1] for t in got]
    assert dates == sorted(d for d in dates if d) + [None] * dates.count(None)  # soonest first, open-ended last
    assert sorted(got, key=str) == sorted([
        ("开展大气污染防治专项行动", "2024-09-30", "2024年三季度"),
        ("河道水质监测", None, "长期坚持"),
        ("食品抽检", None, "长期坚持"),
        ("抽检", None, "持续推进"),
        *pdf,
    ], key=str)  # fmt: skip
    rows = {r["task"]: r for r in json.loads(out)}
    assert rows["开展大气污染防治专项行动"]["citation"] == (
        "《关于印发生态环境保护工作方案的通知》 › 附件 › 生态环境保护重点任务分工表 › 一、大气污染防治 › 序号 1"
    )
    assert rows["食品抽检"]["units"] == {"责任单位·牵头单位": "市场监管局", "责任单位·配合单位": "环保局"}
    assert rows["食品抽检"]["citation"].startswith("《2024年重点任务分工表》 › 任务分工")
    assert rows[PDF_ROWS[4][1]]["citation"] == (  # the row model: no header in the path
        "《附件 快检能力建设任务分工表》 › 附件 快检能力建设任务分工表 › 序号 5（第1页）"
    )


def test_rag_tasks_due_before_and_text_output(library, capsys):
    rc, out, _ = run_cli(capsys, "tasks", "--index", str(library), "--unit", "环保局", "--due-before", "2024-09-30")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0::2] == [
        *(f"2024-{m:02d}-31\t市环保局\t{PDF_ROWS[i - 1][1]}" for i, m in ((25, 1), (15, 3), (5, 5), (20, 8))),
        "2024-09-30\t市环保局\t开展大气污染防治专项行动",
    ]
    assert lines[9].endswith("› 一、大气污染防治 › 序号 1（完成时限：2024年三季度）")
    rc, out, err = run_cli(capsys, "tasks", "--index", str(library), "--due-before", "2024年9月", "--json")
    assert rc == 2 and "expected YYYY-MM-DD" in json.loads(out)["error"]


def test_task_rows_and_app_view(library, monkeypatch):
    index = ClauseIndex.load(library)
    units = [r.unit_text for r in task_rows(index, unit="城管局")]
    assert units == ["城管局", "市城管局"]  # 2024年三季度 (xlsx) before 2024年底前 (docx)
    monkeypatch.setenv("RAG_INDEX", str(library))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()
    assert not at.exception
    at.text_input(key="task-unit").input("城管局").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["重点任务"]) == ["餐厨废弃物处置", "推进餐饮油烟治理"]
    assert list(table["完成时限"]) == ["2024-09-30", "2024-12-31"]
    assert "2024年重点任务分工表" in table["出处"][0]
    data = next(e for e in at.get("download_button")).proto.url
    assert data  # the .xlsx is offered
    book = openpyxl.load_workbook(io.BytesIO(_xlsx(index)))
    assert [c.value for c in book.active[1]] == ["完成时限（日期）", "重点任务", "责任单位", "完成时限", "出处"]


def test_task_rows_of_a_milvus_store_are_the_folders(library, tmp_path, capsys):
    """Through the Store protocol only: `rag tasks --store milvus:…` lists what it lists over the folder."""
    from rag.ingest.pipeline import ingest_milvus
    from rag.storage.stores import open_store

    db = str(tmp_path / "m.db")
    ingest_milvus([library.parent / "library"], db, "rag", tmp_path / "cache", parse_spec("hash:64"),
                  show_progress=False)  # fmt: skip
    folder = task_rows(ClauseIndex.load(library))
    assert folder and task_rows(open_store(f"milvus:{db}")) == folder
    rc, out, _ = run_cli(capsys, "tasks", "--store", f"milvus:{db}", "--unit", "城管局", "--json")
    assert rc == 0 and [r["task"] for r in json.loads(out)] == ["餐厨废弃物处置", "推进餐饮油烟治理"]


def _xlsx(index: ClauseIndex) -> bytes:
    from rag.search.tasks import to_xlsx

    return to_xlsx(task_rows(index, unit="城管局"))
