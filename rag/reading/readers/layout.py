"""Layout shared by the PDF text layer and OCR: characters -> lines -> paragraphs.

Lines are built from character boxes (spaces where the text or the gaps have them; a wide gap
between Chinese characters kept as a full-width space; far-apart OCR boxes as table cells), then
joined into paragraphs when a line wraps inside one: the previous line reached the right margin,
the next starts at the left margin with the same size at the usual line gap, and it does not
start a numbered item. Running headers/footers and page numbers are dropped first.

A text-layer page whose text runs in columns (a 政策解读 or 简报 in two columns) is read column
by column (`order_lines`): the gutter is found from the characters' positions, rows across it (a
title, a source line) stay in place, and each column's lines are measured against that column's
margins, so a paragraph that goes on at the top of the next column is one paragraph.
"""

from __future__ import annotations

import bisect
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.text.vocab import CN_NUMERALS

TABLE_GAP = 2.5  # em between two OCR text boxes on one line: cells of a table, joined by a TAB
# A line starting a numbered item never continues the line before it.
_CN_NUM = CN_NUMERALS
ITEM_START = re.compile(
    rf"^(?:第[{_CN_NUM}\d]+[条章节编](?:[\s　]|$)"  # 第一条　 第二章 (a cross reference 第十条的 does not count)
    rf"|[{_CN_NUM}]+[、．]"  # 一、 二．
    rf"|[（(][{_CN_NUM}\d]+[）)]"  # （一） (1)
    rf"|\d+[、．.](?!\d)"  # 1. 2、 (not 1.5)
    r"|[①-⑳⑴-⒇⒈-⒛]"  # ① ⑴ ⒈
    rf"|[{_CN_NUM}]是"  # 一是 二是
    r")"
)

# Page numbers (matched after NFKC and with spaces removed).
_PAGE_NUMBER = re.compile(
    r"^(?:[-—–―~－]*\d{1,4}[-—–―~－]*"  # 3  - 3 -  — 3 —
    r"|第\d{1,4}页(?:[,，/]?共\d{1,4}页)?"  # 第3页  第3页共10页
    r"|共\d{1,4}页[,，]?第\d{1,4}页"
    r"|\d{1,4}/\d{1,4}"  # 3/10
    r"|(?:page)?\d{1,4}(?:of\d{1,4})?"  # Page 3 of 10
    r"|[-—–―~]*[ivxlc]{1,7}[-—–―~]*"  # roman numerals of front matter
    r")$",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------
# Layout: lines -> paragraphs (shared with OCR)


@dataclass(frozen=True)
class _Frame:
    """The text area that lines are measured against."""

    left: float
    right: float
    gap: float  # the usual space between two lines of a paragraph

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


@dataclass
class Line:
    """One visual line of text with its box, in the page's units (points or pixels)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float  # font size, or for OCR the width of one Chinese character
    first_unit: float  # width of what could not have been split off the start (a character, a Latin word)
    table: bool = False  # a table row (cells joined by TAB): a line of its own, never joined
    frame: _Frame | None = None  # the column it was read in (None: the page's text area)
    cells: tuple[float, ...] = ()  # a table row: the left edge of each cell


@dataclass
class PageLines:
    """The lines of one page in reading order, and the page's size in the same units."""

    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    ocr: bool = False  # read by OCR (pixels, looser tolerances)
    turned: bool = False  # text set sideways: measured on its own, not with the document's upright pages
    gutter: Gutter | None = None  # read column by column, split at this gutter
    uncertain: str | None = None  # why the reading order of the page may be wrong


def is_wide(ch: str) -> bool:
    """A Chinese/Japanese/full-width character (no space is written between two of these)."""
    return unicodedata.east_asian_width(ch) in ("W", "F") or ch in "“”‘’…—·"


def _latin(ch: str) -> bool:
    return ch.isascii() and not ch.isspace()


def _letter(ch: str) -> bool:
    """A Chinese character (not punctuation, whose ink fills half its box: OCR sees a gap beside it)."""
    return is_wide(ch) and unicodedata.category(ch).startswith("L")


def glue(left: str, right: str) -> str:
    """What goes between two pieces of one paragraph split at a line end: a space between Latin words, else nothing."""
    if left and right and _latin(left[-1]) and left[-1] not in "-/" and _latin(right[0]):
        return " "
    return ""


def first_unit_chars(text: str) -> int:
    """How many characters at the start of `text` a line break could not have split.

    A Latin word; or one Chinese character with the opening punctuation before it and the
    closing punctuation after it (which may not start or end a line).
    """
    if not text:
        return 0
    if _latin(text[0]) and text[0].isalnum():
        n = 1
        while n < len(text) and _latin(text[n]):
            n += 1
        return n
    n = 0
    while n < len(text) - 1 and unicodedata.category(text[n]) in ("Ps", "Pi"):
        n += 1
    n += 1
    while n < len(text) and unicodedata.category(text[n]) in ("Pe", "Pf", "Po") and text[n] not in "#%&*@\\":
        n += 1
    return n


def _frame(lines: list[Line], body_size: float, support: int = 2) -> _Frame | None:
    """Left and right edge of the body text, and the usual line gap, from lines of the body's size.

    The right edge counts only when `support` lines end there (within half a character); else no
    line is taken to fill the width, and none is joined to the next.
    """
    body = [ln for ln in lines if not ln.table and abs(ln.size - body_size) <= 0.2 * body_size]
    if not body:
        return None
    # the left edge: the leftmost place where many lines start (within half a character: OCR boxes wobble)
    starts = sorted(ln.x0 for ln in body)
    near = [bisect.bisect_right(starts, c + 0.5 * body_size) - i for i, c in enumerate(starts)]
    left = next(c for c, n in zip(starts, near) if n >= max(2, max(near) / 2) or n == max(near))
    rights = sorted(ln.x1 for ln in body)
    p90 = rights[int(0.9 * (len(rights) - 1))]
    right = float("inf")  # the furthest line end near the 90th percentile that `support` lines reach
    for x in reversed(rights):  # (a line or two reaching further, punctuation hung in the margin, do not count)
        if x < p90 - 0.5 * body_size:
            break
        if x <= p90 + body_size and sum(1 for y in rights if y >= x - 0.5 * body_size) >= support:
            right = x
            break
    gaps = [b.top - a.bottom for a, b in zip(body, body[1:]) if 0 <= b.top - a.bottom < 3 * body_size]
    gap = statistics.median(gaps) if gaps else 0.5 * body_size
    return _Frame(left, right, gap)


def _body_size(lines: Iterable[Line]) -> float:
    sizes: Counter[float] = Counter()
    for ln in lines:
        if not ln.table:
            sizes[round(ln.size * 2) / 2] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _continues(prev: Line, nxt: Line, fp: _Frame, fn: _Frame, same_page: bool, loose: bool) -> bool:
    """True when `nxt` is the wrapped continuation of the paragraph that `prev` belongs to.

    `fp` and `fn` are the text areas (page or column) of the two lines; `same_page` is False when
    `nxt` starts a new page or column, where the gap between the lines says nothing.
    """
    if prev.table or nxt.table:
        return False
    em = max(prev.size, nxt.size)
    if abs(prev.size - nxt.size) > (0.25 if loose else 0.12) * em:
        return False
    if ITEM_START.match(nxt.text):
        return False
    if same_page:
        gap = nxt.top - prev.bottom
        if gap < -0.5 * em or gap > fp.gap + 0.6 * em:
            return False
    slack = (0.8 if loose else 0.4) * em
    if fp.right - prev.x1 > nxt.first_unit + slack:
        return False  # prev stops short of the right margin: it ends its paragraph
    if nxt.x0 <= fn.left + 0.5 * em:
        return True
    # the centred second line of a centred title (or heading) whose first line fills the width
    centred = nxt.x0 > fn.left + em and nxt.x1 < fn.right - em and abs((nxt.x0 + nxt.x1) / 2 - fn.centre) < em
    return centred and prev.x0 <= fp.left + 0.5 * em


def layout_text(pages: list[PageLines]) -> tuple[str, tuple[int, ...]]:
    """Join the pages' lines into paragraphs: the text (one line per paragraph) and where each page starts.

    Upright text pages are measured together (Word keeps margins); sideways and OCR pages one by
    one, and an OCR page's right edge needs three lines ending there.
    """
    text_lines = [ln for p in pages if not (p.ocr or p.turned) for ln in p.lines]
    doc_size = _body_size(text_lines)
    doc_frame = _frame(text_lines, doc_size) if text_lines else None
    frames: list[_Frame | None] = []
    for p in pages:
        if p.ocr:
            frames.append(_frame(p.lines, _body_size(p.lines), support=3))  # a few short lines prove nothing
        elif p.turned:
            frames.append(_frame(p.lines, _body_size(p.lines)))
        else:
            frames.append(doc_frame)

    paragraphs: list[str] = []
    length = 0  # length of "\n".join(paragraphs)
    starts: list[int] = []
    prev: tuple[Line, _Frame, int] | None = None
    for pno, (page, page_frame) in enumerate(zip(pages, frames)):
        page_start: int | None = None
        for ln in page.lines:
            if not ln.text:
                continue
            frame = ln.frame or page_frame
            # a line above the one before starts the next column: it goes on from it as from a new page
            flowing = prev is not None and prev[2] == pno and ln.top >= prev[0].top
            joined = (
                prev is not None
                and frame is not None
                and "\t" not in ln.text
                and "\t" not in paragraphs[-1]
                and _continues(prev[0], ln, prev[1], frame, flowing, page.ocr or pages[prev[2]].ocr)
            )
            if joined:
                sep = glue(paragraphs[-1], ln.text)
                paragraphs[-1] += sep + ln.text
                pos = length + len(sep)
                length += len(sep) + len(ln.text)
            else:
                pos = length + (1 if paragraphs else 0)
                paragraphs.append(ln.text)
                length = pos + len(ln.text)
            if page_start is None:
                page_start = pos
            if frame is not None:
                prev = (ln, frame, pno)
        starts.append(page_start if page_start is not None else length + (1 if paragraphs else 0))
    text = "\n".join(paragraphs)
    return text, tuple(min(s, len(text)) for s in starts)


def _page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))))


def drop_furniture(pages: list[PageLines]) -> int:
    """Remove running headers/footers and page numbers from the pages' lines; returns how many lines went.

    Both stand in the top or bottom fifth of the page. A header/footer is among the first or last
    three lines of a page, and the same text (digits aside) stands at the same height on at least
    half the pages (two at least). A page number is among the first or last two lines of a page and
    matches a page-number pattern.
    """

    def at_edge(page: PageLines, ln: Line) -> bool:
        return bool(page.height) and (ln.bottom < 0.2 * page.height or ln.top > 0.8 * page.height)

    candidates: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for pno, page in enumerate(pages):
        body = [i for i, ln in enumerate(page.lines) if not ln.table]
        for i in body[:3] + body[-3:] if len(body) > 6 else body:
            ln = page.lines[i]
            if at_edge(page, ln):
                key = re.sub(r"\d+", "#", re.sub(r"\s+", "", ln.text))
                candidates[key].append((pno, i, ln.top / page.height))
    drop: set[tuple[int, int]] = set()
    need = max(2, (len(pages) + 1) // 2)
    for hits in candidates.values():
        if len({pno for pno, _, _ in hits}) < need:
            continue
        centre = statistics.median(y for _, _, y in hits)
        same = [(pno, i) for pno, i, y in hits if abs(y - centre) < 0.01]
        if len({pno for pno, _ in same}) >= need:
            drop.update(same)
    for pno, page in enumerate(pages):
        body = [i for i, ln in enumerate(page.lines) if not ln.table]
        for i in set(body[:2] + body[-2:]):
            if at_edge(page, page.lines[i]) and _page_number(page.lines[i].text):
                drop.add((pno, i))
    for pno, page in enumerate(pages):
        page.lines = [ln for i, ln in enumerate(page.lines) if (pno, i) not in drop]
    return len(drop)


# ---------------------------------------------------------------------------------------------
# Text layer: characters -> lines


def _line_from_chars(chars: list[dict[str, Any]]) -> Line | None:
    """One line's characters (any order) -> a Line with spaces where the text or the layout has them.

    Characters are pdfplumber's dicts (text, x0, x1, top, bottom, size); OCR characters also have
    `run`, the text box they were read in: within one box only a wide gap between Chinese characters
    counts (the recogniser writes Latin spaces itself).
    """
    chars = sorted(chars, key=lambda c: c["x0"])
    sizes = [c["size"] for c in chars if not c["text"].isspace()]
    if not sizes:
        return None
    size = statistics.median(sizes)
    out: list[str] = []
    prev: dict[str, Any] | None = None
    for c in chars:
        t = c["text"]
        if t.isspace():
            if t == "\u3000":
                out.append(t)
            elif out and out[-1] not in " \u3000":
                out.append(" ")
            prev = c
            continue
        if prev is not None and out and not out[-1].isspace():
            gap = c["x0"] - prev["x1"]
            a, b = out[-1][-1], t[0]
            if "run" in c and c["run"] == prev.get("run"):  # one OCR text box: its text has its spaces
                if _letter(a) and _letter(b) and gap > 0.8 * size:
                    out.append("\u3000")
            elif "run" in c and gap > TABLE_GAP * size:  # separate OCR boxes far apart: table cells
                out.append("\t")
            elif _latin(a) and _latin(b):
                if gap > 0.2 * size:
                    out.append(" ")
            elif _latin(a) or _latin(b):
                if gap > 0.5 * size:
                    out.append(" ")
            elif gap > 0.8 * size:
                out.append("\u3000")
        out.append(t)
        prev = c
    text = "".join(out).strip()
    visible = [c for c in chars if not c["text"].isspace()]
    if not text:
        return None
    lead = visible[: max(first_unit_chars(text), 1)]
    first_unit = lead[-1]["x1"] - lead[0]["x0"]
    return Line(
        text=text,
        x0=visible[0]["x0"],
        x1=max(c["x1"] for c in visible),
        top=min(c["top"] for c in visible),
        bottom=max(c["bottom"] for c in visible),
        size=size,
        first_unit=first_unit,
    )


def group_rows(items: list[Any], top: Any, bottom: Any) -> list[list[Any]]:
    """Group boxes into rows by vertical overlap (half the smaller height at least), top to bottom."""
    rows: list[tuple[float, float, list[Any]]] = []
    for it in sorted(items, key=lambda it: (top(it) + bottom(it)) / 2):
        t, b = top(it), bottom(it)
        best, best_overlap = None, 0.0
        for k in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            rt, rb, _ = rows[k]
            overlap = min(b, rb) - max(t, rt)
            if overlap >= 0.5 * min(b - t, rb - rt) and overlap > best_overlap:
                best, best_overlap = k, overlap
        if best is None:
            rows.append((t, b, [it]))
        else:
            rows[best][2].append(it)
    rows.sort(key=lambda r: r[0])
    return [members for _, _, members in rows]


def chars_to_lines(chars: list[dict[str, Any]]) -> list[Line]:
    """Characters of one region -> its lines, top to bottom."""
    lines = []
    for row in group_rows(chars, lambda c: c["top"], lambda c: c["bottom"]):
        ln = _line_from_chars(row)
        if ln is not None:
            lines.append(ln)
    return lines




# ---------------------------------------------------------------------------------------------
# Columns: the order of a page's lines when its text runs in two (or more) columns

GUTTER_MIN = 1.0  # em: the narrowest space between two columns
GUTTER_MAX = 5.0  # em: blocks further apart than this are not columns of running text
MIN_COLUMN_ROWS = 3  # visual rows with text on both sides of the gutter, for a page to have columns
COLUMN_MIN = 6.0  # em: the median width of the text on each side of a gutter, at least (and a quarter of the page's)
MAX_CROSSING = 3  # a page without columns of its own follows the page before when at most this many rows cross


@dataclass(frozen=True)
class Gutter:
    """The empty strip between two columns, in the page's units."""

    x0: float
    x1: float

    @property
    def middle(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass
class Ordered:
    """A page's lines in reading order, and what the order rests on."""

    lines: list[Line]
    gutter: Gutter | None = None  # the page was read column by column
    uncertain: str | None = None  # why positions alone cannot settle the order


def _em(chars: list[dict[str, Any]]) -> float:
    sizes = [c["size"] for c in chars if not c["text"].isspace()]
    return statistics.median(sizes) if sizes else 0.0


def _visible(row: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((c for c in row if not c["text"].isspace()), key=lambda c: c["x0"])


def find_gutter(rows: list[list[dict[str, Any]]], em: float) -> Gutter | None:
    """The gutter of a page whose text runs in columns, or None.

    A gutter is an x position that an empty stretch of at least GUTTER_MIN em crosses in at least
    MIN_COLUMN_ROWS visual rows (each with text on both sides), in the middle three fifths of the
    text, where the text on both sides runs (in those rows, a median of COLUMN_MIN em and a quarter
    of the text's width on each side: not a label and its text, not a form's fields; and no more
    than a third of the rows with a second wide gap: not a borderless table), the text on
    its left wraps (two rows or more end within an em of the gutter) and most rows on its right
    start together (within a two-character indent). The narrowest strip those rows leave empty is
    the gutter; wider than GUTTER_MAX em, it parts blocks, not columns.
    """
    visible = [_visible(r) for r in rows]
    xs = [c for row in visible for c in row]
    if not xs or em <= 0:
        return None
    lo, hi = min(c["x0"] for c in xs), max(c["x1"] for c in xs)
    width = hi - lo
    lo, hi = lo + 0.2 * width, hi - 0.2 * width
    gaps: list[tuple[float, float, float, float]] = []  # per row, its widest central gap a..b and its ends
    cells = 0  # rows with a second wide gap: cells of a borderless table, not two columns of text
    for row in visible:
        reach, best, wide = (row[0]["x1"] if row else 0.0), None, 0
        for c in row[1:]:
            wide += c["x0"] - reach >= 1.5 * em
            if c["x0"] - reach >= GUTTER_MIN * em and lo <= (reach + c["x0"]) / 2 <= hi:
                if best is None or c["x0"] - reach > best[1] - best[0]:
                    best = (reach, c["x0"])
            reach = max(reach, c["x1"])
        if best is not None:
            gaps.append((*best, row[0]["x0"], reach))
            cells += wide >= 2
    if len(gaps) < MIN_COLUMN_ROWS or cells > len(gaps) / 3:
        return None
    ends = sorted({x for gap in gaps for x in gap[:2]})
    mids = [(a + b) / 2 for a, b in zip(ends, ends[1:])]
    x = max(mids, key=lambda m: sum(a < m < b for a, b, _, _ in gaps))
    split = [g for g in gaps if g[0] < x < g[1]]
    if len(split) < MIN_COLUMN_ROWS:
        return None
    left_edge, right_edge = max(g[0] for g in split), min(g[1] for g in split)
    wraps = sum(a >= left_edge - em for a, _, _, _ in split)
    starts = sum(b <= right_edge + 2.5 * em for _, b, _, _ in split)
    # running text on both sides, not a label and its text (第十一条⇥…) or a form's fields
    left_text = statistics.median(a - x0 for a, _, x0, _ in split)
    right_text = statistics.median(x1 - b for _, b, _, x1 in split)
    if min(left_text, right_text) < max(COLUMN_MIN * em, 0.25 * width):
        return None
    if wraps < 2 or starts < len(split) / 2 or right_edge - left_edge > GUTTER_MAX * em:
        return None
    return Gutter(left_edge, right_edge)


def _crosses(x0: float, x1: float, middle: float, em: float) -> bool:
    """A box that reaches within a quarter em of the gutter's middle (the gutter is an em wide at least)."""
    return x0 < middle + 0.25 * em and x1 > middle - 0.25 * em


def order_lines(chars: list[dict[str, Any]], blocks: Sequence[Line] = (), gutter: Gutter | None = None) -> Ordered:
    """A page's characters and ready-made lines (table rows) -> its lines in reading order.

    Without columns (no `gutter` given and none found) the lines go top to bottom. With columns,
    the page is cut into bands by the rows that cross the gutter (a title or a source line across
    the page, a page number) and by empty stretches taller than three lines; such rows stay where
    they are, and in each band the left column is read top to bottom, then the right one, each
    measured against its own margins. A page with more than one band of columns is read that way
    but marked uncertain: text across the page between columns may be a box the columns flow
    around rather than a break between two runs of columns.

    A `gutter` given (the page before had columns) is used when the page has none of its own and
    at most MAX_CROSSING rows cross it, or two rows wrap at it: the end of an article that stops
    in the left column, a right column of two lines.
    """
    em = _em(chars) or 1.0
    rows = [r for r in group_rows(chars, lambda c: c["top"], lambda c: c["bottom"]) if _visible(r)]
    found = find_gutter(rows, em)
    if found is None and gutter is not None:
        across = [any(_crosses(c["x0"], c["x1"], gutter.middle, em) for c in _visible(r)) for r in rows]
        ends = [max((c["x1"] for c in r if c["x1"] <= gutter.middle), default=0.0) for r in rows]
        wrapped = sum(not a and x >= gutter.x0 - em for a, x in zip(across, ends))
        found = gutter if sum(across) <= MAX_CROSSING or wrapped >= 2 else None
    if found is None:
        lines = chars_to_lines(chars) + list(blocks)
        lines.sort(key=lambda ln: ln.top)
        return Ordered(lines)
    mid = found.middle
    # (top, bottom, side, what): side 0 left, 1 right, None across the gutter
    items: list[tuple[float, float, int | None, Line | list[dict[str, Any]]]] = []
    for ln in blocks:
        items.append((ln.top, ln.bottom, None if _crosses(ln.x0, ln.x1, mid, em) else int(ln.x0 >= mid), ln))
    for r in rows:
        vis = _visible(r)
        if any(_crosses(c["x0"], c["x1"], mid, em) for c in vis):
            items.append((min(c["top"] for c in r), max(c["bottom"] for c in r), None, r))
            continue
        for k, part in enumerate(([c for c in r if c["x1"] <= mid], [c for c in r if c["x1"] > mid])):
            if _visible(part):
                items.append((min(c["top"] for c in part), max(c["bottom"] for c in part), k, part))
    items.sort(key=lambda it: it[0])

    out: list[Line] = []
    sides: list[list[Line]] = [[], []]
    band: list[list[Line | list[dict[str, Any]]]] = [[], []]
    bands = 0

    def lines_of(what: list[Line | list[dict[str, Any]]]) -> list[Line]:
        lines = [it for it in what if isinstance(it, Line)]
        lines += chars_to_lines([c for it in what if not isinstance(it, Line) for c in it])
        return sorted(lines, key=lambda ln: ln.top)

    def close() -> None:
        nonlocal bands
        bands += all(band)
        for k in (0, 1):
            lines = lines_of(band[k])
            out.extend(lines)
            sides[k].extend(lines)
            band[k] = []

    bottom: float | None = None
    for top, bot, side, what in items:
        if side is None or (bottom is not None and top - bottom > 3 * em):
            close()
        if side is None:
            out.extend(lines_of([what]))
        else:
            band[side].append(what)
        bottom = bot if bottom is None else max(bottom, bot)
    close()
    for lines in sides:
        frame = _frame(lines, _body_size(lines))
        for ln in lines:
            if not ln.table:
                ln.frame = frame
    uncertain = "columns interrupted by text across the page" if bands > 1 else None
    return Ordered(out, found, uncertain)
