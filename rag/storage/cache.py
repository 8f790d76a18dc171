"""Cache: clause key -> BM25 tokens and, per embedder, its vector; in one SQLite file.

The key is a hash of the exact text a clause is indexed with (see `index.passage_text`),
so an unchanged or renamed document is never tokenised or embedded twice. Every batch
is committed as it is written: a killed ingest resumes from the last committed batch.
SQLite in WAL mode keeps the file consistent across crashes. Vectors are raw float32
bytes; tokens are JSON. No pickle.

Nothing read from the cache is trusted: a vector of the wrong dimension or length, with
NaN/inf or not of unit norm, and a token list that is not a JSON list of strings, are
deleted (and so recomputed). A cache file that is not a usable database is moved aside
with a warning and started afresh: a cache can only cost time, never fail an ingest.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from rag.storage.passages import Tokenizer, clause_key, field_texts, lexical_tokenizer, passage_text
from rag.storage.store import DocInfo
from rag.text.split import Clause
from rag.text.terms import LexicalConfig, terms_digest
from rag.text.tokens import tokenize

logger = logging.getLogger(__name__)

CACHE_FILE = "cache.sqlite"
_CHUNK = 900  # below SQLite's bound-parameter limit
TOKEN_CHUNK = 2000  # clauses tokenised per committed batch
_TABLES = {"tokens": ["key", "tokens"], "vectors": ["embedder", "key", "dim", "vec"]}
NORM_TOLERANCE = 1e-3


class DiskFullError(OSError, ValueError):
    """No space left on device while writing the index or its cache; the previous index is intact.

    Also a ValueError, so callers that report ValueErrors as plain messages (the CLI) show it so.
    """


def _disk_full(path: Path) -> DiskFullError:
    return DiskFullError(
        errno.ENOSPC,
        f"no space left on device while writing {path}; free space and run the ingest again — "
        "the previous index is intact",
    )


LOCK_TIMEOUT_S = 20.0  # how long to wait for another program's lock on the cache before giving up


class CacheLockedError(ValueError):
    """Another program holds a lock on the clause cache; nothing was changed."""


def _is_locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc).lower() for w in ("locked", "busy"))


def _locked(path: Path) -> CacheLockedError:
    return CacheLockedError(
        f"the clause cache {path} is locked by another program (a sqlite3 shell, a backup, another "
        f"ingest?) and stayed locked for {LOCK_TIMEOUT_S:g} s; close it and run the ingest again — the "
        "index is unchanged"
    )


def _is_full(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or (
        isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()
    )


class ClauseCache:
    """Tokens and embeddings of clause texts, keyed by content hash (and embedder id)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except (sqlite3.DatabaseError, _Unusable, OSError) as exc:
            if _is_full(exc):  # a full disk is not a corrupt cache: keep it
                raise _disk_full(self.path) from exc
            if _is_locked(exc):  # nor is a locked one
                raise _locked(self.path) from exc
            if isinstance(exc, OSError) and not isinstance(exc, sqlite3.DatabaseError):
                raise
            self._move_aside(exc)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        """Connect, create the tables if new and check their schema; `_Unusable` or DatabaseError if bad."""
        for suffix in ("", "-wal", "-shm"):  # never let SQLite follow a planted link out of the folder
            p = Path(f"{self.path}{suffix}")
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(st.st_mode):
                raise _Unusable(f"{p} is not a regular file")
        db = sqlite3.connect(str(self.path), timeout=LOCK_TIMEOUT_S)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, tokens TEXT NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (embedder TEXT NOT NULL, key TEXT NOT NULL, dim INTEGER NOT NULL,"
                " vec BLOB NOT NULL, PRIMARY KEY (embedder, key))"
            )
            db.commit()
            for table, cols in _TABLES.items():
                have = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                if have != cols:
                    raise _Unusable(f"table {table} has columns {have}, expected {cols}")
            db.execute("SELECT count(*) FROM tokens").fetchone()
            db.execute("SELECT count(*) FROM vectors").fetchone()
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self, exc: BaseException) -> None:
        """Rename the unusable cache (and its -wal/-shm) with a timestamp; a fresh one is built."""
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{os.getpid()}")
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            if os.path.lexists(p):
                os.replace(p, f"{aside}{suffix}")
        logger.warning(
            "clause cache %s is unusable (%s); moved aside to %s and rebuilt empty: clauses are tokenised "
            "and embedded again", self.path, exc, aside,
        )  # fmt: skip

    def _reset(self, exc: BaseException) -> None:
        """The database failed while in use: close it, move it aside, continue with an empty one."""
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        self._move_aside(exc)
        self._db = self._open()

    def close(self) -> None:
        """Checkpoint the WAL into the database (no -wal left growing) and close."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        self._db.close()

    def __enter__(self) -> ClauseCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _select(self, sql: str, keys: Sequence[str], *params) -> list[tuple]:
        uniq = list(dict.fromkeys(keys))
        rows: list[tuple] = []
        try:
            for i in range(0, len(uniq), _CHUNK):
                part = uniq[i : i + _CHUNK]
                rows += self._db.execute(sql.format(",".join("?" * len(part))), (*params, *part)).fetchall()
        except sqlite3.DatabaseError as exc:
            if _is_locked(exc):
                raise _locked(self.path) from exc
            self._reset(exc)
            return []
        return rows

    def _write(self, sql: str, rows: Iterable[tuple]) -> None:
        """Run one write and commit it; rolled back with a clear error when the disk is full."""
        try:
            self._db.executemany(sql, rows)
            self._db.commit()
        except (sqlite3.Error, OSError) as exc:
            try:
                self._db.rollback()
            except sqlite3.Error:
                pass
            if _is_full(exc):
                raise _disk_full(self.path) from exc
            if _is_locked(exc):
                raise _locked(self.path) from exc
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
                self._reset(exc)  # corrupt underneath us: start afresh; this batch is simply not cached
                return
            raise

    def _delete(self, table: str, where: str, rows: list[tuple]) -> None:
        if rows:
            logger.warning("clause cache %s: %d invalid %s rows deleted (recomputed)", self.path, len(rows), table)
            self._write(f"DELETE FROM {table} WHERE {where}", rows)

    def tokens(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Cached tokens for those of `keys` that have them (invalid rows are deleted, not returned)."""
        out, bad = {}, []
        for k, t in self._select("SELECT key, tokens FROM tokens WHERE key IN ({})", keys):
            try:
                v = json.loads(t)
            except (TypeError, ValueError):
                v = None
            if isinstance(v, list) and all(isinstance(x, str) for x in v):
                out[k] = v
            else:
                bad.append((k,))
        self._delete("tokens", "key = ?", bad)
        return out

    def put_tokens(self, items: dict[str, list[str]]) -> None:
        self._write(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?)",
            [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()],
        )

    def vectors(self, embedder_id: str, keys: Sequence[str], dim: int | None = None) -> dict[str, np.ndarray]:
        """Valid cached vectors of `embedder_id` for those of `keys` that have them.

        A row is valid when its dimension is `dim` (when given), its blob is 4*dim bytes, all
        values are finite and its norm is 1 (or 0: a text with no features); others are deleted.
        """
        out, bad = {}, []
        sql = "SELECT key, dim, vec FROM vectors WHERE embedder = ? AND key IN ({})"
        for k, d, blob in self._select(sql, keys, embedder_id):
            v = _valid_vector(d, blob, dim)
            if v is None:
                bad.append((embedder_id, k))
            else:
                out[k] = v
        if dim is None and out:  # dimension unknown: keep the prevailing one only
            dims = [len(v) for v in out.values()]
            common = max(set(dims), key=dims.count)
            bad += [(embedder_id, k) for k, v in out.items() if len(v) != common]
            out = {k: v for k, v in out.items() if len(v) == common}
        self._delete("vectors", "embedder = ? AND key = ?", bad)
        return out

    def put_vectors(self, embedder_id: str, keys: Sequence[str], vecs: np.ndarray) -> None:
        """Store one batch and commit it (a checkpoint)."""
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        self._write(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
            [(embedder_id, k, vecs.shape[1], vecs[i].tobytes()) for i, k in enumerate(keys)],
        )


class _Unusable(Exception):
    """The cache file is not one this code wrote (wrong schema, not a regular file)."""


def _valid_vector(d: object, blob: object, dim: int | None) -> np.ndarray | None:
    """The vector a cache row holds, or None when the row cannot be trusted."""
    if not isinstance(d, int) or d <= 0 or (dim is not None and d != dim):
        return None
    if not isinstance(blob, bytes) or len(blob) != 4 * d:
        return None
    v = np.frombuffer(blob, dtype=np.float32)
    if not np.all(np.isfinite(v)):
        return None
    norm = float(np.linalg.norm(v))
    if norm > 1e-6 and abs(norm - 1.0) > NORM_TOLERANCE:
        return None
    return v


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


def lexical_tokens(
    cache: ClauseCache,
    docs: Mapping[str, DocInfo],
    clauses: Sequence[Clause],
    lexical: LexicalConfig,
    terms: Sequence[str],
    show_progress: bool = False,
) -> list[list[str]]:
    """Every clause's BM25 tokens under `lexical` settings with this term list (see `passages.clause_tokens`).

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
