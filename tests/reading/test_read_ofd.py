"""OFD: reading order rebuilt from positions, wrapped lines joined, furniture out, hostile packages refused."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rag.reading.readers import ofd, reader_for
from tests import ofdgen
from tests.ofdgen import BODY, LEFT, Code, Obj, build_ofd, page_xml

GOLDEN = """\
某某市人民政府文件
某政发〔2024〕3号
关于加强安全生产工作的通知
各区县人民政府，市政府各部门：
为深入贯彻落实党中央、国务院关于安全生产工作的决策部署，切实防范化解重大安全风险，有效遏制各类生产安全事故发生，现就有关事项通知如下：
一、总体要求
（一）坚持人民至上、生命至上，把保护人民生命安全摆在首位，全面提高安全生产工作水平。
（二）坚持源头防范、系统治理，健全风险分级管控和隐患排查治理双重预防机制，推动安全生产治理模式向事前预防转型，到2025年底实现重点行业领域全覆盖。
二、重点任务
1.全面开展隐患排查整治，建立问题清单、责任清单、整改清单，实行闭环管理。
2.严格落实企业主体责任，主要负责人是本单位安全生产第一责任人，对本单位安全生产工作全面负责，切实履行好职责。
三、工作要求
本通知自印发之日起施行。
某某市人民政府
2024年3月1日"""


def read(data: bytes, name: str = "通知.ofd"):
    return ofd.read_ofd(Path(name), data)


def one_page(*lines: tuple) -> bytes:
    """An .ofd of one page with one text object per (x, baseline y, text[, size])."""
    return build_ofd([page_xml([Obj([Code(x, y, t)], *size) for x, y, t, *size in lines])])


@pytest.fixture(scope="module")
def policy() -> tuple[bytes, list[str]]:
    return ofdgen.policy_ofd()


def test_golden_text_title_and_pages(policy):
    data, firsts = policy
    got = read(data)
    assert got.text == GOLDEN
    assert got.text.split("\n") == ofdgen.LINES
    assert got.title == ofdgen.TITLE
    assert got.notes == ()
    assert len(got.pages) == 2 and got.pages[0] == 0
    page2 = got.pages[1]
    assert got.text[page2:].startswith(firsts[1])  # page 2 starts mid-paragraph: （二） wraps over the break
    assert got.text[page2 - 1] != "\n"
    for furniture in ("— 1 —", "— 2 —", "内部资料", "规范性文件"):
        assert furniture not in got.text


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_storage_order_does_not_matter(seed):
    data, _ = ofdgen.policy_ofd(seed=seed)
    assert read(data).text == GOLDEN


def test_registry_routes_by_content(policy):
    data, _ = policy
    assert reader_for("a.ofd", data).name == "ofd"
    assert reader_for("download.zip", data).name == "ofd"


def test_relative_and_absolute_locations():
    page = page_xml([Obj([Code(LEFT, 50, "第一条 为了规范管理，制定本办法。")])])
    for locs in (["Pages/Page_0/Content.xml"], ["/Doc_0/Pages/Page_0/Content.xml"], ["pages/page_0/content.xml"]):
        assert read(build_ofd([page], page_locs=locs)).text == "第一条 为了规范管理，制定本办法。"


@pytest.mark.parametrize("number", ["— 3 —", "- 3 -", "3", "第3页 共5页", "－ 12 －"])
def test_page_numbers_left_out(number):
    data = one_page((LEFT, 50, "本办法自发布之日起施行。"), (100, 280, number))
    assert read(data).text == "本办法自发布之日起施行。"


def test_number_in_the_body_is_kept():
    """Also: short lines only are never joined (no line reaches across the page to show the right edge)."""
    data = one_page((LEFT, 50, "附件"), (LEFT, 60, "2024"), (LEFT + 10 * BODY, 280, "- 1 -"))
    assert read(data).text == "附件\n2024"


def test_wrapping_joins_cjk_without_space_and_latin_with_one():
    full = "依照《中华人民共和国安全生产法》第二十一条执行国家标准GB"  # wraps after "GB"
    data = one_page((LEFT, 50, full), (LEFT, 60, "T 33190-2016的有关要求。"), (LEFT, 70, "（一）继续。"))
    width = ofdgen.units(full) * BODY
    assert abs(width - ofdgen.WIDTH) < BODY  # the first line is full
    assert read(data).text == full + " T 33190-2016的有关要求。\n（一）继续。"


FULL = "各地区各部门要结合实际认真贯彻落实，确保各项措施落到实处"  # 28 em: a full line


@pytest.mark.parametrize(
    "second,joined",
    [
        ((LEFT, 60, "取得实效。"), True),  # at the left edge: the wrapped rest
        ((LEFT + 2 * BODY, 60, "各单位要加强组织领导。"), False),  # indented: a paragraph of its own
        ((LEFT, 60, "（一）加强组织领导。"), False),  # a numbered item
        ((LEFT, 60, "取得实效。", 4.0), False),  # another size
        ((LEFT, 90, "取得实效。"), False),  # well below the line pitch
    ],
)
def test_when_a_full_line_continues(second, joined):
    data = one_page((LEFT, 30, FULL), (LEFT, 40, FULL), (LEFT, 50, FULL), second)
    assert ofdgen.units(FULL) == 28
    glue = "" if joined else "\n"
    assert read(data).text == FULL * 3 + glue + second[2]


def test_running_header_in_page_content_left_out():
    """Some producers draw the header on every page instead of in a template: it repeats, so it goes."""
    pages = []
    for n in range(1, 4):
        header = Obj([Code(60, 20, f"某某市人民政府公报 2024年第3期 {n + 10}")], 3.5)
        body = [Obj([Code(LEFT, y, FULL[:-1] + "甲乙丙丁戊己"[2 * n + k - 2])]) for k, y in enumerate((40, 50))]
        pages.append(page_xml([header, *body]))
    got = read(build_ofd(pages))
    assert got.text == "".join(FULL[:-1] + ch for ch in "甲乙丙丁戊己")
    assert got.pages == (0, 2 * len(FULL), 4 * len(FULL))


def test_same_line_runs_tabbed_when_far_apart_and_fake_bold_dropped():
    data = one_page((LEFT, 50, "某政办发〔2024〕5号"), (150, 50.3, "签发人：张三"),
                    (LEFT, 70, "一、总则"), (LEFT + 0.1, 70.05, "一、总则"))  # fmt: skip
    assert read(data).text == "某政办发〔2024〕5号\t签发人：张三\n一、总则"


def test_empty_pages_are_noted():
    text = page_xml([Obj([Code(LEFT, 50, "正文。")])])
    got = read(build_ofd([text, page_xml([])]))
    assert got.text == "正文。"
    assert got.pages == (0, 3)
    assert got.notes == ("1 of 2 OFD pages have no text (images only?): 2",)


def test_deltax_shorthand():
    assert ofd._deltas("g 3 5.6 1 g 2 0.5") == [5.6, 5.6, 5.6, 1.0, 0.5, 0.5]


def test_title_without_file_name_decorations():
    page = page_xml([Obj([Code(LEFT, 50, "正文。")])])
    assert read(build_ofd([page], title="Microsoft Word - 关于印发某办法的通知.docx")).title == "关于印发某办法的通知"
    assert read(build_ofd([page])).title is None


# --- hostile and broken packages: a clear ValueError, quickly --------------------------------------------------------

PAGE = page_xml([Obj([Code(LEFT, 50, "正文。")])])


@pytest.mark.parametrize(
    "data,message",
    [
        (
            build_ofd([PAGE], page_locs=["../../etc/passwd"]),
            "page 1 content path '../../etc/passwd' escapes the package",
        ),
        (build_ofd([PAGE], page_locs=["/../../etc/passwd"]), "escapes the package"),
        (
            build_ofd([PAGE], replace={"Doc_0/Pages/Page_0/Content.xml": ofdgen.ENTITY_BOMB.encode()}),
            "Content.xml declares a DTD or entities, refused",
        ),
        (
            build_ofd([PAGE], drop=("Doc_0/Pages/Page_0/Content.xml",)),
            "page 1 content 'Pages/Page_0/Content.xml' is missing from the package",
        ),
        (build_ofd([PAGE], drop=("Doc_0/Document.xml",)), "DocRoot 'Doc_0/Document.xml' is missing"),
        (
            build_ofd([PAGE], replace={"Doc_0/Pages/Page_0/Content.xml": b"<ofd:Page><unclosed>"}),
            "Content.xml is not well-formed XML",
        ),
        (build_ofd([PAGE], replace={"OFD.xml": b"<OFD><DocBody/></OFD>"}), "OFD.xml names no DocRoot"),
        (build_ofd([]), "lists no pages"),
        (b"PK\x03\x04 truncated", "not a readable zip archive"),
    ],
    ids=[
        "traversal",
        "absolute-traversal",
        "entity-bomb",
        "missing-content",
        "missing-document",
        "bad-xml",
        "no-docroot",
        "no-pages",
        "not-zip",
    ],  # fmt: skip
)
def test_hostile_or_broken_packages_raise(data, message):
    started = time.monotonic()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read(data)
    assert time.monotonic() - started < 2


def test_caps(monkeypatch):
    data = build_ofd([PAGE, PAGE, PAGE])
    monkeypatch.setattr(ofd, "MAX_PAGES", 2)
    with pytest.raises(ValueError, match="3 pages, over the 2-page limit"):
        read(data)
    monkeypatch.setattr(ofd, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(ValueError, match="over the member limit"):
        read(data)


# --- tables in the row model (#19 item 1) ------------------------------------------------------

TASK_HEADER = ["序号", "重点任务", "责任单位", "完成时限"]
TASKS = [
    "推进养老服务中心建设",
    "开展食品安全专项整治行动，重点检查校园周边和农村集市",  # wraps in its column
    "建设农贸市场快检室，配备快速检测设备和专职检测人员，实现每日抽检结果公示",  # wraps twice
]
UNITS = ["市民政局", "市市场监管局、市教育局", "市市场监管局"]  # the second wraps beside its task


def _task_rows(n: int) -> list[list[str]]:
    return [[str(i), TASKS[(i - 1) % 3], UNITS[(i - 1) % 3], "2024年6月底前"] for i in range(1, n + 1)]


def test_table_cells_lined_up_read_as_rows_across_pages(tmp_path):
    from rag.reading.load import load_file
    from rag.text.split import split_document

    rows = _task_rows(7)
    pages = ofdgen.table_pages([TASK_HEADER, *rows], [12, 80, 36, 28], per_page=4, caption="附件：重点任务分工表",
                               after="以上任务请各单位按时完成。")  # fmt: skip
    data = build_ofd([page_xml(p) for p in pages])
    got = read(data)
    assert got.text.split("\n") == [
        "附件：重点任务分工表",
        "\t".join(TASK_HEADER),
        *("；".join(f"{k}：{v}" for k, v in zip(TASK_HEADER, row)) for row in rows),  # wrapped cells whole
        "以上任务请各单位按时完成。",
    ]  # the header repeated on page 2 left out
    assert got.text[got.pages[1] :].startswith("序号：5；")
    (tmp_path / "分工.ofd").write_bytes(data)
    clauses = [(c.label, c.headings, c.text) for c in split_document(load_file(tmp_path / "分工.ofd"))]
    assert clauses[:7] == [(f"序号 {i}", ("附件：重点任务分工表",), got.text.split("\n")[i + 1]) for i in range(1, 8)]


def test_lines_not_lined_up_in_columns_keep_their_tabs():
    data = one_page((LEFT, 50, "某政办发〔2024〕5号"), (150, 50, "签发人：张三"),
                    (LEFT, 60, "姓名"), (LEFT + 40, 60, "职务"),  # a header ...
                    (LEFT + 10, 70, "张三"), (LEFT + 60, 70, "科长"))  # ... whose rows start elsewhere  # fmt: skip
    assert read(data).text == "某政办发〔2024〕5号\t签发人：张三\n姓名\t职务\n张三\t科长"
