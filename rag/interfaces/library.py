"""The library service: one store (a folder index or Milvus) kept open for the app, the API and `rag.open`.

`Library` opens the store the way the CLI does (a damaged current generation falls back to the
previous complete one: `fallback` and `problems` say so), reloads it when `CURRENT` names another
generation (a Milvus store re-reads its document records instead), keeps the last good store in
service when a reload fails, and runs searches one at a time (`lock`: a searcher's caches and
lazily built models are not made for concurrent use). `ModelServer` is the chat server for
generated answers, from the server's settings only (`RAG_LLM`, `RAG_LLM_TIMEOUT`), never one a
visitor names. `public`/`scrub` turn results and messages into what a client may see: sources
relative to the library, no absolute path of the index or a Milvus file. `citations` is the store's
citation graph (`rag.citing.citations.CitationGraph`), built by the first search or question after
each (re)load and shared: every hit it returns carries `cited_by`, `doc_cited_by` and `stale_refs`.

The app (app.py) and the API (`rag.interfaces.api`) both use it, so both behave the same on every
fault: no index → `IndexLoadError` (the API: 503; the app: "文库暂时无法使用"), a store failing
under a search → `IndexLoadError`, refused input → `ValueError`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag import settings
from rag.answers.ask import answer_hits
from rag.answers.generate import parse_llm
from rag.answers.types import AskResult
from rag.citing.citations import CitationGraph
from rag.search.retrieve import Filters, Hit, SearchConfig, Searcher
from rag.storage.errors import IndexLoadError
from rag.storage.generations import current_key
from rag.storage.store import Store
from rag.storage.stores import open_store, parse_store_spec
from rag.storage.titles import places_of

logger = logging.getLogger(__name__)

MAX_SEARCHERS = 8  # searchers kept for distinct search settings


def with_citations(hits: Sequence[Hit], graph: CitationGraph) -> list[Hit]:
    """`hits` with what `graph` says of each clause: `cited_by`, `doc_cited_by` and `stale_refs`."""
    return [replace(h, cited_by=graph.cited_by(h.clause), doc_cited_by=graph.doc_cited_by(h.doc.doc_id),
                    stale_refs=tuple(graph.stale_refs(h.clause.clause_id))) for h in hits]  # fmt: skip


class ModelServerError(ValueError):
    """Generated answers cannot be given: no model server is configured, or its setting is malformed
    (`malformed`; the reason is in the server log, not in the message)."""

    def __init__(self, message: str, malformed: bool = False):
        super().__init__(message)
        self.malformed = malformed


class ModelServer:
    """The chat server for generated answers: `llm` (``URL#MODEL``) and `timeout` given, else the
    settings' `RAG_LLM` and `RAG_LLM_TIMEOUT`. A malformed setting is logged once and refused per
    request (`spec()`), never at startup: searches and extractive answers go on."""

    def __init__(self, llm: str | None = None, timeout: float | None = None, env: settings.Settings | None = None):
        env = env or settings.current()
        self.llm = (env.llm if llm is None else llm.strip()) or None
        self.timeout = env.llm_timeout if timeout is None else timeout
        self.error: str | None = None
        try:
            if self.llm:
                parse_llm(self.llm)
            env.check(settings.LLM_TIMEOUT, settings.LLM_CONCURRENCY)
            if not 0 < self.timeout <= settings.MAX_LLM_TIMEOUT:
                raise ValueError(f"the model timeout must be 1 to {settings.MAX_LLM_TIMEOUT:.0f} seconds, "
                                 f"got {self.timeout}")  # fmt: skip
        except ValueError as exc:
            logger.error("generated answers are off: %s", exc)
            self.error = str(exc)

    @property
    def available(self) -> bool:
        """Whether generated answers can be asked for."""
        return self.llm is not None and self.error is None

    def spec(self) -> str:
        """The `URL#MODEL` to generate with.

        Raises:
            ModelServerError: no model server is configured, or its setting is malformed (`malformed`).
        """
        if self.error:
            raise ModelServerError(
                f"generated answers are unavailable: the server's {settings.LLM}/{settings.LLM_TIMEOUT} setting "
                "is malformed (its administrator can read why in the server log)", malformed=True)  # fmt: skip
        if not self.llm:
            raise ModelServerError(f"generate=true needs a model server, and this server has none ({settings.LLM} "
                                   "is not set); ask without generate for the extractive answer")  # fmt: skip
        return self.llm


class Library:
    """One store kept open and current; see the module docstring.

    Args:
        index_dir: the folder index (also the name shown for it; used for a Milvus store's messages only).
        store: a Milvus store spec (``milvus:FILE.db`` or ``milvus:http://HOST:19530[#COLLECTION]``); None
            or a folder spec: the `index_dir` folder.
        reload_s: how often, at most, `CURRENT` is checked (a Milvus store's records re-read).
        model: the chat server for generated answers (default: from the settings).
    """

    def __init__(self, index_dir: str | Path = "index", store: str | None = None, reload_s: float = 2.0,
                 model: ModelServer | None = None):  # fmt: skip
        self.index_dir = Path(index_dir)
        self.store = store if store and parse_store_spec(store)[0] == "milvus" else None  # else: the folder
        self.reload_s = reload_s
        self.model = model or ModelServer()
        self.lock = threading.RLock()
        self.generation: str | None = None  # the folder's current generation (None: pointer damaged, or Milvus)
        self.error: str | None = None  # why the last (re)load failed
        self._key: str | None = None
        self._base: Searcher | None = None
        self._searchers: OrderedDict[SearchConfig, Searcher] = OrderedDict()
        self._checked = float("-inf")
        self._root: str | None = None  # the library folder, for relative sources (per generation)
        self._graph: CitationGraph | None = None  # the citation graph of the store in service, once built
        self._graph_lock = threading.Lock()  # one build at a time

    @classmethod
    def open(cls, spec: str | Path = "index", *, llm: str | None = None, reload_s: float = 2.0) -> Library:
        """The library at `spec` (a folder index, ``milvus:FILE.db`` or ``milvus:http://HOST:19530[#NAME]``),
        loaded now.

        Raises:
            IndexLoadError: nothing usable there (the message says what to run).
            ValueError: a malformed spec.
        """
        text = str(spec)
        kind = parse_store_spec(text)[0]
        lib = cls(text if kind == "folder" else "index", text if kind == "milvus" else None, reload_s,
                  ModelServer(llm))  # fmt: skip
        lib.searcher()
        return lib

    # ------------------------------------------------------------ the store

    @property
    def index(self) -> Store:
        """The store in service (loaded, or reloaded, now if due).

        Raises:
            IndexLoadError: no store could be loaded.
        """
        return self.searcher().index

    # What the store in service (as last loaded; nothing is reloaded for these) says of itself.

    @property
    def fallback(self) -> bool:
        """Whether the store in service is an older generation because the current one is damaged."""
        index = self._in_service()
        return index is not None and index.fallback

    @property
    def problems(self) -> tuple[str, ...]:
        """The damage found when the store in service was loaded (empty: none)."""
        index = self._in_service()
        return tuple(str(p) for p in index.problems) if index is not None else ()

    @property
    def manifest(self) -> Mapping:
        """What the store in service records of itself (`Store.manifest`: creation time, skipped files, …);
        empty when none is loaded."""
        index = self._in_service()
        return index.manifest if index is not None else {}

    def _in_service(self) -> Store | None:
        base = self._base
        return base.index if base is not None else None

    def refresh(self) -> None:
        """Load the store if it is not loaded or `CURRENT` changed (at most every `reload_s` seconds)."""
        with self.lock:
            now = time.monotonic()
            if now - self._checked < self.reload_s:
                return
            self._checked = now
            key = self.store or current_key(self.index_dir)  # a Milvus collection has no generations
            if self._base is not None and key == self._key:
                if self.store and self._milvus_changed():
                    self._base = Searcher(self._base.index, embedder=self._base.embedder)  # a fresh document scope
                    self._searchers.clear()
                return
            try:
                index = open_store(self.store or str(self.index_dir))
            except (IndexLoadError, OSError, ValueError) as exc:  # keep serving the last good one, if any
                logger.warning("index %s not loaded: %s", self.store or self.index_dir, exc)
                self.error = str(exc)
                return
            old = self._base
            self._base = Searcher(index, embedder=old.embedder if old and old.index.spec == index.spec else None)
            self._searchers.clear()
            self._root = None
            self._key, self.error = key, None
            self.generation = None if self.store or key.startswith("damaged:") else key
            logger.info("loaded index %s (generation %s, %d clauses)", self.store or self.index_dir, key, len(index))

    def _milvus_changed(self) -> bool:
        """Re-read a Milvus store's document records; whether they changed (another process ingested)."""
        index = self._in_service()
        if index is None:
            return False
        try:
            return index.refresh()
        except Exception as exc:  # a server gone for a moment: keep serving what was read last
            logger.warning("Milvus store %s not refreshed: %s", self.store, exc)
            return False

    def searcher(self, config: SearchConfig | None = None) -> Searcher:
        """The searcher for `config` (default settings when None) over the store in service.

        Raises:
            IndexLoadError: no store could be loaded (the message says why).
            ValueError: the settings are refused (e.g. a missing adapter).
        """
        self.refresh()
        with self.lock:
            base = self._base
            if base is None:
                raise IndexLoadError(self.error or f"no index in {self.index_dir}")
            if config is None or config == base.config:
                return base
            s = self._searchers.get(config)
            if s is None:
                s = Searcher(base.index, embedder=base.embedder, config=config)
                self._searchers[config] = s
                if len(self._searchers) > MAX_SEARCHERS:
                    self._searchers.popitem(last=False)
            self._searchers.move_to_end(config)
            return s

    def citations(self, index: Store | None = None) -> CitationGraph:
        """The citation graph of `index` (default: the store in service), built when first asked for after
        each (re)load: a store's state is its object and its `docs` and `superseded` mappings (a reload,
        or a Milvus store's re-read records, gives new ones).

        Raises:
            IndexLoadError: no store could be loaded.
        """
        index = index if index is not None else self.index
        with self._graph_lock:
            g = self._graph
            if g is None or g.store is not index or g.docs is not index.docs or g.superseded is not index.superseded:
                t0 = time.perf_counter()
                g = self._graph = CitationGraph.of(index)
                logger.info("citation graph of %s: %d citations in %.2fs", self.store or self.index_dir,
                            len(g.citations), time.perf_counter() - t0)  # fmt: skip
            return g

    def cited(self, hits: Sequence[Hit], index: Store) -> list[Hit]:
        """`hits` (of `index`) with their `cited_by`, `doc_cited_by` and `stale_refs` (`with_citations`)."""
        return with_citations(hits, self.citations(index))

    def warm(self) -> None:
        """Load the store, the embedder, the documents' places and the citation graph now, so the first question
        is not the slow one."""
        try:
            s = self.searcher()
        except IndexLoadError:
            return
        with self.lock:
            s.search("预热", k=1)
        places_of(s.index)  # about 0.05 ms a document
        self.citations(s.index)

    # ------------------------------------------------------------ questions

    def search(self, question: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid",
               config: SearchConfig | None = None) -> list[Hit]:  # fmt: skip
        """The `k` best clauses for `question` (cut to its first 2,000 characters), as `rag search`.

        Args:
            filters: which documents (default: the current versions of all).
            mode: "hybrid", "lexical" or "dense".
            config: search settings (`rag search --set`); default: the library's.

        Raises:
            IndexLoadError: no store could be loaded, or it failed under the search.
            ValueError: a bad k, mode or setting, or an embedder that cannot be loaded offline.
        """
        searcher = self.searcher(config)
        with self.lock:
            hits = searcher.search(question, k=k, filters=filters, mode=mode)
        return self.cited(hits, searcher.index)

    def ask(self, question: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid",
            config: SearchConfig | None = None, generate: bool = False) -> AskResult:  # fmt: skip
        """The answer to `question` with its hits and references, as `rag ask`: the extractive span, or
        with `generate` a model-written answer whose every sentence is checked against the clauses.

        Only the search holds `lock`: a slow model does not hold up other questions.

        Raises:
            ModelServerError: `generate` and no usable model server.
            IndexLoadError, ValueError: as `search`.
        """
        llm = self.model.spec() if generate else None
        searcher = self.searcher(config)
        with self.lock:
            hits = searcher.search(question, k=k, filters=filters, mode=mode)
        meaning = searcher.meaning(question, mode)

        def locked_meaning(texts: Sequence[str]) -> np.ndarray:  # the searcher's embedder and caches: one at a time
            with self.lock:
                return meaning(texts)

        return answer_hits(searcher.index, question, self.cited(hits, searcher.index), llm, self.model.timeout,
                           locked_meaning if meaning else None)  # fmt: skip

    # ------------------------------------------------------------ what clients see

    def public(self, value: object) -> object:
        """`value` (a JSON-able result) as clients see it: each "source" relative to the library (the
        folder all documents share), and no absolute path of the index in any text."""
        if isinstance(value, dict):
            return {k: self.relative(v) if k == "source" and isinstance(v, str) else self.public(v)
                    for k, v in value.items()}  # fmt: skip
        if isinstance(value, list):
            return [self.public(v) for v in value]
        return self.scrub(value) if isinstance(value, str) else value

    def relative(self, source: str) -> str:
        """A document's path relative to the library root (the longest folder all sources share)."""
        root = self._root
        if root is None and self._base is not None:
            parents = [os.path.dirname(d.source) for d in self._base.index.docs.values()] or [""]
            try:
                root = self._root = os.path.commonpath(parents)
            except ValueError:  # relative and absolute paths mixed
                root = self._root = ""
        if root and (source == root or source.startswith(root.rstrip(os.sep) + os.sep)):
            return os.path.relpath(source, root)
        return os.path.basename(source) if os.path.isabs(source) else source

    def scrub(self, text: str) -> str:
        """`text` with the index folder's and a Milvus store file's absolute paths replaced by their names
        (error messages, /health)."""
        name = self.index_dir.name
        places = {str(self.index_dir.resolve()): name, str(self.index_dir.absolute()): name}
        if self.store:
            target = parse_store_spec(self.store)[1]
            if target and "://" not in target:
                for p in {target, str(Path(target).absolute()), str(Path(target).resolve())}:
                    if os.path.isabs(p):
                        places[p] = Path(target).name
        for path in sorted(places, key=len, reverse=True):
            if len(path) > 1:
                text = text.replace(path, places[path] or "index")
        return text
