from __future__ import annotations

from rag.reading.load import load_file, load_paths
from rag.search.retrieve import Filters, Searcher
from rag.storage.catalogue import superseded_versions
from rag.storage.index import ClauseIndex
from rag.text.clean import clean_spans
from rag.text.gongwen import analyse, date_line, repeals
from rag.text.split import split_document
from tests import gwfixtures as gw


def _analyse(lines):
    t = gw.text(lines)
    return t, analyse(t, clean_spans(t))


def test_red_header_notice_identity_is_its_own():
    t, st = _analyse(gw.NOTICE_2022)
    assert st.title == "宁波市民政局关于印发2022年全市民政系统依法行政工作要点的通知"
    assert (st.doc_number, st.issuer, st.date) == ("甬民发〔2022〕12号", "宁波市民政局", "2022-03-01")
    assert st.official
    assert st.meta["份号"] == "000123" and st.meta["密级"] == "机密★1年" and st.meta["紧急程度"] == "特急"
    assert st.meta["签发人"] == "张三"
    assert st.meta["主送"] == "各区（县、市）民政局，局机关各处室"
    assert st.meta["附件说明"] == "附件：1.重点任务分工表 2.工作进度安排"
    assert st.meta["附注"] == "（此件公开发布）"
    assert st.meta["抄送"] == "抄送：市委办公厅，市人大常委会办公厅。"
    assert st.meta["印发"] == "宁波市民政局办公室　　2022年3月2日印发"
    body = "\n".join(t[s:e] for s, e in st.body)
    # numbers and dates the body quotes are never the document's own; metadata zones are not body
    gone_lines = ("宁波市民政局文件", "签发人", "各区（县、市）", "附件：", "2.工作进度安排", "2022年3月1日", "抄送")
    for gone in (*gone_lines, "3月2日印发"):
        assert gone not in body, gone
    assert "国发〔2019〕18号" in body and "2022年6月30日" in body


def test_red_header_notice_clauses(tmp_path):
    f = tmp_path / "notice.txt"
    f.write_text(gw.text(gw.NOTICE_2022), encoding="utf-8")
    doc = load_file(f)
    assert (doc.title, doc.doc_number, doc.issuer, doc.date) == (
        "宁波市民政局关于印发2022年全市民政系统依法行政工作要点的通知",
        "甬民发〔2022〕12号",
        "宁波市民政局",
        "2022-03-01",
    )
    cs = split_document(doc)
    view = [(c.label, c.headings) for c in cs]
    assert view == [
        ("", ()),
        ("1.", ("一、依法行政工作", "（一）强化统筹协调")),
        ("注1", ("一、依法行政工作", "（一）强化统筹协调", "1.双随机抽查比例要达到20%以上[注1]")),
        ("2.", ("一、依法行政工作", "（一）强化统筹协调")),
        ("（二）", ("一、依法行政工作",)),
        ("二、", ()),
        ("序号 1", ("附件1", "重点任务分工表", "序号｜任务｜牵头单位")),
        ("序号 2", ("附件1", "重点任务分工表", "序号｜任务｜牵头单位")),
    ]
    assert cs[2].text == "[注1] 比例按年度抽查对象总数计算。"
    assert cs[5].text == "二、法治宣传教育\n落实“谁执法谁普法”普法责任制。"  # no 附件说明, no signature glued on
    assert cs[6].text == "附件1\n重点任务分工表\n序号\t任务\t牵头单位\n1\t双随机抽查\t执法处"
    assert cs[7].text == "2\t案卷评查\t法规处"  # 抄送/印发 are not glued to the last row
    assert all(doc.text[c.start : c.end] == c.text for c in cs)


def test_plain_notice_without_red_header():
    lines = ["关于开展检查的通知", "各区市场监管局：", "一、检查范围", "全部企业。", "某某市市场监督管理局"]
    lines.append("2023年3月1日")
    t, st = _analyse(lines)
    assert (st.title, st.issuer, st.date) == ("关于开展检查的通知", "某某市市场监督管理局", "2023-03-01")
    assert st.meta["主送"] == "各区市场监管局"
    assert [t[s:e] for s, e in st.body] == ["一、检查范围\n全部企业。"]


def test_a_preamble_ending_with_a_colon_is_not_an_addressee():
    lines = ["某某条例修正案", "为了惩治犯罪，对刑法作如下补充修改：", "一、在刑法第一条后增加一条。"]
    _, st = _analyse(lines)
    assert "主送" not in st.meta


def test_date_lines_and_repeal_statements():
    assert date_line("二〇二二年三月一日") == "2022-03-01"
    assert date_line("2022年12月31日") == "2022-12-31"
    assert date_line("于2022年6月30日前完成") is None
    assert repeals("原《宁波市民政行政执法工作规范》（甬民发〔2021〕15号）同时废止。") == (
        "宁波市民政行政执法工作规范", "甬民发〔2021〕15号",
    )  # fmt: skip
    assert repeals("《甲办法》自2020年1月1日起不再执行；其他规定继续有效。") == ("甲办法",)
    assert repeals("对不符合条件的，予以废止。") == ()  # a rule about repealing, not a repeal
    assert repeals("依照《乙法》的规定处理。") == ()
    # the verb acts on something else: 公司法 does not repeal 民事诉讼法 (found in the laws corpus)
    assert repeals("股东可以依照《中华人民共和国民事诉讼法》规定的公示催告程序，请求人民法院宣告该股票失效。") == ()
    assert repeals("本办法自2024年1月1日起施行，2018年印发的《丙办法》同时废止。") == ("丙办法",)
    assert repeals("《丁规定》（国发〔2001〕5号），自本决定公布之日起废止。") == ("丁规定", "国发〔2001〕5号")
    assert repeals("《甲条例》、《乙规定》和《丙办法》同时废止。") == ("甲条例", "乙规定", "丙办法")


def test_revision_repeals_its_predecessor_and_an_unrelated_notice_stays(tmp_path, fake_embedder):
    for name, lines in [("rules-2021.txt", gw.RULES_2021), ("rules-2023.txt", gw.RULES_2023),
                        ("visit-2024.txt", gw.UNRELATED_2024)]:  # fmt: skip
        (tmp_path / name).write_text(gw.text(lines), encoding="utf-8")
    docs, errors = load_paths([tmp_path])
    assert not errors
    by = {d.source.rsplit("/", 1)[-1]: d for d in docs}
    assert by["rules-2023.txt"].revised and by["rules-2023.txt"].repeals == (
        "宁波市民政局关于印发宁波市民政行政执法工作规范的通知", "甬民发〔2021〕15号",
    )  # fmt: skip
    idx = ClauseIndex.build(docs, fake_embedder, show_progress=False)
    sup = superseded_versions(idx.docs.values())
    old, new, other = (by[n].doc_id for n in ("rules-2021.txt", "rules-2023.txt", "visit-2024.txt"))
    assert set(sup) == {old} and sup[old].by == new and "明确废止" in sup[old].reason  # the 2024 notice: nothing
    s = Searcher(idx, fake_embedder)
    hits = s.search("双随机抽查比例不低于多少", k=5)
    texts = [h.clause.text for h in hits]
    assert any("30%" in t for t in texts) and not any("20%" in t for t in texts)  # the repealed figure is not served
    both = s.search("双随机抽查比例不低于多少", k=5, filters=Filters(superseded=True))
    old_hit = next(h for h in both if "20%" in h.clause.text)
    assert not old_hit.to_dict()["current"] and old_hit.to_dict()["replaced_by"]["doc_number"] == "甬民发〔2023〕8号"
    new_title = "宁波市民政局关于印发宁波市民政行政执法工作规范（2023年修订）的通知"
    assert f"已被《{new_title}》（甬民发〔2023〕8号，2023-05-10）取代" in old_hit.citation
    assert other not in sup and new not in sup


def test_cli_search_all_versions_says_what_replaced_a_hit(tmp_path, capsys):
    from rag.interfaces.cli import main

    for name, lines in [("rules-2021.txt", gw.RULES_2021), ("rules-2023.txt", gw.RULES_2023)]:
        (tmp_path / name).write_text(gw.text(lines), encoding="utf-8")
    idx = str(tmp_path / "idx")
    assert main(["ingest", str(tmp_path), "--index", idx, "--embedder", "hash:64", "-q"]) == 0
    assert main(["search", "双随机抽查比例不低于", "--index", idx, "--mode", "lexical"]) == 0
    out = capsys.readouterr().out
    assert "不低于30%" in out and "不低于20%" not in out
    assert main(["search", "双随机抽查比例不低于", "--index", idx, "--mode", "lexical", "--all-versions"]) == 0
    out = capsys.readouterr().out
    assert "不低于20%" in out and "! not current: 《宁波市民政局关于印发宁波市民政行政执法工作规范（2023年修订）" in out


def test_a_replaced_library_file_is_superseded_by_the_file_now_in_its_place(tmp_path, fake_embedder):
    lib = tmp_path / "library"
    (lib / ".versions" / "20260101T000000Z").mkdir(parents=True)
    (lib / "rules.txt").write_text(gw.text(gw.RULES_2023), encoding="utf-8")
    old = lib / ".versions" / "20260101T000000Z"
    (old / "rules.txt").write_text(gw.text(gw.UNRELATED_2024), encoding="utf-8")  # no title or repeal in common
    (old / "gone.txt").write_text(gw.text(gw.NOTICE_2022), encoding="utf-8")  # nothing in its place now
    docs, errors = load_paths([lib])
    assert not errors and len(docs) == 3
    sup = superseded_versions(ClauseIndex.build(docs, fake_embedder, show_progress=False).docs.values())
    by = {d.source.rsplit("/", 1)[-1] + ("(old)" if ".versions" in d.source else ""): d.doc_id for d in docs}
    assert set(sup) == {by["rules.txt(old)"]} and sup[by["rules.txt(old)"]].by == by["rules.txt"]
    assert sup[by["rules.txt(old)"]].reason == "被替换下来的旧版本（20260101T000000Z 替换）"
