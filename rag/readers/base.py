"""What every reader returns, and how a reader is described in the registry.

A reader turns one file's bytes into `Extracted`: the text that clause spans index into
(verbatim from the file, or as the program that displays it renders it: Word's list
numbers, a PDF's text layer, OCR), plus what the format itself says about the document.
Readers are pure functions of the file; cleaning, 公文 structure and clause splitting
happen above them, on the text, the same for every format.

Conventions every reader follows, so the layers above stay format-agnostic:
- one line per paragraph (block-level element); inline markup never breaks a line;
- a table: an optional caption line just before it, then one line per row, cells
  joined by a TAB ("\t"), the header row first;
- a footnote/endnote: the reference stays in its paragraph as "[注N]" (endnotes
  "[尾注N]") and the note's text follows that paragraph as a line of its own starting
  with the same marker and a space;
- page furniture (running headers and footers, page numbers) is left out;
- `pages[i]` is the offset in `text` where page i+1 starts (paged formats only).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


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
