"""Spreadsheets: .xlsx/.xlsm (openpyxl), .xls/.et (LibreOffice -> .xlsx) and .csv, as table rows.

Offices keep their 任务分工表, 责任清单 and 统计表 as workbooks. Each sheet is a section: a
heading line "# 工作表名", then its table in the row model (`table.table_lines`): caption
rows, the header (rows merged down over it joined), category rows and category columns as
lines before the rows they head, and each data row as "列名：值；列名：值", so that a row read
alone says what each value is. Empty rows and columns are left out.

Values are what Excel shows when it can be told from the file: a formula's cached value
(openpyxl `data_only`), whole numbers without ".0", a percentage format as a percentage,
a date as 2024-06-30 (or 2024年6月30日 where its format writes 年). Hidden sheets are read
and named in `Extracted.notes`. The title is the workbook's own (core properties), else
the file's name: a citation reads 《workbook》 › sheet › 序号 N (or 第N行, the Nth data row).

Limits: a formula the program that saved the file did not calculate has no value (openpyxl
writes none), and reads empty; charts, images, comments and text boxes are left out; at most
`MAX_ROWS` rows and `MAX_COLS` columns a sheet (the rest is named in the notes). A .csv has
no merged cells, so its header is its first row; its encoding is detected (charset-normalizer)
and its delimiter sniffed among , TAB ; |.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from pathlib import Path

from . import office
from .base import Extracted, check_zip, zip_has
from .plain import decode_bytes
from .table import Cell, table_lines

log = logging.getLogger(__name__)

NEEDS = "openpyxl"
NEEDS_XLS = "openpyxl and LibreOffice (soffice --headless, Calc)"
NEEDS_CSV = "charset-normalizer (encoding detection)"
MAX_ROWS = 20_000
MAX_COLS = 200
_HIDDEN = ("hidden", "veryHidden")


def sniff(data: bytes) -> bool:
    """True for an Office Open XML workbook (.xlsx/.xlsm)."""
    return zip_has(data, "xl/workbook.xml")


def sniff_xls(data: bytes) -> bool:
    """True for an OLE compound file holding an Excel (or WPS) workbook."""
    return data.startswith(office.OLE_MAGIC) and (
        office.ole_has_stream(data, "Workbook") or office.ole_has_stream(data, "Book")
    )


def read_xlsx(path: Path, data: bytes) -> Extracted:
    """Read an .xlsx/.xlsm: one section per sheet, its rows in the row model.

    Raises:
        ValueError: not a readable workbook (the zip rule, or openpyxl's reason).
    """
    import openpyxl

    check_zip(data, path.name)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValueError(f"not a readable workbook ({type(exc).__name__}: {exc})") from exc
    lines: list[str] = []
    notes: list[str] = []
    hidden = [ws.title for ws in wb.worksheets if ws.sheet_state in _HIDDEN]
    if hidden:
        notes.append("hidden sheets read: " + "、".join(hidden))
    for ws in wb.worksheets:
        grid, cut = _grid(ws)
        if cut:
            notes.append(f"sheet {ws.title}: only the first {MAX_ROWS} rows and {MAX_COLS} columns read")
        rows = table_lines(grid, header=True)
        if rows:
            lines.append(f"# {ws.title.strip() or '工作表'}")
            lines.extend(rows)
    title = (wb.properties.title or "").strip() or path.stem
    return Extracted("\n".join(lines), title, notes=tuple(notes))


def read_xls(path: Path, data: bytes) -> Extracted:
    """Read an .xls/.et by converting it to .xlsx with LibreOffice, then as an .xlsx.

    Raises:
        ReaderUnavailable: LibreOffice is not installed.
        ValueError: an OLE file that holds no workbook (an encrypted package, another application's
            file), LibreOffice could not convert it, or the result is not readable.
    """
    if data.startswith(office.OLE_MAGIC) and not sniff_xls(data):  # Calc would import its bytes as text
        if office.ole_has_stream(data, "EncryptedPackage"):
            raise ValueError("an encrypted (password-protected) workbook")
        raise ValueError("not an Excel/WPS workbook (an OLE file without a Workbook stream)")
    return read_xlsx(path, office.convert(path, data, "xlsx", (".xls", ".et")))


def read_csv(path: Path, data: bytes) -> Extracted:
    """Read a .csv: its encoding detected, its delimiter sniffed, its first row the header.

    Raises:
        ValueError: not text, or not parseable as CSV.
    """
    text, encoding = decode_bytes(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [[Cell(v) for v in row[:MAX_COLS]] for row, _ in zip(csv.reader(io.StringIO(text), dialect),
                                                                    range(MAX_ROWS))]  # fmt: skip
    except csv.Error as exc:
        raise ValueError(f"not a readable CSV file ({exc})") from exc
    return Extracted("\n".join(table_lines(rows, header=True)), path.stem, encoding)


def _grid(ws) -> tuple[list[list[Cell]], bool]:
    """A sheet's cells as `Cell`s (merged ranges as covered cells), and whether it was cut at the limits."""
    n_rows, n_cols = min(ws.max_row, MAX_ROWS), min(ws.max_column, MAX_COLS)
    covered: dict[tuple[int, int], Cell] = {}
    for rng in ws.merged_cells.ranges:
        for r in range(rng.min_row, min(rng.max_row, n_rows) + 1):
            for c in range(rng.min_col, min(rng.max_col, n_cols) + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    covered[(r, c)] = Cell("", up=r > rng.min_row, left=c > rng.min_col)
    grid = []
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=n_rows, max_col=n_cols), start=1):
        grid.append([covered.get((r, c)) or Cell(_shown(cell)) for c, cell in enumerate(row, start=1)])
    return grid, ws.max_row > MAX_ROWS or ws.max_column > MAX_COLS


def _shown(cell) -> str:
    """A cell's value as Excel shows it, near enough (see the module docstring)."""
    v = cell.value
    fmt = cell.number_format or ""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        v = v.date()
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return f"{v.year}年{v.month}月{v.day}日" if "年" in fmt else v.isoformat()
    if isinstance(v, (dt.datetime, dt.time)):
        return v.isoformat(sep=" ", timespec="minutes") if isinstance(v, dt.datetime) else v.isoformat("minutes")
    if isinstance(v, (int, float)):
        if "%" in fmt:
            return f"{v * 100:.10g}%"
        if isinstance(v, float):
            return str(int(v)) if v.is_integer() else f"{v:.10g}"
        return str(v)
    return str(v)
