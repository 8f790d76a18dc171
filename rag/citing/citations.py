"""Citations: every reference a document's clauses make to another document, and the stale ones.

A `Citation` is a clause naming another document of the library (《title》, 《title》（文号）,
某某法第X条, a bare 文号), resolved by `rag.storage.references` (as `rag timeline` does; ingest can
call it too): a title names the
version in force on the citing document's date, a 文号 exactly that document. It keeps the
article cited (第九条), if any. References to another version of the citing document itself
("原《X》同时废止" in the new X) are left out.

A citation is stale (`Stale`) when the citing document is in force (not 已修改/已废止) and the
cited version is no longer (`rag.storage.catalogue.status_book`). Its `reason`:

- revised / repealed: the whole document is cited, and it was revised (a newer version
  replaced it) or repealed (by another document, or with nothing in the library replacing it);
- moved / changed / removed: an article of a revised law is cited, and in the newest version
  (aligned by `rag.text.align` with the clause vectors the store holds, as `rag diff` does) that
  text now has another number (第九条 → 第二十条), has the same number but other words, or is
  gone. An article whose number and text are both unchanged is not stale: the citation still reads right;
- repealed also for an article of a repealed document (no newer text to align with);

An article cited by a document older than every version the library holds (a 2017 解释 citing
民事诉讼法第二百三十七条 when the oldest 民事诉讼法 held is of 2021) is matched in that oldest version,
which is right when the revisions between kept the numbering (行政复议法 1999→2017) and wrong when they
did not (民事诉讼法 2017→2021): such an entry says so (`unheld`, "条号按库中最早版本对应，需核对").

A `CitationGraph` holds one state of a library's citations, built once: the stale citations each
clause makes (`stale_refs`) and how often a clause or a document is cited (`cited_by`,
`doc_cited_by`): counted over the clauses of documents in force (not 已修改/已废止), each citing
clause once, a citation counting for the version it resolved to:

- cited_by(clause): clauses citing this clause's article of this version by number (《X》第九条,
  X法第九条, 《X》（文号）第九条 resolving to this document and the clause's label; every part of
  a long article carries it); 0 for a clause that is no article;
- doc_cited_by(doc_id): clauses citing this version, as a whole or any of its articles.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from rag.citing.diff import stored_meaning
from rag.storage.catalogue import status_book
from rag.storage.references import CitationRecord, iter_citations
from rag.storage.store import DocInfo, Store
from rag.text.align import Pair, align
from rag.text.split import Clause

NOT_IN_FORCE = ("已修改", "已废止")
REASONS = {"revised": "已修改", "repealed": "已废止", "moved": "条文已移至新条号", "changed": "条文已修改",
           "removed": "条文已删除"}  # fmt: skip


@dataclass(frozen=True)
class Citation:
    """A clause of `doc` naming document `cited` (the version it resolved to), as `mention` writes it."""

    doc: DocInfo
    clause: Clause
    mention: str
    cited: DocInfo
    article: str | None = None  # "第九条" for an article reference, None for the whole document

    def record(self) -> CitationRecord:
        """The citation by ids, as ingest records it."""
        return CitationRecord(self.doc.doc_id, self.clause.clause_id, self.mention, self.cited.doc_id, self.article)


def _doc(d: DocInfo | None) -> dict | None:
    return None if d is None else {"doc_id": d.doc_id, "title": d.title, "date": d.date}


@dataclass(frozen=True)
class Stale:
    """A citation of a document or article no longer in force: why, what replaced it, the new article."""

    citation: Citation
    reason: str  # a key of REASONS
    status: str  # the cited version's status: 已修改 or 已废止
    replacement: DocInfo | None = None  # the newest document replacing the cited one
    new_article: str | None = None  # the article(s) the cited text is now ("第二十条"; "第五条、第六条" when split)
    unheld: bool = False  # an article cited by a document older than every version held (see the module doc)

    def to_dict(self) -> dict:
        """The JSON shape of `rag citations --stale --json`."""
        c = self.citation
        return {"doc_id": c.doc.doc_id, "title": c.doc.title, "date": c.doc.date, "label": c.clause.label,
                "clause_id": c.clause.clause_id, "mention": c.mention,
                "cited": {**_doc(c.cited), "status": self.status}, "article": c.article,
                "replacement": _doc(self.replacement), "new_article": self.new_article,
                "reason": self.reason, "unheld": self.unheld}  # fmt: skip

    def ref_dict(self) -> dict:
        """The JSON shape of one of a hit's `stale_refs` (the citing clause is the hit's): the mention, the
        version cited, the reason (a key of REASONS, and its words), the replacement and the new article."""
        c = self.citation
        return {"mention": c.mention, "article": c.article, "cited": {**_doc(c.cited), "status": self.status},
                "reason": self.reason, "reason_text": REASONS[self.reason], "replacement": _doc(self.replacement),
                "new_article": self.new_article, "unheld": self.unheld}  # fmt: skip


def citations(store: Store) -> Iterator[Citation]:
    """Every resolved reference of every document to another one, in document and clause order (a mention
    a clause repeats counts once)."""
    held = store.citing_clauses()  # the only clauses that can name another document, read in one pass
    for d, clause, r in iter_citations(store.docs, lambda doc_id: held.get(doc_id, [])):
        yield Citation(d, clause, r.mention, store.docs[r.cited], r.article)


def _newest(store: Store, doc_id: str) -> DocInfo | None:
    """The end of the chain of documents replacing `doc_id` (None: nothing does)."""
    seen = {doc_id}
    s = store.superseded.get(doc_id)
    while s is not None and s.by in store.docs and s.by not in seen:
        seen.add(s.by)
        doc_id = s.by
        s = store.superseded.get(doc_id)
    return store.docs[doc_id] if len(seen) > 1 else None


class CitationGraph:
    """The citations of one state of a store (see the module doc): built once, then each clause's stale
    citations and the counts are looked up. The alignments that place a cited article in the newest
    version are made when a citation of it is first checked, and kept (one thread at a time).

    Args:
        store: the library.
        found: its citations (default: all of them, read from the store now; `from_records` takes
            the records ingest made).
    """

    def __init__(self, store: Store, found: Iterable[Citation] | None = None):
        self.store, self.docs, self.superseded = store, store.docs, store.superseded  # the state it holds
        self.book = status_book(store)
        self.citations = list(citations(store) if found is None else found)
        self._today = dt.date.today().isoformat()
        self._in_force: dict[str, bool] = {}
        self._by_clause: dict[str, list[Citation]] = {}
        self._articles: dict[tuple[str, str], set[str]] = {}  # (cited doc_id, article) -> citing clause ids
        self._docs: dict[str, set[str]] = {}  # cited doc_id -> citing clause ids
        for c in self.citations:
            self._by_clause.setdefault(c.clause.clause_id, []).append(c)
            if not self.in_force(c.doc.doc_id):
                continue
            self._docs.setdefault(c.cited.doc_id, set()).add(c.clause.clause_id)
            if c.article is not None:
                self._articles.setdefault((c.cited.doc_id, c.article), set()).add(c.clause.clause_id)
        self._aligned: dict[tuple[str, str], list[Pair]] = {}
        self._stale: list[Stale] | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, store: Store) -> CitationGraph:
        """The graph of `store`: from the references its last ingest recorded (`Store.citations`), else built
        from its clauses (a store written before they were recorded)."""
        return cls(store) if store.citations is None else cls.from_records(store, store.citations)

    @classmethod
    def from_records(cls, store: Store, records: Iterable[CitationRecord]) -> CitationGraph:
        """The graph of citations recorded earlier (`build_citations`); a record naming a document or
        clause the store no longer has is left out."""
        docs = store.docs
        kept = [r for r in records if r.doc_id in docs and r.cited in docs]
        clauses = {c.clause_id: c for c in store.fetch(list(dict.fromkeys(r.clause_id for r in kept)))}
        return cls(store, (Citation(docs[r.doc_id], clauses[r.clause_id], r.mention, docs[r.cited], r.article)
                           for r in kept if r.clause_id in clauses))  # fmt: skip

    def records(self) -> list[CitationRecord]:
        """The citations by ids (`CitationRecord.to_dict` writes them as JSON)."""
        return [c.record() for c in self.citations]

    def in_force(self, doc_id: str) -> bool:
        """Whether the document's status today is not 已修改/已废止 (its effective date is read only for a
        document something has replaced by today: `StatusBook.status` gives the same answer)."""
        if doc_id not in self._in_force:
            replaced = self.book.replaced_on(doc_id)
            self._in_force[doc_id] = (replaced is None or replaced > self._today
                                      or self.book.status(doc_id, self._today) not in NOT_IN_FORCE)  # fmt: skip
        return self._in_force[doc_id]

    def cited_by(self, clause: Clause) -> int:
        """Clauses of documents in force citing `clause`'s article of its document by number."""
        return len(self._articles.get((clause.doc_id, clause.label), ()))

    def doc_cited_by(self, doc_id: str) -> int:
        """Clauses of documents in force citing document `doc_id` (this version), whole or by article."""
        return len(self._docs.get(doc_id, ()))

    def stale_refs(self, clause_id: str) -> list[Stale]:
        """The stale citations clause `clause_id` makes, in the order it writes them."""
        with self._lock:
            return [s for s in map(self._check, self._by_clause.get(clause_id, ())) if s is not None]

    def stale(self) -> list[Stale]:
        """The stale citations of the library, by citing document (date, title), in clause order."""
        with self._lock:
            if self._stale is None:
                found = [s for s in map(self._check, self.citations) if s is not None]
                self._stale = sorted(found, key=lambda s: (s.citation.doc.date or "9999", s.citation.doc.title,
                                                           s.citation.doc.doc_id))  # fmt: skip
            return self._stale

    def _check(self, c: Citation) -> Stale | None:
        """`c` as a stale citation (see the module doc), or None when it still reads right."""
        if self.in_force(c.cited.doc_id) or not self.in_force(c.doc.doc_id):
            return None
        status = self.book.status(c.cited.doc_id, self._today)
        newest = _newest(self.store, c.cited.doc_id)
        revised = newest is not None and self.book.revision(c.cited.doc_id)
        if c.article is None or not revised:
            return Stale(c, "revised" if revised else "repealed", status, newest)
        found = self._article(c, status, newest)
        if found is not None and c.doc.date and c.cited.date and c.cited.date > c.doc.date:
            return replace(found, unheld=True)  # it cites a version older than any held
        return found

    def _article(self, c: Citation, status: str, newest: DocInfo) -> Stale | None:
        """`c`, a citation of an article of a revised document, as a stale citation (None: it reads right)."""
        key = (c.cited.doc_id, newest.doc_id)
        if key not in self._aligned:
            self._aligned[key] = align(self.store.doc_clauses(key[0]), self.store.doc_clauses(key[1]),
                                       stored_meaning(self.store))  # fmt: skip
        pairs = [p for p in self._aligned[key] if p.old is not None and p.old.label == c.article]
        labels = list(dict.fromkeys(p.new.label for p in pairs if p.new is not None))
        if not pairs:  # the cited version has no such article: only the document's revision is known
            return Stale(c, "revised", status, newest)
        if not labels:
            return Stale(c, "removed", status, newest)
        if labels != [c.article]:
            return Stale(c, "moved", status, newest, "、".join(labels))
        if any(p.status != "same" for p in pairs):
            return Stale(c, "changed", status, newest, labels[0])
        return None


def stale(store: Store) -> list[Stale]:
    """The stale citations of the library (see the module doc), by citing document (date, title), in clause order."""
    return CitationGraph.of(store).stale()


def describe(s: Stale, width: int = 40) -> str:
    """One line: the citing document and clause, the mention, the cited version and what it is now."""
    c = s.citation
    mention = c.mention if len(c.mention) <= width else c.mention[: width - 1] + "…"
    now = f"{REASONS[s.reason]}"
    if s.replacement is not None:
        now += f"，现为《{s.replacement.title}》（{s.replacement.date or '日期不详'}）"
    if s.new_article:
        now += f" {c.article} → {s.new_article}"
    elif s.reason == "removed":
        now += f" {c.article} 已无对应条文"
    if s.unheld:
        now += "（引用文件早于库中最早版本，条号按该版本对应，需核对）"
    return (f"《{c.doc.title}》（{c.doc.date or '日期不详'}） {c.clause.label or '—'}  “{mention}”  "
            f"引用《{c.cited.title}》（{c.cited.date or '日期不详'}，{s.status}）：{now}")  # fmt: skip
