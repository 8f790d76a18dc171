"""Cross-references: the references written in a clause, resolved to clauses of the library.

Parsing is `rag.text.numerals.find_refs` (pure, text layer); here each mention becomes a `Ref`
pointing at a document and clause of a `Store`:

- 本法/本条例…第X条, a bare 第X条: that article of the same document (`Store.by_label`);
- 本条第Y款 and 前款 / 前两款: the same article, so the citing clause itself;
- 前条: the previous article label of the same document (第十三条 -> 第十二条; 第十三条之一 -> 第十三条);
- 《title》 / 《title》第X条 / 某某法第X条: the document whose normalised title matches
  (`normalise_title`), the newest when several do; 《title》（文号）: the document with that 文号.

A reference that cannot be resolved keeps `target_doc=None` (not in the library).

`referring(store, clause)` finds the clauses that refer to a clause by scanning the store:
clause ids are `f"{doc_id}:{i}"` for `i in range(doc.n_clauses)` (the splitter numbers a
document's clauses 0..n-1 and every store keeps those ordinals), fetched one document at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from rag.answers.types import Ref
from rag.reading.load import normalise_title
from rag.storage.store import DocInfo, Store
from rag.text.numerals import RefMention, article_label, cn_int, find_refs
from rag.text.split import Clause

_ARTICLE = re.compile(r"^第([零〇一二三四五六七八九十百千两\d]+)条(之[一二三四五六七八九十]+)?$")
_BRACKETS = str.maketrans({"〔": "[", "〕": "]", "［": "[", "］": "]", "【": "[", "】": "]"})
_FETCH_BATCH = 512


def _number_key(doc_number: str) -> str:
    """文号 compared without spaces, bracket styles or a 第 before the serial number."""
    return re.sub(r"\s+|第(?=\d+号)", "", doc_number.translate(_BRACKETS))


class Titles:
    """Lookup tables over a store's documents: normalised title -> docs, 文号 -> docs.

    Build once per store state and pass to `resolve` when resolving many clauses.
    """

    def __init__(self, docs: Mapping[str, DocInfo]):
        self.by_title: dict[str, list[DocInfo]] = {}
        self.by_number: dict[str, list[DocInfo]] = {}
        for d in docs.values():
            self.by_title.setdefault(normalise_title(d.title), []).append(d)
            if d.doc_number:
                self.by_number.setdefault(_number_key(d.doc_number), []).append(d)

    @staticmethod
    def _newest(docs: list[DocInfo]) -> DocInfo | None:
        return max(docs, key=lambda d: (d.date or "", not d.revised), default=None)

    def find(self, title: str | None, doc_number: str | None) -> DocInfo | None:
        """The document a reference names: by 文号 first, then by normalised title."""
        if doc_number:
            hit = self._newest(self.by_number.get(_number_key(doc_number), []))
            if hit is not None:
                return hit
        if title:
            return self._newest(self.by_title.get(normalise_title(title), []))
        return None


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


def resolve_mention(m: RefMention, clause: Clause, doc: DocInfo, store: Store, titles: Titles) -> Ref:
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
    found = titles.find(m.title, m.doc_number)  # "document"
    if found is None:
        return _ref(m, None, None, None)
    if m.article is None:
        return _ref(m, found, None, None)
    target = _first(store, found.doc_id, m.article)
    return _ref(m, found if target else None, m.article, target)


def resolve(clause: Clause, doc: DocInfo, store: Store, titles: Titles | None = None) -> tuple[Ref, ...]:
    """The references written in `clause` (of `doc`), each with the clause it points at (see module doc).

    Args:
        titles: `Titles(store.docs)`, to reuse when resolving many clauses; built when None.
    """
    mentions = find_refs(clause.text)
    if not mentions:
        return ()
    titles = titles if titles is not None else Titles(store.docs)
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


def referring(store: Store, clause: Clause, titles: Titles | None = None) -> list[tuple[Clause, Ref]]:
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
    titles = titles if titles is not None else Titles(store.docs)
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
