"""OCR: page images rendered with Noto Sans CJK, read back from PNG/JPEG/TIFF and image-only PDFs."""

from __future__ import annotations

import difflib
import io
import sys
import time
from pathlib import Path

import pytest

from rag.reading.readers import ocr
from rag.reading.readers.base import ReaderUnavailable
from rag.reading.readers.pdf import read_pdf
from tests import pdfgen

pytestmark = pytest.mark.skipif(ocr.available() is not None or not pdfgen.CJK_SANS.exists(), reason="needs OCR + fonts")

KEY_LINE = "双随机抽查比例不低于20%"
PAGE_BLOCKS = [b for b in pdfgen.BODY if b[0] != "table"][:9]  # one A4 page at 16 pt
SECOND = ["关于做好2023年度养老服务补贴发放工作的通知", "各区（县、市）民政局：", "二、补贴标准"]


def ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict[str, Path]:
    """Page images and image-only documents, made once."""
    d = tmp_path_factory.mktemp("scans")
    short = pdfgen.page_image(d, [("plain", t) for t in pdfgen.OCR_LINES], "short.png", page=None)
    second = pdfgen.page_image(d, [("plain", t) for t in SECOND], "second.png", page=None)
    full = pdfgen.page_image(d, PAGE_BLOCKS, "full.png", footer="— 1 —")
    jpg = d / "short.jpg"
    from PIL import Image

    Image.open(short).convert("RGB").save(jpg, quality=85)
    return {
        "short": short,
        "second": second,
        "full": full,
        "jpg": jpg,
        "tiff": pdfgen.multipage_tiff(d, [short, second]),
        "pdf": pdfgen.image_pdf(d, [full, short]),
    }


def _read(path: Path):
    return ocr.read_image(path, path.read_bytes())


def test_png_lines_come_back(scans):
    got = _read(scans["short"])
    assert got.ocr is True and got.pages == (0,)
    assert got.notes and got.notes[0].startswith("OCR: 1 page, ")
    lines = got.text.splitlines()
    assert KEY_LINE in lines
    assert "第一条　检查结果于20个工作日内公示。" in lines  # the full-width space after 第一条 is seen
    assert ratio(got.text, "\n".join(pdfgen.OCR_LINES)) >= 0.95


def test_jpeg_reads_too(scans):
    got = _read(scans["jpg"])
    assert KEY_LINE in got.text.splitlines()
    assert ratio(got.text, "\n".join(pdfgen.OCR_LINES)) >= 0.95


def test_sixteen_bit_tiff(scans, tmp_path):
    import numpy as np
    from PIL import Image

    deep = Image.fromarray(np.asarray(Image.open(scans["short"]).convert("L"), dtype=np.uint16) * 257)
    path = tmp_path / "deep.tif"
    deep.save(path)
    assert Image.open(path).mode.startswith("I;16")
    assert KEY_LINE in _read(path).text.splitlines()


def test_full_page_joins_wrapped_lines_and_drops_the_page_number(scans):
    got = _read(scans["full"])
    src = [t for _, t in PAGE_BLOCKS]
    assert ratio(got.text, "\n".join(src)) >= 0.97, got.text
    lines = got.text.splitlines()
    assert len(lines) == len(src), got.text  # one line per paragraph: every wrap joined, no more
    assert sum(ln == p for ln, p in zip(lines, src)) >= len(src) - 3, got.text
    assert "— 1 —" not in got.text and "1" not in lines
    assert pdfgen.QUOTE in got.text and pdfgen.WRAPPED_QUOTE in got.text  # quotes across a wrap, in place


def test_image_only_pdf(scans):
    got = read_pdf(scans["pdf"], scans["pdf"].read_bytes())
    assert got.ocr is True and len(got.pages) == 2 and got.pages[0] == 0
    assert got.text[got.pages[1] :].startswith(pdfgen.OCR_LINES[0])
    assert KEY_LINE in got.text.splitlines()
    assert any(n.startswith("OCR: 2 pages (1, 2), ") for n in got.notes)


def test_multipage_tiff_reads_every_frame_and_reports_progress(scans):
    seen: list[tuple[int, int, str]] = []
    with ocr.progress_to(lambda done, total, name: seen.append((done, total, name))):
        got = _read(scans["tiff"])
    assert seen == [(1, 2, "scan.tif"), (2, 2, "scan.tif")]
    assert len(got.pages) == 2
    assert got.text[got.pages[1] :].splitlines()[0] == SECOND[0]
    assert KEY_LINE in got.text.splitlines()


def test_mixed_pdf_reads_text_pages_and_ocrs_the_scan(scans, tmp_path):
    from pypdf import PdfReader, PdfWriter

    text_pdf = pdfgen.synthetic_pdf(tmp_path, [("body", "第一条　本办法自印发之日起施行。")], name="text.pdf")
    w = PdfWriter()
    for src in (text_pdf, scans["pdf"]):
        for page in PdfReader(src).pages:
            w.add_page(page)
    buf = io.BytesIO()
    w.write(buf)
    w.close()
    got = read_pdf(Path("mixed.pdf"), buf.getvalue())
    assert got.text.startswith("第一条　本办法自印发之日起施行。")
    assert len(got.pages) == 3 and got.ocr is True
    assert any(n.startswith("OCR: 2 pages (2, 3)") for n in got.notes)


# --- seals ---------------------------------------------------------------------------------------

SEALED = ["各区（县、市）民政局：", "一、检查范围", "双随机抽查比例不低于20%", "2024年3月15日"]


def test_red_seal_is_left_out_and_the_text_under_it_read(tmp_path, monkeypatch):
    png = pdfgen.sealed_page(tmp_path, SEALED)  # 红头 宁波市民政局文件, seal 宁波市财政局 ★ 专用章 over the date
    got = _read(png)
    assert got.text.splitlines() == ["宁波市民政局文件", *SEALED]  # the red 红头 stays, nothing of the seal
    pdf = pdfgen.image_pdf(tmp_path, [png], "sealed.pdf", dpi=150, mode="RGB")
    assert read_pdf(pdf, pdf.read_bytes()).text.splitlines() == ["宁波市民政局文件", *SEALED]
    monkeypatch.setattr(ocr, "SEAL_RED", 255)  # no red found: the seal is read, and spoils the line under it
    assert "专用章" in _read(png).text


def test_seal_mask_keeps_black_ink_and_red_mastheads():
    import numpy as np
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(page)
    draw.rectangle([20, 20, 380, 50], fill=(200, 30, 30))  # a red masthead band: long and flat
    draw.ellipse([200, 120, 300, 220], outline=(210, 40, 40), width=8)  # a seal's ring
    for x in range(180, 320, 14):
        draw.rectangle([x, 165, x + 10, 175], fill=(0, 0, 0))  # black text across it
    draw.point([(250, 124)], fill=(40, 0, 0))  # black under red ink, multiplied: still dark
    out, seals = ocr.drop_seals(page)
    px = np.asarray(out)
    assert seals == 1
    assert tuple(px[35, 200]) == (200, 30, 30)  # the masthead stays
    assert tuple(px[170, 204]) == (0, 0, 0) and tuple(px[124, 250]) == (40, 0, 0)  # black stays
    assert tuple(px[170, 292]) == (0, 0, 0) and tuple(px[122, 240]) == (255, 255, 255)  # the ring is gone
    assert ocr.drop_seals(Image.new("RGB", (50, 50), "white"))[1] == 0


# --- failures say why --------------------------------------------------------------------------


def test_blank_image_is_no_text(tmp_path):
    from PIL import Image

    p = tmp_path / "blank.png"
    Image.new("L", (800, 600), 255).save(p)
    with pytest.raises(ValueError, match="no text recognised by OCR"):
        _read(p)


def test_broken_and_oversized_images(tmp_path, scans, monkeypatch):
    with pytest.raises(ValueError, match="not a readable image"):
        ocr.read_image(Path("x.png"), b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    data = scans["short"].read_bytes()
    with pytest.raises(ValueError):
        ocr.read_image(Path("cut.png"), data[: len(data) // 2])
    monkeypatch.setattr(ocr, "MAX_PIXELS", 10_000)
    with pytest.raises(ValueError, match="MP this reader takes"):
        _read(scans["short"])


def test_missing_package_is_named(monkeypatch, scans):
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)
    why = ocr.available()
    assert why is not None and "rapidocr-onnxruntime" in why and "pip install" in why
    with pytest.raises(ReaderUnavailable, match="rapidocr-onnxruntime"):
        _read(scans["short"])
    with pytest.raises(ReaderUnavailable, match="need OCR"):
        read_pdf(scans["pdf"], scans["pdf"].read_bytes())


def test_recogniser_habits_are_undone():
    assert ocr._punctuation('按照“放管服"改革') == "按照“放管服”改革"
    assert ocr._punctuation("（联系电话：0574-87654321)。") == "（联系电话：0574-87654321）。"
    assert ocr._punctuation("甬民发[2022〕12号") == "甬民发〔2022〕12号"
    assert ocr._punctuation("国办发【2019）5号") == "国办发〔2019〕5号"
    assert ocr._punctuation("(2019)浙0212民初5号") == "(2019)浙0212民初5号"  # not a 文号
    assert ocr._tidy("中 文 ISO 9001") == "中文 ISO 9001"


def test_sniff():
    assert ocr.sniff(b"\x89PNG\r\n") and ocr.sniff(b"\xff\xd8\xff\xe0") and ocr.sniff(b"II*\x00")
    assert ocr.sniff(b"MM\x00*") and ocr.sniff(b"BM") and not ocr.sniff(b"%PDF-")


# --- the measurement behind OCR_DPI (make bench) -----------------------------------------------


@pytest.mark.slow
def test_seconds_per_a4_page(tmp_path, capsys):
    """Full A4 pages (16 pt 公文 body, and a denser 12 pt page) in image-only PDFs rendered at OCR_DPI."""
    from rag.reading.readers import pdf as pdfmod

    ocr.engine()
    blocks = [b for b in pdfgen.BODY if b[0] != "table"]
    results = []
    for size, page_blocks in ((16, PAGE_BLOCKS), (12, blocks)):
        png = pdfgen.page_image(tmp_path, page_blocks, f"a4-{size}.png", size_pt=size)
        path = pdfgen.image_pdf(tmp_path, [png], f"a4-{size}.pdf")
        data = path.read_bytes()
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            got = read_pdf(path, data)
            times.append(time.perf_counter() - t0)
        results.append((size, len(got.text), min(times)))
    with capsys.disabled():
        for size, chars, seconds in results:
            print(
                f"\nOCR {size} pt A4 page ({chars} characters) at {pdfmod.OCR_DPI} dpi, {ocr._threads()} threads: "
                f"{seconds:.2f} s/page (best of 3)"
            )
    assert all(seconds < 15 for _, _, seconds in results)
