"""Upload: bytes from a browser -> a file in the library folder, or a clear refusal.

The type is checked by content, not by name; sizes are capped (and a .docx's unpacked
size, against zip bombs); the name is reduced to a safe base name, so nothing is ever
written outside the library folder. Writes go to a temporary name, then `os.replace`.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
import zipfile
from pathlib import Path

from .readers import reader_for, supported_suffixes
from .readers.plain import decode_bytes

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ZIP_UNPACKED = 100 * 1024 * 1024
MAX_ZIP_RATIO = 100


class UploadError(ValueError):
    """An upload refused; the message names the file and the reason."""


def safe_name(name: str) -> str:
    """A base file name without directories, control or reserved characters.

    Raises:
        UploadError: nothing usable is left of the name.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", base).strip(" .")
    if not base or base in (".", ".."):
        raise UploadError(f"{name!r}: not a usable file name")
    stem, dot, ext = base.rpartition(".")
    return (stem[:120] + dot + ext[:10]) if dot else base[:120]


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
        raise UploadError(f"{name}: {len(data) / 1e6:.0f} MB is over the {MAX_UPLOAD_BYTES / 1e6:.0f} MB limit")
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
    """A .docx or .ofd is a zip: refuse one that unpacks far beyond its size (a zip bomb)."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{name}: not a valid zip archive ({exc})") from exc
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_ZIP_UNPACKED or unpacked > MAX_ZIP_RATIO * max(len(data), 1):
        raise UploadError(f"{name}: refused, unpacks to {unpacked / 1e6:.0f} MB (a zip bomb?)")


def store(library: str | Path, name: str, data: bytes) -> Path:
    """Check and write an upload into `library`; returns the path written.

    Raises:
        UploadError: the upload is refused (nothing is written).
    """
    root = Path(library).resolve()
    clean = safe_name(name)
    check_content(clean, data)
    root.mkdir(parents=True, exist_ok=True)
    target = (root / clean).resolve()
    if target.parent != root:
        raise UploadError(f"{name!r}: would be written outside the library")
    tmp = root / f".upload-{os.getpid()}-{clean}"
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return target
