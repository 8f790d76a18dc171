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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rag.search.retrieve import Hit, Searcher
from rag.text.split import Clause
from rag.text.vocab import normalise_title


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
