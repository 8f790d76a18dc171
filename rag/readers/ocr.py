"""Scans: images and image-only PDF pages through OCR (placeholder)."""

from __future__ import annotations

from pathlib import Path

from .base import Extracted

NEEDS = "rapidocr-onnxruntime (Chinese PP-OCR models inside the wheel)"


def sniff(head: bytes) -> bool:
    return head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM"))


def available() -> str | None:
    return None


def read_image(path: Path, data: bytes) -> Extracted:
    raise ValueError("OCR is not built yet")
