"""Align: the clauses of two versions of a document -> pairs (old, new) and what changed in each.

Articles keep their text but not their numbers across a revision, and a revision also splits, merges,
moves, rewrites, adds and removes them. Pairs are found from the text, sentence by sentence, and then
from the order:

1. Text flow. Each article is cut into sentences (at 。；： and line ends; list markers and the numbers
   of cross-references left out). Sentence pairs are taken from the most alike down (Dice of
   IDF-weighted character trigrams; between equals, the pair whose articles are more alike first);
   each takes the wording neither sentence has given to a better partner yet, and counts when that is
   most of the shorter sentence (`COVER`). A sentence found in `BOILER` articles of one version
   (构成犯罪的，依法追究刑事责任) tells none of them apart and is left out. Two articles are linked
   when `THETA` of either one's wording went to the other (a split or a merge is several such links);
   an article with no such link takes the one most of its wording went to, if that is `THETA_WEAK`.
2. Order. The links that keep both versions' order (the heaviest such chain) bound gaps. In a gap, the
   old and new articles left unlinked are paired in order when alike as wholes (Dice of IDF-weighted
   bigrams, a little more for the same label and heading title): `FILL`, or `FILL_MUTUAL` for two
   that are each other's most alike in the whole document. An article alone on its side of a gap
   joins the article of a bounding pair whose wording not yet paired it most resembles (`MERGE`):
   merged into it, or split off from it.
3. Moves. Articles still unpaired on both sides are paired where each is the other's most alike
   (`MOVE`); one nearly the same as an article already paired joins it (`DUPLICATE`: the wording
   of two articles now stands in one). The rest are added or removed.
4. Meaning (only when the caller gives `similar`: the cosines of the clauses' vectors). An old article
   still unpaired joins the new article that is its most alike both in wording and in meaning, when
   their wording is at least `AGREE` alike: a second opinion for a weak match, never a pair the
   wording alone contradicts or a change to a pair already made. Old articles only: a revision seldom
   drops text but often adds articles, and a new article left over is most often new (tried both
   ways on the labelled law pairs, new articles paired so were mostly wrong).
5. Citations. A pair not resting on `THETA` of shared wording is undone when both articles cite
   articles of their own version and the pairs made send every article the old one cites to new
   articles the new one does not cite: alike in wording, they apply other provisions (依照本法第十五条
   …转送 against 依照本法第五十六条、第五十七条…转送), so they are different rules.

Each changed pair gets a list of changes: figures, ratios and amounts, dates, deadlines
(六十日 -> 六十日内), penalties (罚款 amounts) and bodies (国务院 -> 县级以上人民政府) first, then
the other words that differ (jieba tokens, difflib). Pure functions; jieba's dictionary is
loaded on first use.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import jieba
import numpy as np

from rag.text.numerals import find_refs
from rag.text.split import Clause
from rag.text.vocab import CN_DIGITS, CN_NUMERALS, CN_ONE_TO_TEN

jieba.setLogLevel(logging.WARNING)

KINDS = ("figure", "date", "deadline", "penalty", "body", "text")
THETA = 0.3  # share of an article's wording carried to another article that links the two
THETA_WEAK = 0.1  # the least share that links an article with no other link
COVER = 0.5  # share of the shorter sentence a sentence pair must carry
MIN_WEIGHT = 12.0  # the least wording (summed trigram IDF, about three rare trigrams) a sentence pair carries
FILL = 0.2  # least likeness of an old and a new article paired in order in a gap
FILL_MUTUAL = 0.1  # the same, for a pair that is each other's most alike in the whole document
MERGE = 0.2  # least likeness (of the wording not yet paired) of an article merged into a neighbour's
MOVE = 0.2  # least likeness of two articles left over paired out of order
DUPLICATE = 0.6  # least likeness of an article left over to one already paired that it joins
BOILER = 3  # a sentence in this many articles of one version is boilerplate: it tells none apart
TIE = 0.1  # weight of the articles' likeness in ordering sentence pairs (parallel provisions)
LABEL_BONUS, HEADING_BONUS = 0.05, 0.03  # likeness added for the same label, the same heading title
AGREE = FILL_MUTUAL  # least likeness of an article left over paired where wording and meaning agree

# The cosines (old x new) of the vectors of two lists of clauses; None: no vectors to compare.
Similar = Callable[[Sequence[Clause], Sequence[Clause]], np.ndarray | None]

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
_ORDINAL = re.compile(rf"第{_NUM}[条款项章节编目]?")  # a cross-reference or an ordinal (第三人), not a figure
_FACTS = (("date", _DATE), ("penalty", _PENALTY), ("deadline", _DEADLINE), ("figure", _FIGURE))
_ORGAN = re.compile(r"国务院|人民政府|政府|部门|机关|机构|委员会|法院|检察院|办公厅|办公室|[局厅署]$")
_ORGAN_WORDS = frozenset("县级 以上 省级 市级 地方 各级 本级 上一级 有关 主管 相关 工作 设区 的 市 县 乡 镇".split())
_HEADING_LINE = re.compile(r"^\s*(?:#{1,6}\s|第\S+?[编章节](?:\s|$))")
_BLANK = " \t\r\u3000\u200b\ufeff"  # a line of only these is empty
_NON_TEXT = re.compile(r"[\s，。；：、,.;:（）()“”\"'《》]+")
_SENTENCE_END = re.compile(r"(?<=[。；;：:！!？?])|\n+")
_ITEM_MARK = re.compile(rf"^\s*(?:[（(][{CN_NUMERALS}\d]+[)）]|\d+[.．、]|[{CN_NUMERALS}]+、)")
_NOT_WORD = re.compile(r"[\W_]+")
_LIST_GLUE = re.compile(r"[、，,和及与或者至到\s]*")  # between the articles of one list of references


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


def _heading_title(headings: tuple[str, ...]) -> str:
    """The innermost heading without its number: '第二章 行政复议范围' -> '行政复议范围'."""
    return re.sub(r"^第\S+[编章节]\s*", "", headings[-1]).replace(" ", "") if headings else ""


def _sentences(body: str) -> list[str]:
    """The sentences of an article as compared: no list marker, cross-reference number or punctuation."""
    out = []
    for part in _SENTENCE_END.split(body):
        s = _NOT_WORD.sub("", _ORDINAL.sub("第条", _ITEM_MARK.sub("", part or "")))
        if s:
            out.append(s)
    return out


def _ngrams(text: str, n: int) -> frozenset[str]:
    return frozenset(text[i : i + n] for i in range(len(text) - n + 1)) or frozenset([text])


def _idf(sets: Sequence[frozenset[str]]) -> dict[str, float]:
    df: dict[str, int] = {}
    for g in sets:
        for x in g:
            df[x] = df.get(x, 0) + 1
    return {x: math.log(len(sets) / d) for x, d in df.items()}


def _likeness(old: list[list[str]], new: list[list[str]]) -> np.ndarray:
    """Dice of the IDF-weighted character bigrams of every old/new pair of articles."""
    a = [frozenset().union(*(_ngrams(s, 2) for s in ss)) for ss in old]
    b = [frozenset().union(*(_ngrams(s, 2) for s in ss)) for ss in new]
    idf = _idf(a + b)
    inter = _shared_weight(a, b, idf)
    wa, wb = [_weight(g, idf) for g in a], [_weight(g, idf) for g in b]
    return 2 * inter / np.maximum(np.add.outer(wa, wb), 1e-9)


def _shared_weight(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]], idf: dict[str, float]) -> np.ndarray:
    """(len(a), len(b)): the weight of the n-grams each pair of sets shares (dense: for a few hundred sets)."""
    vocab = {g: k for k, g in enumerate(idf)}
    ma, mb = np.zeros((len(a), len(vocab)), np.float32), np.zeros((len(b), len(vocab)), np.float32)
    for mat, sets in ((ma, a), (mb, b)):
        for k, g in enumerate(sets):
            mat[k, [vocab[x] for x in g]] = 1
    return (ma * np.array(list(idf.values()), np.float32)) @ mb.T


def _set_pairs(a: Sequence[frozenset[str]], b: Sequence[frozenset[str]], idf: dict[str, float]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The pairs of sets that share n-grams, as (index in a, index in b, weight shared): every n-gram's
    occurrences in a crossed with its occurrences in b, summed by pair (sparse: for thousands of sets)."""
    if not a or not b:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0)
    vocab = {g: k for k, g in enumerate(idf)}
    w = np.array(list(idf.values()))
    occ = []
    for sets in (a, b):
        grams = [vocab[x] for g in sets for x in g]
        owner = np.repeat(np.arange(len(sets)), [len(g) for g in sets])
        order = np.argsort(grams, kind="stable")
        occ.append((np.asarray(grams, np.int64)[order], owner[order]))
    (ga, oa), (gb, ob) = occ
    start = np.searchsorted(gb, np.arange(len(vocab)))
    count = np.searchsorted(gb, np.arange(len(vocab)), side="right") - start
    rep = count[ga]  # each occurrence in a meets this many in b
    first = np.repeat(np.cumsum(rep) - rep, rep)
    at = np.repeat(start[ga], rep) + np.arange(int(rep.sum())) - first
    ia, ib = np.repeat(oa, rep), ob[at]
    key, inverse = np.unique(ia * len(b) + ib, return_inverse=True)
    return key // len(b), key % len(b), np.bincount(inverse, weights=np.repeat(w[ga], rep))


@dataclass
class _Flow:
    """Where each article's wording went: `carried[i, j]` (IDF weight) from old article i to new j,
    each article's whole weight, and the trigrams of each article not carried anywhere."""

    carried: np.ndarray
    old_weight: np.ndarray
    new_weight: np.ndarray
    old_left: list[set[str]]
    new_left: list[set[str]]
    idf: dict[str, float]

    def left_likeness(self, i: int, j: int) -> float:
        """Dice of the wording old article i and new article j have not given to any other."""
        a, b = self.old_left[i], self.new_left[j]
        return 2 * _weight(a & b, self.idf) / max(_weight(a, self.idf) + _weight(b, self.idf), 1e-9)


def _weight(grams: set[str] | frozenset[str], idf: dict[str, float]) -> float:
    return sum(idf[g] for g in grams)


def _flow(old: list[list[str]], new: list[list[str]], like: np.ndarray) -> _Flow:
    """The text flow between the articles' sentences (step 1 of the module doc)."""
    sides = []
    for arts in (old, new):
        owners: dict[str, set[int]] = {}
        for k, ss in enumerate(arts):
            for s in ss:
                owners.setdefault(s, set()).add(k)
        sides.append([(k, _ngrams(s, 3), len(owners[s]) >= BOILER) for k, ss in enumerate(arts) for s in ss])
    so, sn = sides
    idf = _idf([g for _, g, _ in so + sn])
    wo, wn = [_weight(g, idf) for _, g, _ in so], [_weight(g, idf) for _, g, _ in sn]
    empty: frozenset[str] = frozenset()
    ia, ib, shared = _set_pairs([empty if b else g for _, g, b in so], [empty if b else g for _, g, b in sn], idf)
    least = np.maximum(MIN_WEIGHT, COVER * np.minimum(np.array(wo)[ia], np.array(wn)[ib]))
    keep = shared >= least
    dice = 2 * shared / (np.array(wo)[ia] + np.array(wn)[ib])
    cands = [(d, s, t) for d, s, t in zip(dice[keep].tolist(), ia[keep].tolist(), ib[keep].tolist())]
    cands.sort(key=lambda c: -(c[0] + TIE * like[so[c[1]][0], sn[c[2]][0]]))
    given_o: list[set[str]] = [set() for _ in so]
    given_n: list[set[str]] = [set() for _ in sn]
    carried = np.zeros((len(old), len(new)))
    for _, s, t in cands:
        shared = (so[s][1] & sn[t][1]) - given_o[s] - given_n[t]
        w = _weight(shared, idf)
        if w >= MIN_WEIGHT and w >= COVER * min(wo[s], wn[t]):
            given_o[s] |= shared
            given_n[t] |= shared
            carried[so[s][0], sn[t][0]] += w
    old_weight, new_weight = np.zeros(len(old)), np.zeros(len(new))
    old_left: list[set[str]] = [set() for _ in old]
    new_left: list[set[str]] = [set() for _ in new]
    for side, ws, given, total, left in (
        (so, wo, given_o, old_weight, old_left),
        (sn, wn, given_n, new_weight, new_left),
    ):
        for k, ((a, g, boiler), w) in enumerate(zip(side, ws)):
            total[a] += w
            if not boiler:
                left[a] |= g - given[k]
    return _Flow(carried, old_weight, new_weight, old_left, new_left, idf)


def align(old: Sequence[Clause], new: Sequence[Clause], similar: Similar | None = None) -> list[Pair]:
    """Pair the clauses of an old and a new version (see the module docstring), in the new order
    with removed clauses after the pair of the old clause before them. `similar` (optional) gives the
    cosines of the clauses' vectors, old x new: step 4 of the module docstring (None: skipped)."""
    olds, news = units(old), units(new)
    if not olds or not news:
        return [Pair(u, None, "removed") for u in olds] + [Pair(None, u, "added") for u in news]
    sent_o, sent_n = [_sentences(u.body) for u in olds], [_sentences(u.body) for u in news]
    sim = _likeness(sent_o, sent_n)
    flow = _flow(sent_o, sent_n, sim)
    share = np.maximum(flow.carried / np.maximum(flow.old_weight, 1e-9)[:, None],
                       flow.carried / np.maximum(flow.new_weight, 1e-9)[None, :])  # fmt: skip
    strong = {(i, j) for i, j in np.argwhere(share >= THETA).tolist()}
    links = set(strong)
    linked_o, linked_n = {i for i, _ in links}, {j for _, j in links}
    for i in set(range(len(olds))) - linked_o:  # where most of an unlinked article's wording went
        j = int(flow.carried[i].argmax())
        if flow.carried[i, j] >= THETA_WEAK * flow.old_weight[i] > 0:
            links.add((i, j))
    for j in set(range(len(news))) - linked_n:
        i = int(flow.carried[:, j].argmax())
        if flow.carried[i, j] >= THETA_WEAK * flow.new_weight[j] > 0:
            links.add((i, j))
    label_o, label_n = np.array([u.label for u in olds]), np.array([u.label for u in news])
    head_o = np.array([_heading_title(u.headings) for u in olds])
    head_n = np.array([_heading_title(u.headings) for u in news])
    score = sim + LABEL_BONUS * ((label_o[:, None] == label_n[None, :]) & (label_o != "")[:, None])
    score += HEADING_BONUS * (head_o[:, None] == head_n[None, :])
    found = sorted(links)
    found += _gaps(score, sim, found, flow)
    found += _moves(score, found)
    found += _duplicates(sim, found)
    meaning = None if similar is None else _meaning(similar, olds, news)
    if meaning is not None:
        found += _agreed(sim, meaning, found)
    return _pairs(olds, news, _cited_apart(olds, news, found, strong), sim)


def _meaning(similar: Similar, olds: Sequence[Unit], news: Sequence[Unit]) -> np.ndarray | None:
    """(len(olds), len(news)): the mean cosine of the clauses of each old and new unit, from `similar`."""
    sizes_o, sizes_n = [len(u.clauses) for u in olds], [len(u.clauses) for u in news]
    cos = similar([c for u in olds for c in u.clauses], [c for u in news for c in u.clauses])
    if cos is None:
        return None
    cos = np.asarray(cos, np.float64)
    if cos.shape != (sum(sizes_o), sum(sizes_n)):
        raise ValueError(f"similar gave a {cos.shape} matrix for {sum(sizes_o)} x {sum(sizes_n)} clauses")
    starts_o, starts_n = np.cumsum([0, *sizes_o[:-1]]), np.cumsum([0, *sizes_n[:-1]])
    cos = np.add.reduceat(np.add.reduceat(cos, starts_o, axis=0), starts_n, axis=1)
    return cos / np.outer(sizes_o, sizes_n)


def _agreed(sim: np.ndarray, meaning: np.ndarray, links: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Step 4 of the module doc: each old article still unpaired with the new article most alike to it both
    in wording (`sim`) and in meaning, when at least `AGREE` alike in wording."""
    used = {i for i, _ in links}
    best = [(i, int(sim[i].argmax())) for i in range(sim.shape[0]) if i not in used]
    return [(i, j) for i, j in best if j == int(meaning[i].argmax()) and sim[i, j] >= AGREE]


def _own_refs(unit: Unit) -> frozenset[str]:
    """The articles of its own version a unit cites: 本法第十五条, and 第十七条 listed right after it (a bare
    第X条 elsewhere may be another law's: 依照刑法第十条, 《刑法》第二百八十条、第二百八十一条)."""
    out: set[str] = set()
    own, end = False, 0
    for r in find_refs(unit.body):
        own = r.kind == "self" or (r.kind == "bare" and own and bool(_LIST_GLUE.fullmatch(unit.body[end : r.start])))
        if own and r.article:
            out.add(r.article)
        end = r.end
    return frozenset(out)


def _cited_apart(olds: Sequence[Unit], news: Sequence[Unit], links: list[tuple[int, int]],
                 strong: set[tuple[int, int]]) -> list[tuple[int, int]]:  # fmt: skip
    """Step 5 of the module doc: the links less `strong`'s that join two articles citing articles of their
    own versions when the links send every article the old one cites to new ones the new one does not cite."""
    went: dict[str, set[str]] = {}
    for i, j in links:
        went.setdefault(olds[i].label, set()).add(news[j].label)
    kept = []
    for i, j in links:
        cited_o = _own_refs(olds[i]) if (i, j) not in strong else frozenset()
        cited_n = _own_refs(news[j]) if cited_o else frozenset()
        if cited_o and cited_n and cited_o <= went.keys() and not set().union(*(went[a] for a in cited_o)) & cited_n:
            continue
        kept.append((i, j))
    return kept


def _chain(links: list[tuple[int, int]], weight: np.ndarray) -> list[tuple[int, int]]:
    """The links of greatest total weight that keep the order of both versions."""
    best: list[float] = []
    prev: list[int] = []
    for k, (i, j) in enumerate(links):
        b, p = float(weight[i, j]), -1
        for q in range(k):
            a, c = links[q]
            if a < i and c < j and best[q] + weight[i, j] > b:
                b, p = best[q] + float(weight[i, j]), q
        best.append(b)
        prev.append(p)
    out = []
    k = max(range(len(links)), key=best.__getitem__) if links else -1
    while k >= 0:
        out.append(links[k])
        k = prev[k]
    return out[::-1]


def _gaps(score: np.ndarray, sim: np.ndarray, links: list[tuple[int, int]], flow: _Flow) -> list[tuple[int, int]]:
    """Step 2 of the module doc: the unlinked articles of each gap between the links in order, paired in
    order when alike, or (alone on their side) merged into or split off a bounding pair's article."""
    n, m = score.shape
    used_o, used_n = {i for i, _ in links}, {j for _, j in links}
    bounds = _chain(links, sim)
    mutual = (score == score.max(1, keepdims=True)) & (score == score.max(0, keepdims=True))
    out: list[tuple[int, int]] = []
    for (i0, j0), (i1, j1) in zip([(-1, -1), *bounds], [*bounds, (n, m)]):
        olds = [i for i in range(i0 + 1, i1) if i not in used_o]
        news = [j for j in range(j0 + 1, j1) if j not in used_n]
        if olds and news:
            sub = score[np.ix_(olds, news)]
            least = np.where(mutual[np.ix_(olds, news)], FILL_MUTUAL, FILL)
            out += [(olds[a], news[b]) for a, b in _monotonic(np.where(sub >= least, sub, -1.0))]
            continue
        for i in olds:  # merged into a bounding pair's new article
            j = max((j for j in (j0, j1) if 0 <= j < m), key=lambda j: flow.left_likeness(i, j), default=-1)
            like = flow.left_likeness(i, j) if j >= 0 else 0.0
            if like >= MERGE and all(flow.left_likeness(i, k) <= like for k in range(m)):
                out.append((i, j))
        for j in news:  # split off a bounding pair's old article
            i = max((i for i in (i0, i1) if 0 <= i < n), key=lambda i: flow.left_likeness(i, j), default=-1)
            like = flow.left_likeness(i, j) if i >= 0 else 0.0
            if like >= MERGE and all(flow.left_likeness(k, j) <= like for k in range(n)):
                out.append((i, j))
    return out


def _duplicates(sim: np.ndarray, links: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Articles still unpaired that are nearly the same as one already paired (`DUPLICATE`): joined to it,
    as wording two articles of one version shared now stands in one of the other."""
    used_o, used_n = {i for i, _ in links}, {j for _, j in links}
    out = [(i, int(sim[i].argmax())) for i in range(sim.shape[0]) if i not in used_o and sim[i].max() >= DUPLICATE]
    return out + [(int(sim[:, j].argmax()), j) for j in range(sim.shape[1])
                  if j not in used_n and sim[:, j].max() >= DUPLICATE]  # fmt: skip


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


def _moves(score: np.ndarray, links: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Step 3 of the module doc: articles left over on both sides paired where each is the other's most alike."""
    olds = sorted(set(range(score.shape[0])) - {i for i, _ in links})
    news = sorted(set(range(score.shape[1])) - {j for _, j in links})
    if not olds or not news:
        return []
    sub = score[np.ix_(olds, news)]
    out = []
    for a, i in enumerate(olds):
        b = int(sub[a].argmax())
        if sub[a, b] >= MOVE and int(sub[:, b].argmax()) == a:
            out.append((i, news[b]))
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
    precedence (a date's 日 is not a deadline; a 罚款 amount is a penalty, not a figure); 第X条 and other
    ordinals (第三人, 第二次) left out."""
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
