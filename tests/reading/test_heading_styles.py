"""Word heading styles as structure (#19 item 5): a .docx whose sections are only styled as
headings (Heading 1/2, 标题 N, custom styles based on them, w:outlineLvl) splits along them."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from rag.reading.load import load_file
from rag.reading.readers.word import read_docx
from rag.text.split import split_document
from tests import docgen as g

TITLE = "宁波市养老服务体系建设实施方案"


def _outline_lvl(paragraph, level: int) -> None:
    """w:outlineLvl set on the paragraph itself (direct formatting, as Word's Paragraph dialog does)."""
    el = OxmlElement("w:outlineLvl")
    el.set(qn("w:val"), str(level))
    paragraph._p.get_or_add_pPr().append(el)


def styled_plan(folder: Path) -> Path:
    """A 实施方案 structured by heading styles only: no typed numbers except one item."""
    d = docx.Document()
    custom = d.styles.add_style("方案小标题", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    custom.base_style = d.styles["Heading 2"]
    d.add_paragraph(TITLE, style="Title")
    d.add_paragraph("总体要求", style="Heading 1")
    d.add_paragraph("坚持稳中求进工作总基调，统筹推进养老服务体系建设。")
    d.add_paragraph("工作目标", style="Heading 2")
    d.add_paragraph("到2025年底，全市养老服务体系基本建成。")
    d.add_paragraph("每个街道至少建成1家综合性养老服务中心。")
    d.add_paragraph("基本原则", style="方案小标题")
    d.add_paragraph("政府主导，社会参与。")
    _outline_lvl(d.add_paragraph("保障措施"), 0)
    d.add_paragraph("（一）加强组织领导", style="Heading 2")
    d.add_paragraph("各地要建立工作专班，每季度研究一次。")
    d.add_paragraph("资金保障", style="Heading 2")
    d.add_paragraph("市财政每年安排专项资金。")
    path = folder / "plan.docx"
    d.save(path)
    return path


def test_heading_styles_give_the_clauses_and_their_paths(tmp_path):
    doc = load_file(styled_plan(tmp_path))
    assert doc.title == TITLE
    cs = split_document(doc)
    assert [(c.label, c.headings, c.text) for c in cs] == [
        ("总体要求", (), "总体要求\n坚持稳中求进工作总基调，统筹推进养老服务体系建设。"),
        ("工作目标", ("总体要求",),
         "工作目标\n到2025年底，全市养老服务体系基本建成。\n每个街道至少建成1家综合性养老服务中心。"),
        ("基本原则", ("总体要求",), "基本原则\n政府主导，社会参与。"),  # a custom style based on Heading 2
        ("（一）", ("保障措施",), "保障措施\n（一）加强组织领导\n各地要建立工作专班，每季度研究一次。"),  # outlineLvl 0
        ("资金保障", ("保障措施",), "资金保障\n市财政每年安排专项资金。"),
    ]  # fmt: skip
    assert all(doc.text[c.start : c.end] == c.text for c in cs)


def test_without_the_styles_the_same_text_is_one_clause(tmp_path):
    d = docx.Document()
    for line in ("总体要求", "坚持稳中求进工作总基调。", "工作目标", "到2025年底基本建成。"):
        d.add_paragraph(line)
    d.save(tmp_path / "plain.docx")
    assert [c.text for c in split_document(load_file(tmp_path / "plain.docx"))] == [
        "总体要求\n坚持稳中求进工作总基调。\n工作目标\n到2025年底基本建成。"
    ]


def test_outline_levels_by_style_name_id_chain_and_direct_formatting(tmp_path):
    """Chinese Word's ids ("1") with English names, WPS's 标题 N names, no outlineLvl in the styles;
    outlineLvl 9 on the paragraph makes a heading-styled paragraph body text; tables are not headings."""
    styles = (
        g.style("1", "heading 1")
        + g.style("2", "标题 2")
        + g.style("MyHead", "我的标题", based_on="2")
        + g.style("Plain", "正文缩进", based_on="Normal")
    )
    body = (
        g.p("第一部分", style="1")
        + g.p("正文一。")
        + g.p("小节", style="MyHead")
        + g.p("正文二。", style="Plain")
        + g.p("不是标题", style="2", ppr='<w:outlineLvl w:val="9"/>')
        + g.table([[g.p("表头", style="1"), g.p("值")], [g.p("甲"), g.p("1")]])
        + g.p("大纲级别3", ppr='<w:outlineLvl w:val="2"/>')
    )
    path = g.write_docx(tmp_path / "ids.docx", body, styles=styles)
    ex = read_docx(path, path.read_bytes())
    lines = ex.text.split("\n")
    assert lines == ["第一部分", "正文一。", "小节", "正文二。", "不是标题", "表头\t值", "甲\t1", "大纲级别3"]
    at = {ex.text.index(line): line for line in lines}
    assert [(at[o], level) for o, level in ex.outline] == [("第一部分", 1), ("小节", 2), ("大纲级别3", 3)]
