"""Slide decks: .pptx read with python-pptx; .ppt and WPS .dps converted to .pptx by LibreOffice first.

A slide is a section of its own, "第N页" by its place in the deck (`Extracted.sections`), so no
clause, heading or table runs from one slide into the next; its lines, in this order:
- the title placeholder's text, marked as a level-1 heading (`Extracted.outline`), so a clause
  is cited 《deck》 › 第N页 › title;
- every other shape in reading order: top to bottom, then left to right by its position;
  a group's shapes in the same order where the group stands; a text frame gives one line
  per paragraph (soft line breaks as in Word: kept where a sentence ends or a numbered item
  starts, else joined);
- a table by the row model every reader shares (`table.table_lines`): a recognised header
  row, then each row as "列名：值；…", merged cells carried; else one TAB-joined line per
  row; a cell's paragraphs join with a space;
- the speaker notes last, the first line marked "备注：", in a section of their own under
  第N页 › title (notes are about the whole slide, not its last paragraph).
Slides with no text are skipped; hidden slides are read and named in `Extracted.notes`.
Left out: date, footer and slide-number placeholders (furniture), pictures (no OCR), charts,
SmartArt, and the numbers of auto-numbered paragraphs. The title is the core properties' title,
else the first slide's title.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from .base import Extracted, check_zip, zip_has
from .office import OLE_MAGIC, convert, ole_has_stream
from .table import Cell, table_lines
from .word import _resolve_breaks

log = logging.getLogger(__name__)

NEEDS = "python-pptx; LibreOffice for .ppt/.dps"
NOTE_MARK = "备注："
_CONVERTED = (".ppt", ".dps")


def sniff(data: bytes) -> bool:
    """True for a .pptx package or an OLE file holding a PowerPoint 97 presentation (.ppt, .dps)."""
    if data.startswith(OLE_MAGIC):
        return ole_has_stream(data, "PowerPoint Document")
    return zip_has(data, "ppt/presentation.xml")


def _line(text: str) -> str:
    """One line of shown text: TABs (cell separators in our lines) as spaces, edges trimmed."""
    return text.replace("\t", " ").strip()


def _paragraph_lines(text_frame) -> list[str]:
    """A text frame's paragraphs, one line each (soft breaks resolved), empty ones left out."""
    out: list[str] = []
    for p in text_frame.paragraphs:
        for ln in _resolve_breaks(p.text.replace("\v", "\n")).split("\n"):
            if _line(ln):
                out.append(_line(ln))
    return out


def _table_lines(table) -> list[str]:
    """A table's lines by the shared row model, its merged cells marked as covering their neighbours."""
    rows = [list(row.cells) for row in table.rows]
    covered: dict[tuple[int, int], Cell] = {}
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell.is_merge_origin:
                for rr in range(r, r + cell.span_height):
                    for cc in range(c, c + cell.span_width):
                        covered[(rr, cc)] = Cell("", up=rr > r, left=cc > c)
                covered.pop((r, c))
    grid = [[covered.get((r, c)) or Cell(" ".join(_paragraph_lines(cell.text_frame))) for c, cell in enumerate(row)]
            for r, row in enumerate(rows)]  # fmt: skip
    return table_lines(grid)


def _position(shape) -> tuple[int, int]:
    return (shape.top or 0, shape.left or 0)


def _furniture(shape) -> bool:
    """A date, footer, header or slide-number placeholder."""
    from pptx.enum.shapes import PP_PLACEHOLDER

    if not shape.is_placeholder:
        return False
    furniture = (PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.HEADER, PP_PLACEHOLDER.SLIDE_NUMBER)
    return shape.placeholder_format.type in furniture


def _shape_lines(shapes: Iterable) -> Iterator[str]:
    """Lines of shapes in reading order (top to bottom, then left to right), groups recursed."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in sorted(shapes, key=_position):
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _shape_lines(shape.shapes)
        elif getattr(shape, "has_table", False) and shape.has_table:
            yield from _table_lines(shape.table)
        elif shape.has_text_frame and not _furniture(shape):
            yield from _paragraph_lines(shape.text_frame)


def _slide_lines(slide) -> tuple[list[str], list[str], list[str]]:
    """(title lines, the other lines, the notes' lines) of one slide."""
    title = slide.shapes.title
    title_lines = []
    if title is not None and title.has_text_frame:
        joined = "\n".join(p.text.replace("\v", "\n") for p in title.text_frame.paragraphs)
        title_lines = [_line(ln) for ln in _resolve_breaks(joined).split("\n") if _line(ln)]
    lines = list(_shape_lines(s for s in slide.shapes if title is None or s.shape_id != title.shape_id))
    notes_frame = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
    notes = _paragraph_lines(notes_frame) if notes_frame is not None else []
    return title_lines, lines, [NOTE_MARK + notes[0], *notes[1:]] if notes else []


def read_pptx(path: Path, data: bytes) -> Extracted:
    """A .pptx deck: one section per slide with text (see the module docstring).

    Raises:
        ValueError: not a readable .pptx (refused zip), or no slide has any text.
    """
    from pptx import Presentation

    check_zip(data, path.name)
    deck = Presentation(io.BytesIO(data))
    lines: list[str] = []
    offset = 0
    outline: list[tuple[int, int]] = []
    sections: list[tuple[int, tuple[str, ...]]] = []
    hidden: list[int] = []
    first_title = None
    n = 0
    for n, slide in enumerate(deck.slides, 1):
        title_lines, body, notes = _slide_lines(slide)
        if not title_lines and not body and not notes:
            continue
        if slide.element.get("show") in ("0", "false"):
            hidden.append(n)
        page = f"第{n}页"
        sections.append((offset, (page,)))
        if title_lines:
            outline.append((offset, 1))
            first_title = first_title or title_lines[0]
        for k, ln in enumerate((*title_lines, *body, *notes)):
            if k == len(title_lines) + len(body):
                sections.append((offset, (page, title_lines[0]) if title_lines else (page,)))
            lines.append(ln)
            offset += len(ln) + 1
    if not lines:
        raise ValueError(f"no text on any slide ({n} slide{'s' if n != 1 else ''}; pictures only?)")
    notes = (f"hidden slides read: {', '.join(f'第{k}页' for k in hidden)}",) if hidden else ()
    title = (deck.core_properties.title or "").strip() or first_title
    return Extracted("\n".join(lines), title, outline=tuple(outline), sections=tuple(sections), notes=notes)


def read_slides(path: Path, data: bytes) -> Extracted:
    """A .pptx, or a .ppt/.dps converted to .pptx by LibreOffice, read by `read_pptx`.

    Raises:
        ReaderUnavailable: a .ppt/.dps and LibreOffice is not installed.
        ValueError: encrypted, not a presentation, the conversion failed, or no slide has text.
    """
    if data.startswith(OLE_MAGIC):
        if ole_has_stream(data, "EncryptedPackage"):
            raise ValueError("an encrypted (password-protected) Office file")
        if not ole_has_stream(data, "PowerPoint Document"):
            raise ValueError("an OLE file without a PowerPoint Document stream: not a .ppt/.dps presentation")
        data = convert(path, data, "pptx", _CONVERTED)
    return read_pptx(path, data)
