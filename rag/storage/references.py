"""References between documents: the 《title》, 《title》（文号）, 某某法第X条 and bare 文号 a clause writes,
resolved to the document version they name. No model; nothing read but the documents and clauses given.

- `Resolver` holds a library's documents by normalised title, wrapped title (the document a 印发
  notice wraps) and 文号 key; `Resolver.cited` resolves one clause's mentions: a title names the
  version current on the citing document's date (`version_at`), a 文号 exactly that document.
- `clause_citations` / `build_citations` turn that into `CitationRecord`s (citing doc_id and
  clause_id, the mention as written, the cited doc_id, the article cited or None for the whole
  document), leaving out references to another version of the citing document itself and to what
  the clause repeals ("原《X》同时废止"). `build_citations` takes the documents and a way to read
  their clauses, so ingest can call it before a store exists; records round-trip through JSON
  (`CitationRecord.to_dict` / `from_dict`).

`rag.citing.timeline` and `rag.citing.citations` build on these.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from rag.storage.store import CitationRecord, DocInfo
from rag.text.gongwen import repeal_statements, wrapped_title
from rag.text.numerals import find_refs
from rag.text.split import Clause
from rag.text.vocab import DOC_NUMBER, LAW_TYPES, ORDER_NUMBER, doc_number_key, normalise_title

_NUMBER = re.compile(f"{DOC_NUMBER}|{ORDER_NUMBER}")
# a clause names another document by title only with 《 or as 某某法第X条 (a document type before 第)
_MAY_NAME = re.compile("|".join(["《", *(re.escape(w) + "第" for w in LAW_TYPES)]))
# a clause holding none of these names no other document (every 文号 ends in 号): what a store reads in bulk
CITE_MARKERS = ("《", "号", *(w + "第" for w in LAW_TYPES))


def may_cite(text: str) -> bool:
    """Whether a clause's text can name another document (holds one of `CITE_MARKERS`)."""
    return any(m in text for m in CITE_MARKERS)


def is_notice(d: DocInfo) -> bool:
    """Whether `d` is a notice issuing (印发/转发) another document."""
    return wrapped_title(d.title) is not None


def base_title(d: DocInfo) -> str:
    """The name of what the document holds: its title, or the title of the document a notice wraps."""
    return normalise_title(wrapped_title(d.title) or d.title)


def names(ref: str, d: DocInfo) -> bool:
    """Whether `ref` (a title or a 文号 as a text writes it) names `d` (or the document it wraps)."""
    if d.doc_number and doc_number_key(ref) == doc_number_key(d.doc_number):
        return True
    return normalise_title(ref.strip("《》")) in {normalise_title(d.title), base_title(d)}


def same_document(a: DocInfo, b: DocInfo) -> bool:
    """Whether `a` and `b` are one document or two versions of it (the same normalised title)."""
    return a.doc_id == b.doc_id or normalise_title(a.title) == normalise_title(b.title)


def version_at(candidates: Iterable[DocInfo], date: str | None) -> DocInfo | None:
    """The version current on `date`: the newest dated on or before it, else the oldest (None: no date: the newest)."""
    docs = list(candidates)
    if not docs:
        return None
    key = lambda d: (d.date or "", d.revised)  # noqa: E731
    before = [d for d in docs if date and d.date and d.date <= date]
    if before:
        return max(before, key=key)
    return min(docs, key=key) if date else max(docs, key=key)


class Resolver:
    """The documents of a library by normalised title, wrapped title and 文号 key."""

    def __init__(self, docs: Mapping[str, DocInfo]):
        self.docs = docs
        self.by_title: dict[str, list[DocInfo]] = {}
        self.wrapping: dict[str, list[DocInfo]] = {}
        self.by_number: dict[str, list[DocInfo]] = {}
        for d in docs.values():
            if is_notice(d):
                self.wrapping.setdefault(base_title(d), []).append(d)
            self.by_title.setdefault(normalise_title(d.title), []).append(d)
            if d.doc_number:
                self.by_number.setdefault(doc_number_key(d.doc_number), []).append(d)

    def titled(self, title: str) -> list[DocInfo]:
        """Documents of this title (not notices wrapping one); else the notices wrapping a document of it."""
        t = normalise_title(title)
        return [d for d in self.by_title.get(t, []) if not is_notice(d)] or self.wrapping.get(t, [])

    def cited(self, clause: Clause, date: str | None) -> list[tuple[DocInfo, str]]:
        """The documents `clause` names (《title》, 《title》（文号）, 某某法第X条, a bare 文号), with the
        mention as written, in order; a title names the version current on `date`."""
        return [(d, text) for d, text, _ in self.mentions(clause, date)]

    def mentions(self, clause: Clause, date: str | None) -> list[tuple[DocInfo, str, str | None]]:
        """As `cited`, with the article each mention cites (None: the whole document): the resolved
        《title》/某某法 mentions in order, then the bare 文号."""
        text = clause.text
        out: list[tuple[DocInfo, str, str | None]] = []
        taken: list[tuple[int, int]] = []
        for m in find_refs(text) if _MAY_NAME.search(text) else ():
            if m.kind != "document":
                continue
            taken.append((m.start, m.end))
            found = self.by_number.get(doc_number_key(m.doc_number), []) if m.doc_number else []
            doc = found[0] if len(found) == 1 else version_at(found or self.titled(m.title or ""), date)
            if doc is not None:
                out.append((doc, m.text, m.article))
        for m in _NUMBER.finditer(text) if "号" in text else ():  # every 文号 ends in 号
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            number = m.group(0)
            for i in range(len(number)):  # the agency is the longest run of Han characters: try shorter ones
                found = self.by_number.get(doc_number_key(number[i:]), [])
                if found:
                    out.append((found[0], number[i:], None))
                    break
        return out


def clause_citations(resolver: Resolver, doc: DocInfo, clause: Clause) -> list[CitationRecord]:
    """The references of `clause` (of `doc`) to other documents, in order; a mention the clause repeats
    counts once; another version of `doc` itself and a document the clause repeals are left out."""
    found = resolver.mentions(clause, doc.date)
    if not found:
        return []
    repealed = [ref for ref, _ in repeal_statements(clause.text)]
    out: list[CitationRecord] = []
    seen = set()
    for cited, text, article in found:
        if (cited.doc_id, text) in seen or same_document(cited, doc) or any(names(r, cited) for r in repealed):
            continue
        seen.add((cited.doc_id, text))
        out.append(CitationRecord(doc.doc_id, clause.clause_id, text, cited.doc_id, article))
    return out


def iter_citations(
    docs: Mapping[str, DocInfo], clauses_of: Callable[[str], Sequence[Clause]]
) -> Iterator[tuple[DocInfo, Clause, CitationRecord]]:
    """Every document's citations with the citing document and clause, in document and clause order."""
    resolver = Resolver(docs)
    for d in docs.values():
        for clause in clauses_of(d.doc_id):
            for r in clause_citations(resolver, d, clause):
                yield d, clause, r


def build_citations(docs: Mapping[str, DocInfo], clauses_of: Callable[[str], Sequence[Clause]]) -> list[CitationRecord]:
    """The citations of a library: `docs` by doc_id, `clauses_of(doc_id)` a document's clauses in order
    (`Store.doc_clauses`, or the clauses ingest has just split)."""
    return [r for _, _, r in iter_citations(docs, clauses_of)]
