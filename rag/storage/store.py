"""Store: what search and ingest need from a clause library, whatever holds it.

Two stores implement `Store`: the folder index (`rag.storage.index.ClauseIndex`, FAISS +
bm25s + JSONL generations) and Milvus (`rag.storage.milvus.MilvusStore`, milvus-lite file
or server). Everything above — fusion, named-clause lookup, versions, highlighting — lives in
`rag.search.retrieve` once and talks to a store only through this protocol.

A scope (`Scope`) says which clauses a candidate query may return: those of some documents
(computed above from the documents' metadata: filters, types, years, current/superseded) and,
optionally, only clauses containing every quoted phrase.

`rag.storage.stores.open_store(spec)` opens one from a command-line spec.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

import numpy as np

from rag.embedding.embed import EmbedderSpec
from rag.text.split import Clause

if TYPE_CHECKING:  # pragma: no cover
    from rag.storage.index import DocInfo, Supersession


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


@dataclass(frozen=True)
class Changes:
    """What `Store.apply` does: upsert these documents (replacing all their clauses), delete those."""

    upsert: tuple[DocChange, ...] = ()
    delete: tuple[str, ...] = field(default=())


@runtime_checkable
class Store(Protocol):
    """A clause library that search and ingest can use; see the module docstring."""

    spec: EmbedderSpec  # the passage embedder its vectors come from
    dim: int

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
        """Up to `n` clauses within `scope` by inner product with the normalised `vector`, best first."""
        ...

    def fetch(self, clause_ids: Sequence[str]) -> list[Clause]:
        """The clauses with these ids, in the order asked (unknown ids left out)."""
        ...

    def by_label(self, doc_id: str, label: str) -> list[Clause]:
        """A document's clauses with this label (all parts), in document order."""
        ...

    def apply(self, changes: Changes) -> None:
        """Upsert and delete documents with all their clauses; durable when it returns."""
        ...
