"""Extractive answers, no model: the sentence of the top hits that answers, and its shortest span.

A question asking how much / how many / what proportion (多少, 几, 比例 …), by when / how long
(何时, 期限, 多长时间 …) or who / which body (哪个部门, 谁, 由谁 …) is answered by a short span:
a figure with its unit (20%以上, 30日内, 5000元以下, 三年, 不少于2次), a ratio, a date or
deadline, a body (县级以上人民政府生态环境主管部门). Other questions get the single most
relevant sentence. Everything returned is a verbatim slice of a hit's clause text:
`hit.clause.text[span.start:span.end] == span.text`.

Relevance of a sentence: the summed length of the distinct question words it contains
(`rag.text.tokens.tokenize`), discounted by the hit's rank; a candidate span scores by how
close it lies to those words (the words a figure answers usually come just before it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answers.types import Answer, AnswerSentence, Span
from rag.citing.cite import sentence_spans
from rag.search.retrieve import Hit
from rag.text.tokens import tokenize

_N = r"(?:\d+(?:[.．]\d+)?|[零〇一二三四五六七八九十百千万两半]+)"
_CMP_BEFORE = (
    r"(?:不得少于|不得低于|不得超过|不得高于|不少于|不低于|不超过|不高于|不大于|不小于|不足|不满|超过|达到|达|低于|高于|"
    r"至少|最多|最高|最低|提高到|降低到|控制在|保持在|满|每)?"
)
_UNITS = (
    r"%|％|‰|个百分点|倍|万亿元|亿元|万元|千元|元|个工作日|工作日|日|天|小时|分钟|周|个月|月|年|次|人次|人|名|"
    r"户|家|所|个|项|件|台|辆|类|条|种|处|座|只|米|公里|千米|平方米|平方公里|立方米|亩|公顷|吨|千克|公斤|岁|周岁|"
    r"分贝|级|层|床|张|批|场|期"
)
_NOT_INSIDE = r"(?<![第\d零〇一二三四五六七八九十百千万两.．])"  # not an article number, not mid-numeral
_ONE_FIGURE = (
    rf"{_NOT_INSIDE}{_CMP_BEFORE}(?:百分之{_N}(?:[点.]{_N})?|{_N}\s*(?:{_UNITS}))(?:以上|以下|以内|之内|内|左右|为限)?"
)
_TO = r"(?:至|到|—|－|-|~|～)"
# a figure, or a range of two ("二千元以上二万元以下", "10％至20％", "3至5日")
_FIGURE = re.compile(
    rf"{_ONE_FIGURE}(?:{_TO}?{_ONE_FIGURE})?|{_CMP_BEFORE}{_N}{_TO}{_N}\s*(?:{_UNITS})(?:以上|以下|以内)?"
)
_RATIO = re.compile(rf"{_N}\s*[:：比]\s*{_N}")
_EVERY = r"(?:每年|每月底|每月|每季度|每周|每)?"
_DATE = re.compile(
    rf"{_EVERY}(?:{_N}年)?{_N}月(?:{_N}日)?(?:前|之前|以前|起|底前|底|中旬|上旬|下旬)?"
    rf"|{_N}年(?:底前|年底|底|前|以前|起)|年底前|年内|季度末|月底前"
)
_DEADLINE = re.compile(
    rf"(?:不得超过|不超过|满|{_EVERY}){_N}(?:个)?(?:工作日|日|天|小时|个月|月|年|周)(?:内|以内|之内|前|后)?"
)
_BODY_END = (
    "人民政府|主管部门|行政部门|管理部门|有关部门|部门|机关|机构|委员会|常务委员会|办公室|办事处|人民法院|人民检察院|"
    "公安局|局|厅|委|中心|单位|组织|协会|法院|检察院"
)
_STOP = (
    "负责|应当|会同|依法|可以|按照|根据|组织|建立|制定|履行|予以|做好|加强|"
    "的|对|在|与|及|或者|并|由|经|向|报|将|为|是|对于"
)
_BODY_PIECE = rf"(?:(?:(?!{_STOP})[\u4e00-\u9fff]){{0,14}}?(?:{_BODY_END}))+"
# one body, or several joined (市公安机关会同市农业农村部门, 交通运输部门、综合行政执法部门)
_BODY = re.compile(rf"{_BODY_PIECE}(?:(?:会同|和|、|或者|及)(?:{_BODY_PIECE}))*")

_ASK_AMOUNT = re.compile(r"多少|几|比例|比率|百分之|多大|多高|多长|上限|下限|标准是|金额|额度|罚款|率是|率要|率达")
_ASK_TIME = re.compile(
    r"何时|什么时候|什么时间|期限|时限|多长时间|多久|哪天|哪一天|截止|几天|几日|几个月|几年|日期|时间内"
)
_ASK_BODY = re.compile(
    r"哪个部门|哪些部门|什么部门|哪个机关|哪些机关|哪个机构|哪级|哪一级|由谁|谁|哪个单位|哪些单位|哪家|什么机构|谁来|哪里"
)

_KIND_PATTERNS = {
    "amount": (_FIGURE, _RATIO),
    "time": (_DEADLINE, _DATE),
    "body": (_BODY,),
}
_BOUNDARY = re.compile(r"[，,；;。：:]")
RANK_DISCOUNT = 0.15
LEAD_SHARE = 0.9
TITLE_SHARE = 0.25  # a sentence of hit k scores overlap / (1 + RANK_DISCOUNT * (k - 1))


@dataclass(frozen=True)
class Scored:
    """A sentence of one hit and its relevance to the question."""

    rank: int
    start: int
    end: int
    score: float


def question_kind(question: str) -> str | None:
    """'time', 'amount', 'body' or None (no short span asked for)."""
    if _ASK_TIME.search(question):
        return "time"
    if _ASK_BODY.search(question):
        return "body"
    if _ASK_AMOUNT.search(question):
        return "amount"
    return None


def query_words(question: str) -> set[str]:
    """The question's distinct content words (single ASCII letters/digits dropped)."""
    return {t for t in tokenize(question) if len(t) > 1 or not t.isascii()}


def _overlap(words: set[str], text: str, title_words: frozenset[str] = frozenset()) -> float:
    """Summed length of the question words in `text`; words of the document's title count
    `TITLE_SHARE` (they say which document, not which sentence)."""
    return float(sum(len(t) * (TITLE_SHARE if t in title_words else 1.0) for t in words & set(tokenize(text))))


def sentences(question: str, hits: Sequence[Hit], max_hits: int = 3) -> list[Scored]:
    """Every sentence of the top `max_hits` hits with its relevance, best first (top-ranked hit on ties).

    A lead sentence ending in a colon ("…处五百元至五千元罚款：") also scores `LEAD_SHARE` of its
    best following item, since the items (（一）… ；) are what it applies to.
    """
    words = query_words(question)
    out = []
    for h in list(hits)[:max_hits]:
        text = h.clause.text
        spans = sentence_spans(text)
        title = frozenset(tokenize(h.doc.title))
        raw = [_overlap(words, text[s:e], title) for s, e in spans]
        for i, (s, e) in enumerate(spans):
            score = raw[i]
            if text[s:e].rstrip().endswith(("：", ":")) and i + 1 < len(spans):
                score = max(score, LEAD_SHARE * max(raw[i + 1 :]))
            out.append(Scored(h.rank, s, e, score / (1 + RANK_DISCOUNT * (h.rank - 1))))
    out.sort(key=lambda x: (-x.score, x.rank, x.start))
    return out


def candidates(kind: str, text: str, question: str = "") -> list[tuple[int, int]]:
    """(start, end) of the spans of `text` that could answer a question of `kind`: maximal ones
    (a span inside a longer candidate is only part of the answer), none the question itself contains."""
    spans: set[tuple[int, int]] = set()
    for pattern in _KIND_PATTERNS[kind]:
        for m in pattern.finditer(text):
            s, e = m.start(), m.end()
            while s < e and text[s].isspace():
                s += 1
            piece = text[s:e]
            if e - s < 2 or (question and piece in question):
                continue
            if kind == "body" and piece.startswith(("各", "有关", "相关")) and e - s <= 4:
                continue
            spans.add((s, e))
    return sorted(sp for sp in spans if not any(o != sp and o[0] <= sp[0] and sp[1] <= o[1] for o in spans))


def _positions(words: set[str], text: str) -> list[tuple[int, int, int]]:
    """(start, end, weight) of every occurrence of a question word in `text`."""
    out = []
    for w in words:
        for m in re.finditer(re.escape(w), text):
            out.append((m.start(), m.end(), len(w)))
    return out


def _span_score(span: tuple[int, int], occurrences: list[tuple[int, int, int]], sentence: str) -> float:
    """Question words near the span: those just before it in the same comma-separated phrase
    count most (the words a figure answers come before it); words after it, or beyond a
    phrase boundary (，；、 …), count little."""
    s, e = span
    total = 0.0
    for ws, we, weight in occurrences:
        if we <= s:
            dist, same = s - we, not _BOUNDARY.search(sentence, we, s)
            total += weight / (1 + dist / 20) if same else 0.3 * weight / (1 + dist / 4)
        elif ws >= e:
            dist, same = ws - e, not _BOUNDARY.search(sentence, e, ws)
            total += 0.5 * weight / (1 + dist / 4) if same else 0.0
        # a question word inside the span restates the question: no evidence
    return total


def short_span(question: str, hits: Sequence[Hit], ranked: list[Scored]) -> tuple[Scored, Span] | None:
    """The best (sentence, span) answering a figure/date/body question, or None."""
    kind = question_kind(question)
    if kind is None:
        return None
    words = query_words(question)
    by_rank = {h.rank: h for h in hits}
    best: tuple[float, int, Scored, tuple[int, int]] | None = None
    top = ranked[0].score if ranked else 0.0
    for sc in ranked:
        if sc.score <= 0 or sc.score < 0.5 * top:
            break
        text = by_rank[sc.rank].clause.text
        sentence = text[sc.start : sc.end]
        occurrences = _positions(words, sentence)
        for s, e in candidates(kind, sentence, question):
            value = sc.score + _span_score((s, e), occurrences, sentence)
            key = (value, -(e - s))
            if best is None or key > (best[0], best[1]):
                best = (value, -(e - s), sc, (sc.start + s, sc.start + e))
    if best is None:
        return None
    _, _, sc, (s, e) = best
    text = by_rank[sc.rank].clause.text
    return sc, Span(sc.rank, s, e, text[s:e])


def extract(question: str, hits: Sequence[Hit], max_hits: int = 3) -> Answer:
    """The extractive answer over the top `max_hits` hits (see the module docstring)."""
    if not hits:
        return Answer("extractive", "", note="没有找到相关条款。")
    ranked = sentences(question, hits, max_hits)
    if not ranked:
        return Answer("extractive", "", note="检索到的条款没有可摘录的文字。")
    found = short_span(question, hits, ranked)
    sc, short = found if found else (ranked[0], None)
    text = next(h for h in hits if h.rank == sc.rank).clause.text
    span = Span(sc.rank, sc.start, sc.end, text[sc.start : sc.end])
    sentence = AnswerSentence(span.text, (sc.rank,), True, f"verbatim from clause [{sc.rank}]", span)
    return Answer("extractive", span.text, (sentence,), short=short)


def marks(question: str, hit: Hit, answer: Answer | None) -> tuple[tuple[int, int], ...]:
    """What to mark in `hit`'s clause: the answer span when this clause answers, and at most one
    more sentence, the most relevant one not holding the answer span; never the whole clause
    when it has several sentences. Sorted and non-overlapping."""
    text = hit.clause.text
    spans = sentence_spans(text)
    out: list[tuple[int, int]] = []
    if answer is not None:
        if answer.short is not None and answer.short.rank == hit.rank:
            out.append((answer.short.start, answer.short.end))
        elif answer.sentences and answer.sentences[0].span and answer.sentences[0].span.rank == hit.rank:
            a = answer.sentences[0].span
            out.append((a.start, a.end))
    words = query_words(question)
    free = [(s, e) for s, e in spans if not any(s < oe and os < e for os, oe in out)]
    scored = sorted(((_overlap(words, text[s:e]), s, e) for s, e in free), key=lambda x: (-x[0], x[1]))
    if scored and scored[0][0] > 0 and not (len(spans) > 1 and (scored[0][1], scored[0][2]) == (0, len(text))):
        out.append((scored[0][1], scored[0][2]))
    return tuple(sorted(out))
