"""Load: files on disk -> `Document` (decoded text + metadata).

Formats: .txt .md .html/.htm .docx .pdf; folders are walked recursively.
Encodings of text files are detected (BOM, strict UTF-8, then charset-normalizer),
never assumed. A file that cannot be read becomes a `LoadError` naming the file and
the reason; the other files still load.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from charset_normalizer import from_bytes

from .clean import cleaned_text, echoed_title_lines

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
SKIPPED_NAMES = {"_index.md"}  # LawRefBook folder stubs carry no text
MAX_FILE_BYTES = 50 * 1024 * 1024

_CN_ENCODINGS = {"gb2312", "gbk", "gb18030", "hz", "big5", "big5hkscs", "cp950", "euc_jp", "shift_jis"}


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


@dataclass(frozen=True)
class LoadError:
    """A file that could not be loaded, and why."""

    source: str
    reason: str


# ---------------------------------------------------------------- decoding


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode raw bytes of a text file; return (text, encoding name).

    BOMs decide first (UTF-8, UTF-16 LE/BE); then strict UTF-8; then
    charset-normalizer's best guess, with any GB-family guess widened to GB18030.

    Raises:
        ValueError: the bytes are not text in any encoding we can detect.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" not in data:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    best = from_bytes(data).best()
    if best is None:
        raise ValueError("not a text file (no encoding fits; binary content?)")
    enc = best.encoding.lower().replace("-", "_")
    if enc in _CN_ENCODINGS or enc.startswith("gb"):
        # Chinese text in a legacy code page: GB18030 is the superset of GB2312/GBK.
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    text = str(best)
    if "\x00" in text:
        raise ValueError(f"not a text file (decoded as {enc} but contains NUL characters)")
    return text, enc


# ---------------------------------------------------------------- metadata

_CN_NUM = "零〇一二三四五六七八九十百千"
_DATE_RE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
_FILE_DATE_RE = re.compile(r"\((\d{4}-\d{2}-\d{2})\)")
# 文号: 民发〔2021〕76号, 国办发[2020]3号, 国务院令第596号
_DOC_NUMBER_RE = re.compile(
    r"[\u4e00-\u9fa5]{1,12}[〔\[［(（]\d{4}[〕\]］)）]\s*第?\d+号|[\u4e00-\u9fa5]{1,20}令\s*第\s*\d+\s*号"
)
_ISSUER_LINE_RE = re.compile(
    r"^[\u4e00-\u9fa5（）()]{2,30}(人民政府|人民政府办公厅|办公厅|办公室|委员会|常务委员会|人民代表大会|"
    r"党委|党组|工委|局|厅|部|院|署|委|中心)$"
)
_ISSUER_IN_NUMBER_RE = re.compile(r"(?:中华人民共和国)?([\u4e00-\u9fa5]{2,20}?)令\s*第")
_ISSUER_ADOPTED_RE = re.compile(r"(全国人民代表大会(?:常务委员会)?|[\u4e00-\u9fa5]{2,12}人民代表大会常务委员会)")
_HEADER_CHARS = 600


def find_date(text: str) -> str | None:
    """First date in `text` as YYYY-MM-DD, or None."""
    m = _DATE_RE.search(text)
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if not (1949 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def find_doc_number(text: str) -> str | None:
    """The document's own 文号 when its header states one (e.g. 民发〔2021〕76号)."""
    m = _DOC_NUMBER_RE.search(text)
    return re.sub(r"\s+", "", m.group(0)) if m else None


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


_TITLE_DATE = re.compile(r"[（(]\d{4}[-年.]\d{1,2}[-月.]\d{1,2}日?[)）]")


def normalise_title(title: str) -> str:
    """Title without 《》, a leading 中华人民共和国, a parenthesised date or spaces."""
    t = _TITLE_DATE.sub("", title).strip().strip("《》")
    t = re.sub(r"^中华人民共和国", "", t)
    return re.sub(r"\s+", "", t)


def title_from_stem(stem: str) -> str:
    """File stem without a trailing (YYYY-MM-DD) version date."""
    return _FILE_DATE_RE.sub("", stem).strip() or stem


# ---------------------------------------------------------------- formats


def _read_text_file(path: Path, data: bytes) -> tuple[str, str, str | None, tuple[str, ...]]:
    """Return (text, encoding, title, base_headings) for .txt/.md."""
    text, encoding = decode_bytes(data)
    title = None
    base: list[str] = []
    if path.suffix.lower() == ".md":
        # LawRefBook: '# title' then optional '# part' lines in the header block.
        header = text.split("<!-- INFO END -->", 1)[0] if "<!-- INFO END -->" in text else text[:_HEADER_CHARS]
        heads = [m.group(1).strip() for m in re.finditer(r"^#\s+(.+)$", header, flags=re.M)]
        if heads:
            title, base = heads[0], heads[1:]
    return text, encoding, title, tuple(base)


def _read_html(data: bytes) -> tuple[str, str, str | None]:
    from bs4 import BeautifulSoup

    raw, encoding = decode_bytes(data)
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = None
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        title = h1.get_text(" ", strip=True)
    elif soup.title and soup.title.get_text(strip=True):
        title = soup.title.get_text(" ", strip=True)
    body = soup.body or soup
    lines = [ln.strip() for ln in body.get_text("\n").splitlines()]
    return "\n".join(ln for ln in lines if ln), encoding, title


def _read_docx(path: Path) -> tuple[str, str | None]:
    import docx
    from docx.table import Table

    d = docx.Document(str(path))
    lines: list[str] = []
    for block in d.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                lines.append("\t".join(cells))
        else:
            lines.append(block.text)
    title = (d.core_properties.title or "").strip() or None
    return "\n".join(lines), title


def _read_pdf(path: Path) -> tuple[str, str | None]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = [(p.extract_text() or "") for p in reader.pages]
    meta_title = None
    if reader.metadata is not None and reader.metadata.title:
        meta_title = str(reader.metadata.title).strip() or None
    return "\n".join(pages), meta_title


_NUMBERED = re.compile(
    rf"^(第[{_CN_NUM}\d]+[条章节编篇]|[{_CN_NUM}]+、|[(（][{_CN_NUM}]+[)）]|\d+[.．、]|[(（]\d+[)）]|[①-⑳])"
)


def _first_line_title(text: str) -> str | None:
    """The first short line before any numbered clause, if the text opens with one."""
    for line in text.splitlines()[:40]:
        s = line.strip().lstrip("#").strip()
        if not s:
            continue
        if _NUMBERED.match(s):
            return None  # the body starts without a title line
        if 2 <= len(s) <= 60 and not re.match(r"^(当前位置|您的位置|你的位置|时间|日期|来源)", s):
            return s
    return None


def load_file(path: str | Path) -> Document:
    """Load one file into a `Document`.

    Raises:
        ValueError: the file is empty, too big, of an unsupported type, or unreadable;
            the message says which.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ValueError(f"unsupported file type {suffix!r} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty file")
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file is {size / 1e6:.0f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit")
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    encoding = "binary"
    title: str | None = None
    base: tuple[str, ...] = ()
    try:
        if suffix in (".txt", ".md"):
            text, encoding, title, base = _read_text_file(path, data)
        elif suffix in (".html", ".htm"):
            text, encoding, title = _read_html(data)
        elif suffix == ".docx":
            text, title = _read_docx(path)
        else:
            text, title = _read_pdf(path)
    except ValueError:
        raise
    except Exception as exc:  # a library's parse error: report it, keep going elsewhere
        raise ValueError(f"cannot parse as {suffix[1:]}: {type(exc).__name__}: {exc}") from exc
    if not text.strip():
        raise ValueError("no text could be extracted")

    kept = cleaned_text(text)
    echoed = echoed_title_lines(text)
    title = title or (echoed[0] if echoed else None) or _first_line_title(kept)
    titled = title is not None
    title = title or title_from_stem(path.stem)
    header = kept[:_HEADER_CHARS]
    raw_header = text.split("<!-- INFO END -->", 1)[0] if "<!-- INFO END -->" in text else text[:_HEADER_CHARS]
    file_date = _FILE_DATE_RE.search(path.name)
    date = file_date.group(1) if file_date else (find_date(raw_header) or find_date(text[:_HEADER_CHARS]))
    return Document(
        doc_id=hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:12],
        source=str(path),
        title=title,
        text=text,
        sha256=sha,
        kind="html" if suffix == ".htm" else suffix[1:],
        encoding=encoding,
        date=date,
        doc_number=find_doc_number(raw_header[:_HEADER_CHARS]) or find_doc_number(header[:200]),
        issuer=find_issuer(raw_header),
        base_headings=base,
        titled=titled,
    )


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Supported files under `paths` (files or folders, recursively), sorted, stubs skipped."""
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES and f.name not in SKIPPED_NAMES:
                    yield f
        elif p.is_file():
            yield p
        else:
            logger.warning("%s: no such file or folder", p)


def load_paths(paths: Iterable[str | Path]) -> tuple[list[Document], list[LoadError]]:
    """Load every supported file under `paths`; failures are collected, not raised."""
    docs: list[Document] = []
    errors: list[LoadError] = []
    paths = list(paths)
    for p in paths:
        if not Path(p).exists():
            errors.append(LoadError(str(p), "no such file or folder"))
    for f in iter_files(p for p in paths if Path(p).exists()):
        try:
            docs.append(load_file(f))
        except (OSError, ValueError) as exc:
            logger.warning("%s: %s", f, exc)
            errors.append(LoadError(str(f), str(exc)))
    return docs, errors
