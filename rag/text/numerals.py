"""Chinese numerals as documents write them: article numbers (第一千二百六十条), years (二〇二二), months.

Pure functions over the numeral characters of `rag.text.vocab`: used by clause splitting, the 公文
layer and clause lookup.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from rag.text.vocab import CN_NINE, CN_NUMERALS, CN_ONE_TO_TEN, CN_ZEROS, DOC_NUMBER, HAN, LAW_TYPES

_DIGITS = "零" + CN_NINE
_VALUE = {c: i for i, c in enumerate(_DIGITS)} | dict.fromkeys(CN_ZEROS, 0) | {"两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def cn_number(n: int) -> str:
    """Chinese numeral as used in article numbers: 54 -> 五十四, 101 -> 一百零一, 1260 -> 一千二百六十."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = (n // value) % 10
        if digit:
            if zero and out:
                out += "零"
            out += _DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    return out


def cn_int(s: str) -> int | None:
    """'54', '五十四', '一百零一', '十二', digit by digit '二〇二二' -> int; None when not a numeral."""
    if s.isdigit():
        return int(s)
    if not s or any(c not in _VALUE and c not in _UNITS for c in s):
        return None
    if not any(c in _UNITS for c in s):  # digit by digit, as in years
        return int("".join(str(_VALUE[c]) for c in s))
    total, section, digit = 0, 0, None
    for c in s:
        if c in _VALUE:
            digit = _VALUE[c]
        elif c == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            section += (1 if digit is None else digit) * _UNITS[c]
            digit = None
    return total + section + (digit or 0)


# --- cross-references written inside a clause --------------------------------------------------

_NUM = rf"[{CN_NUMERALS}\d]+"
_SELF_WORDS = "|".join(LAW_TYPES)  # 本法, 本条例, 本实施细则 …: the document itself
_ZHI = rf"之[{CN_ONE_TO_TEN}]+"
_ARTICLE_PART = (
    rf"第(?P<art>{_NUM})条(?P<zhi>{_ZHI})?"
    rf"(?:第(?P<para>{_NUM})款)?(?:第[（(]?(?P<item>{_NUM})[）)]?项)?"
    rf"(?:(?:至|到|—|－|-)第{_NUM}条(?:{_ZHI})?)?"
)
_TITLED_ARTICLE = _ARTICLE_PART.replace("?P<", "?P<t_")
_REF_RE = re.compile(
    rf"(?P<titled>《(?P<title>[^《》\n]{{2,80}})》(?:[（(](?P<number>{DOC_NUMBER})[）)])?(?:{_TITLED_ARTICLE})?)"
    rf"|(?P<self>本(?P<word>{_SELF_WORDS})(?:{_ARTICLE_PART.replace('?P<', '?P<s_')}))"
    rf"|(?P<this>本条(?!例)(?:第(?P<this_para>{_NUM})款)?(?:第[（(]?(?P<this_item>{_NUM})[）)]?项)?)"
    rf"|(?P<bare>{_ARTICLE_PART.replace('?P<', '?P<b_')})"
    rf"|(?P<prev_para>前(?P<count>[两{CN_NINE[1:]}])?款)"
    rf"|(?P<prev_art>前条)"
)
_UNBRACKETED = re.compile(rf"([{HAN}]{{2,40}}?(?:{_SELF_WORDS}))$")
_LEAD_VERBS = re.compile(r"^.*(?:依照|依据|根据|按照|违反|适用|参照|执行|遵守|或者|以及|规定的|实施)")


class RefMention(NamedTuple):
    """A reference as written in a text (before it is resolved to a clause).

    kind: "self" (本法第X条 …), "bare" (第X条 in the same document), "this" (本条第Y款),
    "previous_paragraph" (前款, 前两款), "previous_article" (前条), "document" (《title》,
    《title》第X条, 《title》（文号）, or an unbracketed 某某法第X条).
    """

    kind: str
    text: str
    start: int
    end: int
    title: str | None = None
    doc_number: str | None = None
    article: str | None = None  # normalised: '第十三条', '第一百二十条之一'
    paragraph: int | None = None  # 款
    item: int | None = None  # 项


def article_label(num: str, zhi: str | None = None) -> str:
    """'13' or '十三' (and '之一') -> '第十三条' ('第十三条之一'): the label the splitter gives."""
    n = cn_int(num.replace("两", "二"))
    body = cn_number(n) if n is not None and 0 < n < 10000 else num.replace("两", "二").replace("〇", "零")
    return f"第{body}条{zhi or ''}"


def _int(s: str | None) -> int | None:
    return cn_int(s.replace("两", "二")) if s else None


def _heading_label(text: str, start: int, end: int) -> bool:
    """True for an article's own label at the start of a line ('第十条　…'), not a reference."""
    at_line_start = start == 0 or text[start - 1] == "\n"
    return at_line_start and (end == len(text) or text[end] in " \u3000\t\n")


def find_refs(text: str) -> list[RefMention]:
    """Cross-references in `text`, left to right.

    A 第X条 at the start of a line followed by a space is the article's own label and is skipped;
    a range 第X条至第Y条 gives its first article; 《title》 with neither article nor 文号 is a
    reference to the whole document. An unbracketed 某某法第X条 (a law named without 《》)
    is kind "document" with the name as title.
    """
    out: list[RefMention] = []
    for m in _REF_RE.finditer(text):
        s, e, g = m.start(), m.end(), m.group
        if g("titled"):
            art = g("t_art")
            out.append(RefMention(
                "document", m.group(0), s, e, title=g("title").strip(),
                doc_number=re.sub(r"\s+", "", g("number")) if g("number") else None,
                article=article_label(art, g("t_zhi")) if art else None,
                paragraph=_int(g("t_para")), item=_int(g("t_item")),
            ))  # fmt: skip
        elif g("self"):
            out.append(RefMention(
                "self", m.group(0), s, e, article=article_label(g("s_art"), g("s_zhi")),
                paragraph=_int(g("s_para")), item=_int(g("s_item")),
            ))  # fmt: skip
        elif g("this"):
            out.append(RefMention("this", m.group(0), s, e, paragraph=_int(g("this_para")), item=_int(g("this_item"))))
        elif g("bare"):
            if _heading_label(text, s, s + len(f"第{g('b_art')}条{g('b_zhi') or ''}")):
                continue
            mention = RefMention(
                "bare", m.group(0), s, e, article=article_label(g("b_art"), g("b_zhi")),
                paragraph=_int(g("b_para")), item=_int(g("b_item")),
            )  # fmt: skip
            named = _UNBRACKETED.search(text[max(0, s - 40) : s])
            if named and not text[:s].endswith(tuple("本" + w for w in _SELF_WORDS.split("|"))):
                title = _LEAD_VERBS.sub("", named.group(1)) or named.group(1)
                if len(title) >= 3 and not title.startswith("本"):
                    start = s - len(title)
                    mention = mention._replace(kind="document", title=title, start=start, text=text[start:e])
            out.append(mention)
        elif g("prev_para"):
            out.append(RefMention("previous_paragraph", m.group(0), s, e))
        else:
            out.append(RefMention("previous_article", m.group(0), s, e))
    return out
