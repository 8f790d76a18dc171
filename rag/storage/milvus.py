"""Milvus store: a clause library in Milvus (milvus-lite file or server), behind `rag.storage.store.Store`.

Three collections per library (default names ``rag``, ``rag_docs`` and ``rag_win``):

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
- ``rag_win``: one row per sentence window of a long clause (`rag.text.windows`) — ``id``
  (``CLAUSE_ID#K@GEN``), ``clause_id``, ``doc_id``, ``doc_gen`` and ``vector`` — written and switched with
  its clause's rows; a clause's dense score is the best of its own vector and its windows'.

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

The references the library's clauses make, resolved at ingest, are ``rag_docs`` rows of JSON chunks
(``__rag_cites__SET_N``): a new set is written, then the rows of any other set removed; a store with
no complete set has none recorded (`citations` None) and they are built on demand.

The files an ingest left out are ``rag_docs`` rows too (``__rag_skipped__SHA1``, one per file: its
source and reason), shown by `manifest` as the folder index shows its generation's.

Faults (`rag.storage.milvus_faults`): a milvus-lite store one process at a time may open says who
holds it (`StoreBusyError`); damaged files or records raise `StoreDamagedError`, never silently
empty results, and an ingest (`open_for_ingest`) drops such a collection pair and writes every
document into it again; every other Milvus failure is a `StoreError` naming the store. The schema
and the rows to and from it are in `rag.storage.milvus_schema`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from rag.embedding.embed import Embedder, EmbedderSpec
from rag.reading.load import LoadError
from rag.storage.catalogue import superseded_versions
from rag.storage.errors import IndexLoadError
from rag.storage.milvus_faults import (
    DAMAGE_SEEN,
    drop_pair,
    guarded,
    is_local,
    listening,
    quiet_logs,
    reason,
    rebuild_hint,
    store_key,
)
from rag.storage.milvus_faults import NoCollectionError as NoCollectionError
from rag.storage.milvus_faults import StoreBusyError as StoreBusyError
from rag.storage.milvus_faults import StoreDamagedError as StoreDamagedError
from rag.storage.milvus_faults import StoreError as StoreError
from rag.storage.milvus_faults import connect as connect
from rag.storage.milvus_schema import (
    BM25_K1,
    CITES_EXPR,
    CLAUSE_FIELDS,
    LIKE_UNSAFE,
    SKIPPED_EXPR,
    citation_rows,
    clause_from_row,
    clause_rows,
    create_collections,
    create_windows,
    doc_record,
    in_list,
    lit,
    meta_row,
    read_citations,
    read_lexicon,
    read_meta,
    read_skipped,
    skipped_rows,
    term_ids,
    term_rows,
    window_rows,
)
from rag.storage.milvus_schema import META_ID as META_ID
from rag.storage.passages import Tokenizer, lexical_tokenizer
from rag.storage.references import CITE_MARKERS
from rag.storage.store import Candidate, Changes, CitationRecord, DocInfo, Scope, Supersession
from rag.text.split import Clause
from rag.text.terms import LexicalConfig

logger = logging.getLogger(__name__)

DEFAULT_COLLECTION = "rag"
MAX_TOPK = 16384  # Milvus's limit on one search's or query's results
BATCH = 512  # rows per insert


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
        self.repaired: str | None = None  # the damage an ingest dropped this collection pair over (`open_for_ingest`)
        self.problems: list[str] = []  # damage is refused at opening (`StoreDamagedError`), never served
        self.fallback = False  # one state only: nothing older to fall back to
        self.window_chars = 0  # clauses over this many characters have sentence-window rows (0: none)
        self.windows_collection = f"{collection}_win"
        self.windows_recorded = True  # its metadata names its windows setting
        self._skipped: list[dict] = []  # the files not indexed, as the last ingest recorded them
        self._citations: tuple[CitationRecord, ...] | None = None  # the references the last ingest resolved
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
                does not read (an ingest rebuilds it: `open_for_ingest`).
            StoreError: another Milvus failure.
        """
        from pymilvus.exceptions import MilvusException

        quiet_logs()
        what = f"the Milvus store {where} (collection {collection!r})"
        if store_key(where, collection) in DAMAGE_SEEN:  # milvus-lite reports it once, then serves what it salvaged
            raise StoreDamagedError(DAMAGE_SEEN[store_key(where, collection)], rebuild_hint(where, collection))
        with listening() as notes:
            try:
                store = cls._open(client, collection, embedder, create, where, what)
            except MilvusException as exc:  # milvus-lite runs here: its failure to read a collection is damage
                problem, hint = f"{what} cannot be read: {reason(exc)}", rebuild_hint(where, collection)
                if is_local(where):
                    raise StoreDamagedError(problem, hint) from None
                raise StoreError(f"{problem}; if it is damaged, {hint}") from None
        damage = notes.damage()
        if damage:
            problem = f"{what} is damaged: milvus-lite reports {damage!r}, so clauses may be missing"
            DAMAGE_SEEN[store_key(where, collection)] = problem
            raise StoreDamagedError(problem, rebuild_hint(where, collection))
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
        again = rebuild_hint(where, collection)
        if not client.has_collection(docs):
            raise StoreDamagedError(f"{what} has no documents collection {docs!r}", again)
        for name in (collection, docs):  # reopened files and restarted servers hold them released
            client.load_collection(name)
        rec, spec, dim = read_meta(client, docs, what, again)
        create_windows(client, collection, dim)  # a store made before sentence windows gets their collection
        client.load_collection(f"{collection}_win")
        if embedder is not None and embedder.spec != spec:
            raise IndexLoadError(
                f"Milvus collection {collection!r} was built with embedder {spec.id!r}, not {embedder.spec.id!r}"
            )
        lexical, terms, rows = read_lexicon(client, docs, rec, what, again)
        store = cls(client, collection, spec, dim, lexical, terms, where=where)
        store._term_rows = rows
        store.window_chars = rec.get("windows", 0)
        store.windows_recorded = "windows" in rec  # a store made before windows: an ingest gives it the default
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
        create_collections(client, collection, dim)
        store = cls(client, collection, spec, dim, where=where)
        store.set_lexicon(lexical or LexicalConfig(), terms)
        return store

    @guarded
    def set_lexicon(self, lexical: LexicalConfig, terms: Sequence[str]) -> None:
        """Record new lexical settings and term list (the clause rows' tokens must already be made with
        them): the new term rows first, then the metadata record names them, then the old rows go."""
        old = self._term_ids()
        terms = tuple(terms) if lexical.terms else ()
        rows = term_rows(terms) if lexical.terms else []
        for b in range(0, len(rows), 100):
            self.client.upsert(self.docs_collection, rows[b : b + 100])
        self.lexical, self.terms, self._term_rows = lexical, terms, len(rows)
        self.tokenize = lexical_tokenizer(self.terms)
        self.client.upsert(self.docs_collection, [meta_row(self.spec, self.dim, lexical, terms, len(rows),
                                                           self.window_chars)])  # fmt: skip
        stale = [i for i in old if i not in self._term_ids()]
        if stale:
            self.client.delete(self.docs_collection, ids=stale)
        self.client.flush(self.docs_collection)

    def _term_ids(self) -> list[str]:
        return term_ids(self.terms, self._term_rows) if self.lexical.terms else []

    @guarded
    def refresh(self) -> bool:
        """Re-read the document records (after another process changed the collection); whether they changed."""
        docs, gens = {}, {}
        expr = f'doc_id != {lit(META_ID)} and gen != ""'  # the metadata, term-list and skipped rows have no generation
        for row in self._query_all(self.docs_collection, expr, ["doc_id", "gen", "info"]):
            try:
                info = DocInfo.from_json(json.loads(row["info"]))
            except (ValueError, TypeError, AttributeError) as exc:
                raise StoreDamagedError(
                    f"the Milvus store {self.where} (collection {self.collection!r}): the record of document "
                    f"{row['doc_id']!r} is not valid ({exc})", rebuild_hint(self.where, self.collection)
                ) from None
            docs[info.doc_id] = info
            gens[info.doc_id] = row["gen"]
        changed = (docs, gens) != (self._docs, self._gens)
        if changed:  # unchanged: the same mappings stay (what callers key their caches on)
            self._docs, self._gens = docs, gens
            self._superseded = superseded_versions(docs.values())
            self._n = sum(d.n_clauses for d in docs.values())
        self._skipped = read_skipped(self._query_all(self.docs_collection, SKIPPED_EXPR, ["doc_id", "info"]))
        self._citations, _ = read_citations(self._query_all(self.docs_collection, CITES_EXPR, ["doc_id", "info"]))
        return changed

    @guarded
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

    @property
    def citations(self) -> tuple[CitationRecord, ...] | None:
        """The references the clauses make, as the last ingest resolved them (None: none recorded)."""
        return self._citations

    @property
    def manifest(self) -> Mapping:
        """The embedder, the lexical settings and the files the last ingest left out ("skipped")."""
        return {"embedder": {**self.spec.to_dict(), "id": self.spec.id, "dim": self.dim},
                "lexical": self.lexical.to_dict(), "skipped": list(self._skipped),
                "windows": {"min_chars": self.window_chars}}  # fmt: skip

    def __len__(self) -> int:
        return self._n

    def _filter(self, scope: Scope) -> tuple[str, tuple[str, ...]]:
        """The expression for `scope`'s current rows, and the phrases left to check here."""
        ids = self._docs if scope.doc_ids is None else [d for d in scope.doc_ids if d in self._gens]
        expr = in_list("doc_gen", (f"{d}@{self._gens[d]}" for d in ids))
        rest = tuple(p for p in scope.phrases if LIKE_UNSAFE & set(p))
        for p in scope.phrases:
            if p not in rest:
                expr += f" and text like {lit('%' + p + '%')}"
        return expr, rest

    @guarded
    def count(self, scope: Scope) -> int:
        """Clauses within `scope`: from the document records, or, with phrases, by reading the matches."""
        if not scope.phrases:
            ids = self._docs if scope.doc_ids is None else [d for d in scope.doc_ids if d in self._docs]
            return sum(self._docs[d].n_clauses for d in ids)
        expr, rest = self._filter(scope)
        rows = self._query_all(self.collection, expr, ["text"] if rest else ["clause_id"])
        return sum(all(p in r["text"] for p in rest) for r in rows) if rest else len(rows)

    @guarded
    def _search(self, data, field: str, n: int, scope: Scope, collection: str | None = None) -> list[Candidate]:
        """The `n` best rows of `collection` (default: the clauses) within `scope`, as their clauses' ids (a
        window row ``CLAUSE_ID#K@GEN`` as its clause's)."""
        if not self._docs or n <= 0:
            return []
        expr, rest = self._filter(scope)
        limit = min(MAX_TOPK, n * 10 if rest else n)
        fields = ["text"] if rest else []
        res = self.client.search(collection or self.collection, data=data, anns_field=field, limit=limit,
                                 filter=expr, output_fields=fields)[0]  # fmt: skip
        out = []
        for hit in res:
            if rest and not all(p in hit["entity"]["text"] for p in rest):
                continue
            out.append(Candidate(str(hit["id"]).rsplit("@", 1)[0].split("#", 1)[0], float(hit["distance"])))
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
        """Up to `n` clauses by their own vector or, without phrases in `scope`, their sentence windows' (the
        `n` best windows), best first (the folder store's rule)."""
        q = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        got = self._search([q], "vector", n, scope)
        if not self.window_chars or scope.phrases or not got:
            return got
        best = {c.clause_id: c.score for c in got}
        for c in self._search([q], "vector", n, scope, self.windows_collection):
            best[c.clause_id] = max(c.score, best.get(c.clause_id, -np.inf))
        return [Candidate(c, s) for c, s in sorted(best.items(), key=lambda cs: -cs[1])[:n]]

    @guarded
    def fetch(self, clause_ids: Sequence[str]) -> list[Clause]:
        pks = []
        for cid in clause_ids:
            gen = self._gens.get(cid.rsplit(":", 1)[0])
            if gen is not None:
                pks.append(f"{cid}@{gen}")
        found: dict[str, Clause] = {}
        for b in range(0, len(pks), 1000):
            for row in self.client.get(self.collection, ids=pks[b : b + 1000], output_fields=CLAUSE_FIELDS):
                found[row["clause_id"]] = clause_from_row(row)
        return [found[c] for c in clause_ids if c in found]

    @guarded
    def vectors_of(self, clause_ids: Sequence[str]) -> np.ndarray | None:
        """The vectors of these clauses in the order asked (None for an unknown id)."""
        gens = {cid: self._gens.get(cid.rsplit(":", 1)[0]) for cid in clause_ids}
        pks = [f"{cid}@{gen}" for cid, gen in gens.items() if gen is not None]
        found: dict[str, list[float]] = {}
        for b in range(0, len(pks), 1000):
            for row in self.client.get(self.collection, ids=pks[b : b + 1000], output_fields=["clause_id", "vector"]):
                found[row["clause_id"]] = row["vector"]
        if not all(c in found for c in clause_ids):
            return None
        return np.array([found[c] for c in clause_ids], np.float32).reshape(len(clause_ids), self.dim)

    @guarded
    def citing_clauses(self) -> dict[str, list[Clause]]:
        """doc_id -> its clauses that may name another document, in order: one query over the current rows."""
        if not self._docs:
            return {}
        expr, _ = self._filter(Scope())
        marks = " or ".join(f"text like {lit('%' + m + '%')}" for m in CITE_MARKERS)
        out: dict[str, list[Clause]] = {}
        for row in self._query_all(self.collection, f"{expr} and ({marks})", CLAUSE_FIELDS):
            out.setdefault(row["doc_id"], []).append(clause_from_row(row))
        return {d: sorted(cs, key=lambda c: c.ordinal) for d, cs in out.items()}

    @guarded
    def by_label(self, doc_id: str, label: str) -> list[Clause]:
        gen = self._gens.get(doc_id)
        if gen is None:
            return []
        expr = f"doc_gen == {lit(f'{doc_id}@{gen}')} and label == {lit(label)}"
        rows = self.client.query(self.collection, filter=expr, output_fields=CLAUSE_FIELDS, limit=MAX_TOPK)
        return sorted((clause_from_row(r) for r in rows), key=lambda c: c.ordinal)

    @guarded
    def doc_clauses(self, doc_id: str) -> list[Clause]:
        """All clauses of one document, in order."""
        gen = self._gens.get(doc_id)
        if gen is None:
            return []
        rows = self._query_all(self.collection, f"doc_gen == {lit(f'{doc_id}@{gen}')}", CLAUSE_FIELDS)
        return sorted((clause_from_row(r) for r in rows), key=lambda c: c.ordinal)

    @guarded
    def apply(self, changes: Changes) -> None:
        """Upsert and delete documents: the new clause rows under a fresh generation first, then the
        documents' records (the switch, a thousand records a call), then their old rows; then the files
        not indexed and the lexicon, when given. Rows no record names (left by a killed apply) are
        removed first; a killed apply leaves each document either as it was or as it is now.

        Raises:
            ValueError: an upserted document without vectors, or of another dimension.
        """
        for d in changes.upsert:
            if len(d.clauses) and (d.vectors is None or np.shape(d.vectors) != (len(d.clauses), self.dim)):
                raise ValueError(f"{d.info.source}: the Milvus store needs a {self.dim}-d vector for every clause")
            if len(d.window_of) and (d.windows is None or np.shape(d.windows) != (len(d.window_of), self.dim)):
                raise ValueError(f"{d.info.source}: a {self.dim}-d vector is needed for every sentence window")
        self.refresh()
        self.vacuum()
        gen = f"{time.time_ns():x}"
        if changes.delete:
            self.client.delete(self.docs_collection, ids=list(changes.delete))
            for b in range(0, len(changes.delete), 1000):
                for name in (self.collection, self.windows_collection):
                    self.client.delete(name, filter=in_list("doc_id", changes.delete[b : b + 1000]))
        rows: list[dict] = []
        for d in changes.upsert:  # 1. the new rows, under the new generation: no record names them yet
            rows += clause_rows(d, gen)
            if len(rows) >= BATCH:
                self.client.insert(self.collection, rows)
                rows = []
        if rows:
            self.client.insert(self.collection, rows)
        rows = [r for d in changes.upsert for r in window_rows(d, gen)]
        for b in range(0, len(rows), BATCH):
            self.client.insert(self.windows_collection, rows[b : b + BATCH])
        records = [doc_record(d, gen) for d in changes.upsert]
        for b in range(0, len(records), 1000):  # 2. the switch: each record now names its new rows
            self.client.upsert(self.docs_collection, records[b : b + 1000])
        for b in range(0, len(records), 1000):  # 3. the old rows go
            ids = [r["doc_id"] for r in records[b : b + 1000]]
            keep = in_list("doc_gen", (f"{i}@{gen}" for i in ids))
            for name in (self.collection, self.windows_collection):
                self.client.delete(name, filter=f"{in_list('doc_id', ids)} and not ({keep})")
        if changes.skipped is not None:
            self._record_skipped(changes.skipped)
        if changes.citations is not None:
            self._record_citations(changes.citations)
        elif changes.upsert or changes.delete:
            self._record_citations(None)
        for name in (self.collection, self.windows_collection, self.docs_collection):
            self.client.flush(name)
        lexicon = (self.lexical, self.terms) if changes.lexicon is None else tuple(changes.lexicon)
        if lexicon != (self.lexical, self.terms) or changes.window_chars not in (None, self.window_chars):
            self.window_chars = self.window_chars if changes.window_chars is None else changes.window_chars
            self.set_lexicon(*lexicon)  # the metadata record: the lexicon and the windows setting
        self.refresh()

    def _record_skipped(self, skipped: Sequence[LoadError]) -> None:
        """Record the files not indexed: the new rows, then the rows of files no longer listed go."""
        rows = skipped_rows(skipped)
        for b in range(0, len(rows), 1000):
            self.client.upsert(self.docs_collection, rows[b : b + 1000])
        new = {r["doc_id"] for r in rows}
        stale = [r["doc_id"] for r in self._query_all(self.docs_collection, SKIPPED_EXPR, ["doc_id"])
                 if r["doc_id"] not in new]  # fmt: skip
        for b in range(0, len(stale), 1000):
            self.client.delete(self.docs_collection, ids=stale[b : b + 1000])

    def _record_citations(self, records: Sequence[CitationRecord] | None) -> None:
        """Record the library's references (None: forget them, the documents changed without them): the new
        set's rows, then every other set's rows go."""
        rows = citation_rows(records) if records is not None else []
        for b in range(0, len(rows), 100):
            self.client.upsert(self.docs_collection, rows[b : b + 100])
        new = {r["doc_id"] for r in rows}
        rows = self._query_all(self.docs_collection, CITES_EXPR, ["doc_id"])
        old = [r["doc_id"] for r in rows if r["doc_id"] not in new]
        for b in range(0, len(old), 1000):
            self.client.delete(self.docs_collection, ids=old[b : b + 1000])

    @guarded
    def vacuum(self) -> None:
        """Remove clause and window rows that no document record names (left by a killed `apply`)."""
        current = [f"{d}@{g}" for d, g in self._gens.items()]
        for name in (self.collection, self.windows_collection):
            self.client.delete(name, filter=f"not ({in_list('doc_gen', current)})" if current else 'id != ""')


def open_for_ingest(client, collection: str, where: str, new: Callable[[], tuple[EmbedderSpec, int]]) -> MilvusStore:
    """The collection pair an ingest writes into (`client` a connected pymilvus MilvusClient, `where` its
    URI): opened; created for the embedder and dimension `new()` gives when missing; dropped and created
    again when damaged (`StoreDamagedError`: the ingest then writes every document into it again, its
    vectors from the clause cache; the store's `repaired` says what was wrong).

    Raises:
        StoreError: a damaged pair that cannot be dropped, or another Milvus failure (the message says
            what to do).
    """
    from pymilvus.exceptions import MilvusException

    repaired = None
    try:
        return MilvusStore.open_client(client, collection, where=where)
    except NoCollectionError:
        pass
    except StoreDamagedError as exc:
        repaired = exc.problem
        logger.warning("%s; dropping it and ingesting the documents into it again", repaired)
    drop_pair(client, collection, where)  # a damaged pair, or a documents collection a killed rebuild left
    DAMAGE_SEEN.pop(store_key(where, collection), None)
    spec, dim = new()
    try:
        store = MilvusStore.create(client, collection, spec, dim, where=where)
    except MilvusException as exc:
        raise StoreError(f"cannot create collection {collection!r} in the Milvus store {where}: "
                         f"{reason(exc)}") from None
    store.repaired = repaired
    return store
