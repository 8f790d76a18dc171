"""Citations: every reference a document's clauses make to another document, and the stale ones.

A `Citation` is a clause naming another document of the library (《title》, 《title》（文号）,
某某法第X条, a bare 文号), resolved as `rag.citing.timeline` resolves it: a title names the
version in force on the citing document's date, a 文号 exactly that document. It keeps the
article cited (第九条), if any. References to another version of the citing document itself
("原《X》同时废止" in the new X) are left out.

A citation is stale (`Stale`) when the citing document is in force (not 已修改/已废止) and the
cited version is no longer (`rag.storage.catalogue.status_book`). Its `reason`:

- revised / repealed: the whole document is cited, and it was revised (a newer version
  replaced it) or repealed (by another document, or with nothing in the library replacing it);
- moved / changed / removed: an article of a revised law is cited, and in the newest version
  (aligned by `rag.text.align`, as `rag diff` does) that text now has another number
  (第九条 → 第二十条), has the same number but other words, or is gone. An article whose
  number and text are both unchanged is not stale: the citation still reads right;
- repealed also for an article of a repealed document (no newer text to align with).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rag.citing.timeline import _Library, _names
from rag.storage.catalogue import status_book
from rag.storage.store import DocInfo, Store
from rag.text.align import Pair, align
from rag.text.gongwen import repeal_statements
from rag.text.numerals import find_refs
from rag.text.split import Clause
from rag.text.vocab import normalise_title

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


@dataclass(frozen=True)
class Stale:
    """A citation of a document or article no longer in force: why, what replaced it, the new article."""

    citation: Citation
    reason: str  # a key of REASONS
    status: str  # the cited version's status: 已修改 or 已废止
    replacement: DocInfo | None = None  # the newest document replacing the cited one
    new_article: str | None = None  # the article(s) the cited text is now ("第二十条"; "第五条、第六条" when split)

    def to_dict(self) -> dict:
        """The JSON shape of `rag citations --stale --json`."""
        c = self.citation

        def doc(d: DocInfo | None) -> dict | None:
            return None if d is None else {"doc_id": d.doc_id, "title": d.title, "date": d.date}

        return {"doc_id": c.doc.doc_id, "title": c.doc.title, "date": c.doc.date, "label": c.clause.label,
                "clause_id": c.clause.clause_id, "mention": c.mention, "cited": {**doc(c.cited), "status": self.status},
                "article": c.article, "replacement": doc(self.replacement), "new_article": self.new_article,
                "reason": self.reason}  # fmt: skip


def _same_document(a: DocInfo, b: DocInfo) -> bool:
    return a.doc_id == b.doc_id or normalise_title(a.title) == normalise_title(b.title)


def citations(store: Store) -> Iterator[Citation]:
    """Every resolved reference of every document to another one, in document and clause order (a mention
    a clause repeats counts once)."""
    lib = _Library(store.docs)
    for d in store.docs.values():
        for clause in store.doc_clauses(d.doc_id):
            found = lib.cited(clause, d.date)
            if not found:
                continue
            # lib.cited gives the resolved 《title》/某某法 mentions in order, then bare 文号: pair them with
            # the parsed mentions to know the article
            mentions = iter([m for m in find_refs(clause.text) if m.kind == "document"])
            repealed = [ref for ref, _ in repeal_statements(clause.text)]
            seen = set()
            for cited, text in found:
                article = next((m.article for m in mentions if m.text == text), None)
                if (cited.doc_id, text) in seen or _same_document(cited, d) or any(_names(r, cited) for r in repealed):
                    continue
                seen.add((cited.doc_id, text))
                yield Citation(d, clause, text, cited, article)


def _newest(store: Store, doc_id: str) -> DocInfo | None:
    """The end of the chain of documents replacing `doc_id` (None: nothing does)."""
    seen = {doc_id}
    s = store.superseded.get(doc_id)
    while s is not None and s.by in store.docs and s.by not in seen:
        seen.add(s.by)
        doc_id = s.by
        s = store.superseded.get(doc_id)
    return store.docs[doc_id] if len(seen) > 1 else None


def stale(store: Store) -> list[Stale]:
    """The stale citations of the library (see the module doc), by citing document (date, title), in clause order."""
    book = status_book(store)
    aligned: dict[tuple[str, str], list[Pair]] = {}
    out = []
    for c in citations(store):
        status = book.status(c.cited.doc_id)
        if status not in NOT_IN_FORCE or book.status(c.doc.doc_id) in NOT_IN_FORCE:
            continue
        newest = _newest(store, c.cited.doc_id)
        revised = newest is not None and book.revision(c.cited.doc_id)
        if c.article is None or not revised:
            out.append(Stale(c, "revised" if revised else "repealed", status, newest))
            continue
        key = (c.cited.doc_id, newest.doc_id)
        if key not in aligned:
            aligned[key] = align(store.doc_clauses(key[0]), store.doc_clauses(key[1]))
        pairs = [p for p in aligned[key] if p.old is not None and p.old.label == c.article]
        labels = list(dict.fromkeys(p.new.label for p in pairs if p.new is not None))
        if not pairs:  # the cited version has no such article: only the document's revision is known
            out.append(Stale(c, "revised", status, newest))
        elif not labels:
            out.append(Stale(c, "removed", status, newest))
        elif labels != [c.article]:
            out.append(Stale(c, "moved", status, newest, "、".join(labels)))
        elif any(p.status != "same" for p in pairs):
            out.append(Stale(c, "changed", status, newest, labels[0]))
    return sorted(out, key=lambda s: (s.citation.doc.date or "9999", s.citation.doc.title, s.citation.doc.doc_id))


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
    return (f"《{c.doc.title}》（{c.doc.date or '日期不详'}） {c.clause.label or '—'}  “{mention}”  "
            f"引用《{c.cited.title}》（{c.cited.date or '日期不详'}，{s.status}）：{now}")  # fmt: skip
