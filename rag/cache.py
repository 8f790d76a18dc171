"""Cache: clause key -> BM25 tokens and, per embedder, its vector; in one SQLite file.

The key is a hash of the exact text a clause is indexed with (see `index.passage_text`),
so an unchanged or renamed document is never tokenised or embedded twice. Every batch
is committed as it is written: a killed ingest resumes from the last committed batch.
SQLite in WAL mode keeps the file consistent across crashes. Vectors are raw float32
bytes; tokens are JSON. No pickle.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

CACHE_FILE = "cache.sqlite"
_CHUNK = 900  # below SQLite's bound-parameter limit


class ClauseCache:
    """Tokens and embeddings of clause texts, keyed by content hash (and embedder id)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, tokens TEXT NOT NULL)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (embedder TEXT NOT NULL, key TEXT NOT NULL, dim INTEGER NOT NULL,"
            " vec BLOB NOT NULL, PRIMARY KEY (embedder, key))"
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ClauseCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _select(self, sql: str, keys: Sequence[str], *params) -> Iterable[tuple]:
        uniq = list(dict.fromkeys(keys))
        for i in range(0, len(uniq), _CHUNK):
            part = uniq[i : i + _CHUNK]
            yield from self._db.execute(sql.format(",".join("?" * len(part))), (*params, *part))

    def tokens(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Cached tokens for those of `keys` that have them."""
        return {k: json.loads(t) for k, t in self._select("SELECT key, tokens FROM tokens WHERE key IN ({})", keys)}

    def put_tokens(self, items: dict[str, list[str]]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?)",
            [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()],
        )
        self._db.commit()

    def vectors(self, embedder_id: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """Cached vectors of `embedder_id` for those of `keys` that have them."""
        out = {}
        sql = "SELECT key, dim, vec FROM vectors WHERE embedder = ? AND key IN ({})"
        for k, d, blob in self._select(sql, keys, embedder_id):
            if len(blob) == 4 * d:
                out[k] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_vectors(self, embedder_id: str, keys: Sequence[str], vecs: np.ndarray) -> None:
        """Store one batch and commit it (a checkpoint)."""
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)",
            [(embedder_id, k, vecs.shape[1], vecs[i].tobytes()) for i, k in enumerate(keys)],
        )
        self._db.commit()
