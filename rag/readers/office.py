"""Old Word .doc and WPS .wps, converted by LibreOffice headless (placeholder)."""

from __future__ import annotations

from pathlib import Path

from .base import Extracted

NEEDS = "LibreOffice (soffice --headless)"


def sniff(head: bytes) -> bool:
    return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def available() -> str | None:
    return None


def read_office(path: Path, data: bytes) -> Extracted:
    raise ValueError("needs LibreOffice (not built yet)")
