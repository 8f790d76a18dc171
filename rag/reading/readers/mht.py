""".mht/.mhtml: a web page saved as one MIME file (multipart/related), read by the web reader.

The standard library's `email` parser splits the file into its parts and undoes their
transfer encoding (quoted-printable, base64). The page is the root of the multipart/related
(its `start` parameter, else its first part; `EmailMessage.get_body`), else the first
text/html part; it is decoded by its part's declared charset (GB2312/GBK widened to
GB18030), falling back to the web reader's detection (BOM, <meta> charset, charset-normalizer)
when the part declares none or the bytes do not fit it. The decoded page then goes through
`web.read_html_text`, so an .mht reads exactly like the same page saved as .html. Images,
style sheets and scripts saved with the page are ignored. A frameset page whose root has no
text is read from its first framed page that has some.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import logging
import re
from email.message import EmailMessage
from pathlib import Path

from .base import Extracted
from .plain import is_gb_family
from .web import decode_html, read_html_text

log = logging.getLogger(__name__)

NEEDS = "lxml (parts split by Python's email package)"
_HEAD_BYTES = 4096
_MIME_VERSION = re.compile(rb"^mime-version\s*:", re.I | re.M)
_RELATED = re.compile(rb"^content-type\s*:\s*multipart/related", re.I | re.M)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def sniff(data: bytes) -> bool:
    """True for a MIME file whose top-level headers declare multipart/related (a saved web page)."""
    head = data[:_HEAD_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n")
    header = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    return bool(_MIME_VERSION.search(header) and _RELATED.search(header))


def _html_parts(msg: EmailMessage) -> list[EmailMessage]:
    """The text/html parts, the page's root (by `get_body`) first, then the others in file order."""
    root = msg.get_body(preferencelist=("html",))
    parts = [p for p in msg.walk() if p.get_content_type() == "text/html"]
    if root is not None and root.get_content_type() == "text/html":
        parts = [root, *(p for p in parts if p is not root)]
    return parts


def _charset(part: EmailMessage) -> str | None:
    """The part's declared charset as a Python codec name (GB family -> gb18030), or None."""
    name = part.get_content_charset()
    if not name:
        return None
    try:
        name = codecs.lookup(name).name
    except LookupError:
        log.debug("unknown charset %r declared in an .mht part", name)
        return None
    return "gb18030" if is_gb_family(name) else name


def decode_part(part: EmailMessage) -> tuple[str, str]:
    """A text/html part as (text, encoding): its declared charset, else the web reader's detection."""
    raw = part.get_payload(decode=True) or b""
    declared = _charset(part)
    if declared and not raw.startswith(_BOMS):
        try:
            return raw.decode(declared), declared
        except UnicodeDecodeError:
            log.debug("an .mht part does not decode as its declared %s; detecting", declared)
    return decode_html(raw)


def read_mht(path: Path, data: bytes) -> Extracted:
    """A saved web page in .mht/.mhtml: its HTML part read as `web.read_html` reads an .html page.

    Raises:
        ValueError: the file has no text/html part (the message names the parts it has).
    """
    msg = email.message_from_bytes(data, policy=email.policy.default)
    parts = _html_parts(msg)
    if not parts:
        kinds = sorted({p.get_content_type() for p in msg.walk() if not p.is_multipart()})
        raise ValueError(f"no text/html part in the MIME file (parts: {', '.join(kinds) or 'none'})")
    first = None
    for part in parts:
        text, encoding = decode_part(part)
        ex = read_html_text(path, text, encoding)
        if ex.text.strip():
            return ex
        first = first or ex
    return first
