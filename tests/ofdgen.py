"""Writes small but realistic .ofd files (GB/T 33190: a zip of XML) for the OFD reader's tests.

`policy_ofd()` lays out a two-page 公文 the way OFD producers do: A4 pages in mm, 三号 body
text 28 characters to the line, first-line indents of two characters, the title scaled by a
CTM, a paragraph kept in one TextObject with one TextCode per line, a paragraph wrapped
across the page break, the page number "— N —" at the bottom, a watermark on a background
layer and a running header in a page template (both furniture), and every page's text
objects stored shuffled, the 文号 line split into two objects stored right before left.
`build_ofd()` takes any pages and can break the package on purpose for the hostile cases.
"""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, WIDTH = 28.0, 156.0  # text block: 28 characters of BODY
BODY = WIDTH / 28
PITCH = 10.0


def units(text: str) -> float:
    """Width of text in em: CJK and full-width punctuation 1, the rest (digits, Latin) 1/2."""
    return sum(1.0 if ord(ch) >= 0x2E80 or ch in "—“”" else 0.5 for ch in text)


@dataclass
class Code:
    """One TextCode: text whose first glyph's baseline sits at (x, y) on the page."""

    x: float
    y: float
    text: str


@dataclass
class Obj:
    """One TextObject: codes of one size; `ctm` scales a unit-size object (as some producers do)."""

    codes: list[Code]
    size: float = BODY
    ctm: bool = False


@dataclass
class Layout:
    """Places paragraphs line by line, pages top to bottom."""

    pages: list[list[Obj]] = field(default_factory=lambda: [[]])
    y: float = 40.0

    def new_page(self) -> None:
        self.pages.append([])
        self.y = 40.0

    def add(self, text: str, *, size: float = BODY, indent: int = 0, align: str = "left", gap: float = 0.0,
            one_object: bool = False, break_after: int | None = None, ctm: bool = False) -> None:  # fmt: skip
        """A paragraph: wrapped at 28 em (less the first-line indent), aligned, each line one object or all one."""
        self.y += gap
        capacity = WIDTH / size
        lines, cur, room = [], "", capacity - indent
        for ch in text:
            if units(cur + ch) > room + 1e-6:
                lines.append(cur)
                cur, room = "", capacity
            cur += ch
        lines.append(cur)
        codes = []
        for i, line in enumerate(lines):
            if break_after is not None and i == break_after:
                self._flush(codes, size, one_object, ctm)
                codes = []
                self.new_page()
            w = units(line) * size
            x = {"left": LEFT + (indent * size if i == 0 else 0), "center": LEFT + (WIDTH - w) / 2,
                 "right": LEFT + WIDTH - 4 * BODY - w}[align]  # fmt: skip
            codes.append(Code(x, self.y, line))
            self.y += max(PITCH, size * 1.6)
        self._flush(codes, size, one_object, ctm)

    def _flush(self, codes: list[Code], size: float, one_object: bool, ctm: bool) -> None:
        if one_object:
            self.pages[-1].append(Obj(codes, size, ctm))
        else:
            self.pages[-1].extend(Obj([c], size, ctm) for c in codes)


def _text_object(oid: int, obj: Obj) -> str:
    """A TextObject whose Boundary is the box of its codes, code positions relative to it."""
    size = obj.size
    x0 = min(c.x for c in obj.codes)
    top = min(c.y for c in obj.codes) - 0.85 * size
    w = max(units(c.text) for c in obj.codes) * size
    h = max(c.y for c in obj.codes) - top + 0.2 * size
    scale = size if obj.ctm else 1.0
    attrs = f'ID="{oid}" Boundary="{x0:.2f} {top:.2f} {w:.2f} {h:.2f}" Font="1" Size="{size / scale:.3f}"'
    if obj.ctm:
        attrs += f' CTM="{scale:.3f} 0 0 {scale:.3f} 0 0"'
    codes = []
    for i, c in enumerate(obj.codes):
        steps = [(1.0 if units(ch) == 1 else 0.5) * size / scale for ch in c.text[:-1]]
        delta = (
            f"g {len(steps)} {steps[0]:.3f}" if steps and len(set(steps)) == 1 else " ".join(f"{s:.3f}" for s in steps)
        )
        x = f' X="{(c.x - x0) / scale:.3f}"' if i == 0 or c.x != obj.codes[i - 1].x else ""  # else inherited
        codes.append(f'<ofd:TextCode{x} Y="{(c.y - top) / scale:.3f}" DeltaX="{delta}">{escape(c.text)}</ofd:TextCode>')
    return f'<ofd:TextObject {attrs}><ofd:FillColor Value="0 0 0"/>{"".join(codes)}</ofd:TextObject>'


def page_xml(objs: list[Obj], *, watermark: str | None = None, template: bool = False) -> str:
    """A page's Content.xml: an optional background layer (watermark), the body layer."""
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {NS}>',
             f"<ofd:Area><ofd:PhysicalBox>0 0 {PAGE_W:g} {PAGE_H:g}</ofd:PhysicalBox></ofd:Area>"]  # fmt: skip
    if template:
        parts.append('<ofd:Template TemplateID="100" ZOrder="Background"/>')
    parts.append("<ofd:Content>")
    if watermark:
        wm = Obj([Code(60, 160, watermark)], 12.0)
        parts.append(f'<ofd:Layer ID="1" Type="Background">{_text_object(2, wm)}</ofd:Layer>')
    body = "".join(_text_object(10 + i, o) for i, o in enumerate(objs))
    parts.append(f'<ofd:Layer ID="3"><ofd:PageBlock ID="4">{body}</ofd:PageBlock></ofd:Layer>')
    parts.append("</ofd:Content></ofd:Page>")
    return "".join(parts)


def build_ofd(pages: list[str], *, title: str | None = None, page_locs: list[str] | None = None,
              replace: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> bytes:  # fmt: skip
    """An .ofd package of the given page Content.xml texts.

    Pages live at Doc_0/Pages/Page_N/Content.xml; their BaseLoc is relative for odd pages and
    absolute ("/Doc_0/...") for even ones unless `page_locs` says otherwise. `replace` swaps a
    member's bytes, `drop` leaves members out (for the hostile cases).
    """
    locs = page_locs or [f"Pages/Page_{i}/Content.xml" if i % 2 == 0 else f"/Doc_0/Pages/Page_{i}/Content.xml"
                         for i in range(len(pages))]  # fmt: skip
    info = f"<ofd:Title>{escape(title)}</ofd:Title>" if title else ""
    ofd_xml = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {NS} Version="1.1" DocType="OFD"><ofd:DocBody>'
               f"<ofd:DocInfo><ofd:DocID>6f1e2d3c4b5a69788796a5b4c3d2e1f0</ofd:DocID>{info}"
               "<ofd:Author>某某市人民政府办公室</ofd:Author><ofd:CreationDate>2024-03-01</ofd:CreationDate>"
               "<ofd:Creator>ofdgen</ofd:Creator></ofd:DocInfo>"
               "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")  # fmt: skip
    page_list = "".join(f'<ofd:Page ID="{20 + i}" BaseLoc="{loc}"/>' for i, loc in enumerate(locs))
    document = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {NS}><ofd:CommonData>'
                "<ofd:MaxUnitID>999</ofd:MaxUnitID>"
                f"<ofd:PageArea><ofd:PhysicalBox>0 0 {PAGE_W:g} {PAGE_H:g}</ofd:PhysicalBox></ofd:PageArea>"
                "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
                '<ofd:TemplatePage ID="100" BaseLoc="Tpls/Tpl_0/Content.xml"/>'
                f"</ofd:CommonData><ofd:Pages>{page_list}</ofd:Pages></ofd:Document>")  # fmt: skip
    public_res = (f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res {NS} BaseLoc="Res"><ofd:Fonts>'
                  '<ofd:Font ID="1" FontName="仿宋_GB2312" FamilyName="仿宋"/></ofd:Fonts></ofd:Res>')  # fmt: skip
    header = Obj([Code(LEFT, 15, "某某市人民政府规范性文件")], 3.5)
    template = page_xml([header])
    members = {
        "OFD.xml": ofd_xml.encode(),
        "Doc_0/Document.xml": document.encode(),
        "Doc_0/PublicRes.xml": public_res.encode(),
        "Doc_0/Tpls/Tpl_0/Content.xml": template.encode(),
    }
    for i, page in enumerate(pages):
        members[f"Doc_0/Pages/Page_{i}/Content.xml"] = page.encode()
    members.update(replace or {})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, raw in members.items():
            if name not in drop:
                z.writestr(name, raw)
    return buf.getvalue()


TITLE = "关于加强安全生产工作的通知"
# What the reader must give back: one line per paragraph, in reading order, page numbers, the
# template's header and the watermark left out.
LINES = [
    "某某市人民政府文件",
    "某政发〔2024〕3号",
    TITLE,
    "各区县人民政府，市政府各部门：",
    "为深入贯彻落实党中央、国务院关于安全生产工作的决策部署，切实防范化解重大安全风险，"
    "有效遏制各类生产安全事故发生，现就有关事项通知如下：",
    "一、总体要求",
    "（一）坚持人民至上、生命至上，把保护人民生命安全摆在首位，全面提高安全生产工作水平。",
    "（二）坚持源头防范、系统治理，健全风险分级管控和隐患排查治理双重预防机制，"
    "推动安全生产治理模式向事前预防转型，到2025年底实现重点行业领域全覆盖。",
    "二、重点任务",
    "1.全面开展隐患排查整治，建立问题清单、责任清单、整改清单，实行闭环管理。",
    "2.严格落实企业主体责任，主要负责人是本单位安全生产第一责任人，对本单位安全生产工作全面负责，切实履行好职责。",
    "三、工作要求",
    "本通知自印发之日起施行。",
    "某某市人民政府",
    "2024年3月1日",
]


def policy_pages() -> tuple[list[list[Obj]], list[str]]:
    """The policy laid out: objects per page (in reading order) and each page's first line."""
    lay = Layout()
    lay.add(LINES[0], size=15.0, align="center", gap=5)
    lay.add(LINES[1], align="center", gap=8)
    lay.add(LINES[2], size=7.8, align="center", gap=10, ctm=True)
    lay.add(LINES[3], gap=4)
    lay.add(LINES[4], indent=2, one_object=True)
    for line in LINES[5:7]:
        lay.add(line, indent=2)
    lay.add(LINES[7], indent=2, break_after=2)  # wraps over the page break
    for line in LINES[8:11]:
        lay.add(line, indent=2)
    lay.add(LINES[11])  # at the left edge after a full line: only its 三、 makes it a new paragraph
    lay.add(LINES[12], indent=2)
    lay.add(LINES[13], align="right", gap=15)
    lay.add(LINES[14], align="right")
    firsts = [page[0].codes[0].text for page in lay.pages]
    # the 文号 as two objects, the right one a hair higher (as when a font switches for the digits)
    wenhao = lay.pages[0][1]
    left_part, right_part = "某政发〔2024〕", "3号"
    code = wenhao.codes[0]
    lay.pages[0][1:2] = [Obj([Code(code.x + units(left_part) * BODY, code.y - 0.3, right_part)]),
                         Obj([Code(code.x, code.y, left_part)])]  # fmt: skip
    return lay.pages, firsts


def policy_ofd(*, seed: int = 7) -> tuple[bytes, list[str]]:
    """The policy as an .ofd (objects shuffled on every page) and each page's first text line."""
    pages, firsts = policy_pages()
    rng = random.Random(seed)
    xmls = []
    for n, objs in enumerate(pages, 1):
        objs = objs + [Obj([Code(PAGE_W / 2 - 2 * 4.9, 280.0, f"— {n} —")], 4.9)]
        rng.shuffle(objs)
        xmls.append(page_xml(objs, watermark="内部资料 注意保存", template=True))
    return build_ofd(xmls, title=TITLE), firsts


ENTITY_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + f']><ofd:Page {NS}><ofd:Content><ofd:Layer><ofd:TextObject Boundary="0 0 10 10" Size="5">'
    '<ofd:TextCode X="0" Y="5">&lol9;</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>'
)


def table_pages(rows: list[list[str]], widths: list[float], *, y: float = 40.0, size: float = 3.5,
                per_page: int | None = None, caption: str = "", after: str = "") -> list[list[Obj]]:  # fmt: skip
    """A table as OFD producers lay out Word's: each cell's text wrapped in its column (two 1.5 mm
    paddings), one object per cell line, the lines of a row on baselines one pitch apart, cells left
    aligned at their column's left edge; `rows[0]` is the header, repeated at the top of each page
    after `per_page` data rows. `caption` goes above the table, `after` is a paragraph below it."""
    pitch, pad = size * 1.6, 1.5
    starts = [LEFT + sum(widths[:k]) for k in range(len(widths))]
    pages: list[list[Obj]] = [[]]
    if caption:
        pages[0].append(Obj([Code(LEFT, y, caption)], size))
        y += 2 * pitch

    def wrap(text: str, width: float) -> list[str]:
        lines, cur = [], ""
        for ch in text:
            if cur and units(cur + ch) * size > width - 2 * pad:
                lines.append(cur)
                cur = ""
            cur += ch
        return [*lines, cur] if cur else []

    def put(row: list[str]) -> None:
        nonlocal y
        cells = [wrap(t, w) for t, w in zip(row, widths)]
        for k, lines in enumerate(cells):
            for n, line in enumerate(lines):
                pages[-1].append(Obj([Code(starts[k] + pad, y + n * pitch, line)], size))
        y += max(1, *(len(lines) for lines in cells)) * pitch + pad

    put(rows[0])
    for i, row in enumerate(rows[1:]):
        if per_page and i and i % per_page == 0:
            pages.append([])
            y = 40.0
            put(rows[0])
        put(row)
    if after:
        pages[-1].append(Obj([Code(LEFT + 2 * size, y + pitch, after)], size))
    return pages
