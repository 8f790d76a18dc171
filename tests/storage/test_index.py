from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from rag.embedding.embed import EmbedderSpec
from rag.reading.load import load_file
from rag.search.retrieve import Searcher
from rag.storage.errors import IndexLoadError
from rag.storage.generations import resolve
from rag.storage.index import ClauseIndex
from tests.conftest import REPO, SAMPLE


@pytest.fixture(scope="module")
def docs():
    return [load_file(SAMPLE), load_file(REPO / "tests" / "data" / "policy_small.txt")]


@pytest.fixture(scope="module")
def built(docs, fake_embedder):
    return ClauseIndex.build(docs, fake_embedder, show_progress=False)


def test_faiss_matches_brute_force_numpy(built, fake_embedder):
    vecs = built.dense.reconstruct_n(0, built.dense.ntotal)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    rng = np.random.default_rng(0)
    for q in ["双随机抽查比例", "教师编制", "普法宣传"] + [f"随机{rng.integers(1000)}" for _ in range(3)]:
        qv = fake_embedder.embed_queries([q])[0]
        scores, ids = built.dense_search(qv, 10)
        brute = vecs @ qv
        assert np.allclose(scores, np.sort(brute)[::-1][:10], atol=1e-5)
        assert set(ids[scores > np.sort(brute)[::-1][10] + 1e-6]) <= set(np.argsort(-brute)[:10])


def test_masked_dense_search_matches_brute_force(built, docs, fake_embedder):
    small = docs[1].doc_id
    mask = built.mask_for([small])
    qv = fake_embedder.embed_queries(["抽查结果公示"])[0]
    scores, ids = built.dense_search(qv, 5, mask)
    vecs = built.dense.reconstruct_n(0, built.dense.ntotal)
    allowed = np.flatnonzero(mask)
    expect = allowed[np.argsort(-(vecs[allowed] @ qv))][:5]
    assert list(ids) == list(expect)
    assert all(built.clauses[i].doc_id == small for i in ids)


def test_save_load_round_trip(built, fake_embedder, tmp_path):
    built.save(tmp_path)
    loaded = ClauseIndex.load(tmp_path)
    assert loaded.clauses == built.clauses
    assert loaded.docs == built.docs
    assert loaded.keys == built.keys
    assert np.array_equal(
        loaded.dense.reconstruct_n(0, loaded.dense.ntotal), built.dense.reconstruct_n(0, built.dense.ntotal)
    )
    q = "民政执法规范化建设"
    assert np.allclose(loaded.lexical_scores(q), built.lexical_scores(q))
    a = [h.clause for h in Searcher(built, fake_embedder).search(q, k=5)]
    b = [h.clause for h in Searcher(loaded, fake_embedder).search(q, k=5)]
    assert a == b and a
    m = json.loads((resolve(tmp_path) / "manifest.json").read_text(encoding="utf-8"))
    assert m["embedder"]["id"] == "hash:bigram-64" and m["embedder"]["dim"] == 64
    assert m["counts"] == {"documents": 2, "clauses": len(built)}
    assert {d["sha256"] for d in m["documents"].values()} == {d.sha256 for d in built.docs.values()}
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.pickle"))


def test_load_refuses_other_format_or_embedder(built, tmp_path):
    built.save(tmp_path)
    with pytest.raises(IndexLoadError, match="rag ingest"):
        ClauseIndex.load(tmp_path, expect=EmbedderSpec())
    mf = resolve(tmp_path) / "manifest.json"
    m = json.loads(mf.read_text(encoding="utf-8"))
    m["format_version"] = 999
    mf.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="format version 999.*Rebuild"):
        ClauseIndex.load(tmp_path)
    with pytest.raises(IndexLoadError, match="no index in"):
        ClauseIndex.load(tmp_path / "nothing-here")


def test_crash_during_save_keeps_previous_index(built, tmp_path, monkeypatch):
    built.save(tmp_path)
    before = resolve(tmp_path)

    def boom(self, d, where):
        (d / "clauses.jsonl").write_text("half written", encoding="utf-8")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(ClauseIndex, "_write", boom)
    with pytest.raises(KeyboardInterrupt):
        built.save(tmp_path)
    assert resolve(tmp_path) == before
    assert len(ClauseIndex.load(tmp_path)) == len(built)
    assert not list(tmp_path.glob(".tmp-*"))


def test_faiss_file_is_faiss_format(built, tmp_path):
    built.save(tmp_path)
    idx = faiss.read_index(str(resolve(tmp_path) / "dense.faiss"))
    assert idx.ntotal == len(built) and idx.d == 64


def test_ann_above_threshold_reaches_its_reported_recall():
    from rag.storage.dense import make_dense

    rng = np.random.default_rng(3)
    centres = rng.standard_normal((100, 32)).astype(np.float32)
    x = centres[rng.integers(100, size=20_000)] + rng.standard_normal((20_000, 32)).astype(np.float32)
    faiss.normalize_L2(x)
    index, info = make_dense(x, threshold=1_000)
    assert info["kind"].startswith("ivf") and info["recall_at_10"] >= 0.97
    q = centres[rng.integers(100, size=200)] + rng.standard_normal((200, 32)).astype(np.float32)
    faiss.normalize_L2(q)
    exact = faiss.IndexFlatIP(32)
    exact.add(x)
    _, want = exact.search(q, 10)
    _, got = index.search(q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got)])
    assert recall >= 0.9
    small, info = make_dense(x[:500], threshold=1_000)
    assert info == {"kind": "flat", "recall_at_10": 1.0} and small.ntotal == 500
