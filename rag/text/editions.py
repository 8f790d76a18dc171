"""Editions: the yearly documents of one series, and whether a question names a year.

Offices keep each year's plan, notice and 要点 beside last year's: 江城市2023年政务服务工作要点 and
江城市2024年政务服务工作要点 hold nearly the same clauses with other figures. They are not versions of
one document (their titles differ, and the older is not repealed), so both stay searchable; but a
question that names no year ("今年要新增多少个一件事") means the newest, and one that names a year
(2023年…, 去年…) means that one. Pure functions.
"""

from __future__ import annotations

import re

from rag.text.vocab import CN_DIGITS

_BRACKETED = re.compile(r"[（(][^（()）]*[)）]")  # 宪法修正案（1988年）: an amendment's mark, not a yearly series
_YEAR = r"(?:19|20)\d{2}"
_TITLE_YEARS = re.compile(rf"({_YEAR})(?:年)?(?:\s*[—–\-~～至到]\s*({_YEAR}))?\s*年度?")
_QUESTION_YEAR = re.compile(
    rf"(?<!\d){_YEAR}(?!\d)|[{CN_DIGITS}]{{4}}\s*年|去年|前年|上一年|上年度|上个年度"
)  # fmt: skip


def edition(title: str) -> tuple[str, int] | None:
    """(the series: `title` with its years as #, the edition's year: the latest it names) when the title
    names a year outside brackets (2024年…, 关于做好2024年度…, 2023—2025年…), else None."""
    bare = _BRACKETED.sub("", title)
    years = [int(y) for m in _TITLE_YEARS.finditer(bare) for y in m.groups() if y]
    if not years:
        return None
    return re.sub(r"\s+", "", _TITLE_YEARS.sub("#", bare)), max(years)


def names_a_year(question: str) -> bool:
    """Whether a question names a year (2023年, 2023, 二〇二三年) or one relative to this one (去年, 上年度)."""
    return bool(_QUESTION_YEAR.search(question))
