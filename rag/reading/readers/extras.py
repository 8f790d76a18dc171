"""Which readers need the `office` install extra, and the message that names it when it is missing.

The core install (`pip install rag`) reads .txt, .md, .html, .mht, .docx, .ofd and .csv (and .doc/.wps
where LibreOffice is installed: that bridge is a system package, not a Python one). PDF, OCR, slides and
workbooks need `pip install 'rag[office]'`. Each hook here is a registry `available()`: None when the
format can be read, else the reason, which `rag formats`, the loader and the upload check show.
"""

from __future__ import annotations

import importlib

from . import office


def hint(extra: str) -> str:
    """How to install a missing extra, in the words every message uses."""
    return f"needs the {extra} extra: pip install 'rag[{extra}]'"


def missing(*modules: str, extra: str = "office") -> str | None:
    """None when every module imports, else the first that does not, and the extra that brings it."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # not installed, or a native library it loads is missing
            return f"{hint(extra)} ({name} cannot be imported: {exc})"
    return None


def pdf() -> str | None:
    """The PDF reader's packages (a scanned page also needs OCR, checked when one is met)."""
    return missing("pdfplumber", "pypdfium2")


def slides() -> str | None:
    """python-pptx (a .ppt/.dps also needs LibreOffice, checked when one is met)."""
    return missing("pptx")


def xlsx() -> str | None:
    return missing("openpyxl")


def xls() -> str | None:
    """openpyxl, and LibreOffice to convert the workbook."""
    return missing("openpyxl") or office.available()
