"""Word .docx: the text as Word displays it, list numbers included.

Policy documents number their clauses with Word's automatic numbering as often as by
typing the labels. The labels then live in word/numbering.xml, not in the text, and a
reader that takes only the runs' text loses 一、/（一）/第一条 and with them the clause
structure. This reader renders the numbering the way Word does, so that a document with
automatic numbering reads the same as the same document typed by hand.

What is read, in document order (w:body walked directly, parsed with lxml safely):
- paragraphs, one line each: runs' text, hyperlinks, content controls (their placeholder
  text left out), smart tags, inserted revisions; deleted revisions (w:del, w:moveFrom)
  and hidden text (w:vanish set on the run) left out. A paragraph whose mark is deleted
  joins the next paragraph, as Word shows it.
- automatic numbering (`_Numbering`): numbering.xml abstractNum/num, lvlText with %1..%9,
  start, numFmt, lvlRestart, isLgl, lvlOverride (startOverride or a whole w:lvl), numbering
  set on the paragraph or inherited from its style (basedOn chains; ilvl from the style,
  else from the level whose w:pStyle is that style, else 0); counters kept per abstractNum,
  so nums sharing one continue the same list unless an override restarts it.
- label separator (w:suff): "nothing" puts the text right after the label; "tab" (the
  default) and "space" become what a typist would have typed: a full-width space
  "\\u3000" after a label ending in a CJK character that is not punctuation ("第一条　为了"),
  one ASCII space after a label ending in a Latin letter or digit ("1.1 总则"), nothing
  after punctuation ("一、总则", "（一）", "1.") — and nothing when the text itself starts
  with whitespace.
- bullets (numFmt bullet) render nothing: the glyph is often a private-use Symbol/Wingdings
  code point and carries no words and no number a citation could use.
- tables in the row model (`table.table_lines`): where the first row names the columns,
  the header as a TAB-joined line and each row as "列名：值；列名：值", a category row
  merged across the table or a category column merged down as lines before the rows they
  head; else one TAB-joined line per row. A cell's paragraphs join with a space; nested
  tables flatten into the cell's text. Cells are laid on the table grid: a horizontally
  merged cell (gridSpan, hMerge) gives its text once, a vertically merged one (vMerge) its
  text to every row it covers (in the plain form: once). A table with a single column is a frame
  (a box drawn around text, common in 公文), not data: its content is read as ordinary
  paragraphs. Rows with no text are left out. A caption is simply the paragraph before
  the table, kept as its own line.
- text boxes (w:txbxContent in DrawingML or VML; of an mc:AlternateContent only the first
  Choice, else the Fallback, so the same box is never read twice) become lines of their
  own just before the paragraph that anchors them; in a table cell they join the cell.
- fields show their result (w:fldSimple content; complex fields between separate and
  end), never their instruction. A table of contents (TOC field, or a content control of
  the "Table of Contents" gallery) is navigation furniture with page numbers and is left
  out, like running headers.
- footnotes/endnotes: the reference renders "[注N]" / "[尾注N]", N counting references in
  document order (not the w:id, and arabic even where Word would show i, ii for endnotes);
  the note's text follows the paragraph as a line "[注N] text" (after the whole table for
  references inside a table). Separator and continuation notes are ignored.
- soft line breaks (w:br, w:cr) keep one line per paragraph, except where the break is
  really a paragraph break typed with Shift+Enter: after sentence-ending punctuation
  (。；！？：) or before a numbering label (一、 （一） 1. 第X条 …) the break becomes "\\n";
  elsewhere (a title wrapped by hand) the pieces join with nothing between CJK text and one
  space between Latin words. A tab (w:tab) renders as one space: a TAB in a line means a
  table row.
- headings: a body paragraph whose style is a heading (built-in "heading N" / 标题 N by name or
  id, or any style with w:outlineLvl, through basedOn chains, so a custom style based on
  Heading 2 is a level-2 heading) or that carries w:outlineLvl itself is listed in
  `Extracted.outline` with its level (outlineLvl 0 = level 1; 9 = body text, which also
  overrides a heading style). The text is unchanged; the splitter makes such a line a heading
  when it has no typed number.
- title: the core properties' title when set.

Left out: running headers and footers (header*.xml, footer*.xml: page furniture), comments,
text in charts, SmartArt and embedded objects, w:sym glyphs, imported chunks (w:altChunk,
mentioned in `Extracted.notes`).

Known approximations: a lvlOverride restarts its level where its num is first used (Word's
behaviour for "restart numbering"); a Word 2010 custom number format ("001, 002, …") is read
through its standard fallback; hidden text is recognised when set on the run, not through a
character style; a footnote with a custom mark still gets the next number; values past
99,999 and unknown formats render in decimal.

Safety: the file is untrusted. Parts are parsed by lxml with entity resolution, network
access and huge trees off, and a part carrying a DTD is refused; each part read is capped
at `MAX_PART_BYTES` unpacked and all parts together at `MAX_TOTAL_BYTES`, and the whole
package first passes the shared zip-bomb rule (`base.check_zip`). A broken file raises
ValueError saying why.
"""

from __future__ import annotations

import io
import itertools
import logging
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from rag.text.vocab import CN_NINE, CN_NUMERALS, CN_ONE_TO_TEN

from .base import MAX_ZIP_MEMBER_BYTES, MAX_ZIP_UNPACKED, Extracted, check_zip, zip_has
from .table import Cell, table_lines

log = logging.getLogger(__name__)

NEEDS = "lxml"

MAX_PART_BYTES = MAX_ZIP_MEMBER_BYTES  # one unpacked part (the shared zip rule, `base.check_zip`)
MAX_TOTAL_BYTES = MAX_ZIP_UNPACKED  # all parts read from one file

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DC = "http://purl.org/dc/elements/1.1/"
# ISO 29500 Strict namespaces -> their transitional twins (the markup is otherwise the same).
_STRICT = {
    "http://purl.oclc.org/ooxml/wordprocessingml/main": _W,
    "http://purl.oclc.org/ooxml/officeDocument/relationships": _R,
    "http://purl.oclc.org/ooxml/officeDocument/math": _M,
}


def _w(local: str) -> str:
    return f"{{{_W}}}{local}"


W_VAL = _w("val")
W_P, W_R, W_T, W_TBL, W_TR, W_TC = _w("p"), _w("r"), _w("t"), _w("tbl"), _w("tr"), _w("tc")
W_PPR, W_RPR, W_TCPR, W_TRPR = _w("pPr"), _w("rPr"), _w("tcPr"), _w("trPr")
W_SDT, W_SDTCONTENT, W_SDTPR, W_CUSTOMXML = _w("sdt"), _w("sdtContent"), _w("sdtPr"), _w("customXml")
W_INS, W_DEL, W_MOVETO, W_MOVEFROM = _w("ins"), _w("del"), _w("moveTo"), _w("moveFrom")
W_TXBX = _w("txbxContent")
MC_ALT, MC_CHOICE, MC_FALLBACK = f"{{{_MC}}}AlternateContent", f"{{{_MC}}}Choice", f"{{{_MC}}}Fallback"
M_OMATH, M_OMATHPARA, M_T = f"{{{_M}}}oMath", f"{{{_M}}}oMathPara", f"{{{_M}}}t"

# Inline containers whose children are read as if they stood in the paragraph itself.
_INLINE_THROUGH = {_w(n) for n in ("hyperlink", "smartTag", "customXml", "ins", "moveTo", "dir", "bdo")}
_SKIP = {W_DEL, W_MOVEFROM}


# ---------------------------------------------------------------- package and XML


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
    )


def _to_transitional(root: etree._Element) -> None:
    """Rename ISO Strict namespaces in place so one code path reads both flavours."""

    def fix(name: str) -> str:
        if name.startswith("{"):
            ns, local = name[1:].split("}", 1)
            if ns in _STRICT:
                return f"{{{_STRICT[ns]}}}{local}"
        return name

    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = fix(el.tag)
        for key in list(el.attrib):
            new = fix(key)
            if new != key:
                el.attrib[new] = el.attrib.pop(key)


class _Package:
    """The zip: size-capped reads, safe XML parsing, relationship lookup."""

    def __init__(self, data: bytes):
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise ValueError("not a .docx zip package: an OLE file (a legacy .doc, or a password-protected .docx)")
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise ValueError(f"not a .docx zip package: {e}") from e
        check_zip(data)  # the shared zip-bomb rule: sizes, ratio, member count and names
        self.names = {n.lower(): n for n in self.zip.namelist()}
        self.read_total = 0

    def read(self, name: str) -> bytes | None:
        real = self.names.get(name.lower().lstrip("/"))
        if real is None:
            return None
        info = self.zip.getinfo(real)
        if info.file_size > MAX_PART_BYTES:
            raise ValueError(f"{real}: unpacked size {info.file_size} bytes over limit {MAX_PART_BYTES}")
        try:
            with self.zip.open(real) as f:
                data = f.read(MAX_PART_BYTES + 1)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as e:
            raise ValueError(f"{real}: cannot unpack: {e}") from e
        if len(data) > MAX_PART_BYTES:
            raise ValueError(f"{real}: unpacked size over limit {MAX_PART_BYTES}")
        self.read_total += len(data)
        if self.read_total > MAX_TOTAL_BYTES:
            raise ValueError(f"total unpacked size of the parts read over limit {MAX_TOTAL_BYTES}")
        return data

    def xml(self, name: str) -> etree._Element | None:
        data = self.read(name)
        if data is None:
            return None
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as e:
            raise ValueError(f"{name}: not well-formed XML: {e}") from e
        if root is None:
            raise ValueError(f"{name}: empty XML part")
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise ValueError(f"{name}: a DTD/DOCTYPE is not allowed in a .docx part")
        if isinstance(root.tag, str) and root.tag.startswith("{http://purl.oclc.org/ooxml/"):
            _to_transitional(root)
        return root

    def rels(self, part: str) -> dict[str, str]:
        """Relationship type (its last path segment) -> target part name, for `part` ("" = package)."""
        folder, base = posixpath.split(part)
        root = self.xml(posixpath.join(folder, "_rels", f"{base}.rels"))
        out: dict[str, str] = {}
        if root is None:
            return out
        for rel in root.iter(f"{{{_PKG_RELS}}}Relationship"):
            kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
            target = rel.get("Target") or ""
            if rel.get("TargetMode") == "External" or not target or kind in out:
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            out[kind] = posixpath.normpath(path).lstrip("/")
        return out


def _on(el: etree._Element | None) -> bool:
    """An ST_OnOff property: present and not switched off."""
    return el is not None and el.get(W_VAL, "true").lower() not in ("0", "false", "off", "none")


def _val(el: etree._Element | None) -> str | None:
    """The w:val of an element, or None when there is no element."""
    return el.get(W_VAL) if el is not None else None


def _int(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# ---------------------------------------------------------------- number formats


def _grouped(n: int, digits: str, small: tuple[str, ...], big: tuple[str, ...], zero: bool, elide: str) -> str:
    """CJK counting with 十/百/千 and 万/亿 groups.

    zero: write 零 for skipped places (一百零一); elide: "ten" drops the 一 of a leading
    一十 (Chinese: 十, 十一, 十万), "all" drops every 1 before 十/百/千 (Japanese: 百一).
    """
    if n == 0:
        return digits[0]
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out: list[str] = []
    started = pending = False
    for gi in range(len(groups) - 1, -1, -1):
        g = groups[gi]
        if g == 0:
            pending = pending or started
            continue
        for pos in (3, 2, 1, 0):
            d = g // 10**pos % 10
            if d == 0:
                pending = pending or started
                continue
            if pending and zero:
                out.append(digits[0])
            pending = False
            out.append(small[pos] if pos and d == 1 and elide == "all" else digits[d] + small[pos])
            started = True
        out.append(big[gi])
    s = "".join(out)
    if elide == "ten" and s.startswith(digits[1] + small[1]):
        s = s[1:]
    return s


def _cn_counting(n: int, zero: str = "\u25cb") -> str:
    """chineseCounting: 一…九, 十…九十九 with 十, then digit by digit (100 -> 一○○, per [MS-DOCX] 2.4)."""
    digits = zero + CN_NINE
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return "".join(digits[int(c)] for c in str(n))


def _roman(n: int) -> str:
    out = []
    for value, glyph in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):  # fmt: skip
        count, n = divmod(n, value)
        out.append(glyph * count)
    return "".join(out)


def _repeat(n: int, glyphs: str) -> str:
    """Letter sequences as Word writes them: A…Z, AA, BB, … (not base 26)."""
    return glyphs[(n - 1) % len(glyphs)] * ((n - 1) // len(glyphs) + 1)


def _fixed(n: int, glyphs: str) -> str:
    """A fixed set (甲乙丙…, ①…⑳); past its end the number falls back to decimal (ECMA-376 17.18.59)."""
    return glyphs[n - 1] if 1 <= n <= len(glyphs) else str(n)


def _counting(digits: str, small: str, big: str, zero: bool, elide: str) -> Callable[[int], str]:
    """A `_grouped` format: `small` the units 十百千, `big` the groups 万亿."""
    return lambda n: _grouped(n, digits, ("", *small), ("", *big), zero, elide)


_STEMS = "甲乙丙丁戊己庚辛壬癸"
_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalHalfWidth": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: "".join(chr(0xFF10 + int(c)) for c in str(n)),
    "decimalFullWidth2": lambda n: "".join(chr(0xFF10 + int(c)) for c in str(n)),
    "decimalEnclosedCircle": lambda n: _fixed(n, "".join(map(chr, range(0x2460, 0x2474)))),
    "decimalEnclosedCircleChinese": lambda n: _fixed(n, "".join(map(chr, range(0x2460, 0x2474)))),
    "decimalEnclosedFullstop": lambda n: _fixed(n, "".join(map(chr, range(0x2488, 0x249C)))),
    "decimalEnclosedParen": lambda n: _fixed(n, "".join(map(chr, range(0x2474, 0x2488)))),
    "ideographEnclosedCircle": lambda n: _fixed(n, "".join(map(chr, range(0x3280, 0x328A)))),
    "upperRoman": _roman,
    "lowerRoman": lambda n: _roman(n).lower(),
    "upperLetter": lambda n: _repeat(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "lowerLetter": lambda n: _repeat(n, "abcdefghijklmnopqrstuvwxyz"),
    "russianUpper": lambda n: _repeat(n, "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЫЭЮЯ"),
    "russianLower": lambda n: _repeat(n, "абвгдежзиклмнопрстуфхцчшщыэюя"),
    "chicago": lambda n: _repeat(n, "*\u2020\u2021\u00a7"),
    "hex": lambda n: f"{n:X}",
    "numberInDash": lambda n: f"- {n} -",
    "ordinal": lambda n: f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}",
    "chineseCounting": _cn_counting,
    "taiwaneseCounting": _cn_counting,
    "chineseCountingThousand": _counting("零" + CN_NINE, "十百千", "万亿", True, "ten"),
    "taiwaneseCountingThousand": _counting("零" + CN_NINE, "十百千", "萬億", True, "ten"),
    "chineseLegalSimplified": _counting("零壹贰叁肆伍陆柒捌玖", "拾佰仟", "万亿", True, ""),
    "ideographLegalTraditional": _counting("零壹貳參肆伍陸柒捌玖", "拾佰仟", "萬億", True, ""),
    "japaneseCounting": _counting("〇" + CN_NINE, "十百千", "万億", False, "all"),
    "japaneseLegal": _counting("〇壱弐参四伍六七八九", "拾百阡", "萬億", False, ""),
    "ideographDigital": lambda n: "".join(("〇" + CN_NINE)[int(c)] for c in str(n)),
    "japaneseDigitalTenThousand": lambda n: "".join(("〇" + CN_NINE)[int(c)] for c in str(n)),
    "taiwaneseDigital": lambda n: "".join(("\u25cb" + CN_NINE)[int(c)] for c in str(n)),
    "ideographTraditional": lambda n: _fixed(n, _STEMS),
    "ideographZodiac": lambda n: _fixed(n, _BRANCHES),
    "ideographZodiacTraditional": lambda n: _STEMS[(n - 1) % 10] + _BRANCHES[(n - 1) % 12] if 1 <= n <= 60 else str(n),
}
_NO_ZERO = {"upperRoman", "lowerRoman", "upperLetter", "lowerLetter", "russianUpper", "russianLower", "chicago"}
_MAX_COUNTER = 99_999  # beyond any real list; keeps hostile start values from expanding (A * n, M * n)


def format_number(n: int, fmt: str) -> str:
    """`n` in Word's number format `fmt` (ST_NumberFormat); unknown formats fall back to decimal."""
    if fmt in ("none", "bullet"):
        return ""
    if n < 0 or n > _MAX_COUNTER:
        return str(n)
    if n == 0 and fmt in _NO_ZERO:
        return "0"
    fn = _FORMATS.get(fmt)
    if fn is None:
        log.debug("number format %r not rendered; decimal used", fmt)
        return str(n)
    return fn(n)


# ---------------------------------------------------------------- styles and numbering


@dataclass
class _Style:
    based_on: str | None = None
    num_id: str | None = None
    ilvl: int | None = None
    outline: int | None = None  # w:outlineLvl of its pPr (0-8 a heading level, 9 body text)
    heading: int | None = None  # N of a built-in "heading N" / 标题 N, by name or id


# Built-in heading styles by name ("heading 1"; "标题 1" where a Chinese Word or WPS wrote the display
# name) or by id ("Heading1", "标题1"; a Chinese Word's ids are often just "1", not taken: too loose).
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.I)


class _Styles:
    """Paragraph styles as far as numbering and outline levels need them: numPr, outlineLvl, basedOn."""

    def __init__(self, root: etree._Element | None):
        self.by_id: dict[str, _Style] = {}
        self.default: str | None = None
        if root is None:
            return
        for st in root.iter(_w("style")):
            sid = st.get(_w("styleId"))
            if not sid or st.get(_w("type"), "paragraph") not in ("paragraph", "numbering"):
                continue
            s = _Style()
            based = st.find(_w("basedOn"))
            s.based_on = based.get(W_VAL) if based is not None else None
            num_pr = st.find(f"{W_PPR}/{_w('numPr')}")
            if num_pr is not None:
                nid, lvl = num_pr.find(_w("numId")), num_pr.find(_w("ilvl"))
                s.num_id = nid.get(W_VAL) if nid is not None else None
                s.ilvl = _int(lvl.get(W_VAL)) if lvl is not None else None
            s.outline = _int(_val(st.find(f"{W_PPR}/{_w('outlineLvl')}")))
            name = _val(st.find(_w("name"))) or ""
            m = _HEADING_STYLE.match(name.strip()) or _HEADING_STYLE.match(sid)
            s.heading = int(m.group(1)) if m else None
            self.by_id[sid] = s
            is_default = (st.get(_w("default")) or "").lower() in ("1", "true", "on")
            if is_default and st.get(_w("type")) == "paragraph" and self.default is None:
                self.default = sid

    def chain(self, style_id: str | None) -> Iterator[_Style]:
        """The style and those it is based on (basedOn), nearest first; loops and unknown ids end it."""
        seen: set[str] = set()
        while style_id and style_id not in seen and len(seen) < 50:
            seen.add(style_id)
            s = self.by_id.get(style_id)
            if s is None:
                return
            yield s
            style_id = s.based_on

    def num_pr(self, style_id: str | None) -> tuple[str | None, int | None]:
        """(numId, ilvl) a style gives, following basedOn; each found independently, nearest first."""
        num_id: str | None = None
        ilvl: int | None = None
        for s in self.chain(style_id):
            num_id = num_id if num_id is not None else s.num_id
            ilvl = ilvl if ilvl is not None else s.ilvl
        return num_id, ilvl

    def heading_level(self, style_id: str | None) -> int | None:
        """Heading level 1-9 a style gives, following basedOn: the nearest outlineLvl, else a built-in
        heading's number; None for body text."""
        for s in self.chain(style_id):
            if s.outline is not None:
                return s.outline + 1 if 0 <= s.outline <= 8 else None
            if s.heading is not None:
                return s.heading
        return None


@dataclass
class _Level:
    start: int = 0
    fmt: str = "decimal"
    text: str = ""
    restart: int | None = None  # lvlRestart; None: after any higher level, 0: never
    is_lgl: bool = False
    suff: str = "tab"
    pstyle: str | None = None
    hidden: bool = False


def _level(el: etree._Element) -> _Level:
    lv = _Level()
    children = list(el)
    # A Word 2010 custom format sits in mc:AlternateContent: read the Fallback's standard numFmt.
    for alt in el.findall(MC_ALT):
        fb = alt.find(MC_FALLBACK)
        children.extend(fb if fb is not None else ())
    for child in children:
        tag, val = child.tag, child.get(W_VAL)
        if tag == _w("start"):
            lv.start = max(0, _int(val, 0) or 0)
        elif tag == _w("numFmt") and val and val != "custom":
            lv.fmt = val
        elif tag == _w("lvlText"):
            lv.text = val or ""
        elif tag == _w("lvlRestart"):
            lv.restart = _int(val)
        elif tag == _w("isLgl"):
            lv.is_lgl = _on(child)
        elif tag == _w("suff"):
            lv.suff = val or "tab"
        elif tag == _w("pStyle"):
            lv.pstyle = val
        elif tag == W_RPR:
            lv.hidden = _on(child.find(_w("vanish")))
    return lv


@dataclass
class _Num:
    abstract: str
    overrides: dict[int, tuple[int | None, _Level | None]] = field(default_factory=dict)


class _Numbering:
    """numbering.xml rendered as Word renders it, counting paragraphs in document order."""

    def __init__(self, root: etree._Element | None, styles: _Styles):
        self.styles = styles
        self.abstracts: dict[str, dict[int, _Level]] = {}
        self.style_link: dict[str, str] = {}  # abstractNumId -> numbering style it takes its levels from
        self.nums: dict[str, _Num] = {}
        self.counters: dict[str, list[int | None]] = {}
        self.used: set[str] = set()
        if root is None:
            return
        for an in root.iter(_w("abstractNum")):
            aid = an.get(_w("abstractNumId"))
            if aid is None:
                continue
            levels: dict[int, _Level] = {}
            for lv in an.findall(_w("lvl")):
                i = _int(lv.get(_w("ilvl")))
                if i is not None and 0 <= i <= 8:
                    levels[i] = _level(lv)
            self.abstracts[aid] = levels
            link = an.find(_w("numStyleLink"))
            if link is not None and link.get(W_VAL):
                self.style_link[aid] = link.get(W_VAL)
        for num in root.iter(_w("num")):
            nid, an = num.get(_w("numId")), num.find(_w("abstractNumId"))
            if nid is None or an is None or an.get(W_VAL) is None:
                continue
            n = _Num(an.get(W_VAL))
            for ov in num.findall(_w("lvlOverride")):
                i = _int(ov.get(_w("ilvl")))
                if i is None or not 0 <= i <= 8:
                    continue
                so, lv = ov.find(_w("startOverride")), ov.find(_w("lvl"))
                n.overrides[i] = (
                    _int(so.get(W_VAL)) if so is not None else None,
                    _level(lv) if lv is not None else None,
                )
            self.nums[nid] = n

    def _abstract_id(self, num_id: str) -> str | None:
        """The abstractNum that holds the levels, through numStyleLink (list styles)."""
        num = self.nums.get(num_id)
        aid = num.abstract if num else None
        for _ in range(5):
            if aid not in self.style_link:
                break
            linked_num, _ilvl = self.styles.num_pr(self.style_link[aid])
            linked = self.nums.get(linked_num or "")
            if linked is None or linked.abstract == aid:
                break
            aid = linked.abstract
        return aid

    def _lvl(self, num: _Num, levels: dict[int, _Level], i: int) -> _Level | None:
        ov = num.overrides.get(i)
        if ov is not None and ov[1] is not None:
            return ov[1]
        return levels.get(i)

    def _start(self, num: _Num, levels: dict[int, _Level], i: int) -> int:
        ov = num.overrides.get(i)
        if ov is not None and ov[0] is not None:
            return max(0, ov[0])
        lv = self._lvl(num, levels, i)
        return lv.start if lv else 1

    def label(self, num_id: str | None, ilvl: int | None, style_id: str | None) -> tuple[str, str] | None:
        """(label, suff) of the next paragraph in this list, advancing the counters; None: not numbered."""
        if num_id is None or num_id == "0" or num_id not in self.nums:
            return None
        num = self.nums[num_id]
        aid = self._abstract_id(num_id)
        if aid is None:
            return None
        levels = self.abstracts.get(aid, {})
        if ilvl is None:
            ilvl = next((i for i, lv in levels.items() if style_id and lv.pstyle == style_id), 0)
        ilvl = min(max(ilvl, 0), 8)
        lvl = self._lvl(num, levels, ilvl)
        if lvl is None:
            return None
        counts = self.counters.setdefault(aid, [None] * 9)
        if num_id not in self.used:  # a num's overrides restart their levels where the num is first used
            self.used.add(num_id)
            for i in num.overrides:
                counts[i] = None
        current = counts[ilvl]
        counts[ilvl] = self._start(num, levels, ilvl) if current is None else current + 1
        for deeper in range(ilvl + 1, 9):
            d = self._lvl(num, levels, deeper)
            restart = d.restart if d else None
            if restart is None or (restart != 0 and ilvl < restart):
                counts[deeper] = None
        if lvl.fmt == "bullet" or lvl.hidden:
            return "", lvl.suff

        def value(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            if k > ilvl:
                return ""
            lv = self._lvl(num, levels, k)
            n = counts[k]
            n = self._start(num, levels, k) if n is None else n
            fmt = lv.fmt if lv else "decimal"
            if lvl.is_lgl and fmt != "none":
                fmt = "decimal"
            return format_number(n, fmt)

        return re.sub(r"%([1-9])", value, lvl.text), lvl.suff


# ---------------------------------------------------------------- text helpers


def _grid_skip(trpr: etree._Element | None, name: str) -> int:
    """w:gridBefore / w:gridAfter of a row: grid columns left empty (capped against hostile values)."""
    el = trpr.find(_w(name)) if trpr is not None else None
    return min(max(_int(el.get(W_VAL), 0) or 0, 0), 64) if el is not None else 0


def _is_cjk(ch: str) -> bool:
    """Any East Asian character, letters and punctuation alike."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or o >= 0x20000
    )


def _is_cjk_letter(ch: str) -> bool:
    """A CJK character that is not punctuation: ideographs, kana, hangul, full-width letters and digits."""
    o = ord(ch)
    return (
        o == 0x3007
        or 0x3040 <= o <= 0x30FF
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3FFFF
        or (0xFF00 <= o <= 0xFFEF and ch.isalnum())
    )


def _label_sep(label: str, suff: str, text: str) -> str:
    """What stands between a list label and its text: what a typist would have typed (module docstring)."""
    if suff == "nothing" or not label or not text or text[0].isspace():
        return ""
    last = label[-1]
    if _is_cjk_letter(last):
        return "\u3000"
    if last.isascii() and last.isalnum():
        return " "
    return ""


_CONTROL = {c: " " for c in range(32)}  # TAB and newline carry meaning in our lines; w:t never should
_NEW_ITEM = re.compile(
    rf"[\s\u3000]*(?:第[{CN_NUMERALS}\d]+(?:编|章|节|条|部分|篇)"
    rf"|[{CN_ONE_TO_TEN}]{{1,3}}[、．.]|[（(][{CN_ONE_TO_TEN}\d]{{1,3}}[）)]"
    r"|\d{1,3}(?:[、．.](?!\d)|[）)])|[①-⑳])"
)
_ENDS_SENTENCE = re.compile(r"[。；;！!？?：:][”’」』）)]*[\s\u3000]*$")
_BREAK = "\n"


def _resolve_breaks(s: str) -> str:
    """Soft line breaks: a newline where the break ends a sentence or starts a numbered item, else joined."""
    if _BREAK not in s:
        return s
    pieces = re.split(r"\n+", s)
    out = pieces[0]
    for nxt in pieces[1:]:
        if not out.strip() or not nxt.strip():
            out += nxt
        elif _ENDS_SENTENCE.search(out) or _NEW_ITEM.match(nxt):
            out += "\n" + nxt
        elif out[-1].isspace() or nxt[0].isspace() or _is_cjk(out[-1]) or _is_cjk(nxt[0]):
            out += nxt
        else:
            out += " " + nxt
    return out


# ---------------------------------------------------------------- the document walker


def _sdt_skipped(pr: etree._Element | None) -> bool:
    """A content control left out: one showing its placeholder text, or a table of contents."""
    if pr is None:
        return False
    gallery = pr.find(f"{_w('docPartObj')}/{_w('docPartGallery')}")
    toc = gallery is not None and (gallery.get(W_VAL) or "").lower() == "table of contents"
    return toc or _on(pr.find(_w("showingPlcHdr")))


@dataclass
class _Field:
    instr: list[str] = field(default_factory=list)
    separated: bool = False
    hide: bool = False  # a TOC: its result is left out


@dataclass
class _Para:
    parts: list[str] = field(default_factory=list)
    boxes: list[str] = field(default_factory=list)  # lines of the text boxes it anchors
    notes: list[str] = field(default_factory=list)  # "[注N] text" lines of the notes it cites
    field_hidden: bool = False  # some of its content was hidden by a field (a TOC's result, an instruction)
    level: int | None = None  # its outline level 1-9 when it is a heading (heading style or w:outlineLvl)


class _Doc:
    """Walks one document's stories (body, text boxes, notes) into lines."""

    def __init__(self, pkg: _Package, main: str):
        rels = pkg.rels(main)
        self.styles = _Styles(pkg.xml(rels.get("styles", "word/styles.xml")))
        self.numbering = _Numbering(pkg.xml(rels.get("numbering", "word/numbering.xml")), self.styles)
        self.footnotes = self._notes(pkg.xml(rels.get("footnotes", "word/footnotes.xml")), "footnote")
        self.endnotes = self._notes(pkg.xml(rels.get("endnotes", "word/endnotes.xml")), "endnote")
        self.fields: list[_Field] = []
        self.note_count = {"注": 0, "尾注": 0}
        self.active_notes: set[tuple[str, str]] = set()
        self.remarks: list[str] = []

    @staticmethod
    def _notes(root: etree._Element | None, tag: str) -> dict[str, etree._Element]:
        if root is None:
            return {}
        return {
            n.get(_w("id"), ""): n
            for n in root.iter(_w(tag))
            if n.get(_w("type"), "normal") == "normal"
        }

    # ---- containers

    def _branch(self, alt: etree._Element) -> etree._Element | None:
        """The one branch of an mc:AlternateContent read: the first Choice, else the Fallback."""
        choice = alt.find(MC_CHOICE)
        return choice if choice is not None else alt.find(MC_FALLBACK)

    def _flat(self, parent: etree._Element) -> Iterator[etree._Element]:
        """Children of a block container, looking through content controls, custom XML and alternates."""
        for el in parent:
            tag = el.tag
            if tag == W_SDT:
                content = el.find(W_SDTCONTENT)
                if content is not None and not _sdt_skipped(el.find(W_SDTPR)):
                    yield from self._flat(content)
            elif tag in (W_CUSTOMXML, W_INS, W_MOVETO):
                yield from self._flat(el)
            elif tag == MC_ALT:
                branch = self._branch(el)
                if branch is not None:
                    yield from self._flat(branch)
            elif tag == _w("altChunk"):
                self.remarks.append("imported content (w:altChunk) not read")
            elif tag not in _SKIP:
                yield el

    def _story(self, fn: Callable[[], list[str]]) -> list[str]:
        """Run `fn` with its own field state: a text box or note is a story of its own."""
        saved, self.fields = self.fields, []
        try:
            return fn()
        finally:
            self.fields = saved

    # ---- blocks

    def blocks(
        self, parent: etree._Element, cell_notes: list[str] | None = None, outline: list[tuple[int, int]] | None = None
    ) -> list[str]:
        """Lines of a block container; note lines go after their paragraph, or into `cell_notes`;
        (line index, level) of each heading paragraph appended to `outline` when given."""
        lines: list[str] = []
        note_lines = cell_notes if cell_notes is not None else lines
        carry, carry_notes = "", []  # a paragraph whose mark is deleted joins the next one, its notes after it
        for el in self._flat(parent):
            if el.tag == W_P:
                para, line, merged = self._paragraph(el, carry)
                lines.extend(para.boxes)
                notes = carry_notes + para.notes
                if merged:
                    carry, carry_notes = line or "", notes
                    continue
                carry, carry_notes = "", []
                if line is not None:
                    if outline is not None and para.level is not None:
                        outline.append((len(lines), para.level))
                    lines.append(line)
                note_lines.extend(notes)
            elif el.tag == W_TBL:
                if carry:
                    lines.append(carry)
                note_lines.extend(carry_notes)
                carry, carry_notes = "", []
                lines.extend(self._table(el, cell_notes))
        if carry:
            lines.append(carry)
        note_lines.extend(carry_notes)
        return lines

    def _paragraph(self, p: etree._Element, prefix: str = "") -> tuple[_Para, str | None, bool]:
        """(boxes and notes, the line or None when Word shows nothing, mark deleted)."""
        ppr = p.find(W_PPR)
        para = _Para(field_hidden=self._field_hidden(), level=self._level(ppr))
        self._inline(p, para)
        text = prefix + _resolve_breaks("".join(para.parts))
        mark = ppr.find(W_RPR) if ppr is not None else None
        if mark is not None and mark.find(W_DEL) is not None:
            return para, text, True
        mark_hidden = mark is not None and _on(mark.find(_w("vanish")))
        if not text.strip() and (para.field_hidden or mark_hidden):
            return para, None, False
        label = self._label(ppr, mark_hidden)
        if label is None:
            return para, text, False
        lab, suff = label
        return para, lab + _label_sep(lab, suff, text) + text, False

    def _level(self, ppr: etree._Element | None) -> int | None:
        """Outline level 1-9 of a paragraph: w:outlineLvl set on it, else its style's (`_Styles.heading_level`)."""
        direct = _int(_val(ppr.find(_w("outlineLvl")))) if ppr is not None else None
        if direct is not None:
            return direct + 1 if 0 <= direct <= 8 else None
        style_id = _val(ppr.find(_w("pStyle"))) if ppr is not None else None
        return self.styles.heading_level(style_id or self.styles.default)

    def _label(self, ppr: etree._Element | None, hidden: bool) -> tuple[str, str] | None:
        style_el = ppr.find(_w("pStyle")) if ppr is not None else None
        style_id = style_el.get(W_VAL) if style_el is not None else self.styles.default
        num_id, ilvl = self.styles.num_pr(style_id)
        num_pr = ppr.find(_w("numPr")) if ppr is not None else None
        if num_pr is not None:
            nid, lvl = num_pr.find(_w("numId")), num_pr.find(_w("ilvl"))
            if nid is not None:
                num_id = nid.get(W_VAL)
            if lvl is not None:
                ilvl = _int(lvl.get(W_VAL), ilvl)
        label = self.numbering.label(num_id, ilvl, style_id)
        if label is not None and hidden:
            return "", label[1]
        return label

    def _table(self, tbl: etree._Element, cell_notes: list[str] | None) -> list[str]:
        """The table in the row model (`table.table_lines`); a single-column table: its content as paragraphs."""
        notes: list[str] = cell_notes if cell_notes is not None else []
        rows: list[list[etree._Element]] = []
        befores: list[tuple[int, int]] = []
        for tr in self._flat(tbl):
            if tr.tag != W_TR:
                continue
            trpr = tr.find(W_TRPR)
            if trpr is not None and trpr.find(W_DEL) is not None:
                continue
            cells = [
                tc
                for tc in self._flat(tr)
                if tc.tag == W_TC and (tc.find(W_TCPR) is None or tc.find(f"{W_TCPR}/{_w('cellDel')}") is None)
            ]
            befores.append((_grid_skip(trpr, "gridBefore"), _grid_skip(trpr, "gridAfter")))
            rows.append(cells)
        out: list[str] = []
        if all(len(cells) <= 1 for cells in rows):  # a frame around text
            for cells in rows:
                for tc in cells:
                    out.extend(self.blocks(tc, cell_notes))
            return out
        grid: list[list[Cell]] = []
        for cells, (before, after) in zip(rows, befores):
            row = [Cell()] * before
            for tc in cells:
                tcpr = tc.find(W_TCPR)
                span = 1
                up = left = False
                if tcpr is not None:
                    gs = tcpr.find(_w("gridSpan"))
                    span = min(max(_int(gs.get(W_VAL), 1) or 1, 1), 64) if gs is not None else 1
                    vm, hm = tcpr.find(_w("vMerge")), tcpr.find(_w("hMerge"))
                    up = vm is not None and vm.get(W_VAL, "continue") == "continue"
                    left = hm is not None and hm.get(W_VAL, "continue") == "continue"
                text = "" if up or left else self._cell_text(tc, notes)
                row.extend([Cell(text, up, left)] + [Cell("", up, True)] * (span - 1))
            row.extend([Cell()] * after)
            grid.append(row)
        out.extend(table_lines(grid, header=False if cell_notes is not None else None))  # nested: plain
        if cell_notes is None:
            out.extend(notes)
        return out

    def _cell_text(self, tc: etree._Element, notes: list[str]) -> str:
        lines = self.blocks(tc, notes)
        return " ".join(s for s in (ln.replace("\t", " ").replace("\n", " ").strip() for ln in lines) if s)

    # ---- inline content

    def _field_hidden(self) -> bool:
        return any(not f.separated or f.hide for f in self.fields)

    def _inline(self, el: etree._Element, para: _Para) -> None:
        for child in el:
            tag = child.tag
            if tag == W_R:
                self._run(child, para)
            elif tag in _INLINE_THROUGH:
                self._inline(child, para)
            elif tag == _w("fldSimple"):
                if (child.get(_w("instr")) or "").strip().upper().startswith("TOC"):
                    para.field_hidden = True
                else:
                    self._inline(child, para)
            elif tag == W_SDT:
                content = child.find(W_SDTCONTENT)
                if content is not None and not _sdt_skipped(child.find(W_SDTPR)):
                    self._inline(content, para)
            elif tag == MC_ALT:
                branch = self._branch(child)
                if branch is not None:
                    self._inline(branch, para)
            elif tag in (M_OMATH, M_OMATHPARA):
                if not self._field_hidden():
                    para.parts.append("".join(t.text or "" for t in child.iter(M_T)).translate(_CONTROL))

    def _run(self, r: etree._Element, para: _Para) -> None:
        rpr = r.find(W_RPR)
        hidden = rpr is not None and _on(rpr.find(_w("vanish")))
        caps = rpr is not None and (_on(rpr.find(_w("caps"))) or _on(rpr.find(_w("smallCaps"))))
        for c in r:
            tag = c.tag
            if tag == _w("fldChar"):
                kind = c.get(_w("fldCharType"))
                if kind == "begin":
                    self.fields.append(_Field())
                elif kind == "separate" and self.fields:
                    f = self.fields[-1]
                    f.separated = True
                    f.hide = "".join(f.instr).strip().upper().startswith("TOC")
                elif kind == "end" and self.fields:
                    self.fields.pop()
                continue
            if tag == _w("instrText"):
                if self.fields and not self.fields[-1].separated:
                    self.fields[-1].instr.append(c.text or "")
                continue
            if self._field_hidden():
                para.field_hidden = True
                continue
            if hidden:
                continue
            if tag == W_T:
                text = (c.text or "").translate(_CONTROL)
                para.parts.append(text.upper() if caps else text)
            elif tag in (_w("tab"), _w("ptab")):
                para.parts.append(" ")
            elif tag in (_w("br"), _w("cr")):
                para.parts.append(_BREAK)
            elif tag == _w("noBreakHyphen"):
                para.parts.append("-")
            elif tag == _w("footnoteReference"):
                self._note_ref(c, para, "注", self.footnotes)
            elif tag == _w("endnoteReference"):
                self._note_ref(c, para, "尾注", self.endnotes)
            elif tag in (_w("drawing"), _w("pict"), _w("object"), MC_ALT):
                for box in self._textboxes(c if tag != MC_ALT else self._branch(c)):
                    para.boxes.extend(self._story(lambda box=box: self.blocks(box)))
            elif tag == _w("ruby"):
                base = c.find(_w("rubyBase"))
                if base is not None:
                    self._inline(base, para)

    def _note_ref(self, ref: etree._Element, para: _Para, mark: str, notes: dict[str, etree._Element]) -> None:
        self.note_count[mark] += 1
        n = self.note_count[mark]
        para.parts.append(f"[{mark}{n}]")
        nid = ref.get(_w("id"), "")
        note = notes.get(nid)
        key = (mark, nid)
        text = ""
        if note is not None and key not in self.active_notes:
            self.active_notes.add(key)
            try:
                lines = self._story(lambda: self.blocks(note))
            finally:
                self.active_notes.discard(key)
            text = " ".join(s for s in (ln.replace("\t", " ").replace("\n", " ").strip() for ln in lines) if s)
        para.notes.append(f"[{mark}{n}] {text}".rstrip())

    def _textboxes(self, el: etree._Element | None) -> Iterator[etree._Element]:
        """The outermost w:txbxContent under `el`, one branch of each mc:AlternateContent."""
        for child in el if el is not None else ():
            if child.tag == W_TXBX:
                yield child
            elif child.tag == MC_ALT:
                branch = self._branch(child)
                if branch is not None:
                    yield from self._textboxes(branch)
            elif isinstance(child.tag, str):
                yield from self._textboxes(child)


# ---------------------------------------------------------------- entry points


def sniff(data: bytes) -> bool:
    return zip_has(data, "word/document.xml")


def _title(pkg: _Package, rels: dict[str, str]) -> str | None:
    core = pkg.xml(rels.get("core-properties", "docProps/core.xml"))
    if core is None:
        return None
    el = core.find(f"{{{_DC}}}title")
    title = (el.text or "").strip() if el is not None else ""
    return title or None


def read_docx(path: Path, data: bytes) -> Extracted:
    """The .docx's text as Word displays it (see the module docstring), and its stated title.

    Raises:
        ValueError: not a .docx package, a part is malformed, too large, or carries a DTD.
    """
    pkg = _Package(data)
    rels = pkg.rels("")
    main = rels.get("officeDocument", "word/document.xml")
    root = pkg.xml(main)
    if root is None:
        raise ValueError(f"{path.name}: no main document part ({main}) in the package")
    body = root.find(_w("body"))
    if body is None:
        raise ValueError(f"{path.name}: the main document part has no w:body")
    doc = _Doc(pkg, main)
    headings: list[tuple[int, int]] = []
    try:
        lines = doc.blocks(body, outline=headings)
    except RecursionError as e:
        raise ValueError(f"{path.name}: document nesting too deep") from e
    notes = tuple(dict.fromkeys(doc.remarks))
    starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
    outline = tuple((starts[i], level) for i, level in headings)
    return Extracted("\n".join(lines), _title(pkg, rels), notes=notes, outline=outline)
