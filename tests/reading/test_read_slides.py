"""Slide decks: .pptx by python-pptx, .ppt through LibreOffice; a slide is a section 第N页 titled by
its title placeholder, shapes in reading order, groups, tables as rows, speaker notes marked.

The deck is made by the test with python-pptx: a title slide, a slide whose three text boxes
were added out of reading order, a slide with a table (a category cell merged down, a cell
merged across) and notes, an untitled slide holding a group, an empty slide, a closing
title-only slide. The .ppt is that deck saved by LibreOffice (`soffice --convert-to ppt`, in a
private profile); the .dps is the .ppt under a WPS name.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pptx import Presentation
from pptx.util import Inches

from rag.citing.cite import citation
from rag.reading.load import load_file
from rag.reading.readers import office, reader_for, slides
from rag.storage.store import DocInfo
from rag.text.split import split_document

DECK_TITLE = "2024年优化营商环境工作部署"
TITLE, TITLE_ONLY, BLANK = 0, 5, 6  # layouts of python-pptx's default template

# The text the reader gives: one line per paragraph / table row, slide after slide.
LINES = [
    DECK_TITLE,  # 第1页
    "青山市发展和改革委员会",
    "工作目标",  # 第2页
    "（一）推进政务服务一网通办，企业开办一个工作日办结。",
    "（二）压缩工程建设项目审批时限。",
    "（三）强化事中事后监管。",
    "备注：本页重点讲解审批时限，举例说明。",
    "重点任务",  # 第3页
    "类别\t序号\t任务\t责任单位",  # the shared row model: header, category lines, "列名：值；…" rows
    "营商环境",
    "序号：1；任务：企业开办一网通办；责任单位：市市场监管局",
    "序号：2；任务：工程项目审批提速；责任单位：市住建局",
    "监管",
    "序号：3；任务：跨部门联合监管",
    "备注：责任单位以正式文件为准。",
    "联系人：王明",  # 第4页 (untitled: a group, then a box below it)
    "电话：0791-12345678",
    "请各单位于6月底前报送进展。",
    "谢谢",  # 第6页 (第5页 is empty)
]


def _box(shapes, left: float, top: float, *paras: str):
    box = shapes.add_textbox(Inches(left), Inches(top), Inches(4), Inches(0.6))
    tf = box.text_frame
    tf.text = paras[0]
    for p in paras[1:]:
        tf.add_paragraph().text = p
    return box


def build_deck(path: Path) -> Path:
    prs = Presentation()
    prs.core_properties.title = ""
    s = prs.slides.add_slide(prs.slide_layouts[TITLE])
    s.shapes.title.text = DECK_TITLE
    s.placeholders[1].text = "青山市发展和改革委员会"

    s = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    s.shapes.title.text = "工作目标"
    _box(s.shapes, 1, 4, "（三）强化事中事后监管。")  # added first, lowest on the slide
    _box(s.shapes, 5, 2.5, "（二）压缩工程建设项目审批时限。")  # right
    # left, same height; a soft line break inside the paragraph, as Shift+Enter types it
    left = _box(s.shapes, 0.5, 2.5, "（一）推进政务服务一网通办，")
    left.text_frame.paragraphs[0].add_line_break()
    left.text_frame.paragraphs[0].add_run().text = "企业开办一个工作日办结。"
    s.notes_slide.notes_text_frame.text = "本页重点讲解审批时限，举例说明。"

    s = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    s.shapes.title.text = "重点任务"
    rows = [["类别", "序号", "任务", "责任单位"], ["营商环境", "1", "企业开办一网通办", "市市场监管局"],
            ["", "2", "工程项目审批提速", "市住建局"], ["监管", "3", "跨部门联合监管", ""],
            ["", "", "", ""]]  # fmt: skip
    table = s.shapes.add_table(len(rows), 4, Inches(0.5), Inches(1.8), Inches(9), Inches(3)).table
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 0).merge(table.cell(2, 0))  # the category cell merged down over its two rows
    table.cell(3, 2).merge(table.cell(3, 3))  # the task's cell spans the unit's column
    s.notes_slide.notes_text_frame.text = "责任单位以正式文件为准。"

    s = prs.slides.add_slide(prs.slide_layouts[BLANK])
    _box(s.shapes, 1, 5, "请各单位于6月底前报送进展。")
    group = s.shapes.add_group_shape()
    _box(group.shapes, 1, 2.8, "电话：0791-12345678")
    _box(group.shapes, 1, 2, "联系人：王明")

    prs.slides.add_slide(prs.slide_layouts[BLANK])  # nothing on it

    s = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    s.shapes.title.text = "谢谢"
    prs.save(path)
    return path


@pytest.fixture(scope="module")
def deck(tmp_path_factory) -> Path:
    return build_deck(tmp_path_factory.mktemp("deck") / "营商环境培训.pptx")


def test_lines_in_reading_order(deck):
    ex = slides.read_slides(deck, deck.read_bytes())
    assert ex.text.split("\n") == LINES
    assert ex.title == DECK_TITLE
    assert [(path, ex.text[off:].split("\n", 1)[0]) for off, path in ex.sections] == [
        (("第1页",), DECK_TITLE),
        (("第2页",), "工作目标"),
        (("第2页", "工作目标"), "备注：本页重点讲解审批时限，举例说明。"),
        (("第3页",), "重点任务"),
        (("第3页", "重点任务"), "备注：责任单位以正式文件为准。"),
        (("第4页",), "联系人：王明"),
        (("第6页",), "谢谢"),
    ]
    assert [(ex.text[off:].split("\n", 1)[0], level) for off, level in ex.outline] == [
        (DECK_TITLE, 1), ("工作目标", 1), ("重点任务", 1), ("谢谢", 1),
    ]  # fmt: skip
    assert ex.notes == ()


DECK = "《2024年优化营商环境工作部署》"
CLAUSES = [
    (f"{DECK} › 第1页 › 2024年优化营商环境工作部署", "2024年优化营商环境工作部署\n青山市发展和改革委员会"),
    (f"{DECK} › 第2页 › 工作目标 › （一）", "工作目标\n（一）推进政务服务一网通办，企业开办一个工作日办结。"),
    (f"{DECK} › 第2页 › 工作目标 › （二）", "（二）压缩工程建设项目审批时限。"),
    (f"{DECK} › 第2页 › 工作目标 › （三）", "（三）强化事中事后监管。"),
    (f"{DECK} › 第2页 › 工作目标", "备注：本页重点讲解审批时限，举例说明。"),
    (f"{DECK} › 第3页 › 重点任务 › 营商环境 › 序号 1", "序号：1；任务：企业开办一网通办；责任单位：市市场监管局"),
    (f"{DECK} › 第3页 › 重点任务 › 营商环境 › 序号 2", "序号：2；任务：工程项目审批提速；责任单位：市住建局"),
    (f"{DECK} › 第3页 › 重点任务 › 监管 › 序号 3", "序号：3；任务：跨部门联合监管"),
    (f"{DECK} › 第3页 › 重点任务", "备注：责任单位以正式文件为准。"),
    (f"{DECK} › 第4页", "联系人：王明\n电话：0791-12345678\n请各单位于6月底前报送进展。"),
    (f"{DECK} › 第6页 › 谢谢", "谢谢"),
]


def _cited(path: Path) -> list[tuple[str, str]]:
    doc = load_file(path)
    clauses = split_document(doc)
    info = DocInfo.from_document(doc, len(clauses))
    for c in clauses:
        assert doc.text[c.start : c.end] == c.text
    return [(citation(info, c), c.text) for c in clauses]


def test_clauses_and_citations(deck):
    doc = load_file(deck)
    assert (doc.kind, doc.title) == ("slides", DECK_TITLE)
    assert _cited(deck) == CLAUSES


def soffice_convert(src: Path, fmt: str, outdir: Path) -> Path:
    """Save `src` as `fmt` with LibreOffice in a private profile (the test's fixture maker, not the code under test)."""
    profile = (outdir / "profile").as_uri()
    cmd = [office.soffice(), f"-env:UserInstallation={profile}", "--headless", "--norestore", "--nolockcheck",
           "--convert-to", fmt, "--outdir", str(outdir), str(src)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=180)
    return outdir / f"{src.stem}.{fmt}"


@pytest.fixture(scope="module")
def ppt(deck, tmp_path_factory) -> Path:
    if office.available() is not None:
        pytest.skip("LibreOffice (soffice) not installed: the .ppt fixture is saved by it")
    return soffice_convert(deck, "ppt", tmp_path_factory.mktemp("ppt"))


def test_ppt_and_dps_through_libreoffice(ppt, tmp_path):
    data = ppt.read_bytes()
    assert data.startswith(office.OLE_MAGIC) and slides.sniff(data)
    assert slides.read_slides(ppt, data).text.split("\n") == LINES
    assert _cited(ppt) == CLAUSES
    dps = tmp_path / "培训 'a;b' $(x).dps"  # WPS 演示 files are PowerPoint 97 files; an odd name never reaches a shell
    dps.write_bytes(data)
    assert _cited(dps) == CLAUSES


def test_registry_goes_by_content(deck, tmp_path):
    from tests.reading.test_read_office import fake_ole

    pptx_bytes = deck.read_bytes()
    for name in ("a.pptx", "a.docx", "a.zip"):
        assert reader_for(name, pptx_bytes).name == "slides", name
    for name in ("a.ppt", "a.dps", "a.doc", "a.wps"):
        assert reader_for(name, fake_ole("PowerPoint Document", "Current User")).name == "slides", name
    assert reader_for("a.doc", fake_ole("WordDocument")).name == "doc"
    assert reader_for("a.ppt", fake_ole("WordDocument")).name == "doc"
    with pytest.raises(ValueError, match="encrypted"):
        slides.read_slides(Path("a.pptx"), fake_ole("EncryptedPackage", "EncryptionInfo"))


def test_furniture_hidden_slides_and_empty_decks(tmp_path):
    prs = Presentation()
    s = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    s.shapes.title.text = "一、总体要求"  # a numbered title keeps its number's structure
    for ph in s.slide_layout.placeholders:
        if ph.placeholder_format.idx:
            s.shapes.clone_placeholder(ph)
    for ph, text in zip(list(s.placeholders)[1:], ("2024年5月", "青山市发展和改革委员会", "2")):
        ph.text = text  # date, footer, slide number: page furniture
    _box(s.shapes, 1, 2, "坚持问题导向。\t坚持系统观念。")  # a TAB typed in a box is not a table
    s = prs.slides.add_slide(prs.slide_layouts[BLANK])
    _box(s.shapes, 1, 2, "内部参考，不对外。")
    s.element.set("show", "0")
    path = tmp_path / "deck.pptx"
    prs.save(path)
    ex = slides.read_slides(path, path.read_bytes())
    assert ex.text.split("\n") == ["一、总体要求", "坚持问题导向。 坚持系统观念。", "内部参考，不对外。"]
    assert ex.notes == ("hidden slides read: 第2页",)
    assert _cited(path) == [
        ("《一、总体要求》 › 第1页 › 一、", "一、总体要求\n坚持问题导向。 坚持系统观念。"),
        ("《一、总体要求》 › 第2页", "内部参考，不对外。"),
    ]

    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[BLANK])
    s = prs.slides.add_slide(prs.slide_layouts[BLANK])
    s.shapes.add_picture(str(_png(tmp_path)), Inches(1), Inches(1))
    empty = tmp_path / "pictures.pptx"
    prs.save(empty)
    with pytest.raises(ValueError, match=r"no text on any slide \(2 slides; pictures only\?\)"):
        load_file(empty)


def _png(tmp_path: Path) -> Path:
    from PIL import Image

    f = tmp_path / "p.png"
    Image.new("RGB", (8, 8), "red").save(f)
    return f


# The folder of all the new formats (decks, .mht, workbooks, broken ones): tests/reading/test_new_formats_folder.py
