"""Task rows of 任务分工表: which columns say what, and deadlines as dates (pure functions).

A table is a task table when its header has a task column (重点任务, 工作内容, 主要措施…) and
a responsible-unit or deadline column (责任单位, 牵头单位, 配合单位, 完成时限, 时间节点…).
A row clause is read back into its columns: a row of the row model, "列名：值；列名：值"
(`rag.text.rows`), or a TAB-joined row under a header kept in its heading path ("序号｜重点任务｜…").
Deadlines are normalised to the last day they allow: 2024年6月底前 -> 2024-06-30,
2024年三季度 -> 2024-09-30, 2024年上半年 -> 2024-06-30, 2024年底 -> 2024-12-31; open-ended
ones (长期坚持, 持续推进, 常态化) have none.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.text.rows import KEY_SEP, PAIR_SEP
from rag.text.vocab import CN_NINE

_TASK_COL = re.compile(r"任务|工作内容|主要内容|具体内容|措施|事项|工作要点|工作举措|目标任务")
_UNIT_COL = re.compile(r"(责任|牵头|配合|协办|主办|承办|参与|实施)(单位|部门|主体|处室)|责任人")
_DEADLINE_COL = re.compile(r"完成时限|时间节点|完成时间|时限|截止时间|办结时间|进度安排|时间安排|完成期限")
_PAIR = re.compile(rf"(?:^|{PAIR_SEP})([^{PAIR_SEP}{KEY_SEP}\t]{{1,30}}){KEY_SEP}")
_OPEN_ENDED = re.compile(r"长期|持续|常态|经常性|每年|每季度|每月|随时|适时")
_QUARTER = {"一": 3, "二": 6, "三": 9, "四": 12, "1": 3, "2": 6, "3": 9, "4": 12}
_CN_MONTH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
             "十一": 11, "十二": 12}  # fmt: skip
_YEAR = r"(?:(\d{4})\s*年\s*)?"
# Tried in this order; a later pattern never takes text an earlier one matched.
_DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"), "ymd"),
    (re.compile(rf"{_YEAR}(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*日"), "ymd"),
    (re.compile(rf"{_YEAR}第?([一二三四1-4])\s*季度"), "quarter"),
    (re.compile(rf"{_YEAR}(上半年|下半年|年中|年底|年末|(?<=年)底|(?<=年)末)"), "half"),
    (re.compile(rf"{_YEAR}(十[一二]?|[{CN_NINE}]|\d{{1,2}})\s*月"), "ym"),
    (re.compile(r"(\d{4})\s*年"), "y"),
)
_CLOSED = re.compile(r"前|底|末|完成|截止|之内|以内")


@dataclass(frozen=True)
class Columns:
    """The columns of a task table that matter: the task, the units, the deadline."""

    task: str | None
    units: tuple[str, ...]
    deadline: str | None

    @property
    def is_task_table(self) -> bool:
        return self.task is not None and (bool(self.units) or self.deadline is not None)


@dataclass(frozen=True)
class TaskFields:
    """One task row read back: its task, units (column -> value), deadline as written and as a date."""

    task: str
    units: dict[str, str] = field(default_factory=dict)
    deadline_text: str = ""
    deadline: str | None = None  # ISO date, None when open-ended or not stated
    fields: dict[str, str] = field(default_factory=dict)  # every column of the row


def columns(names: Sequence[str]) -> Columns:
    """Which of a header's column names hold the task, the responsible units and the deadline."""
    units = tuple(n for n in names if _UNIT_COL.search(n))
    deadline = next((n for n in names if _DEADLINE_COL.search(n) and n not in units), None)
    task = next((n for n in names if _TASK_COL.search(n) and n not in units and n != deadline), None)
    return Columns(task, units, deadline)


def row_fields(text: str, headings: Sequence[str] = ()) -> dict[str, str] | None:
    """A row clause's columns (name -> value), or None when the clause is not a table row.

    A row "列名：值；列名：值" is read by its names; a TAB-joined row by the header in its
    heading path (the last heading holding "｜"), its header line itself skipped.
    """
    line = text.strip().split("\n")[-1]
    if "\t" in line:
        header = next((h for h in reversed(headings) if "｜" in h), None)
        if header is None:
            return None
        names = header.split("｜")
        cells = line.split("\t")
        if [c.strip() for c in cells] == names:
            return None
        return {n: c.strip() for n, c in zip(names, cells) if n and c.strip()}
    starts = list(_PAIR.finditer(line))
    if len(starts) < 2 or starts[0].start() != 0:
        return None
    out: dict[str, str] = {}
    for m, nxt in zip(starts, [*starts[1:], None]):
        out.setdefault(m.group(1), line[m.end() : nxt.start() if nxt else len(line)].strip())
    return out


def task_fields(text: str, headings: Sequence[str] = ()) -> TaskFields | None:
    """The task a row clause states, when its columns make it a task row (see `columns`)."""
    fields = row_fields(text, headings)
    if not fields:
        return None
    cols = columns(list(fields))
    if not cols.is_task_table or not fields.get(cols.task or ""):
        return None
    written = fields.get(cols.deadline or "", "")
    return TaskFields(
        task=fields[cols.task or ""],
        units={n: fields[n] for n in cols.units if fields.get(n)},
        deadline_text=written,
        deadline=normalise_deadline(written),
        fields=fields,
    )


def normalise_deadline(text: str) -> str | None:
    """The last day a deadline as written allows (ISO), or None when it is open-ended or names no date.

    Several dates ("2024年3月启动，6月底前完成") give the latest; a month without its year takes
    the year written before it.
    """
    if _OPEN_ENDED.search(text) and not _CLOSED.search(text):
        return None
    matches: list[tuple[int, re.Match[str], str]] = []
    for rx, kind in _DATE_PATTERNS:
        for m in rx.finditer(text):
            if not any(s < m.end() and m.start() < e for s, m2, _ in matches for e in [m2.end()]):
                matches.append((m.start(), m, kind))
    dates: list[str] = []
    year = 0
    for _, m, kind in sorted(matches, key=lambda t: t[0]):
        value = _iso(m, kind, year)
        if value:
            year = int(value[:4])
            dates.append(value)
    return max(dates, default=None)


def _iso(m: re.Match[str], kind: str, year: int) -> str | None:
    """The last day a matched date allows, the year taken from `year` when the match has none."""
    y = int(m.group(1)) if m.group(1) else year
    if not y:
        return None
    if kind == "y":
        return f"{y:04d}-12-31"
    if kind == "quarter":
        month = _QUARTER[m.group(2)]
        return f"{y:04d}-{month:02d}-{calendar.monthrange(y, month)[1]:02d}"
    if kind == "half":
        return f"{y:04d}-06-30" if m.group(2) in ("上半年", "年中") else f"{y:04d}-12-31"
    month_text = m.group(2)
    month = int(month_text) if month_text.isdigit() else _CN_MONTH.get(month_text, 0)
    if not 1 <= month <= 12:
        return None
    if kind == "ym":
        return f"{y:04d}-{month:02d}-{calendar.monthrange(y, month)[1]:02d}"
    day = int(m.group(3))
    if not 1 <= day <= calendar.monthrange(y, month)[1]:
        return None
    return f"{y:04d}-{month:02d}-{day:02d}"
