"""Milvus store: a clause library in Milvus (milvus-lite file or server), behind `rag.storage.store.Store`.

Two collections per library (default names ``rag`` and ``rag_docs``):

- ``rag``: one row per clause — ``id`` (primary key ``CLAUSE_ID@GEN``), ``clause_id``, ``doc_id``,
  ``doc_gen`` (``DOC_ID@GEN``), ``ordinal``, ``label``, ``headings`` (a JSON array as text), ``text``,
  ``start``, ``end``, ``part``, ``key``, ``tokens`` (our jieba tokens, space-joined), ``sparse``
  (filled by Milvus's BM25 function from ``tokens``) and ``vector`` (FLOAT_VECTOR, inner product
  on normalised vectors: the folder store's FAISS metric).
- ``rag_docs``: one row per document — ``doc_id`` (primary key), ``gen`` (the generation of its
  clause rows that is current) and ``info`` (its `DocInfo` as JSON) — plus one ``__rag_meta__`` row
  recording the embedder. Documents live in a collection of their own rather than in a JSON field
  of every clause row because a document's record is its commit: `apply` writes a document's new
  clause rows under a fresh generation first and switches its record to that generation last, so a
  killed ingest leaves rows no record names, which no search sees and the next `apply` removes.
  (Milvus needs a vector field in every collection: ``rag_docs`` has a 2-dimensional placeholder.)

Lexical search: Milvus's BM25 function (k1 1.5, b 0.75: bm25s's Lucene defaults) over our own
jieba tokens (`rag.text.tokens.tokenize`) joined by spaces and analysed by the ``standard``
tokenizer, which splits them at the spaces and leaves each token whole. So the tokens are the
folder store's exactly and Milvus keeps the corpus statistics (N, document frequencies, average
length) as rows come and go; milvus-lite's own ``jieba`` analyser would tokenise differently
(no stopwords, not search mode). Scope filters are Milvus expressions on ``doc_gen``.

The lexical settings (`rag.text.terms.LexicalConfig`) are the folder index's: the metadata record
names them, and a library's term list is kept in ``rag_docs`` rows of its own
(``__rag_terms__DIGEST_N``, JSON chunks under the field size limit) that the metadata record points
at, so questions are tokenised as the rows were. A new term list is written beside the old one, the
record switched to it, then the old rows removed.

Faults. A milvus-lite store is a folder (``FILE.db``) one process at a time may open: `connect`
says which process holds it (`StoreBusyError`). Opening checks what milvus-lite and our own
records say: data files it cannot read or had to work around (a manifest fallen back to its
previous save, a missing data file), a metadata record or document record that does not parse, or
fewer clause rows than the document records name all raise `StoreDamagedError`, never silently
empty results; `to_milvus` (what ``rag ingest --store`` runs) drops a damaged collection pair and
copies the folder index into it again. Every other Milvus failure is a `StoreError` naming the
store.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from rag.embedding.embed import Embedder, EmbedderSpec
from rag.storage.index import (
    ClauseIndex,
    DocInfo,
    IndexLoadError,
    Supersession,
    Tokenizer,
    changes_from_index,
    lexical_tokenizer,
    superseded_versions,
)
from rag.storage.store import Candidate, Changes, Scope
from rag.text.split import Clause
from rag.text.terms import MAX_TERMS, TERMS_VERSION, LexicalConfig, terms_digest, valid_term

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "rag"
META_ID = "__rag_meta__"
TERMS_ID = "__rag_terms__"  # + digest + _N: the chunks of a term list
FORMAT_VERSION = 2  # 2: lexical settings and term list in the metadata
_TERMS_CHUNK = 60_000  # bytes of JSON per term-list row (the field holds 65,535)
BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults (Lucene)
MAX_TOPK = 16384  # Milvus's limit on one search's or query's results
BATCH = 512  # rows per insert
_MAX_VARCHAR = 65535  # bytes
_CLAUSE_FIELDS = ["clause_id", "doc_id", "ordinal", "label", "headings", "text", "start", "end", "part"]
_LIKE_UNSAFE = set('%_\\"')


class StoreError(IndexLoadError):
    """A Milvus store that cannot be used now; the message names the store and says what to do."""


class StoreDamagedError(StoreError):
    """A collection pair whose files or rag records are damaged: `to_milvus` drops and rebuilds it."""

    def __init__(self, problem: str, hint: str):
        super().__init__(f"{problem}; {hint}")
        self.problem = problem


class StoreBusyError(StoreError):
    """A milvus-lite store another process has open."""


class NoCollectionError(IndexLoadError):
    """No such collection (yet)."""


_DAMAGE_SEEN: dict[tuple[str, str], str] = {}  # (store, collection) -> what milvus-lite worked around here


def _key(where: str, collection: str) -> tuple[str, str]:
    return (os.path.abspath(where) if _local(where) else where, collection)


MILVUS_EXTRA = "needs the milvus extra: pip install 'rag[milvus]'"


def _local(uri: str) -> bool:
    """Whether `uri` names a milvus-lite folder (run in this process) rather than a server."""
    return "://" not in uri


def _why(exc) -> str:
    """A pymilvus exception's message on one line."""
    return " ".join(str(getattr(exc, "message", exc)).split())


def _rebuild_hint(where: str, collection: str) -> str:
    return (f"rag ingest PATH... --index DIR --store milvus:{where}#{collection} drops it and copies the index folder "
            "it mirrors into it again")  # fmt: skip


def _quiet_logs() -> None:
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
def _listening() -> Iterator[_Notes]:
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

        if _local(uri):
            import milvus_lite  # noqa: F401  (pymilvus runs it for a FILE.db store)
    except ImportError as exc:
        raise StoreError(f"the Milvus store {uri} {MILVUS_EXTRA} ({exc})") from exc

    _quiet_logs()
    with _listening() as notes:
        try:
            return MilvusClient(uri)
        except MilvusException as exc:
            why = _why(exc)
    if _local(uri):
        cause, pid = notes.start_failure(), _lock_holder(uri)
        if pid is not None or type(cause).__name__ == "DataDirLockedError":  # milvus_lite.exceptions
            raise StoreBusyError(busy_message(uri, pid))
        if cause is not None:
            why = f"{why}: {cause}"
        if os.path.exists(uri) and not os.path.isdir(uri):
            why += " (milvus-lite keeps a store in a folder, and this is a file; move it aside or name another)"
    raise StoreError(f"cannot open the Milvus store {uri}: {why}")


def _guarded(method: Callable) -> Callable:
    """A `MilvusStore` method whose Milvus failures raise `StoreError` naming the store (`StoreDamagedError`
    for a milvus-lite folder)."""

    @functools.wraps(method)
    def call(self: MilvusStore, *args, **kwargs):
        from pymilvus.exceptions import MilvusException

        try:
            return method(self, *args, **kwargs)
        except MilvusException as exc:  # milvus-lite runs in this process: its failures are damaged files
            problem = f"the Milvus store {self.where} (collection {self.collection!r}) failed: {_why(exc)}"
            hint = _rebuild_hint(self.where, self.collection)
            if _local(self.where):
                raise StoreDamagedError(problem, hint) from None
            raise StoreError(f"{problem}; if it is damaged, {hint}") from None

    return call


def _lit(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)


def _in(field: str, values: Iterable[str]) -> str:
    return f"{field} in [{', '.join(_lit(v) for v in values)}]"


def _clause(row: Mapping) -> Clause:
    return Clause(
        doc_id=row["doc_id"], ordinal=int(row["ordinal"]), label=row["label"],
        headings=tuple(json.loads(row["headings"])), text=row["text"], start=int(row["start"]),
        end=int(row["end"]), part=int(row["part"]),
    )  # fmt: skip


def _truncate_utf8(text: str, limit: int = _MAX_VARCHAR) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    logger.warning("a clause's tokens exceed %d bytes; the rest is not indexed lexically", limit)
    return raw[:limit].decode("utf-8", "ignore").rsplit(" ", 1)[0]


class MilvusStore:
    """A clause library in one Milvus collection pair; implements `rag.storage.store.Store`."""

    def __init__(
        self, client, collection: str, spec: EmbedderSpec, dim: int, lexical: LexicalConfig | None = None,
        terms: Sequence[str] = (), where: str = "Milvus",
    ):  # fmt: skip
        self.client = client
        self.where = where  # the store's URI, for messages
        self.collection = collection
        self.docs_collection = f"{collection}_docs"
        self.spec = spec
        self.dim = dim
        self.lexical = lexical or LexicalConfig()
        self.terms = tuple(terms)
        self.tokenize: Tokenizer = lexical_tokenizer(self.terms)
        self._term_rows = 0  # rows holding the term list (see `set_lexicon`)
        self.repaired: str | None = None  # the damage `to_milvus` rebuilt this collection over
        self.problems: list[str] = []
        self._docs: dict[str, DocInfo] = {}
        self._gens: dict[str, str] = {}  # doc_id -> current generation of its clause rows
        self._superseded: dict[str, Supersession] = {}
        self._n = 0
        self.refresh()

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls, uri: str, collection: str = DEFAULT_COLLECTION, embedder: Embedder | None = None, create: bool = False
    ) -> MilvusStore:
        """Connect to `uri` (a milvus-lite folder or a server URL) and open `collection`.

        Raises:
            IndexLoadError: no such collection (and not `create`, or no embedder to create it
                with), or one built with another embedder than `embedder`.
            StoreBusyError, StoreDamagedError, StoreError: see `connect` and `open_client`.
        """
        return cls.open_client(connect(uri), collection, embedder, create, where=uri)

    @classmethod
    def open_client(
        cls, client, collection: str = DEFAULT_COLLECTION, embedder: Embedder | None = None, create: bool = False,
        where: str = "Milvus",
    ) -> MilvusStore:  # fmt: skip
        """`open` with a connected pymilvus `MilvusClient`; `where` names the store in messages.

        Raises:
            IndexLoadError: as `open`.
            StoreDamagedError: files milvus-lite cannot read or had to work around, a rag record
                that does not parse, fewer clause rows than the records name, or a format this rag
                does not read (`to_milvus` rebuilds it).
            StoreError: another Milvus failure.
        """
        from pymilvus.exceptions import MilvusException

        _quiet_logs()
        what = f"the Milvus store {where} (collection {collection!r})"
        if _key(where, collection) in _DAMAGE_SEEN:  # milvus-lite reports it once, then serves what it salvaged
            raise StoreDamagedError(_DAMAGE_SEEN[_key(where, collection)], _rebuild_hint(where, collection))
        with _listening() as notes:
            try:
                store = cls._open(client, collection, embedder, create, where, what)
            except MilvusException as exc:  # milvus-lite runs here: its failure to read a collection is damage
                problem, hint = f"{what} cannot be read: {_why(exc)}", _rebuild_hint(where, collection)
                if _local(where):
                    raise StoreDamagedError(problem, hint) from None
                raise StoreError(f"{problem}; if it is damaged, {hint}") from None
        damage = notes.damage()
        if damage:
            problem = f"{what} is damaged: milvus-lite reports {damage!r}, so clauses may be missing"
            _DAMAGE_SEEN[_key(where, collection)] = problem
            raise StoreDamagedError(problem, _rebuild_hint(where, collection))
        return store

    @classmethod
    def _open(cls, client, collection: str, embedder: Embedder | None, create: bool, where: str,
              what: str) -> MilvusStore:  # fmt: skip
        docs = f"{collection}_docs"
        if not client.has_collection(collection):
            if not create or embedder is None:
                raise NoCollectionError(f"no collection {collection!r} in {where}; build one first: rag ingest PATH... "
                                        f"--store milvus:{where}#{collection}")  # fmt: skip
            if client.has_collection(docs):  # left by a killed rebuild
                client.drop_collection(docs)
            return cls.create(client, collection, embedder.spec, embedder.dim, where=where)
        again = _rebuild_hint(where, collection)
        if not client.has_collection(docs):
            raise StoreDamagedError(f"{what} has no documents collection {docs!r}", again)
        for name in (collection, docs):  # reopened files and restarted servers hold them released
            client.load_collection(name)
        meta = client.get(docs, ids=[META_ID], output_fields=["info"])
        if not meta:
            raise StoreDamagedError(f"{what} has no rag metadata record ({META_ID} in {docs})", again)
        try:
            rec = json.loads(meta[0]["info"])
            version = rec.get("format_version", 1)
        except (ValueError, TypeError, AttributeError) as exc:
            raise StoreDamagedError(f"{what}: its rag metadata record is not valid ({exc})", again) from None
        if version not in (1, FORMAT_VERSION):
            raise StoreDamagedError(f"{what} has format version {version!r}, this rag reads versions 1 and "
                                    f"{FORMAT_VERSION}", again)  # fmt: skip
        try:
            if not isinstance(rec["embedder"], dict) or not all(isinstance(v, str) for v in rec["embedder"].values()):
                raise ValueError(f"embedder {rec['embedder']!r}")
            spec, dim = EmbedderSpec.from_dict(rec["embedder"]), rec["dim"]
            if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
                raise ValueError(f"dim {dim!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreDamagedError(f"{what}: its rag metadata record is not valid ({exc})", again) from None
        if embedder is not None and embedder.spec != spec:
            raise IndexLoadError(
                f"Milvus collection {collection!r} was built with embedder {spec.id!r}, not {embedder.spec.id!r}"
            )
        lexical, terms, rows = _read_lexicon(client, docs, rec, what, again)
        store = cls(client, collection, spec, dim, lexical, terms, where=where)
        store._term_rows = rows
        n = store.rows()
        if n < len(store):
            raise StoreDamagedError(f"{what} is damaged: its document records name {len(store)} clauses, it holds "
                                    f"{n}", again)  # fmt: skip
        return store

    @classmethod
    def create(
        cls, client, collection: str, spec: EmbedderSpec, dim: int, lexical: LexicalConfig | None = None,
        terms: Sequence[str] = (), where: str = "Milvus",
    ) -> MilvusStore:  # fmt: skip
        """Create the collection pair (replacing nothing: it must not exist) and record the embedder and
        the lexical settings with their term list."""
        from pymilvus import DataType, Function, FunctionType

        s = client.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=1024)
        s.add_field("clause_id", DataType.VARCHAR, max_length=1024)
        s.add_field("doc_id", DataType.VARCHAR, max_length=512)
        s.add_field("doc_gen", DataType.VARCHAR, max_length=1024)
        s.add_field("ordinal", DataType.INT64)
        s.add_field("label", DataType.VARCHAR, max_length=_MAX_VARCHAR)
        s.add_field("headings", DataType.VARCHAR, max_length=_MAX_VARCHAR)
        s.add_field("text", DataType.VARCHAR, max_length=_MAX_VARCHAR)
        s.add_field("start", DataType.INT64)
        s.add_field("end", DataType.INT64)
        s.add_field("part", DataType.INT64)
        s.add_field("key", DataType.VARCHAR, max_length=64)
        s.add_field(
            "tokens", DataType.VARCHAR, max_length=_MAX_VARCHAR, enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},
        )  # fmt: skip
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        s.add_function(
            Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                     output_field_names=["sparse"])
        )  # fmt: skip
        ip = client.prepare_index_params()
        ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})  # fmt: skip
        ip.add_index("vector", index_type="FLAT", metric_type="IP")
        client.create_collection(collection, schema=s, index_params=ip, consistency_level="Strong")
        d = client.create_schema(auto_id=False, enable_dynamic_field=False)
        d.add_field("doc_id", DataType.VARCHAR, is_primary=True, max_length=512)
        d.add_field("gen", DataType.VARCHAR, max_length=64)
        d.add_field("info", DataType.VARCHAR, max_length=_MAX_VARCHAR)
        d.add_field("v", DataType.FLOAT_VECTOR, dim=2)
        dp = client.prepare_index_params()
        dp.add_index("v", index_type="FLAT", metric_type="L2")
        client.create_collection(f"{collection}_docs", schema=d, index_params=dp, consistency_level="Strong")
        store = cls(client, collection, spec, dim, where=where)
        store.set_lexicon(lexical or LexicalConfig(), terms)
        return store

    def _meta(self) -> dict:
        rec = {"embedder": self.spec.to_dict(), "dim": self.dim, "format_version": FORMAT_VERSION,
               "lexical": self.lexical.to_dict()}  # fmt: skip
        if self.lexical.terms:
            rec["terms"] = {"version": TERMS_VERSION, "digest": terms_digest(self.terms), "rows": self._term_rows}
        return rec

    @_guarded
    def set_lexicon(self, lexical: LexicalConfig, terms: Sequence[str]) -> None:
        """Record new lexical settings and term list (the clause rows' tokens must already be made with
        them): the new term rows first, then the metadata record names them, then the old rows go."""
        old = self._term_ids()
        terms = tuple(terms) if lexical.terms else ()
        chunks: list[list[str]] = [[]]
        size = 0
        for t in terms:
            b = len(json.dumps(t, ensure_ascii=False).encode("utf-8")) + 2
            if size + b > _TERMS_CHUNK and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append(t)
            size += b
        digest = terms_digest(terms)
        rows = [{"doc_id": f"{TERMS_ID}{digest}_{i}", "gen": "", "info": json.dumps(c, ensure_ascii=False),
                 "v": [0.0, 0.0]} for i, c in enumerate(chunks)] if lexical.terms else []  # fmt: skip
        for b in range(0, len(rows), 100):
            self.client.upsert(self.docs_collection, rows[b : b + 100])
        self.lexical, self.terms, self._term_rows = lexical, terms, len(rows)
        self.tokenize = lexical_tokenizer(self.terms)
        meta = {"doc_id": META_ID, "gen": "", "info": json.dumps(self._meta(), ensure_ascii=False), "v": [0.0, 0.0]}
        self.client.upsert(self.docs_collection, [meta])
        stale = [i for i in old if i not in self._term_ids()]
        if stale:
            self.client.delete(self.docs_collection, ids=stale)
        self.client.flush(self.docs_collection)

    def _term_ids(self) -> list[str]:
        if not self.lexical.terms:
            return []
        digest = terms_digest(self.terms)
        return [f"{TERMS_ID}{digest}_{i}" for i in range(self._term_rows)]

    @_guarded
    def refresh(self) -> None:
        """Re-read the document records (after another process changed the collection)."""
        docs, gens = {}, {}
        expr = f'doc_id != {_lit(META_ID)} and gen != ""'  # the metadata and term-list rows have no generation
        for row in self._query_all(self.docs_collection, expr, ["doc_id", "gen", "info"]):
            try:
                info = DocInfo.from_json(json.loads(row["info"]))
            except (ValueError, TypeError, AttributeError) as exc:
                raise StoreDamagedError(
                    f"the Milvus store {self.where} (collection {self.collection!r}): the record of document "
                    f"{row['doc_id']!r} is not valid ({exc})", _rebuild_hint(self.where, self.collection)
                ) from None
            docs[info.doc_id] = info
            gens[info.doc_id] = row["gen"]
        self._docs, self._gens = docs, gens
        self._superseded = superseded_versions(docs.values())
        self._n = sum(d.n_clauses for d in docs.values())

    @_guarded
    def rows(self) -> int:
        """Clause rows in the collection (current ones and any a killed `apply` left)."""
        return int(self.client.query(self.collection, filter="", output_fields=["count(*)"])[0]["count(*)"])

    def _query_all(self, collection: str, expr: str, fields: list[str]) -> list[dict]:
        """Every row matching `expr`, read in pages."""
        it = self.client.query_iterator(collection, batch_size=1000, filter=expr, output_fields=fields)
        out: list[dict] = []
        try:
            while batch := it.next():
                out += batch
        finally:
            it.close()
        return out

    # ------------------------------------------------------------------ the Store protocol

    @property
    def docs(self) -> Mapping[str, DocInfo]:
        return self._docs

    @property
    def superseded(self) -> Mapping[str, Supersession]:
        return self._superseded

    @property
    def tiers(self) -> dict[str, bool]:
        return {"lexical": True, "dense": True}

    def __len__(self) -> int:
        return self._n

    def _filter(self, scope: Scope) -> tuple[str, tuple[str, ...]]:
        """The expression for `scope`'s current rows, and the phrases left to check here."""
        ids = self._docs if scope.doc_ids is None else [d for d in scope.doc_ids if d in self._gens]
        expr = _in("doc_gen", (f"{d}@{self._gens[d]}" for d in ids))
        rest = tuple(p for p in scope.phrases if _LIKE_UNSAFE & set(p))
        for p in scope.phrases:
            if p not in rest:
                expr += f" and text like {_lit('%' + p + '%')}"
        return expr, rest

    @_guarded
    def count(self, scope: Scope) -> int:
        """Clauses within `scope`: from the document records, or, with phrases, by reading the matches."""
        if not scope.phrases:
            ids = self._docs if scope.doc_ids is None else [d for d in scope.doc_ids if d in self._docs]
            return sum(self._docs[d].n_clauses for d in ids)
        expr, rest = self._filter(scope)
        rows = self._query_all(self.collection, expr, ["text"] if rest else ["clause_id"])
        return sum(all(p in r["text"] for p in rest) for r in rows) if rest else len(rows)

    @_guarded
    def _search(self, data, field: str, n: int, scope: Scope) -> list[Candidate]:
        if not self._docs or n <= 0:
            return []
        expr, rest = self._filter(scope)
        limit = min(MAX_TOPK, n * 10 if rest else n)
        fields = ["text"] if rest else []
        res = self.client.search(self.collection, data=data, anns_field=field, limit=limit, filter=expr,
                                 output_fields=fields)[0]  # fmt: skip
        out = []
        for hit in res:
            if rest and not all(p in hit["entity"]["text"] for p in rest):
                continue
            out.append(Candidate(str(hit["id"]).rsplit("@", 1)[0], float(hit["distance"])))
        return out[:n]

    def lexical_candidates(self, query: str, n: int, scope: Scope) -> list[Candidate]:
        """Up to `n` clauses within `scope` by BM25 over our jieba tokens, best first.

        Milvus scores tf·(k1+1)/(tf+k1·norm) (milvus-lite reports them negated), bm25s, as Lucene
        now does, tf/(tf+k1·norm): divided by k1+1, the scores are the folder store's.
        """
        toks = self.tokenize(query)
        if not toks:
            return []
        got = self._search([" ".join(toks)], "sparse", n, scope)
        return [Candidate(c.clause_id, abs(c.score) / (BM25_K1 + 1)) for c in got if c.score != 0]

    def dense_candidates(self, vector: np.ndarray, n: int, scope: Scope) -> list[Candidate]:
        q = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        return self._search([q], "vector", n, scope)

    @_guarded
    def fetch(self, clause_ids: Sequence[str]) -> list[Clause]:
        pks = []
        for cid in clause_ids:
            gen = self._gens.get(cid.rsplit(":", 1)[0])
            if gen is not None:
                pks.append(f"{cid}@{gen}")
        found: dict[str, Clause] = {}
        for b in range(0, len(pks), 1000):
            for row in self.client.get(self.collection, ids=pks[b : b + 1000], output_fields=_CLAUSE_FIELDS):
                found[row["clause_id"]] = _clause(row)
        return [found[c] for c in clause_ids if c in found]

    @_guarded
    def by_label(self, doc_id: str, label: str) -> list[Clause]:
        gen = self._gens.get(doc_id)
        if gen is None:
            return []
        expr = f"doc_gen == {_lit(f'{doc_id}@{gen}')} and label == {_lit(label)}"
        rows = self.client.query(self.collection, filter=expr, output_fields=_CLAUSE_FIELDS, limit=MAX_TOPK)
        return sorted((_clause(r) for r in rows), key=lambda c: c.ordinal)

    @_guarded
    def doc_clauses(self, doc_id: str) -> list[Clause]:
        """All clauses of one document, in order."""
        gen = self._gens.get(doc_id)
        if gen is None:
            return []
        rows = self._query_all(self.collection, f"doc_gen == {_lit(f'{doc_id}@{gen}')}", _CLAUSE_FIELDS)
        return sorted((_clause(r) for r in rows), key=lambda c: c.ordinal)

    @_guarded
    def apply(self, changes: Changes) -> None:
        """Upsert and delete documents: the new clause rows under a fresh generation first, then the
        documents' records (the switch, a thousand records a call), then their old rows. Rows no
        record names (left by a killed apply) are removed first; a killed apply leaves each document
        either as it was or as it is now.

        Raises:
            ValueError: an upserted document without vectors, or of another dimension.
        """
        for d in changes.upsert:
            if len(d.clauses) and (d.vectors is None or np.shape(d.vectors) != (len(d.clauses), self.dim)):
                raise ValueError(f"{d.info.source}: the Milvus store needs a {self.dim}-d vector for every clause")
        self.refresh()
        self.vacuum()
        gen = f"{time.time_ns():x}"
        if changes.delete:
            self.client.delete(self.docs_collection, ids=list(changes.delete))
            for b in range(0, len(changes.delete), 1000):
                self.client.delete(self.collection, filter=_in("doc_id", changes.delete[b : b + 1000]))
        rows: list[dict] = []
        for d in changes.upsert:  # 1. the new rows, under the new generation: no record names them yet
            dg = f"{d.info.doc_id}@{gen}"
            rows += [
                {
                    "id": f"{c.clause_id}@{gen}", "clause_id": c.clause_id, "doc_id": d.info.doc_id, "doc_gen": dg,
                    "ordinal": c.ordinal, "label": c.label,
                    "headings": json.dumps(list(c.headings), ensure_ascii=False),
                    "text": c.text, "start": c.start, "end": c.end, "part": c.part, "key": k,
                    "tokens": _truncate_utf8(" ".join(t)), "vector": np.asarray(v, dtype=np.float32).tolist(),
                }
                for c, k, t, v in zip(d.clauses, d.keys, d.tokens, d.vectors if d.vectors is not None else [])
            ]  # fmt: skip
            if len(rows) >= BATCH:
                self.client.insert(self.collection, rows)
                rows = []
        if rows:
            self.client.insert(self.collection, rows)
        records = [
            {"doc_id": d.info.doc_id, "gen": gen, "v": [0.0, 0.0],
             "info": json.dumps(asdict(replace(d.info, n_clauses=len(d.clauses))), ensure_ascii=False)}
            for d in changes.upsert
        ]  # fmt: skip
        for b in range(0, len(records), 1000):  # 2. the switch: each record now names its new rows
            self.client.upsert(self.docs_collection, records[b : b + 1000])
        for b in range(0, len(records), 1000):  # 3. the old rows go
            ids = [r["doc_id"] for r in records[b : b + 1000]]
            keep = _in("doc_gen", (f"{i}@{gen}" for i in ids))
            self.client.delete(self.collection, filter=f"{_in('doc_id', ids)} and not ({keep})")
        self.client.flush(self.collection)
        self.client.flush(self.docs_collection)
        self.refresh()

    @_guarded
    def vacuum(self) -> None:
        """Remove clause rows that no document record names (left by a killed `apply`)."""
        current = [f"{d}@{g}" for d, g in self._gens.items()]
        self.client.delete(self.collection, filter=f"not ({_in('doc_gen', current)})" if current else 'id != ""')


def _read_lexicon(
    client, docs_collection: str, meta: dict, what: str, again: str
) -> tuple[LexicalConfig, list[str], int]:
    """The lexical settings, term list and its row count a metadata record names (`what` names the
    store, `again` says how to rebuild it).

    Raises:
        StoreDamagedError: settings or a term list this rag cannot use.
    """
    try:
        lexical = LexicalConfig.from_dict(meta.get("lexical"))
    except (TypeError, ValueError, AttributeError) as exc:
        raise StoreDamagedError(f"{what}: unusable lexical settings ({exc})", again) from None
    if not lexical.terms:
        return lexical, [], 0
    rec = meta.get("terms") if isinstance(meta.get("terms"), dict) else {}
    if rec.get("version") != TERMS_VERSION:
        raise StoreDamagedError(f"{what}: term list version {rec.get('version')}, this rag uses {TERMS_VERSION}",
                                again)  # fmt: skip
    digest, n = rec.get("digest"), rec.get("rows")
    if not isinstance(digest, str) or not isinstance(n, int) or not 0 <= n <= MAX_TERMS:
        raise StoreDamagedError(f"{what}: damaged term-list record", again)
    ids = [f"{TERMS_ID}{digest}_{i}" for i in range(n)]
    rows: dict[str, str] = {}
    for b in range(0, n, 100):
        rows.update({r["doc_id"]: r["info"] for r in client.get(docs_collection, ids=ids[b : b + 100],
                                                                  output_fields=["info"])})  # fmt: skip
    try:
        terms = [t for i in ids for t in json.loads(rows[i])]
    except (KeyError, TypeError, ValueError):
        terms = None
    if (terms is None or len(terms) > MAX_TERMS or not all(isinstance(t, str) and valid_term(t) for t in terms)
            or terms_digest(terms) != digest):  # fmt: skip
        raise StoreDamagedError(f"{what}: its term list is missing or damaged", again)
    return lexical, terms, n


def to_milvus(index: ClauseIndex, client, collection: str = DEFAULT_COLLECTION, where: str = "Milvus") -> MilvusStore:
    """Make a Milvus collection mirror a folder index (`client` a pymilvus MilvusClient, `where` its URI).

    Documents whose record differs from the index's (new, changed, or left half-copied by a killed
    run) are upserted with their clauses, tokens and vectors; documents not in the index are
    deleted; the rest is not touched. An existing collection must hold the same embedder. When the
    index's lexical settings or term list differ from the collection's, every document is upserted
    (its tokens change) and the new term list is recorded after them. A damaged collection pair
    (`StoreDamagedError`: it holds only a copy of the index) is dropped and built again; the
    store's `repaired` says what was wrong.

    Raises:
        ValueError: the index has no dense tier yet (`rag ingest` completes it first).
        IndexLoadError: the collection exists with another embedder.
        StoreError: a damaged collection that cannot be dropped (the message says what to do), or
            another Milvus failure.
    """
    from pymilvus.exceptions import MilvusException

    if index.dense is None:
        raise ValueError("the index has no vectors yet; complete its dense tier before copying it to Milvus")
    store, repaired = None, None
    try:
        store = MilvusStore.open_client(client, collection, where=where)
    except NoCollectionError:
        pass
    except StoreDamagedError as exc:
        repaired = exc.problem
        logger.warning("%s; dropping it and copying the index into it again", repaired)
    if store is not None and (store.spec != index.spec or store.dim != index.dim):
        raise IndexLoadError(
            f"Milvus collection {collection!r} holds embedder {store.spec.id!r}, not {index.spec.id!r}"
        )
    if store is None:
        _drop(client, collection, where)  # a damaged pair, or a documents collection a killed rebuild left
        _DAMAGE_SEEN.pop(_key(where, collection), None)
        try:
            store = MilvusStore.create(client, collection, index.spec, index.dim, index.lexical, index.terms, where)
        except MilvusException as exc:
            raise StoreError(f"cannot create collection {collection!r} in the Milvus store {where}: "
                             f"{_why(exc)}") from None
        store.repaired = repaired
    relex = (store.lexical, store.terms) != (index.lexical, index.terms if index.lexical.terms else ())
    changed = set(index.docs) if relex else {d for d, info in index.docs.items() if store.docs.get(d) != info}
    upsert = tuple(c for c in changes_from_index(index, changed).upsert)
    stale = tuple(d for d in store.docs if d not in index.docs)
    store.apply(Changes(upsert=upsert, delete=stale))
    if relex:
        store.set_lexicon(index.lexical, index.terms)
    logger.info("Milvus %s: %d documents upserted, %d deleted", collection, len(upsert), len(stale))
    return store


def _drop(client, collection: str, where: str) -> None:
    """Drop the collection pair, whichever of it exists, however damaged.

    Raises:
        StoreError: Milvus could not drop it (the message says what to do instead).
    """
    from pymilvus.exceptions import MilvusException

    try:
        for name in (f"{collection}_docs", collection):  # the documents first: without them the rest is damage
            client.drop_collection(name)  # a collection that is not there is no error
    except MilvusException as exc:
        instead = (f"move the folder aside (mv {where} {where}.damaged) and run this rag ingest again: it copies the "
                   "index into a new store" if _local(where) else
                   f"drop the collections {collection} and {collection}_docs on the server, or name another "
                   "collection with --collection, and run this rag ingest again")  # fmt: skip
        raise StoreError(f"the Milvus store {where} (collection {collection!r}) is damaged and could not be dropped "
                         f"({_why(exc)}); {instead}") from None
