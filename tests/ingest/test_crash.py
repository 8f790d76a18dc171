"""SIGKILL an ingest at random moments: the index stays loadable and a rerun converges."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

from rag.search.retrieve import Searcher
from rag.storage.generations import exists
from rag.storage.index import ClauseIndex
from tests.conftest import LAWS, needs_shared

CORPUS = [str(LAWS / "民法典"), str(LAWS / "宪法")]


def _ingest_cmd(index_dir):
    return [sys.executable, "-m", "rag.interfaces.cli", "ingest", *CORPUS, "--index", str(index_dir),
            "--embedder", "hash:64", "--batch-size", "16", "-q"]  # fmt: skip


def _snapshot(index_dir):
    idx = ClauseIndex.load(index_dir)
    return [(idx.docs[c.doc_id].source, c.label, c.headings, c.text, c.start, c.end, c.part) for c in idx.clauses]


@needs_shared
def test_sigkill_at_20_random_points(tmp_path):
    t0 = time.perf_counter()
    ref = subprocess.run(_ingest_cmd(tmp_path / "ref"), capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr
    full = time.perf_counter() - t0
    expected = _snapshot(tmp_path / "ref")
    rng = random.Random(20261124)
    kills = 0
    for round_ in range(4):  # 4 fresh indexes, 5 kills each, every kill resuming the last one's work
        idx = tmp_path / f"run{round_}"
        for _ in range(5):
            proc = subprocess.Popen(_ingest_cmd(idx), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, full))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            if exists(idx):  # whatever generation is current must load and answer
                index = ClauseIndex.load(idx)
                hits = Searcher(index).search("民法典第五十四条", k=3)
                assert hits and hits[0].clause.label == "第五十四条"
        rerun = subprocess.run(_ingest_cmd(idx), capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        assert _snapshot(idx) == expected
        assert ClauseIndex.load(idx).tiers == {"lexical": True, "dense": True}
    assert kills == 20
