"""What every reader returns, and how a reader is described in the registry.

A reader turns one file's bytes into `Extracted`: the text that clause spans index into
(verbatim from the file, or as the program that displays it renders it: Word's list
numbers, a PDF's text layer, OCR), plus what the format itself says about the document.
Readers are pure functions of the file; cleaning, 公文 structure and clause splitting
happen above them, on the text, the same for every format.

Conventions every reader follows, so the layers above stay format-agnostic:
- one line per paragraph (block-level element); inline markup never breaks a line;
- a table: an optional caption line just before it, then one line per row, cells
  joined by a TAB ("\t"), the header row first; where the header is recognised, the
  rows after it read "列名：值；列名：值" with category lines before them (the row model,
  `table.table_lines`, which readers render their tables with);
- a footnote/endnote: the reference stays in its paragraph as "[注N]" (endnotes
  "[尾注N]") and the note's text follows that paragraph as a line of its own starting
  with the same marker and a space;
- page furniture (running headers and footers, page numbers) is left out;
- `pages[i]` is the offset in `text` where page i+1 starts (paged formats only).
- `outline` marks the lines the format itself styles as headings (Word's heading styles and
  outline levels), by the offset where the line starts and its level (1 = top); the splitter
  uses them where a line carries no typed number.
- `sections` cuts the text into parts that are split apart, each under its own heading path
  (a slide: ("第N页",); its notes: ("第N页", title)): no clause, heading or numbering runs
  from one part into the next.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# One zip-bomb rule for every zip-based format (.docx, .ofd), in the readers and on upload.
MAX_ZIP_UNPACKED = 100 * 1024 * 1024  # all members together, uncompressed (as declared)
MAX_ZIP_MEMBER_BYTES = 50 * 1024 * 1024  # one member, uncompressed
MAX_ZIP_RATIO = 100  # unpacked size / packed size, for the archive and for each big member
MAX_ZIP_MEMBERS = 10_000
_RATIO_FLOOR = 1024 * 1024  # below this many unpacked bytes the ratio is not checked (small XML packs tightly)
_DRIVE = re.compile(r"^[A-Za-z]:")


class ReaderUnavailable(ValueError):
    """The reader needs a program or package that is not installed; the message says which and how."""


@dataclass(frozen=True)
class Extracted:
    """A file's text and what its format says about it."""

    text: str
    title: str | None = None  # a title the format states (docx core properties, HTML <h1>, PDF metadata)
    encoding: str = "binary"
    base_headings: tuple[str, ...] = ()
    pages: tuple[int, ...] = ()  # start offset of each page in `text`
    ocr: bool = False  # the text was recognised from images
    meta: dict[str, str] = field(default_factory=dict)  # stated metadata: doc_number, issuer, date, index_no, ...
    notes: tuple[str, ...] = ()  # remarks about the extraction worth telling the user (e.g. "3 pages by OCR")
    outline: tuple[tuple[int, int], ...] = ()  # (offset of a line in `text`, level 1-9): headings the format marks
    sections: tuple[tuple[int, tuple[str, ...]], ...] = ()  # (offset where a part starts, its path), in order


ReadFn = Callable[[Path, bytes], Extracted]


@dataclass(frozen=True)
class Reader:
    """One format: how to recognise it, how to read it, what it needs."""

    name: str  # short format name, stored as the document's kind
    suffixes: tuple[str, ...]
    read: ReadFn
    version: int  # bump when the reader's output changes: unchanged files are then re-extracted
    needs: str  # the package or program it uses, for the README table and error messages
    sniff: Callable[[bytes], bool] | None = None  # True when the file's bytes are this format
    available: Callable[[], str | None] = lambda: None  # None when usable, else why not and how to fix it

    @property
    def tag(self) -> str:
        """`name/version`, stored with each document."""
        return f"{self.name}/{self.version}"


def zip_has(data: bytes, name: str) -> bool:
    """True when `data` is a zip archive with a member called `name`."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return name in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _unsafe_member_name(name: str) -> str | None:
    """Why a member name is unsafe to carry around (absolute, escaping, control characters), or None."""
    if "\x00" in name or any(ord(ch) < 0x20 for ch in name):
        return "a control character in a member name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm):
        return f"absolute member path {name!r}"
    if ".." in posixpath.normpath(norm).split("/"):
        return f"member path {name!r} leaves the archive"
    return None


def check_zip(data: bytes, name: str = "") -> None:
    """Refuse a zip (.docx, .ofd) that is hostile before anything is unpacked.

    The rule, from the central directory (what `zipfile` will ever unpack is capped by the
    declared sizes): at most `MAX_ZIP_MEMBERS` members; no member name that is absolute,
    leaves the archive or holds control characters; each member at most
    `MAX_ZIP_MEMBER_BYTES` unpacked; all members together at most `MAX_ZIP_UNPACKED`; and,
    past 1 MiB unpacked, neither the archive nor any member more than `MAX_ZIP_RATIO` times
    its packed size (a zip bomb).

    Raises:
        ValueError: not a readable zip, or refused; the message says why (and names `name`).
    """
    where = f"{name}: " if name else ""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{where}not a readable zip archive ({exc})") from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise ValueError(f"{where}zip bomb refused: {len(infos)} members, over the limit of {MAX_ZIP_MEMBERS}")
    total = 0
    for info in infos:
        why = _unsafe_member_name(info.filename)
        if why:
            raise ValueError(f"{where}unsafe zip refused: {why}")
        if info.file_size > MAX_ZIP_MEMBER_BYTES:
            raise ValueError(
                f"{where}zip bomb refused: {info.filename} unpacked size {info.file_size:,} bytes "
                f"over limit {MAX_ZIP_MEMBER_BYTES:,}"
            )
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise ValueError(
                f"{where}zip bomb refused: {info.filename} unpacked size {info.file_size:,} bytes is "
                f"{info.file_size // max(info.compress_size, 1):,} times its packed size, over limit {MAX_ZIP_RATIO}"
            )
        total += info.file_size
    if total > MAX_ZIP_UNPACKED:
        raise ValueError(
            f"{where}zip bomb refused: unpacked size {total / 2**20:.0f} MB over limit {MAX_ZIP_UNPACKED // 2**20} MB"
        )
    if total > _RATIO_FLOOR and total > MAX_ZIP_RATIO * max(len(data), 1):
        raise ValueError(
            f"{where}zip bomb refused: unpacked size {total:,} bytes is {total // max(len(data), 1):,} times "
            f"the {len(data):,}-byte file, over limit {MAX_ZIP_RATIO}"
        )
