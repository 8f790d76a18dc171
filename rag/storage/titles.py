"""The title/文号 lookup of a store (`rag.text.vocab.TitleLookup`), built once per state of its documents.

Search (documents a question names), answers (references resolved to documents) and evaluation
share it: a province's library holds hundreds of thousands of documents, so it is not rebuilt per
question. A store replaces its `docs` mapping when its documents change, so the mapping's identity
is the state.
"""

from __future__ import annotations

import threading

from rag.storage.store import Store
from rag.text.vocab import TitleLookup

_MAX = 4  # stores (or states) remembered at once
_LOOKUPS: dict[int, tuple[object, TitleLookup]] = {}  # id(store.docs) -> (that mapping, its lookup)
_LOCK = threading.Lock()


def titles_of(store: Store) -> TitleLookup:
    """The lookup over `store.docs`, newest first (by date, then the version marked 修订/修正)."""
    docs = store.docs
    with _LOCK:
        got = _LOOKUPS.get(id(docs))
    if got is not None and got[0] is docs:
        return got[1]
    newest = sorted(docs.values(), key=lambda d: (d.date or "", d.revised), reverse=True)
    lookup = TitleLookup.build((d.doc_id, d.title, d.doc_number) for d in newest)
    with _LOCK:
        if len(_LOOKUPS) >= _MAX:
            _LOOKUPS.clear()
        _LOOKUPS[id(docs)] = (docs, lookup)
    return lookup
