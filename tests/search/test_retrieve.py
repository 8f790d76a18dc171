from __future__ import annotations

import pytest

from rag.citing.cite import citation, highlight, mark, mark_html
from rag.reading.load import load_file, load_paths
from rag.search.retrieve import (
    Filters,
    SearchConfig,
    Searcher,
    cn_number,
    doc_type,
    normalise_title,
    parse_config,
    ref_labels,
    wording,
)
from rag.storage.index import ClauseIndex
from tests.conftest import CIVIL_CODE, GETIHU, REPO, SAMPLE, needs_shared


def test_cn_number_and_ref_labels():
    assert [cn_number(n) for n in (1, 10, 15, 20, 54, 100, 101, 110, 204, 1260)] == [
        "一", "十", "十五", "二十", "五十四", "一百", "一百零一", "一百一十", "二百零四", "一千二百六十",
    ]  # fmt: skip
    assert ref_labels("民法典第54条和第五十五条") == ["第五十四条", "第五十五条"]
    assert ref_labels("没有条文") == []


def test_titles_and_types():
    assert normalise_title("中华人民共和国民法典") == "民法典"
    assert normalise_title("个体工商户条例(2016-02-06)") == "个体工商户条例"
    assert doc_type("个体工商户条例") == "条例"
    assert doc_type("中华人民共和国民法典") == "法律"
    assert doc_type("2023年市场监管工作要点") == "要点"
    assert doc_type("最高人民法院关于审理劳动争议案件适用法律问题的解释（一）") == "司法解释"


@pytest.fixture(scope="module")
def law_searcher(fake_embedder):
    docs, errors = load_paths([CIVIL_CODE, GETIHU])
    assert [e.reason for e in errors] == ["LawRefBook folder stub (no text)"]  # 民法典/_index.md, listed not hidden
    return Searcher(ClauseIndex.build(docs, fake_embedder, show_progress=False), fake_embedder)


@needs_shared
@pytest.mark.parametrize(
    "query,title,label",
    [
        ("民法典第五十四条", "中华人民共和国民法典", "第五十四条"),
        ("个体工商户条例第二条", "个体工商户条例", "第二条"),
        ("《中华人民共和国民法典》第1260条是怎么规定的", "中华人民共和国民法典", "第一千二百六十条"),
        ("个体工商户条例 第 8 条", "个体工商户条例", "第八条"),
    ],
)
def test_named_clause_comes_first(law_searcher, query, title, label):
    for mode in ("hybrid", "lexical"):
        top = law_searcher.search(query, k=3, mode=mode)[0]
        assert (top.doc.title, top.clause.label, top.exact_ref) == (title, label, True)


@needs_shared
def test_article_without_document_is_not_guessed(law_searcher):
    hits = law_searcher.search("第二条", k=3, mode="lexical")
    assert not any(h.exact_ref for h in hits)


@needs_shared
def test_filters_restrict_results(law_searcher):
    getihu = next(d.doc_id for d in law_searcher.index.docs.values() if d.title == "个体工商户条例")
    hits = law_searcher.search("登记", k=10, filters=Filters(doc_ids=(getihu,)))
    assert hits and all(h.doc.doc_id == getihu for h in hits)
    hits = law_searcher.search("登记", k=10, filters=Filters(doc_type="法律"))
    assert hits and all(h.doc.title == "中华人民共和国民法典" for h in hits)
    hits = law_searcher.search("登记", k=10, filters=Filters(folder=str(CIVIL_CODE)))
    assert hits and all("民法典" in h.doc.source for h in hits)
    # with one document in scope, a bare 第八条 names that document's article
    top = law_searcher.search("第八条", k=1, filters=Filters(doc_ids=(getihu,)))[0]
    assert top.clause.label == "第八条" and top.exact_ref


def test_search_rejects_bad_arguments(fake_embedder):
    s = Searcher(ClauseIndex.build([load_file(SAMPLE)], fake_embedder, show_progress=False), fake_embedder)
    with pytest.raises(ValueError, match="mode"):
        s.search("x", mode="fuzzy")
    with pytest.raises(ValueError, match="k must"):
        s.search("x", k=0)
    assert s.search("   ") == []


def test_citation_and_highlight(fake_embedder):
    doc = load_file(REPO / "tests" / "data" / "policy_small.txt")
    idx = ClauseIndex.build([doc], fake_embedder, show_progress=False)
    c = next(c for c in idx.clauses if c.label == "1.")
    assert citation(idx.docs[doc.doc_id], c) == (
        "《2023年市场监管工作要点》 › 一、强化监管执法 › (一)完善双随机机制 › 1.（2023-02-01）"
    )
    spans = highlight(c.text, "双随机抽查比例是多少")
    assert [c.text[s:e] for s, e in spans] == ["1.双随机抽查比例不低于5%。"]
    assert mark("甲乙丙", ((1, 2),)) == "甲【乙】丙"
    assert mark_html("<b>x</b>\n1", ((0, 3),)) == "<mark>&#60;b&#62;</mark>x&#60;/b&#62;<br>1"


def _versions(tmp_path, fake_embedder):
    old = "# 某某管理条例\n\n<!-- INFO END -->\n\n第一条 为了加强管理，制定本条例。\n\n第二条 罚款五千元。\n"
    new = "# 某某管理条例\n\n<!-- INFO END -->\n\n第一条 为了加强管理，制定本条例。\n\n第二条 罚款一万元。\n"
    (tmp_path / "某某管理条例(2010-01-01).md").write_text(old, encoding="utf-8")
    (tmp_path / "某某管理条例(2020-01-01).md").write_text(new, encoding="utf-8")
    docs, _ = load_paths([tmp_path])
    return Searcher(ClauseIndex.build(docs, fake_embedder, show_progress=False), fake_embedder)


def test_superseded_versions_are_kept_but_never_outrank_the_current(tmp_path, fake_embedder):
    s = _versions(tmp_path, fake_embedder)
    assert len(s.index.docs) == 2 and len(s.index.superseded) == 1
    for q in ("罚款五千元", "第二条罚款", "某某管理条例第二条", "为了加强管理"):
        hits = s.search(q, k=5)
        assert hits and all(h.doc.date == "2020-01-01" and h.superseded_by is None for h in hits), q
        both = s.search(q, k=5, filters=Filters(superseded=True))
        dates = [(h.clause.label, h.doc.date) for h in both]
        for label in {lb for lb, _ in dates}:
            mine = [d for lb, d in dates if lb == label]
            assert mine[0] == "2020-01-01", (q, dates)  # current first for each article
    old = next(h for h in s.search("罚款五千元", k=5, filters=Filters(superseded=True)) if h.doc.date == "2010-01-01")
    assert old.to_dict()["version"] == "superseded by 《某某管理条例》: 同名文件《某某管理条例》有2020-01-01 的新版本"
    assert old.to_dict()["current"] is False and old.to_dict()["replaced_by"]["date"] == "2020-01-01"
    assert "已被《某某管理条例》（2020-01-01）取代" in old.citation


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_quoted_phrases_filter_and_fall_back_when_no_clause_has_them(fake_embedder, mode):
    doc = load_file(REPO / "tests" / "data" / "policy_small.txt")
    index = ClauseIndex.build([doc], fake_embedder, show_progress=False)
    fallback = Searcher(index, fake_embedder)  # quotes="fallback", the default
    strict = Searcher(index, fake_embedder, SearchConfig(quotes="filter"))

    def labels(s, q):
        return [h.clause.label for h in s.search(q, k=5, mode=mode)]

    # a phrase some clause contains: both keep only the clauses with it (抽查 alone is in two others)
    assert labels(fallback, "“联合惩戒”抽查") == labels(strict, "“联合惩戒”抽查") == ["(二)"]
    # a phrase no clause contains: the filter gives nothing, the fallback the unquoted search's ranking
    assert labels(strict, "“失信联合惩戒”抽查") == []
    got = labels(fallback, "“失信联合惩戒”抽查")
    assert got[0] == "(二)" and len(got) > 1  # the clause with 失信 and 联合惩戒 first, then the rest
    if mode == "lexical":  # BM25 ignores the quote marks: the very ranking of the unquoted question
        assert got == labels(strict, "失信联合惩戒抽查")
    # filters still hold: the fallback drops the quotes, not the document scope
    assert fallback.search("“失信联合惩戒”", k=5, filters=Filters(doc_ids=("nowhere",))) == []
    with pytest.raises(ValueError, match="unknown quotes"):
        SearchConfig(quotes="soft")
    assert parse_config(["quotes=filter"]).quotes == "filter"


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_a_question_naming_a_place_ranks_other_places_documents_lower(fake_embedder, tmp_path, mode):
    texts = {  # 湖州's clause holds the question's words more often, so it leads when places are ignored
        "湖州市养犬管理规定": "第十条 养犬需要办理犬只登记，犬只登记需要提供免疫证明。",
        "上海市养犬管理条例": "第十条 个人养犬的，应当办理登记。",
        "中华人民共和国动物防疫法": "第三十条 单位和个人饲养犬只，应当按照规定定期免疫接种狂犬病疫苗。",
    }
    for title, text in texts.items():
        (tmp_path / f"{title}.md").write_text(f"# {title}\n\n{text}\n", encoding="utf-8")
    docs, errors = load_paths(sorted(tmp_path.glob("*.md")))
    assert not errors
    index = ClauseIndex.build(docs, fake_embedder, show_progress=False)
    on = Searcher(index, fake_embedder, SearchConfig(elsewhere=0.5))
    off = Searcher(index, fake_embedder, SearchConfig(elsewhere=1.0))

    def titles(s, q):
        return [h.doc.title for h in s.search(q, k=3, mode=mode)]

    def before(titles_, a, b):
        return titles_.index(a) < titles_.index(b)

    sh, hz, national = "上海市养犬管理条例", "湖州市养犬管理规定", "中华人民共和国动物防疫法"
    q = "在上海养犬需要办理犬只登记吗？"
    assert before(titles(off, q), hz, sh) and before(titles(on, q), sh, hz)
    # 湖州 is in 浙江: its document governs a question about 浙江; 上海's is the one ranked lower
    assert before(titles(on, "浙江养犬需要办理犬只登记吗？"), hz, sh)
    # a question naming no place ranks as before; a national document's score is never lowered
    assert titles(on, "养犬需要办理犬只登记吗？") == titles(off, "养犬需要办理犬只登记吗？")
    q = "上海的犬只要接种狂犬病疫苗吗"
    score = {h.doc.title: h.score for h in on.search(q, k=3, mode=mode)}
    assert score[national] == {h.doc.title: h.score for h in off.search(q, k=3, mode=mode)}[national]
    # each hit says when its document is another place's than the question names
    asked = "在上海养犬需要办理犬只登记吗？"
    marked = {h.doc.title: h.elsewhere for h in on.search(asked, k=3, mode=mode)}
    assert marked == {sh: None, hz: "湖州市", national: None}
    as_json = {d["title"]: d["elsewhere"] for d in (h.to_dict() for h in on.search(asked, k=3, mode=mode))}
    assert as_json == marked
    assert all(h.elsewhere is None for h in off.search("在上海养犬需要办理犬只登记吗？", k=3, mode=mode))
    assert all(h.elsewhere is None for h in on.search("养犬需要办理犬只登记吗？", k=3, mode=mode))
    # 措辞参考 (`wording`): a drafter compares how each place worded it, so the place named does not reorder
    assert titles(Searcher(index, fake_embedder, wording(on.config)), asked) == titles(off, asked)
    assert wording(on.config).quotes == "filter"
    # telling the user: only when the library holds documents of other places
    assert on.places_named(asked) == ("上海市",) and off.places_named(asked) == ()
    alone = ClauseIndex.build([d for d in docs if not d.title.startswith("湖州")], fake_embedder, show_progress=False)
    assert Searcher(alone, fake_embedder, on.config).places_named(asked) == ()
    # a place filter: what applies there (its own, its province's and national documents)
    for place, own in (("上海", sh), ("浙江", hz), ("湖州市吴兴区", hz)):
        got = {h.doc.title for h in off.search(asked, k=5, mode=mode, filters=Filters(place=place))}
        assert own in got and got <= {own, national}, (place, got)
        assert Filters(place=place).active()
    with pytest.raises(ValueError, match="names several places"):
        Filters(place="宝山区")
    with pytest.raises(ValueError, match="elsewhere must be a number from 0 to 1"):
        SearchConfig(elsewhere=1.5)
    assert parse_config(["elsewhere=0.3"]).elsewhere == 0.3


def test_a_documents_place_from_its_issuer_title_or_folder():
    from rag.storage.store import DocInfo
    from rag.storage.titles import doc_place
    from rag.text.places import division_name

    def place(title, source="lib/a.docx", issuer=None):
        got = doc_place(DocInfo("d", source, title, "0" * 64, "docx", issuer=issuer))
        return division_name(got) if got else None

    assert place("关于做好防汛工作的通知", issuer="杭州市人民政府办公厅") == "杭州市"  # the issuer first
    assert place("上海市住宅物业管理规定", issuer="国务院") == "上海市"  # a national issuer says nothing
    assert place("关于做好防汛工作的通知", source="各区/闵行区/通知.docx") == "闵行区"  # then its folder
    assert place("关于做好防汛工作的通知", source="/data/上海/文件/通知.docx") is None  # not where the library is
    assert place("关于做好防汛工作的通知") is None and place("中华人民共和国民法典", "民法典/总则.md") is None


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_a_question_naming_no_year_ranks_the_newest_yearly_edition_first(fake_embedder, tmp_path, mode):
    texts = {  # last year's clause is a little closer to the question, so it leads when editions are ignored
        "江城市2023年政务服务工作要点": "一、今年新增一件事集成服务10个。",
        "江城市2024年政务服务工作要点": "一、今年新增一件事集成服务共13个。",
        "河山县2022年政务服务工作要点": "一、新增一件事集成服务，新增一件事集成服务8个。",  # another issuer's series
    }
    for topic in ("防汛物资储备", "校园安全巡查", "社会救助标准", "老旧小区改造", "农村厕所改造", "消防安全检查"):
        texts[f"关于做好{topic}工作的通知"] = f"一、做好{topic}工作。"
    for title, text in texts.items():
        (tmp_path / f"{title}.txt").write_text(f"{title}\n\n{text}\n", encoding="utf-8")
    docs, errors = load_paths(sorted(tmp_path.glob("*.txt")))
    assert not errors
    index = ClauseIndex.build(docs, fake_embedder, show_progress=False)
    on, off = (Searcher(index, fake_embedder, SearchConfig(older=f)) for f in (0.9, 1.0))

    def titles(s, q):
        return [h.doc.title[:7] for h in s.search(q, k=4, mode=mode)]

    q = "今年要新增多少个一件事集成服务"
    assert titles(off, q).index("江城市2023") < titles(off, q).index("江城市2024")
    assert titles(on, q).index("江城市2024") < titles(on, q).index("江城市2023")
    # a question naming a year is ranked without it; the series of another issuer is not lowered
    for named in ("2023年要新增多少个一件事集成服务", "去年要新增多少个一件事集成服务"):
        assert titles(on, named) == titles(off, named)
    score = {h.doc.title: h.score for h in on.search(q, k=4, mode=mode)}
    assert score["河山县2022年政务服务工作要点"] == {h.doc.title: h.score for h in off.search(q, k=4, mode=mode)}[
        "河山县2022年政务服务工作要点"
    ]
    # each hit of an older edition names the newest, whatever the question (and in its JSON)
    for s_ in (on, off):
        for question in (q, "2023年要新增多少个一件事集成服务"):
            newer = {h.doc.title[:7]: h.newer_edition and h.newer_edition.title for h in s_.search(question, k=4)}
            assert newer["江城市2023"] == "江城市2024年政务服务工作要点"
            assert newer["江城市2024"] is None and newer["河山县2022"] is None
    as_json = {d["title"][:7]: d["newer_edition"] for d in (h.to_dict() for h in on.search(q, k=4, mode=mode))}
    assert as_json["江城市2023"]["title"] == "江城市2024年政务服务工作要点" and as_json["江城市2024"] is None
    with pytest.raises(ValueError, match="older must be a number from 0 to 1"):
        SearchConfig(older=-0.1)
    assert parse_config(["older=1"]).older == 1.0

