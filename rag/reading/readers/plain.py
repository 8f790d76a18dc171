"""Plain text and Markdown: the decoded file, verbatim.

Encodings are detected (BOM, strict UTF-8, then charset-normalizer), never assumed: the
text is decoded with the encoding the detector found (Big5, Shift-JIS, EUC-KR, UTF-16
without a BOM, ...); only a GB-family guess (GB2312/GBK/HZ) is widened to GB18030, its
superset, so rare characters outside GB2312 still decode.
"""

from __future__ import annotations

import re
from pathlib import Path

from charset_normalizer import from_bytes

from .base import Extracted

INFO_END = "<!-- INFO END -->"  # LawRefBook: end of the header block
_HEADER_CHARS = 600
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "ms936", "euc_cn"}


def is_gb_family(encoding: str) -> bool:
    """True for the mainland-Chinese code pages GB18030 is a superset of (GB2312, GBK, CP936, HZ)."""
    enc = encoding.lower().replace("-", "_")
    return enc in _GB_FAMILY or enc.startswith("gb")


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode raw bytes of a text file; return (text, encoding name).

    BOMs decide first (UTF-8, UTF-16 LE/BE); then strict UTF-8; then
    charset-normalizer's best guess, decoded with the encoding it found; only a GB-family
    guess is widened to GB18030 (Big5, Shift-JIS, EUC-KR, ... are kept as detected).

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
    if is_gb_family(enc):
        # Mainland Chinese text in a legacy code page: GB18030 is the superset of GB2312/GBK.
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    text = str(best)
    if "\x00" in text:
        raise ValueError(f"not a text file (decoded as {enc} but contains NUL characters)")
    return text, enc


def read_text(path: Path, data: bytes) -> Extracted:
    """.txt verbatim; .md verbatim, with LawRefBook's '# title' / '# part' header lines as metadata."""
    text, encoding = decode_bytes(data)
    title = None
    base: list[str] = []
    if path.suffix.lower() == ".md":
        header = text.split(INFO_END, 1)[0] if INFO_END in text else text[:_HEADER_CHARS]
        heads = [m.group(1).strip() for m in re.finditer(r"^#\s+(.+)$", header, flags=re.M)]
        if heads:
            title, base = heads[0], heads[1:]
    return Extracted(text, title, encoding, tuple(base))
