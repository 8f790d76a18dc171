"""Web pages saved from government sites (placeholder: today's BeautifulSoup text)."""

from __future__ import annotations

from pathlib import Path

from .base import Extracted
from .plain import decode_bytes

NEEDS = "beautifulsoup4"


def sniff(head: bytes) -> bool:
    h = head[:512].lstrip().lower()
    return h.startswith((b"<!doctype html", b"<html"))


def read_html(path: Path, data: bytes) -> Extracted:
    from bs4 import BeautifulSoup

    raw, encoding = decode_bytes(data)
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = None
    h1 = soup.find("h1")
    if h1 and h1.get_text(strip=True):
        title = h1.get_text(" ", strip=True)
    elif soup.title and soup.title.get_text(strip=True):
        title = soup.title.get_text(" ", strip=True)
    body = soup.body or soup
    lines = [ln.strip() for ln in body.get_text("\n").splitlines()]
    return Extracted("\n".join(ln for ln in lines if ln), title, encoding)
