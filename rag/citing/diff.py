"""Diff: two documents of an index -> a 新旧对照 (old and new text side by side, changes marked).

`find_document` takes what a user types (a doc_id, a source path, or a title with its date:
"中华人民共和国行政复议法(2017-09-01)"); `compare` aligns the two documents' clauses
(`rag.text.align`, by their wording and, where the store holds their vectors, their meaning:
`stored_meaning`); the report prints as the JSON of issue #22, or as a three-column 对照表
(old, new, what changed) in Markdown or DOCX. Markdown escapes document text (`md_text`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.citing.export import md_text, plain_text
from rag.storage.index import ClauseIndex
from rag.storage.store import DocInfo, Store
from rag.text.align import Change, Pair, Similar, align
from rag.text.split import Clause
from rag.text.vocab import normalise_title

_TITLE_DATE = re.compile(r"^(?P<title>.+?)\s*[(（]\s*(?P<date>\d{4}-\d{2}-\d{2})\s*[)）]$")
STATUS_CN = {"same": "未变", "changed": "修改", "added": "新增", "removed": "删除"}
KIND_CN = {"figure": "数字", "date": "日期", "deadline": "期限", "penalty": "罚则", "body": "机关", "text": "文字"}


@dataclass(frozen=True)
class Diff:
    """Two versions of a document and their aligned clauses."""

    old: DocInfo
    new: DocInfo
    pairs: list[Pair]

    def to_dict(self) -> dict:
        """The JSON shape of `rag diff --json`."""

        def doc(d: DocInfo) -> dict:
            return {"doc_id": d.doc_id, "title": d.title, "date": d.date}

        return {
            "old": doc(self.old),
            "new": doc(self.new),
            "pairs": [
                {
                    "old_label": p.old.label if p.old else None,
                    "new_label": p.new.label if p.new else None,
                    "status": p.status,
                    "old_text": p.old.text if p.old else None,
                    "new_text": p.new.text if p.new else None,
                    "changes": [{"kind": c.kind, "old": c.old, "new": c.new} for c in p.changes],
                }
                for p in self.pairs
            ],
        }


def find_document(index: ClauseIndex, ref: str) -> DocInfo:
    """The document `ref` names: a doc_id, a source path, or a unique title (with its date when several
    versions share it, e.g. "行政复议法(2017-09-01)").

    Raises:
        ValueError: nothing or more than one document matches (the message lists the candidates).
    """
    docs = index.docs
    if ref in docs:
        return docs[ref]
    path = Path(ref)
    by_path = [d for d in docs.values() if d.source == ref or (path.exists() and _same_file(d.source, path))]
    if len(by_path) == 1:
        return by_path[0]
    m = _TITLE_DATE.match(ref.strip())
    title, date = (m["title"], m["date"]) if m else (ref.strip(), None)
    want = normalise_title(title)
    found = [d for d in docs.values() if normalise_title(d.title) == want and (date is None or d.date == date)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ValueError(f"no document {ref!r} in the index; give a doc_id, a source path or a title "
                         "(rag info --docs lists them)")  # fmt: skip
    names = "; ".join(f"{d.doc_id} {d.title}({d.date or '?'})" for d in sorted(found, key=lambda d: d.date or ""))
    raise ValueError(f"{ref!r} names {len(found)} documents: {names}; add the date, e.g. {title}({found[0].date})")


def _same_file(source: str, path: Path) -> bool:
    try:
        return Path(source).resolve() == path.resolve()
    except OSError:
        return False


def compare(index: ClauseIndex, old: str, new: str | None = None) -> Diff:
    """The 新旧对照 of documents `old` and `new` (default: the document that superseded `old`)."""
    a = find_document(index, old)
    if new is None:
        version = index.superseded.get(a.doc_id)
        if version is None:
            raise ValueError(f"《{a.title}》 has not been replaced by a newer document in the index; name NEW")
        b = index.docs[version.by]
    else:
        b = find_document(index, new)
    return Diff(a, b, align(index.doc_clauses(a.doc_id), index.doc_clauses(b.doc_id), stored_meaning(index)))


def stored_meaning(store: Store) -> Similar | None:
    """`align`'s `similar` from the clause vectors `store` holds: their cosines (none held: None, and the
    clauses are aligned by their wording alone). None for the hashing embedder, whose vectors are only
    character bigrams: over the labelled law pairs they lost articles the wording alone had right."""
    if store.spec.backend == "hash":
        return None

    def similar(old: Sequence[Clause], new: Sequence[Clause]) -> np.ndarray | None:
        a, b = store.vectors_of([c.clause_id for c in old]), store.vectors_of([c.clause_id for c in new])
        return None if a is None or b is None else a @ b.T

    return similar


def describe(changes: tuple[Change, ...] | list[Change]) -> list[str]:
    """One line per change: "期限：六十日 → 六十日内" ("（无）" for an empty side)."""
    return [f"{KIND_CN[c.kind]}：{c.old or '（无）'} → {c.new or '（无）'}" for c in changes]


def what_changed(p: Pair) -> list[str]:
    """The 变化 column of a pair: 未变 (and its move), 新增, 删除, or one line per change (`describe`)."""
    if p.status == "same":
        moved = p.old and p.new and p.old.label != p.new.label
        return [f"条文未变（{p.old.label} → {p.new.label}）" if moved else "未变"]
    return [STATUS_CN[p.status]] if p.status in ("added", "removed") else describe(p.changes) or ["拆分或合并的条文"]


def to_markdown(diff: Diff) -> str:
    """The 对照表 as Markdown: a title line and a three-column table (old, new, what changed)."""

    def cell(text: str | None) -> str:
        return "<br>".join(md_text(line) for line in (text or "").splitlines() if line.strip()) or "—"

    lines = [
        f"# 新旧对照：《{md_text(diff.old.title)}》（{md_text(diff.old.date or '?')}） → "
        f"《{md_text(diff.new.title)}》（{md_text(diff.new.date or '?')}）",
        "",
        "| 原条文 | 新条文 | 变化 |",
        "|---|---|---|",
    ]
    for p in diff.pairs:
        what = "<br>".join(md_text(x) for x in what_changed(p))
        lines.append(f"| {cell(p.old.text if p.old else None)} | {cell(p.new.text if p.new else None)} | {what} |")
    return "\n".join(lines) + "\n"


def to_docx(diff: Diff) -> bytes:
    """The 对照表 as a .docx (python-docx): a heading and a three-column table of plain text."""
    import docx

    d = docx.Document()
    d.add_heading(plain_text(f"新旧对照：《{diff.old.title}》（{diff.old.date or '?'}） → "
                             f"《{diff.new.title}》（{diff.new.date or '?'}）"), level=1)  # fmt: skip
    table = d.add_table(rows=1 + len(diff.pairs), cols=3)
    table.style = "Table Grid"
    for j, h in enumerate(("原条文", "新条文", "变化")):
        table.cell(0, j).text = h
    for i, p in enumerate(diff.pairs, 1):
        table.cell(i, 0).text = plain_text(p.old.text) if p.old else "—"
        table.cell(i, 1).text = plain_text(p.new.text) if p.new else "—"
        table.cell(i, 2).text = plain_text("\n".join(what_changed(p)))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
