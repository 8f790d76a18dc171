"""Split: cleaned document text -> `Clause` chunks along the document's own numbering.

Policy numbering (一、 (一) 1. （1） ① 一是, parts 篇1/第一篇) and legal numbering
(编/分编/章/节 headings, `#` Markdown headings, 第X条 articles with their 款) define the
units, and so do the lines the reader marks as headings (`outline`: Word's heading styles) where
they carry no typed number. One chunk per smallest numbered unit, with its heading path, its
label and its exact span: `text[start:end] == clause.text`. A heading line with no body of its own is
kept in the chunk of its first child, so a heading is never separated from its body.
Long units split at sentence ends (。；！？) into parts that repeat the path.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.text.clean import clean_spans, stripped_lines
from rag.text.numerals import cn_int
from rag.text.rows import parse_row, row_label
from rag.text.vocab import CN_NUMERALS, CN_ONE_TO_TEN

CHUNKER_VERSION = 1
MAX_CHARS = 600

_CN = CN_NUMERALS
_ARTICLE = re.compile(rf"^第[{_CN}\d]+条(?:之[{_CN}]+)?(?=[\s\u3000]|$)")
# 第X条 run into its text (PDFs and Word tabs lose the space): taken only as the next article in sequence
_ARTICLE_RUN_IN = re.compile(rf"^第([{_CN}\d]+)条(?![之规的、和至及或第])")
_LEGAL_HEADING = re.compile(rf"^第[{_CN}\d]+(编|分编|章|节)(?=[\s\u3000]|$)")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_PART = re.compile(rf"^(?:.{{0,60}}?(篇\s*[\d{_CN}]+)|(第[\d{_CN}]+篇)[^。；]{{0,40}}|(附\s*件\s*\d{{0,2}})\s*[:：]?)$")
_NOTE = re.compile(r"^\[(尾?注\d+)\]\s")  # a footnote's text, after the paragraph that cites it
_CAPTION = re.compile(r"^(附?表\s*\d|.{0,40}(表|清单|一览|名单|目录)$)")
_CAPTION_MAX = 60
# Item styles in their conventional order of nesting (GB/T 9704: 一、 (一) 1. (1));
# 一是/一要 paragraphs sit under whatever numbered level they appear in.
_ITEM_STYLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn_part", re.compile(rf"^第[{_CN}]+部分")),
    ("cn_dun", re.compile(rf"^[{_CN}]{{1,3}}、")),
    ("cn_paren", re.compile(rf"^[(（][{_CN}]{{1,3}}[)）]")),
    ("num_dot", re.compile(r"^\d{1,3}(?:[.．](?!\d)|、)")),
    ("num_paren", re.compile(r"^[(（]\d{1,3}[)）]")),
    ("circled", re.compile(r"^[①-⑳]")),
    ("cn_shi", re.compile(rf"^[{CN_ONE_TO_TEN}]{{1,2}}(?:是|要)")),
)
_ITEM_RANK = {name: rank for rank, (name, _) in enumerate(_ITEM_STYLES)}
_LEGAL_RANK = {"编": 1, "分编": 2, "章": 3, "节": 4}
_SENT_END = re.compile(r"[。；;！!？?][”’」』）)]*")
_HEAD_CUT = re.compile(r"[，,。；;：:！!？?]")


class Splittable(Protocol):
    """What splitting needs of a loaded document (`rag.reading.load.Document` has it)."""

    text: str
    spans: Sequence[tuple[int, int]] | None
    doc_id: str
    base_headings: tuple[str, ...]
    outline: tuple[tuple[int, int], ...]  # (line start offset, level): headings the format marks
    sections: tuple[tuple[int, tuple[str, ...]], ...]  # (offset, path): parts split apart, each under its path


@dataclass(frozen=True)
class Clause:
    """One numbered unit (or one part of a long one) and where it lies in its source."""

    doc_id: str
    ordinal: int
    label: str
    headings: tuple[str, ...]
    text: str
    start: int
    end: int
    part: int = 0

    @property
    def clause_id(self) -> str:
        return f"{self.doc_id}:{self.ordinal}"


@dataclass
class _Unit:
    kind: str  # "part" | "heading" | "article" | "item" | "text" | "caption" | "thead" | "row" | "note"
    label: str
    path: tuple[str, ...]  # ancestors' display names
    lines: list[tuple[int, int, int]]  # (start, end, block) of stripped non-blank lines
    name: str = ""  # this unit's own display name, as its children's paths show it


def _display(label: str, line: str) -> str:
    """Short name of a heading for a path: its label and title up to the first comma."""
    rest = line[len(label) :].strip(" \u3000")
    cut = _HEAD_CUT.search(rest)
    rest = rest[: cut.start()] if cut else rest
    return (label + rest[:40]).strip()


def _articles(text: str, lines: list[tuple[int, int, int]]) -> set[int]:
    """Indices of the lines that open an article: 第X条 and a space, or run into its text when X is
    the next number in sequence (so a line opening with a cross-reference is not taken for one)."""
    out, last = set(), 0
    for k, (s, e, _) in enumerate(lines):
        line = text[s:e]
        m = _ARTICLE_RUN_IN.match(line)
        n = cn_int(m.group(1)) if m else None
        if _ARTICLE.match(line) or (n is not None and n == last + 1):
            out.add(k)
            last = n or last
    return out


def _classify(s: str, legal: bool, article: bool = False) -> tuple[str, str, str]:
    """(kind, style-or-rank, label) of a stripped line."""
    m = _MD_HEADING.match(s)
    if m:
        inner = re.sub(r"[\s\u3000]+", " ", m.group(2))
        lm = _LEGAL_HEADING.match(inner)
        rank = _LEGAL_RANK[lm.group(1)] if lm else len(m.group(1))
        return "heading", str(rank), inner
    m = _LEGAL_HEADING.match(s)
    if m:
        return "heading", str(_LEGAL_RANK[m.group(1)]), re.sub(r"[\s\u3000]+", " ", s)
    m = _ARTICLE.match(s) or (_ARTICLE_RUN_IN.match(s) if article else None)
    if m and legal and article:
        return "article", "", m.group(0)
    m = _PART.match(s)
    if m:
        return "part", "", (m.group(1) or m.group(2) or m.group(3)).replace(" ", "")
    if not legal:
        for style, rx in _ITEM_STYLES:
            m = rx.match(s)
            if m:
                return "item", style, m.group(0)
    return "text", "", ""


def _units(text: str, spans: Sequence[tuple[int, int]], base: tuple[str, ...], outline: dict[int, int]) -> list[_Unit]:
    lines = stripped_lines(text, spans)
    articles = _articles(text, lines)
    legal = len(articles) >= 2

    units: list[_Unit] = []
    headings: list[tuple[int, str]] = []  # (rank, display)
    items: list[tuple[int, str]] = []  # (rank, display)
    part: str | None = None
    body: _Unit | None = None  # the last unit of running text (not a table row or a note)
    rows = 0  # rows of the current table so far
    table_path: tuple[str, ...] = ()  # the current table's rows' path
    keys: list[str] = []  # the current table's column names (its header line's cells)
    keyed = False  # its rows read "列名：值；…" (`rag.text.rows`): each a clause, its categories as its path
    cats: tuple[str, ...] = ()  # the category lines over the current row
    in_cats = False  # the last line was a category line (a run of them gives the whole path)
    for k, (s, e, b) in enumerate(lines):
        line = text[s:e]
        kind, key, label = _classify(line, legal, k in articles)
        level = outline.get(text.rfind("\n", 0, s) + 1) if outline else None
        if kind == "text" and level is not None and "\t" not in line:  # a heading by its style, no typed number
            kind, key, label = "heading", str(level), _display("", line)
        if rows and "\t" not in line and (pairs := parse_row(line, keys)) is not None:  # a row "列名：值；…"
            if not keyed:  # the header and caption are in every row's words: no clause of their own
                keyed, table_path = True, table_path[:-1]
                units[-1].kind = "khead"
            units.append(_Unit("row", row_label(pairs, rows), (*table_path, *cats), [(s, e, b)]))
            rows, in_cats = rows + 1, False
            continue
        if rows and "\t" not in line and _category(text, lines, k, keys):  # a category line before rows
            cats, in_cats = (*(cats if in_cats else ()), line[:40]), True
            continue
        if keyed and "\t" in line:  # a table after a table
            rows, keyed = 0, False
        if kind == "text" and "\t" in line:  # a table row: a clause of its own, caption and header as context
            cur = (*base, *([part] if part else []), *(h[1] for h in headings), *(i[1] for i in items))
            if rows == 0:
                caption = _caption(text, units)
                if caption is not None:
                    units.append(caption)
                head = "｜".join(c.strip() for c in line.split("\t"))[:60]
                table_path = (*cur, caption.name) if caption is not None else cur
                units.append(_Unit("thead", "表头", table_path, [(s, e, b)], head))
                table_path = (*table_path, head)
                keys, keyed, cats = [c.strip() for c in line.split("\t")], False, ()
            else:
                label = row_label(list(zip(keys, (c.strip() for c in line.split("\t")))), rows)
                units.append(_Unit("row", label, table_path, [(s, e, b)]))
            rows += 1
            continue
        rows, keyed = 0, False
        m = _NOTE.match(line) if kind == "text" else None
        if m:  # tied to the clause that cites it
            cite = next((u for u in reversed(units) if f"[{m.group(1)}]" in "".join(text[x:y] for x, y, _ in u.lines)
                         and u.kind != "note"), body)  # fmt: skip
            path = (*cite.path, cite.name or cite.label) if cite is not None else base
            units.append(_Unit("note", m.group(1), tuple(p for p in path if p), [(s, e, b)]))
            continue
        if kind == "text":
            if units and units[-1] is body:
                units[-1].lines.append((s, e, b))
            elif body is not None:  # text after a table or a note: the unit it belongs to goes on
                body = _Unit("text", body.label, body.path, [(s, e, b)], body.name)
                units.append(body)
            else:
                body = _Unit("text", "", base, [(s, e, b)])
                units.append(body)
            continue
        name = label
        if kind == "part":
            headings, items, part = [], [], label
            path = (*base,)
        elif kind == "heading":
            rank = int(key)
            headings = [h for h in headings if h[0] < rank]
            items = []
            path = (*base, *([part] if part else []), *(h[1] for h in headings))
            headings.append((rank, label))
        else:
            if kind == "item":
                rank = _ITEM_RANK[key]
                items = [i for i in items if i[0] < rank]
            else:
                items = []
            path = (*base, *([part] if part else []), *(h[1] for h in headings), *(i[1] for i in items))
            if kind == "item":
                name = _display(label, line)
                items.append((rank, name))
        body = _Unit(kind, label, path, [(s, e, b)], name)
        units.append(body)
    return units


def _category(text: str, lines: list[tuple[int, int, int]], k: int, keys: list[str]) -> bool:
    """True when line k heads the rows after it: a few lines without a TAB, then a row "列名：值；…"."""
    for s, e, _ in lines[k + 1 : k + 5]:
        line = text[s:e]
        if "\t" in line:
            return False
        if parse_row(line, keys) is not None:
            return True
    return False


def _caption(text: str, units: list[_Unit]) -> _Unit | None:
    """The line just before a table, taken out of the unit it ended, when it reads as the table's caption."""
    if not units or units[-1].kind not in ("text", "item", "heading", "part", "article"):
        return None
    u = units[-1]
    s, e, b = u.lines[-1]
    line = text[s:e]
    if len(line) > _CAPTION_MAX or "。" in line or not _CAPTION.match(line) or (len(u.lines) == 1 and u.label):
        return None
    u.lines.pop()
    if not u.lines:
        units.pop()
    return _Unit("caption", "", u.path if u.kind == "text" else (*u.path, u.name or u.label), [(s, e, b)], line)


def _pieces(text: str, lines: list[tuple[int, int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Spans of a unit: split where a removed line intervenes, then at sentence ends."""
    blocks: list[tuple[int, int, int]] = []  # (start, end, block)
    for s, e, b in lines:
        if blocks and blocks[-1][2] == b:
            blocks[-1] = (blocks[-1][0], e, b)
        else:
            blocks.append((s, e, b))
    return [p for s, e, _ in blocks for p in split_long(text, s, e, max_chars)]


def split_long(text: str, start: int, end: int, max_chars: int = MAX_CHARS) -> list[tuple[int, int]]:
    """Split text[start:end] at sentence ends into spans of at most `max_chars`.

    A single sentence longer than `max_chars` is cut at its last comma in the window,
    or hard at `max_chars`. Spans carry no leading or trailing whitespace.
    """
    cuts = [m.end() for m in _SENT_END.finditer(text, start, end)]
    out: list[tuple[int, int]] = []
    cur = start
    while end - cur > max_chars:
        i = bisect.bisect_right(cuts, cur + max_chars) - 1
        if i >= 0 and cuts[i] > cur:
            cut = cuts[i]
        else:
            window = text[cur : cur + max_chars]
            comma = max(window.rfind("，"), window.rfind(","), window.rfind("、"))
            cut = cur + comma + 1 if comma > 0 else cur + max_chars
        out.append((cur, _rstrip_end(text, cur, cut)))
        cur = cut
        while cur < end and text[cur].isspace():
            cur += 1
    if cur < end:
        out.append((cur, end))
    return [(s, e) for s, e in out if e > s]


def split_document(doc: Splittable, max_chars: int = MAX_CHARS) -> list[Clause]:
    """The clauses of a loaded document: its body spans (cleaned, 公文 zones left out), split."""
    return split_clauses(doc.text, doc.spans, doc.doc_id, doc.base_headings, max_chars, doc.outline, doc.sections)


def split_clauses(
    text: str,
    spans: Sequence[tuple[int, int]] | None = None,
    doc_id: str = "",
    base_headings: tuple[str, ...] = (),
    max_chars: int = MAX_CHARS,
    outline: Sequence[tuple[int, int]] = (),
    sections: Sequence[tuple[int, tuple[str, ...]]] = (),
) -> list[Clause]:
    """Split `text` (restricted to the kept `spans`; default: `clean_spans(text)`) into clauses;
    `outline`: (line start offset, level) of lines the format marks as headings; `sections`:
    (offset, path) of parts split apart, each under `base_headings` and its path."""
    spans = clean_spans(text) if spans is None else spans
    if sections:
        return _by_section(text, spans, doc_id, tuple(base_headings), max_chars, outline, sections)
    units = _units(text, spans, tuple(base_headings), dict(outline))
    # A unit that is only its own heading line joins the chunk of the unit after it
    # when that one is its child (or when it is a part/heading title).
    merged: list[_Unit] = []
    pending: list[tuple[int, int, int]] = []
    for i, u in enumerate(units):
        nxt = units[i + 1] if i + 1 < len(units) else None
        heading_only = (
            len(u.lines) == 1
            and nxt is not None
            and (
                u.kind in ("part", "heading", "caption")
                or (u.kind == "thead" and nxt.kind == "row")
                or (
                    u.kind == "item"
                    and nxt.kind not in ("note", "caption", "thead", "khead", "row")
                    and nxt.path[: len(u.path) + 1] == (*u.path, u.name)
                )
            )
        )
        if heading_only:
            pending.extend(u.lines)
            continue
        if u.kind == "khead":  # the header of rows that name their columns, and the headings just before it
            pending = []
            continue
        u.lines[:0] = pending
        pending = []
        merged.append(u)
    if pending and merged:
        merged[-1].lines.extend(pending)
    elif pending:
        merged.append(_Unit("text", "", tuple(base_headings), pending))

    clauses: list[Clause] = []
    for u in merged:
        for n, (s, e) in enumerate(_pieces(text, u.lines, max_chars)):
            clauses.append(Clause(doc_id, len(clauses), u.label, u.path, text[s:e], s, e, n))
    return clauses


def _by_section(
    text: str,
    spans: Sequence[tuple[int, int]],
    doc_id: str,
    base: tuple[str, ...],
    max_chars: int,
    outline: Sequence[tuple[int, int]],
    sections: Sequence[tuple[int, tuple[str, ...]]],
) -> list[Clause]:
    """`split_clauses` of each section's part of `spans` on its own (text before the first section: under `base`)."""
    bounds = [0, *(s for s, _ in sections), len(text)]
    paths = [(), *(path for _, path in sections)]
    clauses: list[Clause] = []
    for lo, hi, path in zip(bounds, bounds[1:], paths):
        part = [(max(s, lo), min(e, hi)) for s, e in spans if s < hi and e > lo]
        for c in split_clauses(text, part, doc_id, (*base, *path), max_chars, outline):
            clauses.append(dataclasses.replace(c, ordinal=len(clauses)))
    return clauses


def _rstrip_end(text: str, s: int, e: int) -> int:
    while e > s and text[e - 1].isspace():
        e -= 1
    return e
