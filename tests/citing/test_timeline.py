"""Topic timeline (#22 item 4): a document and the documents related to it by 修订, 废止, 印发, 补充通知
and citations (《title》 or a bare 文号), ordered by date, with the evidence and its citation; `rag timeline`."""

from __future__ import annotations

import json

import pytest

from rag.citing.timeline import timeline
from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.storage.index import ClauseIndex
from tests.conftest import run_cli

T = "某市养老机构运营补贴管理办法"
LAW = "中华人民共和国老年人权益保障法"
NOTICE = f"关于印发《{T}》的通知"
SUPPLEMENT = f"关于《{T}》的补充通知"
OLD_NOTICE = "关于做好养老机构床位补贴工作的通知"
CHECK = "关于开展2024年养老机构年检工作的通知"
REPEAL = f"第三条 本办法自2023年3月1日起施行，原《{T}》同时废止。"
LIBRARY = {
    f"{T}(2019-03-01).txt": f"{T}\n\n某民规〔2019〕2号\n\n"
                            f"第一条 为了规范养老机构运营补贴，根据《{LAW}》，制定本办法。\n"
                            "第二条 运营补贴标准为每张床位每月100元。\n第三条 本办法自2019年4月1日起施行。\n",
    f"{T}(2023-01-15).txt": f"{T}\n\n某民规〔2023〕1号\n\n"
                            f"第一条 为了规范养老机构运营补贴，根据《{LAW}》，制定本办法。\n"
                            f"第二条 运营补贴标准为每张床位每月150元。\n{REPEAL}\n"
                            f"第四条 《{OLD_NOTICE}》（某民发〔2018〕7号）同时废止。\n",
    f"{NOTICE}(2023-01-20).txt": f"{NOTICE}\n\n某民发〔2023〕3号\n\n各区民政局：\n"
                                 f"现将《{T}》印发给你们，请认真贯彻执行。\n\n某市民政局\n2023年1月20日\n",
    f"{SUPPLEMENT}(2023-06-01).txt": f"{SUPPLEMENT}\n\n各区民政局：\n"
                                     f"一、《{T}》第二条所称床位，是指实际入住老年人的床位。\n"
                                     "二、本通知自印发之日起施行。\n\n某市民政局\n2023年6月1日\n",
    f"{CHECK}(2024-02-01).txt": f"{CHECK}\n\n各区民政局：\n"
                                "一、年检结果作为核发运营补贴的依据，补贴条件按照某民规〔2023〕1号执行。\n"
                                "二、年检工作于2024年3月底前完成。\n\n某市民政局\n2024年2月1日\n",
    f"{OLD_NOTICE}(2018-05-01).txt": f"{OLD_NOTICE}\n\n某民发〔2018〕7号\n\n各区民政局：\n"
                                     "一、养老机构床位补贴按季度发放。\n\n某市民政局\n2018年5月1日\n",
    f"{LAW}(2018-12-29).txt": f"{LAW}\n\n第一条 为了保障老年人合法权益，发展老龄事业，根据宪法，制定本法。\n"
                              "第二条 本法所称老年人是指六十周岁以上的公民。\n",
}  # fmt: skip
# the document asked about -> its timeline: (date, relation, title)
GOLDEN = {
    (T, "2023-01-15"): [
        ("2018-05-01", "repealed", OLD_NOTICE),
        ("2018-12-29", "cites", LAW),
        ("2019-03-01", "earlier_version", T),
        ("2023-01-15", "self", T),
        ("2023-01-20", "notice", NOTICE),
        ("2023-06-01", "supplement", SUPPLEMENT),
        ("2024-02-01", "cited_by", CHECK),  # by its 文号 alone
    ],
    (T, "2019-03-01"): [  # the notice, the supplement and the 年检 notice name the 2023 version
        ("2018-12-29", "cites", LAW),
        ("2019-03-01", "self", T),
        ("2023-01-15", "later_version", T),
    ],
    (NOTICE, "2023-01-20"): [("2023-01-15", "issued", T), ("2023-01-20", "self", NOTICE)],
    (SUPPLEMENT, "2023-06-01"): [("2023-01-15", "supplemented", T), ("2023-06-01", "self", SUPPLEMENT)],
    (CHECK, "2024-02-01"): [("2023-01-15", "cites", T), ("2024-02-01", "self", CHECK)],
    (OLD_NOTICE, "2018-05-01"): [("2018-05-01", "self", OLD_NOTICE), ("2023-01-15", "repealed_by", T)],
    (LAW, "2018-12-29"): [
        ("2018-12-29", "self", LAW),
        ("2019-03-01", "cited_by", T),
        ("2023-01-15", "cited_by", T),
    ],
}


def _build(root, library: dict[str, str]):
    (root / "lib").mkdir()
    for name, text in library.items():
        (root / "lib" / name).write_text(text, encoding="utf-8")
    ingest([root / "lib"], root / "idx", parse_spec("hash:64"), show_progress=False)
    return root / "idx"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("timeline"), LIBRARY)


def _doc_id(index: ClauseIndex, title: str, date: str) -> str:
    (doc_id,) = [d.doc_id for d in index.docs.values() if d.title == title and d.date == date]
    return doc_id


@pytest.mark.parametrize("title, date", list(GOLDEN))
def test_timeline_relations_and_order(index_dir, title, date):
    index = ClauseIndex.load(index_dir)
    events = timeline(index, _doc_id(index, title, date))
    assert [(e.date, e.relation, e.doc.title) for e in events] == GOLDEN[(title, date)]


def test_evidence_is_the_clause_that_says_so_with_its_citation(index_dir):
    index = ClauseIndex.load(index_dir)
    events = {e.relation: e for e in timeline(index, _doc_id(index, T, "2023-01-15"))}
    assert (events["earlier_version"].evidence, events["earlier_version"].citation) == (
        REPEAL, f"《{T}》 › 第三条（某民规〔2023〕1号，2023-01-15）")  # the new version repeals the old
    assert (events["repealed"].evidence, events["repealed"].citation) == (
        f"第四条 《{OLD_NOTICE}》（某民发〔2018〕7号）同时废止。", f"《{T}》 › 第四条（某民规〔2023〕1号，2023-01-15）")
    assert (events["notice"].evidence, events["notice"].citation) == (
        f"现将《{T}》印发给你们，请认真贯彻执行。", f"《{NOTICE}》（某民发〔2023〕3号，2023-01-20）")
    assert (events["supplement"].evidence, events["supplement"].citation) == (
        f"一、《{T}》第二条所称床位，是指实际入住老年人的床位。", f"《{SUPPLEMENT}》 › 一、（2023-06-01）")
    assert (events["cited_by"].evidence, events["cited_by"].citation) == (
        "一、年检结果作为核发运营补贴的依据，补贴条件按照某民规〔2023〕1号执行。", f"《{CHECK}》 › 一、（2024-02-01）")
    assert (events["self"].evidence, events["self"].citation) == ("现行有效，自2023-03-01起施行", None)
    old = timeline(index, _doc_id(index, T, "2019-03-01"))
    assert [(e.relation, e.evidence) for e in old if e.relation in ("self", "later_version")] == [
        ("self", "已修改，自2019-04-01起施行"), ("later_version", REPEAL)]  # fmt: skip


def test_cli_text_and_json(index_dir, capsys):
    rc, out, err = run_cli(capsys, "timeline", f"{T}(2023-01-15)", "--index", str(index_dir))
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == len(GOLDEN[(T, "2023-01-15")])
    assert lines[2] == f"2019-03-01  旧版本  《{T}》（某民规〔2019〕2号）  {REPEAL}"
    assert lines[3] == f"2023-01-15  本文件  《{T}》（某民规〔2023〕1号）  现行有效，自2023-03-01起施行"

    rc, out, err = run_cli(capsys, "timeline", f"{T}(2023-01-15)", "--index", str(index_dir), "--json")
    assert rc == 0, err
    events = json.loads(out)
    assert [(e["date"], e["relation"], e["title"]) for e in events] == GOLDEN[(T, "2023-01-15")]
    index = ClauseIndex.load(index_dir)
    assert events[4] == {
        "date": "2023-01-20", "relation": "notice", "doc_id": _doc_id(index, NOTICE, "2023-01-20"), "title": NOTICE,
        "doc_number": "某民发〔2023〕3号", "evidence": f"现将《{T}》印发给你们，请认真贯彻执行。",
        "citation": f"《{NOTICE}》（某民发〔2023〕3号，2023-01-20）",
    }  # fmt: skip


def test_cli_names_a_document_it_cannot_find(index_dir, capsys):
    rc, out, err = run_cli(capsys, "timeline", T, "--index", str(index_dir))  # two versions: the date is needed
    assert rc == 2
    assert f"add the date, e.g. {T}(2019-03-01)" in err
    rc, out, _ = run_cli(capsys, "timeline", "某市不存在的办法", "--index", str(index_dir), "--json")
    assert rc == 2
    assert json.loads(out) == {"error": "no document '某市不存在的办法' in the index; give a doc_id, a source path or "
                                        "a title (rag info --docs lists them)", "code": 2}  # fmt: skip


def test_a_notice_of_the_same_date_is_the_notice_not_a_repealed_document(tmp_path):
    """The new 办法 says 原《办法》同时废止 and its 印发 notice bears the same date: the notice issues it."""
    library = {name: text for name, text in LIBRARY.items() if name.startswith(T)}
    library[f"{NOTICE}(2023-01-15).txt"] = LIBRARY[f"{NOTICE}(2023-01-20).txt"].replace("1月20日", "1月15日")
    index = ClauseIndex.load(_build(tmp_path, library))
    rows = [(e.relation, e.doc.title) for e in timeline(index, _doc_id(index, T, "2023-01-15"))]
    assert rows == [("earlier_version", T), ("self", T), ("notice", NOTICE)]  # not also "repealed"
    notice = timeline(index, _doc_id(index, NOTICE, "2023-01-15"))
    assert [(e.relation, e.doc.title) for e in notice] == [("self", NOTICE), ("issued", T)]


def test_a_repeal_a_report_states(tmp_path):
    """A 解读 reports that a new 办法 repeals an old 规定: the 办法 repeals it (the catalogue's reason) and the
    解读 is the report, with its sentence."""
    old, new, report = "某市老年人优待证管理规定", "某市敬老优待办法", "关于《某市敬老优待办法》的政策解读"
    said = f"一、《{new}》自2024年2月1日起施行，《{old}》同时废止。"
    library = {
        f"{old}(2016-04-01).txt": f"{old}\n\n第一条 老年人优待证由区民政局发放。\n",
        f"{new}(2024-01-05).txt": f"{new}\n\n第一条 老年人凭身份证享受敬老优待。\n",
        f"{report}(2024-01-10).txt": f"{report}\n\n{said}\n",
    }
    index = ClauseIndex.load(_build(tmp_path, library))
    events = timeline(index, _doc_id(index, old, "2016-04-01"))
    assert [(e.date, e.relation, e.doc.title) for e in events] == [
        ("2016-04-01", "self", old), ("2024-01-05", "repealed_by", new), ("2024-01-10", "repeal_report", report)]
    assert (events[1].evidence, events[1].citation) == (f"《{new}》废止了它（据《{report}》：“{old}”）", None)
    assert (events[2].evidence, events[2].citation) == (said, f"《{report}》 › 一、（2024-01-10）")


def test_the_notice_issuing_a_revision_is_not_repealed_by_it(index_dir):
    """原《T》同时废止 in the 2023 办法 names the old 办法, not the 印发 notice that issues the 2023 one
    (its wrapped title is T too): the notice stays current."""
    index = ClauseIndex.load(index_dir)
    by_title = {(d.title, d.date): d.doc_id for d in index.docs.values()}
    assert by_title[(NOTICE, "2023-01-20")] not in index.superseded
    old = index.superseded[by_title[(T, "2019-03-01")]]
    assert old.by == by_title[(T, "2023-01-15")]
