"""OFD (GB/T 33190) (placeholder)."""

from __future__ import annotations

from pathlib import Path

from .base import Extracted, zip_has

NEEDS = "defusedxml (zip + XML)"


def sniff(data: bytes) -> bool:
    return zip_has(data, "OFD.xml")


def read_ofd(path: Path, data: bytes) -> Extracted:
    raise ValueError("OFD is not built yet")
