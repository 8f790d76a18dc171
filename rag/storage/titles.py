"""The title/文号 lookup of a store (`rag.text.vocab.TitleLookup`), its documents' places and its older yearly
editions, built once per state of its documents.

Search (documents a question names), answers (references resolved to documents) and evaluation
share it: a province's library holds hundreds of thousands of documents, so it is not rebuilt per
question. A store replaces its `docs` mapping when its documents change, so the mapping's identity
is the state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import TypeVar

from rag.storage.store import DocInfo, Store
from rag.text.editions import edition
from rag.text.places import division_name, folder_place, leading_place
from rag.text.vocab import TitleLookup

_MAX = 4  # stores (or states) remembered at once, per kind of lookup
_KEPT: dict[tuple[str, int], tuple[object, object]] = {}  # (kind, id(store.docs)) -> (that mapping, what was built)
_LOCK = threading.Lock()
T = TypeVar("T")


def _per_state(kind: str, store: Store, build: Callable[[Mapping[str, DocInfo]], T]) -> T:
    """`build(store.docs)`, remembered while the store keeps that mapping (a new state is a new mapping)."""
    docs = store.docs
    with _LOCK:
        got = _KEPT.get((kind, id(docs)))
    if got is not None and got[0] is docs:
        return got[1]  # type: ignore[return-value]
    made = build(docs)
    with _LOCK:
        if sum(k == kind for k, _ in _KEPT) >= _MAX:
            for key in [key for key in _KEPT if key[0] == kind]:
                del _KEPT[key]
        _KEPT[(kind, id(docs))] = (docs, made)
    return made


def titles_of(store: Store) -> TitleLookup:
    """The lookup over `store.docs`, newest first (by date, then the version marked 修订/修正)."""

    def build(docs: Mapping[str, DocInfo]) -> TitleLookup:
        newest = sorted(docs.values(), key=lambda d: (d.date or "", d.revised), reverse=True)
        return TitleLookup.build((d.doc_id, d.title, d.doc_number) for d in newest)

    return _per_state("titles", store, build)


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
    return _per_state("places", store, lambda docs: {d.doc_id: p for d in docs.values() if (p := doc_place(d))})


def place_names(store: Store) -> dict[str, str]:
    """The places the documents of `store` belong to, code -> name in code order (a province before its cities),
    for choosing one (`Filters.place`)."""
    return {c: division_name(c) or c for c in sorted(set(places_of(store).values()))}


def older_editions(store: Store) -> dict[str, str]:
    """Id of each document of `store` that a later yearly edition of its series supersedes in practice
    (`rag.text.editions`) -> the id of the newest edition: 江城市2023年政务服务工作要点 -> 江城市2024年… . A
    series is one issuer's (or, the issuer unknown, one place's): 关于做好2024年汛期安全防范工作的通知 of one
    county is no edition of another's."""

    def build(docs: Mapping[str, DocInfo]) -> dict[str, str]:
        series: dict[tuple[str, str], list[tuple[int, str]]] = {}
        for d in docs.values():
            if found := edition(d.title):
                series.setdefault((d.issuer or doc_place(d) or "", found[0]), []).append((found[1], d.doc_id))
        newest = {key: max(got) for key, got in series.items()}
        return {i: newest[key][1] for key, got in series.items() for year, i in got if year < newest[key][0]}

    return _per_state("editions", store, build)
