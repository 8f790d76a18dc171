"""Export: a study pack (chosen clauses) -> Markdown text or DOCX bytes, with full citations.

Each clause is quoted verbatim under its citation; a sources table closes the pack.

Document text is untrusted: in the Markdown pack every piece of it (clause text, titles in
citations, paths) is escaped (`md_text`) so that any Markdown renderer shows it as literal
text: no raw HTML (`<script>`), no links or images (`[x](javascript:…)`, `![i](http://…)`),
no headings, lists or code fences it did not mean. The DOCX pack is plain runs of text
(python-docx escapes XML), so nothing in it is active; characters XML cannot hold (NUL and
other control characters, lone surrogates) are dropped from both (`plain_text`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.citing.cite import citation
from rag.storage.store import Store


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


def resolve_items(index: Store, clause_ids: Sequence[str]) -> list[PackItem]:
    """Pack items for clause ids ("doc_id:ordinal"); ids no longer in the store are skipped."""
    out = []
    for c in index.fetch(list(dict.fromkeys(clause_ids))):
        d = index.docs.get(c.doc_id)
        if d is None:
            continue
        out.append(PackItem(citation(d, c), c.text, d.title, d.source, c.start, c.end, d.date, d.doc_number))
    return out


def _sources(items: Sequence[PackItem]) -> list[tuple[str, str, str, str]]:
    seen: dict[str, tuple[str, str, str, str]] = {}
    for it in items:
        seen.setdefault(it.source, (it.title, it.doc_number or "", it.date or "", it.source))
    return list(seen.values())


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def plain_text(s: str) -> str:
    """`s` without the characters an XML document (a .docx) cannot hold; everything else as it is."""
    return _NOT_XML.sub("", s)


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_MD_INLINE = re.compile(r"[\\`*_\[\]{}|~&<>\"]")  # active anywhere in a line
_MD_LINE_START = re.compile(r"^(\s*)([#+\-=]|\d{1,9}[.)](?=\s|$))")  # headings, list items, setext underlines


def md_text(s: str) -> str:
    """One line of document text as inert Markdown: renders as exactly these characters.

    HTML's `&`, `<`, `>`, `"` become entities (no raw HTML, no autolinks); Markdown's
    emphasis, code, link and image, table and strike-through marks are backslash-escaped;
    a line that would open a heading, list or setext underline has its marker escaped.
    """
    s = plain_text(s).replace("\r", " ").replace("\n", " ")
    s = _MD_INLINE.sub(lambda m: _HTML.get(m.group(0)) or "\\" + m.group(0), s)
    return _MD_LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), s)


def _escape_marker(marker: str) -> str:
    """'#' -> '\\#', '3.' -> '3\\.': the line-start marker made literal."""
    return marker[:-1] + "\\" + marker[-1]


def _md_cell(s: str) -> str:
    return md_text(s)


def to_markdown(title: str, items: Sequence[PackItem]) -> str:
    """The pack as Markdown: numbered citations, quoted clause text, a sources table.

    Every piece of document text is escaped with `md_text`: it reads as literal text in any
    Markdown renderer.
    """
    lines = [f"# {md_text(title)}", ""]
    for n, it in enumerate(items, 1):
        lines += [f"## {n}. {md_text(it.citation)}", ""]
        lines += [f"> {md_text(ln)}" if ln.strip() else ">" for ln in it.text.splitlines()]
        lines += ["", f"来源：{md_text(it.source)} \\[{it.start}:{it.end}\\]", ""]
    lines += ["## 来源", "", "| 文件 | 文号 | 日期 | 路径 |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(_md_cell(x) for x in row)} |" for row in _sources(items)]
    return "\n".join(lines) + "\n"


def to_docx(title: str, items: Sequence[PackItem]) -> bytes:
    """The pack as a .docx document (python-docx): plain paragraphs of text, nothing active."""
    import docx

    d = docx.Document()
    d.add_heading(plain_text(title), level=0)
    for n, it in enumerate(items, 1):
        d.add_heading(f"{n}. {plain_text(it.citation)}", level=2)
        for para in plain_text(it.text).split("\n"):
            if para.strip():
                d.add_paragraph(para.strip())
        d.add_paragraph(f"来源：{plain_text(it.source)} [{it.start}:{it.end}]").italic = True
    d.add_heading("来源", level=1)
    rows = _sources(items)
    table = d.add_table(rows=1 + len(rows), cols=4)
    for j, h in enumerate(("文件", "文号", "日期", "路径")):
        table.cell(0, j).text = h
    for i, row in enumerate(rows, 1):
        for j, v in enumerate(row):
            table.cell(i, j).text = plain_text(v)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()
