"""rag: search Chinese policy documents clause by clause, with exact citations.

The front door::

    import rag

    rag.build(["corpus"], index="index")          # read, split and index a library (again: only what changed)
    lib = rag.open("index")                        # or "milvus:lib.db", "milvus:http://HOST:19530#NAME"
    for hit in lib.search("双随机抽查比例", k=3):
        print(hit.citation, hit.clause.text)
    print(lib.ask("双随机抽查比例是多少？").answer.text)

`open` returns a `rag.interfaces.library.Library`, the service the app and the HTTP API use.
(`build` is not called `ingest` because `rag.ingest` is the ingest layer's package, which Python
sets on `rag` once it is imported.) Importing `rag` imports nothing else: each function imports what
it needs when called.

The folders are the layers, lowest first: settings (rag/settings.py: every RAG_* variable), text,
reading, embedding, storage, ingest, citing, search, answers, evaluation, interfaces; each imports only
the layers below it (tests/test_layers.py keeps it so).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.ingest.pipeline import IngestReport
    from rag.interfaces.library import Library

__version__ = "0.1.0"
__all__ = ["build", "open", "__version__"]


def open(spec: str | Path = "index", *, llm: str | None = None) -> Library:  # noqa: A001 (rag.open, as io.open)
    """Open the library at `spec` for searching and asking.

    Args:
        spec: a folder index (what `rag ingest --index` built), ``milvus:FILE.db`` or
            ``milvus:http://HOST:19530[#COLLECTION]``.
        llm: an OpenAI-compatible chat server (``URL#MODEL``) for `Library.ask(..., generate=True)`;
            default: env RAG_LLM.

    Returns:
        A `Library`: `search(q, k=5, filters=None, mode="hybrid", config=None)` returns ranked `Hit`s
        (`citation`, `clause.text`, `doc`, `score`); `ask(q, k=5, ..., generate=False)` an `AskResult`
        (`answer.text`, `answer.short`, `hits`). A newer generation written by another process is
        picked up by the next question.

    Raises:
        rag.storage.errors.IndexLoadError: nothing usable at `spec` (the message says what to run).
        ValueError: a malformed spec.
    """
    from rag.interfaces.library import Library

    return Library.open(spec, llm=llm)


def build(
    paths: Sequence[str | Path] | str | Path,
    index: str | Path = "index",
    *,
    embedder: str | None = None,
    show_progress: bool = False,
) -> IngestReport:
    """Add, update or remove the documents under `paths` in the folder index `index`, as `rag ingest`.

    Only new and changed files are read again; documents that were under `paths` and are gone are
    removed. A file that cannot be read is listed in the report's `failures` with its reason, and the
    rest go on.

    Args:
        paths: files or folders (one, or a list).
        index: the index folder (created when missing).
        embedder: as `rag ingest --embedder` (e.g. "hash:64", a sentence-transformers model); default:
            the one the index was built with, else the bundled e5 model.
        show_progress: progress bars on the terminal.

    Returns:
        The report: `documents`, `clauses`, `added`, `changed`, `removed`, `failures`, ….

    Raises:
        ValueError: nothing under `paths` could be loaded, or a malformed `embedder`.
        rag.ingest.pipeline.IndexBusyError: another process is writing this index.
    """
    from rag.embedding.embed import parse_spec
    from rag.ingest.pipeline import ingest

    many = [paths] if isinstance(paths, (str, Path)) else list(paths)
    spec = parse_spec(embedder) if embedder else None
    return ingest(many, index, spec, show_progress=show_progress)
