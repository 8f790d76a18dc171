"""Index: documents -> clauses -> a dense (FAISS) + lexical (BM25) index, saved as a folder.

`ClauseIndex` holds the clause store, the document table, a FAISS inner-product index
over normalised vectors and a bm25s index over jieba tokens. `save(dir)` writes a new
generation folder beside the old one and then switches the `CURRENT` pointer with one
atomic `os.replace`, so a reader never sees a half-written index and a crash leaves the
last complete one in place. Nothing is pickled: JSON/JSONL, numpy and FAISS's own format.

Its parts live beside it: the files of one generation (`folder_format`), the generations,
their pointer, checksums and fallback (`generations`), safe file access (`safe_io`), the
passage rule (`passages`), the dense index factory (`dense`), versions and supersession
(`catalogue`) and the errors (`errors`).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import faiss
import numpy as np
from tqdm.auto import tqdm

from rag.embedding.embed import Embedder, EmbedderSpec
from rag.reading.load import Document, load_file
from rag.storage.cache import CACHE_FILE, ClauseCache, lexical_tokens
from rag.storage.catalogue import superseded_versions
from rag.storage.dense import ANN_THRESHOLD, make_dense, search_rows, stored_vectors
from rag.storage.errors import DamagedGeneration, IndexLoadError
from rag.storage.folder_format import Generation, clauses_digest, read_files, write_files
from rag.storage.generations import (
    MANIFEST,
    check_files,
    load_newest,
    read_manifest,
    read_pointer,
    sound_previous,
    write_generation,
)
from rag.storage.passages import (
    Progress,
    Tokenizer,
    build_terms,
    clause_key,
    clause_tokens,
    embed_in_batches,
    lexical_tokenizer,
    passage_text,
    window_passages,
)
from rag.storage.references import may_cite
from rag.storage.safe_io import lexists
from rag.storage.store import Candidate, Changes, CitationRecord, DocChange, DocInfo, Lexicon, Scope
from rag.storage.store import Supersession as Supersession  # re-exported: callers import it from here too
from rag.text.split import Clause, split_document
from rag.text.terms import LexicalConfig
from rag.text.windows import WINDOW_MIN_CHARS

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)


class ClauseIndex:
    """Clauses of a document library, searchable lexically (BM25) and, once embedded, densely.

    The dense tier may be absent (`dense is None`) while embeddings are still being
    computed; search then uses the lexical tier alone and says so. `lexical` says how the BM25
    tokens were made (term list, title weight); questions are tokenised with the same `terms`.
    """

    def __init__(
        self,
        spec: EmbedderSpec,
        dim: int,
        docs: dict[str, DocInfo],
        clauses: list[Clause],
        keys: list[str],
        dense: faiss.Index | None,
        bm25: bm25s.BM25 | None,
        manifest: dict | None = None,
        lexical: LexicalConfig | None = None,
        terms: Sequence[str] = (),
        citations: Sequence[CitationRecord] | None = None,
        windows: faiss.Index | None = None,
        window_owner: np.ndarray | None = None,
        window_chars: int = 0,
    ):
        self.spec = spec
        self.dim = dim
        self.docs = docs
        self.clauses = clauses
        self.keys = keys
        self.dense = dense
        self.bm25 = bm25
        self.manifest = manifest or {}
        self.lexical = lexical or LexicalConfig()
        self.terms = tuple(terms)  # the library's term list when `lexical.terms` (built at ingest)
        self.citations = None if citations is None else tuple(citations)  # references resolved at ingest
        self.windows = windows  # the sentence windows' vectors (`rag.text.windows`), with the dense tier
        self.window_owner = np.zeros(0, np.int64) if window_owner is None else np.asarray(window_owner, np.int64)
        self.window_chars = window_chars  # clauses over this many characters have windows (0: none)
        self.tokenize: Tokenizer = lexical_tokenizer(self.terms)  # for questions and new clauses alike
        self.problems: list[str] = []  # damage found at load (non-empty: the next ingest writes afresh)
        self.fallback = False  # loaded from the previous generation because the current one is damaged
        self._rows: np.ndarray | None = None  # BM25 rows of the clauses kept after `drop_documents`
        self.directory: Path | None = None  # the index folder it was loaded from (where `apply` saves)
        self._masks: dict[Scope, np.ndarray] = {}  # the last few scopes' clause masks
        self._by_doc: dict[str, list[int]] = {}
        self._by_id: dict[str, int] = {}
        self._reindex()
        self.superseded = superseded_versions(docs.values())

    def _reindex(self) -> None:
        """Rebuild the per-document and per-id row maps after the clause list changed."""
        self._by_doc = {}
        for i, c in enumerate(self.clauses):
            self._by_doc.setdefault(c.doc_id, []).append(i)
        self._by_id = {c.clause_id: i for i, c in enumerate(self.clauses)}
        self._masks = {}

    @property
    def tiers(self) -> dict[str, bool]:
        """Which search tiers are complete."""
        return {"lexical": self.bm25 is not None or not self.clauses, "dense": self.dense is not None}

    # ------------------------------------------------------------------ build

    @classmethod
    def from_parts(
        cls,
        spec: EmbedderSpec,
        dim: int,
        docs: dict[str, DocInfo],
        clauses: list[Clause],
        keys: list[str],
        tokens: list[list[str]],
        vectors: np.ndarray | None,
        manifest: dict | None = None,
        ann_threshold: int = ANN_THRESHOLD,
        lexical: LexicalConfig | None = None,
        terms: Sequence[str] = (),
        window_vectors: np.ndarray | None = None,
        window_owner: Sequence[int] = (),
        window_chars: int = 0,
    ) -> ClauseIndex:
        """Assemble an index from split clauses, their tokens (made with `lexical` and `terms`, see
        `clause_tokens`) and (optionally) their vectors, with their sentence windows' vectors and the clause
        (row) each window belongs to, made for clauses over `window_chars` characters."""
        bm25 = cls._make_bm25(tokens)
        dense, ann = (None, None) if vectors is None else make_dense(vectors, ann_threshold)
        windows, wann = None, None
        if dense is not None and window_vectors is not None and len(window_vectors):
            windows, wann = make_dense(np.ascontiguousarray(window_vectors, np.float32), ann_threshold)
        manifest = {**(manifest or {}), "dense_index": ann, "windows_index": wann}
        return cls(spec, dim, docs, clauses, keys, dense, bm25, manifest, lexical, terms, None, windows,
                   np.asarray(window_owner if windows is not None else (), np.int64), window_chars)  # fmt: skip

    @classmethod
    def empty(cls, spec: EmbedderSpec, dim: int = 0, directory: str | Path | None = None) -> ClauseIndex:
        """A library with no documents that `apply` fills (and saves in `directory`, when given)."""
        idx = cls(spec, dim, {}, [], [], None, None)
        idx.directory = Path(directory) if directory is not None else None
        return idx

    @classmethod
    def build(
        cls,
        documents: Iterable[Document],
        embedder: Embedder,
        *,
        batch_size: int = 32,
        show_progress: bool = True,
        progress: Progress | None = None,
        lexical: LexicalConfig | None = None,
        windows: int = WINDOW_MIN_CHARS,
    ) -> ClauseIndex:
        """Split, tokenise, embed and index `documents` in memory (no cache; see `rag.ingest.pipeline`).

        Args:
            documents: loaded documents (see `rag.reading.load`).
            embedder: the passage embedder; its spec is recorded in the manifest.
            batch_size: clauses per embedding call.
            show_progress: show tqdm progress bars.
            progress: called as progress(done, total) while embedding.
            lexical: how the BM25 side is built (default: plain; see `LexicalConfig`).
            windows: clauses over this many characters are also embedded as sentence windows (0: none).
        """
        lexical = lexical or LexicalConfig()
        docs: dict[str, DocInfo] = {}
        clauses: list[Clause] = []
        texts: list[str] = []
        for doc in documents:
            cs = split_document(doc)
            docs[doc.doc_id] = DocInfo.from_document(doc, len(cs))
            clauses.extend(cs)
            texts.extend(passage_text(doc, c) for c in cs)
        terms = build_terms(docs.values(), clauses, lexical)
        tok = lexical_tokenizer(terms)
        bar = tqdm(clauses, desc="tokenise", unit="clause", disable=not show_progress)
        tokens = [clause_tokens(docs[c.doc_id], c, lexical, tok) for c in bar]
        owner, wtexts = [], []
        for i, c in enumerate(clauses):
            for w in window_passages(docs[c.doc_id], c, windows):
                owner.append(i)
                wtexts.append(w)
        vectors = embed_in_batches(embedder, texts + wtexts, batch_size, show_progress, progress)
        keys = [clause_key(t) for t in texts]
        return cls.from_parts(embedder.spec, embedder.dim, docs, clauses, keys, tokens, vectors[: len(texts)],
                              lexical=lexical, terms=terms, window_vectors=vectors[len(texts) :], window_owner=owner,
                              window_chars=windows)  # fmt: skip

    @staticmethod
    def _make_bm25(tokens: list[list[str]]) -> bm25s.BM25 | None:
        if not tokens:
            return None
        bm25 = bm25s.BM25()
        bm25.index([t or [""] for t in tokens], show_progress=False)
        return bm25

    def clause_tokens(self, info: DocInfo, clause: Clause) -> list[str]:
        """A clause's BM25 tokens as this index makes them (its lexical settings and term list)."""
        return clause_tokens(info, clause, self.lexical, self.tokenize)

    def vectors(self) -> np.ndarray | None:
        """All clause vectors in clause order (None without a dense tier)."""
        return None if self.dense is None else stored_vectors(self.dense)

    def window_vectors(self) -> np.ndarray:
        """All sentence-window vectors, in the order of `window_owner` ((0, dim) when there are none)."""
        return np.zeros((0, self.dim), np.float32) if self.windows is None else stored_vectors(self.windows)

    # ------------------------------------------------------------------ search primitives

    def vectors_of(self, clause_ids: Sequence[str]) -> np.ndarray | None:
        """The vectors of these clauses in the order asked (None without a dense tier or for an unknown id)."""
        if self.dense is None or not all(i in self._by_id for i in clause_ids):
            return None
        if isinstance(self.dense, faiss.IndexIVF):
            self.dense.make_direct_map()
        return self.dense.reconstruct_batch(np.array([self._by_id[i] for i in clause_ids], np.int64))

    def __len__(self) -> int:
        return len(self.clauses)

    def mask_for(self, doc_ids: Iterable[str]) -> np.ndarray:
        """Boolean mask over clauses that belong to `doc_ids`."""
        mask = np.zeros(len(self.clauses), dtype=bool)
        for d in doc_ids:
            mask[self._by_doc.get(d, [])] = True
        return mask

    def lexical_scores(self, query: str) -> np.ndarray:
        """BM25 score of every clause for `query` (zeros when no query token is known)."""
        if self.bm25 is None:
            return np.zeros(0, dtype=np.float32)
        toks = [t for t in self.tokenize(query) if t in self.bm25.vocab_dict]
        if not toks:
            return np.zeros(len(self.clauses), dtype=np.float32)
        scores = np.asarray(self.bm25.get_scores(toks), dtype=np.float32)
        return scores if self._rows is None else scores[self._rows]

    def dense_search(self, qvec: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k clauses by inner product with the normalised query vector (whole clauses): (scores, ids)."""
        if self.dense is None:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        return search_rows(self.dense, qvec, k, mask)

    def doc_clauses(self, doc_id: str) -> list[Clause]:
        """All clauses of one document, in order."""
        return [self.clauses[i] for i in self._by_doc.get(doc_id, [])]

    def neighbours(self, clause: Clause, n: int = 1) -> list[Clause]:
        """The clause with up to `n` clauses either side of it in its document."""
        ids = self._by_doc.get(clause.doc_id, [])
        pos = clause.ordinal
        return [self.clauses[i] for i in ids[max(0, pos - n) : pos + n + 1]]

    # ------------------------------------------------------------------ the Store protocol (rag.storage.store)

    def scope_mask(self, scope: Scope) -> np.ndarray | None:
        """Boolean mask over clauses within `scope` (None: every clause); the last few are memoised."""
        if scope.everything:
            return None
        mask = self._masks.get(scope)
        if mask is None:
            mask = self.mask_for(scope.doc_ids) if scope.doc_ids is not None else np.ones(len(self.clauses), bool)
            if scope.phrases:
                exact = np.fromiter((all(p in c.text for p in scope.phrases) for c in self.clauses), bool,
                                    count=len(self.clauses))  # fmt: skip
                mask = mask & exact
            if len(self._masks) >= 8:
                self._masks.pop(next(iter(self._masks)))
            self._masks[scope] = mask
        return mask

    def count(self, scope: Scope) -> int:
        """Number of clauses within `scope`."""
        mask = self.scope_mask(scope)
        return len(self.clauses) if mask is None else int(mask.sum())

    def lexical_candidates(self, query: str, n: int, scope: Scope) -> list[Candidate]:
        """Up to `n` clauses within `scope` with a positive BM25 score for `query`, best first."""
        scores = self.lexical_scores(query)
        mask = self.scope_mask(scope)
        if mask is not None and len(scores):
            scores = np.where(mask, scores, 0)
        top = np.argpartition(-scores, n)[:n] if len(scores) > n else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        top = top[scores[top] > 0]
        return [Candidate(self.clauses[i].clause_id, float(scores[i])) for i in top]

    def dense_candidates(self, vector: np.ndarray, n: int, scope: Scope) -> list[Candidate]:
        """Up to `n` clauses within `scope` by inner product with the normalised `vector`, best first."""
        mask = self.scope_mask(scope)
        scores, ids = self.dense_search(vector, n, mask)
        best = dict(zip(ids.tolist(), scores.tolist()))
        if self.windows is not None and not scope.phrases and n > 0:
            wscores, wids = search_rows(self.windows, vector, n, None if mask is None else mask[self.window_owner])
            for s, w in zip(wscores.tolist(), wids.tolist()):
                row = int(self.window_owner[w])
                best[row] = max(s, best.get(row, -np.inf))
        top = sorted(best.items(), key=lambda rs: (-rs[1], rs[0]))[:n]
        return [Candidate(self.clauses[i].clause_id, float(s)) for i, s in top]

    def citing_clauses(self) -> dict[str, list[Clause]]:
        """doc_id -> its clauses that may name another document, in order."""
        out: dict[str, list[Clause]] = {}
        for c in self.clauses:
            if may_cite(c.text):
                out.setdefault(c.doc_id, []).append(c)
        return out

    def fetch(self, clause_ids: Sequence[str]) -> list[Clause]:
        """The clauses with these ids, in the order asked (unknown ids left out)."""
        return [self.clauses[self._by_id[i]] for i in clause_ids if i in self._by_id]

    def by_label(self, doc_id: str, label: str) -> list[Clause]:
        """A document's clauses with this label (all parts), in document order."""
        return [self.clauses[i] for i in self._by_doc.get(doc_id, []) if self.clauses[i].label == label]

    def refresh(self) -> bool:
        """A loaded generation never changes (`rag.storage.generations.current_key` tells when a newer one is
        there): False."""
        return False

    def apply(self, changes: Changes) -> None:
        """Upsert and delete documents in memory, then save a generation when loaded from a folder.

        The library stays ordered by source. Kept clauses keep their vectors and get their BM25 tokens
        from the clause cache in the folder (made when missing, with `changes.lexicon` when given); the
        upserted ones take the tokens and vectors the changes carry. The dense tier stays only when every
        clause has a vector. The recorded references (`citations`) become the changes' when given, stay when
        no document changes, else are forgotten (built on demand until the next ingest records them). A caller
        that may race an ingest holds `rag.ingest.pipeline.writer_lock(directory)`.
        """
        lexicon = changes.lexicon or Lexicon(self.lexical, self.terms)
        gone = set(changes.delete) | {d.info.doc_id for d in changes.upsert}
        vectors, wvectors = self.vectors(), self.window_vectors()
        windows_of: dict[int, list[int]] = {}  # clause row -> its window rows
        for w, r in enumerate(self.window_owner.tolist()):
            windows_of.setdefault(r, []).append(w)
        parts: list[DocChange] = []
        for info in self.docs.values():
            if info.doc_id not in gone:
                rows = self._by_doc.get(info.doc_id, [])
                wrows = [(k, w) for k, r in enumerate(rows) for w in windows_of.get(r, [])]
                parts.append(DocChange(info, tuple(self.clauses[i] for i in rows), tuple(self.keys[i] for i in rows),
                                       (), vectors[rows] if vectors is not None else None,
                                       wvectors[[w for _, w in wrows]], tuple(k for k, _ in wrows)))  # fmt: skip
        parts += changes.upsert
        parts.sort(key=lambda p: (p.info.source, p.info.doc_id))
        kept_ids = {p.info.doc_id for p in parts} - {d.info.doc_id for d in changes.upsert}
        docs = {p.info.doc_id: p.info for p in parts}
        clauses = [c for p in parts for c in p.clauses]
        kept = [c for p in parts if p.info.doc_id in kept_ids for c in p.clauses]
        made = iter(self._kept_tokens(docs, kept, lexicon))
        tokens: list[list[str]] = []
        for p in parts:
            tokens += [next(made) for _ in p.clauses] if p.info.doc_id in kept_ids else [list(t) for t in p.tokens]
        with_vectors = [p for p in parts if p.clauses]
        stacked, dim, wstacked, owner = None, self.dim, None, []
        if all(p.vectors is not None for p in with_vectors):
            dim = dim or (int(np.shape(with_vectors[0].vectors)[1]) if with_vectors else 0)
            rows = [np.asarray(p.vectors, np.float32).reshape(len(p.clauses), dim) for p in with_vectors]
            stacked = np.concatenate(rows) if rows else np.zeros((0, dim), np.float32) if dim else None
            wrows, start = [], 0
            for p in with_vectors:
                if p.windows is not None and len(p.window_of):
                    wrows.append(np.asarray(p.windows, np.float32).reshape(len(p.window_of), dim))
                    owner += [start + k for k in p.window_of]
                start += len(p.clauses)
            wstacked = np.concatenate(wrows) if wrows else None
        manifest = dict(self.manifest)
        if changes.skipped is not None:
            manifest["skipped"] = [{"source": e.source, "reason": e.reason} for e in changes.skipped]
        chars = self.window_chars if changes.window_chars is None else changes.window_chars
        fresh = ClauseIndex.from_parts(self.spec, dim, docs, clauses, [k for p in parts for k in p.keys], tokens,
                                       stacked, manifest, lexical=lexicon.lexical, terms=lexicon.terms,
                                       window_vectors=wstacked, window_owner=owner, window_chars=chars)  # fmt: skip
        if changes.citations is not None:
            fresh.citations = tuple(changes.citations)
        elif not (changes.upsert or changes.delete):
            fresh.citations = self.citations  # the same documents: the references still hold
        directory, self.__dict__ = self.directory, fresh.__dict__
        self.directory = directory
        if directory is not None:
            self.save(directory)

    def _kept_tokens(self, docs: dict[str, DocInfo], clauses: list[Clause], lexicon: Lexicon) -> list[list[str]]:
        """The BM25 tokens of clauses already held: from the clause cache in the index folder (made when missing)."""
        if not clauses:
            return []
        if self.directory is None:
            tok = lexical_tokenizer(lexicon.terms)
            return [clause_tokens(docs[c.doc_id], c, lexicon.lexical, tok) for c in clauses]
        with ClauseCache(self.directory / CACHE_FILE) as cache:
            return lexical_tokens(cache, docs, clauses, lexicon.lexical, lexicon.terms)

    # ------------------------------------------------------------------ integrity

    def drop_documents(self, doc_ids: Iterable[str]) -> None:
        """Remove documents and their clauses from this in-memory index (nothing is written).

        Used when a document's stored clauses fail their digest: its text is never served.
        The dense tier is rebuilt exactly from the kept vectors; BM25 keeps its statistics
        and maps scores to the kept clauses. The next ingest writes a clean generation.
        """
        drop = set(doc_ids)
        keep = [i for i, c in enumerate(self.clauses) if c.doc_id not in drop]
        if len(keep) == len(self.clauses) and not drop & set(self.docs):
            return
        if self.dense is not None:
            vecs = self.vectors()[keep] if keep else np.zeros((0, self.dim), np.float32)
            self.dense = faiss.IndexFlatIP(self.dim)
            if len(vecs):
                self.dense.add(np.ascontiguousarray(vecs, dtype=np.float32))
        if self.windows is not None:
            new_row = np.full(len(self.clauses), -1, np.int64)
            new_row[keep] = np.arange(len(keep))
            wkeep = np.flatnonzero(new_row[self.window_owner] >= 0)
            wvecs = self.window_vectors()[wkeep]
            self.windows = faiss.IndexFlatIP(self.dim) if len(wkeep) else None
            if self.windows is not None:
                self.windows.add(np.ascontiguousarray(wvecs, dtype=np.float32))
            self.window_owner = new_row[self.window_owner[wkeep]]
        rows = np.asarray(keep, dtype=np.int64)
        self._rows = rows if self._rows is None else self._rows[rows]
        self.clauses = [self.clauses[i] for i in keep]
        self.keys = [self.keys[i] for i in keep]
        self.docs = {k: v for k, v in self.docs.items() if k not in drop}
        self._reindex()
        self.superseded = superseded_versions(self.docs.values())

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path) -> Path:
        """Write the index as a new generation under `directory` and switch to it atomically.

        Returns the generation folder. Older generations but the previous one are removed.

        Raises:
            DiskFullError: no space left; the temporary folder is removed, the previous
                generation stays current.
            UnsafeIndexError: the pointer's temporary file is a planted symlink or not a file.
        """
        return write_generation(directory, self._write)

    def _write(self, d: Path, where: list[str]) -> None:
        """Write every file of a generation into `d`, appending each file's path to `where` before writing it."""
        gen = Generation(self.spec, self.dim, self.docs, self.clauses, self.keys, self.dense, self.bm25, self.manifest,
                         self.lexical, self.terms, self.citations, self.windows, self.window_owner,
                         self.window_chars)  # fmt: skip
        write_files(d, where, gen, self.tiers)

    @classmethod
    def load(cls, directory: str | Path, expect: EmbedderSpec | None = None, full: bool = False) -> ClauseIndex:
        """Load the current generation under `directory` (or a generation folder itself).

        Files are checked cheaply first (regular files, not symlinks or FIFOs, sizes as the
        manifest records). A damaged current generation falls back to the previous complete
        one with a logged warning (`problems` then says what is damaged; the next ingest
        rebuilds). A document whose stored clauses fail their digest is re-split from its
        source when that is a .txt/.md file still as indexed, else left out of the results.
        With `full`, every file's sha256 is checked too (what ingest does before reusing anything).

        Raises:
            IndexLoadError: no usable generation there, another format version, another chunker,
                or (when `expect` is given) another embedder; the message says what to run.
        """
        root = Path(directory)
        if lexists(root / MANIFEST):  # a generation folder itself: nothing to fall back to
            try:
                return cls._load_generation(root, root, expect, full)
            except DamagedGeneration as exc:
                raise IndexLoadError(f"{exc}. Rebuild it: rag ingest PATH... --index {root}") from None
        idx, problems, gen = load_newest(root, lambda d: cls._load_generation(d, root, expect, full))
        if problems:
            logger.warning(
                "index %s is damaged: %s. Searching the previous complete generation %s instead; "
                "the next `rag ingest` rebuilds the index.", root, "; ".join(problems), gen,
            )  # fmt: skip
            idx.problems = problems + idx.problems
            idx.fallback = True
        idx.directory = root
        return idx

    @classmethod
    def _load_generation(cls, d: Path, root: Path, expect: EmbedderSpec | None, full: bool = False) -> ClauseIndex:
        """Load one generation folder; `DamagedGeneration` when any of its files is unusable."""
        gen, digests = read_files(d, root, expect, full)
        idx = cls(*gen)
        idx._check_digests(digests)
        return idx

    def _check_digests(self, digests: dict[str, str]) -> None:
        """Clauses that do not hash to their document's digest are re-split from the source or dropped."""
        bad = [d for d, want in digests.items() if clauses_digest(self.doc_clauses(d)) != want]
        dropped = []
        for doc_id in bad:
            info = self.docs[doc_id]
            fresh = _resplit_source(info)
            ids = self._by_doc.get(doc_id, [])
            if fresh is not None and clauses_digest(fresh) == digests[doc_id] and len(fresh) == len(ids):
                for i, c in zip(ids, fresh):
                    self.clauses[i] = c
                msg = f"clauses of {info.source} were altered in the index; re-read from the source"
            else:
                dropped.append(doc_id)
                msg = (f"clauses of {info.source} were altered in the index; the document is left out of "
                       "results until the next `rag ingest` re-reads it")  # fmt: skip
            logger.warning(msg)
            self.problems.append(msg)
        self.drop_documents(dropped)


def _resplit_source(info: DocInfo) -> list[Clause] | None:
    """A .txt/.md document's clauses split again from its source, if the source is still the file indexed."""
    if info.kind not in ("txt", "md"):
        return None
    try:
        st = os.lstat(info.source)
        if not stat.S_ISREG(st.st_mode):
            return None
        doc = load_file(info.source)
    except (OSError, ValueError):
        return None
    if doc.sha256 != info.sha256 or doc.doc_id != info.doc_id:
        return None
    return split_document(doc)


def verify(index_dir: str | Path, full: bool = True) -> list[str]:
    """Problems with the index at `index_dir`, for `rag verify`; empty when it is sound.

    Checks the `CURRENT` pointer, the current generation's manifest and files (sizes; with
    `full`, sha256 too) and every document's clause digest. Reads nothing it should not
    (no symlinks, FIFOs or oversized files).
    """
    root = Path(index_dir)
    if lexists(root / MANIFEST):
        return _verify_generation(root, root, full)
    name, bad = read_pointer(root)
    problems = [bad] if bad else [] if name else [f"no index in {root}/"]
    if name:
        problems += _verify_generation(root / name, root, full)
    if problems:
        keep = sound_previous(root, name or "", None)
        problems.append(
            f"the previous generation {keep} is intact: searches use it until `rag ingest` rebuilds the index"
            if keep
            else f"no intact generation is left: rebuild with rag ingest PATH... --index {root}"
        )
    return problems


def _verify_generation(d: Path, root: Path, full: bool) -> list[str]:
    """Problems with one generation folder: manifest, files, clause digests."""
    try:
        manifest = read_manifest(d)
    except DamagedGeneration as exc:
        return [str(exc)]
    problems = check_files(d, manifest, full)
    if problems:
        return problems
    try:
        idx = ClauseIndex._load_generation(d, root, None)
    except IndexLoadError as exc:
        return [str(exc)]
    return [p for p in idx.problems]

