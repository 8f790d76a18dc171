"""The library's own terms: extraction, the tokeniser that keeps them whole, and indexes built with them."""

from __future__ import annotations

import json

import jieba
import numpy as np
import pytest

from rag.embedding.embed import parse_spec
from rag.reading.load import load_file
from rag.search.retrieve import Searcher
from rag.storage.errors import IndexLoadError
from rag.storage.generations import MANIFEST, TERMS_FILE, resolve
from rag.storage.index import ClauseIndex, verify
from rag.text.terms import (
    LexicalConfig,
    TermTokenizer,
    defined_terms,
    frequent_ngrams,
    library_terms,
    named_terms,
    term_tokenizer,
    terms_digest,
)
from rag.text.tokens import tokenize
from tests.conftest import REPO, SAMPLE

TERMS = ["双随机、一公开", "放管服", "社会组织党群服务中心"]
LIBRARY = [
    "推进社会组织党群服务中心建设，发挥社会组织党群服务中心作用。",
    "本法所称社会组织党群服务中心，是指为社会组织提供服务的场所。",
    "全面推行“双随机、一公开”监管。",
    "深化“放管服”改革，社会组织党群服务中心年内全覆盖。",
    "各区建成社会组织党群服务中心，推动社会组织党群服务中心规范运行。",
]


# ---------------------------------------------------------------------- extraction


def test_defined_terms():
    assert defined_terms("本法所称社会组织党群服务中心，是指为社会组织提供服务的场所。") == ["社会组织党群服务中心"]
    assert defined_terms("本条例所称公共财产、集体财产，是指国家所有的财产。") == ["公共财产", "集体财产"]
    assert defined_terms("第三条　网格员是指在网格内工作的人员。（二）“侦查”是指依法进行的专门调查工作。") == [
        "网格员", "侦查",
    ]  # fmt: skip
    assert defined_terms("市场监管部门（以下简称“市监局”）负责。") == ["市监局"]
    assert defined_terms("本办法自发布之日起施行。") == []


def test_named_terms():
    assert named_terms("依照《中华人民共和国个体工商户条例》和“最多跑一次”改革要求，“（一）”不算") == [
        "中华人民共和国个体工商户条例", "个体工商户条例", "最多跑一次",
    ]  # fmt: skip


def test_frequent_ngrams_keep_cohesive_runs():
    assert frequent_ngrams(LIBRARY, min_count=3, min_pmi=1.0) == ["社会组织", "社会组织党群服务中心"]
    assert frequent_ngrams(LIBRARY, min_count=7, min_pmi=1.0) == ["社会组织"]
    assert frequent_ngrams(LIBRARY, min_count=3, min_pmi=1.0, max_ngrams=1) == ["社会组织"]


def test_library_terms_golden_and_deterministic():
    titles = ["关于推进社会组织党建工作的通知", "中华人民共和国个体工商户条例"]
    terms = library_terms(titles, LIBRARY, min_count=3, min_pmi=1.0)
    assert terms == [
        "个体工商户条例", "中华人民共和国个体工商户条例", "关于推进社会组织党建工作的通知", "双随机、一公开", "放管服",
        "社会组织", "社会组织党群服务中心",
    ]  # fmt: skip
    assert library_terms(titles, LIBRARY, min_count=3, min_pmi=1.0) == terms
    assert library_terms(titles[::-1], LIBRARY, min_count=3, min_pmi=1.0) == terms
    assert "社会组织" not in library_terms(titles, LIBRARY)  # the defaults ask for more evidence than five lines


# ---------------------------------------------------------------------- tokenising


def test_terms_stay_whole():
    text = "全面推行“双随机、一公开”监管，深化放管服改革，建设社会组织党群服务中心。"
    plain = tokenize(text)
    assert plain == [
        "全面", "推行", "全面推行", "双", "随机", "一", "公开", "监管", "深化", "放管服", "改革", "建设",
        "社会", "组织", "党群", "服务", "中心", "服务中心",
    ]  # fmt: skip
    assert TermTokenizer(TERMS)(text) == [
        "全面", "推行", "全面推行", "双", "随机", "一", "公开", "双随机一公开", "监管", "深化", "放管服", "改革",
        "建设", "社会", "组织", "党群", "服务", "中心", "服务中心", "社会组织党群服务中心",
    ]  # fmt: skip
    assert set(plain) <= set(TermTokenizer(TERMS)(text))  # terms add tokens, take none away
    # both spellings of a term with 、 meet in one token
    assert "双随机一公开" in TermTokenizer(TERMS)("开展双随机一公开抽查")


def test_term_lists_do_not_leak():
    a, b = TermTokenizer(TERMS), TermTokenizer(["放管服"])
    text = "建设社会组织党群服务中心"
    assert "社会组织党群服务中心" in a(text)
    assert "社会组织党群服务中心" not in b(text)
    assert b(text) == tokenize(text) == TermTokenizer([])(text)
    assert "社会组织党群服务中心" not in jieba.dt.FREQ  # jieba's process-wide dictionary is untouched
    assert "社会组织党群服务中心" not in tokenize(text)


def test_tokeniser_does_not_depend_on_term_order():
    text = "深化“放管服”改革，推行“双随机、一公开”，社会组织党群服务中心全覆盖"
    assert TermTokenizer(TERMS)(text) == TermTokenizer(TERMS[::-1])(text)
    assert term_tokenizer(TERMS) is term_tokenizer(list(TERMS))  # one shared tokeniser per list
    assert terms_digest(TERMS) != terms_digest(TERMS[:2])


def test_lexical_config():
    assert LexicalConfig().plain and not LexicalConfig(terms=True).plain and not LexicalConfig(title_weight=2).plain
    assert LexicalConfig.parse("terms") == LexicalConfig(terms=True)
    assert LexicalConfig.parse("terms,title_weight=0") == LexicalConfig(terms=True, title_weight=0)
    assert LexicalConfig.parse("plain") == LexicalConfig()
    assert LexicalConfig.from_dict(None) == LexicalConfig()
    assert LexicalConfig.from_dict(LexicalConfig(True, 2).to_dict()) == LexicalConfig(True, 2)
    for bad in ("fields", "title_weight=9", "title_weight=x", "terms=maybe"):
        with pytest.raises(ValueError):
            LexicalConfig.parse(bad)
    with pytest.raises(ValueError, match="title_weight"):
        LexicalConfig(title_weight=True)
    with pytest.raises(ValueError):
        LexicalConfig.from_dict({"terms": True, "stemming": True})


# ---------------------------------------------------------------------- indexes


@pytest.fixture(scope="module")
def docs():
    return [load_file(SAMPLE), load_file(REPO / "tests" / "data" / "policy_small.txt")]


@pytest.fixture(scope="module")
def with_terms(docs, fake_embedder):
    return ClauseIndex.build(docs, fake_embedder, show_progress=False, lexical=LexicalConfig(terms=True))


def test_index_with_terms_round_trip(with_terms, fake_embedder, tmp_path):
    assert "双随机、一公开" in with_terms.terms and "放管服" in with_terms.terms
    gen = with_terms.save(tmp_path)
    manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format_version"] == 2
    assert manifest["lexical"] == {"terms": True, "title_weight": 1}
    assert manifest["terms"]["count"] == len(with_terms.terms)
    assert TERMS_FILE in manifest["files"] and manifest["files"][TERMS_FILE]["sha256"]
    loaded = ClauseIndex.load(tmp_path)
    assert loaded.terms == with_terms.terms and loaded.lexical == with_terms.lexical
    for q in ("双随机、一公开监管", "深化放管服改革", "市场监管"):
        assert np.allclose(loaded.lexical_scores(q), with_terms.lexical_scores(q))
    assert "双随机一公开" in loaded.tokenize("双随机、一公开监管")
    assert verify(tmp_path) == []


def test_index_without_the_option_is_plain(docs, fake_embedder, with_terms, tmp_path):
    plain = ClauseIndex.build(docs, fake_embedder, show_progress=False)
    assert plain.terms == () and plain.lexical == LexicalConfig()
    gen = plain.save(tmp_path)
    assert not (gen / TERMS_FILE).exists()
    manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["lexical"] == {"terms": False, "title_weight": 1} and "terms" not in manifest
    q = "双随机、一公开"
    assert "双随机一公开" not in plain.tokenize(q) and "双随机一公开" in with_terms.tokenize(q)
    # the term lifts the clauses that name it
    top = int(np.argmax(with_terms.lexical_scores(q)))
    assert "双随机、一公开" in with_terms.clauses[top].text
    # the title weight: the title and heading path's tokens counted 0 or 2 times against the text's once
    c = plain.clauses[5]
    info = plain.docs[c.doc_id]
    head = tokenize(f"{info.title} {' '.join(c.headings)}")
    assert plain.clause_tokens(info, c) == head + tokenize(c.text)
    for w in (0, 2):
        weighted = ClauseIndex.build(docs, fake_embedder, show_progress=False, lexical=LexicalConfig(title_weight=w))
        assert weighted.clause_tokens(info, c) == head * w + tokenize(c.text)
        assert int(weighted.bm25.scores["num_docs"]) == len(plain)


def test_version_1_index_reads_as_plain(docs, fake_embedder, tmp_path):
    plain = ClauseIndex.build(docs, fake_embedder, show_progress=False)
    gen = plain.save(tmp_path)
    manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    manifest["format_version"] = 1
    del manifest["lexical"]
    (gen / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    loaded = ClauseIndex.load(tmp_path)
    assert loaded.lexical.plain and loaded.terms == ()
    assert np.allclose(loaded.lexical_scores("双随机抽查"), plain.lexical_scores("双随机抽查"))
    manifest["format_version"] = 3
    (gen / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="format version 3.*Rebuild it"):
        ClauseIndex.load(tmp_path)


def test_altered_or_unlisted_term_list_is_refused(with_terms, fake_embedder, tmp_path):
    gen = with_terms.save(tmp_path / "a")
    raw = (gen / TERMS_FILE).read_bytes()
    first = next(t for t in json.loads(raw)["terms"] if not t[0].isascii())
    altered = raw.replace(first.encode(), ("!!!" + first[1:]).encode(), 1)
    assert len(altered) == len(raw)  # same size: only the checksum and the parse can tell
    (gen / TERMS_FILE).write_bytes(altered)
    assert any(TERMS_FILE in p for p in verify(tmp_path / "a"))
    with pytest.raises(IndexLoadError, match=TERMS_FILE):
        ClauseIndex.load(gen)
    plain_gen = ClauseIndex.build([load_file(SAMPLE)], fake_embedder, show_progress=False).save(tmp_path / "b")
    (plain_gen / TERMS_FILE).write_text('{"version": 1, "terms": []}', encoding="utf-8")
    with pytest.raises(IndexLoadError, match="not listed"):
        ClauseIndex.load(plain_gen)


def _library(tmp_path):
    lib = tmp_path / "library"
    lib.mkdir()
    (lib / "监管.txt").write_text(
        "关于深化监管改革的通知\n一、总体要求\n1.全面推行“双随机、一公开”监管，抽查比例不低于5%。\n"
        "2.深化“放管服”改革，压减审批事项。\n二、党建\n3.建设社会组织党群服务中心，本市所称社会组织党群服务中心，"
        "是指为社会组织提供党群服务的场所。\n",
        encoding="utf-8",
    )
    (lib / "河长制.txt").write_text("一、总体要求\n1.全市河长制巡河频次每月不少于两次。\n", encoding="utf-8")
    return lib


def test_ingest_records_the_term_list_and_keeps_the_setting(tmp_path, fake_embedder):
    from rag.ingest.pipeline import ingest, remove

    lib, index = _library(tmp_path), tmp_path / "index"
    ingest([lib], index, parse_spec("hash:64"), show_progress=False, lexical=LexicalConfig(terms=True))
    idx = ClauseIndex.load(index)
    assert {"双随机、一公开", "放管服", "社会组织党群服务中心"} <= set(idx.terms)
    hits = Searcher(idx).search("双随机、一公开", k=3, mode="lexical")
    assert "双随机、一公开" in hits[0].clause.text
    # an ingest that names no setting keeps the index's; a new file rebuilds the list from the library
    (lib / "新.txt").write_text("一、要求\n1.推行“一网通办”。\n", encoding="utf-8")
    ingest([lib], index, show_progress=False)
    again = ClauseIndex.load(index)
    assert again.lexical == LexicalConfig(terms=True) and "一网通办" in again.terms
    remove(index, [str(lib / "新.txt")])
    assert ClauseIndex.load(index).terms == again.terms  # removing keeps the list until the next ingest
    # switching the setting off rebuilds the lexical side plainly
    ingest([lib], index, show_progress=False, lexical=LexicalConfig())
    plain = ClauseIndex.load(index)
    assert plain.terms == () and not (resolve(index) / TERMS_FILE).exists()
    assert np.allclose(plain.lexical_scores("双随机抽查"), ClauseIndex.build(
        [load_file(p) for p in sorted(lib.iterdir())], fake_embedder, show_progress=False
    ).lexical_scores("双随机抽查"))  # fmt: skip


def test_milvus_store_tokenises_with_the_index_terms(tmp_path, fake_embedder):
    """The same library ingested with a term list into the folder and into Milvus: the same term list and
    lexical candidates; ingested plainly again, every row is re-tokenised and the term list dropped."""
    from pymilvus import MilvusClient

    from rag.ingest.pipeline import ingest, ingest_milvus
    from rag.storage.milvus import MilvusStore
    from rag.storage.store import Scope

    lib, db, spec = _library(tmp_path), str(tmp_path / "m.db"), fake_embedder.spec
    terms = LexicalConfig(terms=True)
    ingest([lib], tmp_path / "index", spec, show_progress=False, lexical=terms)
    folder = ClauseIndex.load(tmp_path / "index")
    ingest_milvus([lib], db, "rag", tmp_path / "cache", spec, show_progress=False, lexical=terms)
    again = MilvusStore.open_client(MilvusClient(db))
    assert again.terms == folder.terms and again.lexical == folder.lexical == terms and "放管服" in folder.terms
    assert dict(again.docs) == folder.docs  # the term-list rows are not documents
    scope = Scope(None)
    for q in ("双随机、一公开监管", "深化放管服改革"):
        got = again.lexical_candidates(q, 5, scope)
        want = folder.lexical_candidates(q, 5, scope)
        assert [c.clause_id for c in got][:3] == [c.clause_id for c in want][:3]
        assert np.allclose([c.score for c in got], [c.score for c in want][: len(got)], atol=1e-3)
    # ingested plainly: every row re-tokenised, the term list dropped
    ingest([lib], tmp_path / "index", show_progress=False, lexical=LexicalConfig())
    plain = ClauseIndex.load(tmp_path / "index")
    _, store = ingest_milvus([lib], db, "rag", tmp_path / "cache", show_progress=False, lexical=LexicalConfig())
    reopened = MilvusStore.open_client(MilvusClient(db))
    assert reopened.terms == () and reopened.lexical.plain
    q = "双随机、一公开监管"
    assert [c.clause_id for c in reopened.lexical_candidates(q, 5, scope)] == [
        c.clause_id for c in plain.lexical_candidates(q, 5, scope)
    ]
    assert store.client.get(store.docs_collection, ids=[f"__rag_terms__{terms_digest(folder.terms)}_0"]) == []


def test_the_cli_sets_the_lexical_side_and_refuses_an_unknown_setting(tmp_path, capsys):
    from tests.conftest import run_cli

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.txt").write_text("一、要求\n1.全面推行“双随机、一公开”监管。\n2.深化放管服改革。\n", encoding="utf-8")
    rc, _, err = run_cli(capsys, "ingest", str(lib), "--index", str(tmp_path / "idx"), "--embedder", "hash",
                         "--lexical", "terms,title_weight=2", "-q")  # fmt: skip
    assert rc == 0, err
    assert ClauseIndex.load(tmp_path / "idx").lexical == LexicalConfig(terms=True, title_weight=2)
    rc, out, err = run_cli(capsys, "ingest", str(lib), "--index", str(tmp_path / "idx2"), "--embedder", "hash",
                           "--lexical", "stems")  # fmt: skip
    assert rc == 2 and "unknown lexical setting 'stems'" in out + err
