"""The document vocabulary, each item defined once: Chinese numerals, 文号, document types, titles.

- Numerals: the characters Chinese numerals are written with, as bodies of regex character classes
  (`CN_NINE` 一…九, `CN_DIGITS` with the zeros 零〇○, `CN_ONE_TO_TEN` for list markers 一、（一）之一,
  `CN_NUMERALS` every numeral character); `rag.text.numerals` turns them into numbers.
- 文号 (发文字号, GB/T 9704): `DOC_NUMBER` (国发〔2019〕5号, its year in any bracket a text or a
  recogniser writes: [2019] ［2019］ 【2019】 （2019） …) with the groups agency, year and serial;
  `ORDER_NUMBER` (国务院令第596号); `doc_number_key` to compare two; `doc_number_brackets` to
  write a misread year bracket 〔〕 as GB/T 9704 has it.
- Document types: `DOC_TYPES`, the genre words a title ends with (通知, 意见, 办法, 条例 …), longest
  first; `LAW_TYPES`, the kinds a legal text calls itself (本法, 本条例 …); `doc_type(title)`.
- Titles: `PRC`, `REVISED` (修订/修正 marks), `normalise_title` (the form titles are compared in) and
  `TitleLookup`, the documents of a library by normalised title and by 文号.

Pure: no I/O and no imports from the rest of the package. Every other module imports these names
instead of writing its own copy (tests/text/test_vocabulary.py checks that outside rag/text/).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# ----------------------------------------------------------------------------------- numerals

CN_NINE = "一二三四五六七八九"
CN_ZEROS = "零〇○"
CN_DIGITS = CN_ZEROS + CN_NINE  # a digit, as years are written digit by digit: 二〇二四, 二○二四
CN_ONE_TO_TEN = CN_NINE + "十"  # list markers 一、 （一） 一是, 之一, months
CN_NUMERALS = CN_DIGITS + "十百千万两"  # the characters of a numeral `cn_int` reads: 一千二百六十, 两万 (亿 is a unit)

# ----------------------------------------------------------------------------------- 文号

HAN = r"\u4e00-\u9fff"
YEAR_OPEN = "〔[［【(（〖⟦{〈"  # the year's opening bracket as written or misread (GB/T 9704: 〔)
YEAR_CLOSE = "〕]］】)）〗⟧}〉"
_OPEN, _CLOSE = re.escape(YEAR_OPEN), re.escape(YEAR_CLOSE)
DOC_NUMBER = (
    rf"(?P<agency>[{HAN}]{{1,12}})\s*[{_OPEN}]\s*(?P<year>\d{{4}})\s*[{_CLOSE}]\s*第?\s*(?P<serial>\d+)\s*号"
)  # a regex (use it once per pattern: its groups are named)
ORDER_NUMBER = rf"[{HAN}]{{1,20}}令\s*[（(]?\s*第\s*\d+\s*号[)）]?"  # 国务院令第596号
YEAR_NUMBER = rf"[{_OPEN}]\s*\d{{4}}\s*[{_CLOSE}]\s*第?\s*\d+\s*"  # a 纪要's number without its organ: 〔2024〕5
_BRACKET_KEY = str.maketrans(dict.fromkeys(YEAR_OPEN, "[") | dict.fromkeys(YEAR_CLOSE, "]"))
_MISREAD_YEAR = re.compile(rf"(?<=[{HAN}])\s*[{_OPEN}]\s*((?:19|20)\d{{2}})\s*[{_CLOSE}]\s*(?=\d{{1,5}}\s*号)")


def doc_number_key(doc_number: str) -> str:
    """A 文号 as compared: no spaces, one bracket style, no 第 (国发（2019）第5号 -> 国发[2019]5号)."""
    return re.sub(r"\s+|第(?=\d+号)", "", doc_number.translate(_BRACKET_KEY))


def doc_number_brackets(text: str) -> str:
    """`text` with the year brackets of each 文号 written 〔〕 (甬民发[2022〕12号 -> 甬民发〔2022〕12号)."""
    return _MISREAD_YEAR.sub(r"〔\1〕", text)


# ----------------------------------------------------------------------------------- document types

LAW_TYPES = (
    "实施细则", "实施办法", "法典", "条例", "办法", "规定", "解释", "细则", "决定", "规则", "准则", "章程", "法",
)  # fmt: skip
DOC_TYPES = tuple(
    sorted(
        {*LAW_TYPES, "司法解释", "通知", "通报", "意见", "方案", "计划", "要点", "规划", "纲要", "讲话", "报告",
         "决议", "命令", "公告", "通告", "批复", "函", "请示", "纪要", "答复", "标准", "规范", "指引", "指南",
         "措施", "总结", "公报", "令", "解读", "说明"},
        key=lambda w: (-len(w), w),
    )
)  # fmt: skip
_TYPE_OF = {"法典": "法律", "法": "法律", "实施细则": "细则", "实施办法": "办法"}  # how doc_type names these
_JUDICIAL = re.compile(r"最高人民(法院|检察院)")


def doc_type(title: str) -> str:
    """Document type from its title's ending (法律, 条例, 办法, 通知, 要点, …; 司法解释), else 其他."""
    if _JUDICIAL.search(title) and re.search(r"解释|规定|批复|决定", title):
        return "司法解释"
    t = re.sub(r"\d+篇$", "", normalise_title(title))  # "…工作计划3篇": a collection of 计划
    t = re.sub(r"(（[^）]*）|\([^)]*\))$", "", t) or t  # "…解释（一）"
    for w in DOC_TYPES:
        if t.endswith(w):
            return _TYPE_OF.get(w, w)
    return "其他"


# ----------------------------------------------------------------------------------- titles

PRC = "中华人民共和国"
REVISED = re.compile(
    rf"[(（]\s*(\d{{4}}\s*年)?\s*(修订|修正|修订版|修正版|第[{CN_ONE_TO_TEN}]次修订)\s*[)）]|修订稿$|修订版$"
)
_TITLE_DATE = re.compile(r"[（(]\d{4}[-年.]\d{1,2}[-月.]\d{1,2}日?[)）]")


def normalise_title(title: str) -> str:
    """Title without 《》, a leading 中华人民共和国, a parenthesised date, a revision mark or spaces."""
    t = REVISED.sub("", _TITLE_DATE.sub("", title)).strip().strip("《》")
    t = t.removeprefix(PRC)
    return re.sub(r"\s+", "", t)


@dataclass(frozen=True)
class TitleLookup:
    """A library's documents by normalised title and by 文号 (`doc_number_key`); each list newest first."""

    by_title: Mapping[str, tuple[str, ...]]
    by_number: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, docs: Iterable[tuple[str, str, str | None]]) -> TitleLookup:
        """From (doc_id, title, 文号 or None), newest first (the order the lists keep)."""
        by_title: dict[str, list[str]] = {}
        by_number: dict[str, list[str]] = {}
        for doc_id, title, number in docs:
            by_title.setdefault(normalise_title(title), []).append(doc_id)
            if number:
                by_number.setdefault(doc_number_key(number), []).append(doc_id)
        return cls({k: tuple(v) for k, v in by_title.items()}, {k: tuple(v) for k, v in by_number.items()})

    def find(self, title: str | None, doc_number: str | None = None) -> str | None:
        """The newest document a reference names: by 文号 first, then by normalised title."""
        found = self.by_number.get(doc_number_key(doc_number), ()) if doc_number else ()
        if not found and title:
            found = self.by_title.get(normalise_title(title), ())
        return found[0] if found else None

    def named(self, text: str) -> list[str]:
        """Documents whose normalised title `text` contains (a longer title wins over one inside it)."""
        q = re.sub(r"\s+", "", text)
        found = [t for t in self.by_title if len(t) >= 2 and t in q]
        found = [t for t in found if not any(t != o and t in o for o in found)]
        return [d for t in found for d in self.by_title[t]]
