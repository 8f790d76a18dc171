"""Open a store from a spec: a folder index or a Milvus collection (see `open_store`)."""

from __future__ import annotations

from rag.embedding.embed import Embedder
from rag.storage.index import ClauseIndex
from rag.storage.milvus import DEFAULT_COLLECTION, MilvusStore
from rag.storage.store import Store

MILVUS_PREFIX = "milvus:"


def parse_store_spec(spec: str) -> tuple[str, str, str]:
    """("folder", DIR, "") or ("milvus", URI, COLLECTION) from a store spec (see `open_store`).

    Raises:
        ValueError: an empty spec, a Milvus spec without a URI, or a bad collection name.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("empty store spec; give a folder, milvus:FILE.db or milvus:http://HOST:19530")
    if not spec.startswith(MILVUS_PREFIX):
        return "folder", spec, ""
    uri, _, collection = spec[len(MILVUS_PREFIX) :].partition("#")
    collection = collection or DEFAULT_COLLECTION
    if not uri:
        raise ValueError(f"{spec!r}: expected milvus:FILE.db or milvus:http://HOST:19530")
    check_collection(collection)
    return "milvus", uri, collection


def check_collection(name: str) -> str:
    """`name` if it is a valid collection name (ASCII letters, digits and _, not starting with a digit).

    Raises:
        ValueError: otherwise.
    """
    ok = bool(name) and len(name) <= 200 and not name[0].isdigit()
    if not ok or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        raise ValueError(f"bad collection name {name!r}: ASCII letters, digits and _, not starting with a digit")
    return name


def open_store(
    spec: str, embedder: Embedder | None = None, collection: str | None = None, create: bool = False
) -> Store:
    """Open a store.

    - ``DIR``: the folder index there (what ``--index DIR`` opens), via `ClauseIndex.load`.
    - ``milvus:FILE.db``: a milvus-lite database file (the file is created on first use).
    - ``milvus:http://HOST:19530`` (or https://): a Milvus server.

    A ``#NAME`` suffix on a Milvus spec, or `collection`, names the collection (default ``rag``).

    Args:
        embedder: when given, the store must have been built with it; a new Milvus
            collection (`create`) is built for it.
        create: create the Milvus collection when it does not exist (needs `embedder`).

    Raises:
        IndexLoadError: no index in DIR, no such Milvus collection (and not `create`), or an
            embedder other than the recorded one; for Milvus, `rag.storage.milvus.StoreBusyError`
            (another process has the milvus-lite folder open), `StoreDamagedError` (damaged files
            or records: never opened as if empty) and `StoreError`, each naming the store and what to do.
        ValueError: a malformed spec.
    """
    kind, where, name = parse_store_spec(spec)
    if kind == "folder":
        return ClauseIndex.load(where, expect=embedder.spec if embedder else None)
    return MilvusStore.open(where, check_collection(collection) if collection else name, embedder, create)
