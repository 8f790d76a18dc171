"""Table rows as text: a data row of a table with a header reads "列名：值；列名：值".

Readers render each data row of a table whose header row they recognise this way (empty
cells left out), after the header row itself as a TAB-joined line, so a row read alone says
what each value is: "序号：3；重点任务：农贸市场快检室建设；责任单位：市场监管局". The splitter
makes each such row a clause of its own (`rag.text.split`), labelled by its 序号 when it has
one, and the task list reads the values back by the header's names (`parse_row`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rag.text.vocab import CN_NUMERALS

KEY_SEP = "："
PAIR_SEP = "；"
_SERIAL_KEY = re.compile(r"^(序号|编号|序|No\.?|#)$", re.I)
_SERIAL_VALUE = re.compile(rf"^[(（]?[\d{CN_NUMERALS}]{{1,6}}[)）.．、]?$")


def render_row(pairs: Iterable[tuple[str, str]]) -> str:
    """A row as "name：value；name：value", pairs with an empty value left out."""
    return PAIR_SEP.join(f"{k}{KEY_SEP}{v}" for k, v in pairs if v)


def parse_row(line: str, keys: Sequence[str]) -> list[tuple[str, str]] | None:
    """The (name, value) pairs of a row rendered by `render_row` with names from `keys`, or None.

    Names are matched in the header's order, so a value holding "；" or "：" of its own is read
    whole; a line that does not start with one of the names is not such a row.
    """
    keys = [k for k in keys if k]
    pairs: list[tuple[str, str]] = []
    pos, first = 0, 0
    while True:
        j = next((j for j in range(first, len(keys)) if line.startswith(keys[j] + KEY_SEP, pos)), None)
        if j is None:  # only at the start: later positions are where a next name was found
            return None
        start = pos + len(keys[j]) + 1
        nxt = [(line.find(PAIR_SEP + keys[m] + KEY_SEP, start), m) for m in range(j + 1, len(keys))]
        nxt = [(at, m) for at, m in nxt if at >= 0]
        if not nxt:
            pairs.append((keys[j], line[start:]))
            return pairs
        at, m = min(nxt)
        pairs.append((keys[j], line[start:at]))
        pos, first = at + 1, m


def is_serial_key(name: str) -> bool:
    """True for a 序号 column's name (序号, 编号, No.)."""
    return bool(_SERIAL_KEY.match(name.strip()))


def row_label(pairs: Sequence[tuple[str, str]], ordinal: int) -> str:
    """A row's label: "序号 N" from its 序号 column when it holds a number, else "第N行" (its place among the rows)."""
    for k, v in pairs:
        if is_serial_key(k) and _SERIAL_VALUE.match(v.strip()):
            return f"{k} {v.strip()}"
    return f"第{ordinal}行"
