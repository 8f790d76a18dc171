"""The dense index factory and search: a FAISS inner-product index over normalised clause (or window) vectors.

Exact (flat) for a library of up to `ANN_THRESHOLD` clauses, IVF above it with the smallest `nprobe`
that reaches the target recall against exact search (see `make_dense`).
"""

from __future__ import annotations

import faiss
import numpy as np

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


def finite(dense: faiss.Index) -> bool:
    """True when every stored vector is finite (a flipped byte in dense.faiss can make NaN or inf)."""
    if isinstance(dense, faiss.IndexFlat):
        xb = faiss.rev_swig_ptr(dense.get_xb(), dense.ntotal * dense.d) if dense.ntotal else np.zeros(0, "float32")
    else:
        if isinstance(dense, faiss.IndexIVF):
            dense.make_direct_map()
        xb = dense.reconstruct_n(0, dense.ntotal) if dense.ntotal else np.zeros(0, "float32")
    return bool(np.isfinite(xb).all())


def search_rows(index: faiss.Index, qvec: np.ndarray, k: int, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k rows of a FAISS inner-product index for a query vector, only rows `mask` allows: (scores, ids)."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    q = np.asarray(qvec, dtype=np.float32).reshape(1, -1)
    params = None
    if mask is not None:
        allowed = np.flatnonzero(mask).astype(np.int64)
        if len(allowed) == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        sel = faiss.IDSelectorBatch(allowed)
        if isinstance(index, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(sel=sel, nprobe=index.nprobe)
        else:
            params = faiss.SearchParameters(sel=sel)
        k = min(k, len(allowed))
    scores, ids = index.search(q, k, params=params)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]


def stored_vectors(index: faiss.Index) -> np.ndarray:
    """Every vector a FAISS index holds, in row order."""
    if isinstance(index, faiss.IndexIVF):
        index.make_direct_map()
    return index.reconstruct_n(0, index.ntotal)
