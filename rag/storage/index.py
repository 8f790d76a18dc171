"""Index: documents -> clauses -> a dense (FAISS) + lexical (BM25) index, saved as a folder.

`ClauseIndex` holds the clause store, the document table, a FAISS inner-product index
over normalised vectors and a bm25s index over jieba tokens. `save(dir)` writes a new
generation folder beside the old one and then switches the `CURRENT` pointer with one
atomic `os.replace`, so a reader never sees a half-written index and a crash leaves the
last complete one in place. Nothing is pickled: JSON/JSONL, numpy and FAISS's own format.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import bm25s
import faiss
import numpy as np
from tqdm.auto import tqdm

from rag import __version__
from rag.embedding.embed import Embedder, EmbedderSpec
from rag.reading.load import Document, load_file, normalise_title
from rag.storage.cache import DiskFullError as DiskFullError  # raised by save as well as by the cache
from rag.storage.store import Candidate, Changes, DocChange, DocInfo, Scope, Supersession
from rag.text.gongwen import wrapped_title
from rag.text.split import CHUNKER_VERSION, Clause, split_document
from rag.text.terms import MAX_TERMS, TERMS_VERSION, LexicalConfig, library_terms, term_tokenizer, valid_term
from rag.text.tokens import tokenize

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

FORMAT_VERSION = 2  # 2: the lexical settings (`LexicalConfig`) and the library's term list (terms.json)
READ_FORMATS = (1, 2)  # a version-1 index is a plain lexical one and reads as such
MANIFEST = "manifest.json"
TERMS_FILE = "terms.json"
VERSIONS_DIR = ".versions"  # where the app keeps replaced library files
CURRENT = "CURRENT"


class IndexLoadError(RuntimeError):
    """An index folder that cannot be used as it is; the message says what to do."""


class UnsafeIndexError(IndexLoadError, ValueError):
    """An index folder holding something that could make rag write outside it or hang (a planted
    symlink, a FIFO, a pointer out of the folder); refused rather than followed."""


class _Damaged(IndexLoadError):
    """One generation folder is damaged (missing, truncated, altered or unsafe file)."""


def disk_full(what: str | Path) -> DiskFullError:
    """The clear error for ENOSPC while writing `what`."""
    return DiskFullError(
        errno.ENOSPC,
        f"no space left on device while writing {what}; free space and run the ingest again — "
        "the previous index is intact",
    )


MAX_MANIFEST_BYTES = 64 << 20  # a manifest is a few KB per thousand documents
MAX_POINTER_BYTES = 4096
_GEN_NAME = re.compile(r"gen-[0-9A-Za-z_.-]+")
_SAFE_PART = re.compile(r"[0-9A-Za-z_.-]+")


def superseded_versions(docs: Iterable[DocInfo]) -> dict[str, Supersession]:
    """doc_id -> what replaced it, for documents that are no longer current.

    The strongest evidence is a document that says so: "《…》（甬民发〔2021〕15号）同时废止" names
    the title or the 文号 of the one it repeals (never a newer one); a title also names the
    document an 印发 notice of that title wraps. A repeal that a third document reports (a 解读:
    "《Y》自…施行，《X》同时废止") makes X superseded by Y, the document that repeals it, when Y is
    in the library (its newest version), never by the report. Otherwise documents with the
    same real title (ignoring 中华人民共和国, dates and 修订/修正 marks) and the same issuer
    where known are versions of one another: the latest date is current, or, on the same date,
    the one marked 修订/修正. Documents of one title and one date with no revision mark (the
    parts of a code) are not versions of each other. A file a librarian replaced in the app is kept
    as `<library>/.versions/<stamp>/<name>` and is superseded by the file now at `<library>/<name>`.
    """
    docs = list(docs)
    out: dict[str, Supersession] = {}
    by_title: dict[str, list[DocInfo]] = {}
    by_name: dict[str, list[DocInfo]] = {}  # its title, its number, the title of the document it wraps
    for d in docs:
        by_title.setdefault(normalise_title(d.title), []).append(d)
        names = {normalise_title(d.title), normalise_title(wrapped_title(d.title) or d.title), d.doc_number}
        for name in names - {None, ""}:
            by_name.setdefault(name, []).append(d)

    def named(ref: str) -> list[DocInfo]:
        found = by_name.get(ref, []) + by_name.get(normalise_title(ref), [])
        return list({d.doc_id: d for d in found}.values())

    def repeal(a: DocInfo, ref: str, why: str) -> None:
        for b in named(ref):
            if b.doc_id != a.doc_id and not (a.date and b.date and b.date > a.date) and b.doc_id not in out:
                out[b.doc_id] = Supersession(a.doc_id, why)

    for a in docs:
        for ref in a.repeals:
            what = f"《{a.title}》" + (f"（{a.doc_number}）" if a.doc_number else "")
            repeal(a, ref, f"{what}明确废止了它（“{ref}”）")
    for r in docs:  # repeals reported by a third document: the repealing one replaces, if it is here
        for ref, agent in r.repeal_reports:
            candidates = [d for d in named(agent) if d.doc_id != r.doc_id]
            if candidates:
                a = max(candidates, key=lambda d: (d.date or "", d.revised))
                what = f"《{a.title}》" + (f"（{a.doc_number}）" if a.doc_number else "")
                repeal(a, ref, f"{what}废止了它（据《{r.title}》：“{ref}”）")
    by_source = {str(Path(d.source)): d for d in docs}
    for d in docs:  # a file a librarian replaced, kept as <library>/.versions/<stamp>/<name>
        parts = Path(d.source).parts
        if VERSIONS_DIR in parts[:-2] and d.doc_id not in out:
            at = len(parts) - 1 - parts[::-1].index(VERSIONS_DIR)
            current = by_source.get(str(Path(*parts[:at], *parts[at + 2 :])))
            if current is not None:
                out[d.doc_id] = Supersession(current.doc_id, f"被替换下来的旧版本（{parts[at + 1]} 替换）")
    for group in by_title.values():
        issuers = {d.issuer for d in group if d.issuer}
        if len(group) < 2 or len(issuers) > 1:
            continue
        dated = [d for d in group if d.date]
        if len({(d.date, d.revised) for d in dated}) < 2:
            continue
        newest = max(dated, key=lambda d: (d.date, d.revised))
        for d in dated:
            if d.doc_id not in out and (d.date, d.revised) < (newest.date, newest.revised):
                why = "修订版" if newest.revised and newest.date == d.date else f"{newest.date} 的新版本"
                out[d.doc_id] = Supersession(newest.doc_id, f"同名文件《{newest.title}》有{why}")
    return out


def field_texts(doc: Document | DocInfo, clause: Clause) -> tuple[str, str]:
    """A clause's two lexical fields: its document's title with its heading path, and its text.

    A title taken from the file name is left out, so renaming a file changes no clause's
    indexed text (and re-embeds nothing).
    """
    title = doc.title if doc.titled else ""
    return f"{title} {' '.join(clause.headings)}", clause.text


def passage_text(doc: Document | DocInfo, clause: Clause) -> str:
    """What gets embedded and BM25-indexed for a clause: its document's title and its path, then its text."""
    head, body = field_texts(doc, clause)
    return f"{head}\n{body}"


Tokenizer = Callable[[str], list[str]]


def lexical_tokenizer(terms: Sequence[str]) -> Tokenizer:
    """The tokeniser of an index with this term list: jieba with the terms, or, with none, the plain one."""
    return term_tokenizer(terms) if terms else tokenize


def clause_tokens(doc: Document | DocInfo, clause: Clause, lexical: LexicalConfig, tokenizer: Tokenizer) -> list[str]:
    """A clause's BM25 tokens: its passage text's, with the title and heading path's repeated
    `lexical.title_weight` times (once: exactly the passage text's tokens)."""
    if lexical.title_weight == 1:
        return tokenizer(passage_text(doc, clause))
    head, body = field_texts(doc, clause)
    return tokenizer(head) * lexical.title_weight + tokenizer(body)


def build_terms(docs: Iterable[Document | DocInfo], clauses: Iterable[Clause], lexical: LexicalConfig) -> list[str]:
    """The term list an index with `lexical` settings holds: the library's (`library_terms`) or none."""
    if not lexical.terms:
        return []
    return library_terms([d.title for d in docs if d.titled], [c.text for c in clauses])


def clause_key(text: str) -> str:
    """Content key of a clause's indexed text (for caches and reuse)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


Progress = Callable[[int, int], None]  # (done, total)


def embed_in_batches(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int = 32,
    show_progress: bool = True,
    progress: Progress | None = None,
) -> np.ndarray:
    """Passage embeddings of `texts`, batched by similar length, in input order.

    `progress(done, total)` is called after each batch (for UIs without a terminal).
    """
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with tqdm(total=len(texts), desc="embed", unit="clause", disable=not show_progress) as bar:
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            out[idx] = embedder.embed_passages([texts[i] for i in idx])
            bar.update(len(idx))
            if progress:
                progress(min(b + batch_size, len(texts)), len(texts))
    return out


ANN_THRESHOLD = 100_000  # clauses; above it the dense tier is approximate (flat p50 grows ~0.3 ms per 1k; see README)


def make_dense(
    vectors: np.ndarray, threshold: int = ANN_THRESHOLD, target_recall: float = 0.97
) -> tuple[faiss.Index, dict]:
    """A FAISS inner-product index over normalised `vectors`, and a description of it.

    Exact (flat) up to `threshold` vectors. Above it, IVF with a flat store: k-means
    lists trained on a sample, and the smallest `nprobe` whose recall@10 against exact
    search reaches `target_recall` on held-out queries (that recall is returned).
    """
    n, dim = vectors.shape
    if n <= threshold:
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return index, {"kind": "flat", "recall_at_10": 1.0}
    nlist = min(int(4 * np.sqrt(n)), 4096)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = 10
    rng = np.random.default_rng(0)
    index.train(vectors[rng.choice(n, size=min(n, 50 * nlist), replace=False)])
    index.add(vectors)
    queries = _probe_queries(vectors)
    _, exact = _exact_topk(vectors, queries, 10)
    recall = 0.0
    for nprobe in (8, 16, 32, 64, 128, 256, 512):
        index.nprobe = nprobe
        _, got = index.search(queries, 10)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, got)]))
        if recall >= target_recall:
            break
    return index, {"kind": f"ivf{nlist},flat", "nprobe": index.nprobe, "recall_at_10": round(recall, 4)}


def _probe_queries(vectors: np.ndarray, count: int = 200) -> np.ndarray:
    """Queries that are not stored points: normalised midpoints of random pairs."""
    rng = np.random.default_rng(1)
    a = vectors[rng.integers(len(vectors), size=count)]
    b = vectors[rng.integers(len(vectors), size=count)]
    q = (a + b).astype(np.float32)
    faiss.normalize_L2(q)
    return q


def _exact_topk(vectors: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    return flat.search(q, k)


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
        self.tokenize: Tokenizer = lexical_tokenizer(self.terms)  # for questions and new clauses alike
        self.problems: list[str] = []  # damage found at load (non-empty: the next ingest writes afresh)
        self.fallback = False  # loaded from the previous generation because the current one is damaged
        self._rows: np.ndarray | None = None  # BM25 rows of the clauses kept after `drop_documents`
        self._writing: list[str] = []  # files written by the running save, the last one in progress
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
    ) -> ClauseIndex:
        """Assemble an index from split clauses, their tokens (made with `lexical` and `terms`, see
        `clause_tokens`) and (optionally) their vectors."""
        bm25 = cls._make_bm25(tokens)
        dense, ann = (None, None) if vectors is None else make_dense(vectors, ann_threshold)
        manifest = {**(manifest or {}), "dense_index": ann}
        return cls(spec, dim, docs, clauses, keys, dense, bm25, manifest, lexical, terms)

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
    ) -> ClauseIndex:
        """Split, tokenise, embed and index `documents` in memory (no cache; see `rag.ingest.pipeline`).

        Args:
            documents: loaded documents (see `rag.reading.load`).
            embedder: the passage embedder; its spec is recorded in the manifest.
            batch_size: clauses per embedding call.
            show_progress: show tqdm progress bars.
            progress: called as progress(done, total) while embedding.
            lexical: how the BM25 side is built (default: plain; see `LexicalConfig`).
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
        vectors = embed_in_batches(embedder, texts, batch_size, show_progress, progress)
        keys = [clause_key(t) for t in texts]
        return cls.from_parts(embedder.spec, embedder.dim, docs, clauses, keys, tokens, vectors, lexical=lexical,
                              terms=terms)  # fmt: skip

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
        if self.dense is None:
            return None
        if isinstance(self.dense, faiss.IndexIVF):
            self.dense.make_direct_map()
        return self.dense.reconstruct_n(0, self.dense.ntotal)

    # ------------------------------------------------------------------ search primitives

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
        """Top-k clauses by inner product with the normalised query vector: (scores, ids)."""
        k = min(k, len(self.clauses))
        if k <= 0 or self.dense is None:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        q = np.asarray(qvec, dtype=np.float32).reshape(1, -1)
        params = None
        if mask is not None:
            allowed = np.flatnonzero(mask).astype(np.int64)
            if len(allowed) == 0:
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            sel = faiss.IDSelectorBatch(allowed)
            if isinstance(self.dense, faiss.IndexIVF):
                params = faiss.SearchParametersIVF(sel=sel, nprobe=self.dense.nprobe)
            else:
                params = faiss.SearchParameters(sel=sel)
            k = min(k, len(allowed))
        scores, ids = self.dense.search(q, k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

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
        scores, ids = self.dense_search(vector, n, self.scope_mask(scope))
        return [Candidate(self.clauses[i].clause_id, float(s)) for s, i in zip(scores, ids)]

    def fetch(self, clause_ids: Sequence[str]) -> list[Clause]:
        """The clauses with these ids, in the order asked (unknown ids left out)."""
        return [self.clauses[self._by_id[i]] for i in clause_ids if i in self._by_id]

    def by_label(self, doc_id: str, label: str) -> list[Clause]:
        """A document's clauses with this label (all parts), in document order."""
        return [self.clauses[i] for i in self._by_doc.get(doc_id, []) if self.clauses[i].label == label]

    def apply(self, changes: Changes) -> None:
        """Upsert and delete documents in memory, then save a generation when loaded from a folder.

        Unchanged clauses keep their BM25 tokens (re-tokenised from their passage text) and
        vectors; the dense tier stays only when every clause has a vector. The term list stays as
        the last ingest built it, and upserted clauses are tokenised with it (a plain index takes
        the tokens the changes carry). A caller that may race an ingest holds
        `rag.ingest.pipeline.writer_lock(directory)` around it.
        """
        gone = set(changes.delete) | {d.info.doc_id for d in changes.upsert}
        vectors = self.vectors()
        keep = [i for i, c in enumerate(self.clauses) if c.doc_id not in gone]
        docs = {k: v for k, v in self.docs.items() if k not in gone}
        clauses = [self.clauses[i] for i in keep]
        keys = [self.keys[i] for i in keep]
        tokens = [self.clause_tokens(self.docs[c.doc_id], c) for c in clauses]
        vecs = [vectors[keep]] if vectors is not None else None
        for d in changes.upsert:
            docs[d.info.doc_id] = d.info
            clauses += d.clauses
            keys += d.keys
            if self.lexical.plain:
                tokens += [list(t) for t in d.tokens]
            else:
                tokens += [self.clause_tokens(d.info, c) for c in d.clauses]
            if vecs is not None and d.vectors is not None and len(d.clauses):
                vecs.append(np.asarray(d.vectors, dtype=np.float32).reshape(len(d.clauses), self.dim))
            elif d.clauses:
                vecs = None
        stacked = None if vecs is None else np.concatenate(vecs) if vecs else np.zeros((0, self.dim), np.float32)
        fresh = ClauseIndex.from_parts(self.spec, self.dim, docs, clauses, keys, tokens, stacked, self.manifest,
                                       lexical=self.lexical, terms=self.terms)  # fmt: skip
        directory, self.__dict__ = self.directory, fresh.__dict__
        self.directory = directory
        if directory is not None:
            self.save(directory)

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
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{int(time.time_ns() % 1_000_000):06d}"
        tmp = root / f".tmp-{name}"
        where = self._writing = [str(tmp)]
        final = root / name
        switched = False
        try:
            tmp.mkdir()
            self._write(tmp)
            os.replace(tmp, final)
            ptr = root / f".{CURRENT}.tmp"
            where.append(str(ptr))
            _write_new_file(ptr, (name + "\n").encode("utf-8"))
            previous = _read_pointer(root)
            _clear_pointer_path(root / CURRENT)
            os.replace(ptr, root / CURRENT)
            switched = True
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if not switched:  # the new generation never became current: leave only the previous one
                shutil.rmtree(final, ignore_errors=True)
            if isinstance(exc, OSError) and exc.errno == errno.ENOSPC and not isinstance(exc, DiskFullError):
                raise disk_full(where[-1]) from exc
            raise
        keep = _sound_previous(root, name, previous)
        for old in root.glob("gen-*"):
            if old.name not in (name, keep) and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
        for stale in root.glob(".tmp-gen-*"):
            if not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
        return final

    def _write(self, d: Path) -> None:
        """Write every file of a generation into `d`; `self._writing` names the file being written (for errors)."""
        where = self._writing
        where.append(str(d / "documents.jsonl"))
        with open(d / "documents.jsonl", "w", encoding="utf-8") as f:
            for info in self.docs.values():
                rec = asdict(info)
                rec["clauses_digest"] = clauses_digest(self.doc_clauses(info.doc_id))
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        where.append(str(d / "clauses.jsonl"))
        with open(d / "clauses.jsonl", "w", encoding="utf-8") as f:
            for c, k in zip(self.clauses, self.keys):
                rec = asdict(c)
                rec["headings"] = list(c.headings)
                rec["key"] = k
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        if self.dense is not None:
            where.append(str(d / "dense.faiss"))
            faiss.write_index(self.dense, str(d / "dense.faiss"))
        if self.bm25 is not None:
            where.append(str(d / "bm25"))
            self.bm25.save(str(d / "bm25"), show_progress=False)
        if self.lexical.terms:
            where.append(str(d / TERMS_FILE))
            rec = {"version": TERMS_VERSION, "terms": list(self.terms)}
            (d / TERMS_FILE).write_text(json.dumps(rec, ensure_ascii=False, indent=0), encoding="utf-8")
        files = {}
        for p in sorted(d.rglob("*")):
            if p.is_file():
                _fsync(p)
                files[p.relative_to(d).as_posix()] = {"size": p.stat().st_size, "sha256": _sha256_file(p)}
        manifest = {
            **self.manifest,
            "format_version": FORMAT_VERSION,
            "rag_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "embedder": {**self.spec.to_dict(), "id": self.spec.id, "dim": self.dim},
            "chunker_version": CHUNKER_VERSION,
            "lexical": self.lexical.to_dict(),
            "counts": {"documents": len(self.docs), "clauses": len(self.clauses)},
            "tiers": self.tiers,
            "documents": {i.doc_id: {"source": i.source, "sha256": i.sha256} for i in self.docs.values()},
            "files": files,
        }
        manifest.pop("problems", None)
        manifest.pop("terms", None)
        if self.lexical.terms:
            manifest["terms"] = {"version": TERMS_VERSION, "count": len(self.terms)}
        where.append(str(d / MANIFEST))
        (d / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        _fsync(d / MANIFEST)

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
        if _lexists(root / MANIFEST):  # a generation folder itself: nothing to fall back to
            try:
                return cls._load_generation(root, root, expect, full)
            except _Damaged as exc:
                raise IndexLoadError(f"{exc}. Rebuild it: rag ingest PATH... --index {root}") from None
        problems: list[str] = []
        name, bad_pointer = _pointer(root)
        if bad_pointer:
            problems.append(bad_pointer)
        order = ([name] if name else []) + [g for g in generations(root) if g != name]
        if not order:
            why = f" ({'; '.join(problems)})" if problems else ""
            raise IndexLoadError(f"no index in {root}/{why}. Build one first: rag ingest PATH... --index {root}")
        if not name and not bad_pointer:  # a crash before the first switch, or a deleted pointer
            problems.append(f"{root / CURRENT}: missing")
        for gen in order:
            try:
                idx = cls._load_generation(root / gen, root, expect, full)
            except _Damaged as exc:
                problems.append(str(exc))
                continue
            if problems:
                logger.warning(
                    "index %s is damaged: %s. Searching the previous complete generation %s instead; "
                    "the next `rag ingest` rebuilds the index.", root, "; ".join(problems), gen,
                )  # fmt: skip
                idx.problems = problems + idx.problems
                idx.fallback = True
            idx.directory = root
            return idx
        raise IndexLoadError(
            f"no usable index generation in {root}/: {'; '.join(problems)}. "
            f"Rebuild it: rag ingest PATH... --index {root}"
        )

    @classmethod
    def _load_generation(cls, d: Path, root: Path, expect: EmbedderSpec | None, full: bool = False) -> ClauseIndex:
        """Load one generation folder; `_Damaged` when any of its files is unusable."""
        manifest = read_manifest(d)
        fv = manifest.get("format_version")
        if fv not in READ_FORMATS:
            raise IndexLoadError(
                f"{d}: index format version {fv}, but this rag ({__version__}) reads versions "
                f"{', '.join(map(str, READ_FORMATS))}. Rebuild it: rag ingest PATH... --index {root}"
            )
        if manifest.get("chunker_version") != CHUNKER_VERSION:
            raise IndexLoadError(
                f"{d}: clauses were split by chunker version {manifest.get('chunker_version')}, this rag uses "
                f"{CHUNKER_VERSION}. Rebuild it: rag ingest PATH... --index {root}"
            )
        try:
            emb = manifest["embedder"]
            spec = EmbedderSpec.from_dict(emb)
            dim = int(emb["dim"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _Damaged(f"{d / MANIFEST}: no usable embedder record ({exc})") from None
        try:
            lexical = LexicalConfig.from_dict(manifest.get("lexical"))
        except (TypeError, ValueError) as exc:
            raise _Damaged(f"{d / MANIFEST}: no usable lexical settings ({exc})") from None
        if lexical.terms and (manifest.get("terms") or {}).get("version") != TERMS_VERSION:
            raise IndexLoadError(
                f"{d}: its term list was built by term-list version {(manifest.get('terms') or {}).get('version')}, "
                f"this rag tokenises with version {TERMS_VERSION}. Rebuild it: rag ingest PATH... --index {root}"
            )
        if expect is not None and expect != spec:
            raise IndexLoadError(
                f"{d}: built with embedder {spec.id!r}, but {expect.id!r} was asked for. Search it without "
                f"choosing an embedder, or rebuild it with the new one: rag ingest PATH... --index {root} "
                f"--embedder {expect.model}"
            )
        problems = check_files(d, manifest, full=full)
        if problems:
            raise _Damaged("; ".join(problems))
        sizes = {k: v.get("size") for k, v in (manifest.get("files") or {}).items() if isinstance(v, dict)}
        docs: dict[str, DocInfo] = {}
        digests: dict[str, str] = {}
        clauses, keys = [], []
        where = d / "documents.jsonl"
        try:
            for line in _read_file(where, sizes.get("documents.jsonl"), None).decode("utf-8").splitlines():
                rec = json.loads(line)
                info = DocInfo.from_json(rec)
                docs[info.doc_id] = info
                if rec.get("clauses_digest"):
                    digests[info.doc_id] = rec["clauses_digest"]
            where = d / "clauses.jsonl"
            for line in _read_file(where, sizes.get("clauses.jsonl"), None).decode("utf-8").splitlines():
                rec = json.loads(line)
                keys.append(rec.pop("key"))
                rec["headings"] = tuple(rec["headings"])
                clauses.append(Clause(**rec))
            if any(c.doc_id not in docs for c in clauses):
                raise ValueError("a clause names a document that is not in documents.jsonl")
            dense = None
            where = d / "dense.faiss"
            if _lexists(where):
                raw = _read_file(where, sizes.get("dense.faiss"), None)
                dense = faiss.deserialize_index(np.frombuffer(raw, dtype=np.uint8))
                if dense.d != dim or dense.ntotal != len(clauses):
                    raise ValueError("dense index does not match the manifest")
                if not _finite(dense):
                    raise ValueError("dense vectors hold NaN or infinite values (bytes changed on disk)")
                nprobe = (manifest.get("dense_index") or {}).get("nprobe")
                if nprobe and isinstance(dense, faiss.IndexIVF):
                    dense.nprobe = int(nprobe)
            where = d / "bm25"
            bm25 = bm25s.BM25.load(str(where), allow_pickle=False) if _lexists(where) else None
            if bm25 is not None and int(bm25.scores["num_docs"]) != len(clauses):
                raise ValueError("BM25 index does not match the clauses")
            terms: list[str] = []
            if lexical.terms:
                where = d / TERMS_FILE
                terms = _parse_terms(_read_file(where, sizes.get(TERMS_FILE), None))
        except Exception as exc:  # any parse failure of these untrusted bytes means: damaged
            if isinstance(exc, UnsafeIndexError):
                raise _Damaged(str(exc)) from None
            raise _Damaged(f"{where}: unreadable or damaged ({type(exc).__name__}: {exc})") from None
        idx = cls(spec, dim, docs, clauses, keys, dense, bm25, manifest, lexical, terms)
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


def _parse_terms(raw: bytes) -> list[str]:
    """The term list of a terms.json file; ValueError unless it is one this rag wrote."""
    rec = json.loads(raw.decode("utf-8"))
    if not isinstance(rec, dict) or rec.get("version") != TERMS_VERSION or not isinstance(rec.get("terms"), list):
        raise ValueError(f"not a version-{TERMS_VERSION} term list")
    terms = rec["terms"]
    if len(terms) > MAX_TERMS or not all(isinstance(t, str) and valid_term(t) for t in terms):
        raise ValueError(f"more than {MAX_TERMS} terms, or one that is not a term")
    return terms


def _sound_previous(root: Path, current: str, previous: str | None) -> str | None:
    """The generation to keep beside the new one: the previous if its files check out, else the
    newest other one that does (so a damaged generation never displaces the intact fallback)."""
    for gen in ([previous] if previous else []) + generations(root):
        if gen == current:
            continue
        try:
            if not check_files(root / gen, read_manifest(root / gen)):
                return gen
        except IndexLoadError:
            continue
    return None


def clauses_digest(clauses: Sequence[Clause]) -> str:
    """sha256 of a document's clauses as split (texts, spans, labels, headings): detects edits."""
    h = hashlib.sha256()
    for c in clauses:
        rec = [c.ordinal, c.label, list(c.headings), c.text, c.start, c.end, c.part]
        h.update(json.dumps(rec, ensure_ascii=False).encode("utf-8") + b"\n")
    return h.hexdigest()


def doc_change(
    info: DocInfo,
    clauses: Sequence[Clause],
    vectors: np.ndarray | None = None,
    tokens_of: Callable[[DocInfo, Clause], list[str]] | None = None,
) -> DocChange:
    """A `DocChange` (for `Store.apply`) of a document's clauses, with keys from their passage text and
    tokens by `tokens_of(info, clause)` (default: the plain tokens of the passage text)."""
    texts = [passage_text(info, c) for c in clauses]
    toks = [tokens_of(info, c) for c in clauses] if tokens_of else [tokenize(t) for t in texts]
    return DocChange(info, tuple(clauses), tuple(clause_key(t) for t in texts), tuple(tuple(t) for t in toks), vectors)


def changes_from_index(index: ClauseIndex, only: Iterable[str] | None = None) -> Changes:
    """The documents of a folder index (all, or those in `only`) as upserts, with their clauses, tokens
    (as the index makes them) and vectors (to copy them into another store)."""
    vectors = index.vectors()
    keep = None if only is None else set(only)
    out = []
    for info in index.docs.values():
        if keep is not None and info.doc_id not in keep:
            continue
        rows = index._by_doc.get(info.doc_id, [])
        vecs = None if vectors is None else vectors[rows]
        out.append(doc_change(info, [index.clauses[i] for i in rows], vecs, index.clause_tokens))
    return Changes(upsert=tuple(out))


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


# ---------------------------------------------------------------------- safe file access


def _lexists(p: Path) -> bool:
    try:
        os.lstat(p)
        return True
    except FileNotFoundError:
        return False


def _describe(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open_regular(path: Path, limit: int | None) -> int:
    """A read-only descriptor of a regular file (never a symlink, never blocking on a FIFO).

    Raises:
        UnsafeIndexError: a symlink, FIFO, device or folder, or larger than `limit` bytes.
        FileNotFoundError: no such file.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeIndexError(f"{path}: is a symbolic link; refused (an index folder holds only files)") from None
        if exc.errno == errno.ENXIO:  # a FIFO with no writer, or a socket
            raise UnsafeIndexError(f"{path}: is a named pipe or socket; refused") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeIndexError(f"{path}: is {_describe(st.st_mode)}; refused (an index folder holds only files)")
    if limit is not None and st.st_size > limit:
        os.close(fd)
        raise UnsafeIndexError(f"{path}: {st.st_size} bytes, more than the {limit} recorded; refused")
    return fd


def _read_file(path: Path, size: int | None, limit: int | None = MAX_MANIFEST_BYTES) -> bytes:
    """The bytes of a regular file, reading no more than `size` (the manifest's) or `limit` bytes
    (`limit` None: the file's own size, for indexes written before sizes were recorded)."""
    cap = int(size) if isinstance(size, int) else limit
    fd = _open_regular(path, cap)
    if cap is None:
        cap = os.fstat(fd).st_size
    try:
        chunks, got = [], 0
        while got <= cap:
            b = os.read(fd, min(1 << 20, cap + 1 - got))
            if not b:
                break
            chunks.append(b)
            got += len(b)
    finally:
        os.close(fd)
    if got > cap:
        raise UnsafeIndexError(f"{path}: larger than the {cap} bytes recorded; refused")
    if isinstance(size, int) and got != size:
        raise _Damaged(f"{path}: {got} bytes, the manifest records {size} (truncated or replaced)")
    return b"".join(chunks)


def _sha256_file(path: Path, size: int | None = None) -> str:
    fd = _open_regular(path, size)
    h = hashlib.sha256()
    try:
        while b := os.read(fd, 1 << 20):
            h.update(b)
    finally:
        os.close(fd)
    return h.hexdigest()


def _write_new_file(path: Path, data: bytes) -> None:
    """Create `path` afresh (O_EXCL|O_NOFOLLOW), write and fsync it: a planted symlink is refused.

    A stale regular file of that name (left by a crash) is removed first.
    """
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeIndexError(
                f"{path} is {_describe(st.st_mode)}, not a file rag wrote; refused so nothing outside the index "
                "folder is written. Remove it and run the command again"
            )
        os.unlink(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise UnsafeIndexError(f"{path} appeared while writing it; refused") from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def read_manifest(d: Path) -> dict:
    """The manifest of a generation folder, read safely; `_Damaged` when unreadable."""
    try:
        m = json.loads(_read_file(d / MANIFEST, None).decode("utf-8"))
    except FileNotFoundError:
        raise _Damaged(f"{d / MANIFEST}: missing") from None
    except UnsafeIndexError as exc:
        raise _Damaged(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise _Damaged(f"{d / MANIFEST}: unreadable or damaged ({type(exc).__name__}: {exc})") from None
    if not isinstance(m, dict):
        raise _Damaged(f"{d / MANIFEST}: not a JSON object")
    return m


def check_files(d: Path, manifest: dict, full: bool = False) -> list[str]:
    """Problems with a generation's files: each must be a regular file of the recorded size
    (and, with `full`, the recorded sha256). Empty when all is well."""
    files = manifest.get("files")
    if not isinstance(files, dict):  # written before sizes were recorded: only the kinds can be checked
        files = {n: {} for n in ("documents.jsonl", "clauses.jsonl")}
    problems = []
    for name in ("documents.jsonl", "clauses.jsonl"):
        if name not in files:
            problems.append(f"{d / MANIFEST}: does not list {name}")
    problems += _unlisted(d, files, legacy=not isinstance(manifest.get("files"), dict))
    for rel, rec in files.items():
        parts = rel.split("/") if isinstance(rel, str) else []
        if not parts or any(p in ("", ".", "..") or not _SAFE_PART.fullmatch(p) for p in parts):
            problems.append(f"{d / MANIFEST}: names an unsafe path {rel!r}")
            continue
        path = d.joinpath(*parts)
        try:
            for depth in range(1, len(parts)):  # folders on the way (bm25/) must be real folders
                st = os.lstat(d.joinpath(*parts[:depth]))
                if not stat.S_ISDIR(st.st_mode):
                    raise UnsafeIndexError(f"{d.joinpath(*parts[:depth])}: is {_describe(st.st_mode)}; refused")
            st = os.lstat(path)
        except FileNotFoundError:
            problems.append(f"{path}: missing")
            continue
        except UnsafeIndexError as exc:
            problems.append(str(exc))
            continue
        if not stat.S_ISREG(st.st_mode):
            problems.append(f"{path}: is {_describe(st.st_mode)}, not a regular file; refused")
            continue
        size = rec.get("size") if isinstance(rec, dict) else None
        if isinstance(size, int) and st.st_size != size:
            problems.append(f"{path}: {st.st_size} bytes, the manifest records {size} (truncated or replaced)")
            continue
        want = rec.get("sha256") if isinstance(rec, dict) else None
        if full and want:
            try:
                if _sha256_file(path, size) != want:
                    problems.append(f"{path}: content differs from the sha256 the manifest records (altered)")
            except (OSError, UnsafeIndexError) as exc:
                problems.append(f"{path}: {exc}")
    return problems


def _unlisted(d: Path, files: dict, legacy: bool) -> list[str]:
    """Files the loader would read (dense.faiss, terms.json, bm25/*) that the manifest does not list.

    For a manifest written before files were listed, they need only be regular files.
    """
    problems = []
    candidates = [d / "dense.faiss", d / TERMS_FILE]
    bm25 = d / "bm25"
    try:
        st = os.lstat(bm25)
        if not stat.S_ISDIR(st.st_mode):
            return [f"{bm25}: is {_describe(st.st_mode)}; refused"]
        candidates += [Path(e.path) for e in os.scandir(bm25)]
    except FileNotFoundError:
        pass
    for p in candidates:
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            continue
        rel = p.relative_to(d).as_posix()
        if legacy and not stat.S_ISREG(st.st_mode):
            problems.append(f"{p}: is {_describe(st.st_mode)}, not a regular file; refused")
        elif not legacy and rel not in files:
            problems.append(f"{p}: not listed in {d / MANIFEST}; refused")
    return problems


def verify(index_dir: str | Path, full: bool = True) -> list[str]:
    """Problems with the index at `index_dir`, for `rag verify`; empty when it is sound.

    Checks the `CURRENT` pointer, the current generation's manifest and files (sizes; with
    `full`, sha256 too) and every document's clause digest. Reads nothing it should not
    (no symlinks, FIFOs or oversized files).
    """
    root = Path(index_dir)
    if _lexists(root / MANIFEST):
        return _verify_generation(root, root, full)
    name, bad = _pointer(root)
    problems = [bad] if bad else [] if name else [f"no index in {root}/"]
    if name:
        problems += _verify_generation(root / name, root, full)
    if problems:
        keep = _sound_previous(root, name or "", None)
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
    except _Damaged as exc:
        return [str(exc)]
    problems = check_files(d, manifest, full)
    if problems:
        return problems
    try:
        idx = ClauseIndex._load_generation(d, root, None)
    except IndexLoadError as exc:
        return [str(exc)]
    return [p for p in idx.problems]


def _finite(dense: faiss.Index) -> bool:
    """True when every stored vector is finite (a flipped byte in dense.faiss can make NaN or inf)."""
    if isinstance(dense, faiss.IndexFlat):
        xb = faiss.rev_swig_ptr(dense.get_xb(), dense.ntotal * dense.d) if dense.ntotal else np.zeros(0, "float32")
    else:
        if isinstance(dense, faiss.IndexIVF):
            dense.make_direct_map()
        xb = dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros(0, "float32")
    return bool(np.isfinite(xb).all())


def current_key(directory: str | Path) -> str:
    """What identifies the index a reader should have open: the current generation's name, or, when
    the pointer is damaged, the generations present (so a cache keyed on it reloads once it heals)."""
    try:
        return resolve(directory).name
    except IndexLoadError:
        return "damaged:" + ",".join(generations(directory))


def _fsync(p: Path) -> None:
    fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pointer(root: Path) -> tuple[str | None, str | None]:
    """(generation named by CURRENT, problem): the name only when it is a `gen-*` folder directly inside."""
    path = root / CURRENT
    try:
        raw = _read_file(path, None, MAX_POINTER_BYTES)
    except FileNotFoundError:
        return None, None
    except (OSError, IndexLoadError) as exc:
        return None, f"{path}: unreadable ({exc})"
    name = raw.decode("utf-8", "replace").strip()
    if not _GEN_NAME.fullmatch(name):
        return None, f"{path}: names {name[:80]!r}, not a generation folder inside {root}/; refused"
    try:
        st = os.lstat(root / name)
    except FileNotFoundError:
        return None, f"{path}: names {name}, which is missing"
    if not stat.S_ISDIR(st.st_mode):
        return None, f"{path}: names {name}, which is {_describe(st.st_mode)}; refused"
    return name, None


def _clear_pointer_path(path: Path) -> None:
    """Make room for the pointer file: a folder (or anything but a file or link) where `CURRENT` belongs
    is moved aside as `CURRENT.damaged-<time>` (kept, not deleted), so a rebuild always heals it."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode):
        return  # replaced atomically (a link itself, never its target)
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    logger.warning("%s is %s, not a pointer file: moved aside to %s", path, _describe(st.st_mode), aside.name)
    os.replace(path, aside)


def _read_pointer(root: Path) -> str | None:
    return _pointer(root)[0]


def generations(root: str | Path) -> list[str]:
    """Generation folders directly inside `root` that have a manifest, newest first (symlinks ignored)."""
    out = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return []
    for e in entries:
        if _GEN_NAME.fullmatch(e.name) and e.is_dir(follow_symlinks=False) and _lexists(Path(e.path) / MANIFEST):
            out.append(e.name)
    return sorted(out, reverse=True)


def recorded_spec(index_dir: str | Path) -> EmbedderSpec | None:
    """The embedder any readable manifest under `index_dir` records (the current first), else None.

    Lets a rebuild of a damaged index keep the embedder it was built with.
    """
    root = Path(index_dir)
    name, _ = _pointer(root)
    for gen in ([name] if name else []) + [g for g in generations(root) if g != name]:
        try:
            emb = read_manifest(root / gen).get("embedder")
            if isinstance(emb, dict) and emb.get("backend") and emb.get("model"):
                return EmbedderSpec.from_dict(emb)
        except IndexLoadError:
            continue
    return None


def recorded_lexical(index_dir: str | Path) -> LexicalConfig | None:
    """The lexical settings any readable manifest under `index_dir` records (the current first), else None.

    Lets a rebuild of a damaged or outdated index keep the settings it was built with.
    """
    root = Path(index_dir)
    name, _ = _pointer(root)
    for gen in ([name] if name else []) + [g for g in generations(root) if g != name]:
        try:
            return LexicalConfig.from_dict(read_manifest(root / gen).get("lexical"))
        except (IndexLoadError, TypeError, ValueError):
            continue
    return None


def resolve(directory: str | Path) -> Path:
    """The generation folder an index directory points at.

    Raises:
        IndexLoadError: there is no built index under `directory`.
    """
    root = Path(directory)
    if _lexists(root / MANIFEST):
        return root
    name, _ = _pointer(root)
    if name and _lexists(root / name / MANIFEST):
        return root / name
    raise IndexLoadError(f"no index in {root}/. Build one first: rag ingest PATH... --index {root}")


def exists(directory: str | Path) -> bool:
    """True when `directory` holds an index generation (current or, if that is damaged, another one)."""
    try:
        resolve(directory)
        return True
    except IndexLoadError:
        return bool(generations(directory))
