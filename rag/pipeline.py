"""Pipeline: paths -> a saved index, in one call (what `rag ingest` and the app run).

load every file (failures reported, not fatal) -> split -> embed (reusing the vectors
of unchanged clauses from the index already there) -> save atomically.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .embed import DEFAULT_SPEC, EmbedderSpec, make_embedder
from .index import ClauseIndex, IndexLoadError, Progress, exists
from .load import LoadError, load_paths

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did."""

    documents: int
    clauses: int
    failures: tuple[LoadError, ...] = field(default=())
    embedded: int = 0
    seconds: float = 0.0
    lexical_seconds: float = 0.0
    dense_seconds: float = 0.0
    index_dir: str = ""


def ingest(
    paths: Sequence[str | Path],
    index_dir: str | Path = "index",
    spec: EmbedderSpec | None = None,
    show_progress: bool = True,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> IngestReport:
    """Index the documents under `paths` into `index_dir` (replacing what it held).

    Vectors of clauses whose embedded text is unchanged are reused from the existing
    index when it was built with the same embedder.

    Raises:
        ValueError: no document under `paths` could be loaded.
    """
    t0 = time.perf_counter()
    docs, failures = load_paths(paths)
    if not docs:
        reasons = "; ".join(f"{e.source}: {e.reason}" for e in failures) or "no supported files found"
        raise ValueError(f"nothing to index under {', '.join(map(str, paths))} ({reasons})")
    previous = None
    if exists(index_dir):
        try:
            previous = ClauseIndex.load(index_dir)
        except IndexLoadError as exc:
            logger.warning("not reusing the existing index: %s", exc)
    spec = spec or (previous.spec if previous else DEFAULT_SPEC)
    embedder = make_embedder(spec)
    index = ClauseIndex.build(
        docs, embedder, reuse=previous, batch_size=batch_size, show_progress=show_progress, progress=progress
    )
    index.save(index_dir)
    timings = index.manifest.get("timings", {})
    return IngestReport(
        documents=len(index.docs),
        clauses=len(index),
        failures=tuple(failures),
        embedded=int(timings.get("embedded", 0)),
        seconds=time.perf_counter() - t0,
        lexical_seconds=float(timings.get("lexical_s", 0.0)),
        dense_seconds=float(timings.get("dense_s", 0.0)),
        index_dir=str(index_dir),
    )
