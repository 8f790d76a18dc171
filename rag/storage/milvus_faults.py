"""Milvus store faults: connecting, the errors, and telling damage and a busy store from other failures.

A milvus-lite store is a folder (``FILE.db``) one process at a time may open: `connect` says which
process holds it (`StoreBusyError`). Opening checks what milvus-lite and our own records say: data
files it cannot read or had to work around (a manifest fallen back to its previous save, a missing
data file), a metadata record or document record that does not parse, or fewer clause rows than the
document records name all raise `StoreDamagedError`, never silently empty results;
``rag ingest --store`` (`rag.storage.milvus.open_for_ingest`) drops a damaged collection pair
(`drop_pair`) and ingests the documents into it again. Every other Milvus failure is a
`StoreError` naming the store.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.storage.errors import IndexLoadError

MILVUS_EXTRA = "needs the milvus extra: pip install 'rag[milvus]'"


class StoreError(IndexLoadError):
    """A Milvus store that cannot be used now; the message names the store and says what to do."""


class StoreDamagedError(StoreError):
    """A collection pair whose files or rag records are damaged: an ingest drops and rebuilds it."""

    def __init__(self, problem: str, hint: str):
        super().__init__(f"{problem}; {hint}")
        self.problem = problem


class StoreBusyError(StoreError):
    """A milvus-lite store another process has open."""


class NoCollectionError(IndexLoadError):
    """No such collection (yet)."""


DAMAGE_SEEN: dict[tuple[str, str], str] = {}  # (store, collection) -> what milvus-lite worked around here


def store_key(where: str, collection: str) -> tuple[str, str]:
    """The key of a collection in `DAMAGE_SEEN`: a milvus-lite folder by its absolute path."""
    return (os.path.abspath(where) if is_local(where) else where, collection)


def is_local(uri: str) -> bool:
    """Whether `uri` names a milvus-lite folder (run in this process) rather than a server."""
    return "://" not in uri


def reason(exc) -> str:
    """A pymilvus exception's message on one line."""
    return " ".join(str(getattr(exc, "message", exc)).split())


def rebuild_hint(where: str, collection: str) -> str:
    return f"rag ingest PATH... --store milvus:{where}#{collection} drops it and ingests the documents into it again"


def quiet_logs() -> None:
    """Silence what pymilvus, grpc and milvus-lite log with a traceback for a failed call: the call
    raises too, and this module reports it as a `StoreError`. (pymilvus configures its loggers when
    first imported, so this runs after that.)"""
    logging.getLogger("pymilvus.client.iterator.query_iterator").setLevel(logging.ERROR)  # "failed to get mvccTs"
    for name in ("pymilvus.decorators", "grpc._server", "milvus_lite.adapter"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class _Notes(logging.Handler):
    """The milvus-lite log records made while a store opens."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def swallow(self, record: logging.LogRecord) -> bool:
        """A logger filter: keep the record here, not in the log (`connect` reports it)."""
        self.records.append(record)
        return False

    def damage(self) -> str | None:
        """The first damage milvus-lite worked around (a manifest fallen back, a missing data file)."""
        for r in self.records:
            if r.name in ("milvus_lite.storage.manifest", "milvus_lite.engine.recovery"):
                return r.getMessage()
        return None

    def start_failure(self) -> BaseException | None:
        """Why milvus-lite could not start its server for a folder."""
        for r in self.records:
            if r.name == "milvus_lite.server_manager" and r.exc_info:
                return r.exc_info[1]
        return None


@contextmanager
def listening() -> Iterator[_Notes]:
    """Collect milvus-lite's log records (its server runs in this process, on other threads); a failure to
    start its server, logged with a traceback, is kept out of the log."""
    notes = _Notes()
    root, start = logging.getLogger("milvus_lite"), logging.getLogger("milvus_lite.server_manager")
    root.addHandler(notes)
    start.addFilter(notes.swallow)
    try:
        yield notes
    finally:
        root.removeHandler(notes)
        start.removeFilter(notes.swallow)


def _lock_holder(folder: str) -> int | None:
    """The process /proc/locks names as holding milvus-lite's lock on `folder` (Linux), if any."""
    try:
        st = (Path(folder) / "LOCK").stat()
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in table.splitlines():  # "1: FLOCK  ADVISORY  WRITE 23802 fe:00:2163082 0 EOF"
        parts = line.split()
        if "FLOCK" in parts and inode in parts and "->" not in parts:  # "->": a waiter, not the holder
            pid = parts[parts.index(inode) - 1]
            return int(pid) if pid.isdigit() else None
    return None


def busy_message(uri: str, pid: int | None) -> str:
    """What to tell whoever finds the milvus-lite store at `uri` open in another process."""
    who = f" (pid {pid})" if pid else ""
    return (f"the store {uri} is in use by another process{who}; stop it or wait, then run this again "
            "(milvus-lite lets one process at a time open a store, and rag serve and the app keep it open while they "
            "run; a Milvus server, milvus:http://HOST:19530, can be shared)")  # fmt: skip


def connect(uri: str):
    """A pymilvus `MilvusClient` for `uri`: a milvus-lite folder (``FILE.db``, created on first use) or a server URL.

    Raises:
        StoreBusyError: another process has the milvus-lite folder open.
        StoreError: Milvus cannot be opened there (the message says why), or the milvus extra is not installed.
    """
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        if is_local(uri):
            import milvus_lite  # noqa: F401  (pymilvus runs it for a FILE.db store)
    except ImportError as exc:
        raise StoreError(f"the Milvus store {uri} {MILVUS_EXTRA} ({exc})") from exc

    quiet_logs()
    with listening() as notes:
        try:
            return MilvusClient(uri)
        except MilvusException as exc:
            why = reason(exc)
    if is_local(uri):
        cause, pid = notes.start_failure(), _lock_holder(uri)
        if pid is not None or type(cause).__name__ == "DataDirLockedError":  # milvus_lite.exceptions
            raise StoreBusyError(busy_message(uri, pid))
        if cause is not None:
            why = f"{why}: {cause}"
        if os.path.exists(uri) and not os.path.isdir(uri):
            why += " (milvus-lite keeps a store in a folder, and this is a file; move it aside or name another)"
    raise StoreError(f"cannot open the Milvus store {uri}: {why}")


def guarded(method: Callable) -> Callable:
    """A `MilvusStore` method whose Milvus failures raise `StoreError` naming the store (`StoreDamagedError`
    for a milvus-lite folder). The store is read for its `where` and `collection`."""

    @functools.wraps(method)
    def call(self, *args, **kwargs):
        from pymilvus.exceptions import MilvusException

        try:
            return method(self, *args, **kwargs)
        except MilvusException as exc:  # milvus-lite runs in this process: its failures are damaged files
            problem = f"the Milvus store {self.where} (collection {self.collection!r}) failed: {reason(exc)}"
            hint = rebuild_hint(self.where, self.collection)
            if is_local(self.where):
                raise StoreDamagedError(problem, hint) from None
            raise StoreError(f"{problem}; if it is damaged, {hint}") from None

    return call


def drop_pair(client, collection: str, where: str) -> None:
    """Drop the collection pair, whichever of it exists, however damaged.

    Raises:
        StoreError: Milvus could not drop it (the message says what to do instead).
    """
    from pymilvus.exceptions import MilvusException

    try:
        for name in (f"{collection}_docs", collection, f"{collection}_win"):  # documents first: the rest is damage
            client.drop_collection(name)  # a collection that is not there is no error
    except MilvusException as exc:
        instead = (f"move the folder aside (mv {where} {where}.damaged) and run this rag ingest again: it copies the "
                   "index into a new store" if is_local(where) else
                   f"drop the collections {collection} and {collection}_docs on the server, or name another "
                   "collection with --collection, and run this rag ingest again")  # fmt: skip
        raise StoreError(f"the Milvus store {where} (collection {collection!r}) is damaged and could not be dropped "
                         f"({reason(exc)}); {instead}") from None
