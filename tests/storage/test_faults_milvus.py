"""Fault injection on a Milvus store: damaged milvus-lite files, garbage rag records, a store another process holds.

milvus-lite 3 keeps a store in a folder (``FILE.db``): ``LOCK`` (one process at a time), and per
collection ``schema.json``, ``manifest.json`` with ``manifest.json.prev`` (its previous save, which
it falls back to), ``partitions/_default/data/*.parquet`` (the rows) and ``indexes/*.idx`` (vector
indexes). Each case damages a copy of one small store (two documents, hash-embedded), then checks
that `rag search` and `rag info` exit with 2 and a message naming the store and the command that
repairs it — no traceback on stderr or in the log, never empty results with exit code 0 — and that
`rag ingest` repairs it: the search answers again as a folder index of the same library does. A second
process holding the store gets "in use by another process (pid N)" from search, info and ingest (which
stops before touching its clause cache), and the HTTP API answers 503 with the CLI's message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from rag.interfaces.cli import main
from rag.storage.index import ClauseIndex
from tests.conftest import REPO, SAMPLE, run_cli, time_limit

Q = "双随机抽查比例要达到多少"
CASE_SECONDS = 30
REBUILD = "rag ingest PATH... --store milvus:{db}#rag drops it and ingests the documents into it again"


@pytest.fixture(autouse=True)
def _time_limit():
    with time_limit(CASE_SECONDS):
        yield


def _release(db: Path) -> None:
    """Stop this process's milvus-lite server for `db` (it keeps the folder's lock and its data in memory)."""
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(str(db))


def _citations(out: str) -> list[str]:
    return [h["citation"] for h in json.loads(out)]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A library, its Milvus store (the stage: the ingest's clause cache) and a folder index of it (ref)."""
    root = tmp_path_factory.mktemp("milvus-faults")
    lib, stage, db, ref = root / "lib", root / "stage", root / "lib.db", root / "ref"
    lib.mkdir()
    shutil.copy(SAMPLE, lib)
    shutil.copy(REPO / "tests" / "data" / "policy_small.txt", lib)
    assert main(["ingest", str(lib), "--index", str(stage), "--store", f"milvus:{db}", "--embedder", "hash:64",
                 "-q"]) == 0  # fmt: skip
    assert main(["ingest", str(lib), "--index", str(ref), "--embedder", "hash:64", "-q"]) == 0
    _release(db)
    return SimpleNamespace(lib=lib, stage=stage, db=db, ref=ref)


@pytest.fixture()
def store(built, tmp_path, capsys):
    """A copy of the built stage and store (the library and the folder index are shared), the store's spec, and
    the folder index's answer to Q."""
    for name in ("stage", "db"):
        shutil.copytree(getattr(built, name), tmp_path / getattr(built, name).name)
    s = SimpleNamespace(lib=built.lib, stage=tmp_path / "stage", db=tmp_path / "lib.db", ref=built.ref)
    s.spec = f"milvus:{s.db}"
    rc, out, _ = run_cli(capsys, "search", Q, "--index", str(s.ref), "--json", "-k", "3")
    assert rc == 0
    s.golden = _citations(out)
    assert len(s.golden) == 3
    yield s
    _release(s.db)


def _files(db: Path, collection: str, part: str) -> list[Path]:
    return sorted((db / "collections" / collection / "partitions" / "_default" / part).iterdir())


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 16] = bytes(b ^ 0xFF for b in data[mid : mid + 16])
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty_manifests(db: Path) -> None:
    for name in ("manifest.json", "manifest.json.prev"):
        (db / "collections" / "rag" / name).write_text("{}", encoding="utf-8")


DAMAGE = {  # name: (damage, what the message says)
    "flipped rows": (lambda db: _flip(_files(db, "rag", "data")[0]), "cannot be read: Corrupt snappy compressed data"),
    "truncated rows": (lambda db: _truncate(_files(db, "rag", "data")[0]), "cannot be read: Could not open Parquet"),
    "truncated vector index": (lambda db: _truncate(_files(db, "rag", "indexes")[0]), "cannot be read"),
    "flipped document records": (lambda db: _flip(_files(db, "rag_docs", "data")[-1]), "cannot be read"),
    "missing rows file": (lambda db: _files(db, "rag", "data")[0].unlink(), "is damaged"),
    # the records' manifest falls back to its previous save, which has the metadata but no documents: an empty
    # library, with exit code 0, before
    "garbage manifest": (lambda db: (db / "collections" / "rag_docs" / "manifest.json").write_text("garbage"),
                         "milvus-lite reports 'manifest.json failed to load"),  # fmt: skip
    "empty manifests": (_empty_manifests, "its document records name 70 clauses, it holds 0"),
    "truncated schema": (lambda db: _truncate(db / "collections" / "rag_docs" / "schema.json"),
                         "schema.json' is not valid JSON"),  # fmt: skip
}


def _refused(capsys, caplog, s, *argv: str) -> str:
    """Run `rag ARGV`: it must fail with exit code 2, print nothing on stdout and no traceback; its message."""
    caplog.clear()
    rc, out, err = run_cli(capsys, *argv)
    assert rc == 2 and out == "", (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info]
    return err


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_store_is_refused_by_name_and_repaired_by_ingest(store, case, capsys, caplog):
    damage, says = DAMAGE[case]
    damage(store.db)
    for argv in (["search", Q, "--store", store.spec, "-k", "3"], ["info", "--store", store.spec]):
        err = _refused(capsys, caplog, store, *argv)
        assert f"the Milvus store {store.db} (collection 'rag')" in err and says in err, err
        assert REBUILD.format(db=store.db) in err
    caplog.clear()
    rc, out, err = run_cli(capsys, "ingest", str(store.lib), "--index", str(store.stage), "--store", store.spec, "-q")
    assert rc == 0, err
    assert f"the Milvus store {store.db} (collection 'rag')" in caplog.text
    assert "dropping it and ingesting the documents into it again" in caplog.text
    assert "Traceback" not in caplog.text + err
    rc, out, _ = run_cli(capsys, "search", Q, "--store", store.spec, "--json", "-k", "3")
    assert rc == 0 and _citations(out) == store.golden
    rc, out, _ = run_cli(capsys, "info", "--store", store.spec)
    assert rc == 0 and "documents:  2" in out and "clauses:    70" in out


def test_a_damaged_store_in_a_real_process_prints_one_line(store):
    """The same as a command run from a shell: stderr has the message, no logged traceback (pymilvus, grpc and
    milvus-lite log each failed call with one in a process of their own)."""
    DAMAGE["flipped rows"][0](store.db)
    cmd = [sys.executable, "-m", "rag.interfaces.cli", "search", Q, "--store", store.spec]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"rag search: the Milvus store {store.db} (collection 'rag') cannot be read")
    assert "Traceback" not in r.stderr and REBUILD.format(db=store.db) in r.stderr


def _set_info(db: Path, doc_id: str | None, info: str) -> None:
    """Overwrite a row of the records collection: the metadata record (`doc_id` None) or a document's."""
    from pymilvus import MilvusClient

    from rag.storage.milvus import META_ID

    client = MilvusClient(str(db))
    client.load_collection("rag_docs")
    if doc_id is None:
        row = {"doc_id": META_ID, "gen": ""}
    else:
        row = client.query("rag_docs", filter=f'gen != "" and doc_id == "{doc_id}"', output_fields=["gen"])[0]
    client.upsert("rag_docs", [{"doc_id": row["doc_id"], "gen": row["gen"], "info": info, "v": [0.0, 0.0]}])
    client.flush("rag_docs")


GOOD_META = {"embedder": {"backend": "hash", "model": "64"}, "dim": 64, "format_version": 2}
GARBAGE = {  # name: (document or None for the metadata record, its info, what the message says)
    "metadata not JSON": (None, "\x00garbage{", "its rag metadata record is not valid"),
    "metadata a list": (None, "[1, 2]", "its rag metadata record is not valid"),
    "metadata embedder a number": (None, json.dumps({**GOOD_META, "embedder": 5}), "not valid (embedder 5)"),
    "metadata dim text": (None, json.dumps({**GOOD_META, "dim": "64"}), "not valid (dim '64')"),
    "metadata without embedder": (None, json.dumps({"dim": 64}), "its rag metadata record is not valid"),
    "metadata format 99": (None, json.dumps({**GOOD_META, "format_version": 99}), "has format version 99"),
    "document record not JSON": ("DOC", "{garbage", "the record of document"),
    "document record a number": ("DOC", "7", "the record of document"),
}


@pytest.mark.parametrize("case", list(GARBAGE))
def test_a_garbage_record_is_refused_by_name_and_repaired_by_ingest(store, case, capsys, caplog):
    doc, info, says = GARBAGE[case]
    if doc == "DOC":
        doc = next(iter(ClauseIndex.load(store.ref).docs))
    _set_info(store.db, doc, info)  # in this process: the CLI below reuses its milvus-lite server
    for argv in (["search", Q, "--store", store.spec, "-k", "3"], ["info", "--store", store.spec]):
        err = _refused(capsys, caplog, store, *argv)
        assert f"the Milvus store {store.db} (collection 'rag')" in err and says in err, err
        assert REBUILD.format(db=store.db) in err
    rc, out, err = run_cli(capsys, "ingest", str(store.lib), "--index", str(store.stage), "--store", store.spec, "-q")
    assert rc == 0 and "dropping it and ingesting the documents into it again" in caplog.text
    rc, out, _ = run_cli(capsys, "search", Q, "--store", store.spec, "--json", "-k", "3")
    assert rc == 0 and _citations(out) == store.golden


HOLD = "import sys, time\nfrom pymilvus import MilvusClient\nMilvusClient(sys.argv[1])\nprint('open', flush=True)\n" \
       "time.sleep(60)\n"  # fmt: skip


@pytest.fixture()
def held(store):
    """The store opened by another process (milvus-lite's lock held), until the test ends."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store.db)], stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        yield holder
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_a_store_another_process_holds(store, held, capsys, caplog):
    busy = f"the store {store.db} is in use by another process (pid {held.pid}); stop it or wait"
    for argv in (["search", Q, "--store", store.spec], ["info", "--store", store.spec]):
        assert busy in _refused(capsys, caplog, store, *argv)
    extra = store.db.parent / "extra"
    extra.mkdir()
    (extra / "新增.txt").write_text("一、总则\n1.新增条款：罚款五千元。\n", encoding="utf-8")
    ingest = ["ingest", str(store.lib), str(extra), "--index", str(store.stage), "--store", store.spec, "-q"]
    cache = lambda: {n: (store.stage / n).read_bytes() for n in ("cache.sqlite", "status.json", ".lock")}  # noqa: E731
    before = cache()
    assert busy in _refused(capsys, caplog, store, *ingest)
    assert cache() == before  # refused before the clause cache was touched
    held.kill()
    held.wait()
    rc, out, err = run_cli(capsys, *ingest)
    assert rc == 0, err
    rc, out, _ = run_cli(capsys, "info", "--store", store.spec)
    assert rc == 0 and "documents:  3" in out


def test_the_api_answers_503_with_the_clis_message(store, capsys):
    """`rag serve --store` opens the store through the same path: a damaged or busy store is a 503 whose
    error is the CLI's message; once repaired, it answers."""
    from tests.interfaces.test_api import call, running

    DAMAGE["flipped rows"][0](store.db)
    _, _, err = run_cli(capsys, "search", Q, "--store", store.spec)
    with running(store.stage, reload_s=0.0, store=f"{store.spec}#rag") as url:
        for path in ("/health", f"/search?q={quote(Q)}", "/documents"):
            status, body = call(url + path)
            said = err.removeprefix("rag search: ").strip()
            assert str(store.db) in said  # the administrator sees the path; API clients only its name
            assert status == 503 and body == {"error": said.replace(str(store.db), store.db.name), "code": 503}
        assert run_cli(capsys, "ingest", str(store.lib), "--index", str(store.stage), "--store", store.spec,
                       "-q")[0] == 0  # fmt: skip
        status, body = call(f"{url}/health")
        assert status == 200 and body["documents"] == 2 and body["clauses"] == 70


def test_the_api_over_a_store_another_process_holds(store, held, capsys):
    from tests.interfaces.test_api import call, running

    with running(store.stage, reload_s=0.0, store=f"{store.spec}#rag") as url:
        status, body = call(f"{url}/search?q={quote(Q)}")
        assert status == 503
        assert body["error"].startswith(f"the store {store.db.name} is in use by another process (pid {held.pid})")
        assert str(store.db.parent) not in body["error"]
