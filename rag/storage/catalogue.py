"""The catalogue: which documents are versions of one another, which of them are no longer current,
and each one's status (现行有效, 已修改, 已废止, 尚未施行) on a date.

`superseded_versions` reads it from the documents' metadata alone (titles, 文号, dates, issuers, the
repeals a document states or reports, files a librarian replaced), so every store computes the same.
`status_book(store)` adds the date each document takes effect (`rag.text.effective`, read from its
clauses once per store state) and answers status and "in force on a date" questions.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from rag.storage.store import DocInfo, Store, Supersession
from rag.text.effective import effective_date
from rag.text.gongwen import wrapped_title
from rag.text.vocab import normalise_title

VERSIONS_DIR = ".versions"  # where the app keeps replaced library files
STATUSES = ("现行有效", "已修改", "已废止", "尚未施行")


def _names(d: DocInfo) -> set[str]:
    """Its title, its number, the title of the document it wraps (normalised)."""
    names = (normalise_title(d.title), normalise_title(wrapped_title(d.title) or d.title), d.doc_number)
    return {n for n in names if n}


def _name_lookup(docs: list[DocInfo]) -> Callable[[str], list[DocInfo]]:
    """ref (a title or a 文号, as a document writes it) -> the documents of that name."""
    by_name: dict[str, list[DocInfo]] = {}
    for d in docs:
        for name in _names(d):
            by_name.setdefault(name, []).append(d)

    def named(ref: str) -> list[DocInfo]:
        found = by_name.get(ref, []) + by_name.get(normalise_title(ref), [])
        return list({d.doc_id: d for d in found}.values())

    return named


def superseded_versions(docs: Iterable[DocInfo]) -> dict[str, Supersession]:
    """doc_id -> what replaced it, for documents that are no longer current.

    The strongest evidence is a document that says so: "《…》（甬民发〔2021〕15号）同时废止" names
    the title or the 文号 of the one it repeals (never a newer one); a title also names the
    document an 印发 notice of that title wraps. A repeal that a third document reports (a 解读:
    "《Y》自…施行，《X》同时废止") makes X superseded by Y, the document that repeals it, when Y is
    in the library (its newest version), never by the report. Otherwise documents with the
    same real title (ignoring 中华人民共和国, dates and 修订/修正 marks) and the same issuer
    where known are versions of one another: the latest date is current, or, on the same date,
    the one marked 修订/修正. Documents of one title and one date with no revision mark (the
    parts of a code) are not versions of each other. A file a librarian replaced in the app is kept
    as `<library>/.versions/<stamp>/<name>` and is superseded by the file now at `<library>/<name>`.
    """
    docs = list(docs)
    out: dict[str, Supersession] = {}
    by_title: dict[str, list[DocInfo]] = {}
    for d in docs:
        by_title.setdefault(normalise_title(d.title), []).append(d)
    named = _name_lookup(docs)

    def issues(b: DocInfo, a: DocInfo) -> bool:
        """b is the 印发 notice of a (it wraps a's title and is not older): never repealed by a."""
        wrapped = wrapped_title(b.title)
        same = bool(wrapped) and normalise_title(wrapped) == normalise_title(a.title)
        return same and (b.date or "") >= (a.date or "")

    def repeal(a: DocInfo, ref: str, why: str) -> None:
        for b in named(ref):
            if b.doc_id != a.doc_id and not (a.date and b.date and b.date > a.date) and b.doc_id not in out \
                    and not issues(b, a):
                out[b.doc_id] = Supersession(a.doc_id, why)

    for a in docs:
        for ref in a.repeals:
            what = f"《{a.title}》" + (f"（{a.doc_number}）" if a.doc_number else "")
            repeal(a, ref, f"{what}明确废止了它（“{ref}”）")
    for r in docs:  # repeals reported by a third document: the repealing one replaces, if it is here
        for ref, agent in r.repeal_reports:
            candidates = [d for d in named(agent) if d.doc_id != r.doc_id]
            if candidates:
                a = max(candidates, key=lambda d: (d.date or "", d.revised))
                what = f"《{a.title}》" + (f"（{a.doc_number}）" if a.doc_number else "")
                repeal(a, ref, f"{what}废止了它（据《{r.title}》：“{ref}”）")
    by_source = {str(Path(d.source)): d for d in docs}
    for d in docs:  # a file a librarian replaced, kept as <library>/.versions/<stamp>/<name>
        parts = Path(d.source).parts
        if VERSIONS_DIR in parts[:-2] and d.doc_id not in out:
            at = len(parts) - 1 - parts[::-1].index(VERSIONS_DIR)
            current = by_source.get(str(Path(*parts[:at], *parts[at + 2 :])))
            if current is not None:
                out[d.doc_id] = Supersession(current.doc_id, f"被替换下来的旧版本（{parts[at + 1]} 替换）")
    for group in by_title.values():
        issuers = {d.issuer for d in group if d.issuer}
        if len(group) < 2 or len(issuers) > 1:
            continue
        dated = [d for d in group if d.date]
        if len({(d.date, d.revised) for d in dated}) < 2:
            continue
        newest = max(dated, key=lambda d: (d.date, d.revised))
        for d in dated:
            if d.doc_id not in out and (d.date, d.revised) < (newest.date, newest.revised):
                why = "修订版" if newest.revised and newest.date == d.date else f"{newest.date} 的新版本"
                out[d.doc_id] = Supersession(newest.doc_id, f"同名文件《{newest.title}》有{why}")
    return out


def repealed_without_successor(docs: Iterable[DocInfo]) -> dict[str, str | None]:
    """doc_id -> the date of the report, for documents a third one reports repealed ("《X》同时废止")
    by a document that is not in the library (`superseded_versions` has nothing to point them to)."""
    docs = list(docs)
    named = _name_lookup(docs)
    out: dict[str, str | None] = {}
    for r in docs:
        for ref, agent in r.repeal_reports:
            if any(d.doc_id != r.doc_id for d in named(agent)):
                continue
            for b in named(ref):
                if b.doc_id != r.doc_id and not (r.date and b.date and b.date > r.date):
                    out.setdefault(b.doc_id, r.date)
    return out


class StatusBook:
    """Each document's effective date and its status on a date, for one state of a store.

    `effective`: the date the document says it takes effect (`rag.text.effective.effective_date`:
    "自…起施行", "施行日期", "自印发之日起施行" -> its own date), else its own date. A document is in
    force on a day when it exists and has taken effect by then (its own date and its effective date
    are both on or before it: an amended law keeping "本法自1999年10月1日起施行" counts from its own
    date) and nothing has replaced it yet: no newer version of it and no document repealing it is in
    force by then (a repeal a third document reports, with no repealing document here, counts from
    the report's date). Status on a day: 尚未施行 before its effective date; 已修改 once a newer
    version of the same document (same title, the notice wrapping it, or a file a librarian
    replaced) is in force; 已废止 once another document repealing it is; else 现行有效.

    `texts(doc_id)` gives a document's text; it is read once per document, when first needed.
    """

    def __init__(
        self, docs: Mapping[str, DocInfo], superseded: Mapping[str, Supersession], texts: Callable[[str], str]
    ):
        self.docs, self.superseded, self._texts = docs, superseded, texts
        self._effective: dict[str, str | None] = {}
        self._unreplaced = repealed_without_successor(docs.values())
        self._replaced: dict[str, list[str]] = {}  # replacing doc_id -> the doc_ids it replaced
        for old, s in superseded.items():
            self._replaced.setdefault(s.by, []).append(old)

    def effective(self, doc_id: str) -> str | None:
        """The date the document takes effect (YYYY-MM-DD), or None when it states none and has no date."""
        if doc_id not in self._effective:
            d = self.docs[doc_id]
            self._effective[doc_id] = effective_date(self._texts(doc_id), d.date)
        return self._effective[doc_id]

    def started(self, doc_id: str) -> str:
        """The first day it is in force: the later of its own date and its effective date ("" unknown)."""
        return max(self.docs[doc_id].date or "", self.effective(doc_id) or "")

    def revision(self, doc_id: str) -> bool:
        """Whether what replaced it is a newer version of the same document (else a separate one repealed it)."""
        s = self.superseded.get(doc_id)
        if s is None or s.by not in self.docs:
            return False
        old, new = self.docs[doc_id], self.docs[s.by]
        return bool(_names(old) & _names(new)) or VERSIONS_DIR in Path(old.source).parts

    def replaced_on(self, doc_id: str) -> str | None:
        """The first day something replacing it is in force ("" unknown), or None: nothing replaces it."""
        s = self.superseded.get(doc_id)
        if s is None:
            return (self._unreplaced[doc_id] or "") if doc_id in self._unreplaced else None
        d = self.docs[doc_id]
        later = [  # versions between it and the newest: each replaced it when it took effect
            o for o in self._replaced.get(s.by, ())
            if o != doc_id and normalise_title(self.docs[o].title) == normalise_title(d.title)
            and (self.docs[o].date or "", self.docs[o].revised) > (d.date or "", d.revised)
        ]  # fmt: skip
        return min(self.started(o) for o in [s.by, *later] if o in self.docs)

    def status(self, doc_id: str, on: str | None = None) -> str:
        """现行有效, 已修改, 已废止 or 尚未施行 on the day `on` (YYYY-MM-DD; None: today)."""
        on = on or dt.date.today().isoformat()
        effective = self.effective(doc_id)
        if effective and effective > on:
            return "尚未施行"
        replaced = self.replaced_on(doc_id)
        if replaced is not None and replaced <= on:
            return "已修改" if self.revision(doc_id) else "已废止"
        return "现行有效"

    def in_force(self, on: str, all_versions: bool = False) -> set[str]:
        """The documents in force on the day `on`; `all_versions`: also those replaced by then."""
        out = set()
        for doc_id in self.docs:
            if self.started(doc_id) > on:
                continue
            replaced = self.replaced_on(doc_id)
            if all_versions or replaced is None or replaced > on:
                out.add(doc_id)
        return out


_BOOKS: weakref.WeakKeyDictionary[Store, StatusBook] = weakref.WeakKeyDictionary()


def status_book(store: Store) -> StatusBook:
    """The `StatusBook` of the store as it is now: built once per state (its documents and
    supersessions), reading each document's clauses from the store when first needed."""
    book = _BOOKS.get(store)
    if book is None or book.docs is not store.docs or book.superseded is not store.superseded:
        ref = weakref.ref(store)

        def texts(doc_id: str) -> str:
            s = ref()
            return "" if s is None else "\n".join(c.text for c in s.doc_clauses(doc_id))

        book = StatusBook(store.docs, store.superseded, texts)
        _BOOKS[store] = book
    return book
