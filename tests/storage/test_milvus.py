"""The Milvus store's own behaviour (milvus-lite in tmp_path): specs, opening, killed applies and ingests.

What every store must do is in tests/storage/test_store_contract.py.
"""

from __future__ import annotations

import pytest
from pymilvus import MilvusClient

from rag.embedding.embed import make_embedder, parse_spec
from rag.reading.load import load_file
from rag.search.retrieve import Searcher
from rag.storage.errors import IndexLoadError
from rag.storage.generations import exists
from rag.storage.index import ClauseIndex
from rag.storage.milvus import MilvusStore, StoreError
from rag.storage.passages import doc_change
from rag.storage.store import Changes, Scope
from rag.storage.stores import open_store, parse_store_spec
from tests.conftest import REPO, SAMPLE


@pytest.fixture(scope="module")
def index(fake_embedder) -> ClauseIndex:
    docs = [load_file(SAMPLE), load_file(REPO / "tests" / "data" / "policy_small.txt")]
    return ClauseIndex.build(docs, fake_embedder, show_progress=False)


def _changes_of(index: ClauseIndex) -> Changes:
    """Every document of a folder index as an upsert, with its clauses, tokens and vectors."""
    vectors = index.vectors()
    out = []
    for info in index.docs.values():
        rows = [i for i, c in enumerate(index.clauses) if c.doc_id == info.doc_id]
        out.append(doc_change(info, index.doc_clauses(info.doc_id), vectors[rows], index.clause_tokens))
    return Changes(upsert=tuple(out))


def _filled(client, index: ClauseIndex, collection: str = "rag") -> MilvusStore:
    store = MilvusStore.create(client, collection, index.spec, index.dim)
    store.apply(_changes_of(index))
    return store


def test_store_specs():
    assert parse_store_spec("index") == ("folder", "index", "")
    assert parse_store_spec("/data/idx") == ("folder", "/data/idx", "")
    assert parse_store_spec("milvus:lib.db") == ("milvus", "lib.db", "rag")
    assert parse_store_spec("milvus:http://10.0.0.5:19530#laws") == ("milvus", "http://10.0.0.5:19530", "laws")
    for bad in ("", "  ", "milvus:", "milvus:x.db#1abc", "milvus:x.db#a-b", "milvus:x.db#法律"):
        with pytest.raises(ValueError):
            parse_store_spec(bad)


def test_open_missing_create_and_embedder_mismatch(tmp_path, fake_embedder):
    db = f"milvus:{tmp_path / 'm.db'}"
    with pytest.raises(IndexLoadError, match="no collection"):
        open_store(db)
    store = open_store(db, fake_embedder, create=True)
    assert len(store) == 0 and dict(store.docs) == {} and store.spec == fake_embedder.spec
    assert Searcher(store, fake_embedder).search("双随机抽查", k=5) == []
    assert open_store(db).dim == 64  # reopened: the embedder comes from the metadata record
    with pytest.raises(IndexLoadError, match="embedder"):
        open_store(db, make_embedder(parse_spec("hash:32")))
    with pytest.raises(IndexLoadError, match="no index"):
        open_store(str(tmp_path / "no-index-here"))


def test_a_file_where_the_store_folder_should_be(tmp_path):
    """milvus-lite 3 keeps a store in a folder: a file of that name (an old milvus-lite's, or anything) is named."""
    db = tmp_path / "old.db"
    db.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(StoreError, match=f"cannot open the Milvus store {db}: .*keeps a store in a folder, and this "
                                         "is a file; move it aside"):  # fmt: skip
        open_store(f"milvus:{db}")


def _rows(store: MilvusStore, collection: str | None = None) -> int:
    got = store.client.query(collection or store.collection, filter='id != ""', output_fields=["count(*)"])
    return int(got[0]["count(*)"])


def test_a_killed_apply_leaves_the_collection_as_its_records_say(tmp_path, index, fake_embedder, monkeypatch):
    client = MilvusClient(str(tmp_path / "m.db"))
    store = _filled(client, index)
    before = Searcher(store, fake_embedder).search("双随机抽查比例", k=5)
    assert _rows(store) == len(store) == len(index)

    class Killed(BaseException):
        pass

    real = client.upsert

    def die(collection, rows, **kw):  # the process dies after a document's rows, before its record
        if collection == store.docs_collection:
            raise Killed()
        return real(collection, rows, **kw)

    monkeypatch.setattr(client, "upsert", die)
    with pytest.raises(Killed):
        store.apply(_changes_of(index))
    monkeypatch.setattr(client, "upsert", real)
    assert _rows(store) > len(index)  # orphan rows of the half-applied generation are there …

    again = MilvusStore.open_client(MilvusClient(str(tmp_path / "m.db")))
    assert dict(again.docs) == index.docs and len(again) == len(index)  # … but nothing sees them
    assert again.count(Scope(frozenset(index.docs))) == len(index)
    assert again.fetch([c.clause_id for c in index.clauses]) == index.clauses
    assert [h.to_dict() for h in Searcher(again, fake_embedder).search("双随机抽查比例", k=5)] == [
        h.to_dict() for h in before
    ]
    again.apply(Changes())  # the next apply removes them
    assert _rows(again) == len(index)


def _library(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    small = lib / "policy_small.txt"
    small.write_bytes((REPO / "tests" / "data" / "policy_small.txt").read_bytes())
    return lib


def test_ingest_writes_the_collection_itself_and_follows_the_folder(tmp_path, fake_embedder):
    """No folder index is built (the --index folder holds the clause cache only); a removed file leaves,
    another embedder is refused, and the answers are a folder ingest's."""
    from rag.ingest.pipeline import ingest, ingest_milvus

    lib, db, cache = _library(tmp_path), str(tmp_path / "m.db"), tmp_path / "cache"
    rep, store = ingest_milvus([lib], db, "lib", cache, fake_embedder.spec, show_progress=False)
    windows = _rows(store, store.windows_collection)  # the sentence windows of the long clauses, embedded too
    assert (rep.added, rep.documents, rep.embedded) == (2, 2, len(store) + windows) and windows > 0
    assert rep.index_dir == f"milvus:{db}#lib" and not exists(cache) and (cache / "cache.sqlite").exists()
    ingest([lib], tmp_path / "folder", fake_embedder.spec, show_progress=False)
    folder = ClauseIndex.load(tmp_path / "folder")
    assert dict(store.docs) == folder.docs and len(store) == len(folder) == _rows(store)
    assert windows == len(folder.window_owner)
    (lib / "policy_small.txt").unlink()  # the next ingest removes it
    rep, store = ingest_milvus([lib], db, "lib", cache, show_progress=False)
    assert (rep.removed, rep.unchanged, rep.embedded) == (1, 1, 0) and len(store.docs) == 1
    assert dict(open_store(f"milvus:{db}#lib").docs) == store.docs and _rows(store) == len(store)
    ingest([lib], tmp_path / "folder", show_progress=False)
    folder = ClauseIndex.load(tmp_path / "folder")
    assert _rows(store, store.windows_collection) == len(folder.window_owner) > 0
    q = "双随机抽查比例"
    assert [h.clause for h in Searcher(store, fake_embedder).search(q, k=5)] == [
        h.clause for h in Searcher(folder, fake_embedder).search(q, k=5)
    ]
    with pytest.raises(IndexLoadError, match="embedder"):
        ingest_milvus([lib], db, "lib", cache, parse_spec("hash:32"), show_progress=False)


def test_a_killed_milvus_ingest_converges_on_rerun(tmp_path, fake_embedder, monkeypatch):
    """Killed between two applies: the documents applied are complete (their records say so), the rest are
    not there; the rerun applies only those and embeds nothing again."""
    from rag.ingest import pipeline

    lib, db, cache = _library(tmp_path), str(tmp_path / "m.db"), tmp_path / "cache"
    monkeypatch.setattr(pipeline, "MILVUS_APPLY_DOCS", 1)
    real, applied = MilvusStore.apply, []

    class Killed(BaseException):
        pass

    def dying(self, changes):
        if applied:
            raise Killed()
        applied.append([d.info.doc_id for d in changes.upsert])
        return real(self, changes)

    monkeypatch.setattr(MilvusStore, "apply", dying)
    with pytest.raises(Killed):
        pipeline.ingest_milvus([lib], db, "lib", cache, fake_embedder.spec, show_progress=False)
    monkeypatch.setattr(MilvusStore, "apply", real)
    half = MilvusStore.open(db, "lib")
    assert list(half.docs) == applied[0] and len(half) == _rows(half) > 0
    rep, store = pipeline.ingest_milvus([lib], db, "lib", cache, show_progress=False)
    assert (rep.added, rep.unchanged, rep.embedded) == (1, 1, 0) and len(store.docs) == 2
    ingest_ref = pipeline.ingest([lib], tmp_path / "folder", fake_embedder.spec, show_progress=False)
    assert len(store) == ingest_ref.clauses == _rows(store)


def test_a_file_written_by_another_process_opens(tmp_path, fake_embedder):
    """milvus-lite holds a reopened file's collections released: opening loads them."""
    import subprocess
    import sys

    db = tmp_path / "m.db"
    script = (
        "from rag.embedding.embed import parse_spec\n"
        "from rag.ingest.pipeline import ingest_milvus\n"
        f"ingest_milvus([{str(SAMPLE)!r}], {str(db)!r}, 'lib', {str(tmp_path / 'cache')!r}, parse_spec('hash:64'), "
        "show_progress=False)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=120)
    store = open_store(f"milvus:{db}#lib")
    assert len(store) > 0 and store.spec == fake_embedder.spec
    assert Searcher(store, fake_embedder).search("双随机抽查比例", k=3)


def test_cli_ingest_search_info_eval_on_a_milvus_lite_store(tmp_path, capsys):
    """The same commands on `--store milvus:FILE.db` as on the folder: the same eval figures."""
    import json as _json

    from rag.interfaces.cli import main

    db, cache, folder = f"milvus:{tmp_path / 'lib.db'}", str(tmp_path / "cache"), str(tmp_path / "folder")
    assert main(["ingest", str(REPO / "corpus"), "--index", cache, "--store", db, "--embedder", "hash:64", "-q"]) == 0
    assert f"into {db}#rag in " in capsys.readouterr().out and not exists(cache)  # the cache folder holds no index
    assert main(["ingest", str(REPO / "corpus"), "--index", folder, "--embedder", "hash:64", "-q"]) == 0
    capsys.readouterr()
    assert main(["search", "双随机抽查比例要达到多少", "--store", db, "--json", "-k", "3"]) == 0
    hits = _json.loads(capsys.readouterr().out)
    assert main(["search", "双随机抽查比例要达到多少", "--index", folder, "--json", "-k", "3"]) == 0
    assert [h["citation"] for h in hits] == [h["citation"] for h in _json.loads(capsys.readouterr().out)]
    assert main(["info", "--store", db]) == 0
    assert "clauses:    65" in capsys.readouterr().out
    questions = str(REPO / "tests" / "data" / "sample_questions.jsonl")
    assert main(["eval", questions, "--store", db, "-k", "3", "--json"]) == 0
    on_milvus = _json.loads(capsys.readouterr().out)
    assert main(["eval", questions, "--index", folder, "-k", "3", "--json"]) == 0
    on_folder = _json.loads(capsys.readouterr().out)
    drop = ("ms_per_query", "seconds")
    strip = lambda d: {k: (strip(v) if isinstance(v, dict) else v) for k, v in d.items() if k not in drop}  # noqa: E731
    assert strip(on_milvus) == strip(on_folder)
