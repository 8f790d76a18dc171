"""Baseline: the pipeline a user would build first, for the `make eval` table.

Fixed 500-character windows with 50 characters of overlap over each document's body,
the same embedder, exact FAISS search, no BM25, no clause structure. A window counts as
retrieving every article it overlaps, at the window's rank. Window vectors go through the
clause cache, so the hour of embedding is paid once and survives interruption.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
from tqdm.auto import tqdm

from rag.embedding.embed import DEFAULT_SPEC, EmbedderSpec, make_embedder
from rag.evaluation.evaluate import QueryResult, Question, score
from rag.reading.load import iter_files, load_file
from rag.storage.cache import ClauseCache
from rag.storage.passages import clause_key
from rag.text.clean import clean_spans
from rag.text.split import split_document
from rag.text.vocab import normalise_title


def windows(text: str, size: int = 500, overlap: int = 50) -> list[tuple[int, int]]:
    """(start, end) of fixed windows over the body of `text` (from its first kept character)."""
    spans = clean_spans(text)
    if not spans:
        return []
    start, end = spans[0][0], spans[-1][1]
    step = size - overlap
    return [(s, min(s + size, end)) for s in range(start, max(end - overlap, start + 1), step)]


def evaluate_windows(
    paths: Sequence[str | Path],
    cache_path: str | Path,
    questions: list[Question],
    ks: tuple[int, ...] = (10, 100),
    spec: EmbedderSpec = DEFAULT_SPEC,
    batch_size: int = 32,
    show_progress: bool = True,
) -> dict:
    """Embed (or reuse) the windows of every document under `paths` and score `questions`."""
    texts: list[str] = []
    units: list[list[tuple[str, str]]] = []  # per window: (normalised title, article label) it overlaps
    for f in iter_files(paths):
        try:
            doc = load_file(f)
        except ValueError:
            continue
        title = normalise_title(doc.title)
        clauses = split_document(doc)
        for s, e in windows(doc.text):
            texts.append(doc.text[s:e])
            units.append([(title, c.label) for c in clauses if c.start < e and c.end > s and c.label])
    keys = [clause_key("window:" + t) for t in texts]
    embedder = make_embedder(spec)
    with ClauseCache(cache_path) as cache:
        have = cache.vectors(spec.id, keys)
        todo = sorted({k: t for k, t in zip(keys, texts) if k not in have}.items(), key=lambda kv: len(kv[1]))
        for b in tqdm(range(0, len(todo), batch_size), desc="embed windows", disable=not show_progress or not todo):
            batch = todo[b : b + batch_size]
            cache.put_vectors(spec.id, [k for k, _ in batch], embedder.embed_passages([t for _, t in batch]))
        have = cache.vectors(spec.id, keys)
    index = faiss.IndexFlatIP(embedder.dim)
    index.add(np.stack([have[k] for k in keys]).astype(np.float32))
    results = []
    for q in questions:
        t0 = time.perf_counter()
        _, ids = index.search(embedder.embed_queries([q.query]), max(ks) * 3)
        ms = (time.perf_counter() - t0) * 1000
        ranked: list[tuple[str, str]] = []
        for i in ids[0]:
            for u in units[i]:
                if u not in ranked:
                    ranked.append(u)
        ranked = ranked[: max(ks)]
        ranks = tuple(next((n + 1 for n, u in enumerate(ranked) if u == (r.title, r.label)), None) for r in q.relevant)
        results.append(QueryResult(q.qid, q.query, q.kind, ranks, ms))
    return {"metrics": score(results, ks), "windows": len(texts)}
