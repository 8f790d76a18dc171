"""More kinds of 公文 by GB/T 9704 (#19 item 6): 联合行文, 纪要, 函, an 印发通知 wrapping a 方案, 主送 in its
forms, and repeals that a third document (a 解读) reports. Golden identities and clause lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.reading.load import load_file, load_paths
from rag.reading.readers import office
from rag.storage.catalogue import superseded_versions
from rag.storage.index import ClauseIndex
from rag.text.clean import clean_spans
from rag.text.gongwen import analyse, repeal_statements, repeals
from rag.text.split import split_clauses, split_document
from tests import gwfixtures as gw

needs_lo = pytest.mark.skipif(office.available() is not None, reason="LibreOffice (soffice) not installed")


def _load(tmp_path: Path, lines: list[str], name: str = "doc.txt"):
    f = tmp_path / name
    f.write_text(gw.text(lines), encoding="utf-8")
    return load_file(f)


def _ident(doc) -> tuple:
    return doc.title, doc.doc_number, doc.issuer, doc.date


def _clauses(doc) -> list[tuple[str, tuple[str, ...], str]]:
    cs = split_document(doc)
    assert all(doc.text[c.start : c.end] == c.text for c in cs)
    return [(c.label, c.headings, c.text) for c in cs]


def _analyse(lines: list[str]):
    t = gw.text(lines)
    return analyse(t, clean_spans(t))


# ------------------------------------------------------------------ 联合行文

JOINT_IDENT = (
    "宁波市民政局　宁波市财政局关于提高2024年城乡居民最低生活保障标准的通知",
    "甬民发〔2024〕5号",
    "宁波市民政局、宁波市财政局",
    "2024-03-01",
)
JOINT_CLAUSES = [
    ("", (), "经市政府同意，现就提高城乡居民最低生活保障标准通知如下："),
    ("一、", (), "一、提高保障标准\n城乡低保标准每人每月提高到1200元。"),
    ("二、", (), "二、加强资金保障\n各地财政部门要足额安排低保资金。"),
]


def test_joint_notice_names_every_organ_and_keeps_its_signature_table_out(tmp_path):
    doc = _load(tmp_path, gw.JOINT_2024)
    assert _ident(doc) == JOINT_IDENT  # the title is the 标题 line, not the two organ lines
    assert doc.meta["主送"] == "各区（县、市）民政局、财政局，市直有关单位"  # over two lines
    assert doc.meta["署名"] == "宁波市民政局 宁波市财政局"
    assert doc.meta["附件说明"] == "附件：低保标准调整测算表"
    assert doc.meta["附注"] == "（此件公开发布）"
    assert _clauses(doc) == JOINT_CLAUSES


def test_joint_notice_as_docx_with_header_and_signature_tables(tmp_path):
    doc = load_file(gw.joint_docx(tmp_path))
    assert doc.text.startswith("宁波市民政局\t文件\n宁波市财政局\t\n")  # the header table as the reader gives it
    assert _ident(doc) == JOINT_IDENT
    assert _clauses(doc) == JOINT_CLAUSES  # no clause for the signature table


@needs_lo
def test_joint_notice_exported_to_pdf(tmp_path):
    (pdf,) = gw.lo_convert([gw.joint_docx(tmp_path)], "pdf", tmp_path / "pdf")
    doc = load_file(pdf)
    assert doc.kind == "pdf" and _ident(doc) == JOINT_IDENT
    assert _clauses(doc) == JOINT_CLAUSES


def test_a_signature_table_row_of_dates_is_the_date():
    lines = ["宁波市民政局", "宁波市财政局", "文件", "甬民发〔2024〕6号", "关于开展联合检查的通知",
             "各区（县、市）民政局：", "一、检查范围", "全部养老机构。",
             "宁波市民政局\t宁波市财政局", "2024年5月6日\t2024年5月6日"]  # fmt: skip
    st = _analyse(lines)
    assert (st.issuer, st.date, st.doc_number) == ("宁波市民政局、宁波市财政局", "2024-05-06", "甬民发〔2024〕6号")
    assert st.meta["发文机关标志"] == "宁波市民政局 宁波市财政局 文件"


# ------------------------------------------------------------------ 纪要


def test_minutes_number_issuer_date_and_attendance(tmp_path):
    doc = _load(tmp_path, gw.MINUTES_2024)
    assert _ident(doc) == (
        "关于研究城乡低保标准调整等事项的会议纪要", "〔2024〕5号", "宁波市人民政府办公室", "2024-03-05",
    )  # fmt: skip
    meta = {k: doc.meta[k] for k in ("纪要标志", "出席", "列席", "请假", "记录", "分送")}
    assert meta == {
        "纪要标志": "宁波市人民政府常务会议纪要",
        "出席": "张三、李四、王五",
        "列席": "市民政局赵六，市财政局钱七",
        "请假": "孙八",
        "记录": "周九",
        "分送": "分送：市委办公厅，市人大常委会办公厅。",
    }
    assert _clauses(doc) == [
        ("", (), "2024年3月1日，市长张三主持召开市政府第30次常务会议，研究城乡低保标准调整等事项。现纪要如下："),
        ("一、", (), "一、关于调整城乡低保标准\n会议同意将城乡低保标准提高到每人每月1200元，自2024年4月1日起执行。"),
        ("二、", (), "二、关于养老服务补贴\n会议原则同意市民政局提出的养老服务补贴方案，请市财政局做好资金保障。"),
    ]  # 出席/列席/请假/记录 are not glued to the last item


def test_minutes_numbered_by_issue_without_a_title_line(tmp_path):
    doc = _load(tmp_path, gw.MINUTES_ISSUE)
    assert _ident(doc) == ("宁波市民政局局长办公会议纪要", "第5期", "宁波市民政局办公室", "2024-04-02")
    assert (doc.meta["出席"], doc.meta["记录"]) == ("赵一、钱二、孙四、李五、周六", "孙三")  # a wrapped name list
    assert _clauses(doc) == [
        ("", (), "4月1日，局长办公会议研究了养老服务机构检查工作。"),
        ("一、", (), "一、全年检查全部养老服务机构。"),
        ("二、", (), "二、检查结果于每季度末公示。"),
    ]


def test_meeting_lines_before_the_minutes_body_are_metadata():
    lines = ["宁波市民政局党组会议纪要", "第3期", "宁波市民政局办公室　　2024年6月3日",
             "时间：2024年6月1日", "地点：局三楼会议室", "主持：赵一", "一、会议传达学习了有关文件精神。"]  # fmt: skip
    st = _analyse(lines)
    assert (st.title, st.doc_number, st.issuer, st.date) == (
        "宁波市民政局党组会议纪要", "第3期", "宁波市民政局办公室", "2024-06-03",
    )  # fmt: skip
    assert (st.meta["时间"], st.meta["地点"], st.meta["主持"]) == ("2024年6月1日", "局三楼会议室", "赵一")
    t = gw.text(lines)
    assert [t[s:e] for s, e in st.body] == ["一、会议传达学习了有关文件精神。"]


def test_attendance_lines_in_an_ordinary_notice_stay_text():
    lines = ["关于召开养老服务推进会的通知", "各区（县、市）民政局：", "一、会议时间", "2024年3月1日上午9时。",
             "二、参会人员", "出席：各区（县、市）民政局分管领导。", "宁波市民政局", "2024年2月20日"]  # fmt: skip
    st = _analyse(lines)
    assert "出席" not in st.meta and st.date == "2024-02-20"


# ------------------------------------------------------------------ 函


def test_letter(tmp_path):
    doc = _load(tmp_path, gw.LETTER_2024)
    assert _ident(doc) == (
        "宁波市民政局关于商请提供2023年度低保对象数据的函", "甬民函〔2024〕12号", "宁波市民政局", "2024-03-01",
    )  # fmt: skip
    assert (doc.meta["发文机关标志"], doc.meta["主送"]) == ("宁波市民政局", "市统计局")
    assert doc.meta["附注"] == "（联系人：王五，联系电话：0574-87654321）"
    assert _clauses(doc) == [
        ("", (), "为做好低保标准测算工作，请提供2023年度全市低保对象数据。\n请于2024年3月15日前反馈。特此函告。"),
    ]


# ------------------------------------------------------------------ 印发通知 wrapping a 方案


def test_issuing_notice_keeps_its_own_date_and_the_plan_title_is_a_heading(tmp_path):
    doc = _load(tmp_path, gw.ISSUING_2024)
    assert _ident(doc) == (
        "宁波市人民政府办公厅关于印发宁波市养老服务体系建设实施方案的通知", "甬政办发〔2024〕10号",
        "宁波市人民政府办公厅", "2024-03-01",
    )  # fmt: skip
    assert (doc.meta["主送"], doc.meta["附注"]) == ("市直各单位", "（此件公开发布）")
    plan = "宁波市养老服务体系建设实施方案"
    assert _clauses(doc) == [
        ("", (), "《宁波市养老服务体系建设实施方案》已经市政府同意，现印发给你们，请认真贯彻执行。"),
        (plan, (), f"{plan}\n为加快养老服务体系建设，制定本方案。"),
        ("一、", (plan,), "一、总体要求\n到2025年底，全市养老服务体系基本建成。"),
        ("（一）", (plan, "二、主要任务"),
         "二、主要任务\n（一）建设养老服务中心（牵头单位：市民政局）\n每个街道至少建成1家综合性养老服务中心。"),
        ("（二）", (plan, "二、主要任务"), "（二）完善补贴制度\n2024年6月底前出台养老服务补贴办法。"),
    ]  # fmt: skip


def test_a_document_issued_as_an_attachment_is_a_heading_under_its_attachment_label():
    lines = ["宁波市人民政府办公厅文件", "甬政办发〔2024〕11号",
             "宁波市人民政府办公厅关于印发宁波市养老服务补贴办法的通知", "各区（县、市）人民政府：",
             "现将《宁波市养老服务补贴办法》印发给你们，请遵照执行。", "附件：宁波市养老服务补贴办法",
             "宁波市人民政府办公厅", "2024年3月1日", "附件", "宁波市养老服务补贴办法",
             "第一条　为规范养老服务补贴，制定本办法。", "第二条　本办法自2024年4月1日起施行。"]  # fmt: skip
    t = gw.text(lines)
    st = analyse(t, clean_spans(t))
    assert (st.date, st.meta["附件说明"]) == ("2024-03-01", "附件：宁波市养老服务补贴办法")
    head = ("附件", "宁波市养老服务补贴办法")
    assert [(c.label, c.headings, c.text) for c in split_clauses(t, st.body, outline=st.outline)] == [
        ("", (), "现将《宁波市养老服务补贴办法》印发给你们，请遵照执行。"),
        ("第一条", head, "附件\n宁波市养老服务补贴办法\n第一条　为规范养老服务补贴，制定本办法。"),
        ("第二条", head, "第二条　本办法自2024年4月1日起施行。"),
    ]


def test_a_long_plan_does_not_hide_the_notice_date(tmp_path):
    body = [f"{n}.第{n}项任务按期完成。" for n in range(1, 60)]
    doc = _load(tmp_path, [*gw.ISSUING_2024[:-2], *body, *gw.ISSUING_2024[-2:]])
    assert doc.date == "2024-03-01" and doc.meta["署名"] == "宁波市人民政府办公厅"


# ------------------------------------------------------------------ 主送


@pytest.mark.parametrize(
    ("lines", "to"),
    [
        (["市直各单位："], "市直各单位"),
        (["各县（市）人民政府，市政府各部门、", "各直属机构："], "各县（市）人民政府，市政府各部门、各直属机构"),
        (["有关单位："], "有关单位"),
        (["市教育局、市财政局："], "市教育局、市财政局"),
        (["各乡镇人民政府、街道办事处："], "各乡镇人民政府、街道办事处"),
    ],
)
def test_addressees_in_their_forms(lines, to):
    st = _analyse(["宁波市人民政府办公厅关于做好防汛工作的通知", *lines, "一、加强值守", "严格执行24小时值班制度。"])
    assert st.meta["主送"] == to and st.issuer is None


@pytest.mark.parametrize("line", ["现将有关事项通知如下：", "有关要求：", "为了做好防汛工作，特制定以下措施："])
def test_a_lead_in_is_not_an_addressee(line):
    st = _analyse(["宁波市人民政府办公厅关于做好防汛工作的通知", line, "一、加强值守"])
    assert "主送" not in st.meta


# ------------------------------------------------------------------ repeals a third document reports


def test_repeal_statements_name_the_repealing_document():
    assert repeal_statements("《甲办法》已被《乙办法》废止。") == (("甲办法", "乙办法"),)
    assert repeal_statements("《乙办法》自2024年1月1日起施行，原《甲办法》（甬政发〔2019〕3号）同时废止。") == (
        ("甲办法", "乙办法"), ("甬政发〔2019〕3号", "乙办法"),
    )  # fmt: skip
    assert repeal_statements("根据《国务院关于清理规章的决定》，《甲办法》予以废止。") == (("甲办法", None),)
    assert repeal_statements("本办法自2024年1月1日起施行，《甲办法》同时废止。") == (("甲办法", None),)
    assert repeals("《甲办法》由《乙办法》废止。") == ("甲办法",)  # the repealing one is never "repealed"


def test_an_interpretation_repeals_nothing_itself():
    st = _analyse(gw.INTERPRETATION_2023)
    assert st.title == "《宁波市民政行政执法工作规范（2023年修订）》政策解读" and st.repeals == ()
    assert st.repeal_reports == (
        ("宁波市民政局关于印发宁波市民政行政执法工作规范的通知", "宁波市民政行政执法工作规范（2023年修订）"),
        ("甬民发〔2021〕15号", "宁波市民政行政执法工作规范（2023年修订）"),
    )


def _superseded(tmp_path: Path, docs: dict[str, list[str]], fake_embedder) -> tuple[dict, dict[str, str]]:
    for name, lines in docs.items():
        (tmp_path / name).write_text(gw.text(lines), encoding="utf-8")
    loaded, errors = load_paths([tmp_path])
    assert not errors
    ids = {Path(d.source).name: d.doc_id for d in loaded}
    return superseded_versions(ClauseIndex.build(loaded, fake_embedder, show_progress=False).docs.values()), ids


def test_a_reported_repeal_is_a_supersession_by_the_repealing_document(tmp_path, fake_embedder):
    sup, ids = _superseded(tmp_path, {"a-jiedu.txt": gw.INTERPRETATION_2023, "rules-2021.txt": gw.RULES_2021,
                                      "rules-2023.txt": gw.RULES_2023_SILENT}, fake_embedder)  # fmt: skip
    assert set(sup) == {ids["rules-2021.txt"]}  # the new rule is not "repealed" by the 解读 that names it
    assert sup[ids["rules-2021.txt"]].by == ids["rules-2023.txt"]  # the new rule replaces it, not the 解读
    assert sup[ids["rules-2021.txt"]].reason == (
        "《宁波市民政局关于印发宁波市民政行政执法工作规范（2023年修订）的通知》（甬民发〔2023〕8号）废止了它"
        "（据《《宁波市民政行政执法工作规范（2023年修订）》政策解读》：“宁波市民政局关于印发宁波市民政行政执法工作规范的通知”）"
    )


def test_a_repeal_stated_by_the_new_rule_wins_over_the_report(tmp_path, fake_embedder):
    sup, ids = _superseded(tmp_path, {"a-jiedu.txt": gw.INTERPRETATION_2023, "rules-2021.txt": gw.RULES_2021,
                                      "rules-2023.txt": gw.RULES_2023}, fake_embedder)  # fmt: skip
    assert set(sup) == {ids["rules-2021.txt"]} and sup[ids["rules-2021.txt"]].by == ids["rules-2023.txt"]
    assert "明确废止" in sup[ids["rules-2021.txt"]].reason


def test_a_report_without_the_repealing_document_supersedes_nothing(tmp_path, fake_embedder):
    sup, _ = _superseded(tmp_path, {"a-jiedu.txt": gw.INTERPRETATION_2023, "rules-2021.txt": gw.RULES_2021},
                         fake_embedder)  # fmt: skip
    assert sup == {}
