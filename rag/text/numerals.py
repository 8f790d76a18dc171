"""Chinese numerals as documents write them: article numbers (第一千二百六十条), years (二〇二二), months.

Pure functions, no dependencies: used by clause splitting, the 公文 layer and clause lookup.
"""

from __future__ import annotations

_DIGITS = "零一二三四五六七八九"
_VALUE = {c: i for i, c in enumerate(_DIGITS)} | {"〇": 0, "○": 0, "两": 2}
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
