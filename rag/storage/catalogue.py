"""The catalogue: which documents are versions of one another, and which of them are no longer current.

`superseded_versions` reads it from the documents' metadata alone (titles, 文号, dates, issuers, the
repeals a document states or reports, files a librarian replaced), so every store computes the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rag.reading.load import normalise_title
from rag.storage.store import DocInfo, Supersession
from rag.text.gongwen import wrapped_title

VERSIONS_DIR = ".versions"  # where the app keeps replaced library files


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
    by_name: dict[str, list[DocInfo]] = {}  # its title, its number, the title of the document it wraps
    for d in docs:
        by_title.setdefault(normalise_title(d.title), []).append(d)
        names = {normalise_title(d.title), normalise_title(wrapped_title(d.title) or d.title), d.doc_number}
        for name in names - {None, ""}:
            by_name.setdefault(name, []).append(d)

    def named(ref: str) -> list[DocInfo]:
        found = by_name.get(ref, []) + by_name.get(normalise_title(ref), [])
        return list({d.doc_id: d for d in found}.values())

    def repeal(a: DocInfo, ref: str, why: str) -> None:
        for b in named(ref):
            if b.doc_id != a.doc_id and not (a.date and b.date and b.date > a.date) and b.doc_id not in out:
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
