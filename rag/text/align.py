"""Align: the clauses of two versions of a document -> pairs (old, new) and what changed in each.

Articles keep their text but not their numbers across a revision, so pairs are found by text:
same label and text first, then an order-preserving alignment on character-bigram similarity
(with a small bonus for the same label and the same heading title, so renumbering after inserted
articles and moved chapters is followed), then articles moved out of order, then splits (one old
article whose text two new ones share) and merges. Unpaired clauses are added or removed.

Each changed pair gets a list of changes: figures, ratios and amounts, dates, deadlines
(六十日 -> 六十日内), penalties (罚款 amounts) and bodies (国务院 -> 县级以上人民政府) first, then
the other words that differ (jieba tokens, difflib). Pure functions; jieba's dictionary is
loaded on first use.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import jieba
import numpy as np

from rag.text.split import Clause
from rag.text.vocab import CN_DIGITS, CN_NUMERALS, CN_ONE_TO_TEN

jieba.setLogLevel(logging.WARNING)

KINDS = ("figure", "date", "deadline", "penalty", "body", "text")
MIN_SIM = 0.3  # least bigram similarity of an order-preserving pair
MOVE_SIM = 0.55  # least similarity of a pair out of order
GAP_SIM = 0.15  # least similarity of the one old and one new clause between two pairs
MIN_GRAMS = 8  # the least wording (4-grams) that makes a share of a split or merge
SHARE = 0.5  # least share of a clause's 4-grams found in the other of a split or merge

_NUM = rf"(?:\d+(?:[.．]\d+)?|[{CN_NUMERALS}亿]+(?:点[{CN_DIGITS}]+)?)"
_TIME = r"(?:个工作日|工作日|个月|个小时|小时|日|天|周|年)"
_AMOUNT = rf"{_NUM}(?:万元|亿元|元|倍)(?:以上|以下)?"
_TERM = rf"{_NUM}{_TIME}(?:以上|以下)?"
_DATE = re.compile(
    rf"(?:\d{{4}}|[{CN_DIGITS}]{{4}})年(?:[\d{CN_ONE_TO_TEN}]{{1,3}}月(?:[\d{CN_ONE_TO_TEN}]{{1,3}}日)?)?"
    rf"|[\d{CN_ONE_TO_TEN}]{{1,3}}月[\d{CN_ONE_TO_TEN}]{{1,3}}日"
)
_PENALTY = re.compile(
    rf"(?:{_AMOUNT}|{_TERM})(?:[^，。；\n]{{0,6}}?(?:{_AMOUNT}|{_TERM}))*[^，。；\n]{{0,8}}?(?:罚款|罚金|拘留|有期徒刑|拘役)"
)
_DEADLINE = re.compile(rf"{_NUM}{_TIME}(?:以内|之内|内|以前|之前|前|以后|之后|后|届满)?")
_FIGURE = re.compile(
    rf"百分之{_NUM}|{_NUM}\s*[%％‰]|{_NUM}分之{_NUM}|{_AMOUNT}"
    rf"|\d+(?:[.．]\d+)?(?:平方米|平方公里|公里|米|亩|吨|人|名|家|项|次|个|岁)?"
    rf"|{_NUM}(?:平方米|平方公里|公里|米|亩|吨|人|名|家|项|次|岁)"
)
_ORDINAL = re.compile(rf"第{_NUM}[条款项章节编目]")  # a cross-reference, not a figure
_FACTS = (("date", _DATE), ("penalty", _PENALTY), ("deadline", _DEADLINE), ("figure", _FIGURE))
_ORGAN = re.compile(r"国务院|人民政府|政府|部门|机关|机构|委员会|法院|检察院|办公厅|办公室|[局厅署]$")
_ORGAN_WORDS = frozenset("县级 以上 省级 市级 地方 各级 本级 上一级 有关 主管 相关 工作 设区 的 市 县 乡 镇".split())
_HEADING_LINE = re.compile(r"^\s*(?:#{1,6}\s|第\S+?[编章节](?:\s|$))")
_BLANK = " \t\r\u3000\u200b\ufeff"  # a line of only these is empty
_NON_TEXT = re.compile(r"[\s，。；：、,.;:（）()“”\"'《》]+")


@dataclass(frozen=True)
class Unit:
    """One article or item: its clauses (a long one's parts joined) and its text from its label on."""

    label: str
    headings: tuple[str, ...]
    text: str  # as the document has it, from the label on
    body: str  # the text without its label
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Change:
    """One difference: its kind (`KINDS`) and the old and new wording ("" for none)."""

    kind: str
    old: str
    new: str


@dataclass(frozen=True)
class Pair:
    """An old clause and the new one it became (None: added or removed), and what changed."""

    old: Unit | None
    new: Unit | None
    status: str  # "same" | "changed" | "added" | "removed"
    changes: tuple[Change, ...] = ()
    score: float = 0.0  # the text similarity the pair rests on


def units(clauses: Sequence[Clause]) -> list[Unit]:
    """The clauses grouped into units: a long unit's parts (part > 0) join the part before them."""
    groups: list[list[Clause]] = []
    for c in clauses:
        if groups and c.part > 0 and groups[-1][-1].label == c.label:
            groups[-1].append(c)
        else:
            groups.append([c])
    out = []
    for g in groups:
        text = g[0].text
        for prev, c in zip(g, g[1:]):
            gap = c.start - prev.end
            text += ("\n" * min(gap, 2) if gap > 0 else "") + c.text
        text = _from_label(text, g[0].label)
        body = text[len(g[0].label) :].strip() if g[0].label and text.startswith(g[0].label) else text
        if any(not _HEADING_LINE.match(line) for line in text.splitlines() if line.strip(_BLANK)):
            out.append(Unit(g[0].label, g[0].headings, text, body, tuple(g)))
    return out


def _from_label(text: str, label: str) -> str:
    """The text from the line its label opens on (heading lines kept in a clause before it left out)."""
    if not label or text.startswith(label):
        return text
    at = text.find("\n" + label)
    return text[at + 1 :] if at >= 0 else text


def _bigrams(text: str) -> set[str]:
    s = _NON_TEXT.sub("", text)
    return {s[i : i + 2] for i in range(len(s) - 1)} or ({s} if s else set())


def _heading_title(headings: tuple[str, ...]) -> str:
    """The innermost heading without its number: '第二章 行政复议范围' -> '行政复议范围'."""
    return re.sub(r"^第\S+[编章节]\s*", "", headings[-1]).replace(" ", "") if headings else ""


def _overlaps(olds: Sequence[Unit], news: Sequence[Unit]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shared bigrams, old sizes, new sizes) of every old/new pair of units."""
    a, b = [_bigrams(u.body) for u in olds], [_bigrams(u.body) for u in news]
    vocab = {g: k for k, g in enumerate(set().union(*a, *b))}
    ma, mb = np.zeros((len(a), len(vocab)), np.float32), np.zeros((len(b), len(vocab)), np.float32)
    for m, sets in ((ma, a), (mb, b)):
        for i, s in enumerate(sets):
            m[i, [vocab[g] for g in s]] = 1
    return ma @ mb.T, ma.sum(1), mb.sum(1)


def align(old: Sequence[Clause], new: Sequence[Clause]) -> list[Pair]:
    """Pair the clauses of an old and a new version (see the module docstring), in the new order
    with removed clauses after the pair of the old clause before them."""
    olds, news = units(old), units(new)
    n, m = len(olds), len(news)
    if not n or not m:
        return [Pair(u, None, "removed") for u in olds] + [Pair(None, u, "added") for u in news]
    inter, sa, sb = _overlaps(olds, news)
    sim = 2 * inter / np.maximum(sa[:, None] + sb[None, :], 1)
    bonus = np.zeros_like(sim)
    for i, u in enumerate(olds):
        for j, v in enumerate(news):
            bonus[i, j] = 0.05 * (u.label == v.label and bool(u.label)) + 0.03 * (
                _heading_title(u.headings) == _heading_title(v.headings)
            )
    score = sim + bonus
    links = [(i, j) for i, j in np.argwhere(sim >= MOVE_SIM).tolist()
             if score[i, j] == score[i].max() == score[:, j].max()]  # fmt: skip
    used_old, used_new = {i for i, _ in links}, {j for _, j in links}
    rest = np.where(sim >= MIN_SIM, score, -1.0)
    rest[sorted(used_old), :] = -1.0
    rest[:, sorted(used_new)] = -1.0
    for i, j in _monotonic(rest):  # the others in order, around the pairs that are each other's best
        links.append((i, j))
        used_old.add(i)
        used_new.add(j)
    for i, j in sorted(np.argwhere(sim >= MOVE_SIM).tolist(), key=lambda ij: -sim[ij[0], ij[1]]):
        if i not in used_old and j not in used_new:  # moved out of order
            links.append((i, j))
            used_old.add(i)
            used_new.add(j)
    links += _shared(olds, news, links)
    links += _gaps(sim, links)
    return _pairs(olds, news, links, sim)


def _monotonic(score: np.ndarray) -> list[tuple[int, int]]:
    """The order-preserving links with the greatest total score (negative scores never link)."""
    n, m = score.shape
    best = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        row, prev = best[i], best[i - 1]
        for j in range(1, m + 1):
            s = score[i - 1, j - 1]
            row[j] = max(prev[j], row[j - 1], prev[j - 1] + s if s > 0 else -1.0)
    links, i, j = [], n, m
    while i and j:
        s = score[i - 1, j - 1]
        if s > 0 and best[i, j] == best[i - 1, j - 1] + s:
            links.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i, j] == best[i - 1, j]:
            i -= 1
        else:
            j -= 1
    return links[::-1]


def _grams(text: str, n: int = 4) -> set[str]:
    s = _NON_TEXT.sub("", text)
    return {s[i : i + n] for i in range(len(s) - n + 1)} or ({s} if s else set())


def _shared(olds: Sequence[Unit], news: Sequence[Unit], links: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Splits and merges, on 4-grams: a clause left unpaired most of whose wording is in one clause of
    the other version (and in no other: boilerplate such as 构成犯罪的，依法追究刑事责任 is not a split),
    and a paired clause a good part of whose wording its partners leave out and one more clause holds."""
    a, b = [_grams(u.body) for u in olds], [_grams(u.body) for u in news]
    out: list[tuple[int, int]] = []
    for mine, theirs, flip in ((b, a, True), (a, b, False)):
        partners: dict[int, set[int]] = {}
        for i, j in links:
            k, other = (j, i) if flip else (i, j)
            partners.setdefault(k, set()).add(other)
        for k, grams in enumerate(mine):
            rest = grams - set().union(*(theirs[o] for o in partners.get(k, ())))
            if len(rest) < max(MIN_GRAMS, (1 - SHARE) * len(grams)):
                continue
            mates = partners.get(k, set())
            shares = sorted(((len(rest & g) / len(rest), o) for o, g in enumerate(theirs) if o not in mates),
                            reverse=True)  # fmt: skip
            if shares and shares[0][0] >= SHARE and (len(shares) < 2 or shares[1][0] < SHARE):
                o = shares[0][1]
                out.append((o, k) if flip else (k, o))
    return list(dict.fromkeys(out))


def _gaps(sim: np.ndarray, links: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Between two pairs in order, one clause left over on one side: paired with the most similar one
    left over on the other side when they share a little wording (the article that replaced it)."""
    old_used, new_used = {i for i, _ in links}, {j for _, j in links}
    bounds = sorted(p for p in links if all((a < p[0]) == (b < p[1]) for a, b in links if (a, b) != p))
    out = []
    for (i0, j0), (i1, j1) in zip([(-1, -1), *bounds], [*bounds, sim.shape]):
        olds = [i for i in range(i0 + 1, i1) if i not in old_used]
        news = [j for j in range(j0 + 1, j1) if j not in new_used]
        if len(olds) == 1 and news:
            j = max(news, key=lambda j: sim[olds[0], j])
            if sim[olds[0], j] >= GAP_SIM:
                out.append((olds[0], j))
        elif len(news) == 1 and olds:
            i = max(olds, key=lambda i: sim[i, news[0]])
            if sim[i, news[0]] >= GAP_SIM:
                out.append((i, news[0]))
    return out


def _pairs(olds: Sequence[Unit], news: Sequence[Unit], links: list[tuple[int, int]], sim: np.ndarray) -> list[Pair]:
    by_old: dict[int, list[int]] = {}
    by_new: dict[int, list[int]] = {}
    for i, j in links:
        by_old.setdefault(i, []).append(j)
        by_new.setdefault(j, []).append(i)
    keyed: list[tuple[tuple[float, int], Pair]] = []
    for i, j in links:
        u, v = olds[i], news[j]
        if len(by_old[i]) > 1:  # split: this new clause against its share of the old text
            u_text = _share_of(u.body, [news[k].body for k in sorted(by_old[i])], sorted(by_old[i]).index(j))
            v_text = v.body
        elif len(by_new[j]) > 1:  # merged: this old clause against its share of the new text
            u_text = u.body
            v_text = _share_of(v.body, [olds[k].body for k in sorted(by_new[j])], sorted(by_new[j]).index(i))
        else:
            u_text, v_text = u.body, v.body
        same = _squash(u.body) == _squash(v.body)
        changes = () if same else tuple(diff_text(u_text, v_text))
        keyed.append(((j, i), Pair(u, v, "same" if same else "changed", changes, float(sim[i, j]))))
    for j in set(range(len(news))) - set(by_new):
        keyed.append(((j, -1), Pair(None, news[j], "added")))
    placed = sorted(by_old)
    for i in set(range(len(olds))) - set(by_old):
        before = [by_old[k][-1] for k in placed if k < i]
        keyed.append(((max(before) + 0.5 if before else -0.5, i), Pair(olds[i], None, "removed")))
    return [p for _, p in sorted(keyed, key=lambda kp: kp[0])]


def _share_of(text: str, pieces: list[str], k: int) -> str:
    """The part of `text` that lines up with piece k of `pieces` (the clauses it was split into)."""
    joined, bounds, pos = "", [], 0
    for p in pieces:
        bounds.append((pos, pos + len(p)))
        joined += p
        pos += len(p)
    lo, hi = bounds[k]
    sm = SequenceMatcher(None, text, joined, autojunk=False)
    starts, ends = [], []
    for b in sm.get_matching_blocks():
        s, e = max(b.b, lo), min(b.b + b.size, hi)
        if e > s:
            starts.append(b.a + s - b.b)
            ends.append(b.a + e - b.b)
    return text[min(starts) : max(ends)] if starts else ""


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- what changed ------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, int, int]]:
    out, pos = [], 0
    for tok in jieba.lcut(text, HMM=False):
        out.append((tok, pos, pos + len(tok)))
        pos += len(tok)
    return out


def facts(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of the dates, penalties, deadlines and figures in `text`, in that order of
    precedence (a date's 日 is not a deadline; a 罚款 amount is a penalty, not a figure); 第X条 left out."""
    chars = list(text)
    found: list[tuple[str, int, int]] = []
    for m in _ORDINAL.finditer(text):
        chars[m.start() : m.end()] = "\0" * (m.end() - m.start())
    for kind, rx in _FACTS:
        for m in rx.finditer("".join(chars)):
            if not m.group(0).strip("\0"):
                continue
            found.append((kind, m.start(), m.end()))
            chars[m.start() : m.end()] = "\0" * (m.end() - m.start())
    return sorted(found, key=lambda f: f[1])


def diff_text(old: str, new: str) -> list[Change]:
    """The changes from `old` to `new`: figures, dates, deadlines, penalties and bodies first (each
    widened to the whole figure or name on both sides), then the other words that differ."""
    a, b = _tokens(old), _tokens(new)
    fa, fb = facts(old), facts(new)
    sm = SequenceMatcher(None, [t for t, _, _ in a], [t for t, _, _ in b], autojunk=False)
    spans: list[tuple[str, int, int, int, int]] = []  # kind, old start, old end, new start, new end
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        os_, oe = _chars(a, i1, i2, len(old))
        ns, ne = _chars(b, j1, j2, len(new))
        kind = "text"
        hit_a, hit_b = _touching(fa, os_, oe), _touching(fb, ns, ne)
        if hit_a or hit_b:
            kind = min((f[0] for f in hit_a + hit_b), key=("penalty", "deadline", "date", "figure").index)
            os_, oe = _widen(os_, oe, hit_a)
            ns, ne = _widen(ns, ne, hit_b)
        elif _organish(a[i1:i2]) or _organish(b[j1:j2]):
            (s1, e1), (s2, e2) = _organ(a, i1, i2, old), _organ(b, j1, j2, new)
            if _ORGAN.search(old[s1:e1]) or _ORGAN.search(new[s2:e2]):  # an organ's name changed
                kind, os_, oe, ns, ne = "body", s1, e1, s2, e2
        if spans and spans[-1][0] == kind != "text" and (os_ < spans[-1][2] or ns < spans[-1][4]):
            k, s1, e1, s2, e2 = spans.pop()  # two edits inside one figure or name
            os_, oe, ns, ne = min(s1, os_), max(e1, oe), min(s2, ns), max(e2, ne)
        spans.append((kind, os_, oe, ns, ne))
    changes = [Change(k, old[s1:e1].strip(), new[s2:e2].strip()) for k, s1, e1, s2, e2 in spans]
    changes = [c for c in changes if c.old != c.new and (_NON_TEXT.sub("", c.old) or _NON_TEXT.sub("", c.new))]
    return [c for c in changes if c.kind != "text"] + [c for c in changes if c.kind == "text"]


def _chars(toks: list[tuple[str, int, int]], i1: int, i2: int, n: int) -> tuple[int, int]:
    """Character span of tokens i1..i2 (an empty span at the gap when i1 == i2)."""
    if i1 < i2:
        return toks[i1][1], toks[i2 - 1][2]
    at = toks[i1][1] if i1 < len(toks) else n
    return at, at


def _touching(found: list[tuple[str, int, int]], s: int, e: int) -> list[tuple[str, int, int]]:
    """The facts overlapping [s, e), or touching it when it is empty (an insertion point)."""
    if s == e:
        return [f for f in found if f[1] <= s <= f[2]]
    return [f for f in found if f[1] < e and s < f[2]]


def _widen(s: int, e: int, found: list[tuple[str, int, int]]) -> tuple[int, int]:
    for _, fs, fe in found:
        s, e = min(s, fs), max(e, fe)
    return s, e


def _organish(toks: list[tuple[str, int, int]]) -> bool:
    """Whether the changed tokens are (part of) an organ's name: 国务院, 县级, 有关部门, …"""
    return any((t in _ORGAN_WORDS and t != "的") or _ORGAN.search(t) for t, _, _ in toks)


def _organ(toks: list[tuple[str, int, int]], i1: int, i2: int, text: str) -> tuple[int, int]:
    """The span of tokens i1..i2 widened over the neighbouring words of the organ's name."""
    def part(k: int) -> bool:
        return 0 <= k < len(toks) and (toks[k][0] in _ORGAN_WORDS or bool(_ORGAN.search(toks[k][0])))

    lo, hi = i1, i2
    while part(lo - 1):
        lo -= 1
    while part(hi) and (hi == i2 or _ORGAN.search(toks[hi][0]) or part(hi + 1)):
        hi += 1
    while hi > lo and toks[hi - 1][0] == "的":
        hi -= 1
    return _chars(toks, lo, hi, len(text))
