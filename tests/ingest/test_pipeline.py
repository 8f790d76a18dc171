"""Incremental, tiered, resumable ingest (hash embedder: instant and deterministic)."""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pytest

from rag.embedding.embed import parse_spec
from rag.ingest import pipeline
from rag.ingest.pipeline import IndexBusyError, ingest, remove, status, writer_lock
from rag.search.retrieve import Searcher
from rag.storage.index import ClauseIndex

HASH = parse_spec("hash:64")

DOCS = {
    "a.txt": "一、总则\n1.本办法适用于全市市场监管。\n2.双随机抽查比例不低于5%。\n",
    "b.txt": "第一条 为了规范个体工商户登记，制定本条例。\n\n第二条 登记机关为县级市场监管部门。\n",
    "c.txt": "一、工作目标\n（一）完成养老服务设施建设。\n（二）提高教师待遇。\n",
}


def _write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_reingest_embeds_only_what_changed(tmp_path):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    _write(lib, DOCS)
    first = ingest([lib], idx, HASH, show_progress=False)
    assert (first.added, first.documents, first.clauses, first.embedded) == (3, 3, 6, 6)

    same = ingest([lib], idx, HASH, show_progress=False)
    assert (same.unchanged, same.embedded, same.added, same.changed) == (3, 0, 0, 0)

    (lib / "a.txt").write_text(DOCS["a.txt"].replace("5%", "10%"), encoding="utf-8")
    edited = ingest([lib], idx, HASH, show_progress=False)
    assert (edited.changed, edited.unchanged, edited.embedded) == (1, 2, 1)  # only the edited clause
    texts = [c.text for c in ClauseIndex.load(idx).clauses]
    assert "2.双随机抽查比例不低于10%。" in texts and "2.双随机抽查比例不低于5%。" not in texts

    (lib / "c.txt").rename(lib / "c-renamed.txt")
    renamed = ingest([lib], idx, HASH, show_progress=False)
    assert (renamed.added, renamed.removed, renamed.embedded) == (1, 1, 0)  # same content: not re-embedded

    (lib / "b.txt").unlink()
    deleted = ingest([lib], idx, HASH, show_progress=False)
    assert deleted.removed == 1 and deleted.documents == 2
    loaded = ClauseIndex.load(idx)
    assert {os.path.basename(d.source) for d in loaded.docs.values()} == {"a.txt", "c-renamed.txt"}
    assert loaded.tiers == {"lexical": True, "dense": True}


def test_other_folders_stay_and_remove_drops(tmp_path):
    idx = tmp_path / "idx"
    _write(tmp_path / "one", {"a.txt": DOCS["a.txt"]})
    _write(tmp_path / "two", {"b.txt": DOCS["b.txt"]})
    ingest([tmp_path / "one"], idx, HASH, show_progress=False)
    rep = ingest([tmp_path / "two"], idx, HASH, show_progress=False)
    assert rep.documents == 2 and rep.unchanged == 0 and rep.added == 1
    index = ClauseIndex.load(idx)
    b = next(d for d in index.docs.values() if d.source.endswith("b.txt"))
    gone = remove(idx, [b.doc_id])
    assert [d.doc_id for d in gone] == [b.doc_id]
    after = ClauseIndex.load(idx)
    assert len(after.docs) == 1 and all(c.doc_id != b.doc_id for c in after.clauses)
    assert np.allclose(
        after.vectors(), index.vectors()[[i for i, c in enumerate(index.clauses) if c.doc_id != b.doc_id]]
    )
    remove(idx, [str(tmp_path / "one")])
    assert len(ClauseIndex.load(idx).docs) == 0
    with pytest.raises(ValueError, match="no document"):
        remove(idx, ["nope"])


def test_lexical_tier_first_then_resume_after_a_crash(tmp_path, monkeypatch):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    _write(lib, DOCS)
    monkeypatch.setattr(pipeline, "LEXICAL_FIRST_MIN", 1)
    real = pipeline.make_embedder
    calls = []

    def dying(spec):
        emb = real(spec)
        inner = emb.embed_passages

        def embed(texts):
            calls.append(len(texts))
            if len(calls) == 2:
                raise KeyboardInterrupt("power cut")
            return inner(texts)

        emb.embed_passages = embed
        return emb

    monkeypatch.setattr(pipeline, "make_embedder", dying)
    with pytest.raises(KeyboardInterrupt):
        ingest([lib], idx, HASH, show_progress=False, batch_size=3)
    index = ClauseIndex.load(idx)  # the lexical generation is there and answers
    assert index.tiers == {"lexical": True, "dense": False}
    s = Searcher(index)
    assert s.tiers_for("hybrid") == ("lexical",)
    assert s.search("双随机抽查比例", k=1)[0].clause.label == "2."
    st = status(idx)
    assert st["state"] == "embedding" and (st["done"], st["total"]) == (3, 6)

    monkeypatch.setattr(pipeline, "make_embedder", real)
    rep = ingest([lib], idx, HASH, show_progress=False, batch_size=3)
    assert rep.embedded == 3  # the first batch of 3 was checkpointed
    assert ClauseIndex.load(idx).tiers["dense"] and status(idx)["state"] == "complete"


def test_background_completion(tmp_path):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    _write(lib, DOCS)
    rep = ingest([lib], idx, HASH, background=True, show_progress=False)
    assert rep.background_pid and rep.tiers == {"lexical": True, "dense": False}
    assert ClauseIndex.load(idx).clauses  # searchable at once
    # the process publishes the dense tier, then records "complete": wait for both (a fresh clone's run once read
    # the status between the two)
    deadline = time.time() + 120
    while time.time() < deadline and not (ClauseIndex.load(idx).tiers["dense"] and status(idx)["state"] == "complete"):
        time.sleep(0.2)
    assert ClauseIndex.load(idx).tiers == {"lexical": True, "dense": True}
    assert status(idx)["state"] == "complete"


def test_one_writer_at_a_time(tmp_path):
    _write(tmp_path / "lib", DOCS)
    with writer_lock(tmp_path / "idx"):
        with pytest.raises(IndexBusyError, match="another ingest"):
            ingest([tmp_path / "lib"], tmp_path / "idx", HASH, show_progress=False)


def test_nothing_loadable_is_an_error(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.txt: empty file"):
        ingest([tmp_path], tmp_path / "idx", HASH, show_progress=False)
    shutil.rmtree(tmp_path / "idx")


def test_an_improved_reader_rereads_unchanged_files(tmp_path, monkeypatch):
    from rag.reading import load

    lib, idx = tmp_path / "lib", tmp_path / "idx"
    _write(lib, DOCS)
    ingest([lib], idx, HASH, show_progress=False)
    now = load.LAYOUT_VERSION
    assert all(d.reader == f"txt/1;layout/{now}" for d in ClauseIndex.load(idx).docs.values())
    monkeypatch.setattr(load, "LAYOUT_VERSION", now + 1)
    again = ingest([lib], idx, HASH, show_progress=False)
    assert (again.reread, again.changed, again.unchanged, again.embedded) == (3, 3, 0, 0)  # same clauses: cached
    assert all(d.reader == f"txt/1;layout/{now + 1}" for d in ClauseIndex.load(idx).docs.values())
    assert ingest([lib], idx, HASH, show_progress=False).unchanged == 3


def test_files_not_indexed_are_listed_and_kept_across_ingests(tmp_path, capsys):
    from rag.interfaces.cli import main

    lib, other, idx = tmp_path / "lib", tmp_path / "other", tmp_path / "idx"
    _write(lib, DOCS)
    (lib / "scan.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    (lib / "empty.txt").write_bytes(b"")
    _write(other, {"d.txt": "一、总则\n本办法自发布之日起施行。\n"})
    rep = ingest([lib], idx, HASH, show_progress=False)
    assert {(os.path.basename(e.source), e.reason) for e in rep.failures} == {
        ("scan.heic", "unsupported file type .heic"), ("empty.txt", "empty file")}  # fmt: skip
    ingest([other], idx, HASH, show_progress=False)  # another folder: the first one's list stays
    skipped = ClauseIndex.load(idx).manifest["skipped"]
    assert sorted(os.path.basename(r["source"]) for r in skipped) == ["empty.txt", "scan.heic"]
    assert main(["info", "--index", str(idx)]) == 0
    out = capsys.readouterr()
    assert "not indexed: 2 files" in out.out and "scan.heic: unsupported file type .heic" in out.err


def test_a_file_that_cannot_be_read_any_more_keeps_its_indexed_version(tmp_path):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    _write(lib, DOCS)
    ingest([lib], idx, HASH, show_progress=False)
    (lib / "a.txt").write_bytes(bytes(range(256)) * 4)  # now garbage
    rep = ingest([lib], idx, HASH, show_progress=False)
    (fail,) = rep.failures
    assert fail.source.endswith("a.txt") and "the version indexed before is kept" in fail.reason
    texts = [c.text for c in ClauseIndex.load(idx).clauses]
    assert "2.双随机抽查比例不低于5%。" in texts
