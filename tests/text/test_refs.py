"""Cross-references: parsing (`find_refs`) and resolution (`resolve`, `referring`), golden outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from rag.answers.refs import previous_article, referring, resolve
from rag.storage.store import DocInfo
from rag.storage.titles import titles_of
from rag.text.numerals import RefMention, article_label, find_refs
from rag.text.split import Clause


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "违反本条例第十三条第二款规定的，依照前款处罚。",
            [
                RefMention("self", "本条例第十三条第二款", 2, 12, article="第十三条", paragraph=2),
                RefMention("previous_paragraph", "前款", 18, 20),
            ],
        ),
        (
            "第十条　前条规定的事项，依照第5条至第8条办理。",
            [
                RefMention("previous_article", "前条", 4, 6),
                RefMention("bare", "第5条至第8条", 14, 21, article="第五条"),
            ],
        ),
        (
            "按照《国务院关于加强监管的意见》（国发〔2019〕5号）执行。",
            [
                RefMention(
                    "document",
                    "《国务院关于加强监管的意见》（国发〔2019〕5号）",
                    2,
                    28,
                    title="国务院关于加强监管的意见",
                    doc_number="国发〔2019〕5号",
                )
            ],
        ),  # fmt: skip
        (
            "依照《中华人民共和国行政处罚法》第三十条处理；本条第二款第（一）项除外。",
            [
                RefMention(
                    "document",
                    "《中华人民共和国行政处罚法》第三十条",
                    2,
                    20,
                    title="中华人民共和国行政处罚法",
                    article="第三十条",
                ),
                RefMention("this", "本条第二款第（一）项", 23, 33, paragraph=2, item=1),
            ],
        ),  # fmt: skip
        (
            "有前两款情形的，依照本法第一百二十条之一处理。",
            [
                RefMention("previous_paragraph", "前两款", 1, 4),
                RefMention("self", "本法第一百二十条之一", 10, 20, article="第一百二十条之一"),
            ],
        ),
        ("第十条 本条例自2020年1月1日起施行。", []),
    ],
)
def test_find_refs_golden(text, expected):
    assert find_refs(text) == expected
    for m in expected:
        assert text[m.start : m.end] == m.text


def test_unbracketed_law_name_is_a_document_reference():
    [m] = find_refs("或者依照行政许可法第十二条办理")
    assert (m.kind, m.title, m.article, m.text) == ("document", "行政许可法", "第十二条", "行政许可法第十二条")


def test_labels():
    assert article_label("13") == "第十三条"
    assert article_label("一百零一") == "第一百零一条"
    assert article_label("两", "之一") == "第二条之一"
    assert previous_article("第十三条") == "第十二条"
    assert previous_article("第十三条之一") == "第十三条"
    assert previous_article("第一条") is None and previous_article("1.") is None


@dataclass
class FakeStore:
    """Just what resolution needs of a `Store`: docs, fetch, by_label."""

    clauses: list[Clause]
    infos: dict[str, DocInfo] = field(default_factory=dict)

    @property
    def docs(self) -> dict[str, DocInfo]:
        return self.infos

    def fetch(self, ids):
        by_id = {c.clause_id: c for c in self.clauses}
        return [by_id[i] for i in ids if i in by_id]

    def by_label(self, doc_id, label):
        return [c for c in self.clauses if c.doc_id == doc_id and c.label == label]


def _doc(doc_id: str, title: str, texts: list[str], number: str | None = None) -> tuple[DocInfo, list[Clause]]:
    clauses = []
    for i, t in enumerate(texts):
        label = t.split(" ", 1)[0]
        clauses.append(Clause(doc_id, i, label, (), t, 0, len(t)))
    info = DocInfo(doc_id, f"{doc_id}.md", title, "x", "md", doc_number=number, n_clauses=len(clauses))
    return info, clauses


@pytest.fixture()
def store() -> FakeStore:
    a, ca = _doc("a", "某市养犬管理条例", [
        "第一条 为了规范养犬行为，制定本条例。",
        "第二条 养犬人应当遵守本条例第一条的规定。",
        "第三条 违反前条规定的，依照本条例第九十九条处理；前款情形从重。",
    ])  # fmt: skip
    b, cb = _doc("b", "关于加强犬只管理的意见", [
        "一、 依照《某市养犬管理条例》第二条，以及《某市养犬管理条例》第五十条。",
        "二、 按照《关于加强犬只管理的意见》（某政发〔2020〕3号）执行。",
    ], number="某政发〔2020〕3号")  # fmt: skip
    return FakeStore(ca + cb, {"a": a, "b": b})


def _targets(refs):
    return [(r.text, r.target_doc, r.target_label, r.target_clause) for r in refs]


def test_resolve_same_document(store):
    a = store.docs["a"]
    assert _targets(resolve(store.clauses[1], a, store)) == [("本条例第一条", "a", "第一条", "a:0")]
    assert _targets(resolve(store.clauses[2], a, store)) == [
        ("前条", "a", "第二条", "a:1"),
        ("本条例第九十九条", None, None, None),  # no such article: unresolved
        ("前款", "a", "第三条", "a:2"),  # 前款 stays in the same article
    ]
    assert resolve(store.clauses[0], a, store) == ()


def test_resolve_by_title_and_doc_number(store):
    b = store.docs["b"]
    refs = resolve(store.clauses[3], b, store, titles_of(store))
    assert _targets(refs) == [
        ("《某市养犬管理条例》第二条", "a", "第二条", "a:1"),
        ("《某市养犬管理条例》第五十条", None, None, None),
    ]
    assert refs[0].target_title == "某市养犬管理条例"
    [whole] = resolve(store.clauses[4], b, store)
    assert (whole.target_doc, whole.target_label, whole.target_clause) == ("b", None, None)


def test_referring(store):
    found = referring(store, store.clauses[1])  # a 第二条
    assert [(c.clause_id, r.text) for c, r in found] == [("a:2", "前条"), ("b:0", "《某市养犬管理条例》第二条")]
    assert referring(store, store.clauses[4]) == []


def test_over_a_hash_index(tmp_path):
    from rag.embedding.embed import parse_spec
    from rag.ingest.pipeline import ingest
    from rag.storage.index import ClauseIndex

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "某县河道管理条例.md").write_text(
        "# 某县河道管理条例\n\n第一条 为了加强河道管理，制定本条例。\n\n"
        "第二条 县水行政主管部门负责本县河道管理工作。\n\n"
        "第三条 违反本条例第二条规定的，由县人民政府责令改正。\n\n"
        "第四条 前条规定的处理决定应当在30日内作出。\n",
        encoding="utf-8",
    )
    (lib / "河道巡查办法.md").write_text(
        "# 河道巡查办法\n\n第一条 依照《某县河道管理条例》第二条，制定本办法。\n", encoding="utf-8"
    )
    ingest([lib], tmp_path / "index", parse_spec("hash:64"), show_progress=False)
    index = ClauseIndex.load(tmp_path / "index")
    law = next(d for d in index.docs.values() if d.title == "某县河道管理条例")
    clauses = {c.label: c for c in index.doc_clauses(law.doc_id)}
    assert [c.clause_id for c in index.doc_clauses(law.doc_id)] == [f"{law.doc_id}:{i}" for i in range(law.n_clauses)]
    [r3] = resolve(clauses["第三条"], law, index)
    assert (r3.target_label, r3.target_clause) == ("第二条", clauses["第二条"].clause_id)
    [r4] = resolve(clauses["第四条"], law, index)
    assert r4.target_clause == clauses["第三条"].clause_id
    citing = {(index.docs[c.doc_id].title, r.text) for c, r in referring(index, clauses["第二条"])}
    assert citing == {("某县河道管理条例", "本条例第二条"), ("河道巡查办法", "《某县河道管理条例》第二条")}
