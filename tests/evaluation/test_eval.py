from __future__ import annotations

import json
import math

import pytest

from rag.evaluation.evaluate import QueryResult, evaluate, read_questions, score
from rag.search.retrieve import Searcher
from rag.storage.index import ClauseIndex
from tests.conftest import REPO

SAMPLE_QUESTIONS = REPO / "tests" / "data" / "sample_questions.jsonl"


def test_metrics_by_hand():
    rs = [
        QueryResult("1", "a", "", (1,), 1.0),  # hit at 1
        QueryResult("2", "b", "", (3, None), 3.0),  # one of two, at 3
        QueryResult("3", "c", "", (None,), 2.0),  # miss
    ]
    m = score(rs, ks=(1, 10))
    assert m.recall == {1: pytest.approx(1 / 3), 10: pytest.approx((1 + 0.5 + 0) / 3)}
    assert m.mrr_10 == pytest.approx((1 + 1 / 3) / 3)
    assert m.ndcg_10 == pytest.approx((1 + (1 / math.log2(4)) / (1 + 1 / math.log2(3))) / 3)
    assert m.miss_share == pytest.approx(1 / 3) and m.ms_per_query == pytest.approx(2.0)


def test_question_file_formats(tmp_path):
    f = tmp_path / "q.jsonl"
    lines = [
        {"query": "q1", "relevant": [{"law": "中华人民共和国民法典", "article": "第五十四条"}]},
        {"query": "q2", "relevant": [{"title": "某要点(2020-01-01)", "label": "1.", "path": "一、"}]},
    ]
    f.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    a, b = read_questions(f)
    assert (a.relevant[0].title, a.relevant[0].label) == ("民法典", "第五十四条")
    assert (b.relevant[0].title, b.relevant[0].path) == ("某要点", "一、")
    f.write_text('{"query": "no relevant"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"q.jsonl:1"):
        read_questions(f)


def test_sample_question_set_floors(sample_index_dir):
    """The 44 hand-written questions about corpus/: the floors the product must keep."""
    questions = read_questions(SAMPLE_QUESTIONS)
    kinds = {q.kind for q in questions}
    assert len(questions) >= 40 and kinds == {"rule", "precedent", "study"}
    m = evaluate(Searcher(ClauseIndex.load(sample_index_dir)), questions, ks=(3, 10))
    for kind in ("rule", "precedent"):
        g = score([q for q in m.by_query if q.kind == kind], ks=(3,))
        assert g.recall[3] >= 0.9, (kind, g.recall)
    study = score([q for q in m.by_query if q.kind == "study"], ks=(10,))
    assert study.recall[10] >= 0.8
