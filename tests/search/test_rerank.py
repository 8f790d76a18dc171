"""Cross-encoder re-ranking through sentence-transformers, with a tiny model built here."""

from __future__ import annotations

import numpy as np
import pytest

from rag.reading.load import load_file
from rag.search.retrieve import SearchConfig, Searcher, parse_config
from rag.storage.index import ClauseIndex
from tests.conftest import REPO


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    d = tmp_path_factory.mktemp("tiny-ce")
    text = (REPO / "tests" / "data" / "policy_small.txt").read_text(encoding="utf-8")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(set(text) - set(" \n"))]
    (d / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=256, num_labels=1)  # fmt: skip
    BertForSequenceClassification(cfg).save_pretrained(d)
    BertTokenizer(str(d / "vocab.txt"), tokenize_chinese_chars=True).save_pretrained(d)
    return str(d)


def test_rerank_orders_by_cross_encoder_scores(tiny_cross_encoder, fake_embedder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import CrossEncoder

    doc = load_file(REPO / "tests" / "data" / "policy_small.txt")
    idx = ClauseIndex.build([doc], fake_embedder, show_progress=False)
    cfg = parse_config([f"rerank_model={tiny_cross_encoder}", "rerank_top=4"])
    assert cfg.rerank_model == tiny_cross_encoder and cfg.rerank_top == 4
    plain = Searcher(idx, fake_embedder).search("双随机抽查比例", k=5, marks=False)
    ranked = Searcher(idx, fake_embedder, cfg).search("双随机抽查比例", k=5, marks=False)
    head = [h.clause for h in plain[:4]]
    assert {h.clause for h in ranked[:4]} == set(head)  # only the top candidates are re-ordered
    assert [h.clause for h in ranked[4:]] == [h.clause for h in plain[4:]]
    ce = CrossEncoder(tiny_cross_encoder, device="cpu")
    scores = ce.predict([("双随机抽查比例", f"{doc.title} {c.text}") for c in head])
    expect = [head[j] for j in np.argsort(-np.asarray(scores), kind="stable")]
    assert [h.clause for h in ranked[:4]] == expect


def test_unknown_setting_is_named():
    with pytest.raises(ValueError, match="available"):
        parse_config(["nope=1"])
    with pytest.raises(ValueError, match="expected float"):
        parse_config(["dense_weight=x"])
    assert parse_config(["clean_query=true"]) == SearchConfig(clean_query=True)
