"""Stale citations (#22 item 2): current documents citing a superseded document, or an article of a revised law
whose text moved to another number or changed (the alignment of `rag diff` gives the new number); `rag citations`."""

from __future__ import annotations

import json

import pytest

from rag.citing.citations import citations, describe, stale
from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.storage.index import ClauseIndex
from tests.conftest import LAWS, needs_shared, run_cli

LAW = "中华人民共和国城市绿化管理法"
RULES = f"{LAW}实施条例"
CHECK = "关于开展城市绿化检查的通知"
REVIEW = "关于做好城市绿化复核工作的通知"
OLD_AID, NEW_AID, AID_NOTICE = "某市绿地补贴办法", "某市绿地奖励办法", "关于发放绿地补贴的通知"
SAME = {  # articles both versions share, by number
    1: "为了加强城市绿化管理，改善生态环境，制定本法。",
    2: "本法适用于城市规划区内的绿化规划、建设、保护和管理。",
    3: "国务院园林主管部门负责全国城市绿化工作。",
    4: "城市人民政府应当把城市绿化建设纳入国民经济和社会发展计划。",
    5: "国家鼓励和加强城市绿化的科学研究，推广先进技术。",
    6: "一切有劳动能力的公民，应当依照国家有关规定履行植树义务。",
    7: "在城市绿化工作中成绩显著的单位和个人，由人民政府给予表彰和奖励。",
    8: "城市绿化规划应当从实际出发，根据城市人口和用地规模确定绿地指标。",
    10: "任何单位和个人不得擅自砍伐城市树木；确需砍伐的，须经园林主管部门批准。",
}
APPEAL = "单位和个人对园林主管部门作出的决定不服的，可以自收到决定之日起六十日内申请复核。"  # old 9 -> new 20
FINE = "擅自占用城市绿地的，由园林主管部门责令限期退还，并处每平方米{}元以下罚款。"  # 11 in both, changed
ADDED = {
    9: "城市古树名木实行统一管理，分别登记建档，设置标志。",
    12: "城市绿地养护单位应当建立养护责任制度。",
    13: "城市新建道路应当按照规划配套建设绿化带。",
    14: "居住区绿地面积不得低于总用地面积的百分之三十。",
    15: "禁止在城市绿地内倾倒垃圾和堆放杂物。",
    16: "园林主管部门应当定期公布城市绿化覆盖率。",
    17: "城市公园应当免费向公众开放。",
    18: "鼓励社会资本参与城市公园建设和运营。",
    19: "城市绿化工程竣工后，建设单位应当组织验收。",
}
CN = dict(enumerate("零一二三四五六七八九十", 0)) | {n: f"十{'一二三四五六七八九'[n - 11]}" for n in range(11, 20)}
CN |= {20: "二十", 21: "二十一"}


def _law(articles: dict[int, str]) -> str:
    return f"{LAW}\n\n" + "".join(f"第{CN[n]}条 {t}\n" for n, t in sorted(articles.items()))


LIBRARY = {
    f"{LAW}(2017-09-01).txt": _law({**SAME, 9: APPEAL, 11: FINE.format(100), 12: "本法自2017年10月1日起施行。"}),
    f"{LAW}(2023-09-01).txt": _law({**SAME, **ADDED, 20: APPEAL, 11: FINE.format(500),
                                    21: "本法自2023年10月1日起施行。"}),  # fmt: skip
    f"{RULES}(2018-03-01).txt": f"{RULES}\n\n第一条 根据《{LAW}》，制定本条例。\n"
                                f"第二条 依照《{LAW}》第九条申请复核的，应当提交书面申请。\n"
                                "第三条 城市绿化管理法第十条规定的批准，由市园林主管部门办理。\n"
                                "第四条 依照城市绿化管理法第十一条处以罚款的，应当出具罚款决定书。\n"
                                "第五条 本条例自2018年3月1日起施行。\n",
    f"{CHECK}(2019-05-10).txt": f"{CHECK}\n\n各区园林局：\n一、各区要对照《{LAW}》，全面检查城市绿化工作。\n\n"
                                "某市园林局\n2019年5月10日\n",
    f"{REVIEW}(2024-02-01).txt": f"{REVIEW}\n\n各区园林局：\n一、复核申请依照《{LAW}》第二十条办理。\n\n"
                                 "某市园林局\n2024年2月1日\n",
    f"{OLD_AID}(2016-01-01).txt": f"{OLD_AID}\n\n第一条 为了鼓励绿地建设，制定本办法。\n"
                                  "第二条 绿地补贴标准为每平方米10元。\n",
    f"{NEW_AID}(2020-06-01).txt": f"{NEW_AID}\n\n第一条 为了奖励绿地建设，制定本办法。\n"
                                  f"第二条 本办法自2020年7月1日起施行，《{OLD_AID}》同时废止。\n",
    f"{AID_NOTICE}(2017-03-01).txt": f"{AID_NOTICE}\n\n各区园林局：\n一、补贴标准按照《{OLD_AID}》第二条执行。\n\n"
                                     "某市园林局\n2017年3月1日\n",
}  # fmt: skip
# the stale citations: (citing title, clause label, mention, cited date, article, reason, replacement date, new article)
GOLDEN = [
    (AID_NOTICE, "一、", f"《{OLD_AID}》第二条", "2016-01-01", "第二条", "repealed", "2020-06-01", None),
    (RULES, "第一条", f"《{LAW}》", "2017-09-01", None, "revised", "2023-09-01", None),
    (RULES, "第二条", f"《{LAW}》第九条", "2017-09-01", "第九条", "moved", "2023-09-01", "第二十条"),
    # 第三条 cites 第十条: same number and text in 2023, so not stale
    (RULES, "第四条", "城市绿化管理法第十一条", "2017-09-01", "第十一条", "changed", "2023-09-01", "第十一条"),
    (CHECK, "一、", f"《{LAW}》", "2017-09-01", None, "revised", "2023-09-01", None),
]  # the 2024 notice cites 第二十条 of the version in force in 2024: not stale; 原《…》同时废止 is no citation


def _ingest(root, library: dict[str, str]):
    """Write `library` (file name -> text) into root/lib (once) and ingest it into root/idx; the index folder."""
    lib = root / "lib"
    if not lib.exists():
        lib.mkdir()
        for name, text in library.items():
            (lib / name).write_text(text, encoding="utf-8")
    ingest([lib], root / "idx", parse_spec("hash:64"), show_progress=False)
    return root / "idx"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return _ingest(tmp_path_factory.mktemp("citations"), LIBRARY)


def _row(s) -> tuple:
    c = s.citation
    return (c.doc.title, c.clause.label, c.mention, c.cited.date, c.article, s.reason,
            s.replacement.date if s.replacement else None, s.new_article)  # fmt: skip


def test_citations_resolve_to_the_version_in_force_on_the_citing_date(index_dir):
    index = ClauseIndex.load(index_dir)
    rows = sorted((c.doc.title, c.clause.label, c.mention, c.cited.title, c.cited.date, c.article)
                  for c in citations(index))  # fmt: skip
    assert rows == sorted([
        (RULES, "第一条", f"《{LAW}》", LAW, "2017-09-01", None),
        (RULES, "第二条", f"《{LAW}》第九条", LAW, "2017-09-01", "第九条"),
        (RULES, "第三条", "城市绿化管理法第十条", LAW, "2017-09-01", "第十条"),
        (RULES, "第四条", "城市绿化管理法第十一条", LAW, "2017-09-01", "第十一条"),
        (CHECK, "一、", f"《{LAW}》", LAW, "2017-09-01", None),
        (REVIEW, "一、", f"《{LAW}》第二十条", LAW, "2023-09-01", "第二十条"),
        (AID_NOTICE, "一、", f"《{OLD_AID}》第二条", OLD_AID, "2016-01-01", "第二条"),
    ])  # fmt: skip


def test_stale_citations(index_dir):
    assert [_row(s) for s in stale(ClauseIndex.load(index_dir))] == GOLDEN


def test_a_superseded_citing_document_is_not_reported(tmp_path):
    """A newer 实施条例 replaces the 2018 one: its stale references are no one's to fix."""
    library = dict(LIBRARY)
    library[f"{RULES}(2024-03-01).txt"] = f"{RULES}\n\n第一条 根据《{LAW}》，制定本条例。\n"
    found = stale(ClauseIndex.load(_ingest(tmp_path, library)))
    assert [_row(s) for s in found] == [r for r in GOLDEN if r[0] != RULES]


def test_an_article_of_a_version_older_than_the_library_is_matched_in_the_oldest_and_flagged(tmp_path):
    """A 2015 notice cites 第九条 of the law as it was in 2015; the library holds only 2017 and 2023: the
    number is matched in the 2017 version (right when the numbering was kept) and the entry says so."""
    early = "关于城市绿化复核的早期通知"
    library = {name: text for name, text in LIBRARY.items() if name.startswith(LAW + "(")}
    library[f"{early}(2015-05-01).txt"] = (f"{early}\n\n各区园林局：\n一、复核申请依照《{LAW}》第九条办理。\n"
                                           f"二、各区要对照《{LAW}》开展检查。\n\n某市园林局\n2015年5月1日\n")
    rows = [_row(s) for s in stale(ClauseIndex.load(_ingest(tmp_path, library)))]
    assert rows == [
        (early, "一、", f"《{LAW}》第九条", "2017-09-01", "第九条", "moved", "2023-09-01", "第二十条"),
        (early, "二、", f"《{LAW}》", "2017-09-01", None, "revised", "2023-09-01", None),
    ]
    found = stale(ClauseIndex.load(tmp_path / "idx"))
    assert [s.unheld for s in found] == [True, False]  # a whole document cited: no number to check
    assert found[0].to_dict()["unheld"] and "条号按该版本对应，需核对" in describe(found[0])
    assert not any(s.unheld for s in stale(ClauseIndex.load(tmp_path / "idx")) if s.citation.doc.title != early)


def test_cli_text_and_json(index_dir, capsys):
    rc, out, err = run_cli(capsys, "citations", "--stale", "--index", str(index_dir))
    assert rc == 0, err
    lines = out.splitlines()
    assert len(lines) == len(GOLDEN)
    assert lines[2] == (f"《{RULES}》（2018-03-01） 第二条  “《{LAW}》第九条”  引用《{LAW}》（2017-09-01，已修改）："
                        f"条文已移至新条号，现为《{LAW}》（2023-09-01） 第九条 → 第二十条")  # fmt: skip
    assert lines[0] == (f"《{AID_NOTICE}》（2017-03-01） 一、  “《{OLD_AID}》第二条”  引用《{OLD_AID}》（2016-01-01，"
                        f"已废止）：已废止，现为《{NEW_AID}》（2020-06-01）")  # fmt: skip

    rc, out, err = run_cli(capsys, "citations", "--stale", "--index", str(index_dir), "--json")
    assert rc == 0, err
    rows = json.loads(out)
    index = ClauseIndex.load(index_dir)
    ids = {(d.title, d.date): d.doc_id for d in index.docs.values()}
    rules = ids[(RULES, "2018-03-01")]
    assert rows[2] == {
        "doc_id": rules, "title": RULES, "date": "2018-03-01", "label": "第二条", "clause_id": f"{rules}:1",
        "mention": f"《{LAW}》第九条", "article": "第九条", "reason": "moved", "new_article": "第二十条",
        "cited": {"doc_id": ids[(LAW, "2017-09-01")], "title": LAW, "date": "2017-09-01", "status": "已修改"},
        "replacement": {"doc_id": ids[(LAW, "2023-09-01")], "title": LAW, "date": "2023-09-01"}, "unheld": False,
    }  # fmt: skip
    assert [(r["title"], r["label"], r["reason"], r["new_article"]) for r in rows] == [
        (t, label, reason, new) for t, label, _, _, _, reason, _, new in GOLDEN]  # fmt: skip


def test_cli_needs_stale(index_dir, capsys):
    rc, out, err = run_cli(capsys, "citations", "--index", str(index_dir))
    assert rc == 2
    assert "--stale" in err


# ---------------------------------------------------------------- 行政复议法 of the laws corpus (slow)


@pytest.mark.slow
@needs_shared
def test_stale_citations_of_the_administrative_review_regulations(tmp_path):
    """行政复议法实施条例 (2007) cites articles of 行政复议法, renumbered in 2023 (old 第九条 -> 第二十条)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for path in ("诉讼与非诉讼程序法/行政复议法(2017-09-01).md", "诉讼与非诉讼程序法/行政复议法(2023-09-01).md",
                 "行政法规/行政复议法实施条例(2007-05-29).md"):  # fmt: skip
        (lib / path.split("/")[1]).write_bytes((LAWS / path).read_bytes())
    ingest([lib], tmp_path / "idx", parse_spec("hash:64"), show_progress=False)
    found = stale(ClauseIndex.load(tmp_path / "idx"))
    for s in found:
        print(describe(s))
    moved = {(s.citation.clause.label, s.citation.article): s.new_article for s in found if s.reason == "moved"}
    assert moved[("第十五条", "第九条")] == "第二十条"
    assert moved[("第二十六条", "第七条")] == "第十三条"
    assert moved[("第五十二条", "第三十三条")] == "第七十八条"
    assert moved[("第六十二条", "第三十七条")] == "第八十三条"
    assert all(s.citation.doc.title == "中华人民共和国行政复议法实施条例" for s in found)
    assert len(found) == 16


@pytest.mark.slow
@needs_shared
def test_stale_citations_of_the_company_law_interpretations(tmp_path):
    """Two 公司法 interpretations (2011, 2020) cite 公司法 2018 articles, renumbered in 2023; a mention a clause repeats
    (规定（四）第二十二条 names 公司法第七十一条第二款 in both paragraphs) is listed once."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for path in ("民法商法/公司法(2018-10-26).md", "民法商法/公司法(2023-12-29).md",
                 "司法解释/最高人民法院关于适用《公司法》若干问题的规定（三）(2011-01-27).md",
                 "司法解释/最高人民法院关于适用《公司法》若干问题的规定（四）(2020-12-29).md"):  # fmt: skip
        (lib / path.split("/")[1]).write_bytes((LAWS / path).read_bytes())
    ingest([lib], tmp_path / "idx", parse_spec("hash:64"), show_progress=False)
    found = stale(ClauseIndex.load(tmp_path / "idx"))
    for s in found:
        print(describe(s))
    moved = {(s.citation.doc.date, s.citation.clause.label, s.citation.mention): s.new_article
             for s in found if s.reason == "moved"}  # fmt: skip
    # 第三十二条 split: its 股东名册 is 第五十六条, its 变更登记/不得对抗 paragraph 第三十四条
    assert moved[("2011-01-27", "第二十四条", "公司法第三十二条")] == "第三十四条、第五十六条"
    assert moved[("2020-12-29", "第七条", "公司法第三十三条")] == "第五十七条"
    assert moved[("2020-12-29", "第二十二条", "公司法第七十一条第二款")] == "第八十四条"
    assert moved[("2020-12-29", "第二十四条", "公司法第一百五十一条第二款")] == "第一百八十九条"
    assert [s.reason for s in found].count("revised") == 2  # each cites 《中华人民共和国公司法》 whole
    assert len(found) == 15


def test_ingest_records_the_references_with_the_generation(index_dir, tmp_path):
    """citations.jsonl holds what ingest resolved; the graph read from it is the one built from the clauses; a
    changed byte in it is damage `rag verify` names, and an index written before it builds the graph anew."""
    import shutil

    from rag.citing.citations import CitationGraph
    from rag.storage.generations import resolve
    from rag.storage.index import verify

    index = ClauseIndex.load(index_dir)
    assert index.citations is not None and len(index.citations) == 7
    recorded = CitationGraph.of(index)
    assert [_row(s) for s in recorded.stale()] == [_row(s) for s in CitationGraph(index).stale()] == GOLDEN
    copy = tmp_path / "idx"
    shutil.copytree(index_dir, copy)
    gen = resolve(copy)
    raw = (gen / "citations.jsonl").read_bytes()
    (gen / "citations.jsonl").write_bytes(raw.replace("第九条".encode(), "第八条".encode(), 1))
    assert any("citations.jsonl" in p for p in verify(copy, full=True))
    (gen / "citations.jsonl").write_bytes(raw)
    old = ClauseIndex.load(copy)
    old.citations = None  # as an index from before the references were recorded
    assert [_row(s) for s in CitationGraph.of(old).stale()] == GOLDEN


def test_an_index_from_before_gets_its_references_on_the_next_ingest(tmp_path):
    """Nothing changed, but the index has no recorded references: the next ingest records them (once)."""
    from rag.storage.generations import generations

    idx = _ingest(tmp_path, LIBRARY)
    index = ClauseIndex.load(idx)
    index.citations = None
    index.save(idx)  # an index as an older rag wrote it: no citations.jsonl
    assert ClauseIndex.load(idx).citations is None
    _ingest(tmp_path, LIBRARY)
    assert len(ClauseIndex.load(idx).citations) == 7
    made = generations(idx)
    _ingest(tmp_path, LIBRARY)
    assert generations(idx) == made  # recorded now: an unchanged library writes nothing
