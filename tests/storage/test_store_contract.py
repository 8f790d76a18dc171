"""One contract for every store (`rag.storage.store.Store`): the folder index and Milvus (milvus-lite).

Each store is filled by the ingest pipeline (`rag.ingest.pipeline`, through `Store.apply`) from the
same folder of documents (the sample, a 工作要点 and two versions of one 条例) embedded by the hash
embedder, and checked against a folder index built in memory from those documents by brute force:
documents, clauses, lookups, lexical and dense candidates within a scope, `apply`, the Searcher's top
10 on the sample questions, and a re-ingest that applies only what changed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.ingest.pipeline import ingest, ingest_milvus
from rag.reading.load import load_paths
from rag.search.retrieve import Filters, Searcher
from rag.storage.index import ClauseIndex
from rag.storage.milvus import MilvusStore
from rag.storage.passages import doc_change
from rag.storage.store import Changes, Scope, Store
from rag.storage.stores import open_store
from tests.conftest import REPO, SAMPLE, write_yearly_editions

STORES = ["folder", "milvus"]
QUERIES = ["双随机抽查比例", "罚款", "加强管理", "党建工作", "监管执法", "2023年"]
OLD = "# 某某管理条例\n\n<!-- INFO END -->\n\n第一条 为了加强管理，制定本条例。\n\n第二条 罚款五千元。\n"


def _write_library(lib: Path, editions: bool = False) -> Path:
    lib.mkdir()
    (lib / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    small = REPO / "tests" / "data" / "policy_small.txt"
    (lib / small.name).write_bytes(small.read_bytes())
    (lib / "某某管理条例(2010-01-01).md").write_text(OLD, encoding="utf-8")
    (lib / "某某管理条例(2020-01-01).md").write_text(OLD.replace("五千元", "一万元"), encoding="utf-8")
    if editions:
        write_yearly_editions(lib)
    return lib


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    return _write_library(tmp_path_factory.mktemp("contract") / "lib", editions=True)


@pytest.fixture(scope="module")
def reference(library, fake_embedder) -> ClauseIndex:
    """The library as a folder index built in memory: what every store is compared with."""
    docs, _ = load_paths([library])
    return ClauseIndex.build(docs, fake_embedder, show_progress=False)


def _ingest(kind: str, lib: Path, where: Path, embedder):
    """Ingest `lib` into a store of `kind` under `where` through the pipeline: (its report, its spec)."""
    if kind == "folder":
        return ingest([lib], where / "index", embedder.spec, show_progress=False), str(where / "index")
    rep, _ = ingest_milvus([lib], str(where / "m.db"), "lib", where / "cache", embedder.spec, show_progress=False)
    return rep, f"milvus:{where / 'm.db'}#lib"


def _make(kind: str, lib: Path, where: Path, embedder) -> Store:
    return open_store(_ingest(kind, lib, where, embedder)[1], embedder)


@pytest.fixture(scope="module", params=STORES)
def store(request, library, tmp_path_factory, fake_embedder) -> Store:
    """The library in each store, opened through `open_store` (shared by the read-only tests)."""
    return _make(request.param, library, tmp_path_factory.mktemp(request.param), fake_embedder)


@pytest.fixture(params=STORES)
def fresh_store(request, library, tmp_path, fake_embedder) -> Store:
    """A store of its own, for tests that change it."""
    return _make(request.param, library, tmp_path, fake_embedder)


def test_is_a_store(store):
    assert isinstance(store, Store)
    assert store.tiers["lexical"] and store.tiers["dense"]


def test_same_documents_clauses_and_versions(store, reference):
    assert dict(store.docs) == reference.docs
    assert dict(store.superseded) == reference.superseded and len(reference.superseded) == 1
    assert len(store) == len(reference) == sum(d.n_clauses for d in reference.docs.values())
    ids = [c.clause_id for c in reference.clauses]
    assert store.fetch(ids) == reference.clauses
    assert store.fetch(ids[::-1]) == reference.clauses[::-1]  # in the order asked
    assert store.fetch(["nope:1", ids[0], "nope:2"]) == [reference.clauses[0]]  # unknown ids left out


def test_clause_by_document_and_label(store, reference):
    for doc_id in reference.docs:
        for label in {c.label for c in reference.doc_clauses(doc_id)}:
            want = [c for c in reference.doc_clauses(doc_id) if c.label == label]
            assert store.by_label(doc_id, label) == want
    assert store.by_label("no-such-doc", "第一条") == []


def test_a_document_and_a_clause_in_its_context(store, reference):
    from rag.search.retrieve import neighbours

    for doc_id in reference.docs:
        assert store.doc_clauses(doc_id) == reference.doc_clauses(doc_id)
        for c in reference.doc_clauses(doc_id)[:3]:
            assert neighbours(store, c, n=2) == reference.neighbours(c, n=2)
    assert store.doc_clauses("no-such-doc") == []


def _scopes(reference: ClauseIndex) -> list[Scope]:
    ids = sorted(reference.docs)
    return [Scope(), Scope(frozenset(ids[:1])), Scope(frozenset(ids[1:])), Scope(frozenset()),
            Scope(phrases=("管理",)), Scope(frozenset(ids[:2]), ("工作",))]  # fmt: skip


def _brute(reference: ClauseIndex, scores: np.ndarray, scope: Scope) -> dict[str, float]:
    mask = reference.scope_mask(scope)
    return {c.clause_id: float(s) for c, s, m in zip(reference.clauses, scores, mask if mask is not None else
            np.ones(len(scores), bool)) if m}  # fmt: skip


def _check(got, brute: dict[str, float], n: int, positive: bool) -> None:
    """Candidates are in scope, scored as brute force scores them, best first, and the top n."""
    want = sorted((s for s in brute.values() if s > 0 or not positive), reverse=True)[:n]
    assert len(got) == len(want)
    for c in got:
        assert c.clause_id in brute
        assert c.score == pytest.approx(brute[c.clause_id], rel=1e-3, abs=1e-5)
    assert [c.score for c in got] == pytest.approx(want, rel=1e-3, abs=1e-5)


def test_lexical_candidates_within_a_scope(store, reference):
    for scope in _scopes(reference):
        assert store.count(scope) == reference.count(scope)
        for q in QUERIES:
            _check(store.lexical_candidates(q, 10, scope), _brute(reference, reference.lexical_scores(q), scope), 10,
                   positive=True)  # fmt: skip
    assert store.lexical_candidates("，。？", 10, Scope()) == []


def _brute_dense(reference: ClauseIndex, qv: np.ndarray, n: int, scope: Scope) -> dict[str, float]:
    """Brute force of the dense rule: the n best clauses in scope by their own vector and the n best sentence
    windows in scope (without phrases), each clause scored by the best of its own and its windows' found.
    Those tied with the n-th are all in: the hash embedder ties often, and a store may break a tie either way."""
    whole = _brute(reference, reference.vectors() @ qv, scope)
    top = {c: s for c, s in whole.items() if s >= _nth(list(whole.values()), n)}
    if not scope.phrases:
        owners = [reference.clauses[o].clause_id for o in reference.window_owner]
        windows = [(float(s), c) for s, c in zip(reference.window_vectors() @ qv, owners) if c in whole]
        cut = _nth([s for s, _ in windows], n)
        for s, cid in windows:
            if s >= cut:
                top[cid] = max(s, top.get(cid, -np.inf))
    return top


def _nth(scores: list[float], n: int) -> float:
    """The n-th best of `scores` (-inf when there are fewer)."""
    return sorted(scores, reverse=True)[n - 1] if len(scores) >= n else -np.inf


def test_dense_candidates_within_a_scope(store, reference, fake_embedder):
    """Scored by the clause's own vector or its sentence windows' (the reference library has some)."""
    assert len(reference.window_owner) > 20 and store.window_chars == reference.window_chars > 0
    for scope in _scopes(reference):
        for q in QUERIES:
            qv = fake_embedder.embed_queries([q])[0]
            _check(store.dense_candidates(qv, 7, scope), _brute_dense(reference, qv, 7, scope), 7, positive=False)


def test_vectors_of_clauses(store, reference):
    """The vectors the store holds, in the order asked; None for an unknown clause or without a dense tier."""
    ids = [c.clause_id for c in reference.clauses]
    vectors = reference.vectors()
    np.testing.assert_allclose(store.vectors_of(ids), vectors, atol=1e-6)
    np.testing.assert_allclose(store.vectors_of(ids[::-3]), vectors[::-3], atol=1e-6)
    assert store.vectors_of([]).shape == (0, reference.dim)
    assert store.vectors_of([ids[0], "nope:1"]) is None
    lexical_only = ClauseIndex(reference.spec, reference.dim, reference.docs, reference.clauses, reference.keys,
                               None, reference.bm25)  # fmt: skip
    assert lexical_only.vectors_of(ids[:2]) is None


def _questions() -> list[str]:
    lines = (REPO / "tests" / "data" / "sample_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["query"] for line in lines if line.strip()]


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_searcher_gives_the_same_top_10(store, reference, fake_embedder, mode):
    """>= 95% of the sample questions get the same top 10 from the store as from the folder index."""
    a, b = Searcher(reference, fake_embedder), Searcher(store, fake_embedder)
    questions = _questions()
    same = 0
    for q in questions:
        x = [(h.clause, round(h.score, 3)) for h in a.search(q, k=10, mode=mode, marks=False)]
        y = [(h.clause, round(h.score, 3)) for h in b.search(q, k=10, mode=mode, marks=False)]
        same += [c for c, _ in x] == [c for c, _ in y]
    assert same >= 0.95 * len(questions), f"{same}/{len(questions)}"
    # the layers above the store work the same: filters, versions, named clauses, quoted phrases
    for q, f in [("某某管理条例第二条", Filters()), ("罚款", Filters(superseded=True)), ("“双随机”", Filters()),
                 ("罚款", Filters(doc_type="条例")), ("今年新增多少个一件事", Filters())]:  # fmt: skip
        assert [h.to_dict() for h in a.search(q, k=5, filters=f)] == [h.to_dict() for h in b.search(q, k=5, filters=f)]
    newer = {h.doc.title: h.newer_edition and h.newer_edition.title for h in b.search("今年新增多少个一件事", k=5)}
    assert newer.get("江城市2023年政务服务工作要点") == "江城市2024年政务服务工作要点"  # from the store's documents


def test_apply_upserts_and_deletes_by_document(fresh_store, reference, fake_embedder):
    store = fresh_store
    small = next(d for d in reference.docs.values() if d.title == "2023年市场监管工作要点")
    sample = next(d for d in reference.docs.values() if d.title.startswith("2022年教育系统"))
    clauses = reference.doc_clauses(small.doc_id)
    edited = [replace(c, text=c.text + "（新增：鲲鹏展翅条款）") if i == 1 else c for i, c in enumerate(clauses)]
    edited = edited[:-1]  # one clause fewer
    info = replace(small, n_clauses=len(edited), sha256="0" * 64)
    change = doc_change(info, edited)
    vecs = fake_embedder.embed_passages(
        [f"{info.title} {' '.join(c.headings)}\n{c.text}" for c in edited]
    )  # passage_text of each clause
    store.apply(Changes(upsert=(replace(change, vectors=vecs),), delete=(sample.doc_id,)))

    assert sample.doc_id not in store.docs and store.docs[small.doc_id] == info
    assert len(store) == len(reference) - sample.n_clauses - 1
    assert store.fetch([c.clause_id for c in reference.doc_clauses(sample.doc_id)]) == []
    assert store.fetch([c.clause_id for c in edited]) == edited
    assert store.fetch([clauses[-1].clause_id]) == []  # the dropped clause is gone
    top = store.lexical_candidates("鲲鹏展翅", 5, Scope())
    assert top and top[0].clause_id == edited[1].clause_id
    assert store.dense_candidates(vecs[1], 1, Scope())[0].clause_id == edited[1].clause_id
    assert store.count(Scope(frozenset({sample.doc_id}))) == 0
    hits = Searcher(store, fake_embedder).search("鲲鹏展翅", k=3)
    assert hits[0].clause == edited[1] and all(h.doc.doc_id != sample.doc_id for h in hits)

    store.apply(Changes(delete=(small.doc_id,)))  # and back: the rest is untouched
    assert small.doc_id not in store.docs and len(store) == len(reference) - sample.n_clauses - small.n_clauses
    assert store.fetch([c.clause_id for c in edited]) == []


@pytest.mark.parametrize("kind", STORES)
def test_a_reingest_applies_only_what_changed(kind, tmp_path, fake_embedder, monkeypatch):
    """An edited file is upserted and a removed one deleted, in one apply; nothing else is written or
    embedded again, and the store holds what a fresh build of the edited folder holds."""
    lib = _write_library(tmp_path / "lib")
    first, spec = _ingest(kind, lib, tmp_path, fake_embedder)
    assert first.added == 4 and first.embedded > 0
    before = dict(open_store(spec).docs)
    small = lib / "policy_small.txt"
    text = small.read_text(encoding="utf-8")
    small.write_text(text.replace("抽查结果全部公示", "抽查结果鲲鹏展翅"), encoding="utf-8")
    (lib / "某某管理条例(2010-01-01).md").unlink()
    cls = ClauseIndex if kind == "folder" else MilvusStore
    real, calls = cls.apply, []

    def recording(self, changes: Changes) -> None:
        calls.append(changes)
        real(self, changes)

    monkeypatch.setattr(cls, "apply", recording)
    rep, _ = _ingest(kind, lib, tmp_path, fake_embedder)
    (call,) = calls
    edited = next(d for d in before.values() if d.source == str(small))
    removed = next(d for d in before.values() if d.source.endswith("(2010-01-01).md"))
    assert [d.info.doc_id for d in call.upsert] == [edited.doc_id] and call.delete == (removed.doc_id,)
    assert (rep.changed, rep.removed, rep.unchanged, rep.embedded) == (1, 1, 2, 1)  # one clause text is new
    store = open_store(spec, fake_embedder)
    docs, _ = load_paths([lib])
    want = ClauseIndex.build(docs, fake_embedder, show_progress=False)
    assert dict(store.docs) == want.docs and store.fetch([c.clause_id for c in want.clauses]) == want.clauses
    assert len(store) == len(want) and dict(store.superseded) == want.superseded == {}
    assert not [c for c in calls if c is not call]
    q = "鲲鹏展翅"
    assert [h.clause for h in Searcher(store, fake_embedder).search(q, k=3)] == [
        h.clause for h in Searcher(want, fake_embedder).search(q, k=3)
    ]
    rep, _ = _ingest(kind, lib, tmp_path, fake_embedder)  # nothing changed: nothing applied
    assert len(calls) == 1 and rep.unchanged == 3


@pytest.mark.parametrize("kind", STORES)
def test_what_a_store_says_of_itself(kind, tmp_path, fake_embedder):
    """`manifest`, `problems`, `fallback` and `refresh` through the protocol alone: the embedder, the lexical
    settings and the files an ingest left out, on either store."""
    lib = _write_library(tmp_path / "lib")
    (lib / "empty.txt").write_bytes(b"")
    _, spec = _ingest(kind, lib, tmp_path, fake_embedder)
    store = open_store(spec)
    assert isinstance(store, Store) and list(store.problems) == [] and store.fallback is False
    m = store.manifest
    assert m["embedder"]["id"] == fake_embedder.spec.id and m["lexical"] == store.lexical.to_dict()
    assert [(r["source"], r["reason"]) for r in m["skipped"]] == [(str(lib / "empty.txt"), "empty file")]
    assert store.refresh() is False  # nothing changed since it was opened
    (lib / "empty.txt").unlink()
    _ingest(kind, lib, tmp_path, fake_embedder)
    assert open_store(spec).manifest["skipped"] == []


LAW = "某某城市绿化法"
CITING = "关于城市绿化复核的通知"


@pytest.mark.parametrize("kind", STORES)
def test_the_references_are_recorded_at_ingest(kind, tmp_path, fake_embedder):
    """Ingest records what cites what (resolved to the version named), with the library, in either store; a
    re-ingest without the citing document records none; the citation graph comes from the record."""
    from rag.citing.citations import CitationGraph
    from rag.storage.references import build_citations, may_cite

    lib = tmp_path / "lib"
    lib.mkdir()
    law = "第一条 为了加强城市绿化管理，制定本法。\n第二条 对决定不服的，可以自收到决定之日起{}日内申请复核。\n"
    (lib / f"{LAW}(2017-09-01).txt").write_text(f"{LAW}\n\n" + law.format("六十"), encoding="utf-8")
    (lib / f"{LAW}(2023-09-01).txt").write_text(
        f"{LAW}\n\n第一条 为了加强城市绿化管理，制定本法。\n第二条 城市古树名木实行统一管理。\n"
        "第三条 对决定不服的，可以自收到决定之日起九十日内申请复核。\n", encoding="utf-8")  # fmt: skip
    (lib / f"{CITING}(2019-05-10).txt").write_text(
        f"{CITING}\n\n各区园林局：\n一、复核申请依照《{LAW}》第二条办理。\n\n某市园林局\n2019年5月10日\n",
        encoding="utf-8")  # fmt: skip
    _, spec = _ingest(kind, lib, tmp_path, fake_embedder)
    store = open_store(spec, fake_embedder)
    rows = [(store.docs[r.doc_id].title, r.mention, store.docs[r.cited].date, r.article) for r in store.citations]
    assert rows == [(CITING, f"《{LAW}》第二条", "2017-09-01", "第二条")]
    assert set(store.citations) == set(build_citations(store.docs, store.doc_clauses))  # what ingest saw
    stale = CitationGraph.of(store).stale()
    assert [(s.reason, s.new_article) for s in stale] == [("moved", "第三条")]
    held = store.citing_clauses()  # what resolving reads of the documents an ingest does not read again
    assert held == {d: [c for c in store.doc_clauses(d) if may_cite(c.text)] for d in store.docs if d in held}
    assert [c.text for cs in held.values() for c in cs] == [f"一、复核申请依照《{LAW}》第二条办理。"]
    (lib / "另一通知(2020-01-01).txt").write_text("另一通知\n\n一、做好绿化工作。\n", encoding="utf-8")
    _ingest(kind, lib, tmp_path, fake_embedder)  # the citing document is kept, not read again: its citation stays
    assert open_store(spec, fake_embedder).citations == store.citations
    (lib / f"{CITING}(2019-05-10).txt").unlink()
    _ingest(kind, lib, tmp_path, fake_embedder)
    store = open_store(spec, fake_embedder)
    assert store.citations == () and CitationGraph.of(store).stale() == []
