"""The row model every reader renders its tables with: a grid of cells -> text lines.

A table whose header row is recognised reads as
- its caption rows (a title merged across the table above the header), one line each;
- the header: one TAB-joined line of column names (a header of several rows, the cells
  merged down over it, gives each column its names joined by "·": "责任单位·牵头单位");
- before the rows they head, its categories, one line each: a row holding one cell only (a
  category row merged across the table, "一、基础设施") and the values of its category
  columns (a 类别 column, or a first column merged down over several rows); the whole path
  is repeated whenever it changes, so the lines before a row always are its categories;
- each data row as "列名：值；列名：值" (`rag.text.rows.render_row`): a cell merged down over
  several rows gives its value to each of them; empty rows are left out; a 合计/总计 row is a
  row.
A table without a recognisable header keeps the plain convention: one TAB-joined line per
row, a merged cell's text once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.text.rows import render_row

HEADER_JOIN = "·"
MAX_HEADER_ROWS = 4
MAX_HEADER_CHARS = 30
_TOTAL = re.compile(r"^(合\s*计|总\s*计|小\s*计|共\s*计|总计|合计)")
_NUMBER = re.compile(r"^[\d.,，%％\s+\-]+$")
_CATEGORY_NAME = re.compile(r"(类别|分类|类型|领域|板块|方面|大类)$")
_FIELD_NAME = re.compile(r"序号|编号|任务|内容|措施|事项|单位|部门|时限|时间|节点|要求|目标|名称")
# Names a document's table header is made of (a form or a layout grid has none of them).
_HEADER_WORD = re.compile(
    r"序号|编号|任务|内容|措施|事项|单位|部门|时限|时间|节点|要求|目标|名称|项目|类别|指标|标准|依据|备注|责任|牵头|"
    r"配合|进度|完成|金额|数量|资金|地点|对象|条件|材料|方式|办理|分工|职责|情况|说明|日期|姓名|职务"
)


@dataclass(frozen=True)
class Cell:
    """One grid position: its text, or that a merged cell above or to the left covers it."""

    text: str = ""
    up: bool = False  # covered by the cell above (a vertical merge)
    left: bool = False  # covered by the cell to the left (a horizontal merge)


def table_lines(grid: Sequence[Sequence[Cell]], header: bool | None = None) -> list[str]:
    """The lines of a table (see the module docstring).

    Args:
        grid: rows of cells, top to bottom; rows may be ragged.
        header: True when the first row (after caption rows) is the header, as in a
            spreadsheet; None to decide from the cells, as for a table in a document; False
            for the plain convention (a table nested in a cell, flattened into its text).
    """
    return [line for _, line in table_lines_by_row(grid, header)]


def table_lines_by_row(grid: Sequence[Sequence[Cell]], header: bool | None = None) -> list[tuple[int, str]]:
    """`table_lines`, each line with the index in `grid` of the row it comes from (a category line:
    the row it heads; the header line: the header's first row), for a reader that places lines by
    their row (a PDF table's lines on the pages their rows are on)."""
    lead = next((i for i, row in enumerate(grid) if any(_clean(c.text) for c in row)), 0)
    return [(lead + r, line) for r, line in _lines(grid, header)]


def _lines(grid: Sequence[Sequence[Cell]], header: bool | None) -> list[tuple[int, str]]:
    """`table_lines` by row, the row indexes counted from the first row with text."""
    rows = _normalised(grid)
    if not rows:
        return []
    width = len(rows[0])
    if width < 2:
        return [(r, line) for r, row in enumerate(rows) if (line := " ".join(c.text for c in row if c.text))]
    down = _filled_down(rows)
    top = 0
    captions: list[tuple[int, str]] = []
    while top < len(rows) - 2 and len(captions) < 2 and len(_own(rows[top])) == 1 and width >= 3:
        captions.append((top, _own(rows[top])[0]))
        top += 1
    last = top + max((_run_down(rows, top, c) for c in range(width)), default=0)
    last = min(last, top + MAX_HEADER_ROWS - 1, len(rows) - 1)
    names = _names(rows, top, last)
    data = rows[last + 1 :]
    if not data or not (header or (header is None and _looks_like_header(names, rows[top], len(data)))):
        return _plain(rows)
    cats = _category_columns(names, rows, down, last + 1)
    lines = [*captions, (top, "\t".join(names))]
    path: tuple[str, ...] = ()
    row_cat: str | None = None
    for r in range(last + 1, len(rows)):
        own = _own(rows[r], skip=cats)
        if not own:
            continue
        shown = [down[r][c] for c in range(width) if c not in cats and down[r][c] and not rows[r][c].left]
        if len(shown) == 1 and width >= 3 and not _TOTAL.match(own[0]) and not _NUMBER.match(own[0]):
            row_cat = own[0]
            continue
        new = (*([row_cat] if row_cat else []), *(down[r][c] for c in cats))
        if new != path:
            lines.extend((r, name) for name in new)
            path = new
        lines.append((r, render_row((names[c], "" if rows[r][c].left else down[r][c]) for c in range(width)
                                    if c not in cats)))  # fmt: skip
    return lines


def _clean(text: str) -> str:
    return re.sub(r"[\t\r\n\f\v]+", " ", text).strip()


def _normalised(grid: Sequence[Sequence[Cell]]) -> list[list[Cell]]:
    """Rectangular rows with clean texts, empty columns and leading/trailing empty rows dropped."""
    width = max((len(r) for r in grid), default=0)
    rows = [[Cell(_clean(c.text), c.up, c.left) for c in r] + [Cell()] * (width - len(r)) for r in grid]
    keep = [c for c in range(width) if any(r[c].text for r in rows)]
    rows = [[r[c] for c in keep] for r in rows]
    while rows and not any(c.text for c in rows[-1]):
        rows.pop()
    while rows and not any(c.text for c in rows[0]):
        rows.pop(0)
    return rows


def _filled_down(rows: list[list[Cell]]) -> list[list[str]]:
    """Each cell's text, a vertically merged cell's text given to every row it covers."""
    out: list[list[str]] = []
    for r, row in enumerate(rows):
        out.append([out[r - 1][c] if cell.up and r else cell.text for c, cell in enumerate(row)])
    return out


def _own(row: list[Cell], skip: Sequence[int] = ()) -> list[str]:
    """The texts a row holds itself (not carried from a merged cell above or to the left)."""
    return [c.text for i, c in enumerate(row) if c.text and not c.up and not c.left and i not in skip]


def _run_down(rows: list[list[Cell]], top: int, c: int) -> int:
    """How many rows below `top` the cell at (top, c) covers."""
    n = 0
    while top + n + 1 < len(rows) and rows[top + n + 1][c].up:
        n += 1
    return n


def _names(rows: list[list[Cell]], top: int, last: int) -> list[str]:
    """Column names from header rows top..last (merged cells give their text to every column/row they cover)."""
    names = []
    for c in range(len(rows[0])):
        parts: list[str] = []
        for r in range(top, last + 1):
            k = c
            while k > 0 and rows[r][k].left and not rows[r][k].text:
                k -= 1
            text = rows[r][k].text
            if rows[r][k].up and not text:
                continue
            if text and text not in parts:
                parts.append(text)
        names.append(HEADER_JOIN.join(parts) or f"第{c + 1}列")
    return names


def _looks_like_header(names: list[str], first: list[Cell], n_data: int) -> bool:
    """A document's table: its first row names columns (short, distinct, no sentences or numbers)."""
    own = [c.text for c in first if c.text]
    if len(own) < 2 or len(set(names)) < len(names) or any(n.startswith("第") and n.endswith("列") for n in names):
        return False
    if any(len(n) > MAX_HEADER_CHARS or "。" in n or _NUMBER.match(n) or _TOTAL.match(n) for n in names):
        return False
    return n_data >= 2 or any(_HEADER_WORD.search(n) for n in names)


def _category_columns(names: list[str], rows: list[list[Cell]], down: list[list[str]], first: int) -> list[int]:
    """Columns whose values head rows rather than describe them: named 类别/领域…, or a first column
    (not a 序号 or task column), merged down over several rows or repeating a value, filled on every data row."""
    out = []
    for c, name in enumerate(names):
        merged = any(rows[r][c].up or (r > first and down[r][c] and down[r][c] == down[r - 1][c])
                     for r in range(first, len(rows)))  # fmt: skip
        if not merged or not (_CATEGORY_NAME.search(name) or (c == 0 and not _FIELD_NAME.search(name))):
            continue
        filled = [down[r][c] for r in range(first, len(rows)) if _own(rows[r], skip=[c])]
        if filled and all(filled):
            out.append(c)
    return out if len(out) < len(names) - 1 else []


def _plain(rows: list[list[Cell]]) -> list[tuple[int, str]]:
    """One TAB-joined line per non-empty row, a merged cell's text once."""
    return [(r, "\t".join("" if c.up or c.left else c.text for c in row)) for r, row in enumerate(rows)
            if any(c.text for c in row)]  # fmt: skip
