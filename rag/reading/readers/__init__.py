"""The registry of readers: file -> `Extracted`, chosen by content first, then by suffix.

Every supported format is one `Reader` here; the supported list, the upload checks and the
app's uploader all come from `READERS`. Each document records `reader.tag` (name/version),
so a reader that improves re-extracts unchanged files on the next ingest.
"""

from __future__ import annotations

from pathlib import Path

from . import extras, mht, ocr, ofd, office, pdf, plain, sheet, slides, web, word
from .base import Extracted, Reader, ReaderUnavailable

__all__ = ["READERS", "Extracted", "Reader", "ReaderUnavailable", "reader_for", "supported_suffixes", "by_name"]

READERS: tuple[Reader, ...] = (
    Reader("txt", (".txt",), plain.read_text, 1, "charset-normalizer (encoding detection)"),
    Reader("md", (".md",), plain.read_text, 1, "charset-normalizer"),
    Reader("html", (".html", ".htm", ".shtml", ".xhtml"), web.read_html, 4, web.NEEDS, web.sniff),
    Reader("mht", (".mht", ".mhtml"), mht.read_mht, 2, mht.NEEDS, mht.sniff),
    Reader("docx", (".docx",), word.read_docx, 5, word.NEEDS, word.sniff),
    Reader("pdf", (".pdf",), pdf.read_pdf, 5, pdf.NEEDS, pdf.sniff, extras.pdf),
    Reader("image", (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"), ocr.read_image, 3, ocr.NEEDS, ocr.sniff,
           ocr.available),
    Reader("doc", (".doc", ".wps"), office.read_office, 3, office.NEEDS, office.sniff, office.available),
    Reader("ofd", (".ofd",), ofd.read_ofd, 2, ofd.NEEDS, ofd.sniff),
    Reader("slides", (".pptx", ".ppt", ".dps"), slides.read_slides, 1, slides.NEEDS, slides.sniff, extras.slides),
    Reader("xlsx", (".xlsx", ".xlsm"), sheet.read_xlsx, 1, sheet.NEEDS, sheet.sniff, extras.xlsx),
    Reader("xls", (".xls", ".et"), sheet.read_xls, 2, sheet.NEEDS_XLS, sheet.sniff_xls, extras.xls),
    Reader("csv", (".csv",), sheet.read_csv, 1, sheet.NEEDS_CSV),
)  # fmt: skip


def supported_suffixes() -> tuple[str, ...]:
    return tuple(s for r in READERS for s in r.suffixes)


def by_name(name: str) -> Reader:
    return next(r for r in READERS if r.name == name)


def reader_for(path: str | Path, data: bytes) -> Reader:
    """The reader for a file, from its content where it is telling, else its suffix.

    The file's bytes are sniffed first: a file whose content is another supported format than
    its suffix says (a .doc that is really a .docx, a .wps saved as Word 97) goes to the reader
    of its content.

    Raises:
        ValueError: no reader takes this suffix and the content is not recognised.
    """
    suffix = Path(path).suffix.lower()
    by_suffix = next((r for r in READERS if suffix in r.suffixes), None)
    if by_suffix is not None and by_suffix.sniff is not None and by_suffix.sniff(data):
        return by_suffix
    by_content = next((r for r in READERS if r.sniff is not None and r.sniff(data)), None)
    if by_content is not None:
        return by_content
    if by_suffix is not None:
        return by_suffix
    raise ValueError(f"unsupported file type {suffix or '(none)'!r} (supported: {', '.join(supported_suffixes())})")
