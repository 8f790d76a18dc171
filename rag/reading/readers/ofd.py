"""OFD (GB/T 33190), China's fixed-layout format: a zip of XML pages of positioned text.

OFD.xml -> DocBody/DocRoot -> Document.xml -> Pages/Page/@BaseLoc -> each page's Content.xml,
whose Layer/TextObject elements (Boundary "x y w h", Size, optional CTM) hold TextCode runs
placed at X/Y (DeltaX spacing optional). Nothing says what reads before what, so the layout
is rebuilt: runs are grouped into lines by their baseline, ordered left to right, lines top
to bottom, and wrapped lines are joined back into paragraphs (CJK-aware: no space between
Chinese characters; an indented line, a numbered item 一、（一）1.第X条 or a line after a short
line starts a new paragraph). Page furniture is left out: page numbers ("— 3 —"), page
templates, background layers (watermarks) and a first/last line repeated on most pages.

Tables: runs far apart on a line are cells (TAB-joined). Where the lines under such a line have
their cells starting where its cells start (left-aligned cells, as Word lays them out), the lines
are a table: wrapped cell lines are joined into their cells, the header repeated on a new page is
left out, and the table is rendered in the row model (`table.table_lines`). The rulings are not
read: a merged cell is an empty one, and a table whose cells are centred keeps its TAB lines.

Safety: XML is parsed by defusedxml with DTDs refused (no entities, no network); paths that
leave the package are refused; member sizes, total bytes read and the page count are capped.
"""

from __future__ import annotations

import io
import logging
import math
import posixpath
import re
import statistics
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from rag.text.vocab import CN_NUMERALS, CN_ONE_TO_TEN

from .base import MAX_ZIP_MEMBER_BYTES, MAX_ZIP_UNPACKED, Extracted, check_zip, zip_has
from .table import Cell, table_lines_by_row

log = logging.getLogger(__name__)

NEEDS = "defusedxml (zip + XML)"

MAX_MEMBER_BYTES = MAX_ZIP_MEMBER_BYTES  # one XML member, uncompressed (the shared zip rule, `base.check_zip`)
MAX_TOTAL_BYTES = MAX_ZIP_UNPACKED  # all members read, uncompressed
MAX_PAGES = 5000

# A line that starts a numbered item never continues the line before it.
ITEM_RE = re.compile(
    rf"(第[{CN_NUMERALS}\d]+[编章节条款项部]"
    rf"|[{CN_ONE_TO_TEN}百]+[、．.]"
    rf"|[（(][{CN_ONE_TO_TEN}百\d]+[)）]"
    r"|\d+(?:[、．]|\.(?!\d))"
    r"|[①-⑳㈠-㈩])"
)
PAGE_NO_RE = re.compile(
    r"[\s\-—–－―~～一]*\d{1,4}[\s\-—–－―~～一]*"
    r"|第\s*\d{1,4}\s*页(\s*[，,/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}"
)
TAB_GAP = 2.0  # em between two runs on one line: cells of a table, joined by a TAB
TOUCH_GAP = 0.3  # em between two runs on one line that are one piece of text (a change of font)
_FILE_TITLE_RE = re.compile(r"^Microsoft Word\s*-\s*|\.(docx?|wps|pdf|ofd|txt)$", re.I)


def sniff(data: bytes) -> bool:
    return zip_has(data, "OFD.xml")


@dataclass
class _Run:
    """One TextCode placed on the page: baseline y, x extent, glyph size (all mm)."""

    x0: float
    x1: float
    y: float
    size: float
    text: str


@dataclass
class _Line:
    """Runs sharing a baseline, left to right."""

    runs: list[_Run] = field(default_factory=list)
    text: str = ""
    table: bool = False  # a line of a table (its header or a row): a line of its own, never joined

    @property
    def y(self) -> float:
        return self.runs[0].y

    @property
    def x0(self) -> float:
        return min(r.x0 for r in self.runs)

    @property
    def x1(self) -> float:
        return max(r.x1 for r in self.runs)

    @property
    def size(self) -> float:
        """The size of most of the line's characters."""
        return max(self.runs, key=lambda r: len(r.text)).size


class _Package:
    """The zip, read with limits; members found by resolved path."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ValueError(f"broken OFD: not a readable zip archive ({exc})") from exc
        try:
            check_zip(data)  # the shared zip-bomb rule: sizes, ratio, member count and names
        except ValueError as exc:
            raise ValueError(f"broken OFD: {exc}") from exc
        self.names = {info.filename: info for info in self.zip.infolist()}
        self.lower = {name.lower(): name for name in self.names}
        self.read_bytes = 0

    def member(self, loc: str, base: str, what: str) -> str:
        """The member a location names: absolute ("/Doc_0/...") from the root, else relative to `base`'s folder.

        Raises:
            ValueError: the path leaves the package, or no such member exists.
        """
        loc = loc.strip().replace("\\", "/")
        if not loc:
            raise ValueError(f"broken OFD: {what} has an empty location")
        tries = [loc.lstrip("/")] if loc.startswith("/") else [posixpath.join(posixpath.dirname(base), loc), loc]
        for path in tries:
            norm = posixpath.normpath(path)
            if norm == ".." or norm.startswith("../") or norm.startswith("/"):
                raise ValueError(f"broken OFD: {what} path {loc!r} escapes the package")
            name = norm if norm in self.names else self.lower.get(norm.lower())
            if name is not None:
                return name
        raise ValueError(f"broken OFD: {what} {loc!r} is missing from the package")

    def xml(self, name: str) -> Element:
        """A member parsed as XML, namespaces dropped from tags.

        Raises:
            ValueError: too big, encrypted, not well-formed, or declaring a DTD/entities.
        """
        import defusedxml.ElementTree as ET
        from defusedxml import DefusedXmlException

        info = self.names[name]
        if info.file_size > MAX_MEMBER_BYTES:
            raise ValueError(f"broken OFD: {name} is {info.file_size / 1e6:.0f} MB, over the member limit")
        if self.read_bytes + info.file_size > MAX_TOTAL_BYTES:
            raise ValueError("broken OFD: the package unpacks to more than the size limit")
        try:
            with self.zip.open(info) as f:
                raw = f.read(MAX_MEMBER_BYTES + 1)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, EOFError) as exc:
            raise ValueError(f"broken OFD: cannot unpack {name} ({exc})") from exc
        self.read_bytes += len(raw)
        try:
            root = ET.fromstring(raw, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise ValueError(f"broken OFD: {name} declares a DTD or entities, refused ({type(exc).__name__})") from exc
        except ET.ParseError as exc:
            raise ValueError(f"broken OFD: {name} is not well-formed XML ({exc})") from exc
        for el in root.iter():
            if isinstance(el.tag, str) and "}" in el.tag:
                el.tag = el.tag.rsplit("}", 1)[1]
        return root


def _floats(value: str | None) -> list[float]:
    """Numbers in an attribute ("25 30 160 10"); unparsable parts are dropped."""
    out = []
    for tok in (value or "").replace(",", " ").split():
        try:
            out.append(float(tok))
        except ValueError:
            continue
    return out


def _deltas(value: str | None) -> list[float]:
    """DeltaX/DeltaY spacing, expanding the "g N v" shorthand (N times v)."""
    toks, out, i = (value or "").split(), [], 0
    while i < len(toks):
        if toks[i] == "g" and i + 2 < len(toks):
            try:
                out.extend([float(toks[i + 2])] * min(int(toks[i + 1]), 100_000))
            except ValueError:
                pass
            i += 3
            continue
        try:
            out.append(float(toks[i]))
        except ValueError:
            pass
        i += 1
    return out


def _is_wide(ch: str) -> bool:
    """CJK characters and full-width punctuation: one em wide, never separated by spaces."""
    return ord(ch) >= 0x2E80 or ch in "—…“”‘’"


def _advance(ch: str, size: float) -> float:
    return size if _is_wide(ch) else size * 0.5


def _runs(content: Element) -> list[_Run]:
    """Every TextCode of the page's non-background layers, placed in page coordinates."""
    runs = []
    for layer in content.iter("Layer"):
        if layer.get("Type", "Body") == "Background":
            continue
        for obj in layer.iter("TextObject"):
            bx, by = (_floats(obj.get("Boundary")) + [0.0, 0.0])[:2]
            ctm = _floats(obj.get("CTM"))
            a, b, c, d, e, f = ctm if len(ctm) == 6 else (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
            scale = math.sqrt(abs(a * d - b * c)) or 1.0
            size = (_floats(obj.get("Size")) or [3.5])[0] * scale
            x = y = 0.0
            for code in obj.iter("TextCode"):
                x = (_floats(code.get("X")) or [x])[0]
                y = (_floats(code.get("Y")) or [y])[0]
                text = re.sub(r"[\x00-\x1f\x7f]", "", (code.text or "").replace("\u00a0", " "))
                if not text.strip():
                    continue
                steps = _deltas(code.get("DeltaX"))
                end = x + sum(steps[i] if i < len(steps) else _advance(ch, size / scale) for i, ch in
                              enumerate(text[:-1]))  # fmt: skip
                end += _advance(text[-1], size / scale)
                px0, py = bx + a * x + c * y + e, by + b * x + d * y + f
                px1 = bx + a * end + c * y + e
                runs.append(_Run(min(px0, px1), max(px0, px1), py, size, text))
    return runs


def _glue(left: str, right: str, gap: float, size: float) -> str:
    """What goes between two runs on one line, from the gap between them."""
    if gap >= TAB_GAP * size:
        return "\t"
    if gap >= 0.8 * size:
        return " "
    if (
        gap >= 0.2 * size
        and left[-1:].isascii()
        and left[-1:].isalnum()
        and right[:1].isascii()
        and right[:1].isalnum()
    ):
        return " "
    return ""


def _lines(runs: list[_Run]) -> list[_Line]:
    """Runs grouped into lines by baseline (within 0.45 em), lines top to bottom, runs left to right."""
    lines: list[_Line] = []
    for run in sorted(runs, key=lambda r: (r.y, r.x0)):
        if lines and abs(run.y - lines[-1].y) <= 0.45 * max(run.size, lines[-1].size):
            lines[-1].runs.append(run)
        else:
            lines.append(_Line([run]))
    for line in lines:
        line.runs.sort(key=lambda r: r.x0)
        kept: list[_Run] = []
        for run in line.runs:  # fake bold: the same text drawn twice, a hair apart
            if kept and run.text == kept[-1].text and abs(run.x0 - kept[-1].x0) < 0.5 * run.size:
                continue
            kept.append(run)
        line.runs = kept
        parts = [kept[0].text]
        for prev, run in zip(kept, kept[1:]):
            parts.append(_glue(prev.text, run.text, run.x0 - prev.x1, run.size) + run.text)
        line.text = "".join(parts).strip()
    return [ln for ln in lines if ln.text]


# ---------------------------------------------------------------------------------------------
# Tables: cells on a line far apart (TAB_GAP), lining up in columns over several lines


@dataclass
class _Table:
    """Lines whose cells start where the cells of the first (the header) start: rows, cell by cell."""

    starts: list[float]  # the left edge of each column (the header's cells)
    em: float
    rows: list[list[str]] = field(default_factory=list)
    ends: list[list[float]] = field(default_factory=list)  # each row's cells: where their last line ends
    lines: list[tuple[int, _Line]] = field(default_factory=list)  # each row's page and first line
    last: tuple[int, _Line] | None = None  # the page and line read last

    def column(self, x0: float) -> int | None:
        """The column whose cells start where x0 is (within an em), or None."""
        return next((k for k, start in enumerate(self.starts) if abs(x0 - start) <= self.em), None)

    def place(self, cells: list[tuple[float, float, str]]) -> dict[int, tuple[float, str]] | None:
        """The cells by column, or None when two share a column or one lies left of the table."""
        placed: dict[int, tuple[float, str]] = {}
        for x0, x1, text in cells:
            k = self.column(x0)
            if k is None or k in placed:
                return None
            placed[k] = (x1, text)
        return placed

    def full(self, k: int) -> bool:
        """The last row's cell in column k reaches its column's right edge: its text wraps onto the next line."""
        edge = self.starts[k + 1] if k + 1 < len(self.starts) else max(e[k] for e in self.ends)
        return self.rows[-1][k] != "" and self.ends[-1][k] >= edge - 2.5 * self.em

    def take(self, page: int, line: _Line, cells: list[tuple[float, float, str]]) -> bool:
        """Take a line as the table's next row, or as the rest of its last row's wrapped cells; False if neither."""
        placed = self.place(cells)
        if placed is None or self.last is None:
            return False
        last_page, last = self.last
        close = page == last_page and 0 < line.y - last.y <= 2.0 * max(line.size, last.size)
        if close and self.rows and all(self.full(k) for k in placed):  # wrapped cells going on
            for k, (x1, text) in placed.items():
                self.rows[-1][k] += _wrap_glue(self.rows[-1][k], text) + text
                self.ends[-1][k] = x1
        elif len(cells) >= 2:
            if page != last_page and [c[2] for c in cells] == self.rows[0] and len(self.rows) > 1:
                pass  # the header repeated at the top of the next page
            else:
                self.add(page, line, placed)
        else:
            return False
        self.last = (page, line)
        return True

    def add(self, page: int, line: _Line, placed: dict[int, tuple[float, str]]) -> None:
        self.rows.append([placed[k][1] if k in placed else "" for k in range(len(self.starts))])
        self.ends.append([placed[k][0] if k in placed else 0.0 for k in range(len(self.starts))])
        self.lines.append((page, line))


def _cells(line: _Line) -> list[tuple[float, float, str]]:
    """A line's pieces (x0, x1, text): its runs, those that touch (a font change) taken together; in a
    table each cell's line is a piece of its own, however narrow the gap between two cells."""
    cells: list[tuple[float, float, str]] = []
    for run in line.runs:
        if cells and run.x0 - cells[-1][1] < TOUCH_GAP * run.size:
            x0, x1, text = cells[-1]
            cells[-1] = (x0, run.x1, text + _glue(text, run.text, run.x0 - x1, run.size) + run.text)
        else:
            cells.append((run.x0, run.x1, run.text))
    return cells


def _tables(pages: list[list[_Line]]) -> list[list[_Line]]:
    """The pages with their tables in the row model (`table.table_lines`).

    A table is a line with a TAB in it (runs `TAB_GAP` apart), its pieces its header's cells, and the
    lines under it whose pieces each start where one of the header's cells does (within an em): a
    line of two pieces or more is a row; a line close under the one before, whose pieces are all in
    columns where the row's cell reached the column's edge, is the rest of those wrapped cells. A
    table going on at the top of the next page is the same table, its header repeated there left
    out. Each line of the rendered table takes the place of the row it comes
    from; a table of one row, or whose header is not recognised, keeps its lines as they were.
    """
    items: list[tuple[int, _Line] | _Table] = []
    table: _Table | None = None
    for p, page in enumerate(pages):
        for line in page:
            cells = _cells(line)
            if table is not None and table.take(p, line, cells):
                continue
            table = None
            if len(cells) >= 2 and "\t" in line.text:
                table = _Table([c[0] for c in cells], line.size)
                table.add(p, line, {k: (c[1], c[2]) for k, c in enumerate(cells)})
                table.last = (p, line)
                items.append(table)
            else:
                items.append((p, line))
    out: list[list[_Line]] = [[] for _ in pages]
    for item in items:
        if not isinstance(item, _Table):
            out[item[0]].append(item[1])
            continue
        if len(item.rows) < 2:
            out[item.lines[0][0]].append(item.lines[0][1])
            continue
        for r, text in table_lines_by_row([[Cell(t) for t in row] for row in item.rows]):
            page, line = item.lines[r]
            out[page].append(_Line(line.runs, text, table=True))
    return out


def _drop_page_number(lines: list[_Line], height: float | None) -> list[_Line]:
    """The page without its page number: a bare number line at the very bottom (or top)."""
    if not lines:
        return lines
    last, first = lines[-1], lines[0]
    if PAGE_NO_RE.fullmatch(last.text) and (height is None or last.y > 0.75 * height or len(lines) == 1):
        lines = lines[:-1]
    elif len(lines) > 1 and PAGE_NO_RE.fullmatch(first.text) and height is not None and first.y < 0.15 * height:
        lines = lines[1:]
    return lines


def _drop_running(pages: list[list[_Line]]) -> list[list[_Line]]:
    """The pages without running headers/footers: a first or last line on most pages, same place, same words.

    Digits are ignored in the comparison (page and issue numbers change from page to page).
    """
    if len(pages) < 3:
        return pages

    def key(line: _Line) -> tuple[str, int]:
        return re.sub(r"\d+", "#", line.text), round(line.y)

    for pick in (0, -1):
        counts = Counter(key(page[pick]) for page in pages if page)
        running = {k for k, n in counts.items() if n >= max(3, len(pages) // 2)}
        if running:
            pages = [page[1:] if page and pick == 0 and key(page[0]) in running else page for page in pages]
            pages = [page[:-1] if page and pick == -1 and key(page[-1]) in running else page for page in pages]
    return pages


def _join(pages: list[list[_Line]], page_width: float | None) -> tuple[str, tuple[int, ...]]:
    """The pages' lines as paragraphs (one per text line) and each page's start offset.

    The text block's edges come from the lines themselves: the left edge is the leftmost
    start shared by two lines or more, the right edge the furthest end. When no line spans
    half the page, there is no telling a full line from a short one, and nothing is joined.
    """
    flat = [ln for page in pages for ln in page if "\t" not in ln.text and not ln.table] or [
        ln for page in pages for ln in page
    ]
    starts_x = Counter(round(ln.x0 * 2) / 2 for ln in flat)
    left = min([x for x, n in starts_x.items() if n > 1] or list(starts_x) or [0.0])
    right = max((ln.x1 for ln in flat), default=0.0)
    if page_width and right - left < 0.5 * page_width:
        right = math.inf
    pitches = [b.y - a.y for page in pages for a, b in zip(page, page[1:]) if b.y > a.y]
    pitch = statistics.median(pitches) if pitches else 0.0

    parts: list[str] = []
    length = 0
    starts: list[int] = []
    prev: _Line | None = None
    for page in pages:
        starts.append(length)
        for i, line in enumerate(page):
            glue = ""
            if prev is not None:
                same_page = i > 0
                cont = _continues(prev, line, left, right, pitch if same_page else 0.0)
                glue = _wrap_glue(prev.text, line.text) if cont else "\n"
            if i == 0:
                starts[-1] = length + len(glue)
            parts += [glue, line.text]
            length += len(glue) + len(line.text)
            prev = line
    return "".join(parts), tuple(starts)


def _continues(a: _Line, b: _Line, left: float, right: float, pitch: float) -> bool:
    """True when line b is the wrapped rest of line a's paragraph."""
    size = max(a.size, b.size)
    if "\t" in a.text or "\t" in b.text or a.table or b.table:
        return False
    if abs(a.size - b.size) > 0.15 * size:
        return False
    if a.x1 < right - 1.5 * a.size:  # a ends short of the right edge: its paragraph ends there
        return False
    if b.x0 > left + 0.9 * b.size:  # b is indented (a first line) or centred
        return False
    if pitch and b.y - a.y > 1.8 * pitch:
        return False
    return not ITEM_RE.match(b.text)


def _wrap_glue(a: str, b: str) -> str:
    """Nothing between wrapped CJK text; a space where a Latin word or number was wrapped."""
    if not a or not b or _is_wide(a[-1]) or _is_wide(b[0]) or a.endswith("-"):
        return ""
    return " "


def _box_size(el: Element | None) -> tuple[float, float] | None:
    """(width, height) of a PhysicalBox "x y w h", if stated."""
    nums = _floats(el.text) if el is not None else []
    return (nums[2], nums[3]) if len(nums) == 4 and nums[2] > 0 and nums[3] > 0 else None


def _title(info: Element | None) -> str | None:
    """DocInfo/Title, without a file name's decorations ("Microsoft Word - ", ".docx")."""
    el = info.find("Title") if info is not None else None
    if el is None or not (el.text or "").strip():
        return None
    return _FILE_TITLE_RE.sub("", el.text.strip()).strip() or None


def read_ofd(path: Path, data: bytes) -> Extracted:
    """The OFD's text in reading order, its pages' offsets and its stated title.

    Raises:
        ValueError: the package is broken, hostile or incomplete; the message says what.
    """
    pkg = _Package(data)
    if "OFD.xml" not in pkg.names:
        raise ValueError("broken OFD: no OFD.xml at the package root")
    ofd = pkg.xml("OFD.xml")
    bodies = ofd.findall("DocBody")
    if not bodies:
        raise ValueError("broken OFD: OFD.xml has no DocBody")
    root_el = bodies[0].find("DocRoot")
    if root_el is None or not (root_el.text or "").strip():
        raise ValueError("broken OFD: OFD.xml names no DocRoot")
    doc_name = pkg.member(root_el.text, "OFD.xml", "DocRoot")
    doc = pkg.xml(doc_name)
    page_els = doc.findall("Pages/Page")
    if not page_els:
        raise ValueError(f"broken OFD: {doc_name} lists no pages")
    if len(page_els) > MAX_PAGES:
        raise ValueError(f"broken OFD: {len(page_els)} pages, over the {MAX_PAGES}-page limit")
    default_box = _box_size(doc.find("CommonData/PageArea/PhysicalBox"))

    pages: list[list[_Line]] = []
    widths: list[float] = []
    for no, page_el in enumerate(page_els, 1):
        loc = page_el.get("BaseLoc")
        if not loc:
            raise ValueError(f"broken OFD: page {no} has no BaseLoc")
        content = pkg.xml(pkg.member(loc, doc_name, f"page {no} content"))
        box = _box_size(content.find("Area/PhysicalBox")) or default_box
        if box:
            widths.append(box[0])
        pages.append(_drop_page_number(_lines(_runs(content)), box[1] if box else None))
    empty = [no for no, lines in enumerate(pages, 1) if not lines]
    text, starts = _join(_tables(_drop_running(pages)), max(widths, default=None))

    notes = []
    if empty:
        shown = ", ".join(map(str, empty[:10])) + (" ..." if len(empty) > 10 else "")
        notes.append(f"{len(empty)} of {len(pages)} OFD pages have no text (images only?): {shown}")
    if len(bodies) > 1:
        notes.append(f"the OFD holds {len(bodies)} documents; only the first was read")
    log.debug("read %s: %d pages, %d characters", path.name, len(pages), len(text))
    return Extracted(text, _title(bodies[0].find("DocInfo")), pages=starts, notes=tuple(notes))
