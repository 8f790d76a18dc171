"""Plain text and Markdown: the decoded file, verbatim.

Encodings are detected (BOM, strict UTF-8, then charset-normalizer), never assumed.
"""

from __future__ import annotations

import re
from pathlib import Path

from charset_normalizer import from_bytes

from .base import Extracted

INFO_END = "<!-- INFO END -->"  # LawRefBook: end of the header block
_HEADER_CHARS = 600
_CN_ENCODINGS = {"gb2312", "gbk", "gb18030", "hz", "big5", "big5hkscs", "cp950", "euc_jp", "shift_jis"}


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
