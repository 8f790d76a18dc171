"""Index: documents -> clauses -> a dense (FAISS) + lexical (BM25) index, saved as a folder.

`ClauseIndex` holds the clause store, the document table, a FAISS inner-product index
over normalised vectors and a bm25s index over jieba tokens. `save(dir)` writes a new
generation folder beside the old one and then switches the `CURRENT` pointer with one
atomic `os.replace`, so a reader never sees a half-written index and a crash leaves the
last complete one in place. Nothing is pickled: JSON/JSONL, numpy and FAISS's own format.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import NamedTuple

import bm25s
import faiss
import numpy as np
from tqdm.auto import tqdm

from . import __version__
from .embed import Embedder, EmbedderSpec
from .load import Document, normalise_title
from .split import CHUNKER_VERSION, Clause, split_document
from .tokens import tokenize

logger = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"


class IndexLoadError(RuntimeError):
    """An index folder that cannot be used as it is; the message says what to do."""


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
        return cls(**rec)

    def page_of(self, offset: int) -> int | None:
        """1-based page number of a text offset, for paged formats."""
        return bisect.bisect_right(self.pages, offset) if self.pages else None


class Supersession(NamedTuple):
    """Why a document is no longer current: the document that replaced it and the evidence."""

    by: str  # doc_id of the replacing document
    reason: str


def superseded_versions(docs: Iterable[DocInfo]) -> dict[str, Supersession]:
    """doc_id -> what replaced it, for documents that are no longer current.

    The strongest evidence is a document that says so: "《…》（甬民发〔2021〕15号）同时废止" names
    the title or the 文号 of the one it repeals (never a newer one). Otherwise documents with the
    same real title (ignoring 中华人民共和国, dates and 修订/修正 marks) and the same issuer
    where known are versions of one another: the latest date is current, or, on the same date,
    the one marked 修订/修正. Documents of one title and one date with no revision mark (the
    parts of a code) are not versions of each other.
    """
    docs = list(docs)
    out: dict[str, Supersession] = {}
    by_title: dict[str, list[DocInfo]] = {}
    by_number: dict[str, list[DocInfo]] = {}
    for d in docs:
        by_title.setdefault(normalise_title(d.title), []).append(d)
        if d.doc_number:
            by_number.setdefault(d.doc_number, []).append(d)
    for a in docs:
        for ref in a.repeals:
            for b in by_number.get(ref, []) + by_title.get(normalise_title(ref), []):
                if b.doc_id != a.doc_id and not (a.date and b.date and b.date > a.date) and b.doc_id not in out:
                    what = f"《{a.title}》" + (f"（{a.doc_number}）" if a.doc_number else "")
                    out[b.doc_id] = Supersession(a.doc_id, f"{what}明确废止了它（“{ref}”）")
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


def passage_text(doc: Document | DocInfo, clause: Clause) -> str:
    """What gets embedded and BM25-indexed for a clause: its document's title and its path, then its text.

    A title taken from the file name is left out, so renaming a file changes no clause's
    indexed text (and re-embeds nothing).
    """
    title = doc.title if doc.titled else ""
    return f"{title} {' '.join(clause.headings)}\n{clause.text}"


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
    computed; search then uses the lexical tier alone and says so.
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
    ):
        self.spec = spec
        self.dim = dim
        self.docs = docs
        self.clauses = clauses
        self.keys = keys
        self.dense = dense
        self.bm25 = bm25
        self.manifest = manifest or {}
        self._by_doc: dict[str, list[int]] = {}
        for i, c in enumerate(clauses):
            self._by_doc.setdefault(c.doc_id, []).append(i)
        self.superseded = superseded_versions(docs.values())

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
    ) -> ClauseIndex:
        """Assemble an index from split clauses, their tokens and (optionally) their vectors."""
        bm25 = cls._make_bm25(tokens)
        dense, ann = (None, None) if vectors is None else make_dense(vectors, ann_threshold)
        manifest = {**(manifest or {}), "dense_index": ann}
        return cls(spec, dim, docs, clauses, keys, dense, bm25, manifest)

    @classmethod
    def build(
        cls,
        documents: Iterable[Document],
        embedder: Embedder,
        *,
        batch_size: int = 32,
        show_progress: bool = True,
        progress: Progress | None = None,
    ) -> ClauseIndex:
        """Split, tokenise, embed and index `documents` in memory (no cache; see `rag.pipeline`).

        Args:
            documents: loaded documents (see `rag.load`).
            embedder: the passage embedder; its spec is recorded in the manifest.
            batch_size: clauses per embedding call.
            show_progress: show tqdm progress bars.
            progress: called as progress(done, total) while embedding.
        """
        docs: dict[str, DocInfo] = {}
        clauses: list[Clause] = []
        texts: list[str] = []
        for doc in documents:
            cs = split_document(doc)
            docs[doc.doc_id] = DocInfo.from_document(doc, len(cs))
            clauses.extend(cs)
            texts.extend(passage_text(doc, c) for c in cs)
        tokens = [tokenize(t) for t in tqdm(texts, desc="tokenise", unit="clause", disable=not show_progress)]
        vectors = embed_in_batches(embedder, texts, batch_size, show_progress, progress)
        keys = [clause_key(t) for t in texts]
        return cls.from_parts(embedder.spec, embedder.dim, docs, clauses, keys, tokens, vectors)

    @staticmethod
    def _make_bm25(tokens: list[list[str]]) -> bm25s.BM25 | None:
        if not tokens:
            return None
        bm25 = bm25s.BM25()
        bm25.index([t or [""] for t in tokens], show_progress=False)
        return bm25

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
        toks = [t for t in tokenize(query) if t in self.bm25.vocab_dict]
        if not toks:
            return np.zeros(len(self.clauses), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32)

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

    # ------------------------------------------------------------------ persistence

    def save(self, directory: str | Path) -> Path:
        """Write the index as a new generation under `directory` and switch to it atomically.

        Returns the generation folder. Older generations but the previous one are removed.
        """
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{int(time.time_ns() % 1_000_000):06d}"
        tmp = root / f".tmp-{name}"
        tmp.mkdir()
        try:
            self._write(tmp)
            final = root / name
            os.replace(tmp, final)
            ptr = root / f".{CURRENT}.tmp"
            ptr.write_text(name + "\n", encoding="utf-8")
            _fsync(ptr)
            previous = _read_pointer(root)
            os.replace(ptr, root / CURRENT)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for old in root.glob("gen-*"):
            if old.name not in (name, previous):
                shutil.rmtree(old, ignore_errors=True)
        for stale in root.glob(".tmp-gen-*"):
            shutil.rmtree(stale, ignore_errors=True)
        return final

    def _write(self, d: Path) -> None:
        with open(d / "documents.jsonl", "w", encoding="utf-8") as f:
            for info in self.docs.values():
                f.write(json.dumps(asdict(info), ensure_ascii=False) + "\n")
        with open(d / "clauses.jsonl", "w", encoding="utf-8") as f:
            for c, k in zip(self.clauses, self.keys):
                rec = asdict(c)
                rec["headings"] = list(c.headings)
                rec["key"] = k
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        if self.dense is not None:
            faiss.write_index(self.dense, str(d / "dense.faiss"))
        if self.bm25 is not None:
            self.bm25.save(str(d / "bm25"), show_progress=False)
        manifest = {
            **self.manifest,
            "format_version": FORMAT_VERSION,
            "rag_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "embedder": {**self.spec.to_dict(), "id": self.spec.id, "dim": self.dim},
            "chunker_version": CHUNKER_VERSION,
            "counts": {"documents": len(self.docs), "clauses": len(self.clauses)},
            "tiers": self.tiers,
            "documents": {i.doc_id: {"source": i.source, "sha256": i.sha256} for i in self.docs.values()},
        }
        (d / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        for p in d.rglob("*"):
            if p.is_file():
                _fsync(p)

    @classmethod
    def load(cls, directory: str | Path, expect: EmbedderSpec | None = None) -> ClauseIndex:
        """Load the current generation under `directory` (or a generation folder itself).

        Raises:
            IndexLoadError: no index there, another format version, another chunker, or
                (when `expect` is given) another embedder; the message says what to run.
        """
        d = resolve(directory)
        manifest = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        fv = manifest.get("format_version")
        if fv != FORMAT_VERSION:
            raise IndexLoadError(
                f"{d}: index format version {fv}, but this rag ({__version__}) reads version {FORMAT_VERSION}. "
                f"Rebuild it: rag ingest PATH... --index {directory}"
            )
        if manifest.get("chunker_version") != CHUNKER_VERSION:
            raise IndexLoadError(
                f"{d}: clauses were split by chunker version {manifest.get('chunker_version')}, this rag uses "
                f"{CHUNKER_VERSION}. Rebuild it: rag ingest PATH... --index {directory}"
            )
        emb = manifest["embedder"]
        spec = EmbedderSpec.from_dict(emb)
        if expect is not None and expect != spec:
            raise IndexLoadError(
                f"{d}: built with embedder {spec.id!r}, but {expect.id!r} was asked for. Search it without "
                f"choosing an embedder, or rebuild it with the new one: rag ingest PATH... --index {directory} "
                f"--embedder {expect.model}"
            )
        docs = {}
        with open(d / "documents.jsonl", encoding="utf-8") as f:
            for line in f:
                info = DocInfo.from_json(json.loads(line))
                docs[info.doc_id] = info
        clauses, keys = [], []
        with open(d / "clauses.jsonl", encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                keys.append(rec.pop("key"))
                rec["headings"] = tuple(rec["headings"])
                clauses.append(Clause(**rec))
        dense = None
        if (d / "dense.faiss").exists():
            dense = faiss.read_index(str(d / "dense.faiss"))
            if dense.d != int(emb["dim"]) or dense.ntotal != len(clauses):
                raise IndexLoadError(f"{d}: dense index does not match the manifest; rebuild with rag ingest")
            nprobe = (manifest.get("dense_index") or {}).get("nprobe")
            if nprobe and isinstance(dense, faiss.IndexIVF):
                dense.nprobe = int(nprobe)
        bm25 = bm25s.BM25.load(str(d / "bm25"), allow_pickle=False) if (d / "bm25").exists() else None
        return cls(spec, int(emb["dim"]), docs, clauses, keys, dense, bm25, manifest)


def _fsync(p: Path) -> None:
    with open(p, "rb") as f:
        os.fsync(f.fileno())


def _read_pointer(root: Path) -> str | None:
    try:
        return (root / CURRENT).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def resolve(directory: str | Path) -> Path:
    """The generation folder an index directory points at.

    Raises:
        IndexLoadError: there is no built index under `directory`.
    """
    root = Path(directory)
    if (root / MANIFEST).is_file():
        return root
    name = _read_pointer(root)
    if name and (root / name / MANIFEST).is_file():
        return root / name
    raise IndexLoadError(f"no index in {root}/. Build one first: rag ingest PATH... --index {root}")


def exists(directory: str | Path) -> bool:
    """True when `directory` holds a loadable index generation."""
    try:
        resolve(directory)
        return True
    except IndexLoadError:
        return False
