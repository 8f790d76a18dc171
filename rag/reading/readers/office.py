"""Old Word .doc and Kingsoft WPS .wps, converted to .docx by LibreOffice headless.

Both are OLE compound files holding a Word 97 "WordDocument" stream (LibreOffice's own type
detection lists .wps under Word 97). Rather than parse the binary format, the file is
converted to .docx in a private temporary directory and read by `word.read_docx`, so Word's
automatic numbering, tables and notes come out exactly as for a .docx.

Each conversion runs in its own LibreOffice profile (parallel runs and a root user work), on
a copy named `input.doc`/`input.wps` (odd file names never reach the command line), without
a shell, and is killed with its whole process group after `TIMEOUT_S`.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from .base import Extracted, ReaderUnavailable
from .word import read_docx

log = logging.getLogger(__name__)

NEEDS = "LibreOffice (soffice --headless)"
INSTALL_HINT = "needs LibreOffice: apt-get install libreoffice-writer-nogui (or run `make install-system`)"
TIMEOUT_S = 120.0

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Streams that name the application of an OLE compound file; only a WordDocument is text.
_OTHER_OLE_APPS = {
    "Workbook": "an Excel workbook",
    "Book": "an Excel 5 workbook",
    "PowerPoint Document": "a PowerPoint presentation",
    "VisioDocument": "a Visio drawing",
    "EncryptedPackage": "an encrypted (password-protected) Office file",
    "__substg1.0_0037001F": "an Outlook message",
}
_PYTHON_DOCX_DEFAULT_TITLE = "Word Document"  # what python-docx reports when it finds no core properties
_CORE_NS = {"dc": "http://purl.org/dc/elements/1.1/"}


def soffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> str | None:
    """None when LibreOffice is installed, else what to install."""
    return None if soffice() else INSTALL_HINT


def ole_has_stream(data: bytes, name: str) -> bool:
    """True when the OLE compound file `data` has a directory entry (stream or storage) called `name`.

    Directory entries are 128-byte records at 128-byte-aligned offsets: the UTF-16LE name
    (NUL-terminated), its byte length at +64 and the entry type at +66. Looking for that
    exact aligned record is enough to tell a Word document from a workbook, without
    following the sector chains.
    """
    needle = (name + "\0").encode("utf-16-le")
    start = 512  # the header sector holds no directory entries
    while (pos := data.find(needle, start)) != -1:
        start = pos + 2
        if pos % 128 or pos + 67 > len(data):
            continue
        if int.from_bytes(data[pos + 64 : pos + 66], "little") == len(needle) and data[pos + 66] in (1, 2):
            return True
    return False


def sniff(data: bytes) -> bool:
    """True for an OLE compound file holding a Word/WPS document (not a workbook or presentation)."""
    return data.startswith(OLE_MAGIC) and ole_has_stream(data, "WordDocument")


def _refuse_other_ole(path: Path, data: bytes) -> None:
    """Raise ValueError for an OLE file that is clearly not a text document."""
    if not data.startswith(OLE_MAGIC) or ole_has_stream(data, "WordDocument"):
        return
    for stream, what in _OTHER_OLE_APPS.items():
        if ole_has_stream(data, stream):
            raise ValueError(f"{path.name} is {what}, not a Word/WPS document (no WordDocument stream)")


def _core_title(docx: bytes) -> str | None:
    """dc:title from a .docx's docProps/core.xml (LibreOffice's relationship type hides it from python-docx)."""
    import defusedxml.ElementTree as ET

    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            root = ET.fromstring(z.read("docProps/core.xml"), forbid_dtd=True)
    except (KeyError, zipfile.BadZipFile, ET.ParseError, ValueError):
        return None
    el = root.find("dc:title", _CORE_NS)
    if el is None:
        return None
    return (el.text or "").strip() or None


def _reason(output: str) -> str:
    """LibreOffice's own words about a failed conversion, without its start-up noise."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip() and "javaldx" not in ln]
    return "; ".join(lines[-3:]) or "no output file and no message"


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the conversion's whole process group (soffice starts soffice.bin under it)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def convert_to_docx(path: Path, data: bytes, timeout: float = TIMEOUT_S) -> bytes:
    """The file converted to .docx by LibreOffice, as bytes (see `convert`)."""
    return convert(path, data, "docx", (".doc", ".wps"), timeout)


def convert(path: Path, data: bytes, to: str, suffixes: tuple[str, ...], timeout: float = TIMEOUT_S) -> bytes:
    """The file converted by LibreOffice to the format `to` ("docx", "xlsx", "pptx"), as bytes.

    The copy LibreOffice opens is named `input` plus the file's suffix when it is one of
    `suffixes`, else the first of them (LibreOffice picks its import filter by content and suffix).

    Raises:
        ReaderUnavailable: LibreOffice is not installed.
        ValueError: the conversion failed, timed out or produced nothing; the message says why.
    """
    exe = soffice()
    if exe is None:
        raise ReaderUnavailable(INSTALL_HINT)
    suffix = path.suffix.lower() if path.suffix.lower() in suffixes else suffixes[0]
    with tempfile.TemporaryDirectory(prefix="rag-office-") as tmp_name:
        tmp = Path(tmp_name)
        src, out = tmp / f"input{suffix}", tmp / "out"
        src.write_bytes(data)
        cmd = [
            exe,
            f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
            "--headless", "--norestore", "--nolockcheck", "--nodefault", "--nologo",
            "--convert-to", to, "--outdir", str(out), str(src),
        ]  # fmt: skip
        env = {**os.environ, "HOME": os.environ.get("HOME") or tmp_name}
        started = time.monotonic()
        proc = subprocess.Popen(
            cmd, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            raise ValueError(f"LibreOffice did not finish converting {path.name} within {timeout:g} s") from None
        seconds = time.monotonic() - started
        result = out / f"input.{to}"
        if not result.is_file() or result.stat().st_size == 0:
            reason = _reason(output.decode("utf-8", "replace"))
            raise ValueError(f"LibreOffice could not convert {path.name} (exit {proc.returncode}): {reason}")
        log.info("converted %s to .%s with LibreOffice in %.1f s", path.name, to, seconds)
        return result.read_bytes()


def read_office(path: Path, data: bytes) -> Extracted:
    """Read a .doc/.wps (or anything LibreOffice Writer opens, e.g. RTF saved as .doc) via .docx.

    Raises:
        ReaderUnavailable: LibreOffice is not installed.
        ValueError: not a text document (a workbook, a presentation, encrypted), or LibreOffice failed.
    """
    _refuse_other_ole(path, data)
    docx = convert_to_docx(path, data)
    extracted = read_docx(path, docx)
    title = _core_title(docx)
    if title is None and extracted.title != _PYTHON_DOCX_DEFAULT_TITLE:
        title = extracted.title
    return dataclasses.replace(extracted, title=title)
