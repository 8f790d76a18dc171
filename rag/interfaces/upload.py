"""Upload: bytes from a browser -> a file in the library folder, or a clear refusal.

The type is checked by content, not by name; sizes are capped (a zip-based .docx/.ofd
passes the same zip-bomb rule as the readers, `rag.reading.readers.base.check_zip`); the name is
reduced to a safe base name, so nothing is ever written outside the library folder. The
bytes are written to a hidden temporary file in the library, parsed there exactly as
ingest will parse them (`rag.reading.load.load_file`), and only then moved into place: an upload
that fails to parse never stays in the library.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import unicodedata
from pathlib import Path

from rag.reading.load import UPLOAD_TEMP_PREFIX, load_file
from rag.reading.readers import reader_for, supported_suffixes
from rag.reading.readers.base import MAX_ZIP_RATIO, MAX_ZIP_UNPACKED, check_zip
from rag.reading.readers.plain import decode_bytes

__all__ = [
    "MAX_UPLOAD_BYTES", "MAX_UPLOAD_MB", "MAX_ZIP_RATIO", "MAX_ZIP_UNPACKED", "TEMP_PREFIX", "UploadError",
    "check_content", "safe_name", "store",
]  # fmt: skip

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_MB = MAX_UPLOAD_BYTES // 2**20  # the limit as the page states it ("20 MB"; MiB really)
_MAX_STEM_BYTES = 200  # a name's stem in UTF-8: room for the temporary prefix under the usual 255-byte limit
TEMP_PREFIX = UPLOAD_TEMP_PREFIX  # an upload being checked in the library folder; `scan` leaves these out


class UploadError(ValueError):
    """An upload refused; the message names the file and the reason."""


def safe_name(name: str) -> str:
    """A base file name without directories, control or reserved characters.

    Raises:
        UploadError: nothing usable is left of the name.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    hidden = next((ch for ch in base if unicodedata.category(ch) in ("Cc", "Cf")), None)
    if hidden is not None:  # a bidi override shows "gpj.exe" as "exe.jpg": refused, never kept in a name
        raise UploadError(f"{name!r}: the name holds a control or text-direction character "
                          f"(U+{ord(hidden):04X}); rename the file")  # fmt: skip
    if base.startswith("~$"):
        raise UploadError(f"{base}: an Office lock file (~$…), not a document: upload the document itself")
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*\ud800-\udfff]", "_", base).strip(" .")
    if not base or base in (".", ".."):
        raise UploadError(f"{name!r}: not a usable file name")
    stem, dot, ext = base.rpartition(".")
    return (_fit(stem, 120, _MAX_STEM_BYTES) + dot + ext[:10]) if dot else _fit(base, 120, _MAX_STEM_BYTES)


def _fit(text: str, chars: int, size: int) -> str:
    """`text` cut to at most `chars` characters and `size` bytes of UTF-8 (file systems count bytes)."""
    text = text[:chars]
    while len(text.encode("utf-8")) > size:
        text = text[:-1]
    return text


def check_content(name: str, data: bytes) -> None:
    """Refuse what is empty, too big, of a type no reader takes, or not what its extension says.

    Raises:
        UploadError: with the file name and the reason.
    """
    suffix = Path(name).suffix.lower()
    allowed = supported_suffixes()
    if suffix not in allowed:
        raise UploadError(f"{name}: type {suffix or '(none)'} not accepted; allowed: {', '.join(allowed)}")
    if not data:
        raise UploadError(f"{name}: the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{name}: {len(data) / 2**20:.1f} MB is over the {MAX_UPLOAD_MB} MB limit")
    reader = reader_for(name, data)
    if reader.name in ("pdf", "docx", "ofd", "image") and reader.sniff is not None and not reader.sniff(data):
        raise UploadError(f"{name}: not a {reader.name.upper()} file ({_mismatch(reader.name, data)})")
    if reader.name in ("txt", "md"):
        try:
            decode_bytes(data)
        except ValueError as exc:
            raise UploadError(f"{name}: {exc}") from exc
    if data.startswith(b"PK\x03\x04"):
        _check_zip(name, data)
    missing = reader.available()
    if missing:
        raise UploadError(f"{name}: cannot be read on this server: {missing}")


def _mismatch(kind: str, data: bytes) -> str:
    """Why bytes are not the format their name says, in a user's words."""
    if kind == "pdf":
        return "no %PDF header"
    if kind in ("docx", "ofd"):
        if not data.startswith(b"PK\x03\x04"):
            return "not a zip archive"
        return "no word/document.xml" if kind == "docx" else "no OFD.xml"
    return "its content is another format; renamed from another type?"


def _check_zip(name: str, data: bytes) -> None:
    """A .docx or .ofd is a zip: the shared zip-bomb rule (`rag.reading.readers.base.check_zip`).

    Raises:
        UploadError: with the file name and the reason.
    """
    try:
        check_zip(data, name)
    except ValueError as exc:
        raise UploadError(str(exc)) from exc


def store(library: str | Path, name: str, data: bytes) -> Path:
    """Check, parse and write an upload into `library`; returns the path written.

    The bytes go to a hidden temporary file in the library (`TEMP_PREFIX`…), are loaded
    there as ingest will load them (`rag.reading.load.load_file`), and are moved into place only
    when that succeeds; on any failure the temporary file is deleted.

    Raises:
        UploadError: the upload is refused, with the file name and the reader's reason
            (nothing is left in the library).
    """
    root = Path(library).resolve()
    clean = safe_name(name)
    check_content(clean, data)
    root.mkdir(parents=True, exist_ok=True)
    target = root / clean  # the name itself, never what a link there points to
    if target.parent.resolve() != root:
        raise UploadError(f"{name!r}: would be written outside the library")
    if target.is_symlink():
        raise UploadError(f"{clean}: the library entry of that name is a link; replacing it is refused "
                          "(the file it points to would be overwritten): remove the link on the server first")
    tmp = root / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}{Path(clean).suffix}"
    try:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise UploadError(f"{clean}: cannot be written to the library: {exc.strerror or exc}") from exc
        try:
            load_file(tmp)
        except (OSError, ValueError) as exc:
            logger.info("upload %s refused: %s", clean, exc)
            raise UploadError(f"{clean}: cannot be read: {exc}") from exc
        except Exception as exc:  # a reader's unexpected failure is still a refusal, never a crash
            logger.warning("upload %s: reader failed", clean, exc_info=True)
            raise UploadError(f"{clean}: cannot be read: {type(exc).__name__}: {exc}") from exc
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise UploadError(f"{clean}: cannot be written to the library: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target
