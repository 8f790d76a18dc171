"""The PDF reader: golden checks on 公文 exported from Word documents by LibreOffice and on a
Word-like PDF built with reportlab, the layout rules on their own, and hostile input."""

from __future__ import annotations

import io
import re
import shutil
import zlib
from pathlib import Path

import pytest

from rag.reading.readers import layout
from rag.reading.readers import pdf as pdfmod
from rag.reading.readers.layout import ITEM_START, Line, PageLines, drop_furniture, layout_text
from rag.reading.readers.pdf import read_pdf
from tests import pdfgen

needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None or not pdfgen.CJK_SANS.exists(),
    reason="LibreOffice (soffice) and fonts-noto-cjk are needed to export the test documents",
)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[pdfgen.SourceDoc, Path]]:
    """Two 公文 exported to PDF: justified with "— N —" footers, left-aligned with "第N页 共M页"."""
    folder = tmp_path_factory.mktemp("pdf")
    a = pdfgen.policy_docx(folder, "justified.docx", footer="dash")
    b = pdfgen.policy_docx(folder, "left.docx", footer="of", justify=False)
    pdfs = pdfgen.docx_to_pdf([a.path, b.path], folder)
    return {"justified": (a, pdfs[0]), "left": (b, pdfs[1])}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[list[str], Path]:
    """The same text laid out as Microsoft Word writes it: no space glyphs, quotes in a Latin font."""
    blocks = [b for b in pdfgen.BODY if b[0] != "table"]
    path = pdfgen.synthetic_pdf(tmp_path_factory.mktemp("synthetic"), blocks, header="宁波市民政局文件")
    return [t for _, t in blocks], path


def _read(path: Path):
    return read_pdf(path, path.read_bytes())


# --- golden checks on exported documents -------------------------------------------------------


@needs_office
@pytest.mark.parametrize("kind", ["justified", "left"])
def test_every_paragraph_comes_back_as_one_line(exported, kind):
    src, path = exported[kind]
    got = _read(path)
    lines = got.text.splitlines()
    missing = [p for p in src.paragraphs if p not in lines]
    assert not missing, f"not found as a line: {missing}\n--- text ---\n{got.text}"
    assert got.title == pdfgen.TITLE
    assert got.ocr is False and got.notes == ()


@needs_office
@pytest.mark.parametrize("kind", ["justified", "left"])
def test_page_furniture_is_left_out(exported, kind):
    src, path = exported[kind]
    lines = _read(path).text.splitlines()
    assert not [ln for ln in lines if layout._page_number(ln)]
    assert not [ln for ln in lines if re.fullmatch(r"[—-]\s*\d+\s*[—-]|第\d+页.*", ln)]
    # the running header is gone; where it repeats the title, the title itself stays (once)
    assert lines.count(src.header) == src.paragraphs.count(src.header)


@needs_office
@pytest.mark.parametrize("kind", ["justified", "left"])
def test_chinese_text_has_no_spurious_spaces_and_quotes_stay_put(exported, kind):
    src, path = exported[kind]
    text = _read(path).text
    assert "甬民发〔2022〕12号" in text and "12 号" not in text and "〔 2022" not in text
    assert "ISO 9001质量" in text  # a real space between Latin words stays, none before Chinese
    assert "第一条　为了规范" in text  # the full-width space after 第一条 as typed
    assert re.search(r"[\u4e00-\u9fff“”（）《》，。] | [\u4e00-\u9fff“”（）《》，。]", text) is None
    # the quoted phrase that the layout breaks across two lines comes back whole, in place
    assert pdfgen.WRAPPED_QUOTE + "改革要求" in text
    assert not [ln for ln in text.splitlines() if ln.startswith("“") and ln not in src.paragraphs]


@needs_office
def test_table_rows_are_in_the_row_model_and_not_repeated(exported):
    src, path = exported["justified"]
    lines = _read(path).text.splitlines()
    header, *data = src.table
    rows = ["\t".join(header), *("；".join(f"{k}：{v}" for k, v in zip(header, r)) for r in data)]
    at = lines.index(rows[0])
    assert lines[at : at + len(rows)] == rows  # the header first, then one "列名：值；…" line per row, in order
    assert lines[at - 1] == "附表：养老服务机构监督检查事项清单"  # the caption just before
    assert sum("备案信息公开情况" in ln for ln in lines) == 1  # cell text not repeated as body text


@needs_office
def test_page_offsets_point_at_each_page_start(exported):
    from pypdf import PdfReader

    src, path = exported["justified"]
    got = _read(path)
    reader = PdfReader(str(path))
    assert len(got.pages) == len(reader.pages) == 3
    assert got.pages[0] == 0 and list(got.pages) == sorted(got.pages)
    for i, page in enumerate(reader.pages):
        raw = [re.sub(r"\s+", "", ln) for ln in page.extract_text().splitlines()]
        first = next(ln for ln in raw if ln and ln != src.header and not layout._page_number(ln))
        at = re.sub(r"\s+", "", got.text[got.pages[i] :])
        assert at.startswith(first[:8]), (i, first, got.text[got.pages[i] : got.pages[i] + 20])


def test_word_like_pdf_without_space_glyphs(synthetic):
    paragraphs, path = synthetic
    got = _read(path)
    lines = got.text.splitlines()
    assert [p for p in paragraphs if p not in lines] == []
    assert "宁波市民政局文件" not in lines and "- 1 -" not in lines
    assert "甬民发〔2022〕12号" in lines and "ISO 9001质量" in got.text
    assert got.title is None  # reportlab leaves the title empty
    assert len(got.pages) == 3 and got.pages[0] == 0
    # both page breaks fall inside a paragraph: it stays one line and the offset points into it
    import pdfplumber

    with pdfplumber.open(path) as doc:
        for page, start in zip(doc.pages[1:], got.pages[1:]):
            first = page.extract_text().splitlines()[1].replace(" ", "")  # under the header
            assert got.text[start - 1] != "\n" and got.text.startswith(first[:6], start)


def test_sideways_pages_read_in_their_own_direction(tmp_path):
    lines = ["附表：检查事项清单", "一、备案信息公开情况", "二、消防安全管理制度落实情况", "三、服务合同签订"]
    got = _read(pdfgen.sideways_pdf(tmp_path, lines))
    assert got.text.splitlines() == lines * 3  # 90°, 270° and 180°; the upright page numbers left out
    assert len(got.pages) == 3


# --- layout rules on their own -----------------------------------------------------------------


def _line(text: str, x0: float, top: float, size: float = 16.0, width: float | None = None) -> Line:
    w = width if width is not None else sum(size if layout.is_wide(c) else size / 2 for c in text)
    first = layout.first_unit_chars(text) * (size if layout.is_wide(text[0]) else size / 2)
    return Line(text, x0, x0 + w, top, top + size, size, first)


def _paragraphs(*lines: Line) -> list[str]:
    # two full-width numbered lines below fix the text width at 80..80+20 characters
    frame = [_line("①" + "甲" * 19, 80, 700), _line("②" + "乙" * 19, 80, 728)]
    text, _ = layout_text([PageLines(595, 842, [*lines, *frame])])
    return text.splitlines()[:-2]


def test_wrapped_chinese_lines_join_without_space_latin_words_with_one():
    assert _paragraphs(_line("为" * 18, 112, 100), _line("结束。", 80, 128)) == ["为" * 18 + "结束。"]
    full_latin = _line("依照" + "甲" * 14 + "ISO", 80, 100, width=318)
    assert _paragraphs(full_latin, _line("9001标准。", 80, 128)) == ["依照" + "甲" * 14 + "ISO 9001标准。"]
    phone = _line("电话" + "甲" * 14 + "0574-", 80, 100, width=318)
    assert _paragraphs(phone, _line("87654321）。", 80, 128)) == ["电话" + "甲" * 14 + "0574-87654321）。"]


def test_short_line_ends_paragraph_and_numbered_items_start_new_lines():
    assert _paragraphs(_line("一、总体要求", 112, 100), _line("坚持" * 5, 80, 128)) == ["一、总体要求", "坚持" * 5]
    full = _line("甲" * 20, 80, 100)
    for item in ("第二条　内容", "（二）内容", "2．内容", "二、内容", "①内容", "二是内容", "第三章　总则"):
        assert _paragraphs(full, _line(item, 80, 128)) == ["甲" * 20, item], item
    # a cross reference that happens to start a line is not an article
    assert _paragraphs(full, _line("第十二条的规定。", 80, 128)) == ["甲" * 20 + "第十二条的规定。"]
    # an indented next line is a new paragraph, a wide gap too, a different size too
    assert _paragraphs(full, _line("乙" * 5, 112, 128)) == ["甲" * 20, "乙" * 5]
    assert _paragraphs(full, _line("乙" * 5, 80, 160)) == ["甲" * 20, "乙" * 5]
    assert _paragraphs(full, _line("乙" * 5, 80, 128, size=22)) == ["甲" * 20, "乙" * 5]


def test_centred_title_wrapped_under_a_full_width_line_joins():
    title = _line("宁" * 20, 80, 60)
    assert _paragraphs(title, _line("通知", 80 + 9 * 16, 88)) == ["宁" * 20 + "通知"]


def test_numbered_item_pattern():
    for s in ("一、", "（一）", "(3)", "1.", "12、", "1．", "①", "第一条　", "第十条 ", "第二章", "一是", "⑵"):
        assert ITEM_START.match(s + "内容") or ITEM_START.match(s), s
    for s in ("1.5亿元", "第十二条的", "一定要", "2022年", "是否"):
        assert not ITEM_START.match(s), s


@pytest.mark.parametrize(
    "text,is_number",
    [
        ("— 3 —", True),
        ("- 3 -", True),
        ("－３－", True),
        ("第3页 共10页", True),
        ("第 3 页", True),
        ("3/10", True),
        ("Page 3 of 10", True),
        ("12", True),
        ("2022年3月15日", False),
        ("第三条", False),
        ("一、总体要求", False),
    ],
)
def test_page_number_patterns(text, is_number):
    assert layout._page_number(text) is is_number


def test_running_header_needs_the_same_height_on_most_pages():
    def page(n: int, header_top: float) -> PageLines:
        body = [_line(f"正文第{n}页内容", 80, 200 + k * 28) for k in range(8)]
        return PageLines(595, 842, [_line("某某市人民政府文件", 200, header_top), *body, _line(f"— {n} —", 280, 800)])

    pages = [page(1, 40), page(2, 40), page(3, 40)]
    drop_furniture(pages)
    assert all(ln.text != "某某市人民政府文件" and "—" not in ln.text for p in pages for ln in p.lines)
    # the same text at a different height on each page is body text
    pages = [page(1, 40), page(2, 90), page(3, 140)]
    drop_furniture(pages)
    assert sum(ln.text == "某某市人民政府文件" for p in pages for ln in p.lines) == 3


# --- hostile and broken input ------------------------------------------------------------------


def _blank_pdf(pages: int = 1, size: tuple[float, float] = (595, 842)) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(*size)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def test_broken_pdf_is_a_value_error():
    with pytest.raises(ValueError, match="not a readable PDF"):
        read_pdf(Path("x.pdf"), b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage")
    with pytest.raises(ValueError):
        read_pdf(Path("x.pdf"), b"")


def test_password_protected_pdf_says_so():
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(_blank_pdf())))
    w.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    w.write(buf)
    with pytest.raises(ValueError, match="password"):
        read_pdf(Path("locked.pdf"), buf.getvalue())


def test_too_many_pages_refused(monkeypatch):
    monkeypatch.setattr(pdfmod, "MAX_PAGES", 2)
    with pytest.raises(ValueError, match="3 pages"):
        read_pdf(Path("big.pdf"), _blank_pdf(3))


def test_blank_pdf_has_no_text():
    with pytest.raises(ValueError, match="no text"):
        read_pdf(Path("blank.pdf"), _blank_pdf(2))


def test_flate_bomb_refused_before_parsing(monkeypatch):
    monkeypatch.setattr(pdfmod, "MAX_STREAM_BYTES", 1 << 20)
    bomb = zlib.compress(b"0 0 m " * (400_000), 9)  # 2.4 MB of drawing operators in ~10 KB
    data = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>endobj\n"
        b"4 0 obj<</Length "
        + str(len(bomb)).encode()
        + b"/Filter/FlateDecode/DecodeParms<</Columns 4>>>>stream\n"
        + bomb
        + b"\nendstream endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF"
    )
    with pytest.raises(ValueError, match="inflates beyond"):
        read_pdf(Path("bomb.pdf"), data)


def test_image_bomb_refused_before_decoding():
    image = b"x\x9c" + b"\x00" * 20  # the data does not matter: the declared size does
    data = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</Im1 4 0 R>>>>>>endobj\n"
        b"4 0 obj<</Type/XObject/Subtype/Image/Width 100000/Height 100000/ColorSpace/DeviceGray"
        b"/BitsPerComponent 8/Filter/FlateDecode/Length 22>>stream\n" + image + b"\nendstream endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF"
    )
    with pytest.raises(ValueError, match="100000×100000"):
        read_pdf(Path("image-bomb.pdf"), data)


def test_huge_page_renders_within_the_pixel_cap(monkeypatch):
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(_blank_pdf(1, size=(14400, 14400)))  # 200 × 200 inches
    image = pdfmod._render(doc, 0)
    assert image.width * image.height <= pdfmod.MAX_RENDER_PIXELS
    doc.close()


def test_sniff():
    assert pdfmod.sniff(b"%PDF-1.7\n...") and pdfmod.sniff(b"\r\n%PDF-1.4")
    assert not pdfmod.sniff(b"PK\x03\x04") and not pdfmod.sniff(b"")


# --- the measurement behind the choice of extractor (make bench) ----------------------------


@needs_office
@pytest.mark.slow
def test_extractor_comparison(exported, synthetic, capsys):
    """Source paragraphs found verbatim, per extractor; this reader must find them all."""
    import subprocess

    import pdfplumber
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    def plumber(p: Path, **kw) -> str:
        with pdfplumber.open(p) as doc:
            return "\n".join(pg.extract_text(**kw) or "" for pg in doc.pages)

    def pdftotext(p: Path, *flags: str) -> str:
        if shutil.which("pdftotext") is None:
            return ""
        return subprocess.run(["pdftotext", *flags, str(p), "-"], capture_output=True, text=True).stdout

    def pdfium_text(p: Path) -> str:
        doc = pdfium.PdfDocument(p)
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))).replace("\r\n", "\n")

    extractors = {
        "pypdf extract_text": lambda p: "\n".join(pg.extract_text() for pg in PdfReader(p).pages),
        "pypdf layout": lambda p: "\n".join(pg.extract_text(extraction_mode="layout") for pg in PdfReader(p).pages),
        "pdfplumber extract_text": plumber,
        "pdfplumber use_text_flow": lambda p: plumber(p, use_text_flow=True),
        "pdfplumber layout=True": lambda p: plumber(p, layout=True),
        "pdftotext": pdftotext,
        "pdftotext -layout": lambda p: pdftotext(p, "-layout"),
        "pypdfium2 get_text_range": pdfium_text,
        "this reader": lambda p: _read(p).text,
    }
    docs = [(s.paragraphs, p) for s, p in exported.values()] + [synthetic]
    total = sum(len(ps) for ps, _ in docs)
    scores = {}
    for name, fn in extractors.items():
        as_line = as_text = 0
        for paragraphs, path in docs:
            lines = [ln.strip() for ln in fn(path).splitlines()]
            flat = "".join(lines)
            as_line += sum(p in set(lines) for p in paragraphs)
            as_text += sum(p in flat for p in paragraphs)
        scores[name] = (as_line, as_text)
    with capsys.disabled():
        print(f"\nparagraphs (of {total}) found as one line / in the text with line breaks removed")
        for name, (a, b) in scores.items():
            print(f"  {name:28s} {a:3d} {b:3d}")
    assert scores["this reader"] == (total, total)
