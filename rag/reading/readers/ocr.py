"""Scans: images (.png .jpg .tif .bmp) and image-only PDF pages through OCR.

OCR is RapidOCR (PP-OCRv4 Chinese detection and recognition models, shipped inside the
rapidocr-onnxruntime wheel: nothing is downloaded). The engine is created once, on first use,
with ONNX Runtime using the cores this process may run on (up to 4) for one page at a time.

Red seals (印章) on colour scans are taken out before recognition (`drop_seals`): their ink is
masked by colour, so neither the ring text nor the centre text reaches a clause, and the black
text under a seal is read. A red 发文机关标志 (红头) is not a seal and stays.

A page's text boxes are grouped into lines by vertical overlap and sorted by x; the lines then
go through the same layout rules as a PDF's text layer (`layout.layout_text`): wrapped lines are
joined (no space between Chinese characters), numbered items and short lines start new
paragraphs, page numbers and running headers are left out. The year brackets of a 文号, which
the recogniser often reads as [ 【 （, are written 〔〕 as GB/T 9704 has them.

Progress: every page is logged at INFO; `progress_to(callback)` also calls
`callback(done, total, name)` after each page, in the current context (thread or task).
"""

from __future__ import annotations

import io
import logging
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from rag.text.vocab import doc_number_brackets

from . import extras
from .base import Extracted, ReaderUnavailable
from .layout import Line, PageLines, chars_to_lines, drop_furniture, is_wide, layout_text

log = logging.getLogger(__name__)

MAX_OCR_PAGES = 300  # more scanned pages than this: refused (about 2 s each on 2 cores)
NEEDS = "rapidocr-onnxruntime (Chinese PP-OCRv4 models inside the wheel)"

MAX_PIXELS = 60_000_000  # an image (or TIFF frame) larger than this is refused: A4 at 600 dpi is 35 MP
MAX_SIDE = 2400  # larger images are scaled down to this before OCR (A4 at 200 dpi is 1654 × 2339)
SEAL_RED = 60  # a pixel whose red channel exceeds both green and blue by more than this is red ink
SEAL_MIN = 0.05  # a seal's box is at least this part of the image's shorter side (a 42 mm 公章 is 20% of A4's width)

ProgressFn = Callable[[int, int, str], None]
_progress: ContextVar[ProgressFn | None] = ContextVar("ocr_progress", default=None)

_engine: Any = None
_engine_lock = threading.Lock()
_run_lock = threading.Lock()


def sniff(data: bytes) -> bool:
    """True for PNG, JPEG, TIFF and BMP bytes."""
    return data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM"))


def available() -> str | None:
    """None when OCR can run, else what is missing and how to install it (the office extra)."""
    why = extras.missing("rapidocr_onnxruntime", "cv2", "PIL")
    return f"OCR with rapidocr-onnxruntime {why}" if why else None


@contextmanager
def progress_to(callback: ProgressFn) -> Iterator[None]:
    """Call `callback(done, total, name)` after each OCR page read inside this block."""
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


def report_progress(done: int, total: int, name: str) -> None:
    """Tell the current progress callback, if any, that `done` of `total` pages of `name` are read."""
    callback = _progress.get()
    if callback is not None:
        callback(done, total, name)


def _threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 4))


def engine() -> Any:
    """The RapidOCR engine, created on first use (three ONNX models, well under a second)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            why = available()
            if why is not None:
                raise ReaderUnavailable(why)
            from rapidocr_onnxruntime import RapidOCR

            try:
                _engine = RapidOCR(
                    intra_op_num_threads=_threads(),
                    inter_op_num_threads=1,
                    max_side_len=MAX_SIDE,
                    use_cls=False,  # the 180° line classifier turns upright lines over (they come back empty)
                    print_verbose=False,
                )
            except Exception as e:  # noqa: BLE001 - a broken install: say so as a reader error
                raise ValueError(f"the OCR engine could not start: {type(e).__name__}: {e}") from e
        return _engine


def _tidy(text: str) -> str:
    """Spaces the recogniser put between two Chinese characters are not in the text: drop them."""
    out = []
    for i, ch in enumerate(text):
        if ch.isspace() and 0 < i < len(text) - 1 and is_wide(text[i - 1]) and is_wide(text[i + 1]):
            continue
        out.append(ch)
    return "".join(out).strip()


def _punctuation(text: str) -> str:
    """Undo the recogniser's habits with Chinese punctuation in one line.

    A straight quote " next to Chinese text becomes “ or ” (whichever the quotes before it call
    for); a parenthesis whose partner is full-width is written full-width too (（…) -> （…）); the
    year brackets of a 文号 are written 〔〕 as GB/T 9704 has them.
    """
    out: list[str] = []
    opened = False  # the last curly quote seen was an opening one
    stack: list[int] = []  # positions in `out` of open parentheses
    for i, ch in enumerate(text):
        near_wide = (i > 0 and is_wide(text[i - 1])) or (i + 1 < len(text) and is_wide(text[i + 1]))
        if ch == '"' and near_wide:
            ch = "”" if opened else "“"
        if ch in "“”":
            opened = ch == "“"
        if ch in "(（":
            stack.append(len(out))
        elif ch in (")", "）") and stack:
            j = stack.pop()
            if out[j] == "（" and ch == ")":
                ch = "）"
            elif out[j] == "(" and ch == "）":
                out[j] = "（"
        out.append(ch)
    return doc_number_brackets("".join(out))  # 甬民发[2022〕12号, 国办发【2019）5号 -> 〔2022〕, 〔2019〕


def _box_chars(box: Any, text: str, word_boxes: Any, run: int) -> list[dict[str, Any]]:
    """One recognised text box as characters with boxes, like a PDF's text layer.

    RapidOCR places each recognised character (`word_boxes`, sorted by x); when their number does
    not match the text, the characters are spread over the box by width (Chinese 1, Latin 0.55).
    """
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    x0, x1, top, bottom = min(xs), max(xs), min(ys), max(ys)
    visible = [ch for ch in text if not ch.isspace()]
    cells = sorted(word_boxes or [], key=lambda b: b[0][0])
    if cells and len(cells) == len(visible):
        spans = iter([(min(p[0] for p in b), max(p[0] for p in b)) for b in cells])
        chars: list[tuple[str, tuple[float, float]]] = []
        for ch in text:  # a space sits between its neighbours
            chars.append((ch, (chars[-1][1][1],) * 2 if ch.isspace() else next(spans)))
    else:
        weights = [1.0 if is_wide(ch) else 0.55 for ch in text]
        unit = (x1 - x0) / (sum(weights) or 1.0)
        chars, x = [], x0
        for ch, w in zip(text, weights):
            chars.append((ch, (x, x + w * unit)))
            x += w * unit
    widths = [b - a for ch, (a, b) in chars if is_wide(ch)]
    em = statistics.median(widths) if len(widths) >= 2 else bottom - top
    return [
        {"text": ch, "x0": a, "x1": b, "top": top, "bottom": bottom, "size": em, "run": run} for ch, (a, b) in chars
    ]


def ocr_lines(image: Any, label: str = "image") -> list[Line]:
    """Recognise one page image (PIL) and return its lines in reading order, in pixel units.

    Raises:
        ValueError: the OCR engine failed on the image.
    """
    import numpy as np

    image = _prepared(image)
    t0 = time.monotonic()
    try:
        recognise = engine()
        with _run_lock:  # one page at a time: the engine already uses every core
            result, _ = recognise(np.asarray(image), return_word_box=True)
    except ReaderUnavailable:
        raise
    except Exception as e:  # noqa: BLE001 - onnxruntime/opencv errors: say which page and why
        raise ValueError(f"OCR failed on {label}: {type(e).__name__}: {e}") from e
    chars = []
    for run, (box, text, _score, *rest) in enumerate(result or []):
        text = _tidy(text)
        if text:
            chars.extend(_box_chars(box, text, rest[0] if rest else None, run))
    lines = chars_to_lines(chars)
    for ln in lines:
        ln.text = _punctuation(ln.text)
    log.info("OCR %s: %d lines in %.1f s", label, len(lines), time.monotonic() - t0)
    return lines


def drop_seals(image: Any) -> tuple[Any, int]:
    """Red seals (印章) taken out of a colour page image before OCR; returns the image and how many.

    Red ink is where the red channel clearly outweighs green and blue. Red marks are closed into
    blobs (a ring with its text and star becomes one); a blob whose box is roughly square and at
    least SEAL_MIN of the page's shorter side is a seal, and the light red and pink pixels in its
    box become white. Black
    text under a seal is dark in every channel and stays; a red 发文机关标志 (红头) and its rule
    are long and flat, not square, and stay too.
    """
    import cv2
    import numpy as np
    from PIL import Image

    rgb = np.asarray(image.convert("RGB"))
    r, g, b = (rgb[..., k].astype(np.int16) for k in range(3))
    redness = r - np.maximum(g, b)
    red = (redness > SEAL_RED).astype(np.uint8)
    smallest = max(20, int(SEAL_MIN * min(red.shape)))
    if int(red.sum()) < smallest:
        return image, 0
    k = max(3, int(0.02 * max(red.shape)))
    blobs = cv2.morphologyEx(red, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
    out, seals = rgb.copy(), 0
    for x, y, w, h, _area in stats[1:n]:
        if min(w, h) >= smallest and 0.6 <= w / h <= 1.6:
            # inside a seal, light red and pink too (the edges of its strokes, JPEG's blur); never dark pixels,
            # where black text lies under the seal's ink
            ink = (redness[y : y + h, x : x + w] > SEAL_RED // 3) & (r[y : y + h, x : x + w] > 128)
            out[y : y + h, x : x + w][ink] = 255
            seals += 1
    return (Image.fromarray(out), seals) if seals else (image, 0)


def _prepared(image: Any) -> Any:
    """A grayscale image on white, red seals taken out (colour images), scaled down to MAX_SIDE."""
    import numpy as np
    from PIL import Image

    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16-bit or float scans: stretch to 8 bits
        values = np.asarray(image, dtype=np.float32)
        image = Image.fromarray((values * (255.0 / max(float(values.max()), 1.0))).astype(np.uint8))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    if image.mode not in ("L", "1"):
        image, seals = drop_seals(image)
        if seals:
            log.info("%d red seal%s left out before OCR", seals, "s" if seals > 1 else "")
    if image.mode != "L":
        image = image.convert("L")
    if max(image.size) > MAX_SIDE:
        image = image.copy()
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def _open(data: bytes) -> tuple[Any, int]:
    """The image (not decoded yet) and its number of frames (pages of a multi-page TIFF)."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        n = getattr(img, "n_frames", 1)
    except (UnidentifiedImageError, OSError, EOFError, Image.DecompressionBombError) as e:
        raise ValueError(f"not a readable image: {e}") from e
    if n > MAX_OCR_PAGES:
        raise ValueError(f"image has {n} frames, more than the {MAX_OCR_PAGES} this reader will OCR")
    return img, n


def _decoded_frame(img: Any, i: int) -> Any:
    """Frame `i` decoded, checked against MAX_PIXELS before decoding, turned upright per EXIF."""
    from PIL import Image, ImageOps

    try:
        img.seek(i)
        w, h = img.size
        if w * h > MAX_PIXELS:
            raise ValueError(f"image is {w}×{h} pixels, more than the {MAX_PIXELS // 1_000_000} MP this reader takes")
        frame = ImageOps.exif_transpose(img)
        frame.load()
    except (OSError, EOFError, Image.DecompressionBombError) as e:
        raise ValueError(f"image frame {i + 1} cannot be decoded: {e}") from e
    return frame


def read_image(path: Path, data: bytes) -> Extracted:
    """Read an image (every frame of a multi-page TIFF) by OCR.

    Raises:
        ReaderUnavailable: rapidocr-onnxruntime is not installed.
        ValueError: the image cannot be decoded, is too large, OCR failed, or no text was recognised.
    """
    why = available()
    if why is not None:
        raise ReaderUnavailable(why)
    t0 = time.monotonic()
    pages: list[PageLines] = []
    img, total = _open(data)
    for i in range(total):
        frame = _decoded_frame(img, i)
        label = f"{path.name} page {i + 1}/{total}" if total > 1 else path.name
        lines = ocr_lines(frame, label=label)
        w, h = frame.size
        pages.append(PageLines(float(w), float(h), lines, ocr=True))
        report_progress(i + 1, total, path.name)
    drop_furniture(pages)
    text, starts = layout_text(pages)
    if not text.strip():
        raise ValueError("no text recognised by OCR")
    seconds = time.monotonic() - t0
    note = f"OCR: {len(pages)} page{'s' if len(pages) > 1 else ''}, {seconds:.1f} s"
    return Extracted(text, None, pages=starts, ocr=True, notes=(note,))
