"""Cross-references: the references written in a clause, resolved to clauses of the library.

Parsing is `rag.text.numerals.find_refs` (pure, text layer); here each mention becomes a `Ref`
pointing at a document and clause of a `Store`:

- 本法/本条例…第X条, a bare 第X条: that article of the same document (`Store.by_label`);
- 本条第Y款 and 前款 / 前两款: the same article, so the citing clause itself;
- 前条: the previous article label of the same document (第十三条 -> 第十二条; 第十三条之一 -> 第十三条);
- 《title》 / 《title》第X条 / 某某法第X条: the document whose normalised title matches
  (`normalise_title`), the newest when several do; 《title》（文号）: the document with that 文号
  (both through the store's `TitleLookup`, `rag.storage.titles.titles_of`).

A reference that cannot be resolved keeps `target_doc=None` (not in the library).

`referring(store, clause)` finds the clauses that refer to a clause by scanning the store:
clause ids are `f"{doc_id}:{i}"` for `i in range(doc.n_clauses)` (the splitter numbers a
document's clauses 0..n-1 and every store keeps those ordinals), fetched one document at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.answers.types import Ref
from rag.storage.store import DocInfo, Store
from rag.storage.titles import titles_of
from rag.text.numerals import RefMention, article_label, cn_int, find_refs
from rag.text.split import Clause
from rag.text.vocab import CN_NUMERALS, CN_ONE_TO_TEN, TitleLookup, normalise_title

_ARTICLE = re.compile(rf"^第([{CN_NUMERALS}\d]+)条(之[{CN_ONE_TO_TEN}]+)?$")
_FETCH_BATCH = 512


def previous_article(label: str) -> str | None:
    """'第十三条' -> '第十二条', '第十三条之一' -> '第十三条'; None for the first article or a non-article label."""
    m = _ARTICLE.match(label)
    if not m:
        return None
    if m.group(2):
        return f"第{m.group(1)}条"
    n = cn_int(m.group(1).replace("两", "二"))
    return article_label(str(n - 1)) if n and n > 1 else None


def _first(store: Store, doc_id: str, label: str | None) -> Clause | None:
    if not label:
        return None
    found = store.by_label(doc_id, label)
    return found[0] if found else None


def _article_of(clause: Clause) -> str | None:
    return clause.label if _ARTICLE.match(clause.label) else None


def _ref(m: RefMention, doc: DocInfo | None, label: str | None, target: Clause | None) -> Ref:
    return Ref(
        text=m.text, start=m.start, end=m.end,
        target_doc=doc.doc_id if doc is not None else None,
        target_label=label if doc is not None else None,
        target_clause=target.clause_id if target is not None else None,
        target_title=doc.title if doc is not None else None,
    )  # fmt: skip


def resolve_mention(m: RefMention, clause: Clause, doc: DocInfo, store: Store, titles: TitleLookup) -> Ref:
    """One parsed mention in `clause` (of `doc`) -> its `Ref`."""
    if m.kind in ("self", "bare"):
        target = _first(store, doc.doc_id, m.article)
        return _ref(m, doc if target else None, m.article, target)
    if m.kind in ("this", "previous_paragraph"):
        return _ref(m, doc, clause.label, clause)
    if m.kind == "previous_article":
        label = previous_article(_article_of(clause) or "")
        target = _first(store, doc.doc_id, label)
        return _ref(m, doc if target else None, label, target)
    found_id = titles.find(m.title, m.doc_number)  # "document"
    found = store.docs.get(found_id) if found_id is not None else None
    if found is None:
        return _ref(m, None, None, None)
    if m.article is None:
        return _ref(m, found, None, None)
    target = _first(store, found.doc_id, m.article)
    return _ref(m, found if target else None, m.article, target)


def resolve(clause: Clause, doc: DocInfo, store: Store, titles: TitleLookup | None = None) -> tuple[Ref, ...]:
    """The references written in `clause` (of `doc`), each with the clause it points at (see module doc).

    Args:
        titles: the store's lookup (`titles_of(store)`, the default), or another one.
    """
    mentions = find_refs(clause.text)
    if not mentions:
        return ()
    titles = titles if titles is not None else titles_of(store)
    return tuple(resolve_mention(m, clause, doc, store, titles) for m in mentions)


def iter_clauses(store: Store, doc: DocInfo) -> Iterator[Clause]:
    """A document's clauses in order, fetched in batches by their ids `f"{doc_id}:{i}"`."""
    for lo in range(0, doc.n_clauses, _FETCH_BATCH):
        hi = min(doc.n_clauses, lo + _FETCH_BATCH)
        yield from store.fetch([f"{doc.doc_id}:{i}" for i in range(lo, hi)])


def _may_cite(text: str, same_doc: bool, names: tuple[str, ...]) -> bool:
    """Cheap filter before parsing: could `text` hold a reference to the target?"""
    if same_doc:
        return "第" in text or "前" in text or "本条" in text
    return any(n and n in text for n in names)


def referring(store: Store, clause: Clause, titles: TitleLookup | None = None) -> list[tuple[Clause, Ref]]:
    """Clauses of the library that refer to `clause`, with the reference, in document order.

    Scans every document lazily (`iter_clauses`, one batch in memory at a time): clauses of the
    same document are parsed when they contain 第/前/本条; clauses of other documents only when
    they contain the target document's title (normalised, or as written) or its 文号. A reference
    counts when it resolves to this clause, or to its article label in its document (a long
    article split in parts is referred to through its first part). A clause's reference to itself
    (本条, 前款) is left out.
    """
    doc = store.docs.get(clause.doc_id)
    if doc is None:
        return []
    titles = titles if titles is not None else titles_of(store)
    names = tuple(n for n in (normalise_title(doc.title), doc.title, doc.doc_number) if n)
    out: list[tuple[Clause, Ref]] = []
    for other in store.docs.values():
        same = other.doc_id == doc.doc_id
        for c in iter_clauses(store, other):
            if c.clause_id == clause.clause_id or not _may_cite(c.text, same, names):
                continue
            for r in resolve(c, other, store, titles):
                if r.target_doc != doc.doc_id:
                    continue
                hit = r.target_clause == clause.clause_id or (
                    r.target_label is not None and r.target_label == clause.label
                )
                if hit and not (same and c.label == clause.label):
                    out.append((c, r))
    return out
