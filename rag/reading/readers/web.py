"""Web pages saved from government sites: the document's body as lines, its 信息公开 box as metadata.

Text: block-level elements (p, div, li, h1-h6, tr, section, ...) and <br> end lines; inline
elements (span, a, strong, font, ...) never do. Whitespace inside a block collapses as a
browser shows it: a run of spaces/newlines becomes one space, except that a run holding a
line break between two wide (CJK) characters disappears; indentation (&nbsp;, U+3000) at the
start of a line is dropped. A data table becomes one line per row, cells joined by TAB;
a layout table (nested tables, one cell per row) is just blocks.

Main content, by general rules measured on gov.cn-style pages (see tests/webgen.py):
1. drop what is never text (script, style, form controls, hidden elements);
2. the metadata box (索引号/发文机关/成文日期/发文字号/...) -> `Extracted.meta`, then dropped;
3. drop chrome: nav/aside/footer (and page-level header) elements, elements whose class/id
   name a nav bar, menu, footer, share/print toolbar, breadcrumb, related-links block...;
   blocks headed 相关链接/相关文件/...; blocks that are mostly links (not attachments);
   an element holding half of the page's text, or its longest paragraph, is never dropped;
4. the content container is the element scoring highest on the non-link text of the
   paragraphs under it (parent gets a paragraph's text in full, each branching level above
   half as much); link text counts for nothing, so a short notice wins over long link
   sidebars, and deeply wrapped paragraphs (editor <section>s) still add up;
5. text = the title line (the <h1>, or the element showing the title) when it stands before
   the container, the container's lines, then attachment blocks (附件..., file links) that
   follow it; toolbar lines (字号【大 中 小】, 打印本页 关闭窗口, 分享到) are dropped.

Safety: lxml's HTML parser (libxml2, C, caps nesting depth), no network ever (nothing is
fetched, images and links are only text), every walk iterative, any parse error -> no text.
"""

from __future__ import annotations

import codecs
import copy
import logging
import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from .base import Extracted
from .plain import decode_bytes, is_gb_family
from .table import Cell, table_lines

logger = logging.getLogger(__name__)

NEEDS = "lxml"

# ---------------------------------------------------------------- tags

BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav ol p pre section summary "
    "table tbody td tfoot th thead tr ul".split()
)
SKIP_TAGS = frozenset(
    "script style noscript template iframe frame frameset object embed applet svg math canvas select option "
    "optgroup datalist button input textarea map area audio video source track head title meta link base "
    "param".split()
)
_CELL_TAGS = ("td", "th")

# ---------------------------------------------------------------- chrome rules

_CHROME_TAGS = frozenset({"nav", "aside", "footer", "header", "form"})
_CHROME_PART = re.compile(
    r"(?:top|sub|main|site|page|left|right|foot|global)?"
    r"(?:nav|navbar|navi|navigation|menu|menus|footer|foot|share|sharebox|bdshare|toolbar|tool|tools|related|"
    r"relevant|breadcrumb|breadcrumbs|crumb|crumbs|bread|link|links|friendlink|flink|copyright|banquan|dqwz|"
    r"sidebar|side|fontsize|zihao|login|search|qrcode|ewm|erweima|bottom|sitemap|advert|ads|logo)\d*",
)
_SPLIT_NAME = re.compile(r"[-_\s]+|(?<=[a-z])(?=[A-Z])")
_RELATED_HEADS = frozenset(
    "相关链接 相关文件 相关阅读 相关新闻 相关解读 相关信息 相关稿件 相关政策 相关推荐 相关文章 延伸阅读 推荐阅读 "
    "相关专题 友情链接 热点专题 热门文章".split()
)
_RELATED_FIRST = frozenset(h[0] for h in _RELATED_HEADS)
_TOOL_WORDS = re.compile(
    r"扫一扫在手机打开当前页|在手机打开当前页|手机扫一扫|扫一扫|字号|字体|打印本页|打印|关闭窗口|关闭本页|关闭|分享到|分享|"
    r"收藏本页|加入收藏|收藏|我要纠错|纠错|返回顶部|保存本页|默认|微信|微博|QQ空间|[大中小]"
)
_TOOL_HINT = re.compile(r"[字打关分收纠返扫大中小默保微相延推友热]")
_TOOL_MAIN = re.compile(r"字号|字体|打印|关闭|分享|收藏|纠错|扫一扫|返回顶部")
_TOOL_PUNCT = re.compile(r"[\s【】\[\]()（）<>:：|｜/·,，、.。]+")
_ATTACHMENT_HEAD = re.compile(r"^[【\[(（]?(?:相关|下载)?附件")
_FILE_LINK = re.compile(r"\.(?:docx?|xlsx?|wps|et|pdf|ofd|zip|rar|7z|txt|pptx?|ceb)(?:$|[?#])", re.I)
_SENTENCE_END = re.compile(r"[。；！？]")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

# ---------------------------------------------------------------- metadata labels

_LABELS: dict[str, tuple[str, ...]] = {
    "index_no": ("索引号",),
    "topic": ("主题分类", "信息分类", "组配分类", "分类"),
    "issuer": ("发文机关", "发布机构", "发文单位", "发布单位", "制发机关", "成文机关"),
    "written": ("成文日期", "发文日期", "签发日期", "印发日期", "生成日期"),
    "doc_number": ("发文字号", "文号", "发文号"),
    "published": ("发布日期", "发布时间", "公开日期", "公开时间", "时间"),
    "title": ("标题", "名称", "文件名称", "公文名称", "信息名称"),
    "validity": ("有效性", "时效性"),
}
_LABEL_KEY = {label: key for key, labels in _LABELS.items() for label in labels}
_GAP = r"[\s\u3000\u00a0]*"
_LABEL_ALT = "|".join(_GAP.join(re.escape(ch) for ch in label) for label in sorted(_LABEL_KEY, key=len, reverse=True))
_LABEL_ONLY = re.compile(rf"^({_LABEL_ALT}){_GAP}[:：]?{_GAP}$")
_LABEL_COLON = re.compile(rf"({_LABEL_ALT}){_GAP}[:：]")
_LABEL_ANY = re.compile(rf"({_LABEL_ALT})")
_OTHER_LABEL = re.compile(r"[\s\u3000\u00a0]+[^\s:：]{1,6}[:：]")
_DATE = re.compile(r"((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_MIN_BOX_LABELS = 3
_MAX_BOX_CHARS = 2000
_BOX_CLIMB = 8

# ---------------------------------------------------------------- text

_BREAK_RUN = re.compile(r"[ \t\f]*[\n\r][ \t\n\r\f]*")  # whitespace holding a line break
_SPACE_RUN = re.compile(r"[ \t\f]{2,}|[\t\f]")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_INDENT = " \u3000\u00a0\t"
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_SITE_SEP = re.compile(r"\s*(?:[_|｜]|\s[-－—–]\s|[-－–])\s*")
_SITE_END = re.compile(
    r"(网|网站|门户|政府|局|厅|委|办|办公室|委员会|中心|部|院|署|平台|首页|频道|栏目|专栏|公开|文件|文件库|公告|政策|动态|"
    r"新闻|资讯|要闻|法规|解读|gov\.cn|GOV\.CN|com|cn)$"
)
_MAX_CLIMB = 64
_INFO_LINES = 400  # page lines (from the top) searched for 发布时间-style info lines


def sniff(data: bytes) -> bool:
    """True when the bytes open like an HTML document."""
    h = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if h.startswith((b"<!doctype html", b"<html", b"<head")):
        return True
    return h.startswith((b"<!--", b"<?xml")) and b"<html" in h


# ---------------------------------------------------------------- decoding


def _declared_charset(data: bytes) -> str | None:
    """The charset a <meta> tag declares, normalised (GB2312/GBK -> GB18030), or None."""
    m = _CHARSET.search(data[:4096])
    if not m:
        return None
    name = m.group(1).decode("ascii", "ignore").lower()
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return None
    if is_gb_family(name):
        return "gb18030"
    return name


def decode_html(data: bytes) -> tuple[str, str]:
    """Decode a page: BOM, strict UTF-8, the declared charset, detection; never raises.

    Broken bytes in a page that declares its charset are replaced (U+FFFD) when they are
    few; bytes no encoding fits are decoded as UTF-8 with replacements.
    """
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        try:
            return decode_bytes(data)
        except (ValueError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(data)
    if declared:
        try:
            return data.decode(declared), declared
        except (UnicodeDecodeError, LookupError):
            pass
        text = data.decode(declared, errors="replace")
        if text.count("\ufffd") <= max(3, len(text) // 200):
            return text, declared
    try:
        return decode_bytes(data)
    except (ValueError, UnicodeDecodeError):
        return data.decode("utf-8", errors="replace"), "utf-8"


# ---------------------------------------------------------------- small helpers


def _tag(el) -> str:
    """Tag name (libxml2 lower-cases HTML names); "" for comments and processing instructions."""
    tag = el.tag
    return tag if isinstance(tag, str) else ""


def _text(el) -> str:
    """All text inside the element (not its tail)."""
    return "".join(el.itertext())


def _wide(ch: str) -> bool:
    """A character after which a browser joins a line break without a space (CJK and its punctuation)."""
    return unicodedata.east_asian_width(ch) in ("W", "F", "A")


def render(raw: str) -> str:
    """One line's text as a browser shows it: whitespace collapsed, indentation dropped."""
    raw = _ZERO_WIDTH.sub("", raw)

    def collapse(m: re.Match[str]) -> str:
        i, j = m.start(), m.end()
        return "" if 0 < i and j < len(raw) and _wide(raw[i - 1]) and _wide(raw[j]) else " "

    if "\n" in raw or "\r" in raw:
        raw = _BREAK_RUN.sub(collapse, raw)
    return _SPACE_RUN.sub(" ", raw).strip(_INDENT)


def _alpha(s: str | None) -> int:
    """Letters in `s` (CJK counts, digits and punctuation do not): the measure of text mass."""
    return sum(map(str.isalpha, s)) if s else 0


def _is_hidden(el) -> bool:
    return el.get("hidden") is not None or bool(_HIDDEN_STYLE.search(el.get("style") or ""))


def _chrome_name(el) -> bool:
    """True when the element's class or id names site chrome (nav bar, footer, share bar, ...)."""
    names = f"{el.get('class') or ''} {el.get('id') or ''}"
    return any(_CHROME_PART.fullmatch(part.lower()) for part in _SPLIT_NAME.split(names) if part)


def _drop(el) -> None:
    """Remove an element and its content, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _is_data_table(table) -> bool:
    """A table of data (rows and columns), not a page-layout grid."""
    if table.get("role") == "presentation" or next(table.iterdescendants("table"), None) is not None:
        return False
    widest = 0
    for tr in table.iter("tr"):
        cells = [c for c in tr if _tag(c) in _CELL_TAGS]
        widest = max(widest, len(cells))
        if any(len(_text(c)) > 1000 for c in cells):
            return False
    return widest >= 2


# ---------------------------------------------------------------- serialising


class _Lines:
    """Collects inline text into lines; a block boundary or <br> ends the current line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._buf: list[str] = []

    def add(self, text: str | None) -> None:
        if text:
            self._buf.append(text)

    def end(self) -> None:
        if self._buf:
            raw = "".join(self._buf)
            self._buf.clear()
            line = "" if raw.isspace() else render(raw)
            if line:
                self.lines.append(line)


_OPEN, _CLOSE_BLOCK, _TAIL = 0, 1, 2


def block_lines(root, tables: bool = True, limit: int | None = None, labels: bool = False) -> list[str]:
    """Lines of `root`'s content (not its tail), the first `limit` of them when given.

    tables=False reads every table as layout (each cell its own block); labels=True puts
    an inline element that holds only a metadata label (<span>索引号</span>) on a line of
    its own, so the value after it is one too. Hidden elements are expected to be gone
    already (`read_html` drops them first).
    """
    if _tag(root) == "pre":
        return [ln.rstrip() for ln in _text(root).splitlines() if ln.strip()]
    out = _Lines()
    out.add(root.text)
    stack: list[tuple[int, object]] = [(_OPEN, child) for child in reversed(root)]
    while stack:
        if limit is not None and len(out.lines) >= limit:
            break
        step, el = stack.pop()
        if step == _CLOSE_BLOCK:
            out.end()
            out.add(el.tail)
            continue
        if step == _TAIL:
            out.add(el.tail)
            continue
        tag = _tag(el)
        if not tag or tag in SKIP_TAGS:
            out.add(el.tail)
        elif tag == "br":
            out.end()
            out.add(el.tail)
        elif tag == "pre":
            out.end()
            out.lines.extend(ln.rstrip() for ln in _text(el).splitlines() if ln.strip())
            out.add(el.tail)
        elif tag == "table" and tables and _is_data_table(el):
            out.end()
            out.lines.extend(_table_lines(el))
            out.add(el.tail)
        else:
            block = tag in BLOCK_TAGS or (labels and _label_key(_text(el)) is not None)
            if block:
                out.end()
            out.add(el.text)
            stack.append((_CLOSE_BLOCK if block else _TAIL, el))
            stack.extend((_OPEN, child) for child in reversed(el))
    out.end()
    return out.lines


def _table_lines(table) -> list[str]:
    """A data table: its caption line, then its rows in the row model (`table.table_lines`), a cell
    spanning rows (rowspan) given to each row it covers, one spanning columns (colspan) once."""
    lines: list[str] = []
    for cap in table.iterchildren("caption"):
        lines.extend(block_lines(cap))
    grid: list[list[Cell]] = []
    below: dict[tuple[int, int], Cell] = {}  # positions a rowspan above covers
    for r, tr in enumerate(table.iter("tr")):
        row: list[Cell] = []
        for el in (c for c in tr if _tag(c) in _CELL_TAGS):
            while (r, len(row)) in below:
                row.append(below.pop((r, len(row))))
            rows, cols = _span(el.get("rowspan"), 1000), _span(el.get("colspan"), 64)
            for dr in range(1, rows):
                for dc in range(cols):
                    below[(r + dr, len(row) + dc)] = Cell("", up=True, left=dc > 0)
            row += [Cell(" ".join(block_lines(el)).replace("\t", " "))] + [Cell("", left=True)] * (cols - 1)
        for _, c in sorted(k for k in below if k[0] == r):
            row += [Cell()] * (c - len(row)) + [below.pop((r, c))]
        grid.append(row)
    return lines + table_lines(grid)


def _span(value: str | None, limit: int) -> int:
    """A rowspan/colspan attribute as a count from 1 to `limit` (missing, 0 or junk: 1)."""
    try:
        return min(max(int(value or 1), 1), limit)
    except ValueError:
        return 1


# ---------------------------------------------------------------- text mass per element


class _Mass:
    """Letters of text per element (own and subtree), split into link text and the rest."""

    def __init__(self, root) -> None:
        self.order: dict[object, int] = {}
        self.own: dict[object, int] = {}  # non-link letters directly in this block (inline children included)
        self.pieces: dict[object, int] = {}  # separate runs of own text (<br>-separated lines count apart)
        self.text: dict[object, int] = {}  # all letters in the subtree
        self.links: dict[object, int] = {}  # letters inside <a> in the subtree
        self.elements = [el for el in root.iter() if isinstance(el.tag, str)]
        in_link: dict[object, bool] = {}
        owner: dict[object, object] = {}
        own, pieces, text, links = self.own, self.pieces, self.text, self.links
        for i, el in enumerate(self.elements):
            self.order[el] = i
            parent = el.getparent()
            link = el.tag == "a" or in_link.get(parent, False)
            in_link[el] = link
            block = el if el.tag in BLOCK_TAGS or parent is None else owner.get(parent, el)
            owner[el] = block
            n = _alpha(el.text)
            if n:
                text[el] = text.get(el, 0) + n
                if link:
                    links[el] = links.get(el, 0) + n
                else:
                    own[block] = own.get(block, 0) + n
                    pieces[block] = pieces.get(block, 0) + 1
            n = _alpha(el.tail)
            if n and parent is not None:
                text[parent] = text.get(parent, 0) + n
                if in_link.get(parent, False):
                    links[parent] = links.get(parent, 0) + n
                else:
                    pblock = owner.get(parent, parent)
                    own[pblock] = own.get(pblock, 0) + n
                    pieces[pblock] = pieces.get(pblock, 0) + 1
        for el in reversed(self.elements):
            n, k = text.get(el, 0), links.get(el, 0)
            parent = el.getparent()
            if parent is not None and n:
                text[parent] = text.get(parent, 0) + n
                if k:
                    links[parent] = links.get(parent, 0) + k
        self.total = text.get(root, 0) - links.get(root, 0)
        biggest = max(own, key=own.__getitem__, default=None)  # the page's longest paragraph: body, nearly always
        self.core = {biggest, *biggest.iterancestors()} if biggest is not None else set()

    def plain(self, el) -> int:
        """Non-link letters in the subtree."""
        return self.text.get(el, 0) - self.links.get(el, 0)

    def protected(self, el) -> bool:
        """Holds half of the page's non-link text, or its longest paragraph: never dropped as chrome."""
        return el in self.core or (self.total > 0 and self.plain(el) * 2 >= self.total)


def _best_container(mass: _Mass, alive: set[object]):
    """The element whose paragraphs carry the most non-link text (ties: the deeper one).

    Only `alive` elements (still in the tree) count: `mass` was measured before chrome was dropped.
    """
    own = {el: n for el, n in mass.own.items() if el in alive}
    score: dict[object, float] = {}
    text_children: dict[object, int] = {}  # children with non-link text somewhere inside
    for el in alive:
        parent = el.getparent()
        if parent is not None and mass.plain(el) > 0:
            text_children[parent] = text_children.get(parent, 0) + 1
    for el, n in own.items():
        weight = 1.0
        node = el
        score[node] = score.get(node, 0.0) + n
        for _ in range(_MAX_CLIMB):
            branching = text_children.get(node, 0) + mass.pieces.get(node, 0) >= 2
            parent = node.getparent()
            if parent is None or weight < 0.01:
                break
            if branching:
                weight /= 2
            score[parent] = score.get(parent, 0.0) + n * weight
            node = parent
    if not score:
        return None
    best = max(score, key=lambda e: (score[e], mass.order.get(e, 0)))
    for _ in range(_MAX_CLIMB):  # a cell or row of a data table: the table is read whole, with its rows
        table = best if _tag(best) == "table" else next(best.iterancestors("table"), None)
        if table is None or table.getparent() is None or not _is_data_table(table):
            break
        best = table.getparent()
    return best


# ---------------------------------------------------------------- metadata box


def _label_key(text: str) -> str | None:
    m = _LABEL_ONLY.match(text.strip())
    return _LABEL_KEY[_squash(m.group(1))] if m else None


def _squash(s: str) -> str:
    return re.sub(r"[\s\u3000\u00a0]+", "", s)


def _find_box(root, text: str) -> tuple[object | None, dict[str, str]]:
    """The 信息公开 box and its label values: the smallest element with three labels that have values.

    `text` is the page's source, checked first for three labels at all. A row of column
    headings (名称 文号 发布机构) has labels but no values, so a data table is not a box.
    """
    if len({_LABEL_KEY.get(_squash(m.group(1))) for m in _LABEL_ANY.finditer(text)}) < _MIN_BOX_LABELS:
        return None, {}
    found: dict[object, set[str]] = {}
    for el in root.iter():
        if not _tag(el) or _tag(el) in SKIP_TAGS:
            continue
        for piece in [el.text] + [child.tail for child in el]:
            s = piece.strip() if piece else ""
            m = s and (_LABEL_COLON.match(s) or _LABEL_ONLY.match(s))
            if not m:
                continue
            key = _LABEL_KEY[_squash(m.group(1))]
            node = el
            for _ in range(_BOX_CLIMB):
                if node is None:
                    break
                found.setdefault(node, set()).add(key)
                node = node.getparent()
    candidates = [el for el, keys in found.items() if len(keys) >= _MIN_BOX_LABELS and _tag(el) not in ("body", "html")]
    candidates.sort(key=lambda el: -sum(1 for _ in el.iterancestors()))
    for el in candidates:
        if len(_text(el)) > _MAX_BOX_CHARS:
            continue
        raw = parse_meta_lines(block_lines(el, tables=False, labels=True))
        if len(raw) >= _MIN_BOX_LABELS:
            return el, raw
    return None, {}


def parse_meta_lines(lines: Iterable[str]) -> dict[str, str]:
    """Label/value pairs from the lines (cells) of a metadata box or an info line.

    A line that is only a label takes the next line as its value; "标签：值" pairs are read
    within a line, several to a line. The first value of each label wins.
    """
    raw: dict[str, str] = {}
    pending: str | None = None
    for line in lines:
        s = line.strip()
        if not s:
            continue
        key = _label_key(s)
        if key:
            pending = key
            continue
        matches = list(_LABEL_COLON.finditer(s))
        if pending and (not matches or matches[0].start() > 0):
            raw.setdefault(pending, s[: matches[0].start()].strip() if matches else s)
        pending = None
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(s)
            value = s[m.end() : end]
            other = _OTHER_LABEL.search(value)
            value = (value[: other.start()] if other else value).strip(_INDENT + " ")
            if value:
                raw.setdefault(_LABEL_KEY[_squash(m.group(1))], value)
            elif i + 1 == len(matches):
                pending = _LABEL_KEY[_squash(m.group(1))]
    return raw


def iso_date(value: str | None) -> str | None:
    """YYYY-MM-DD from a date written 2023-05-10, 2023年5月10日, 2023/5/10 or 2023.05.10."""
    m = _DATE.search(value or "")
    if not m:
        return None
    y, mo, d = (int(g) for g in m.groups())
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def _meta_from(raw: dict[str, str]) -> dict[str, str]:
    """Extracted.meta keys from raw label values."""
    meta: dict[str, str] = {}
    for key in ("doc_number", "issuer", "index_no", "title", "topic", "validity"):
        if raw.get(key):
            meta[key] = raw[key]
    written, published = iso_date(raw.get("written")), iso_date(raw.get("published"))
    date = written or published  # 成文日期 first: the day the document was made
    if date:
        meta["date"] = date
    if published:
        meta["published"] = published
    return meta


# ---------------------------------------------------------------- title


def _site_name(part: str) -> bool:
    """A <title> segment naming a site or column: short, no digits, ends like 网/政府/局/公开..."""
    return 0 < len(part) <= 30 and not re.search(r"\d", part) and bool(_SITE_END.search(part))


def site_stripped(title: str) -> str:
    """<title> text without site or column names around it.

    "…通知_国务院文件_中国政府网" -> "…通知"; "青山县人民政府-…通知" -> "…通知".
    """
    title = title.strip()
    while True:
        seps = list(_SITE_SEP.finditer(title))
        if not seps:
            return title
        last, first = seps[-1], seps[0]
        head, tail = title[: last.start()].strip(), title[last.end() :].strip()
        if len(head) >= 4 and _site_name(tail):
            title = head
            continue
        head, tail = title[: first.start()].strip(), title[first.end() :].strip()
        if len(tail) >= 4 and _site_name(head):
            title = tail
            continue
        return title


def _head_meta(doc) -> dict[str, str]:
    """<meta name=…> values some government CMSs fill in (ArticleTitle, PubDate)."""
    out: dict[str, str] = {}
    for m in doc.iter("meta"):
        name = (m.get("name") or "").lower()
        content = (m.get("content") or "").strip()
        if content and name in ("articletitle", "pubdate", "contentsource", "firstimgsrc"):
            out.setdefault(name, content)
    return out


# ---------------------------------------------------------------- chrome


def _drop_chrome(root, mass: _Mass) -> None:
    """Drop nav bars, headers, footers, toolbars, related-link blocks and link lists (general rules)."""
    doomed: list[object] = []
    for el in mass.elements:
        tag = el.tag
        if tag in _CHROME_TAGS:
            if tag == "header" and any(_tag(a) in ("article", "main") for a in el.iterancestors()):
                continue
        elif (el.get("class") is None and el.get("id") is None) or tag in ("body", "html") or not _chrome_name(el):
            continue
        if not mass.protected(el):
            doomed.append(el)
    for el in doomed:
        _drop(el)
    for el in [e for e in root.iter() if _tag(e)]:
        if el.getparent() is None or _tag(el) in ("body", "html"):
            continue
        text = mass.text.get(el, 0)
        if not 0 < text <= 12:
            continue
        lead = (el.text or "").lstrip(_INDENT + "【[ \n\r")
        if lead and lead[0] not in _RELATED_FIRST:
            continue
        if render(_text(el)).strip("：:【】[] ") in _RELATED_HEADS:
            _drop_related(el, mass)
    for el in list(root.iter("ul", "ol", "dl", "div", "table", "section", "td")):
        if el.getparent() is None or mass.protected(el):
            continue
        if _link_list(el, mass):
            _drop(el)


def _link_list(el, mass: _Mass) -> bool:
    """A list of links (nav bar, related list): mostly link text, 3+ links, no sentence, no attachment.

    A sentence citing three linked laws (根据《…》、《…》…制定本办法。) ends in 。, so it stays.
    """
    text, links = mass.text.get(el, 0), mass.links.get(el, 0)
    if not text or links < 0.7 * text or sum(1 for _ in el.iter("a")) < 3:
        return False
    from lxml import etree

    bare = copy.deepcopy(el)
    etree.strip_elements(bare, "a", with_tail=False)
    plain = _text(bare)
    return not _SENTENCE_END.search(plain) and not _has_attachment(el)


def _drop_related(heading, mass: _Mass) -> None:
    """Drop a 相关链接-style heading with the link list around it."""
    block = heading
    for _ in range(_MAX_CLIMB):
        parent = block.getparent()
        if parent is None or _tag(parent) in ("body", "html") or mass.protected(parent):
            break
        other = mass.text.get(parent, 0) - mass.text.get(block, 0)
        other_links = mass.links.get(parent, 0) - mass.links.get(block, 0)
        if other and other_links < 0.6 * other:
            break
        block = parent
    nxt = block.getnext()
    _drop(block)
    if nxt is not None and mass.text.get(nxt, 0) and mass.links.get(nxt, 0) >= 0.6 * mass.text[nxt]:
        if not _has_attachment(nxt) and not mass.protected(nxt):
            _drop(nxt)


def _has_attachment(el) -> bool:
    """Holds an attachment: text starting 附件, or a link to a document file."""
    if _ATTACHMENT_HEAD.match(render(_text(el)[:200])):
        return True
    return any(_FILE_LINK.search(a.get("href") or "") or _FILE_LINK.search(_text(a)) for a in el.iter("a"))


def is_tool_line(line: str) -> bool:
    """A toolbar line: 字号【大 中 小】, 【打印】【关闭】, 打印本页 关闭窗口, 分享到, 扫一扫…"""
    s = line.strip()
    if len(s) > 60 or not _TOOL_HINT.search(s):
        return False
    if render(s).strip("：: ") in _RELATED_HEADS:
        return True
    rest = _TOOL_PUNCT.sub("", _TOOL_WORDS.sub("", s))
    if rest:
        return False
    return bool(_TOOL_MAIN.search(s)) or all(ch in s for ch in "大中小")


# ---------------------------------------------------------------- reading


def _parse(text: str):
    """(lxml document or None, complete): complete is False when libxml2 gave up part way (nesting too deep)."""
    from lxml import etree

    text = _XML_DECL.sub("", text.replace("\x00", ""), count=1)
    if not text.strip():
        return None, True
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, huge_tree=True)
    try:
        doc = etree.fromstring(text, parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        logger.warning("unparseable HTML: %s", exc)
        return None, False
    complete = not any(e.level_name == "FATAL" for e in parser.error_log)
    return doc, complete


_STREAM_SKIP = frozenset(
    "script style noscript template title textarea select svg math object iframe canvas audio video button "
    "nav aside footer".split()
)


class _Stream(HTMLParser):
    """Fallback for pages libxml2 gives up on: tags as a stream, no tree, so no nesting limit.

    Block tags and <br> end lines, script/style/nav/footer... are skipped; no content
    selection and no TAB rows (cells are lines).
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = _Lines()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _STREAM_SKIP:
            self._skip += 1
        elif tag in BLOCK_TAGS or tag == "br":
            self.out.end()

    def handle_endtag(self, tag: str) -> None:
        if tag in _STREAM_SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in BLOCK_TAGS:
            self.out.end()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.add(data)


def stream_lines(text: str) -> list[str]:
    """Lines of a page read as a tag stream (the fallback reader)."""
    stream = _Stream()
    stream.feed(text)
    stream.close()
    stream.out.end()
    return [ln for ln in stream.out.lines if not is_tool_line(ln)]


def _pick_h1(root, page_title: str):
    """The <h1> that is the document's title, not a site logo.

    Preferred: the h1 equal to <title> without its site names, then one that <title>
    contains (the longest), then the first; an h1 that is a site's name is skipped.
    """
    stripped = site_stripped(page_title)
    best, best_key = None, None
    for i, h in enumerate(root.iter("h1")):
        text = render(_text(h))
        if not text:
            continue
        if text != stripped and _site_name(text) and len(text) <= 15:
            continue  # the site's name (a logo)
        key = (text == stripped, text in page_title, len(text) if text in page_title else 0, -i)
        if best_key is None or key > best_key:
            best, best_key = h, key
    return best


def _title_element(title: str, container, mass: _Mass, alive: set[object]):
    """An element before the container whose whole text is the title (a title <div>/<td>/<h2>)."""
    limit = mass.order.get(container, len(mass.elements))
    want = _alpha(title)
    for el in mass.elements[:limit]:
        if el not in alive or el.tag in ("body", "html") or not want <= mass.text.get(el, 0) <= 2 * want + 10:
            continue
        if render(_text(el)) == title:
            return el
    return None


def _attachment_lines(container, root) -> list[str]:
    """Lines of the attachment blocks (附件…, file links) right after the container, up to 3 levels out.

    At each level the siblings after the container are read up to the first one with
    text that is not an attachment block.
    """
    lines: list[str] = []
    node = container
    for _ in range(3):
        if node is None or node is root or _tag(node) in ("body", "html"):
            break
        for sib in node.itersiblings():
            if not _tag(sib) or _tag(sib) in SKIP_TAGS:
                continue
            if _has_attachment(sib):
                lines.extend(block_lines(sib))
            elif render(_text(sib)):
                return lines
        node = node.getparent()
    return lines


def read_html(path: Path, data: bytes) -> Extracted:
    """A saved web page: body lines as text, the 信息公开 box in `meta`, the page's title."""
    text, encoding = decode_html(data)
    return read_html_text(path, text, encoding)


def read_html_text(path: Path, text: str, encoding: str) -> Extracted:
    """`read_html` of a page already decoded (`encoding`: what it was decoded from, e.g. an .mht part's charset)."""
    doc, complete = _parse(text)
    if not complete:
        logger.warning("%s: nesting too deep for the HTML parser; read as a plain tag stream", path.name)
        note = "HTML nested too deep for the parser: read as a tag stream, without content selection"
        return Extracted("\n".join(stream_lines(text)), None, encoding, notes=(note,))
    if doc is None:
        return Extracted("", None, encoding)
    head_meta = _head_meta(doc)
    page_title = ""
    t = doc.find(".//title")
    if t is not None:
        page_title = render(_text(t))
    for el in [e for e in doc.iter() if _tag(e) in SKIP_TAGS and _tag(e) not in ("head", "title", "meta")]:
        _drop(el)
    root = doc.find("body")
    if root is None:
        root = doc
    for el in [e for e in root.iter() if _tag(e) and _is_hidden(e)]:
        _drop(el)

    box, raw = _find_box(root, text)
    if box is not None:
        logger.debug("metadata box <%s class=%r>: %s", _tag(box), box.get("class"), raw)
        _drop(box)
    page_lines = block_lines(root, tables=False, limit=_INFO_LINES)

    h1 = _pick_h1(root, page_title)  # before chrome goes: a page-level <header> may hold it
    mass = _Mass(root)
    _drop_chrome(root, mass)
    alive = {el for el in root.iter() if isinstance(el.tag, str)}
    container = _best_container(mass, alive)
    title = raw.get("title") or head_meta.get("articletitle") or (render(_text(h1)) if h1 is not None else "")
    title = title or site_stripped(page_title)

    if container is None:
        lines = block_lines(root)
    else:
        logger.debug("content container <%s id=%r class=%r>", _tag(container), container.get("id"),
                     container.get("class"))  # fmt: skip
        lines = block_lines(container)
        title_el = h1
        if title_el is None and title:
            title_el = _title_element(title, container, mass, alive)
        if title_el is not None and not _contains(title_el, container) and not _contains(container, title_el):
            if title_el not in alive or mass.order.get(title_el, 0) < mass.order.get(container, 0):
                lines = [render(_text(title_el)), *lines]  # the heading shown above the body
        lines += _attachment_lines(container, root)
    lines = [ln for ln in lines if not is_tool_line(ln)]

    body = set(lines)  # dates stated in info lines outside the body: 发布时间：2023-05-10 ...
    for key, value in parse_meta_lines(ln for ln in page_lines if len(ln) <= 120 and ln not in body).items():
        if key in ("written", "published") and iso_date(value):
            raw.setdefault(key, value)
    if "published" not in raw and iso_date(head_meta.get("pubdate")):
        raw["published"] = head_meta["pubdate"]
    meta = _meta_from(raw)
    return Extracted("\n".join(lines), title or None, encoding, meta=meta)


def _contains(outer, inner) -> bool:
    """True when `inner` is `outer` or inside it."""
    node = inner
    for _ in range(4096):
        if node is None:
            return False
        if node is outer:
            return True
        node = node.getparent()
    return False
