"""Extractive answers: golden outputs on tiny clauses, exact spans over the sample index and gold spans."""

from __future__ import annotations

import json

import pytest

from rag.answers.extract import candidates, extract, marks, question_kind
from rag.search.retrieve import Hit
from rag.storage.store import DocInfo
from rag.text.split import Clause
from tests.conftest import LOCAL_REGS, REPO, needs_shared

DOC = DocInfo(doc_id="d1", source="d1.txt", title="某市管理条例", sha256="x", kind="txt")


def hit(rank: int, text: str, label: str = "第一条") -> Hit:
    c = Clause("d1", rank - 1, label, (), text, 0, len(text))
    return Hit(rank, 1.0 / rank, c, DOC, f"《某市管理条例》 › {label}")


HITS = [
    hit(1, "第十条 用水单位应当在接到通知之日起30日内办理手续。逾期未办理的，处5000元以下罚款。"),
    hit(2, "第十一条 县级以上人民政府生态环境主管部门负责本行政区域大气污染防治的监督管理。"),
    hit(3, "第十二条 抽查比例不低于5%，掌上执法率达到95%，检查结果公示率达到100%。每年开展检查不少于2次。"),
]


def _exact(answer, hits) -> None:
    by_rank = {h.rank: h for h in hits}
    for s in answer.sentences:
        assert by_rank[s.span.rank].clause.text[s.span.start : s.span.end] == s.span.text == s.text
    if answer.short is not None:
        sh = answer.short
        assert by_rank[sh.rank].clause.text[sh.start : sh.end] == sh.text


@pytest.mark.parametrize(
    "question, kind",
    [("罚款是多少", "amount"), ("多长时间内办理", "time"), ("由哪个部门负责", "body"), ("如何办理手续", None)],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind


@pytest.mark.parametrize(
    "question, short, rank",
    [
        ("接到通知后多长时间内要办理手续", "30日内", 1),
        ("逾期未办理的罚款多少", "5000元以下", 1),
        ("大气污染防治由哪个部门负责监督管理", "县级以上人民政府生态环境主管部门", 2),
        ("检查结果公示率要达到多少", "达到100%", 3),
        ("掌上执法率是多少", "达到95%", 3),
        ("每年检查几次", "不少于2次", 3),
    ],
)
def test_short_spans_golden(question, short, rank):
    a = extract(question, HITS)
    assert a.mode == "extractive"
    assert a.short is not None and a.short.text == short and a.short.rank == rank
    assert len(a.sentences) == 1 and a.sentences[0].citations == (rank,) and a.sentences[0].verified
    assert a.sentences[0].reason == f"verbatim from clause [{rank}]"
    assert short in a.text
    _exact(a, HITS)


def test_sentence_answer_without_short_span():
    a = extract("用水单位应当怎样办理手续", HITS)
    assert a.short is None
    assert a.text == "第十条 用水单位应当在接到通知之日起30日内办理手续。"
    _exact(a, HITS)


def test_ties_prefer_the_top_hit_and_no_hits_is_empty():
    twins = [hit(1, "甲事项应当公开。"), hit(2, "甲事项应当公开。")]
    assert extract("甲事项公开", twins).sentences[0].citations == (1,)
    assert extract("什么", []).text == ""


def test_candidates_find_figures_dates_ratios():
    text = "自2022年5月1日起施行，比例为1:3，三年内完成，百分之八十五以上。"
    found = {text[s:e] for s, e in candidates("amount", text)} | {text[s:e] for s, e in candidates("time", text)}
    assert {"2022年5月1日起", "1:3", "三年内", "百分之八十五以上"} <= found


def test_marks_span_and_one_sentence_never_whole_clause():
    a = extract("逾期未办理的罚款多少", HITS)
    m = marks("逾期未办理的罚款多少", HITS[0], a)
    text = HITS[0].clause.text
    assert (a.short.start, a.short.end) in m
    assert len(m) <= 2 and (0, len(text)) not in m
    assert all(e1 <= s2 for (_, e1), (s2, _) in zip(m, m[1:]))  # sorted, non-overlapping
    other = marks("逾期未办理的罚款多少", HITS[2], a)
    assert len(other) <= 1


def test_sample_questions_get_exact_extractive_answers(sample_index_dir):
    from rag.search.retrieve import Searcher
    from rag.storage.index import ClauseIndex

    searcher = Searcher(ClauseIndex.load(sample_index_dir))
    for line in (REPO / "tests" / "data" / "sample_questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)["query"]
        hits = searcher.search(q, k=5)
        a = extract(q, hits)
        assert a.mode == "extractive" and a.text and len(a.sentences) == 1, q
        _exact(a, hits)
        if q == "双随机抽查比例要达到多少？":
            assert a.short is not None and "20%" in a.short.text


@needs_shared
def test_answer_span_gold_occurs_in_named_clause():
    from rag.reading.load import load_file
    from rag.text.split import split_document

    rows = [json.loads(x) for x in (REPO / "tests" / "data" / "answer_spans.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) >= 45
    docs: dict = {}
    for r in rows:
        src = r["source"]
        path = REPO / src if src.startswith("corpus/") else LOCAL_REGS / src.removeprefix("local-regs/")
        if path not in docs:
            d = load_file(path)
            docs[path] = (d, split_document(d))
        d, clauses = docs[path]
        assert d.title == r["title"], r["qid"]
        assert any(c.label == r["label"] and r["answer"] in c.text for c in clauses), r["qid"]
