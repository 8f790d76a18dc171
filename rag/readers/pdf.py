"""PDF (placeholder: pypdf text layer)."""

from __future__ import annotations

import io
from pathlib import Path

from .base import Extracted

NEEDS = "pypdf"


def sniff(head: bytes) -> bool:
    return head.lstrip()[:5] == b"%PDF-"


def read_pdf(path: Path, data: bytes) -> Extracted:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    pages = [(p.extract_text() or "") for p in reader.pages]
    title = None
    if reader.metadata is not None and reader.metadata.title:
        title = str(reader.metadata.title).strip() or None
    starts, pos = [], 0
    for p in pages:
        starts.append(pos)
        pos += len(p) + 1
    return Extracted("\n".join(pages), title, pages=tuple(starts))
