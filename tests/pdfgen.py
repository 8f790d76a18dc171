"""Fixture builders for the PDF and OCR reader tests: each writes files into a given folder.

- `policy_docx` writes a Word document laid out like a 公文 (A4, 16 pt CJK body text with
  first-line indents, a centred title that wraps, 文号, numbered headings, 第X条 articles,
  quotations “…”, a bordered table, a running header and a page-number footer);
- `docx_to_pdf` exports .docx files to PDF with LibreOffice, as a Word user would;
- `page_image` renders paragraphs of Chinese text into a page image with Pillow, as a scan;
- `image_pdf` and `multipage_tiff` wrap page images into an image-only PDF (no text layer) or a
  multi-page TIFF, as scanners write them.

The source paragraphs are returned with each document so the tests can check that every one
comes back verbatim as one line.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FONT_DIR = Path("/usr/share/fonts/opentype/noto")
CJK_SANS = FONT_DIR / "NotoSansCJK-Regular.ttc"
CJK_SANS_SC = 2  # the face of the collection with Simplified Chinese glyph shapes
CJK_SERIF = "Noto Serif CJK SC"

TITLE = "宁波市民政局关于进一步规范养老服务机构监督管理工作的通知"
DOC_NUMBER = "甬民发〔2022〕12号"
QUOTE = "“双随机、一公开”"
WRAPPED_QUOTE = "“最多跑一次”"  # laid out across a line break

# The body: (style, text). Styles: title, center, plain (no indent), body (2-character first-line
# indent), right (right-aligned signature lines), table (the table goes here; text is its caption).
BODY: list[tuple[str, str]] = [
    ("title", TITLE),
    ("center", DOC_NUMBER),
    ("plain", "各区（县、市）民政局，局属各单位："),
    (
        "body",
        "为深入贯彻落实《国务院办公厅关于推进养老服务发展的意见》（国办发〔2019〕5号）和《浙江省养老服务条例》，"
        "进一步规范养老服务机构监督管理工作，切实保障老年人合法权益，根据民政部有关规定，结合我市实际，"
        "现就有关事项通知如下。",
    ),
    ("body", "一、总体要求"),
    (
        "body",
        "坚持以人民为中心的发展思想，按照“放管服”改革要求，全面推行" + QUOTE + "监管，"
        "建立健全以信用为基础的新型监管机制，推动养老服务机构依法依规开展服务，持续提升养老服务质量和安全水平，"
        "让老年人及其家属放心、安心、舒心。",
    ),
    (
        "body",
        "深化政务服务改革，各级民政部门要全面落实" + WRAPPED_QUOTE + "改革要求，推行养老服务机构备案"
        "“一网通办”，做到材料一次提交、信息共享共用。",
    ),
    ("body", "二、主要任务"),
    (
        "body",
        "（一）严格落实备案管理。养老服务机构应当在收住老年人后10个工作日内向所在地民政部门备案，"
        "备案材料包括营业执照、服务场所消防安全检查合格证明和服务管理制度等，民政部门应当在收到材料之日起"
        "5个工作日内完成核查，并通过“浙里养”平台向社会公开备案信息。",
    ),
    (
        "body",
        "（二）加强日常监督检查。各地每年对辖区内养老服务机构的双随机抽查比例不低于20%，检查结果于20个工作日内"
        "在“信用中国（浙江宁波）”网站公示；对存在安全隐患的机构，应当依照ISO 9001质量管理体系的要求督促整改。",
    ),
    ("body", "1．对新备案的养老服务机构，应当在备案后6个月内开展一次全面检查。"),
    ("body", "2．对上年度被投诉举报三次以上的机构，列为重点检查对象，检查频次每年不少于两次。"),
    ("table", "附表：养老服务机构监督检查事项清单"),
    ("body", "三、有关规定"),
    (
        "body",
        "第一条　为了规范养老服务机构的监督管理，保障老年人的合法权益，促进养老服务业健康发展，"
        "根据《中华人民共和国老年人权益保障法》《养老机构管理办法》等法律法规和规章，结合本市实际，制定本规定。",
    ),
    (
        "body",
        "第二条　本规定适用于本市行政区域内依法登记或者备案、为老年人提供全日集中住宿和照料护理服务的养老服务机构，"
        "以及提供居家社区养老服务的组织。",
    ),
    (
        "body",
        "第三条　市民政部门负责全市养老服务机构的监督管理工作；区（县、市）民政部门负责本行政区域内养老服务机构的"
        "监督管理工作，依照甬民发〔2021〕8号文件的规定落实属地监管责任。",
    ),
    ("body", "四、工作要求"),
    (
        "body",
        "各地要高度重视养老服务机构监督管理工作，明确分管领导和责任科室，细化工作措施，确保各项任务落到实处。"
        "工作中遇到的重要情况和问题，请及时报告市民政局养老服务处（联系电话：0574-87654321）。",
    ),
    ("right", "宁波市民政局"),
    ("right", "2022年3月15日"),
]

TABLE = [
    ["序号", "检查事项", "检查依据", "检查方式"],
    ["1", "备案信息公开情况", "《养老机构管理办法》第九条", "书面检查"],
    ["2", "消防安全管理", "《消防法》第十六条", "现场检查"],
    ["3", "服务合同签订", "《养老机构管理办法》第十八条", "书面检查"],
]

OCR_LINES = [
    "关于开展养老服务机构专项检查的通知",
    "各区（县、市）民政局：",
    "一、检查范围",
    "双随机抽查比例不低于20%",
    "第一条　检查结果于20个工作日内公示。",
]


@dataclass(frozen=True)
class SourceDoc:
    """A generated document and what a reader must find in it."""

    path: Path
    paragraphs: list[str]  # every body paragraph and table caption, as typed
    table: list[list[str]]
    header: str  # the running header's text
    footer_examples: list[str]  # the page-number footer as it reads on pages 1..3


def _field(paragraph, code: str) -> None:
    """Append a Word field (PAGE, NUMPAGES) to a paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for kind, text in (("begin", None), ("instr", code), ("separate", None), ("text", "1"), ("end", None)):
        run = paragraph.add_run()
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {text} "
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run._r.append(el)


def _cjk_font(run, name: str, size_pt: float, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.size = Pt(size_pt)
    run.font.bold = bold
    run.font.name = "Times New Roman"
    rpr = run._r.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), name)


def policy_docx(folder: Path, name: str = "policy.docx", footer: str = "dash", justify: bool = True) -> SourceDoc:
    """Write the 公文-like test document.

    Args:
        footer: "dash" for "— N —" page numbers, "of" for "第N页 共M页".
        justify: justify body paragraphs (两端对齐) as 公文 usually are.
    """
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    d = docx.Document()
    d.core_properties.title = TITLE
    sec = d.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin = Mm(37), Mm(35)
    sec.left_margin, sec.right_margin = Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(20)

    header_text = TITLE if footer == "dash" else f"宁波市民政局 {DOC_NUMBER}"
    hp = sec.header.paragraphs[0]
    hp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _cjk_font(hp.add_run(header_text), CJK_SERIF, 10.5)

    fp = sec.footer.paragraphs[0]
    fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if footer == "dash":
        _cjk_font(fp.add_run("— "), CJK_SERIF, 14)
        _field(fp, "PAGE")
        _cjk_font(fp.add_run(" —"), CJK_SERIF, 14)
        examples = [f"— {n} —" for n in (1, 2, 3)]
    else:
        _cjk_font(fp.add_run("第"), CJK_SERIF, 10.5)
        _field(fp, "PAGE")
        _cjk_font(fp.add_run("页 共"), CJK_SERIF, 10.5)
        _field(fp, "NUMPAGES")
        _cjk_font(fp.add_run("页"), CJK_SERIF, 10.5)
        examples = [f"第{n}页 共" for n in (1, 2, 3)]

    paragraphs: list[str] = []
    for style, text in BODY:
        p = d.add_paragraph()
        fmt = p.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing = Pt(28)
        if style == "title":
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            fmt.line_spacing = Pt(36)
            fmt.space_after = Pt(12)
            _cjk_font(p.add_run(text), CJK_SERIF, 22, bold=True)
        else:
            if style == "center":
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif style == "right":
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            elif style in ("body", "table"):
                p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY if justify else WD_ALIGN_PARAGRAPH.LEFT
                if style == "body":
                    fmt.first_line_indent = Pt(32)
            bold = style == "body" and len(text) < 10 and text[1] == "、"
            _cjk_font(p.add_run(text), CJK_SERIF, 16, bold=bold)
        paragraphs.append(text)
        if style == "table":
            t = d.add_table(rows=len(TABLE), cols=len(TABLE[0]))
            t.style = "Table Grid"
            for r, row in enumerate(TABLE):
                for c, cell_text in enumerate(row):
                    cell = t.cell(r, c)
                    cell.text = ""
                    _cjk_font(cell.paragraphs[0].add_run(cell_text), CJK_SERIF, 12)
    path = folder / name
    d.save(path)
    return SourceDoc(path, paragraphs, TABLE, header_text, examples)


def docx_to_pdf(paths: list[Path], outdir: Path) -> list[Path]:
    """Export .docx files to PDF with LibreOffice (one process for all of them)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is not installed")
    profile = (outdir / "lo-profile").resolve()
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(outdir.resolve()), *(str(p.resolve()) for p in paths)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    out = [outdir / (p.stem + ".pdf") for p in paths]
    missing = [p for p in out if not p.exists()]
    if missing:
        raise RuntimeError(f"LibreOffice did not write {missing}")
    return out


def _wrap(text: str, font: object, width: float, indent: float) -> list[str]:
    """Break a paragraph into lines no wider than `width` pixels (the first line indented), keeping
    closing punctuation off the start of a line, as a word processor does."""
    lines, cur, avail = [], "", width - indent
    for ch in text:
        if cur and font.getlength(cur + ch) > avail and ch not in "，。、；：！？）》”’%":
            carry = cur[-1] if cur[-1] in "“‘（《〔" else ""  # an opening mark does not end a line
            lines.append(cur[: len(cur) - len(carry)])
            cur, avail = carry, width
        cur += ch
    return [*lines, cur] if cur else lines


def page_image(
    folder: Path,
    blocks: list[tuple[str, str]],
    name: str = "scan.png",
    size_pt: float = 16,
    dpi: int = 200,
    page: tuple[float, float] | None = (210, 297),
    margin_mm: float = 25,
    footer: str | None = None,
) -> Path:
    """Render paragraphs like a printed page scanned at `dpi` into an image file (format from the suffix).

    `blocks` are (style, text) as in BODY: "title" and "center" are centred, "body" has a two-character
    first-line indent, "right" is right-aligned, "plain" starts at the margin; long paragraphs wrap at
    the right margin. Text is Noto Sans CJK at `size_pt` points, the title 1.4 times larger. `page` is
    the paper size in mm (None: just big enough for the text); `footer` is centred at the bottom.
    """
    from PIL import Image, ImageDraw, ImageFont

    px = dpi / 72 * size_pt
    font = ImageFont.truetype(str(CJK_SANS), int(round(px)), index=CJK_SANS_SC)
    big = ImageFont.truetype(str(CJK_SANS), int(round(px * 1.4)), index=CJK_SANS_SC)
    m = int(margin_mm / 25.4 * dpi)
    if page is None:
        text_width = max(font.getlength(t) + 2 * px for _, t in blocks)
        width = int(2 * m + text_width)
    else:
        width = int(page[0] / 25.4 * dpi)
        text_width = width - 2 * m
    placed: list[tuple[float, str, object]] = []  # (x, text, font) per line
    for style, text in blocks:
        f = big if style == "title" else font
        indent = 2 * px if style == "body" else 0
        for i, line in enumerate(_wrap(text, f, text_width, indent)):
            w = f.getlength(line)
            if style in ("title", "center"):
                x = m + (text_width - w) / 2
            elif style == "right":
                x = m + text_width - w
            else:
                x = m + (indent if i == 0 else 0)
            placed.append((x, line, f))
    pitch = px * 1.75
    height = int(page[1] / 25.4 * dpi) if page is not None else int(2 * m + pitch * (len(placed) + 1))
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    y = float(m)
    for x, line, f in placed:
        draw.text((x, y), line, font=f, fill=0)
        y += pitch * (1.4 if f is big else 1.0)
    if footer:
        draw.text(((width - font.getlength(footer)) / 2, height - m / 2 - px), footer, font=font, fill=0)
    path = folder / name
    img.save(path, dpi=(dpi, dpi))
    return path


def multipage_tiff(folder: Path, images: list[Path], name: str = "scan.tif") -> Path:
    """A multi-page TIFF (one frame per image), as a fax or a document scanner writes."""
    from PIL import Image

    frames = [Image.open(p).convert("L") for p in images]
    path = folder / name
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return path


def image_pdf(folder: Path, images: list[Path], name: str = "scan.pdf", dpi: int = 200, mode: str = "L") -> Path:
    """An image-only PDF (one page per image, no text layer), as a scanner writes (in `mode`: "L" or "RGB")."""
    from PIL import Image

    frames = [Image.open(p).convert(mode) for p in images]
    path = folder / name
    frames[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=frames[1:])
    return path


def synthetic_pdf(folder: Path, blocks: list[tuple[str, str]], name: str = "synthetic.pdf", header: str = "") -> Path:
    """A PDF laid out the way Microsoft Word writes 公文, built with reportlab (no LibreOffice).

    Unlike LibreOffice it writes no space glyphs: Latin word spaces, full-width spaces (第一条　)
    and the extra room between Chinese and Latin text (12号 with a gap) are only positions.
    Latin text and quotation marks “” are in Times (shorter boxes than the Chinese font's, another
    baseline offset), Chinese in STSong; body lines are justified with a two-character first-line
    indent and wrap with the usual rules (no closing mark at a line start, no opening mark at a
    line end); paragraphs flow over pages, each page with `header` at the top and "- N -" at the
    bottom.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    size, pitch = 16.0, 28.0
    left, right, top, bottom = 79.0, A4[0] - 74.0, A4[1] - 105.0, 100.0
    width = right - left

    def units(text: str) -> list[tuple[str, str, float, float]]:
        """(text, font, width, gap before) for each unbreakable unit."""
        out: list[tuple[str, str, float, float]] = []
        i, pending_space, pending_wide = 0, False, False
        while i < len(text):
            ch = text[i]
            if ch == " ":
                pending_space, i = True, i + 1
                continue
            if ch == "\u3000":  # a full-width space: room, no glyph
                pending_wide, i = True, i + 1
                continue
            if ch.isascii():
                j = i
                while j < len(text) and text[j].isascii() and text[j] != " ":
                    j += 1
                word, font = text[i:j], "Times-Roman"
                i = j
            else:
                word, font = ch, ("Times-Roman" if ch in "“”" else "STSong-Light")
                i += 1
            w = pdfmetrics.stringWidth(word, font, size)
            gap = 0.0
            if out:
                latin_before, latin_now = out[-1][1] == "Times-Roman", font == "Times-Roman"
                if pending_wide:
                    gap = size
                elif pending_space:
                    gap = 0.25 * size
                elif latin_before != latin_now and word not in "“”" and out[-1][0] not in "“”":
                    gap = 0.25 * size  # Word's extra room between Chinese and Latin text: no glyph
            out.append((word, font, w, gap))
            pending_space = pending_wide = False
        return out

    c = canvas.Canvas(str(folder / name), pagesize=A4)
    c.setTitle("")
    page_no, y = 1, top

    def furniture() -> None:
        if header:
            c.setFont("STSong-Light", 10.5)
            c.drawCentredString(A4[0] / 2, A4[1] - 50, header)
        c.setFont("Times-Roman", 14)
        c.drawCentredString(A4[0] / 2, 50, f"- {page_no} -")

    furniture()
    for style, text in blocks:
        us = units(text)
        indent = 2 * size if style == "body" else 0.0
        lines: list[list[tuple[str, str, float, float]]] = []
        cur: list[tuple[str, str, float, float]] = []
        used, avail = 0.0, width - indent
        for u in us:
            need = u[2] + (u[3] if cur else 0.0)
            if cur and used + need > avail and u[0] not in "，。、；：！？）》”%":
                carry = [cur.pop()] if cur[-1][0] in "“（《〔" else []
                lines.append(cur)
                cur, avail = carry, width
                used = sum(x[2] + (x[3] if k else 0.0) for k, x in enumerate(cur))
                need = u[2] + (u[3] if cur else 0.0)
            cur.append(u)
            used += need
        lines.append(cur)
        for k, line in enumerate(lines):
            if y < bottom:
                c.showPage()
                page_no, y = page_no + 1, top
                furniture()
            natural = sum(u[2] + (u[3] if n else 0.0) for n, u in enumerate(line))
            start = left + (indent if k == 0 else 0.0)
            if style in ("title", "center"):
                start = left + (width - natural) / 2
            elif style == "right":
                start = right - natural
            last = k == len(lines) - 1
            spread = 0.0 if last or style != "body" or len(line) < 2 else (right - start - natural) / (len(line) - 1)
            x = start
            for n, (word, font, w, gap) in enumerate(line):
                if n:
                    x += gap + spread
                c.setFont(font, size)
                c.drawString(x, y, word)
                x += w
            y -= pitch
    c.showPage()
    c.save()
    return folder / name


def sideways_pdf(
    folder: Path, lines: list[str], angles: tuple[int, ...] = (90, 270, 180), name: str = "turned.pdf"
) -> Path:
    """One page per angle with `lines` set turned by that angle (a landscape table printed sideways),
    and an upright "- N -" page number at the foot of each page."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(folder / name))
    for n, angle in enumerate(angles, 1):
        c.saveState()
        c.translate(300, 420)
        c.rotate(angle)
        c.setFont("STSong-Light", 16)
        for i, text in enumerate(lines):
            c.drawString(-200, -i * 28, text)
        c.restoreState()
        c.setFont("Times-Roman", 12)
        c.drawCentredString(300, 30, f"- {n} -")
        c.showPage()
    c.save()
    return folder / name


# --- page layouts built with reportlab's platypus: columns, tables across pages ------------------

EXPLAINER_TITLE = "《宁波市居家养老服务补贴管理办法》政策解读"
EXPLAINER_SOURCE = "来源：宁波市民政局"
EXPLAINER = [  # flows through both columns; the column break falls inside a paragraph
    "一、出台背景",
    "为贯彻落实《浙江省养老服务条例》，进一步规范居家养老服务补贴的申请、审核和发放工作，提高补贴资金使用效益，"
    "市民政局会同市财政局起草了《宁波市居家养老服务补贴管理办法》（以下简称《办法》）。",
    "二、主要内容",
    "（一）补贴对象。本市户籍、在本市居住的60周岁以上老年人，经评估为中度以上失能的，可以申请居家养老服务补贴；"
    "其中最低生活保障家庭和低保边缘家庭的老年人优先保障。",
    "（二）补贴标准。补贴按照失能等级分为三档，中度失能每人每月300元，重度失能每人每月500元，完全失能每人每月800元，"
    "补贴以服务券形式发放，不得兑换现金。",
    "（三）申请程序。老年人或者其家属向户籍所在地的乡镇（街道）提出申请，乡镇（街道）应当在10个工作日内完成初审，"
    "并委托第三方机构开展失能等级评估，评估结果在村（社区）公示5个工作日。",
    "三、实施时间",
    "《办法》自2024年4月1日起施行，有效期五年。此前有关规定与《办法》不一致的，以《办法》为准。",
]


def _platypus_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))


def two_column_pdf(
    folder: Path,
    paragraphs: list[str],
    name: str = "explainer.pdf",
    title: str = EXPLAINER_TITLE,
    subtitle: str = EXPLAINER_SOURCE,
    column_height: float = 250.0,
    middle: str = "",
) -> Path:
    """A 政策解读 page as a 简报 prints it: a centred title and a source line across the page, then
    the paragraphs flowing down the left column and on into the right one (justified 11 pt STSong,
    two-character first-line indents, a 24 pt gutter), "- N -" at the foot; more pages alike.

    `column_height` sets where the left column breaks. With `middle`, the columns stop after the
    first page's two column boxes, `middle` runs across the page, and two more column boxes follow
    under it: a mixed layout whose reading order positions alone cannot settle.
    """
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import BaseDocTemplate, Frame, FrameBreak, PageTemplate, Paragraph

    _platypus_fonts()
    left, right, gutter = 60.0, A4[0] - 60.0, 24.0
    col = (right - left - gutter) / 2
    top = A4[1] - 70.0
    head_h = 80.0

    def frame(x: float, y: float, w: float, h: float, fid: str) -> Frame:
        return Frame(x, y, w, h, leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id=fid)

    def foot(canvas, doc) -> None:
        canvas.setFont("Times-Roman", 12)
        canvas.drawCentredString(A4[0] / 2, 40, f"- {doc.page} -")

    body_top = top - head_h
    frames = [frame(left, body_top, right - left, head_h, "head")]
    frames += [frame(left, body_top - column_height, col, column_height, "left"),
               frame(left + col + gutter, body_top - column_height, col, column_height, "right")]  # fmt: skip
    if middle:
        mid_h = 60.0
        below = body_top - column_height - mid_h
        frames.append(frame(left, below, right - left, mid_h, "middle"))
        frames += [frame(left, below - column_height, col, column_height, "left2"),
                   frame(left + col + gutter, below - column_height, col, column_height, "right2")]  # fmt: skip
    doc = BaseDocTemplate(str(folder / name), pagesize=A4, title="")
    doc.addPageTemplates([PageTemplate("page", frames, onPage=foot)])
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=11, leading=19, firstLineIndent=22,
                          alignment=TA_JUSTIFY, wordWrap="CJK")  # fmt: skip
    heading = ParagraphStyle("heading", parent=body, firstLineIndent=22, alignment=0)
    story = [
        Paragraph(title, ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER,
                                        firstLineIndent=0, spaceAfter=10)),  # fmt: skip
        Paragraph(subtitle, ParagraphStyle("source", parent=body, fontSize=10, alignment=TA_CENTER, firstLineIndent=0)),
        FrameBreak(),
    ]
    half = len(paragraphs) // 2 if middle else len(paragraphs)
    for i, text in enumerate(paragraphs):
        if middle and i == half:
            story += [FrameBreak("middle"), Paragraph(middle, ParagraphStyle("mid", parent=body, firstLineIndent=0))]
            story.append(FrameBreak())
        story.append(Paragraph(text, heading if len(text) < 12 else body))
    doc.build(story)
    return folder / name


TASK_HEADER = ["序号", "重点任务", "责任单位", "完成时限"]


def long_table_pdf(
    folder: Path,
    rows: list[list[str | None]],
    name: str = "tasks.pdf",
    caption: str = "",
    header: list[str] = TASK_HEADER,
    widths: tuple[float, ...] = (50, 250, 110, 90),
    repeat_header: bool = True,
) -> Path:
    """A ruled table running over pages as Word prints one: 11 pt STSong in cells that wrap, the
    header row repeated at the top of every page (`repeat_header`), and a row that does not fit
    broken across the page break, its cells going on at the top of the next page (the 序号 cell
    empty there); "- N -" at the foot of each page, `caption` above the table.

    A cell given as None is merged with the cell above it (a 类别 cell merged down): no rule
    between them, the text in the top row; where a page break falls inside such a cell, the cell
    goes on, empty, at the top of the next page, as Word prints a vertically merged cell."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen import canvas

    _platypus_fonts()
    font, size, lead, pad = "STSong-Light", 11.0, 16.0, 4.0
    left, top, bottom = (A4[0] - sum(widths)) / 2, A4[1] - 72.0, 72.0

    def wrap(text: str | None, width: float) -> list[str]:  # room for a closing mark kept at a line end
        lines, cur = [], ""
        for ch in text or "":
            if cur and pdfmetrics.stringWidth(cur + ch, font, size) > width - 2 * pad - size and ch not in "，。、；）":
                lines.append(cur)
                cur = ""
            cur += ch
        return [*lines, cur] if cur else lines

    c = canvas.Canvas(str(folder / name), pagesize=A4)
    c.setTitle("")
    page_no = 1

    def draw(cells: list[list[str]], y: float, open_top: list[bool], open_bottom: list[bool]) -> float:
        """One row of cells; a cell with an open top or bottom has no rule there (merged with its neighbour)."""
        height = height_of(cells)
        x = left
        for k, (lines, w) in enumerate(zip(cells, widths)):
            c.line(x, y, x, y - height)
            c.line(x + w, y, x + w, y - height)
            if not open_top[k]:
                c.line(x, y, x + w, y)
            if not open_bottom[k]:
                c.line(x, y - height, x + w, y - height)
            for n, line in enumerate(lines):
                c.drawString(x + pad, y - pad - size - n * lead, line)
            x += w
        return y - height

    closed = [False] * len(widths)

    def height_of(cells: list[list[str]]) -> float:
        return max(1, *(len(lines) for lines in cells)) * lead + 2 * pad

    def draw_header(y: float) -> float:
        return draw([wrap(t, w) for t, w in zip(header, widths)], y, closed, closed)

    def new_page() -> float:
        nonlocal page_no
        c.setFont("Times-Roman", 12)
        c.drawCentredString(A4[0] / 2, 40, f"- {page_no} -")
        c.showPage()
        page_no += 1
        c.setFont(font, size)
        return draw_header(top) if repeat_header else top

    y = top
    if caption:
        c.setFont(font, 14)
        c.drawString(left, y - 14, caption)
        y -= 30
    c.setFont(font, size)
    y = draw_header(y)
    for i, row in enumerate(rows):
        cells = [wrap(t, w) for t, w in zip(row, widths)]
        up = [t is None for t in row]
        if y - height_of(cells) < bottom:
            fit = int((y - bottom - 2 * pad) // lead)
            if fit >= 1:  # the row breaks across the page: what fits here, the rest on the next page
                y = draw([lines[:fit] for lines in cells], y, up, closed)
                cells = [lines[fit:] for lines in cells]
            y = new_page()
            up = closed
        after = y - height_of(cells)
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        starts_here = nxt is not None and (
            after - height_of([wrap(t, w) for t, w in zip(nxt, widths)]) >= bottom or after - bottom - 2 * pad >= lead
        )
        y = draw(cells, y, up, [t is None for t in nxt] if nxt is not None and starts_here else closed)
    c.setFont("Times-Roman", 12)
    c.drawCentredString(A4[0] / 2, 40, f"- {page_no} -")
    c.showPage()
    c.save()
    return folder / name


# --- a scanned 公文 page with a red 发文机关标志 and a red seal over its date -----------------------

SEAL_RED = (214, 36, 40)


def sealed_page(
    folder: Path,
    lines: list[str],
    name: str = "sealed.png",
    masthead: str = "宁波市民政局文件",
    seal_text: str = "宁波市财政局",
    centre_text: str = "专用章",
    dpi: int = 150,
    size_pt: float = 16,
) -> Path:
    """A colour page image like a scanned 公文: `masthead` in red above a red rule (the 红头), the
    black `lines` (the last one right-aligned, as a date is), and a red seal stamped over the last
    line: a ring, `seal_text` set round its upper arc, a star, `centre_text` under it. The seal is
    multiplied onto the page as ink is, so black text under it stays black."""
    import math

    from PIL import Image, ImageChops, ImageDraw, ImageFont

    px = dpi / 72 * size_pt
    font = ImageFont.truetype(str(CJK_SANS), int(round(px)), index=CJK_SANS_SC)
    big = ImageFont.truetype(str(CJK_SANS), int(round(px * 1.6)), index=CJK_SANS_SC)
    m, pitch = int(px * 2), px * 1.8
    width = int(2 * m + max(font.getlength(t) for t in lines) + 2 * px)
    radius = int(px * 2.6)
    height = int(m + px * 2.6 + pitch * len(lines) + radius + m)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    draw.text(((width - big.getlength(masthead)) / 2, m), masthead, font=big, fill=SEAL_RED)
    rule = m + px * 2.1
    draw.line([(m, rule), (width - m, rule)], fill=SEAL_RED, width=max(2, int(px / 10)))
    y = rule + px * 0.6
    for i, text in enumerate(lines):
        x = width - m - font.getlength(text) if i == len(lines) - 1 else m
        draw.text((x, y), text, font=font, fill="black")
        y += pitch
    # the seal, centred on the last line's middle
    cx, cy = int(width - m - font.getlength(lines[-1]) / 2), int(y - pitch + px * 0.6)
    seal = Image.new("RGB", (2 * radius, 2 * radius), "white")
    sd = ImageDraw.Draw(seal)
    sd.ellipse([2, 2, 2 * radius - 3, 2 * radius - 3], outline=SEAL_RED, width=max(3, radius // 18))
    ring = ImageFont.truetype(str(CJK_SANS), int(radius * 0.36), index=CJK_SANS_SC)
    span = 200.0  # degrees of the upper arc the ring text covers
    for k, ch in enumerate(seal_text):
        angle = -90 - span / 2 + span * (k + 0.5) / len(seal_text)  # from the left of the arc to the right
        glyph = Image.new("L", (int(radius * 0.5),) * 2, 0)
        ImageDraw.Draw(glyph).text((radius * 0.07, 0), ch, font=ring, fill=255)
        glyph = glyph.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC)
        gx = radius + radius * 0.7 * math.cos(math.radians(angle)) - glyph.width / 2
        gy = radius + radius * 0.7 * math.sin(math.radians(angle)) - glyph.height / 2
        seal.paste(Image.new("RGB", glyph.size, SEAL_RED), (int(gx), int(gy)), glyph)
    star = [(radius + radius * 0.28 * (1 if k % 2 == 0 else 0.4) * math.cos(math.radians(-90 + 36 * k)),
             radius + radius * 0.28 * (1 if k % 2 == 0 else 0.4) * math.sin(math.radians(-90 + 36 * k)))
            for k in range(10)]  # fmt: skip
    sd.polygon(star, fill=SEAL_RED)
    small = ImageFont.truetype(str(CJK_SANS), int(radius * 0.22), index=CJK_SANS_SC)
    sd.text((radius - small.getlength(centre_text) / 2, radius * 1.38), centre_text, font=small, fill=SEAL_RED)
    region = (cx - radius, cy - radius, cx + radius, cy + radius)
    page.paste(ImageChops.multiply(page.crop(region), seal), region[:2])
    path = folder / name
    page.save(path, dpi=(dpi, dpi))
    return path
