"""Spreadsheets (#19 item 1): .xlsx/.xlsm by openpyxl, .xls/.et through LibreOffice, .csv; one clause per row.

Fixtures are made by the tests: openpyxl writes the workbooks (merged header, category rows,
a category column merged down, an empty row, a 合计 row, a hidden sheet), LibreOffice turns
one into .xls (and calculates its formulas), and the CSV is written in GB18030 with ";".
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from rag.citing.cite import citation
from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.reading.load import load_file
from rag.reading.readers import office, reader_for, sheet
from rag.reading.readers.table import Cell, table_lines
from rag.search.retrieve import Searcher
from rag.storage.index import ClauseIndex
from rag.storage.store import DocInfo
from rag.text.rows import parse_row, render_row, row_label
from rag.text.split import split_document
from tests.reading.test_read_office import fake_ole

needs_lo = pytest.mark.skipif(office.available() is not None, reason="LibreOffice (soffice) not installed")

KEYS = ["序号", "重点任务", "责任单位·牵头单位", "责任单位·配合单位", "完成时限"]
ROW1 = (
    "序号：1；重点任务：农贸市场快检室建设；责任单位·牵头单位：市场监管局；责任单位·配合单位：商务局；"
    "完成时限：2024年6月底前"
)
ROW2 = "序号：2；重点任务：餐厨废弃物处置；责任单位·牵头单位：城管局；完成时限：2024年三季度"
ROW3 = "序号：3；重点任务：食品抽检；责任单位·牵头单位：市场监管局；责任单位·配合单位：环保局；完成时限：长期坚持"
TOTAL = "序号：合计；责任单位·牵头单位：3项"
TEXT = "\n".join([
    "# 任务分工",
    "2024年食品安全重点工作任务分工表",
    "\t".join(KEYS),
    "一、基础设施建设",
    ROW1,
    ROW2,
    "二、监管执法",
    ROW3,
    TOTAL,
    "# 按类别",
    "类别\t任务\t责任单位\t时间节点",
    "基础设施",
    "任务：建设快检室；责任单位：市场监管局；时间节点：2024年9月",
    "任务：改造市场；责任单位：商务局；时间节点：2024年12月底前",
    "监管",
    "任务：抽检；责任单位：环保局；时间节点：持续推进",
])  # fmt: skip
CAPTION = ("任务分工", "2024年食品安全重点工作任务分工表")
CLAUSES = [
    ("序号 1", (*CAPTION, "一、基础设施建设"), ROW1),
    ("序号 2", (*CAPTION, "一、基础设施建设"), ROW2),
    ("序号 3", (*CAPTION, "二、监管执法"), ROW3),
    ("第4行", (*CAPTION, "二、监管执法"), TOTAL),
    ("第1行", ("按类别", "基础设施"), "任务：建设快检室；责任单位：市场监管局；时间节点：2024年9月"),
    ("第2行", ("按类别", "基础设施"), "任务：改造市场；责任单位：商务局；时间节点：2024年12月底前"),
    ("第3行", ("按类别", "监管"), "任务：抽检；责任单位：环保局；时间节点：持续推进"),
]


def task_workbook(path: Path) -> Path:
    """A 任务分工表: title row, a two-row header (责任单位 over 牵头/配合), category rows merged across,
    an empty row, a 合计 row; and a hidden sheet whose 类别 column is merged down."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "任务分工"
    ws.append(["2024年食品安全重点工作任务分工表"])
    ws.append(["序号", "重点任务", "责任单位", None, "完成时限"])
    ws.append([None, None, "牵头单位", "配合单位", None])
    ws.append(["一、基础设施建设"])
    ws.append([1, "农贸市场快检室建设", "市场监管局", "商务局", "2024年6月底前"])
    ws.append([2, "餐厨废弃物处置", "城管局", None, "2024年三季度"])
    ws.append([None] * 5)
    ws.append(["二、监管执法"])
    ws.append([3, "食品抽检", "市场监管局", "环保局", "长期坚持"])
    ws.append(["合计", None, "3项", None, None])
    for rng in ("A1:E1", "A2:A3", "B2:B3", "C2:D2", "E2:E3", "A4:E4", "A8:E8"):
        ws.merge_cells(rng)
    ws2 = wb.create_sheet("按类别")
    ws2.append(["类别", "任务", "责任单位", "时间节点"])
    ws2.append(["基础设施", "建设快检室", "市场监管局", "2024年9月"])
    ws2.append([None, "改造市场", "商务局", "2024年12月底前"])
    ws2.append(["监管", "抽检", "环保局", "持续推进"])
    ws2.merge_cells("A2:A3")
    ws2.sheet_state = "hidden"
    wb.save(path)
    return path


def soffice_convert(src: Path, fmt: str, outdir: Path) -> Path:
    """LibreOffice as the test's fixture maker (not the code under test)."""
    cmd = [office.soffice(), f"-env:UserInstallation={(outdir / 'profile').as_uri()}", "--headless", "--norestore",
           "--convert-to", fmt, "--outdir", str(outdir), str(src)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    return outdir / f"{src.stem}.{fmt}"


def clauses_of(path: Path) -> list[tuple[str, tuple[str, ...], str]]:
    doc = load_file(path)
    out = []
    for c in split_document(doc):
        assert doc.text[c.start : c.end] == c.text
        out.append((c.label, c.headings, c.text))
    return out


def test_row_text_round_trip():
    line = render_row([("序号", "1"), ("重点任务", "建设；配备：设备"), ("责任单位", ""), ("完成时限", "6月")])
    assert line == "序号：1；重点任务：建设；配备：设备；完成时限：6月"
    pairs = parse_row(line, ["序号", "重点任务", "责任单位", "完成时限"])
    assert pairs == [("序号", "1"), ("重点任务", "建设；配备：设备"), ("完成时限", "6月")]
    assert row_label(pairs, 5) == "序号 1"
    assert row_label([("序号", "合计")], 5) == "第5行"
    assert parse_row("一、基础设施建设", ["序号", "重点任务"]) is None


def test_xlsx_text_clauses_and_notes(tmp_path):
    path = task_workbook(tmp_path / "2024年重点任务分工表.xlsx")
    ex = sheet.read_xlsx(path, path.read_bytes())
    assert ex.text == TEXT
    assert ex.title == "2024年重点任务分工表"
    assert ex.notes == ("hidden sheets read: 按类别",)
    assert clauses_of(path) == CLAUSES


def test_citation_names_workbook_sheet_and_serial(tmp_path):
    path = task_workbook(tmp_path / "2024年重点任务分工表.xlsx")
    doc = load_file(path)
    clauses = split_document(doc)
    info = DocInfo.from_document(doc, len(clauses))
    assert doc.kind == "xlsx"
    assert citation(info, clauses[0]) == (
        "《2024年重点任务分工表》 › 任务分工 › 2024年食品安全重点工作任务分工表 › 一、基础设施建设 › 序号 1"
    )
    assert citation(info, clauses[5]) == "《2024年重点任务分工表》 › 按类别 › 基础设施 › 第2行"


def test_values_shown_as_excel_shows_them(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "指标"
    ws.append(["指标", "目标值", "截止日期", "完成率"])
    ws.append(["抽检批次", 1200.0, dt.datetime(2024, 6, 30), 0.955])
    ws["D2"].number_format = "0.0%"
    ws.append(["快检室", 12, dt.date(2024, 9, 30), 1])
    ws["C3"].number_format = 'yyyy"年"m"月"d"日"'
    ws["D3"].number_format = "0%"
    path = tmp_path / "指标.xlsm"
    wb.save(path)
    assert sheet.read_xlsx(path, path.read_bytes()).text.splitlines()[2:] == [
        "指标：抽检批次；目标值：1200；截止日期：2024-06-30；完成率：95.5%",
        "指标：快检室；目标值：12；截止日期：2024年9月30日；完成率：100%",
    ]


def test_table_model_plain_and_single_column():
    grid = [[Cell("甲"), Cell("乙")], [Cell("1"), Cell("2")]]  # no header words, one data row: a plain table
    assert table_lines(grid) == ["甲\t乙", "1\t2"]
    assert table_lines(grid, header=True) == ["甲\t乙", "甲：1；乙：2"]
    assert table_lines([[Cell("一段话")], [Cell("")], [Cell("二段话")]]) == ["一段话", "二段话"]


def test_csv_gb18030_semicolons(tmp_path):
    body = "重点任务;责任单位;完成时限\n河道清淤;水利局;2024年6月底前\n\n;;\n垃圾分类;城管局;长期坚持\n"
    path = tmp_path / "分工.csv"
    path.write_bytes(body.encode("gb18030"))
    assert clauses_of(path) == [
        ("第1行", (), "重点任务：河道清淤；责任单位：水利局；完成时限：2024年6月底前"),
        ("第2行", (), "重点任务：垃圾分类；责任单位：城管局；完成时限：长期坚持"),
    ]
    assert load_file(path).title == "分工"


def test_broken_workbook_is_a_clear_error(tmp_path):
    path = tmp_path / "坏.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="not a readable zip"):
        load_file(path)


def test_ole_workbook_goes_to_the_sheet_reader_and_word_to_doc():
    assert reader_for(Path("表格.xls"), fake_ole("Workbook")).name == "xls"
    assert reader_for(Path("改了名.doc"), fake_ole("Workbook")).name == "xls"
    assert reader_for(Path("旧表.et"), fake_ole("Book")).name == "xls"
    assert reader_for(Path("通知.doc"), fake_ole("WordDocument")).name == "doc"
    assert reader_for(Path("通知.xls"), fake_ole("WordDocument")).name == "doc"


@needs_lo
def test_xls_and_et_read_like_the_xlsx(tmp_path):
    src = task_workbook(tmp_path / "任务.xlsx")
    xls = soffice_convert(src, "xls", tmp_path / "out")
    et = shutil.copy(xls, tmp_path / "任务.et")
    assert reader_for(xls, xls.read_bytes()).name == "xls"
    assert clauses_of(xls) == CLAUSES
    assert clauses_of(Path(et)) == CLAUSES


@needs_lo
def test_xls_formulas_read_as_calculated(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["项目", "数量", "单价", "金额"])
    ws.append(["快检设备", 2, 150, "=B2*C2"])
    src = tmp_path / "预算.xlsx"
    wb.save(src)
    assert sheet.read_xlsx(src, src.read_bytes()).text.splitlines()[2] == "项目：快检设备；数量：2；单价：150"
    xls = soffice_convert(src, "xls", tmp_path / "out")
    assert load_file(xls).text.splitlines()[2] == "项目：快检设备；数量：2；单价：150；金额：300"


def test_spreadsheet_question_finds_the_row_first(tmp_path):
    lib = tmp_path / "library"
    lib.mkdir()
    task_workbook(lib / "2024年重点任务分工表.xlsx")
    (lib / "食品安全工作方案.txt").write_text(
        "一、工作目标\n1.全面提升农贸市场食品安全水平，各单位按职责分工负责。\n"
        "二、保障措施\n1.市场监管局负责统筹协调，各单位加强配合。\n",
        encoding="utf-8",
    )
    index = tmp_path / "index"
    ingest([lib], index, parse_spec("hash:64"), show_progress=False)
    hits = Searcher(ClauseIndex.load(index)).search("农贸市场快检室建设由哪个单位负责？", k=3)
    assert hits[0].clause.text == ROW1
    assert hits[0].citation.startswith("《2024年重点任务分工表》 › 任务分工")
