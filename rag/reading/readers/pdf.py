"""PDF: the text layer read from character positions, scanned pages through OCR.

Why characters and not a ready-made text extractor: measured on 公文 exported from Word (see
tests/reading/test_read_pdf.py), pdfplumber's, pypdf's and poppler's text output all break every
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
- a page in columns is read column by column, full-width rows in place (`layout.order_lines`); a
  page whose columns are interrupted by text across it is read that way too, and named in
  `meta[UNCERTAIN_PAGES]` and a note;
- tables (pdfplumber's find_tables, two rows and two columns at least) are laid on the grid of
  their rulings, a cell whose box covers several rows or columns merged; their words are not
  repeated as body text. A table that runs over a page break is one table: its header rows
  repeated at the top of the next page are left out, a row broken across the break (going on
  with an empty 序号 cell) is joined, and a merged cell going on at the top of the next page is
  the same cell (`join_tables`). The whole table is then rendered in the row model
  (`table.table_lines`: "列名：值；…" rows, merged 类别 cells as the rows' heading lines), each
  line on the page of the row it comes from (`render_tables`);
- a page without a usable text layer (no more than a handful of characters, or mostly
  unmapped glyphs) is rendered in colour with pypdfium2 and read by OCR (see `ocr.py`: red
  seals are taken out first).

`layout_text` and `Line` are shared with the image reader, which feeds it OCR lines.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .base import Extracted
from .layout import (
    Gutter,
    Line,
    PageLines,
    _page_number,
    chars_to_lines,
    drop_furniture,
    glue,
    layout_text,
    order_lines,
)
from .table import Cell, table_lines_by_row

log = logging.getLogger(__name__)

NEEDS = "pdfplumber (text layer), pypdfium2 (pages rendered for OCR), rapidocr-onnxruntime (scanned pages)"

MAX_PAGES = 2000  # more pages than this: refused (a hostile or mistaken file)
MAX_STREAM_BYTES = 64 * 1024 * 1024  # a Flate stream (not an image) that inflates beyond this: refused (zip bomb)
MAX_IMAGE_PIXELS = 200_000_000  # an embedded image declaring more pixels: refused (A4 at 1200 dpi is 140 MP)
MIN_TEXT_CHARS = 20  # a page with fewer characters than this and a large image (or none at all) is a scan
OCR_DPI = 200  # render scanned pages at this resolution
MAX_RENDER_PIXELS = 25_000_000  # a page that would render larger is rendered at a lower resolution
UNCERTAIN_PAGES = "uncertain_order_pages"  # meta: pages whose reading order positions cannot settle ("2, 5")


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


@dataclass
class TableRow(Line):
    """A ruled table's row: a line (its cells TAB-joined) placed and joined like any other, and its
    cells for the row model (`table.table_lines`), rendered once the table is whole (`render_tables`)."""

    grid: list[Cell] = field(default_factory=list)
    table_id: int = 0  # the table it belongs to (a table going on over a page break keeps its first part's)


_table_ids = itertools.count(1)


def _table_grid(table: Any, chars: list[dict[str, Any]]) -> list[list[Cell]]:
    """The table's cells on the grid of its rulings: a cell whose box covers several rows or columns is
    merged, the grid positions it covers below its first row `up`, to the right of it `left`."""
    xs = sorted({c[0] for c in table.cells})
    tops = sorted({c[1] for c in table.cells})
    grid = [[Cell() for _ in xs] for _ in tops]
    for x0, top, x1, bottom in table.cells:
        r0, c0 = tops.index(top), xs.index(x0)
        grid[r0][c0] = Cell(_cell_text(chars, (x0, top, x1, bottom)))
        for r in range(r0, len(tops)):
            for c in range(c0, len(xs)):
                if tops[r] < bottom - 1 and xs[c] < x1 - 1 and (r, c) != (r0, c0):
                    grid[r][c] = Cell(up=r > r0, left=r == r0)
    return grid


def _table_rows(page: Any, chars: list[dict[str, Any]]) -> list[tuple[tuple[float, float, float, float], list[Line]]]:
    """The page's ruled tables (2×2 cells at least): each table's box and its rows (`TableRow`)."""
    if not (page.rects or page.lines or page.curves):
        return []
    out: list[tuple[tuple[float, float, float, float], list[Line]]] = []
    for table in page.find_tables():
        rows = table.rows
        if len(rows) < 2 or max(len(r.cells) for r in rows) < 2:
            continue
        grid = _table_grid(table, chars)
        edges = tuple(round(x) for x in sorted({c[0] for c in table.cells}))
        table_id = next(_table_ids)
        lines: list[Line] = []
        for r, cells in zip(rows, grid):
            if any(c.text for c in cells):
                x0, top, x1, bottom = r.bbox
                text = "\t".join(c.text for c in cells)
                lines.append(TableRow(text, x0, x1, top, bottom, 0.0, 0.0, table=True, cells=edges, grid=cells,
                                      table_id=table_id))  # fmt: skip
        out.append((table.bbox, lines))
    return out


_SERIAL = re.compile(r"^(?:序号|编号|序|No\.?|\d{1,4})$", re.IGNORECASE)
_SERIAL_NAME = re.compile(r"^(?:序号|编号|序|No\.?)$", re.IGNORECASE)
MAX_HEADER_ROWS = 3  # at most this many header rows repeated at the top of a page are recognised


def _same_table(a: Line, b: Line) -> bool:
    """Two table rows with the same cells (within 2 points): the same table, or its continuation."""
    return a.table and b.table and bool(a.cells) and len(a.cells) == len(b.cells) and all(
        abs(x - y) <= 2 for x, y in zip(a.cells, b.cells)
    )


def _one_table(a: Line, b: Line) -> bool:
    """Two rows of one table on one page."""
    if isinstance(a, TableRow) and isinstance(b, TableRow):
        return a.table_id == b.table_id
    return _same_table(a, b)


def join_tables(pages: list[PageLines]) -> int:
    """A ruled table that goes on over a page break becomes one table again; returns how many rows went.

    The table's header rows, repeated at the top of the next page, are left out there (they are a
    header, not data); a row broken across the break, which goes on at the top of the next page
    with an empty 序号 cell (the first column, or the column its header names 序号/编号), is joined
    with its start into one row, cell by cell; and an empty cell at the top of the next page that
    goes on a cell merged down at the foot of the page before (or is merged down itself) is that
    merged cell going on. Run after `drop_furniture` (page numbers stand between the two parts).
    """
    removed = 0
    header: list[str] = []  # the first rows of the table that reaches the foot of the page before
    for prev, page in zip(pages, pages[1:]):
        if not (prev.lines and page.lines and _same_table(prev.lines[-1], page.lines[0])):
            header = []
            continue
        start = len(prev.lines) - 1  # where the table starts on `prev`
        while start > 0 and _one_table(prev.lines[start - 1], prev.lines[-1]):
            start -= 1
        if not (header and start == 0):  # else it went on onto `prev` from the page before: keep its header
            header = [ln.text for ln in prev.lines[start : start + MAX_HEADER_ROWS]]
        _continue_table(prev.lines[-1], page.lines)
        k = 0
        while k < min(len(header), len(page.lines)) and page.lines[k].text == header[k]:
            k += 1
        del page.lines[:k]
        removed += k
        last = prev.lines[-1]
        if page.lines and _same_table(last, page.lines[0]) and last.text != header[0]:
            a, b = last.text.split("\t"), page.lines[0].text.split("\t")
            names = header[0].split("\t")
            s = next((i for i, name in enumerate(names) if _SERIAL_NAME.match(name)), 0)
            if len(a) == len(b) > s and not b[s] and _SERIAL.match(a[s]) and _SERIAL.match(names[s]):
                _merge_cells(last, page.lines[0])
                del page.lines[0]
                removed += 1
        _continue_merged(last, page.lines)
    return removed


def render_tables(pages: list[PageLines]) -> None:
    """Every ruled table, whole (after `join_tables`), in the row model (`table.table_lines`): its rows are
    replaced by the table's lines, each line on the page and at the place of the row it comes from."""
    tables: dict[int, list[TableRow]] = defaultdict(list)
    for page in pages:
        for ln in page.lines:
            if isinstance(ln, TableRow):
                tables[ln.table_id].append(ln)
    placed: dict[int, list[Line]] = {}  # id() of a row -> the lines in its place
    for rows in tables.values():
        for row in rows:
            placed[id(row)] = []
        for r, text in table_lines_by_row([row.grid for row in rows]):
            row = rows[r]
            placed[id(row)].append(Line(text, row.x0, row.x1, row.top, row.bottom, row.size, row.first_unit,
                                        table=True, frame=row.frame, cells=row.cells))  # fmt: skip
    for page in pages:
        page.lines = [out for ln in page.lines for out in (placed[id(ln)] if isinstance(ln, TableRow) else [ln])]


def _continue_table(last: Line, lines: list[Line]) -> None:
    """The table at the top of a page goes on the table that `last` ends: its rows take that table's id."""
    if isinstance(last, TableRow) and isinstance(lines[0], TableRow):
        ours = lines[0].table_id
        for ln in lines:
            if isinstance(ln, TableRow) and ln.table_id == ours:
                ln.table_id = last.table_id


def _continue_merged(last: Line, lines: list[Line]) -> None:
    """An empty cell in the first row on a page that goes on a cell merged down over `last` (covered there),
    or that is merged down itself, is that merged cell going on: covered from above."""
    if not (lines and isinstance(last, TableRow) and isinstance(lines[0], TableRow)):
        return
    first = lines[0]
    if first.table_id != last.table_id or len(first.grid) != len(last.grid):
        return
    below = lines[1] if len(lines) > 1 and isinstance(lines[1], TableRow) and lines[1].table_id == first.table_id \
        else None  # fmt: skip
    first.grid = [Cell(up=True) if cell == Cell() and (last.grid[k].up or (below is not None and below.grid[k].up))
                  else cell for k, cell in enumerate(first.grid)]  # fmt: skip


def _merge_cells(a: Line, b: Line) -> None:
    """Row `b` (the rest of a row broken across a page) joined onto `a`, cell by cell."""
    xs, ys = a.text.split("\t"), b.text.split("\t")
    a.text = "\t".join(x + glue(x, y) + y for x, y in zip(xs, ys))
    if isinstance(a, TableRow) and isinstance(b, TableRow) and len(a.grid) == len(b.grid):
        a.grid = [replace(x, text=x.text + glue(x.text, y.text) + y.text) for x, y in zip(a.grid, b.grid)]


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


def _text_page(page: Any, gutter: Gutter | None = None) -> tuple[PageLines, bool]:
    """A page's lines from its text layer, or (empty, True) when it must be read by OCR.

    Text in the page's main direction is laid out (turned upright first when the page is set
    sideways) in reading order, column by column where it runs in columns (`gutter`: the page
    before's columns, see `layout.order_lines`); text in another direction (a margin note, a
    stamp) follows as lines of its own.
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
        ordered = order_lines(body, [ln for _, rows in tables for ln in rows], gutter)
        result = PageLines(width, height, ordered.lines, gutter=ordered.gutter, uncertain=ordered.uncertain)
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
    """Render a page to a PIL image at OCR_DPI (less for huge pages), in colour: red seals are taken out by colour."""
    page = pdf[index]
    try:
        w, h = page.get_size()
        scale = OCR_DPI / 72
        if w * h * scale * scale > MAX_RENDER_PIXELS:
            scale = (MAX_RENDER_PIXELS / max(w * h, 1.0)) ** 0.5
        return page.render(scale=scale).to_pil()
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
    joined = join_tables(pages)
    log.debug("%s: %d table rows repeated or broken across pages", path.name, joined)
    render_tables(pages)
    text, starts = layout_text(pages)
    if not text.strip():
        raise ValueError("PDF has no text (no text layer and nothing recognised by OCR)")
    meta: dict[str, str] = {}
    columns = [i for i, p in enumerate(pages) if p.gutter is not None]
    if columns:
        notes.append(f"read column by column: page {_page_list(columns)}")
    unsure = [i for i, p in enumerate(pages) if p.uncertain]
    if unsure:
        meta[UNCERTAIN_PAGES] = ", ".join(str(i + 1) for i in unsure)
        reasons = sorted({p.uncertain for p in pages if p.uncertain})
        notes.append(f"reading order uncertain on page {_page_list(unsure)} ({'; '.join(reasons)})")
        log.warning("%s: %s", path.name, notes[-1])
    return Extracted(text, title, pages=starts, ocr=bool(scans), meta=meta, notes=tuple(notes))


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
    gutter: Gutter | None = None  # the columns of the page before
    with pdf:
        for i in range(n):
            try:
                page = pdf.pages[i]
                result, scan = _text_page(page, gutter)
                page.close()
            except Exception as e:  # noqa: BLE001 - one damaged page must not lose the document
                log.warning("page %d: text layer unreadable (%s): read by OCR", i + 1, e)
                notes.append(f"page {i + 1}: text layer unreadable ({type(e).__name__}), read by OCR")
                result, scan = PageLines(595.0, 842.0), True
            pages.append(result)
            gutter = result.gutter
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
    if len(scans) > ocr.MAX_OCR_PAGES:
        raise ValueError(f"PDF has {len(scans)} scanned pages, more than the {ocr.MAX_OCR_PAGES} this reader will OCR")
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
