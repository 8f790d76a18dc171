"""Sentence windows through ingest (#18 item 3): embedded, stored, searched and kept in step with the setting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.ingest.pipeline import ingest
from rag.storage.index import ClauseIndex
from rag.storage.passages import window_passages
from rag.storage.store import Scope
from rag.text.windows import WINDOW_MIN_CHARS

LONG = ("第三条 市场监管部门应当统筹推进各项监管工作，坚持问题导向和目标导向，完善部门联合抽查工作机制，"
        "强化市场监管、税务、人力资源社会保障等部门之间的协同配合，推动监管信息互联互通、共享共用。"
        "双随机抽查比例不低于百分之五，抽查结果在二十个工作日内全部向社会公示，接受社会公众监督。"
        "对抽查发现的违法行为依法查处，涉嫌犯罪的及时移送司法机关，不得以罚代刑，不得以罚代管。"
        "各地应当结合实际制定实施细则，加强对基层执法人员的业务培训和督导检查，确保各项措施落到实处、取得实效，"
        "并定期向社会公布工作进展情况，每年年底前将年度工作总结和下一年度工作计划一并报送上级主管部门备案，"
        "对工作推进不力、问题整改不到位的地区和部门，由上级主管部门予以通报并约谈其主要负责人。")


def _library(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    head = "# 某某监管办法\n\n第一条 为了规范监管，制定本办法。\n\n第二条 本办法适用于本市。\n\n"
    (lib / "某某监管办法.md").write_text(f"{head}{LONG}\n", encoding="utf-8")
    return lib


def test_long_clauses_get_windows_that_score_them(tmp_path, fake_embedder):
    lib, where = _library(tmp_path), tmp_path / "index"
    rep = ingest([lib], where, fake_embedder.spec, show_progress=False)
    idx = ClauseIndex.load(where)
    long = next(c for c in idx.clauses if c.label == "第三条")
    want = window_passages(idx.docs[long.doc_id], long, WINDOW_MIN_CHARS)
    assert len(LONG) > WINDOW_MIN_CHARS and len(want) == 3  # four sentences: three windows of two
    assert idx.window_chars == WINDOW_MIN_CHARS and idx.manifest["windows"] == {"min_chars": WINDOW_MIN_CHARS,
                                                                                "count": 3}  # fmt: skip
    assert [idx.clauses[o] for o in idx.window_owner] == [long] * 3
    np.testing.assert_allclose(idx.window_vectors(), fake_embedder.embed_passages(want), atol=1e-6)
    assert rep.embedded == len(idx) + 3
    # a question about one sentence: the clause scores its best window's cosine, above its own
    q = fake_embedder.embed_queries(["双随机抽查比例不低于百分之五，抽查结果全部向社会公示"])[0]
    got = {c.clause_id: c.score for c in idx.dense_candidates(q, 3, Scope())}
    own = float(idx.vectors_of([long.clause_id])[0] @ q)
    best = float(max(idx.window_vectors() @ q))
    assert got[long.clause_id] == pytest.approx(best) and best > own
    # with a quoted phrase in scope the windows are not used (the clause must hold the phrase itself)
    assert idx.dense_candidates(q, 3, Scope(phrases=("抽查",)))[0].score == pytest.approx(own)


def test_changing_the_setting_embeds_only_the_windows_and_then_nothing(tmp_path, fake_embedder):
    lib, where = _library(tmp_path), tmp_path / "index"
    first = ingest([lib], where, fake_embedder.spec, show_progress=False, windows=0)
    idx = ClauseIndex.load(where)
    assert idx.windows is None and idx.window_chars == 0 and first.embedded == len(idx)
    assert ingest([lib], where, show_progress=False).embedded == 0  # the index's own setting (none) is kept
    on = ingest([lib], where, show_progress=False, windows=WINDOW_MIN_CHARS)
    assert on.embedded == 3 and on.changed == 0  # the clause vectors come from the cache
    idx = ClauseIndex.load(where)
    assert len(idx.window_owner) == 3 and idx.window_chars == WINDOW_MIN_CHARS
    again = ingest([lib], where, show_progress=False)
    assert again.embedded == 0 and again.unchanged == 1
    with pytest.raises(ValueError, match="windows"):
        ingest([lib], where, show_progress=False, windows=-1)


def test_a_damaged_index_is_rebuilt_with_its_own_setting(tmp_path, fake_embedder):
    lib, where = _library(tmp_path), tmp_path / "index"
    ingest([lib], where, fake_embedder.spec, show_progress=False, windows=0)
    gen = where / (where / "CURRENT").read_text().strip()
    (gen / "clauses.jsonl").write_text("damaged\n", encoding="utf-8")
    ingest([lib], where, show_progress=False)  # rebuilt from scratch: the manifest still says no windows
    idx = ClauseIndex.load(where)
    assert idx.window_chars == 0 and idx.windows is None and len(idx) == 3


def test_a_changed_window_file_is_damage(tmp_path, fake_embedder):
    from rag.storage.index import verify

    lib, where = _library(tmp_path), tmp_path / "index"
    ingest([lib], where, fake_embedder.spec, show_progress=False)
    gen = where / (where / "CURRENT").read_text().strip()
    owners = gen / "window_owner.npy"
    raw = bytearray(owners.read_bytes())
    raw[-1] ^= 1
    owners.write_bytes(bytes(raw))
    assert any("window_owner.npy" in p for p in verify(where))


def test_dropping_a_document_drops_its_windows(tmp_path, fake_embedder):
    lib, where = _library(tmp_path), tmp_path / "index"
    (lib / "另一办法.md").write_text(f"# 另一办法\n\n{LONG.replace('第三条', '第一条')}\n", encoding="utf-8")
    ingest([lib], where, fake_embedder.spec, show_progress=False)
    idx = ClauseIndex.load(where)
    gone = next(d for d in idx.docs.values() if d.title == "某某监管办法")
    assert len(idx.window_owner) == 6
    keep = [w for w, o in zip(idx.window_vectors(), idx.window_owner) if idx.clauses[o].doc_id != gone.doc_id]
    idx.drop_documents([gone.doc_id])
    assert len(idx.window_owner) == 3 and {idx.clauses[o].doc_id for o in idx.window_owner} == set(idx.docs)
    np.testing.assert_allclose(idx.window_vectors(), np.array(keep), atol=1e-6)
