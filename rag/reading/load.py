"""Load: files on disk -> `Document` (decoded text + metadata).

Formats come from the reader registry (`rag.reading.readers`); folders are walked recursively and
every file is accounted for: loaded, or listed with the reason it was left out. Identity
(title, 文号, issuer, date) comes from what the format states, then from the 公文 layout
(`rag.text.gongwen`), then from the header; never from the body. A file that cannot be read
becomes a `LoadError` naming the file and the reason; the other files still load.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.reading.readers import Extracted, Reader, ReaderUnavailable, reader_for, supported_suffixes
from rag.reading.readers.plain import decode_bytes
from rag.text.clean import INFO_END, clean_spans, echoed_title_lines
from rag.text.gongwen import analyse, find_date, find_doc_number
from rag.text.vocab import PRC, REVISED

__all__ = [
    "Document", "LoadError", "decode_bytes", "find_date", "find_doc_number", "load_file", "load_paths",
    "resolve_path", "scan",
]  # fmt: skip

logger = logging.getLogger(__name__)

LAYOUT_VERSION = 3  # cleaning, 公文 structure, clause splitting: bump to re-extract every document
SKIPPED_NAMES = {"_index.md"}  # LawRefBook folder stubs carry no text
MAX_FILE_BYTES = 50 * 1024 * 1024
REMOVED_DIR = ".removed"  # files a librarian removed in the app: kept, never ingested again
UPLOAD_TEMP_PREFIX = ".upload-"  # `rag.interfaces.upload` checks an upload under this name before moving it into place


@dataclass(frozen=True)
class Document:
    """One source document: its decoded text and what the text says about itself.

    `text` is the text that clause spans index into: for .txt/.md the decoded file
    verbatim; for .html/.docx/.pdf the text extracted from it.
    """

    doc_id: str
    source: str
    title: str
    text: str
    sha256: str
    kind: str
    encoding: str = "utf-8"
    date: str | None = None
    doc_number: str | None = None
    issuer: str | None = None
    base_headings: tuple[str, ...] = field(default=())
    titled: bool = True  # the title is stated in the document (not taken from its file name)
    reader: str = ""  # reader name/version;layout/version: a newer one re-extracts an unchanged file
    spans: tuple[tuple[int, int], ...] | None = None  # body spans of `text` (None: all kept lines)
    pages: tuple[int, ...] = ()  # start offset of each page (paged formats)
    ocr: bool = False  # text recognised from images
    repeals: tuple[str, ...] = ()  # titles / 文号 the document says it repeals
    repeal_reports: tuple[tuple[str, str], ...] = ()  # (repealed, repealing): repeals it reports (a 解读)
    revised: bool = False  # the title marks a revision (修订/修正)
    meta: dict[str, str] = field(default_factory=dict)  # 主送, 署名, 附件说明, 抄送, 印发, 签发人, …
    outline: tuple[tuple[int, int], ...] = ()  # (line start, level) of heading lines: styled (1-9), a wrapped title (0)
    sections: tuple[tuple[int, tuple[str, ...]], ...] = ()  # (offset, path) of parts split apart (slides)


@dataclass(frozen=True)
class LoadError:
    """A file that could not be loaded, and why."""

    source: str
    reason: str


# ---------------------------------------------------------------- metadata

_FILE_DATE_RE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)")
_ISSUER_LINE_RE = re.compile(
    r"^[\u4e00-\u9fa5（）()]{2,30}(人民政府|人民政府办公厅|办公厅|办公室|委员会|常务委员会|人民代表大会|"
    r"党委|党组|工委|局|厅|部|院|署|委|中心)$"
)
# "…16日中华人民共和国国务院令第596号": the issuer is what stands between the country and 令.
_ISSUER_IN_NUMBER_RE = re.compile(rf"(?:^|[\s\d日，,])(?:{PRC})?([\u4e00-\u9fa5]{{2,20}}?)令\s*[（(]?第", re.M)
_ISSUER_ADOPTED_RE = re.compile(r"(全国人民代表大会(?:常务委员会)?|[\u4e00-\u9fa5]{2,12}人民代表大会常务委员会)")
_HEADER_CHARS = 600


def find_issuer(header: str) -> str | None:
    """The issuing body, when the header names it on a line of its own or in a 令/通过 line."""
    for line in header.splitlines():
        line = line.strip()
        if _ISSUER_LINE_RE.match(line):
            return line
    m = _ISSUER_IN_NUMBER_RE.search(header)
    if m:
        return m.group(1)
    m = _ISSUER_ADOPTED_RE.search(header)
    return m.group(1) if m else None


def title_from_stem(stem: str) -> str:
    """File stem without a trailing (YYYY-MM-DD) version date."""
    return _FILE_DATE_RE.sub("", stem).strip() or stem


def load_file(path: str | Path) -> Document:
    """Load one file into a `Document`: the registry's reader, then cleaning and 公文 structure.

    Raises:
        ValueError: the file is empty, too big, of an unsupported type, or unreadable;
            the message says which (`ReaderUnavailable` when a needed program is missing).
    """
    path = Path(path)
    if path.name.startswith("~$"):
        raise ValueError("an Office lock file (~$…), not a document")
    try:
        size = path.stat().st_size
        if size == 0:
            raise ValueError("empty file")
        if size > MAX_FILE_BYTES:
            raise ValueError(f"file is {size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit")
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ValueError(_os_reason(exc)) from exc
    if len(data) > MAX_FILE_BYTES:  # grew since it was measured
        raise ValueError(f"file is over the {MAX_FILE_BYTES // 2**20} MB limit")
    if not data:
        raise ValueError("empty file")
    reader = reader_for(path, data)
    missing = reader.available()
    if missing:
        raise ReaderUnavailable(missing)
    try:
        ex = reader.read(path, data)
    except ValueError:
        raise
    except Exception as exc:  # a library's parse error: report it, keep going elsewhere
        raise ValueError(f"cannot parse as {reader.name}: {type(exc).__name__}: {exc}") from exc
    text = ex.text
    if not text.strip():
        hint = " (a scanned document? images are read by OCR)" if reader.name == "pdf" else ""
        raise ValueError(f"no text could be extracted{hint}")
    return _document(path, data, reader, ex)


def _os_reason(exc: OSError) -> str:
    """A file-system error in a user's words."""
    if isinstance(exc, FileNotFoundError):
        return "the file disappeared before it could be read"
    if isinstance(exc, PermissionError):
        return "no permission to read the file"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (not followed)"
    if isinstance(exc, IsADirectoryError):
        return "a folder, not a file"
    return f"cannot read the file: {exc.strerror or exc}"


def extraction_tag(path: Path, data: bytes) -> str:
    """What a document read now would record as its `reader`: a different one means re-extract."""
    return f"{reader_for(path, data).tag};layout/{LAYOUT_VERSION}"


def _document(path: Path, data: bytes, reader: Reader, ex: Extracted) -> Document:
    """Identity and body of an extracted text: stated metadata first, then the 公文 layout, then the header."""
    text = ex.text
    kept = clean_spans(text)
    st = analyse(text, kept)
    first_body = st.body[0][0] if st.body else len(text)
    header = text.split(INFO_END, 1)[0] if INFO_END in text else text[: min(first_body, _HEADER_CHARS)]
    echoed = echoed_title_lines(text)
    stated = ex.meta.get("title") or (ex.title if reader.name in ("md", "html", "mht") else None)
    strong = st.title if st.title_strong else None
    title = stated or strong or ex.title or (echoed[0] if echoed else None) or st.title
    titled = title is not None
    title = title or title_from_stem(path.stem)
    file_date = _FILE_DATE_RE.search(path.name)
    date = (file_date.group(1) if file_date else None) or ex.meta.get("date") or st.date or find_date(header)
    return Document(
        doc_id=hashlib.sha1(str(resolve_path(path)).encode("utf-8")).hexdigest()[:12],
        source=str(path),
        title=title,
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        kind=reader.name,
        encoding=ex.encoding,
        date=date,
        doc_number=ex.meta.get("doc_number") or st.doc_number or find_doc_number(header),
        issuer=ex.meta.get("issuer") or st.issuer or find_issuer(header),
        base_headings=ex.base_headings,
        titled=titled,
        reader=f"{reader.tag};layout/{LAYOUT_VERSION}",  # = extraction_tag
        spans=st.body,
        pages=ex.pages,
        ocr=ex.ocr,
        repeals=st.repeals,
        repeal_reports=st.repeal_reports,
        revised=st.revised or bool(REVISED.search(title)),
        meta={k: v for k, v in {**st.meta, **ex.meta}.items() if k != "title"},
        outline=tuple(sorted({*ex.outline, *st.outline})),
        sections=ex.sections,
    )


def resolve_path(path: str | Path) -> Path:
    """`path` made absolute with links resolved, never raising: a symbolic-link loop (which
    `Path.resolve` refuses with RuntimeError on Python 3.11) or an unreadable parent gives the
    absolute path as written."""
    p = Path(path)
    try:
        return p.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(p))


def _link_reason(f: Path) -> str | None:
    """Why a symbolic link is left out (loop, dangling, a folder), or None when it leads to a file."""
    try:
        st = f.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (not followed)"
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return "broken symbolic link"
        return f"symbolic link that cannot be followed: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        target = resolve_path(f)
        if target == resolve_path(f.parent) or target in resolve_path(f.parent).parents:
            return "symbolic link to a parent folder (a loop; not followed)"
        return "symbolic link to a folder (not followed)"
    return None


def scan(paths: Iterable[str | Path]) -> tuple[list[Path], list[LoadError]]:
    """Every file under `paths` (files or folders, recursively, links to folders not followed):
    the ones a reader takes, sorted, and the others with the reason they are left out.

    Nothing is skipped silently and nothing raises: symbolic-link loops, links to a parent
    folder, dangling links, files that disappear during the walk and folders that cannot be
    read are each listed with their reason; the rest are returned.
    """
    files: set[Path] = set()
    skipped: list[LoadError] = []
    suffixes = set(supported_suffixes())

    def skip(f: Path | str, reason: str) -> None:
        skipped.append(LoadError(str(f), reason))

    def consider(f: Path) -> None:
        try:
            mode = f.lstat().st_mode
        except FileNotFoundError:
            skip(f, "disappeared during the scan")
            return
        except OSError as exc:
            skip(f, f"cannot be examined: {exc.strerror or exc}")
            return
        if stat.S_ISLNK(mode):
            why = _link_reason(f)
            if why:
                skip(f, why)
                return
            try:
                mode = f.stat().st_mode
            except OSError as exc:
                skip(f, f"cannot be examined: {exc.strerror or exc}")
                return
        if not stat.S_ISREG(mode):
            skip(f, "not a regular file")
        elif f.name in SKIPPED_NAMES:
            skip(f, "LawRefBook folder stub (no text)")
        elif REMOVED_DIR in f.parts:
            skip(f, "removed by a librarian (kept under .removed)")
        elif f.name.startswith(UPLOAD_TEMP_PREFIX):
            skip(f, "an upload still being checked (temporary file)")
        elif f.suffix.lower() not in suffixes and not _sniffed(f):
            skip(f, f"unsupported file type {f.suffix.lower() or '(none)'}")
        else:
            files.add(f)

    def walk_error(exc: OSError) -> None:
        skip(exc.filename or "?", f"folder cannot be read: {exc.strerror or exc}")

    for p in paths:
        p = Path(p)
        try:
            mode = p.lstat().st_mode
        except FileNotFoundError:
            skip(p, "no such file or folder")
            continue
        except OSError as exc:
            skip(p, f"cannot be examined: {exc.strerror or exc}")
            continue
        if not stat.S_ISDIR(mode):
            consider(p)
            continue
        for root, dirs, names in os.walk(p, onerror=walk_error, followlinks=False):
            dirs.sort()
            for name in [*names, *(d for d in dirs if os.path.islink(os.path.join(root, d)))]:
                consider(Path(root) / name)
    return sorted(files), skipped


def _sniffed(f: Path) -> bool:
    """True when a file with an unknown suffix is a supported format by its content."""
    try:
        with open(f, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head.startswith((b"%PDF-", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff"))


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files under `paths` that a reader takes (see `scan` for the ones left out and why)."""
    yield from scan(paths)[0]


def load_paths(paths: Iterable[str | Path]) -> tuple[list[Document], list[LoadError]]:
    """Load every supported file under `paths`; failures and left-out files are collected, not raised."""
    docs: list[Document] = []
    files, errors = scan(paths)
    for f in files:
        try:
            docs.append(load_file(f))
        except (OSError, ValueError) as exc:
            logger.warning("%s: %s", f, exc)
            errors.append(LoadError(str(f), str(exc)))
    return docs, errors
