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

from .load import SUPPORTED_SUFFIXES, decode_bytes

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_DOCX_UNPACKED = 100 * 1024 * 1024
MAX_DOCX_RATIO = 100


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
    """Refuse what is empty, too big, or not what its extension says.

    Raises:
        UploadError: with the file name and the reason.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(f"{name}: type {suffix or '(none)'} not accepted; allowed: {', '.join(SUPPORTED_SUFFIXES)}")
    if not data:
        raise UploadError(f"{name}: the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{name}: {len(data) / 1e6:.0f} MB is over the {MAX_UPLOAD_BYTES / 1e6:.0f} MB limit")
    if suffix == ".pdf":
        if not data.lstrip()[:5] == b"%PDF-":
            raise UploadError(f"{name}: not a PDF (no %PDF header)")
    elif suffix == ".docx":
        _check_docx(name, data)
    else:
        try:
            decode_bytes(data)
        except ValueError as exc:
            raise UploadError(f"{name}: {exc}") from exc


def _check_docx(name: str, data: bytes) -> None:
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except zipfile.BadZipFile as exc:
        raise UploadError(f"{name}: not a .docx (not a zip archive)") from exc
    if "word/document.xml" not in {i.filename for i in infos}:
        raise UploadError(f"{name}: not a .docx (no word/document.xml)")
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_DOCX_UNPACKED or unpacked > MAX_DOCX_RATIO * max(len(data), 1):
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
