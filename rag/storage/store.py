"""Store: what search and ingest need from a clause library, whatever holds it.

Two stores implement `Store`: the folder index (`rag.storage.index.ClauseIndex`, FAISS +
bm25s + JSONL generations) and Milvus (`rag.storage.milvus.MilvusStore`, milvus-lite file
or server). Everything above — fusion, named-clause lookup, versions, highlighting — lives in
`rag.search.retrieve` once and talks to a store only through this protocol.

A scope (`Scope`) says which clauses a candidate query may return: those of some documents
(computed above from the documents' metadata: filters, types, years, current/superseded) and,
optionally, only clauses containing every quoted phrase.

Ingest (`rag.ingest.pipeline`) writes either store only through `apply`, and the layers above read
what a store says of itself (`manifest`, `problems`, `fallback`, `refresh`) through this protocol too.
`rag.storage.stores.open_store(spec)` opens one from a command-line spec.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from rag.embedding.embed import EmbedderSpec
from rag.reading.load import Document, LoadError
from rag.text.split import Clause
from rag.text.terms import LexicalConfig


@dataclass(frozen=True)
class DocInfo:
    """A document's metadata as stored in the index (its text is not kept)."""

    doc_id: str
    source: str
    title: str
    sha256: str
    kind: str
    encoding: str = "utf-8"
    date: str | None = None
    doc_number: str | None = None
    issuer: str | None = None
    titled: bool = True
    n_clauses: int = 0
    reader: str = ""  # reader/version;layout/version that extracted it
    pages: tuple[int, ...] = ()  # start offset of each page in the extracted text
    ocr: bool = False
    repeals: tuple[str, ...] = ()
    revised: bool = False
    meta: dict[str, str] = field(default_factory=dict)
    repeal_reports: tuple[tuple[str, str], ...] = ()  # (repealed, repealing) a 解读 reports of other documents

    @classmethod
    def from_document(cls, doc: Document, n_clauses: int) -> DocInfo:
        return cls(
            **{f.name: getattr(doc, f.name) for f in fields(cls) if f.name != "n_clauses"},
            n_clauses=n_clauses,
        )

    @classmethod
    def from_json(cls, rec: dict) -> DocInfo:
        known = {f.name for f in fields(cls)}
        rec = {k: v for k, v in rec.items() if k in known}
        for k in ("pages", "repeals"):
            rec[k] = tuple(rec.get(k) or ())
        rec["repeal_reports"] = tuple(tuple(pair) for pair in rec.get("repeal_reports") or ())
        return cls(**rec)

    def page_of(self, offset: int) -> int | None:
        """1-based page number of a text offset, for paged formats."""
        return bisect.bisect_right(self.pages, offset) if self.pages else None


@dataclass(frozen=True)
class CitationRecord:
    """Clause `clause_id` of document `doc_id` names document `cited` as `mention` writes it;
    `article` is the article cited ("第九条"), None when the whole document is."""

    doc_id: str
    clause_id: str
    mention: str
    cited: str
    article: str | None = None

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "clause_id": self.clause_id, "mention": self.mention, "cited": self.cited,
                "article": self.article}  # fmt: skip

    @classmethod
    def from_dict(cls, row: Mapping) -> CitationRecord:
        """The record `to_dict` wrote.

        Raises:
            ValueError: a field is missing or not a string (`article`: a string or null).
        """
        try:
            values = [row[k] for k in ("doc_id", "clause_id", "mention", "cited")]
            article = row.get("article")
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a citation record: {row!r}") from exc
        if not all(isinstance(v, str) for v in values) or not (article is None or isinstance(article, str)):
            raise ValueError(f"not a citation record: {row!r}")
        return cls(*values, article)


class Supersession(NamedTuple):
    """Why a document is no longer current: the document that replaced it and the evidence."""

    by: str  # doc_id of the replacing document
    reason: str


class Candidate(NamedTuple):
    """One candidate clause of a lexical or dense query and its raw score (higher is better)."""

    clause_id: str
    score: float


@dataclass(frozen=True)
class Scope:
    """Which clauses a query may return.

    `doc_ids` None: every document; otherwise only clauses of these documents. `phrases`:
    only clauses whose text contains every one of them (quoted phrases of the question).
    """

    doc_ids: frozenset[str] | None = None
    phrases: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return self.doc_ids is None and not self.phrases


@dataclass(frozen=True)
class DocChange:
    """One document to upsert, with all its clauses and what indexes them (same order)."""

    info: DocInfo
    clauses: tuple[Clause, ...]
    keys: tuple[str, ...]  # clause_key of each clause's passage text
    tokens: tuple[tuple[str, ...], ...]  # BM25 tokens of each clause's passage text
    vectors: np.ndarray | None = None  # (len(clauses), dim) normalised passage vectors; None: not embedded yet
    windows: np.ndarray | None = None  # (len(window_of), dim) its clauses' sentence-window vectors (with `vectors`)
    window_of: tuple[int, ...] = ()  # the clause (index in `clauses`) of each window row


class Lexicon(NamedTuple):
    """How a store's BM25 tokens are made: the lexical settings and the library's term list (`lexical.terms`)."""

    lexical: LexicalConfig
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Changes:
    """What `Store.apply` does: upsert these documents (replacing all their clauses), delete those, and,
    when given, record a new `lexicon` (the upserted tokens are made with it; the store's others are
    made again), the files left out of the library (`skipped`, shown by `manifest`) and the references
    its clauses make, resolved to the versions they name (`citations`, as `rag.storage.references.build_citations`
    gives them for the library after the change). `window_chars`, when given, is the setting the upserted
    windows were made with; when it is not the store's, every document is upserted (the caller's duty)."""

    upsert: tuple[DocChange, ...] = ()
    delete: tuple[str, ...] = field(default=())
    lexicon: Lexicon | None = None
    skipped: tuple[LoadError, ...] | None = None
    citations: tuple[CitationRecord, ...] | None = None  # the library's references, resolved (None: keep)
    window_chars: int | None = None  # the upserted windows were made for clauses over this many characters


@runtime_checkable
class Store(Protocol):
    """A clause library that search and ingest can use; see the module docstring."""

    spec: EmbedderSpec  # the passage embedder its vectors come from
    dim: int
    lexical: LexicalConfig  # how its BM25 tokens are made (questions are tokenised the same way) …
    terms: tuple[str, ...]  # … with the library's term list, when `lexical.terms`
    problems: Sequence[str]  # damage found when it was opened (non-empty: the next ingest writes it afresh)
    fallback: bool  # an older state is served because the current one is damaged (a folder's generations)
    window_chars: int  # its clauses over this many characters are also scored by sentence windows (0: none)

    @property
    def docs(self) -> Mapping[str, DocInfo]:
        """doc_id -> its metadata."""
        ...

    @property
    def superseded(self) -> Mapping[str, Supersession]:
        """doc_id -> what replaced it, for documents that are no longer current."""
        ...

    @property
    def tiers(self) -> Mapping[str, bool]:
        """Which search tiers ("lexical", "dense") are complete."""
        ...

    @property
    def citations(self) -> Sequence[CitationRecord] | None:
        """The references its clauses make, recorded at ingest (None: a store written before they were)."""
        ...

    @property
    def manifest(self) -> Mapping:
        """What it records of itself: "embedder", "lexical", "skipped" (the files not indexed, each
        {"source", "reason"}); a folder generation's also "created", "dense_index", "counts", …"""
        ...

    def refresh(self) -> bool:
        """Re-read what another process changed; whether anything did (a loaded folder generation never
        changes: `rag.storage.generations.current_key` tells when a newer one is there)."""
        ...

    def __len__(self) -> int:
        """Number of clauses."""
        ...

    def count(self, scope: Scope) -> int:
        """Number of clauses within `scope`."""
        ...

    def lexical_candidates(self, query: str, n: int, scope: Scope) -> list[Candidate]:
        """Up to `n` clauses within `scope` with a positive BM25 score for `query`, best first."""
        ...

    def dense_candidates(self, vector: np.ndarray, n: int, scope: Scope) -> list[Candidate]:
        """Up to `n` clauses within `scope` by inner product with the normalised `vector`, best first: a
        clause scores the best of its own vector and, without quoted phrases in `scope`, its windows' (of
        the `n` best windows in scope)."""
        ...

    def fetch(self, clause_ids: Sequence[str]) -> list[Clause]:
        """The clauses with these ids, in the order asked (unknown ids left out)."""
        ...

    def by_label(self, doc_id: str, label: str) -> list[Clause]:
        """A document's clauses with this label (all parts), in document order."""
        ...

    def doc_clauses(self, doc_id: str) -> list[Clause]:
        """All clauses of one document, in order (none for an unknown document)."""
        ...

    def citing_clauses(self) -> Mapping[str, list[Clause]]:
        """doc_id -> its clauses that may name another document (`rag.storage.references.may_cite`), in order:
        all that resolving the library's references reads, in one pass."""
        ...

    def vectors_of(self, clause_ids: Sequence[str]) -> np.ndarray | None:
        """The normalised vectors of these clauses, (len(clause_ids), dim) in the order asked; None without
        a dense tier or when a clause is unknown."""
        ...

    def apply(self, changes: Changes) -> None:
        """Upsert and delete documents with all their clauses (see `Changes`); durable when it returns."""
        ...
