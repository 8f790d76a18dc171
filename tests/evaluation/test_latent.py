"""The latent-terms measurement (rag.evaluation.latent): a real third signal, fused as the searcher fuses."""

from __future__ import annotations

import numpy as np
import pytest

from rag.evaluation.latent import clause_vectors, ranks
from rag.storage.index import ClauseIndex
from tests.conftest import REPO

QUESTIONS = REPO / "tests" / "data" / "sample_questions.jsonl"
pytest.importorskip("scipy")


def test_latent_terms_rank_the_sample(sample_index_dir, tmp_path):
    cache = tmp_path / "latent.npz"
    got = ranks(str(sample_index_dir), str(QUESTIONS), cache=cache)
    n = len(got["hybrid 1:1, no adapter"])
    assert n > 10 and all(len(v) == n for v in got.values())
    assert set(got) >= {"latent terms alone", "hybrid 1:1, no adapter + latent terms 1", "query adapter, 3:1"}

    def r10(rows: list[int | None]) -> float:
        return float(np.mean([bool(r and r <= 10) for r in rows]))

    assert r10(got["latent terms alone"]) >= 0.5  # a signal of its own, not noise
    assert r10(got["hybrid 1:1, no adapter"]) >= 0.8
    # the clause vectors were kept and are read back (same rows, no recomputation)
    index = ClauseIndex.load(sample_index_dir)
    kept = clause_vectors(index, None, cache)
    assert kept.shape[0] == len(index) and kept.nnz > 0
