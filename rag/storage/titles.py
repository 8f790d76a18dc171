"""The title/文号 lookup of a store (`rag.text.vocab.TitleLookup`) and its documents' places, built once per
state of its documents.

Search (documents a question names), answers (references resolved to documents) and evaluation
share it: a province's library holds hundreds of thousands of documents, so it is not rebuilt per
question. A store replaces its `docs` mapping when its documents change, so the mapping's identity
is the state.
"""

from __future__ import annotations

import threading
from pathlib import PurePath

from rag.storage.store import DocInfo, Store
from rag.text.places import division_name, folder_place, leading_place
from rag.text.vocab import TitleLookup

_MAX = 4  # stores (or states) remembered at once
_LOOKUPS: dict[int, tuple[object, TitleLookup]] = {}  # id(store.docs) -> (that mapping, its lookup)
_PLACES: dict[int, tuple[object, dict[str, str]]] = {}  # id(store.docs) -> (that mapping, doc id -> place)
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


def doc_place(doc: DocInfo) -> str | None:
    """The division a document belongs to (`rag.text.places` code): the place its issuer starts with, else its
    title's (上海市住宅物业管理规定 → 上海市), else the place its folder is named after (…/闵行区/通知.docx);
    None for a national or unplaced document."""
    return (
        (doc.issuer and leading_place(doc.issuer))
        or leading_place(doc.title)
        or folder_place(PurePath(doc.source).parts[:-1])
    )


def places_of(store: Store) -> dict[str, str]:
    """Doc id -> place code, for the documents of `store` that belong to a place."""
    docs = store.docs
    with _LOCK:
        got = _PLACES.get(id(docs))
    if got is not None and got[0] is docs:
        return got[1]
    where = {d.doc_id: p for d in docs.values() if (p := doc_place(d))}
    with _LOCK:
        if len(_PLACES) >= _MAX:
            _PLACES.clear()
        _PLACES[id(docs)] = (docs, where)
    return where


def place_names(store: Store) -> dict[str, str]:
    """The places the documents of `store` belong to, code -> name in code order (a province before its cities),
    for choosing one (`Filters.place`)."""
    return {c: division_name(c) or c for c in sorted(set(places_of(store).values()))}
