"""When a document takes effect, as it states: "本法自2024年1月1日起施行", "本办法自印发之日起施行",
"本规定自公布之日起30日后施行", "施行日期：2023年3月1日".

Pure functions over text: the catalogue (`rag.storage.catalogue`) reads a document's clauses with
`effective_date` to tell which version of a document was in force on a date.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from rag.text.numerals import cn_int

_DATE = (
    r"(?P<y>[\d〇○零一二三四五六七八九]{4})\s*年\s*(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*月\s*"
    r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日"
)
_SUBJECT = (  # 本法, 本办法, 本实施细则, 本暂行规定…, then words up to the date ("由市财政局负责解释，")
    r"本[\u4e00-\u9fff]{0,6}?(?:法|法典|条例|办法|规定|细则|规则|决定|决议|解释|通知|意见|方案|制度|标准|规范|"
    r"准则|章程|修正案|安排|公告|通告|批复|指引|指南|规程|纲要|要点|计划|目录|清单)[^。；！？\n]{0,30}?"
)
_STATED = re.compile(
    rf"{_SUBJECT}自?\s*(?:{_DATE}\s*(?:零时)?|(?P<own>[^，。；！？\n\d]{{0,10}}之日))\s*起\s*"
    r"(?:(?P<after>\d{1,3}|[一二三四五六七八九十百]{1,4})日后)?\s*(?:施行|实施|执行|生效)"
)
_FIELDS = (  # "施行日期：…"; a 司法解释's header "（…公告公布 自2002年3月26日起施行）"
    re.compile(rf"施行日期\s*[:：\t]?\s*{_DATE}"),
    re.compile(rf"公布[，,\s]*自\s*{_DATE}\s*起\s*(?:施行|生效)"),
)


def iso_date(text: str) -> str:
    """A date given as YYYY-MM-DD (e.g. a --as-of date), checked.

    Raises:
        ValueError: not a date of that form; the message shows the expected form.
    """
    try:
        return dt.date.fromisoformat(str(text).strip()).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a date; expected YYYY-MM-DD, e.g. 2021-06-01") from None


def _date(m: re.Match[str]) -> str | None:
    y, mo, d = (cn_int(m[k]) or 0 for k in ("y", "m", "d"))
    try:
        return dt.date(y, mo, d).isoformat() if 1900 <= y <= 2100 else None
    except ValueError:
        return None


def effective_date(text: str, own_date: str | None) -> str | None:
    """The date a document takes effect: the last statement of it in `text` ("本法自2024年1月1日起施行",
    "施行日期：…"); a statement "自印发/公布/发布之日起施行" is `own_date` (plus the days of "…之日起30日后施行").
    Without a statement, `own_date`. Dates in Chinese numerals (一九九九年十月一日) and full-width
    digits count.
    """
    text = unicodedata.normalize("NFKC", text).replace("O", "〇")  # full-width digits; a letter O for 〇
    found: tuple[int, str | None] | None = None  # (position, date)
    for m in _STATED.finditer(text):
        if m["own"] is None:
            when = _date(m)
        elif own_date is None:
            when = None
        else:
            days = cn_int(m["after"]) if m["after"] else 0
            when = (dt.date.fromisoformat(own_date) + dt.timedelta(days=days or 0)).isoformat()
        if when is not None:
            found = (m.start(), when)
    for m in (m for pattern in _FIELDS for m in pattern.finditer(text)):
        when = _date(m)
        if when is not None and (found is None or m.start() > found[0]):
            found = (m.start(), when)
    return found[1] if found else own_date
