"""Timeline: one document and the documents related to it, ordered by date (no model).

Built from what the library already records about its documents (`rag.storage.catalogue`: versions
and repeals; `rag.text.gongwen`: 印发 notices and repeal statements) and from the references their
clauses write (《title》, 《title》（文号）, 某某法第X条, a bare 文号; `rag.storage.references` resolves
them). Each `Event` says what the related document is to the one asked about (`RELATIONS`), why
(the clause that says so, verbatim, with its citation; else the catalogue's reason) and its date:

- earlier_version / later_version: versions of the same document (修订; a newer version replaces it);
- repealed / repealed_by: a separate document it repeals, or that repeals it (废止);
- repeal_report: a 解读 or other document reporting it repealed;
- notice / issued: the 印发/转发 notice wrapping it (the notice wraps the version current on its
  date), or, for a notice, the document it wraps;
- supplement / supplemented: a notice whose title says 补充 and names it (《title》 or the title),
  or, for such a notice, the document it supplements (the version current on its date);
- cites / cited_by: a document one of its clauses names, or one naming it (a title names the
  version current on the citing document's date, a 文号 exactly that document).

A document related in several ways appears once per relation; a citation is left out when the
cited document is already related to it otherwise (the notice naming what it wraps). Finding who
cites a document reads every document's clauses once, as `rag.answers.refs.referring` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.citing.cite import citation
from rag.storage.catalogue import status_book
from rag.storage.references import Resolver, base_title, is_notice, names, version_at
from rag.storage.store import DocInfo, Store
from rag.text.gongwen import repeal_statements
from rag.text.split import Clause
from rag.text.vocab import doc_number_key, normalise_title

# relation -> how the text output names it; the order breaks ties between events of one date
RELATIONS = {
    "earlier_version": "旧版本",
    "repealed": "被本文件废止",
    "cites": "本文件引用",
    "self": "本文件",
    "notice": "印发通知",
    "issued": "印发的文件",
    "supplemented": "被补充的文件",
    "supplement": "补充通知",
    "repeal_report": "报告其废止",
    "repealed_by": "废止本文件",
    "later_version": "新版本",
    "cited_by": "引用本文件",
}
_STRUCTURAL = set(RELATIONS) - {"cites", "cited_by", "self"}
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Event:
    """A document related to the one asked about: how, the evidence and its citation (None for a reason)."""

    date: str | None
    relation: str  # a key of RELATIONS
    doc: DocInfo
    evidence: str
    citation: str | None = None

    def to_dict(self) -> dict:
        """The JSON shape of `rag timeline --json`."""
        d = self.doc
        return {"date": self.date, "relation": self.relation, "doc_id": d.doc_id, "title": d.title,
                "doc_number": d.doc_number, "evidence": self.evidence, "citation": self.citation}  # fmt: skip


def _not_after(a: DocInfo, b: DocInfo) -> bool:
    """Whether `a` is not dated after `b` (a document repeals only what is not newer than itself)."""
    return not (a.date and b.date and a.date > b.date)


def _id(d: DocInfo | None) -> str | None:
    return d.doc_id if d is not None else None


def _first(clauses: Iterable[Clause], want) -> Clause | None:
    return next((c for c in clauses if want(c)), None)


def _repeal_clause(store: Store, a: DocInfo, b: DocInfo) -> Clause | None:
    """The clause of `a` saying that `a` repeals `b` ("原《…》同时废止")."""
    return _first(store.doc_clauses(a.doc_id), lambda c: any(by is None and names(ref, b) for ref, by in
                                                             repeal_statements(c.text)))  # fmt: skip


def _naming_clause(store: Store, a: DocInfo, name: str) -> Clause | None:
    """The first clause of `a` that writes `name` (a normalised title)."""
    return _first(store.doc_clauses(a.doc_id), lambda c: name in normalise_title(_SPACE.sub("", c.text)))


def _supplemented(lib: Resolver, d: DocInfo) -> DocInfo | None:
    """The document a 补充通知 supplements: the 《title》 its title quotes, or a title its title contains."""
    if "补充" not in d.title or is_notice(d):
        return None
    quoted = re.search(r"《([^《》]{2,80})》", d.title)
    if quoted:
        found = lib.titled(quoted.group(1))
    else:
        title = normalise_title(d.title)
        found = [o for t, docs in lib.by_title.items() if len(t) >= 4 and t != title and t in title for o in docs]
        found = [o for o in found if not is_notice(o) and "补充" not in o.title]
    return version_at([o for o in found if o.doc_id != d.doc_id], d.date)


def versions(store: Store, doc: DocInfo) -> list[DocInfo]:
    """The versions of `doc` (itself included): documents linked to it by replacements the catalogue
    counts as revisions of the same document, notices kept apart from what they wrap."""
    book = status_book(store)
    edges = [(old, s.by) for old, s in store.superseded.items() if s.by in store.docs and book.revision(old)]
    family = {doc.doc_id}
    grown = True
    while grown:
        grown = False
        for old, new in edges:
            if (old in family) != (new in family) and is_notice(store.docs[old]) == is_notice(store.docs[new]):
                family |= {old, new}
                grown = True
    return [store.docs[i] for i in family]


def timeline(store: Store, doc_id: str) -> list[Event]:
    """The documents related to document `doc_id` and itself, ordered by date (undated last); see the module doc.

    Raises:
        ValueError: `doc_id` is not a document of the store.
    """
    docs = store.docs
    if doc_id not in docs:
        raise ValueError(f"no document {doc_id!r} in the index (rag info --docs lists them)")
    focus = docs[doc_id]
    lib = Resolver(docs)
    book = status_book(store)
    family = {d.doc_id: d for d in versions(store, focus)}
    events: dict[tuple[str, str], Event] = {}

    def add(relation: str, d: DocInfo, evidence: str, clause: Clause | None = None, of: DocInfo | None = None) -> None:
        if (d.doc_id, relation) not in events:
            cite = citation(of or d, clause) if clause is not None else None
            events[(d.doc_id, relation)] = Event(d.date, relation, d, clause.text if clause else evidence, cite)

    effective = book.effective(doc_id)
    add("self", focus, book.status(doc_id) + (f"，自{effective}起施行" if effective else ""))
    for d in family.values():  # versions: evidence is the newer one's repeal clause, else the catalogue's reason
        if d.doc_id == doc_id:
            continue
        newer = (d.date or "", d.revised) > (focus.date or "", focus.revised)
        old, new = (focus, d) if newer else (d, focus)
        s = store.superseded.get(old.doc_id)
        reason = s.reason if s and s.by == new.doc_id else f"《{new.title}》（{new.date or '?'}）是同一文件的新版本"
        add("later_version" if newer else "earlier_version", d, reason, _repeal_clause(store, new, old), new)

    wrapped = version_at(lib.titled(base_title(focus)), focus.date) if is_notice(focus) else None
    if wrapped is not None and not is_notice(wrapped):
        add("issued", wrapped, focus.title, _naming_clause(store, focus, base_title(focus)), focus)
    target = _supplemented(lib, focus)
    if target is not None:
        add("supplemented", target, focus.title, _naming_clause(store, focus, normalise_title(target.title)), focus)
    s = store.superseded.get(doc_id)
    # a notice is not repealed by what it wraps (the catalogue counts "原《X》同时废止" in the new X against
    # the notice of the same date wrapping X)
    if s is not None and s.by not in family and s.by != _id(wrapped):
        by = docs[s.by]
        add("repealed_by", by, s.reason, _repeal_clause(store, by, focus), by)
    for d in docs.values():
        if d.doc_id in family:
            continue
        notice = is_notice(d) and not is_notice(focus) and _id(version_at(lib.titled(base_title(d)), d.date)) == doc_id
        if notice:
            add("notice", d, d.title, _naming_clause(store, d, base_title(d)))
        if _id(_supplemented(lib, d)) == doc_id:
            add("supplement", d, d.title, _naming_clause(store, d, normalise_title(focus.title)))
        if d.doc_id != _id(wrapped) and any(names(ref, focus) for ref in d.repeals) and _not_after(focus, d):
            add("repealed_by", d, f"《{d.title}》明确废止了它", _repeal_clause(store, d, focus))
        if not notice and any(names(ref, d) for ref in focus.repeals) and _not_after(d, focus):
            add("repealed", d, f"本文件明确废止了《{d.title}》", _repeal_clause(store, focus, d), focus)
        reports = [ref for ref, _ in d.repeal_reports if names(ref, focus)]
        if reports:
            clause = _first(store.doc_clauses(d.doc_id),
                            lambda c: any(names(r, focus) for r, _ in repeal_statements(c.text)))  # fmt: skip
            add("repeal_report", d, f"据《{d.title}》，“{reports[0]}”已废止", clause)

    related = {i for i, rel in events if rel in _STRUCTURAL} | set(family)
    for c in store.doc_clauses(doc_id):  # what it cites
        for d, _ in lib.cited(c, focus.date):
            if d.doc_id not in related:
                add("cites", d, "", c, focus)
    own = {normalise_title(focus.title), base_title(focus)}
    number = doc_number_key(focus.doc_number) if focus.doc_number else None
    for d in docs.values():  # what cites it: clauses that write its title or its 文号
        if d.doc_id in related:
            continue
        for c in store.doc_clauses(d.doc_id):
            text = _SPACE.sub("", c.text)
            if not (any(n in text for n in own) or (number and number in doc_number_key(text))):
                continue
            if any(t.doc_id == doc_id for t, _ in lib.cited(c, d.date)):
                add("cited_by", d, "", c)
                break
    rank = {r: i for i, r in enumerate(RELATIONS)}
    return sorted(events.values(), key=lambda e: (e.date or "9999", rank[e.relation], e.doc.title, e.doc.doc_id))


def describe(event: Event, width: int = 60) -> str:
    """One line: date, relation, title (文号), the evidence cut to `width` characters."""
    d = event.doc
    evidence = _SPACE.sub(" ", event.evidence).strip()
    if len(evidence) > width:
        evidence = evidence[: width - 1] + "…"
    title = f"《{d.title}》" + (f"（{d.doc_number}）" if d.doc_number else "")
    return "  ".join(x for x in (event.date or "日期不详", RELATIONS[event.relation], title, evidence) if x)
