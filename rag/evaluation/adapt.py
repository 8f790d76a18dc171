"""Adapt: labelled questions + an index -> a query adapter (`rag.search.adapter.QueryAdapter`).

The adapter is a d×d matrix W, started at the identity and trained so that the
normalised W·q scores a question's labelled clauses above every other clause of the
index (a softmax over all clause vectors), with an L2 pull back towards the identity.
Clause vectors are left alone, so nothing is re-embedded; and since (W·q)·p = q·(Wᵀ·p),
a map on the query side is as expressive as a linear map on either side.

Stored as one `.npz` (the matrix, the embedder id it belongs to, a JSON description),
read back with `allow_pickle=False`; a search refuses an adapter made for another embedder.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from rag.search.adapter import DENSE_WEIGHT, QueryAdapter
from rag.search.retrieve import Filters, clean_query
from rag.text.vocab import normalise_title

if TYPE_CHECKING:
    from rag.embedding.embed import Embedder
    from rag.evaluation.evaluate import Question
    from rag.storage.index import ClauseIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings (defaults chosen by cross-validation on the STARD train file)."""

    epochs: int = 20
    lr: float = 3e-3
    temperature: float = 0.02
    l2: float = 0.01  # weight of ||W - I||² in the loss
    batch_size: int = 128
    seed: int = 0


def train(
    queries: np.ndarray,
    positives: Sequence[Sequence[int]],
    vectors: np.ndarray,
    settings: TrainSettings = TrainSettings(),
    show_progress: bool = False,
) -> np.ndarray:
    """Fit W on query vectors (n, d), their positive clause ids, and all clause vectors (N, d).

    Queries without positives are ignored. Returns W as float32 (d, d).
    """
    try:
        import torch
    except ImportError as exc:
        raise ValueError(f"training needs torch, in the st extra: pip install 'rag[st]' ({exc})") from exc
    from tqdm.auto import tqdm

    keep = [i for i, p in enumerate(positives) if len(p)]
    d = vectors.shape[1]
    if not keep:
        return np.eye(d, dtype=np.float32)
    gen = torch.Generator().manual_seed(settings.seed)
    corpus = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    q_all = torch.from_numpy(np.ascontiguousarray(queries[keep], dtype=np.float32))
    width = max(len(positives[i]) for i in keep)
    pos = torch.full((len(keep), width), -1, dtype=torch.long)
    for row, i in enumerate(keep):
        pos[row, : len(positives[i])] = torch.as_tensor(list(positives[i]))
    eye = torch.eye(d)
    w = eye.clone().requires_grad_(True)
    opt = torch.optim.Adam([w], lr=settings.lr)
    steps = range(settings.epochs)
    for _ in tqdm(steps, desc="train adapter", disable=not show_progress):
        for batch in torch.randperm(len(keep), generator=gen).split(settings.batch_size):
            q = torch.nn.functional.normalize(q_all[batch] @ w.T, dim=1)
            logits = q @ corpus.T / settings.temperature
            p = pos[batch]
            pos_logits = logits.gather(1, p.clamp(min=0)).masked_fill(p < 0, float("-inf"))
            loss = (torch.logsumexp(logits, 1) - torch.logsumexp(pos_logits, 1)).mean()
            loss = loss + settings.l2 * ((w - eye) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    logger.info("adapter trained on %d questions, final loss %.4f", len(keep), loss.item())
    return w.detach().numpy().astype(np.float32)


def labelled_clauses(index: ClauseIndex, questions: Sequence[Question]) -> list[list[int]]:
    """Per question, the ids of the current-version clauses its relevant items name."""

    scope = set(Filters().allowed_docs(index))
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(index.clauses):
        if c.doc_id in scope and c.label:
            by_key.setdefault((normalise_title(index.docs[c.doc_id].title), c.label), []).append(i)
    return [
        [i for r in q.relevant for i in by_key.get((r.title, r.label), [])
         if r.matches_clause(index.docs[index.clauses[i].doc_id].title, index.clauses[i])]
        for q in questions
    ]  # fmt: skip


def fit(
    index: ClauseIndex,
    questions: Sequence[Question],
    clean: bool = True,
    settings: TrainSettings = TrainSettings(),
    source: str = "",
    show_progress: bool = False,
    embedder: Embedder | None = None,
    dense_weight: float = DENSE_WEIGHT,
) -> QueryAdapter:
    """Train an adapter for `index`'s embedder on labelled questions (queries cleaned as a search cleans them).

    Raises:
        ValueError: the index has no dense tier, or no question names a clause of the index.
    """
    from rag.embedding.embed import make_embedder

    vectors = index.vectors()
    if vectors is None:
        raise ValueError("the index has no transformer tier yet: run `rag complete --index DIR` first")
    positives = labelled_clauses(index, questions)
    used = sum(1 for p in positives if p)
    if not used:
        raise ValueError("none of the questions names a clause of this index (check titles and labels)")
    embedder = embedder or make_embedder(index.spec)
    queries = embedder.embed_queries([clean_query(q.query) if clean else q.query for q in questions])
    matrix = train(queries, positives, vectors, settings, show_progress)
    info = {
        "trained_on": source, "questions": used, "clauses": len(index), "clean_query": clean,
        "settings": asdict(settings), "dense_weight": dense_weight,
    }  # fmt: skip
    library = frozenset(normalise_title(d.title) for d in index.docs.values())
    return QueryAdapter(matrix, index.spec.id, info, library)
