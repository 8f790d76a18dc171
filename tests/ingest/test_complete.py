"""Background completion runs the ingest layer's own entry point (`python -m rag.ingest.complete`), never the CLI."""

from __future__ import annotations

import subprocess
import sys

from rag.ingest import complete, pipeline
from rag.ingest.pipeline import ingest, status
from rag.storage.index import ClauseIndex
from tests.ingest.test_pipeline import DOCS, HASH, _write


def test_background_ingest_starts_the_ingest_entry_point_detached(tmp_path, monkeypatch):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    _write(lib, DOCS)
    started = []

    class Proc:
        pid = 4242

        def __init__(self, args, **kwargs):
            started.append((args, kwargs))

    monkeypatch.setattr(pipeline.subprocess, "Popen", Proc)
    rep = ingest([lib], idx, HASH, background=True, show_progress=False, batch_size=5)
    assert rep.background_pid == 4242
    (args, kwargs), = started
    assert args == [sys.executable, "-m", "rag.ingest.complete", "--index", str(idx), "--batch-size", "5"]
    assert kwargs["start_new_session"] and kwargs["stdin"] == subprocess.DEVNULL
    assert kwargs["stdout"].name == kwargs["stderr"].name  # one log, in the index folder
    assert (idx / "background.log").exists()
    assert status(idx)["state"] == "embedding" and ClauseIndex.load(idx).tiers == {"lexical": True, "dense": False}

    assert complete.main(["--index", str(idx), "-q"]) == 0  # what that process runs
    assert ClauseIndex.load(idx).tiers == {"lexical": True, "dense": True}
    st = status(idx)
    assert (st["state"], st["done"], st["total"]) == ("complete", 6, 6)


def test_the_entry_point_names_what_is_wrong(tmp_path, capsys):
    assert complete.main(["--index", str(tmp_path / "none")]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith(f"rag complete: no index in {tmp_path / 'none'}")


def test_the_entry_point_runs_as_a_module(tmp_path):
    lib, idx = tmp_path / "lib", tmp_path / "idx"
    _write(lib, DOCS)
    run = subprocess.run([sys.executable, "-m", "rag.ingest.complete", "--index", str(idx), "-q"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 2 and "rag complete: no index in" in run.stderr
    ingest([lib], idx, HASH, show_progress=False)
    run = subprocess.run([sys.executable, "-m", "rag.ingest.complete", "--index", str(idx), "-q"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert (run.returncode, run.stdout) == (0, "transformer tier complete (0 clauses embedded)\n")
