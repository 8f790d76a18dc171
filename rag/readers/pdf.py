"""PDF: the text layer read from character positions, scanned pages through OCR.

Why characters and not a ready-made text extractor: measured on 公文 exported from Word (see
tests/test_read_pdf.py), pdfplumber's, pypdf's and poppler's text output all break every
paragraph at each visual line, and put spaces where LibreOffice/Word leave extra room between
Chinese and Latin text ("12 号"). pdfplumber's characters carry their boxes, so this reader
assembles lines itself and rebuilds paragraphs from the layout:

- characters are grouped into lines by vertical overlap and sorted by x; a space is written
  where the text has one, or where the gap is wide: between two Latin/digit characters from
  0.2 em, between Latin and Chinese from 0.5 em; between two Chinese characters a gap of
  0.8 em or more is a full-width space (第一条　…);
- a line continues the paragraph of the line before it when that line reached the right
  margin (the next line's first character, or Latin word, would not have fitted in what is
  left), the next line starts at the left margin (or is the centred rest of a centred title),
  has the same font size, follows at the usual line gap, and does not start a numbered item
  (一、 （一） 1. （1） ① 第X条 第X章 一是 …). Chinese text is joined with nothing between,
  two Latin/digit words with one space;
- running headers and footers (the same text at the same height at the top or bottom of most
  pages, digits aside) and page numbers at the top or bottom edge (— 3 —, - 3 -, 第3页 共10页,
  3/10, Page 3) are left out;
- tables (pdfplumber's find_tables, two rows and two columns at least) become one line per row,
  cells joined by TAB; their words are not repeated as body text;
- a page without a usable text layer (no more than a handful of characters, or mostly
  unmapped glyphs) is rendered with pypdfium2 and read by OCR (see `ocr.py`).

`layout_text` and `Line` are shared with the image reader, which feeds it OCR lines.
"""

from __future__ import annotations

import bisect
import io
import logging
import math
import re
import statistics
import time
import unicodedata
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .base import Extracted

log = logging.getLogger(__name__)

NEEDS = "pdfplumber (text layer), pypdfium2 (pages rendered for OCR), rapidocr-onnxruntime (scanned pages)"

MAX_PAGES = 2000  # more pages than this: refused (a hostile or mistaken file)
MAX_OCR_PAGES = 300  # more scanned pages than this: refused (about 2 s each on 2 cores)
MAX_STREAM_BYTES = 64 * 1024 * 1024  # a Flate stream (not an image) that inflates beyond this: refused (zip bomb)
MAX_IMAGE_PIXELS = 200_000_000  # an embedded image declaring more pixels: refused (A4 at 1200 dpi is 140 MP)
MIN_TEXT_CHARS = 20  # a page with fewer characters than this and a large image (or none at all) is a scan
OCR_DPI = 200  # render scanned pages at this resolution
MAX_RENDER_PIXELS = 25_000_000  # a page that would render larger is rendered at a lower resolution

TABLE_GAP = 2.5  # em between two OCR text boxes on one line: cells of a table, joined by a TAB
# A line starting a numbered item never continues the line before it.
_CN_NUM = "一二三四五六七八九十百千零〇两"
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


@dataclass
class PageLines:
    """The lines of one page in reading order, and the page's size in the same units."""

    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    ocr: bool = False  # read by OCR (pixels, looser tolerances)
    turned: bool = False  # text set sideways: measured on its own, not with the document's upright pages


@dataclass(frozen=True)
class _Frame:
    """The text area that lines are measured against."""

    left: float
    right: float
    gap: float  # the usual space between two lines of a paragraph

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2


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
    right = max(x for x in rights if x <= p90 + body_size)
    if sum(1 for x in rights if x >= right - 0.5 * body_size) < support:
        right = float("inf")
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
    """True when `nxt` is the wrapped continuation of the paragraph that `prev` belongs to."""
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
    for pno, (page, frame) in enumerate(zip(pages, frames)):
        page_start: int | None = None
        for ln in page.lines:
            if not ln.text:
                continue
            joined = (
                prev is not None
                and frame is not None
                and "\t" not in ln.text
                and "\t" not in paragraphs[-1]
                and _continues(prev[0], ln, prev[1], frame, prev[2] == pno, page.ocr or pages[prev[2]].ocr)
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


def _inside(c: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    x, y = (c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _cell_text(chars: list[dict[str, Any]], bbox: tuple[float, float, float, float] | None) -> str:
    if bbox is None:
        return ""
    text = ""
    for ln in chars_to_lines([c for c in chars if _inside(c, bbox)]):
        text += glue(text, ln.text) + ln.text
    return text.replace("\t", " ")


def _table_rows(page: Any, chars: list[dict[str, Any]]) -> list[tuple[tuple[float, float, float, float], list[Line]]]:
    """The page's ruled tables (2×2 cells at least): each table's box and its rows as TAB-joined lines."""
    if not (page.rects or page.lines or page.curves):
        return []
    out = []
    for table in page.find_tables():
        rows = [r for r in table.rows if any(c is not None for c in r.cells)]
        if len(rows) < 2 or max(len(r.cells) for r in rows) < 2:
            continue
        lines = []
        for r in rows:
            cells = [_cell_text(chars, c) for c in r.cells]
            if any(cells):
                x0, top, x1, bottom = r.bbox
                lines.append(Line("\t".join(cells), x0, x1, top, bottom, 0.0, 0.0, table=True))
        out.append((table.bbox, lines))
    return out


def _is_scan(chars: list[dict[str, Any]], page: Any) -> bool:
    """True when the page has no usable text layer: (almost) no characters, or mostly unmapped glyphs."""
    visible = [c for c in chars if not c["text"].isspace()]
    unmapped = sum(1 for c in visible if c["text"].startswith("(cid:") or "\ue000" <= c["text"][0] <= "\uf8ff")
    if visible and unmapped > 0.3 * len(visible):
        return True
    if len(visible) >= MIN_TEXT_CHARS:
        return False
    if not visible:
        return True
    area = float(page.width * page.height) or 1.0
    covered = sum(max(0.0, (im["x1"] - im["x0"]) * (im["bottom"] - im["top"])) for im in page.images)
    return covered > 0.3 * area


def _angle(c: dict[str, Any]) -> int:
    """The direction a character's baseline runs, to the nearest quarter turn (0 = left to right)."""
    a, b = c["matrix"][0], c["matrix"][1]
    return round(math.degrees(math.atan2(b, a)) / 90) % 4 * 90


def _turned(chars: list[dict[str, Any]], angle: int, width: float, height: float) -> list[dict[str, Any]]:
    """Characters set sideways or upside down, moved into a frame where their text reads left to right."""
    out = []
    for c in chars:
        x0, x1, top, bottom = c["x0"], c["x1"], c["top"], c["bottom"]
        if angle == 90:  # reading upwards, lines going right
            x0, x1, top, bottom = height - bottom, height - top, x0, x1
        elif angle == 270:  # reading downwards, lines going left
            x0, x1, top, bottom = top, bottom, width - x1, width - x0
        elif angle == 180:
            x0, x1, top, bottom = width - x1, width - x0, height - bottom, height - top
        out.append({**c, "x0": x0, "x1": x1, "top": top, "bottom": bottom})
    return out


def _text_page(page: Any) -> tuple[PageLines, bool]:
    """A page's lines from its text layer, or (empty, True) when it must be read by OCR.

    Text in the page's main direction is laid out (turned upright first when the page is set
    sideways); text in another direction (a margin note, a stamp) follows as lines of its own.
    """
    chars = page.dedupe_chars().chars
    width, height = float(page.width), float(page.height)
    if _is_scan(chars, page):
        return PageLines(width, height), True
    by_angle: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for c in chars:
        by_angle[_angle(c)].append(c)
    main = max(by_angle, key=lambda a: len(by_angle[a]))
    if main == 0:
        tables = _table_rows(page, by_angle[0])
        body = [c for c in by_angle[0] if not any(_inside(c, bbox) for bbox, _ in tables)]
        lines = chars_to_lines(body) + [ln for _, rows in tables for ln in rows]
        lines.sort(key=lambda ln: ln.top)
        result = PageLines(width, height, lines)
    else:
        turned = _turned(by_angle[main], main, width, height)
        result = PageLines(height, width, chars_to_lines(turned), turned=True)
        if main == 180:
            result.width, result.height = width, height
    for angle, group in by_angle.items():
        if angle != main:
            for ln in chars_to_lines(_turned(group, angle, width, height)):
                if not _page_number(ln.text):
                    result.lines.append(replace(ln, table=True))  # a line of its own
    return result, False


# ---------------------------------------------------------------------------------------------
# The reader


def sniff(data: bytes) -> bool:
    """True when the bytes start like a PDF (leading whitespace or junk before %PDF- within 1 KiB allowed)."""
    return b"%PDF-" in data[:1024]


def _check_streams(data: bytes) -> None:
    """Refuse bombs before any parser sees them.

    pdfminer inflates Flate streams whole, without a limit: a content, font or object stream that
    would inflate beyond MAX_STREAM_BYTES is refused. Images are only decoded to render a page for
    OCR; one declaring more than MAX_IMAGE_PIXELS is refused.
    """
    for m in re.finditer(rb"(?<!end)stream\r?\n", data):
        head = data[max(0, m.start() - 1000) : m.start()]
        head = head[head.rfind(b" obj") + 1 :]  # this object's dictionary
        if re.search(rb"/Subtype\s*/Image", head):
            w = re.search(rb"/Width\s+(\d{1,9})\b(?!\s+\d+\s+R)", head)
            h = re.search(rb"/Height\s+(\d{1,9})\b(?!\s+\d+\s+R)", head)
            if w and h and int(w.group(1)) * int(h.group(1)) > MAX_IMAGE_PIXELS:
                raise ValueError(f"PDF has an image of {int(w.group(1))}×{int(h.group(1))} pixels")
            continue
        if b"FlateDecode" not in head and not re.search(rb"/Fl\b", head):
            continue
        end = data.find(b"endstream", m.end())
        chunk = data[m.end() : end if end > 0 else len(data)]
        try:
            out = zlib.decompressobj().decompress(chunk, MAX_STREAM_BYTES + 1)
        except zlib.error:
            continue
        if len(out) > MAX_STREAM_BYTES:
            raise ValueError(f"PDF has a compressed stream that inflates beyond {MAX_STREAM_BYTES // 2**20} MiB")


def _title(pdf: Any) -> str | None:
    """The document title from the PDF metadata, unless it is a file name or a program's placeholder."""
    try:
        title = (pdf.get_metadata_dict().get("Title") or "").strip()
    except Exception:  # noqa: BLE001 - metadata is optional
        return None
    title = re.sub(r"^Microsoft (?:Word|PowerPoint|Excel) - ", "", title)
    if not title or re.search(r"\.(?:docx?|wps|pdf|xlsx?|txt|rtf)$", title, re.IGNORECASE):
        return None
    if not any(ch.isalpha() for ch in title) or title.lower() in ("untitled", "无标题"):
        return None
    return title


def _render(pdf: Any, index: int) -> Any:
    """Render a page to a grayscale PIL image at OCR_DPI (less for huge pages)."""
    page = pdf[index]
    try:
        w, h = page.get_size()
        scale = OCR_DPI / 72
        if w * h * scale * scale > MAX_RENDER_PIXELS:
            scale = (MAX_RENDER_PIXELS / max(w * h, 1.0)) ** 0.5
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        page.close()


def _blank(image: Any) -> bool:
    lo, _ = image.convert("L").getextrema()
    return lo > 200


def read_pdf(path: Path, data: bytes) -> Extracted:
    """Read a PDF: the text layer by layout, scanned pages by OCR; page furniture left out.

    Raises:
        ValueError: the file is not a readable PDF, is password-protected, is too large
            (pages, streams), or has scanned pages and OCR failed or is unavailable.
    """
    import pdfplumber
    import pypdfium2 as pdfium

    _check_streams(data)
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise ValueError("PDF is password-protected") from e
        raise ValueError(f"not a readable PDF: {e}") from e
    try:
        n = len(doc)
        if n > MAX_PAGES:
            raise ValueError(f"PDF has {n} pages, more than the {MAX_PAGES} this reader takes")
        if n == 0:
            raise ValueError("PDF has no pages")
        title = _title(doc)
        pages, scans, notes = _read_text_layer(pdfplumber, data, n)
        if scans:
            notes.append(_ocr_pages(path, doc, pages, scans))
    finally:
        doc.close()
    dropped = drop_furniture(pages)
    log.debug("%s: %d furniture lines left out", path.name, dropped)
    text, starts = layout_text(pages)
    if not text.strip():
        raise ValueError("PDF has no text (no text layer and nothing recognised by OCR)")
    return Extracted(text, title, pages=starts, ocr=bool(scans), notes=tuple(notes))


def _read_text_layer(pdfplumber: Any, data: bytes, n: int) -> tuple[list[PageLines], list[int], list[str]]:
    """Every page's lines from the text layer; which pages need OCR; notes."""
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    pages: list[PageLines] = []
    scans: list[int] = []
    notes: list[str] = []
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except PDFPasswordIncorrect as e:
        raise ValueError("PDF is password-protected") from e
    except Exception as e:  # noqa: BLE001 - pdfminer raises many kinds on damaged files; pdfium opened it
        log.warning("pdfminer cannot parse the PDF (%s): every page goes to OCR", e)
        notes.append(f"text layer unreadable ({type(e).__name__}): all pages read by OCR")
        return [PageLines(595.0, 842.0, ocr=True) for _ in range(n)], list(range(n)), notes
    with pdf:
        for i in range(n):
            try:
                page = pdf.pages[i]
                result, scan = _text_page(page)
                page.close()
            except Exception as e:  # noqa: BLE001 - one damaged page must not lose the document
                log.warning("page %d: text layer unreadable (%s): read by OCR", i + 1, e)
                notes.append(f"page {i + 1}: text layer unreadable ({type(e).__name__}), read by OCR")
                result, scan = PageLines(595.0, 842.0), True
            pages.append(result)
            if scan:
                scans.append(i)
    return pages, scans, notes


def _ocr_pages(path: Path, doc: Any, pages: list[PageLines], scans: list[int]) -> str:
    """OCR the scanned pages in place; returns the note saying how many and how long."""
    from . import ocr
    from .base import ReaderUnavailable

    why = ocr.available()
    if why is not None:
        raise ReaderUnavailable(f"{len(scans)} page(s) of this PDF have no usable text layer and need OCR: {why}")
    if len(scans) > MAX_OCR_PAGES:
        raise ValueError(f"PDF has {len(scans)} scanned pages, more than the {MAX_OCR_PAGES} this reader will OCR")
    t0 = time.monotonic()
    empty = []
    for k, i in enumerate(scans):
        image = _render(doc, i)
        if _blank(image):
            pages[i] = replace(pages[i], lines=[], ocr=True)
        else:
            lines = ocr.ocr_lines(image, label=f"{path.name} page {i + 1}/{len(pages)}")
            pages[i] = PageLines(float(image.width), float(image.height), lines, ocr=True)
            if not lines:
                empty.append(i)
        ocr.report_progress(k + 1, len(scans), path.name)
    seconds = time.monotonic() - t0
    note = f"OCR: {len(scans)} page{'s' if len(scans) > 1 else ''} ({_page_list(scans)}), {seconds:.1f} s"
    if empty:
        note += f"; no text recognised on page {_page_list(empty)}"
    return note


def _page_list(indexes: list[int]) -> str:
    return ", ".join(str(i + 1) for i in indexes[:10]) + (" …" if len(indexes) > 10 else "")
