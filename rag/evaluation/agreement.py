"""Do two stores answer alike? Same ordered top-10, overlap, and eval figures side by side.

Run: python -m rag.evaluation.agreement QUESTIONS --index DIR --store milvus:FILE.db [-n 150]

The documents of the folder index in DIR are ingested into the Milvus collection first (the same
embedder and lexical settings, vectors from the folder's clause cache, only what differs written), then
every question is searched on both with one embedder and one configuration.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass

from rag.evaluation.evaluate import Metrics, Question, evaluate, read_questions
from rag.search.retrieve import Searcher
from rag.storage.index import ClauseIndex
from rag.storage.milvus import MilvusStore
from rag.storage.store import Store
from rag.storage.stores import parse_store_spec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Agreement:
    questions: int
    same_order: float  # share of questions whose ordered top-k clause ids are identical
    overlap: float  # mean |top-k ∩ top-k'| / k
    differing: tuple[str, ...]  # qids that differ


def agreement(a: Searcher, b: Searcher, questions: list[Question], k: int = 10, mode: str = "hybrid") -> Agreement:
    """Compare the top-k of two searchers over the same questions."""
    same, overlap, differing = 0, 0.0, []
    for q in questions:
        ta = [h.clause.clause_id for h in a.search(q.query, k=k, mode=mode, marks=False)]
        tb = [h.clause.clause_id for h in b.search(q.query, k=k, mode=mode, marks=False)]
        if ta == tb:
            same += 1
        else:
            differing.append(q.qid)
        overlap += len(set(ta) & set(tb)) / max(len(ta), len(tb), 1)
    n = len(questions)
    return Agreement(n, same / n, overlap / n, tuple(differing))


def compare(folder: ClauseIndex, other: Store, questions: list[Question], ks: tuple[int, ...] = (10, 100)):
    """Agreement per mode and the eval figures of both stores (hybrid)."""
    base = Searcher(folder)
    mirror = Searcher(other, base.embedder, base.config)
    rows = {mode: agreement(base, mirror, questions, mode=mode) for mode in ("lexical", "dense", "hybrid")}
    figures: tuple[Metrics, Metrics] = (evaluate(base, questions, ks), evaluate(mirror, questions, ks))
    return rows, figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rag.evaluation.agreement", description=__doc__.splitlines()[0])
    ap.add_argument("questions")
    ap.add_argument("--index", required=True, help="the folder index (the reference)")
    ap.add_argument("--store", required=True, help="milvus:FILE.db or milvus:http://HOST:19530[#COLLECTION]")
    ap.add_argument("-n", type=int, default=0, help="only the first N questions whose documents are indexed")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pymilvus").setLevel(logging.ERROR)
    from rag.evaluation.bench import same_library
    from rag.text.vocab import normalise_title

    kind, uri, collection = parse_store_spec(args.store)
    if kind != "milvus":
        ap.error("--store must name a Milvus collection")
    same_library(args.index, uri, collection)
    folder = ClauseIndex.load(args.index)
    other = MilvusStore.open(uri, collection)
    titles = {normalise_title(d.title) for d in folder.docs.values()}
    questions = [q for q in read_questions(args.questions) if all(r.title in titles for r in q.relevant)]
    if args.n:
        questions = questions[: args.n]
    rows, (fa, fb) = compare(folder, other, questions)
    print(f"{len(folder.docs):,} documents, {len(folder):,} clauses, {len(questions)} questions")
    print("| mode | same ordered top-10 | top-10 overlap |\n|---|---|---|")
    for mode, r in rows.items():
        print(f"| {mode} | {r.same_order:.3f} ({round(r.same_order * r.questions)}/{r.questions}) | {r.overlap:.3f} |")
    print("\n| store | R@10 | R@100 | MRR@10 | nDCG@10 |\n|---|---|---|---|---|")
    for name, m in (("folder", fa), (args.store, fb)):
        print(f"| {name} | {m.recall[10]:.3f} | {m.recall[100]:.3f} | {m.mrr_10:.3f} | {m.ndcg_10:.3f} |")
    worst = max(abs(fa.recall[10] - fb.recall[10]), abs(fa.recall[100] - fb.recall[100]), abs(fa.mrr_10 - fb.mrr_10))
    print(f"\nlargest eval difference: {worst:.4f}; hybrid questions differing: {', '.join(rows['hybrid'].differing)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
