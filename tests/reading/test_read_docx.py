"""The .docx reader: Word's automatic numbering rendered so that a document reads the same
as its typed twin, and tables, notes, text boxes, fields, revisions, furniture, hostile files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest

from rag.reading.readers import word
from rag.reading.readers.word import format_number, read_docx, sniff
from rag.text.split import split_clauses
from tests import docgen as g


def _read(path: Path) -> word.Extracted:
    return read_docx(path, path.read_bytes())


def _lines(path: Path) -> list[str]:
    return _read(path).text.split("\n")


def _clauses(text: str) -> list[tuple[str, tuple[str, ...], str]]:
    return [(c.label, c.headings, c.text) for c in split_clauses(text)]


def _rewrite(src: Path, dst: Path, fn) -> Path:
    """Copy a package, passing every XML part through `fn(name, text) -> text`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name.endswith((".xml", ".rels")):
                data = fn(name, data.decode("utf-8")).encode("utf-8")
            zout.writestr(name, data)
    return dst


# ------------------------------------------------------------------ typed == auto


def test_policy_pair_reads_the_same(tmp_path):
    typed, auto = g.policy_pair(tmp_path)
    t, a = _read(typed), _read(auto)
    assert a.text == t.text
    expected = [g.POLICY_TITLE] + [label + text for _level, label, text in g.POLICY]
    assert t.text.split("\n") == expected
    assert a.text.split("\n")[1:8] == [
        g.POLICY[0][2],
        "一、坚持党的全面领导，加强教育系统党的建设",
        "（一）强化理论武装。深入学习贯彻党的二十大精神，健全党委（党组）理论学习中心组学习制度，全年开展集中学习不少于12次。",
        "（二）夯实基层党建。",
        "1.实施中小学校党组织领导的校长负责制，年底前实现全覆盖。",
        "2.开展“一校一品”党建品牌创建活动，培育市级示范党组织20个。",
        "3.加强党员队伍建设，全年发展教师党员不少于300名。",
    ]
    lines = a.text.split("\n")
    # （一） restarts under 二、, 1. under each （X）, （1） under each 1./2.
    assert lines[lines.index("二、落实立德树人根本任务，促进学生全面发展") + 1] == "（一）深化思政课改革创新。"
    assert "（3）持续规范校外培训，严查违规培训行为。" in lines
    assert a.title == g.POLICY_TITLE
    assert sum(1 for level, _, _ in g.POLICY if level is not None) >= 20


def test_policy_pair_splits_the_same(tmp_path):
    typed, auto = g.policy_pair(tmp_path)
    ct, ca = _clauses(_read(typed).text), _clauses(_read(auto).text)
    assert ca == ct
    assert len(ca) == 20
    assert ("（2）", ("二、落实立德树人根本任务", "（一）深化思政课改革创新", "1.推进大中小学思政课一体化建设")) in [
        (label, heads) for label, heads, _ in ca
    ]


def test_regulation_pair_reads_and_splits_the_same(tmp_path):
    typed, auto = g.regulation_pair(tmp_path)
    t, a = _read(typed).text, _read(auto).text
    assert a == t
    assert a.split("\n")[:4] == [
        g.REGULATION_TITLE,
        "第一章\u3000总则",
        "第一条\u3000为了促进城市绿化事业的发展，改善生态环境，美化生活环境，根据有关法律、法规，结合本市实际，制定本条例。",
        "第二条\u3000本条例适用于本市城市规划区内城市绿化的规划、建设、保护和管理。",
    ]
    lines = a.split("\n")
    # articles run on across chapters; items restart after each article
    assert lines[lines.index("第三章\u3000保护和管理") + 1].startswith("第十条\u3000")
    assert lines[lines.index("第十一条\u3000禁止下列损害城市绿化的行为：") + 1] == "（一）在绿地内倾倒垃圾、堆放杂物；"
    assert lines[-1].startswith("第二十一条\u3000")
    ct, ca = _clauses(t), _clauses(a)
    assert ca == ct
    articles = sum(1 for kind, _, _ in g.REGULATION if kind == "article")
    assert [label for label, _, _ in ca].count("") == 1 and len(ca) == articles + 1
    assert ca[1][:2] == ("第一条", ("第一章 总则",))


def test_regulation_in_two_lists_reads_the_same(tmp_path):
    typed, _auto = g.regulation_pair(tmp_path)
    assert _read(g.regulation_two_lists(tmp_path)).text == _read(typed).text


# ------------------------------------------------------------------ numbering details


def test_numbering_formats_and_restarts(tmp_path):
    assert _lines(g.numbering_formats(tmp_path)) == g.NUMBERING_FORMATS_LINES


@pytest.mark.parametrize(
    ("fmt", "values", "expected"),
    [
        ("chineseCountingThousand", [1, 10, 11, 20, 21, 99, 100, 101, 110, 111, 1000, 1001, 1010, 10000, 20300],
         ["一", "十", "十一", "二十", "二十一", "九十九", "一百", "一百零一", "一百一十", "一百一十一", "一千",
          "一千零一", "一千零一十", "一万", "二万零三百"]),
        ("chineseCounting", [1, 10, 11, 20, 35, 100, 101], ["一", "十", "十一", "二十", "三十五", "一○○", "一○一"]),
        ("taiwaneseCounting", [12], ["十二"]),
        ("japaneseCounting", [10, 11, 100, 101, 110, 1000], ["十", "十一", "百", "百一", "百十", "千"]),
        ("chineseLegalSimplified", [1, 10, 11, 101], ["壹", "壹拾", "壹拾壹", "壹佰零壹"]),
        ("ideographTraditional", [1, 4, 10, 11], ["甲", "丁", "癸", "11"]),
        ("ideographZodiac", [1, 12, 13], ["子", "亥", "13"]),
        ("decimalEnclosedCircle", [1, 10, 20, 21], ["①", "⑩", "⑳", "21"]),
        ("decimalEnclosedCircleChinese", [3], ["③"]),
        ("decimalFullWidth", [1, 12], ["１", "１２"]),
        ("decimalZero", [1, 10], ["01", "10"]),
        ("upperRoman", [1, 4, 9, 14, 2024], ["I", "IV", "IX", "XIV", "MMXXIV"]),
        ("lowerRoman", [3], ["iii"]),
        ("upperLetter", [1, 26, 27, 28], ["A", "Z", "AA", "BB"]),
        ("lowerLetter", [2], ["b"]),
        ("none", [5], [""]),
        ("bullet", [5], [""]),
        ("someFutureFormat", [7], ["7"]),
    ],
)  # fmt: skip
def test_format_number(fmt, values, expected):
    assert [format_number(v, fmt) for v in values] == expected


def test_format_number_hostile_values():
    assert format_number(10**9, "upperLetter") == str(10**9)  # no billion-letter string
    assert format_number(0, "upperRoman") == "0"


def test_label_separator_rule():
    sep = word._label_sep
    assert sep("第一条", "tab", "为了") == "\u3000"
    assert sep("第一章", "space", "总则") == "\u3000"
    assert sep("第一章", "nothing", "总则") == ""
    assert sep("一、", "tab", "总则") == ""
    assert sep("（一）", "space", "总则") == ""
    assert sep("1.", "tab", "总则") == ""
    assert sep("1.1", "tab", "总则") == " "
    assert sep("第一条", "tab", "\u3000为了") == ""  # the text brings its own space
    assert sep("第一条", "tab", "") == ""


def test_hidden_and_deleted_numbered_paragraphs_do_not_count(tmp_path):
    numbering = g.abstract_num(1, g.lvl(0, "chineseCounting", "%1、")) + g.num(1, 1)
    deleted_mark = '<w:rPr><w:del w:id="9" w:author="a"/></w:rPr>'
    deleted_run = '<w:del w:id="8" w:author="a"><w:r><w:delText>删</w:delText></w:r></w:del>'
    body = (
        g.p("总则", num_id=1)
        + g.p("", num_id=1, ppr=deleted_mark, inner=deleted_run)
        + g.p("", num_id=1, ppr="<w:rPr><w:vanish/></w:rPr>", inner=g.run("隐藏", rpr="<w:vanish/>"))
        + g.p("附则", num_id=1)
    )
    path = g.write_docx(tmp_path / "hidden.docx", body, numbering=numbering)
    assert _lines(path) == ["一、总则", "二、附则"]


def test_numbering_from_default_style_and_level_without_definition(tmp_path):
    numbering = g.abstract_num(1, g.lvl(0, "decimal", "%1)")) + g.num(1, 1)
    body = g.p("甲", num_id=1) + g.p("乙", num_id=1, ilvl=3) + g.p("丙", num_id=99) + g.p("丁", num_id=1)
    path = g.write_docx(tmp_path / "levels.docx", body, numbering=numbering)
    assert _lines(path) == ["1)甲", "乙", "丙", "2)丁"]


def test_lvl_restart_after_a_given_level(tmp_path):
    numbering = (
        g.abstract_num(
            1,
            g.lvl(0, "decimal", "%1."),
            g.lvl(1, "decimal", "%1.%2", suff="space"),
            g.lvl(2, "decimal", "(%3)", suff="nothing", restart=1),  # restarts only after level 1 (0-based 0)
        )
        + g.num(1, 1)
    )
    levels = [0, 2, 2, 1, 2, 0, 2]
    body = "".join(g.p("项", num_id=1, ilvl=i) for i in levels)
    path = g.write_docx(tmp_path / "restart.docx", body, numbering=numbering)
    assert _lines(path) == ["1.项", "(1)项", "(2)项", "1.1 项", "(3)项", "2.项", "(1)项"]


def test_list_style_link(tmp_path):
    """An abstractNum with numStyleLink takes its levels (and its counters) from the list style's abstractNum."""
    numbering = (
        '<w:abstractNum w:abstractNumId="1"><w:styleLink w:val="PolicyList"/>'
        + g.lvl(0, "chineseCounting", "%1、")
        + "</w:abstractNum>"
        + '<w:abstractNum w:abstractNumId="2"><w:numStyleLink w:val="PolicyList"/></w:abstractNum>'
        + g.num(1, 1)
        + g.num(2, 2)
    )
    styles = (
        '<w:style w:type="numbering" w:styleId="PolicyList"><w:name w:val="Policy List"/>'
        '<w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>'
    )
    body = g.p("总则", num_id=2) + g.p("分则", num_id=2) + g.p("附则", num_id=1)
    path = g.write_docx(tmp_path / "link.docx", body, numbering=numbering, styles=styles)
    assert _lines(path) == ["一、总则", "二、分则", "三、附则"]


def test_document_made_by_python_docx(tmp_path):
    d = docx.Document()
    d.core_properties.title = "测试标题"
    d.add_heading("总则", level=1)
    d.add_paragraph("第一项", style="List Number")
    d.add_paragraph("第二项", style="List Number")
    d.add_paragraph("要点", style="List Bullet")
    t = d.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "单位", (0, 1): "任务", (1, 0): "甲", (1, 1): "乙"}.items():
        t.cell(r, c).text = text
    path = tmp_path / "made.docx"
    d.save(str(path))
    x = _read(path)
    assert x.text.split("\n") == ["总则", "1.第一项", "2.第二项", "要点", "单位\t任务", "单位：甲；任务：乙"]
    assert x.title == "测试标题"


# ------------------------------------------------------------------ structure


def test_table_rows_caption_merges_nested_and_frame(tmp_path):
    lines = _lines(g.table_doc(tmp_path))
    assert lines == g.TABLE_LINES
    assert lines.index("表1 2024年重点任务分工表") + 1 == lines.index("序号\t重点任务\t牵头单位\t完成时限")
    assert all(line.startswith("序号：") and "\t" not in line for line in lines[2:7])  # rows name their columns


def test_footnotes_and_endnotes(tmp_path):
    assert _lines(g.notes_doc(tmp_path)) == g.NOTES_LINES


def test_footnote_citing_itself_does_not_loop(tmp_path):
    ref = g.run(inner='<w:footnoteReference w:id="1"/>')
    path = g.write_docx(tmp_path / "loop.docx", g.p("正文", inner=ref), footnotes={1: g.p("注释", inner=ref)})
    assert _lines(path) == ["正文[注1]", "[注1] 注释[注2] [注2]"]


def test_text_boxes_read_once_at_their_anchor(tmp_path):
    lines = _lines(g.textbox_doc(tmp_path))
    assert lines == g.TEXTBOX_LINES
    assert lines.count("某市教育局文件") == 1


def test_fields_revisions_breaks_and_no_page_furniture(tmp_path):
    x = _read(g.furniture_doc(tmp_path))
    assert x.text == "\n".join(g.FURNITURE_LINES)
    for furniture in ("某市人民政府办公室文件", "— 3 —", "12", "PAGE", "TOC", "DATE", "原定", "内部备注", "\t"):
        assert furniture not in x.text
    assert x.title == "某市城市管理办法"


def test_content_controls_and_math(tmp_path):
    def sdt(content: str, pr: str = "") -> str:
        return f"<w:sdt><w:sdtPr>{pr}</w:sdtPr><w:sdtContent>{content}</w:sdtContent></w:sdt>"

    toc_pr = '<w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj>'
    math = "<m:oMath><m:r><m:t>x+1</m:t></m:r></m:oMath>"
    body = (
        sdt(g.p("目录") + g.p("一、总则 1"), toc_pr)
        + sdt(g.p("单击或点击此处输入文字。"), "<w:showingPlcHdr/>")
        + sdt(g.p("正文段落"))
        + g.p("日期：", inner=sdt(g.run("2024年1月1日")))
        + g.p("公式", inner=math + g.run("成立"))
    )
    path = g.write_docx(tmp_path / "sdt.docx", body)
    assert _lines(path) == ["正文段落", "日期：2024年1月1日", "公式x+1成立"]


def test_soft_breaks():
    rb = word._resolve_breaks
    assert rb("关于进一步加强\n城市管理的通知") == "关于进一步加强城市管理的通知"
    assert rb("如下：\n1.第一项") == "如下：\n1.第一项"
    assert rb("第一句。\n第二句") == "第一句。\n第二句"
    assert rb("总则\n第一条　为了") == "总则\n第一条　为了"
    assert rb("Smart\nCity") == "Smart City"
    assert rb("\n开头与结尾\n") == "开头与结尾"


def test_strict_ooxml_reads_like_transitional(tmp_path):
    _typed, auto = g.policy_pair(tmp_path)
    strict_ns = {
        "http://schemas.openxmlformats.org/wordprocessingml/2006/main": "http://purl.oclc.org/ooxml/wordprocessingml/main",
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
            "http://purl.oclc.org/ooxml/officeDocument/relationships"
        ),
    }

    def to_strict(_name: str, xml: str) -> str:
        for old, new in strict_ns.items():
            xml = xml.replace(old, new)
        return xml

    strict = _rewrite(auto, tmp_path / "strict.docx", to_strict)
    assert _read(strict).text == _read(auto).text


def test_sniff_and_every_fixture_opens_in_python_docx(tmp_path):
    paths = [
        *g.policy_pair(tmp_path),
        *g.regulation_pair(tmp_path),
        g.regulation_two_lists(tmp_path),
        g.numbering_formats(tmp_path),
        g.table_doc(tmp_path),
        g.notes_doc(tmp_path),
        g.textbox_doc(tmp_path),
        g.furniture_doc(tmp_path),
    ]
    for path in paths:
        docx.Document(str(path))
        assert sniff(path.read_bytes())
    assert not sniff(b"plain text")


# ------------------------------------------------------------------ hostile and broken files


def test_dtd_and_entities_refused(tmp_path):
    _typed, auto = g.policy_pair(tmp_path)
    bomb = '<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'

    def add_dtd(name: str, xml: str) -> str:
        if name != "word/document.xml":
            return xml
        xml = xml.replace('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', "")
        return bomb + xml.replace("总体要求", "&b;", 1)

    path = _rewrite(auto, tmp_path / "dtd.docx", add_dtd)
    with pytest.raises(ValueError, match="DTD|DOCTYPE"):
        _read(path)


def test_external_entity_not_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    _typed, auto = g.policy_pair(tmp_path)

    def add_xxe(name: str, xml: str) -> str:
        if name != "word/numbering.xml":
            return xml
        return f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>' + xml.replace('w:val="%1、"', 'w:val="&e;"')

    with pytest.raises(ValueError):
        _read(_rewrite(auto, tmp_path / "xxe.docx", add_xxe))


def test_zip_bomb_part_refused(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b" " * (word.MAX_PART_BYTES + 1))
    with pytest.raises(ValueError, match="unpacked size .* over limit"):
        _read(path)


def test_total_unpacked_size_capped(tmp_path, monkeypatch):
    _typed, auto = g.policy_pair(tmp_path)
    monkeypatch.setattr(word, "MAX_TOTAL_BYTES", 2000)
    with pytest.raises(ValueError, match="over limit"):
        _read(auto)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not a zip at all", "not a .docx zip package"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "OLE"),
    ],
)
def test_not_a_package(data, reason):
    with pytest.raises(ValueError, match=reason):
        read_docx(Path("x.docx"), data)


def test_deep_nesting_refused_cleanly(tmp_path):
    inner = g.p("核心")
    for i in range(120):  # 360 XML levels: over libxml2's limit without huge_tree
        inner = g.table([[inner, g.p(str(i))]])
    with pytest.raises(ValueError, match="depth"):
        _read(g.write_docx(tmp_path / "deep.docx", inner))


def test_broken_parts(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(ValueError, match="no main document part"):
        read_docx(Path("x.docx"), buf.getvalue())

    _typed, auto = g.policy_pair(tmp_path)
    broken = _rewrite(auto, tmp_path / "broken.docx", lambda n, x: x[:-20] if n == "word/document.xml" else x)
    with pytest.raises(ValueError, match="not well-formed"):
        _read(broken)
    no_body = _rewrite(
        auto, tmp_path / "nobody.docx", lambda n, x: x.replace("w:body>", "w:bodx>") if n == "word/document.xml" else x
    )
    with pytest.raises(ValueError, match="no w:body"):
        _read(no_body)
