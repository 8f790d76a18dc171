"""Export: a study pack (chosen clauses) -> Markdown text or DOCX bytes, with full citations.

Each clause is quoted verbatim under its citation; a sources table closes the pack.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from .cite import citation
from .index import ClauseIndex


@dataclass(frozen=True)
class PackItem:
    """One clause of a study pack, resolved against an index."""

    citation: str
    text: str
    title: str
    source: str
    start: int
    end: int
    date: str | None
    doc_number: str | None


def resolve_items(index: ClauseIndex, clause_ids: Sequence[str]) -> list[PackItem]:
    """Pack items for clause ids ("doc_id:ordinal"); ids no longer in the index are skipped."""
    by_id = {c.clause_id: c for c in index.clauses}
    out = []
    for cid in clause_ids:
        c = by_id.get(cid)
        if c is None:
            continue
        d = index.docs[c.doc_id]
        out.append(PackItem(citation(d, c), c.text, d.title, d.source, c.start, c.end, d.date, d.doc_number))
    return out


def _sources(items: Sequence[PackItem]) -> list[tuple[str, str, str, str]]:
    seen: dict[str, tuple[str, str, str, str]] = {}
    for it in items:
        seen.setdefault(it.source, (it.title, it.doc_number or "", it.date or "", it.source))
    return list(seen.values())


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(title: str, items: Sequence[PackItem]) -> str:
    """The pack as Markdown: numbered citations, quoted clause text, a sources table."""
    lines = [f"# {title}", ""]
    for n, it in enumerate(items, 1):
        lines += [f"## {n}. {it.citation}", ""]
        lines += [f"> {ln}" if ln.strip() else ">" for ln in it.text.splitlines()]
        lines += ["", f"来源：{it.source} [{it.start}:{it.end}]", ""]
    lines += ["## 来源", "", "| 文件 | 文号 | 日期 | 路径 |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(_md_cell(x) for x in row)} |" for row in _sources(items)]
    return "\n".join(lines) + "\n"


def to_docx(title: str, items: Sequence[PackItem]) -> bytes:
    """The pack as a .docx document (python-docx)."""
    import docx

    d = docx.Document()
    d.add_heading(title, level=0)
    for n, it in enumerate(items, 1):
        d.add_heading(f"{n}. {it.citation}", level=2)
        for para in it.text.split("\n"):
            if para.strip():
                d.add_paragraph(para.strip())
        d.add_paragraph(f"来源：{it.source} [{it.start}:{it.end}]").italic = True
    d.add_heading("来源", level=1)
    rows = _sources(items)
    table = d.add_table(rows=1 + len(rows), cols=4)
    for j, h in enumerate(("文件", "文号", "日期", "路径")):
        table.cell(0, j).text = h
    for i, row in enumerate(rows, 1):
        for j, v in enumerate(row):
            table.cell(i, j).text = v
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
