"""Citations resolved below the citing layer (#22 item 2): `rag.storage.references` turns a library's documents
and clauses into `CitationRecord`s (what ingest can record), which round-trip through JSON."""

from __future__ import annotations

import json

import pytest

from rag.citing.citations import CitationGraph, citations
from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.storage.index import ClauseIndex
from rag.storage.references import CitationRecord, Resolver, build_citations

T = "某市养老机构运营补贴管理办法"
LAW = "中华人民共和国老年人权益保障法"
NOTICE = "关于开展2024年养老机构年检工作的通知"
OLD = "关于做好养老机构床位补贴工作的通知"
LIBRARY = {
    f"{LAW}(2018-12-29).txt": f"{LAW}\n\n第一条 为了保障老年人合法权益，制定本法。\n"
                              "第二条 本法所称老年人是指六十周岁以上的公民。\n",
    f"{T}(2019-03-01).txt": f"{T}\n\n某民规〔2019〕2号\n\n第一条 根据《{LAW}》，制定本办法。\n"
                            "第二条 运营补贴标准为每张床位每月100元。\n",
    f"{T}(2023-01-15).txt": f"{T}\n\n某民规〔2023〕1号\n\n第一条 依照老年人权益保障法第二条，制定本办法。\n"
                            f"第二条 本办法自2023年3月1日起施行，原《{T}》同时废止。\n",
    f"{OLD}(2018-05-01).txt": f"{OLD}\n\n某民发〔2018〕7号\n\n各区民政局：\n一、床位补贴按季度发放。\n\n"
                              "某市民政局\n2018年5月1日\n",
    f"{NOTICE}(2024-02-01).txt": f"{NOTICE}\n\n各区民政局：\n一、补贴条件按照某民规〔2023〕1号执行。\n"
                                 f"二、2023年以前的补贴依照《{T}》（某民规〔2019〕2号）第二条核对。\n"
                                 f"三、《{OLD}》（某民发〔2018〕7号）同时废止。\n\n某市民政局\n2024年2月1日\n",
}  # fmt: skip
# (citing title, date, clause label, mention, cited title, cited date, article)
GOLDEN = [
    (T, "2019-03-01", "第一条", f"《{LAW}》", LAW, "2018-12-29", None),
    (T, "2023-01-15", "第一条", "老年人权益保障法第二条", LAW, "2018-12-29", "第二条"),  # 原《…》同时废止: no citation
    (NOTICE, "2024-02-01", "一、", "某民规〔2023〕1号", T, "2023-01-15", None),  # a bare 文号
    (NOTICE, "2024-02-01", "二、", f"《{T}》（某民规〔2019〕2号）第二条", T, "2019-03-01", "第二条"),  # 文号 over date
]  # the repeal in 三、 is no citation


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> ClauseIndex:
    root = tmp_path_factory.mktemp("references")
    (root / "lib").mkdir()
    for name, text in LIBRARY.items():
        (root / "lib" / name).write_text(text, encoding="utf-8")
    ingest([root / "lib"], root / "idx", parse_spec("hash:64"), show_progress=False)
    return ClauseIndex.load(root / "idx")


def _rows(index: ClauseIndex, records: list[CitationRecord]) -> list[tuple]:
    out = []
    for r in records:
        d, cited = index.docs[r.doc_id], index.docs[r.cited]
        label = next(c.label for c in index.doc_clauses(r.doc_id) if c.clause_id == r.clause_id)
        out.append((d.title, d.date, label, r.mention, cited.title, cited.date, r.article))
    return sorted(out)


def test_build_citations_from_documents_and_their_clauses(index):
    records = build_citations(index.docs, index.doc_clauses)
    assert _rows(index, records) == sorted(GOLDEN)
    # the citing layer's citations are the same records, with the documents and clauses
    assert [c.record() for c in citations(index)] == records
    # what ingest has before a store exists: the documents and a way to read their clauses
    clauses = {d: list(index.doc_clauses(d)) for d in index.docs}
    assert build_citations(dict(index.docs), clauses.__getitem__) == records


def test_records_round_trip_through_json_and_rebuild_the_graph(index):
    records = build_citations(index.docs, index.doc_clauses)
    text = json.dumps([r.to_dict() for r in records], ensure_ascii=False)
    again = [CitationRecord.from_dict(row) for row in json.loads(text)]
    assert again == records
    built, loaded = CitationGraph(index), CitationGraph.from_records(index, again)
    assert loaded.records() == built.records()
    assert [s.to_dict() for s in loaded.stale()] == [s.to_dict() for s in built.stale()] != []
    # a record of a document the store no longer has is left out
    gone = CitationRecord("nope", "nope:0", "《X》", records[0].cited)
    assert CitationGraph.from_records(index, [gone, *again]).records() == records


@pytest.mark.parametrize("row", [
    {"doc_id": "a", "clause_id": "a:0", "mention": "《X》"},  # no cited
    {"doc_id": "a", "clause_id": "a:0", "mention": "《X》", "cited": 3},
    {"doc_id": "a", "clause_id": "a:0", "mention": "《X》", "cited": "b", "article": 9},
    ["a", "a:0"],
])  # fmt: skip
def test_a_malformed_record_is_refused(row):
    with pytest.raises(ValueError, match="not a citation record"):
        CitationRecord.from_dict(row)


def test_cited_gives_the_documents_a_clause_names(index):
    resolver = Resolver(index.docs)
    law = next(d for d in index.docs.values() if d.title == LAW)
    clause = index.doc_clauses(law.doc_id)[1]  # 本法所称老年人是指六十周岁以上的公民
    assert resolver.cited(clause, law.date) == []
    notice = next(d for d in index.docs.values() if d.title == NOTICE)
    first = index.doc_clauses(notice.doc_id)[0]
    assert [(d.date, text) for d, text in resolver.cited(first, notice.date)] == [("2023-01-15", "某民规〔2023〕1号")]
