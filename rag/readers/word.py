"""Word .docx (placeholder: python-docx paragraph text, typed numbering only)."""

from __future__ import annotations

import io
from pathlib import Path

from .base import Extracted, zip_has

NEEDS = "python-docx"


def sniff(data: bytes) -> bool:
    return zip_has(data, "word/document.xml")


def read_docx(path: Path, data: bytes) -> Extracted:
    import docx
    from docx.table import Table

    d = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for block in d.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                lines.append("\t".join(c.text.strip() for c in row.cells))
        else:
            lines.append(block.text)
    title = (d.core_properties.title or "").strip() or None
    return Extracted("\n".join(lines), title)

