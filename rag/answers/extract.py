"""Extractive answers, no model: the sentence of the top hits that answers, and its shortest span.

A question asking how much / how many / what proportion (多少, 几, 比例 …), by when / how long
(何时, 期限, 多长时间 …) or who / which body (哪个部门, 谁, 由谁 …) is answered by a short span:
a figure with its unit (20%以上, 30日内, 5000元以下, 三年, 不少于2次), a ratio, a date or
deadline, a body (县级以上人民政府生态环境主管部门).

A question asking what principle (什么原则 / 按照什么), how (怎样 / 如何处理), which ones (哪些 /
包括什么) or why (为什么 / 什么目的) is answered by the clause-internal segment that carries its
focus: the sentence is cut into segments at ，；：。 (never inside quotes or brackets) and before
enumeration markers (一是, （一）, 1., ①); the answer is the segment naming the principle
(按照“减一补一”的原则), the action after the condition (对…的，[由…约谈…]), the enumerated items
(the 、-list, or 一是…二是…三是… after a lead-in, never the lead-in alone) or the purpose/cause
(为…, 确保…, 只有…才能…). A question whether something may or must be done (能不能…, …可以…吗,
是否需要…) is answered by what the rule says, from its modal word on (…的，一律不得施工; 不得收费),
preferring the rule about what the question asks. A segment that is the whole sentence is no short
answer; a lead-in (应当遵守下列规定：) never stands alone: its items follow it.

Other questions get the single most relevant sentence. Everything returned is a verbatim slice of
a hit's clause text: `hit.clause.text[span.start:span.end] == span.text`.

Relevance of a sentence: the summed length of the distinct question words it contains
(`rag.text.tokens.tokenize`), discounted by the hit's rank, and, when the caller passes the search's
`meaning`, how close it lies to the question in meaning; a candidate span scores its sentence's
relevance plus `SPAN_WEIGHT` × how close it lies to those words (the words a figure answers usually
come just before it), or `FOCUS_WEIGHT` × its own evidence for a how / which / why / may question.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import jieba
import numpy as np

from rag.answers.types import Answer, AnswerSentence, Span
from rag.citing.cite import sentence_spans
from rag.search.retrieve import Hit
from rag.text.numerals import cn_int
from rag.text.tokens import tokenize
from rag.text.vocab import CN_NUMERALS, CN_ONE_TO_TEN, LAW_TYPES

_N = rf"(?:\d+(?:[.．]\d+)?(?:万|亿)?|[{CN_NUMERALS}半]+)"  # 5万(条), 1.2亿(元)
_CMP_BEFORE = (
    r"(?:不得少于|不得低于|不得超过|不得高于|不少于|不低于|不超过|不高于|不大于|不小于|不足|不满|未满|超过|达到|达|低于|高于|"
    r"至少|最多|最高|最低|提高到|降低到|控制在|保持在|届满|满)?"
)
# what an amount is counted per, kept with it (每人每天50元, 每户1200元, 每平方米四十五元)
_PER = rf"(?:(?:每[^\d{CN_NUMERALS}，。；、：\s]{{0,3}}?){{1,2}})?"
_UNITS = (
    r"%|％|‰|个百分点|倍|万亿元|亿元|万元|千元|元|个工作日|工作日|日|天|小时|分钟|周岁|周|个月|月|年|次|人次|人|名|"
    r"户|家|所|个|项|件|台|辆|类|条|种|处|座|只|米|公里|千米|平方米|平方公里|立方米|亩|公顷|吨|千克|公斤|岁|"
    r"分贝|分(?!之)|级|层|床|张|批|场|期|字|毫升|升|摄氏度|℃|度|毫克|克|厘米|毫米|千瓦时|千瓦|学时|课时"
)
_NOT_INSIDE = rf"(?<![第\d{CN_NUMERALS}.．])"  # not an article number, not mid-numeral
_ONE_FIGURE = (
    rf"{_NOT_INSIDE}{_PER}{_CMP_BEFORE}(?:百分之{_N}(?:[点.]{_N})?|{_N}分之{_N}|{_N}\s*(?:{_UNITS}))(?:以上|以下|以内|之内|范围内|内|左右|为限)?"
)
_TO = r"(?:至|到|—|－|-|~|～)"
# a figure, a range of two ("二千元以上二万元以下", "10％至20％", "3至5日"), or two a choice is given
# between ("价款十倍或者损失三倍")
_FIGURE = re.compile(
    rf"{_ONE_FIGURE}(?:{_TO}?{_ONE_FIGURE}|(?:或者|或)[^\d{CN_NUMERALS}，。；、：\s]{{0,4}}{_ONE_FIGURE})?"
    rf"|{_CMP_BEFORE}{_N}{_TO}{_N}\s*(?:{_UNITS})(?:以上|以下|以内)?"
)
_RATIO = re.compile(rf"{_N}\s*[:：比]\s*{_N}")
_EVERY = r"(?:每年|每月底|每月|每季度|每周|每)?"
_DATE = re.compile(
    rf"{_EVERY}(?:{_N}年)?{_N}月(?:{_N}日)?(?:前|之前|以前|起|底前|底|中旬|上旬|下旬)?"
    rf"|{_N}年(?:底前|年底|底|前|以前|起)|年底前|年内|季度末|月底前"
)
_DEADLINE = re.compile(
    rf"(?:不得超过|不超过|不得少于|不少于|不得低于|不低于|至少|最长|最短|届满|满|{_EVERY}){_N}(?:个)?"
    r"(?:工作日|日|天|小时|分钟|个月|月|年|周)(?:内|以内|之内|前|后)?"
)
# how often (多久…一次): 每季度, 至少每半年, 每学期, as well as 每N年 (a deadline's figure)
_ASK_OFTEN = re.compile(r"(?:多久|多长时间|隔多长时间|什么时候|几年|几个月)[^，。？?]{0,12}一次|频次|频率")
_EVERY_PERIOD = re.compile(
    rf"(?:至少|不少于)?每(?:{_N}个?)?(?:季度|学期|半年|年度|年|个月|月|周|旬|日|天|小时)(?:{_N}次)?"
)
_BODY_END = (
    "人民政府|主管部门|行政部门|管理部门|有关部门|部门|机关|机构|委员会|常务委员会|办公室|办事处|人民法院|人民检察院|"
    "公安局|(?<![布格结大全当变开出饭棋书])局|(?<![大客餐舞展门])厅|委|中心|单位|组织|协会|法院|检察院"
)  # 局 and 厅 not of 布局, 大厅
_STOP = (
    "负责|应当|会同|依法|依照|依据|规定|可以|按照|根据|组织|建立|制定|履行|予以|做好|加强|委托|授权|"
    "报送|提交|移送|移交|送交|前款|本条|其中|同时|此外|另外|特别是|尤其是|"
    "的|对|在|与|及|或者|并|由|经|向|报|将|为|是|对于"
)
_STOP_WORDS = tuple(w for w in _STOP.split("|") if len(w) > 1)
# a body's name may hold a bracketed part: 县（市、区）人民政府
_BODY_ONE = rf"(?:(?!{_STOP})[\u4e00-\u9fff]|[（(][\u4e00-\u9fff、]{{1,6}}[）)]){{0,14}}?(?:{_BODY_END})"
# an organ whose unit may follow in one name (look-behinds of fixed width, one each)
_ORGAN_HEADS = ("政府", "国务院", "委员会", "办公厅", "机关", "厅", "局", "委")
_ORGAN_HEAD = "(?:" + "|".join(f"(?<={h})" for h in _ORGAN_HEADS) + ")"
_BODY_PIECE = rf"{_BODY_ONE}(?:{_ORGAN_HEAD}{_BODY_ONE})*"
# 省、自治区、直辖市人民政府; 市或者区绿化行政管理部门
_LEVELS = r"(?:(?:省|自治区|直辖市|设区的市|自治州|市|县|区|乡|镇)(?:、|或者|和))*"
# one body, or several joined (市公安机关会同市农业农村部门, 交通运输部门、综合行政执法部门), or the body
# named by its duty (负有安全生产监督管理职责的部门)
_BODY = re.compile(
    rf"负有[^，。；：\s]{{2,24}}?职责的(?:{_BODY_END})"
    rf"|{_LEVELS}{_BODY_PIECE}(?:(?:会同|和|、|或者|及)(?:{_BODY_PIECE}))*"
)
# a body's generic head alone names no body (…工作的组织领导 -> 组织; …职责的部门 -> 部门)
_GENERIC_BODY = frozenset("部门 有关部门 机关 机构 单位 组织 中心 局 厅 委 协会 委员会 办公室 办事处".split())

_ASK_AMOUNT = re.compile(
    r"多少|几|比例|比率|百分之|多大|多高|多长|多远|上限|下限|标准是|金额|额度|罚款|率是|率要|率达"
    r"|(?:怎么|怎样|如何)(?:处)?罚"
    r"|(?:奖励|补助|补贴|收费|赔偿|津贴|罚款)标准"
)
_ASK_TIME = re.compile(
    r"何时|什么时候|什么时间|期限|时限|多长时间|多久|多快|哪天|哪一天|几号|截止|几天|几日|几个月|几年|日期|时间内"
)
_ASK_BODY = re.compile(
    r"哪个部门|哪些部门|什么部门|哪个机关|哪些机关|哪个机构|哪级|哪一级|由谁|谁|哪个单位|哪些单位|哪家|什么机构|谁来|哪里"
)

_ASK_REASON = re.compile(
    r"为什么|为何|什么目的|目的是|目的何在|出于什么|什么原因|原因是|为了什么|是为了|什么用意|有什么意义|意义何在"
)
_PRINCIPLE_NOUNS = "原则|要求|方针|导向|模式|方式|理念|思路|机制|制度|规则|方法"
_ASK_PRINCIPLE = re.compile(
    rf"(?:什么|何种|哪种|哪条|哪项)(?:{_PRINCIPLE_NOUNS})"
    r"|(?:按照|依照|依据|根据|遵循|本着|坚持|按|照|实行|采取|采用|秉持|贯彻)(?:什么|何种|哪种)|原则是"
)
_ASK_LIST = re.compile(r"哪些|哪几|包括什么|包含什么|有什么内容|什么内容|是指什么|指什么|指哪|有哪|几个方面|几方面")
_ASK_HOW = re.compile(r"怎样|怎么|如何|什么程序|什么步骤|什么流程|什么手续")
# may / must / is it allowed (能不能…, …可以…吗, 是否需要…): what the rule says, from its modal word on; a
# question whether there is a provision at all (有没有…的规定) is answered by the sentence
_ASK_RULE = re.compile(
    r"能不能|能否|可不可以|可否|是否|允不允许|准不准|行不行|需不需要|要不要|必须|[吗么]\s*[？?]?\s*$"
)
_ASK_PROVISION = re.compile(r"(?:有没有|有无|是否有)[^？?]*(?:规定|条款|条文|政策|要求)")
_FOCUS_PATTERNS = (
    ("reason", _ASK_REASON), ("principle", _ASK_PRINCIPLE), ("list", _ASK_LIST), ("procedure", _ASK_HOW),
    ("rule", _ASK_RULE),
)
_MANNER = re.compile(r"(?:依照|按照|根据|依据|遵照|参照)")  # a modal's manner, before its action…
_MANNER_ONLY = re.compile(  # …alone: 依照法律、法规以及管理规约，[…]
    "(?:" + "|".join((*LAW_TYPES, "法律", "法规", "规约", "程序", "约定", "合同", "要求", "标准", "规划")) + ")$"
)
_MODAL = re.compile(r"一律|不得|禁止|严禁|不准|不许|应当|应予|必须|无须|无需|不需要|不必|均须|须经|可以|不予|免予|有权")

_KIND_PATTERNS = {
    "amount": (_FIGURE, _RATIO),
    "time": (_DEADLINE, _DATE),
    "body": (_BODY,),
}
# The units a question asks for (补多少钱 -> 元, 几个人 -> 人/名, 几小时 -> 小时): when a candidate span has one
# of them, spans in other units are not the answer ("每年不得少于300天，每天不得少于8小时" for 几小时).
_MONEY = ("元", "倍", "%", "％", "百分之")  # a subsidy or a fine is also given as a share or a multiple
_ASKED_UNITS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), units)
    for pattern, units in (
        (r"百分之几|百分比|比例|比率|占比|率(?:是|要|达|为)?(?:多少|几)", ("%", "％", "百分之", "个百分点", "‰")),
        (r"(?:几|多少)(?:个)?(?:小时|钟头)", ("小时",)),
        (r"(?:几|多少)分钟", ("分钟",)),
        (r"(?:几|多少)分(?!钟|之)", ("分",)),
        (r"(?:几|多少)(?:个)?(?:工作日|天|日)", ("日", "天", "工作日")),
        (r"(?:几|多少)(?:个)?月", ("月",)),
        (r"(?:几|多少)(?:个)?周(?!岁)", ("周",)),
        (r"(?:几|多少)年", ("年",)),
        (r"(?:几|多少)(?:周)?岁|多大年[龄纪]", ("岁",)),
        (r"(?:几|多少)(?:个)?(?:人|名)", ("人", "名")),
        (r"(?:几|多少)户", ("户",)),
        (r"(?:几|多少)次", ("次",)),
        (r"(?:几|多少)(?:个)?字", ("字",)),
        (r"多远|多大范围|(?:几|多少)(?:米|公里)", ("米", "公里")),
        (r"(?:几|多少)(?:摄氏)?度|温度|室温|气温", ("度", "℃")),
        (r"(?:几|多少)(?:毫升|升)|献血量|抽(?:几|多少)", ("毫升", "升")),
        (r"(?:几|多少)(?:克|千克|公斤|吨)|多重", ("克", "公斤", "吨")),
        (r"(?:几|多少)(?:个)?(?:学时|课时)", ("学时", "课时")),
        (r"钱|多少元|几元|多少万|罚多少|罚款|(?:怎么|怎样|如何)(?:处)?罚|补贴|补助|奖补|奖励|津贴|贷款|贷多少|"
         r"工资|收费|费用|税", _MONEY),
        (r"(?:几|多少)个(?!月|人|工作日|小时|百分点|周)", ("个",)),
    )
)
_BOUNDARY = re.compile(r"[，,；;。：:]")
# The cosines of the question with texts (an answer's candidate sentences, each after its document's
# title), as the search embeds them: the meaning beside the words; None: the words alone.
Meaning = Callable[[Sequence[str]], np.ndarray]
MEANING_WEIGHT = 5.0  # a sentence gains this × the best word score × its cosine above the candidates' mean
MEANING_SENTENCES = 16  # the best sentences by their words that the meaning is asked of (bounds the cost)
logger = logging.getLogger(__name__)
RANK_DISCOUNT = 0.15
SPAN_WEIGHT = 0.25  # a figure/date/body span: its sentence's relevance + this × the question words near it
FOCUS_WEIGHT = 0.5  # a how/which/why/may span: its sentence's relevance + this × its own evidence
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
    """'time', 'amount', 'body' or None (no figure/date/body asked for; see `question_focus`).

    A question asking for a principle or a reason is none of them ("抽查比例依据什么原则"), nor is
    one asking which ones, unless it asks which body or how many ("哪几方面" is a list, not a figure).
    """
    if _ASK_REASON.search(question) or _ASK_PRINCIPLE.search(question):
        return None
    if _ASK_TIME.search(question):
        return "time"
    if _ASK_BODY.search(question):
        return "body"
    if _ASK_LIST.search(question) and "多少" not in question:
        return None
    if _ASK_AMOUNT.search(question):
        return "amount"
    return None


def question_focus(question: str) -> str | None:
    """'reason', 'principle', 'list', 'procedure', 'rule' or None, for a question `question_kind` leaves
    without a kind: why / what principle / which ones / how / may or must (能不能…, …吗)."""
    if question_kind(question) is not None:
        return None
    focus = next((focus for focus, pattern in _FOCUS_PATTERNS if pattern.search(question)), None)
    return None if focus == "rule" and _ASK_PROVISION.search(question) else focus


def query_words(question: str) -> set[str]:
    """The question's distinct content words (single ASCII letters/digits dropped)."""
    return {t for t in tokenize(question) if len(t) > 1 or not t.isascii()}


def _overlap(words: set[str], text: str, title_words: frozenset[str] = frozenset()) -> float:
    """Summed length of the question words in `text`; words of the document's title count `TITLE_SHARE`
    for every sentence of the document, whether it holds them or not (they say which document, not which
    sentence: a document whose title has them is not put behind one whose title has not)."""
    own = sum(len(t) for t in words & set(tokenize(text)) if t not in title_words)
    return float(own + TITLE_SHARE * sum(len(t) for t in words & title_words))


def sentences(question: str, hits: Sequence[Hit], max_hits: int = 3, meaning: Meaning | None = None
              ) -> list[Scored]:  # fmt: skip
    """Every sentence of the top `max_hits` hits with its relevance, best first (top-ranked hit on ties).

    A lead sentence ending in a colon ("…处五百元至五千元罚款：") also scores `LEAD_SHARE` of its
    best following item, since the items (（一）… ；) are what it applies to. With `meaning`, the
    `MEANING_SENTENCES` best also gain by how much closer than their mean they are to the question in
    meaning (`MEANING_WEIGHT`): words the question and the clause put differently (欠了工钱, 拖欠工资).
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
    if meaning is not None and len(out) > 1:
        out = _with_meaning(out, {h.rank: h for h in hits}, meaning)
    return out


def _with_meaning(ranked: list[Scored], by_rank: dict[int, Hit], meaning: Meaning) -> list[Scored]:
    """`ranked` with the best `MEANING_SENTENCES` rescored by `meaning` (see `sentences`), best first; as
    it was when the embedder cannot be reached (the words alone still answer)."""
    head, tail = ranked[:MEANING_SENTENCES], ranked[MEANING_SENTENCES:]
    texts = [f"{by_rank[sc.rank].doc.title}\n{by_rank[sc.rank].clause.text[sc.start : sc.end]}" for sc in head]
    try:
        cos = np.asarray(meaning(texts), dtype=np.float64).reshape(-1)
    except (OSError, RuntimeError, ValueError) as exc:
        logger.warning("answer sentences chosen by their words alone: %s", exc)
        return ranked
    if cos.shape != (len(head),):
        logger.warning("answer sentences chosen by their words alone: %d cosines for %d sentences", cos.size, len(head))
        return ranked
    top = max(sc.score for sc in head)
    head = [replace(sc, score=sc.score + MEANING_WEIGHT * top * (c - cos.mean())) for sc, c in zip(head, cos)]
    return sorted(head, key=lambda x: (-x.score, x.rank, x.start)) + tail


def candidates(kind: str, text: str, question: str = "") -> list[tuple[int, int]]:
    """(start, end) of the spans of `text` that could answer a question of `kind`: maximal ones
    (a span inside a longer candidate is only part of the answer), none the question itself contains."""
    spans: set[tuple[int, int]] = set()
    often = (_EVERY_PERIOD,) if kind == "time" and _ASK_OFTEN.search(question) else ()
    for pattern in _KIND_PATTERNS[kind] + often:
        for m in pattern.finditer(text):
            s, e = m.start(), m.end()
            while s < e and text[s].isspace():
                s += 1
            if kind == "body":
                s = _qualified(text, _past_stop_words(text, _word_start(text, s), e))
                if (text.startswith(("各", "有关", "相关"), s) and e - s <= 4) or text[s:e] in _GENERIC_BODY:
                    continue
            if e - s < 2 or (question and text[s:e] in question):
                continue
            spans.add((s, e))
    return sorted(sp for sp in spans if not any(o != sp and o[0] <= sp[0] and sp[1] <= o[1] for o in spans))


_TO_BODY = frozenset("由向经报到交送给")  # the words a body follows (由…负责, 向…提出, 报…备案)
_QUALIFIER = 16  # the longest relative clause kept before a body (设立该法律援助机构的司法行政部门)


def _qualified(text: str, s: int) -> int:
    """Where a body found at `s` starts with the relative clause that says which one it is, when that
    clause runs back to the word the body follows: 向[设立该法律援助机构的]司法行政部门, 由[牵头制作的]行政机关,
    向[户籍所在地的]乡镇人民政府 (not 对[违反规定的]单位: 对 names no body)."""
    if s < 2 or text[s - 1] != "的":
        return s
    for k in range(s - 2, max(-1, s - 2 - _QUALIFIER), -1):
        ch = text[k]
        if ch in _TO_BODY:
            return k + 1 if k + 1 < s - 1 else s
        if not ("\u4e00" <= ch <= "\u9fff" or ch in "（）()、"):
            return s
    return s


def _word_start(text: str, s: int) -> int:
    """The start of the word (jieba's, without its HMM) that position `s` of `text` falls inside: a body
    found from the middle of a word (生产经营单位 from 营, as 经 may be a preposition) starts with that word."""
    at = max(0, s - 8)
    for _, start, end in jieba.tokenize(text[at : s + 8], HMM=False):
        if at + start < s < at + end:
            return at + start
    return s


def _past_stop_words(text: str, s: int, e: int) -> int:
    """Where a body found at `s` starts once a word of `_STOP_WORDS` it opens inside of, or opens with, is
    left out: 可以委托城市街道办事处 is found from 以委托…, and the body is 城市街道办事处."""
    moved = True
    while moved and s < e:
        moved = False
        for w in _STOP_WORDS:
            for k in range(len(w)):  # w starts k characters before s (0: at s)
                if s - k >= 0 and text.startswith(w, s - k) and s - k + len(w) <= e:
                    s, moved = s - k + len(w), True
                    break
            if moved:
                break
    return s


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


def asked_units(question: str) -> tuple[str, ...]:
    """The units an amount or time question asks for (() when it names none): `_ASKED_UNITS`, the match
    ending last (a question ends on what it asks: 排前几名的乡镇奖励多少 asks for money, not 名), the first
    of the table on a tie."""
    found = [(m.end(), -k, units) for k, (pattern, units) in enumerate(_ASKED_UNITS)
             for m in [None, *pattern.finditer(question)][-1:] if m is not None]  # fmt: skip
    return max(found)[2] if found else ()


_TAKES_EFFECT = re.compile(r"施行|实施|生效")  # a question asking when a document takes effect…
_EFFECT_FOLLOWS = re.compile(r"\s*(?:起\s*)?(?:施行|实施|生效)")  # …is answered by the date it is "起施行" from
_EFFECT_DATE = re.compile(r"日\s*(?:零时)?\s*起\s*(?:施行|实施|生效)")


def short_span(question: str, hits: Sequence[Hit], ranked: list[Scored]) -> tuple[Scored, Span] | None:
    """The best (sentence, span) answering a figure/date/body question, or None. When the question asks
    for a unit (`asked_units`) and some candidate has it, only those candidates are considered; so, for
    a time question about taking effect (什么时候施行), are the dates followed by 起施行/实施/生效 when there
    are any: the other dates of such an article ("…通过的《…》同时废止") are the repealed document's."""
    kind = question_kind(question)
    if kind is None:
        return None
    words = query_words(question)
    by_rank = {h.rank: h for h in hits}
    found: list[tuple[float, int, Scored, tuple[int, int], str]] = []
    effective: list[tuple[float, int, Scored, tuple[int, int], str]] = []  # dates it takes effect from
    top = ranked[0].score if ranked else 0.0
    effect = kind == "time" and _TAKES_EFFECT.search(question) is not None
    for sc in ranked:
        text = by_rank[sc.rank].clause.text
        sentence = text[sc.start : sc.end]
        if sc.score <= 0 or sc.score < 0.5 * top:
            # a weaker sentence counts only for the date a document takes effect from: 本条例自…起施行 is
            # short, while the repeal beside it names the old document, often by the very same title
            if not (effect and _EFFECT_DATE.search(sentence)):
                continue
        occurrences = _positions(words, sentence)
        for s, e in candidates(kind, sentence, question):
            value = sc.score + SPAN_WEIGHT * _span_score((s, e), occurrences, sentence)
            found.append((value, -(e - s), sc, (sc.start + s, sc.start + e), sentence[s:e]))
            if effect and _EFFECT_FOLLOWS.match(sentence, e):
                effective.append(found[-1])
    units = asked_units(question) if kind != "body" else ()
    fitting = [f for f in found if any(u in f[4] for u in units)]
    best = max(effective or fitting or found, key=lambda f: (f[0], f[1]), default=None)  # the first of equals
    if best is None:
        return None
    _, _, sc, (s, e), piece = best
    text = by_rank[sc.rank].clause.text
    s, e = _respectively(question, text, sc, kind, (s, e))
    return sc, Span(sc.rank, s, e, text[s:e])


_RESPECTIVELY = re.compile(r"分别")
_ITEM_SPLIT = re.compile(r"、|以及|和|及|与")


def _respectively(question: str, text: str, sc: Scored, kind: str, span: tuple[int, int]) -> tuple[int, int]:
    """For a sentence pairing items with figures (全自理、半护理、全护理人员…分别按照…的5%、20%、40%确定):
    the figure in the place of the item the question names, when it names exactly one; else `span`."""
    sentence = text[sc.start : sc.end]
    m = _RESPECTIVELY.search(sentence)
    if m is None:
        return span
    head = re.split(r"[，,；;。：:]", sentence[: m.start()])[-1]
    items = [i for i in _ITEM_SPLIT.split(head) if i]
    figures = candidates(kind, sentence[m.end() :])
    if len(items) < 2 or len(figures) != len(items):
        return span

    def named(item: str) -> int:  # the longest start of the item that the question holds
        return max((k for k in range(2, len(item) + 1) if item[:k] in question), default=0)

    scores = [named(i) for i in items]
    best = max(scores)
    if best < 2 or scores.count(best) > 1:
        return span
    a, b = figures[scores.index(best)]
    return sc.start + m.end() + a, sc.start + m.end() + b


# --- how / which / what principle / why: the segment that carries the question's focus ---

_SEG_PUNCT = frozenset("，,；;：:。！!？?\n")
_OPEN = "“‘《（(【「『〔"
_CLOSE = "”’》）)】」』〕"
# an enumeration marker at a segment's start: 一是/二要, （一）/(1), 1./2、, ①
_MARKER = re.compile(
    rf"(?P<say>[{CN_ONE_TO_TEN}]{{1,2}})(?:是|要)"
    rf"|[（(](?P<paren>[{CN_ONE_TO_TEN}]{{1,2}}|\d{{1,2}})[）)]"
    r"|(?P<num>\d{1,2})[.．、](?!\d)"
    r"|(?P<circ>[①-⑳])"
)
# …and one that also starts a segment mid-sentence (no punctuation needed before it)
_INLINE_MARKER = re.compile(rf"(?<!第)[（(][{CN_ONE_TO_TEN}]{{1,2}}[）)]|[①-⑳]")
_LEAD_VERB = re.compile(
    r"(?:严格|认真|全面)?(?:按照|依照|遵照|遵循|本着|坚持|秉持|实行|推行|采取|采用|突出|落实|贯彻|执行)"
)
_PRINCIPLE_NOUN = re.compile(_PRINCIPLE_NOUNS.replace("原则", "原则(?!上)"))  # 原则上: "as a rule"
_TITLE = re.compile(r"《[^》]*》")
_CONDITION_START = re.compile(r"(?:对于|对|凡|如果|如|若|针对|遇到|遇|发现|因|经过)")
_CONDITION_END = re.compile(r"(?:的|后|之后|以后|时|前提下|情况下|期间)$")
_ACTION_START = re.compile(
    r"(?:由|予以|一律|应当|应|须|必须|要|可以|可|建立|实行|报|报送|通过|引导|责令|纳入|落实|组织|会同|先|立即|及时|"
    r"限期|直接|严禁|不得)"
)
_ACTION_WORD = re.compile(
    r"建立|实行|予以|落实|开展|组织|报告|报送|移交|约谈|责令|整改|核实|备案|公示|通报|拆除|转交|督办|申报|办理|签订|"
    r"设立|配备|发放|提供|纳入|追究|处理"
)
_PURPOSE_VERB = re.compile(
    r"(?:进一步|更好|切实|有效|不断|从而|进而|以)?"
    r"(?:确保|保证|维护|保障|提高|提升|促进|推动|实现|增强|降低|减少|营造|防止|避免|满足|改善)"
)
_PURPOSE_INSIDE = re.compile(r"(?:是)?(为了|旨在|目的是)")
_MAIN_CLAUSE_START = re.compile(r"(?:根据|按照|依据|依照|结合|经|现|特|制定|决定|就)")
_DEFINE_START = re.compile(r"(?:即|也就是|具体是|具体为)")
_AND_ITEMS = re.compile(r"和|及|以及|与|或者|或")
_LIST_GOES_ON = re.compile(r"(?:以及|及其|及|和|或者|或|还有)")
_BRACKETED = re.compile(r"[（(][^）)]*[）)]|“[^”]*”|《[^》]*》")
MIN_SAVING = 6  # a focus span is a short answer only when it leaves out this many characters of its sentence
LEAD_WITHIN = 8  # a principle's lead verb follows at most this many characters of subject (各街道要按照…)
SPAN_CAP = 30  # a procedure/reason span grows by the segments that continue it up to this length…
SPAN_GROWTH = 1.3  # …or, for a procedure's long first segment (a law's), to this many times its length


@dataclass(frozen=True)
class Segment:
    """A clause-internal segment: `text[start:end]`, its body after any enumeration marker at
    `body`, and the marker as (family, number) when there is one."""

    start: int
    end: int
    body: int
    marker: tuple[str, int] | None = None


def _cn_number(s: str) -> int:
    """一 … 九十九 (or 1 … 99) as an int (the numbers of enumeration markers)."""
    return cn_int(s) or 0


def _marker_at(text: str, i: int) -> tuple[tuple[str, int], int] | None:
    """The enumeration marker starting at `i` ((family, number), its end), or None."""
    m = _MARKER.match(text, i)
    if m is None:
        return None
    if m.group("say"):
        return ("say" + text[m.end() - 1], _cn_number(m.group("say"))), m.end()
    if m.group("paren"):
        v = m.group("paren")
        return ("paren-digit" if v.isdigit() else "paren", _cn_number(v)), m.end()
    if m.group("num"):
        return ("num", int(m.group("num"))), m.end()
    return ("circ", ord(m.group("circ")) - ord("①") + 1), m.end()


def _in_number(text: str, i: int) -> bool:
    """An ASCII , or : between digits (1,000; 1:1) cuts nothing."""
    return text[i] in ",:" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def segments(text: str, start: int = 0, end: int | None = None) -> list[Segment]:
    """The clause-internal segments of `text[start:end]`: cut at ，；：。！？ and line breaks outside
    quotes and brackets, and before a （一）/① marker; punctuation and surrounding whitespace
    left out. A segment opening with an enumeration marker (一是, （一）, 1., ①) records it."""
    end = len(text) if end is None else end
    cuts: list[tuple[int, int]] = []
    depth, seg_start = 0, start
    for i in range(start, end):
        ch = text[i]
        if depth == 0 and i > seg_start and _INLINE_MARKER.match(text, i):
            cuts.append((seg_start, i))
            seg_start = i
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in _SEG_PUNCT and (depth == 0 or ch == "\n") and not _in_number(text, i):
            cuts.append((seg_start, i))
            seg_start, depth = i + 1, 0
    cuts.append((seg_start, end))
    out = []
    for s, e in cuts:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e <= s:
            continue
        found = _marker_at(text, s)
        if found is not None and found[1] < e:
            out.append(Segment(s, e, found[1], found[0]))
        else:
            out.append(Segment(s, e, s))
    return out


def _occurrences(words: set[str], text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """(start, end, weight) of every occurrence of a question word in `text[start:end]`, clause offsets."""
    return [(start + s, start + e, w) for s, e, w in _positions(words, text[start:end])]


def _inside(a: int, b: int, occ: list[tuple[int, int, int]]) -> float:
    return float(sum(w for s, e, w in occ if a <= s and e <= b))


def _near(a: int, b: int, occ: list[tuple[int, int, int]], scale: float = 10.0, after: float = 1.0,
          text: str | None = None) -> float:  # fmt: skip
    """Question words outside [a, b), by how close they lie; those after it count `after` as much. With
    `text`, each distinct word counts once, at its closest (a word said five times is no more evidence)."""
    best: dict[object, float] = {}
    for k, (s, e, w) in enumerate(occ):
        if e <= a:
            got = w / (1 + (a - e) / scale)
        elif s >= b:
            got = after * w / (1 + (s - b) / scale)
        else:
            continue
        key = text[s:e] if text is not None else k
        best[key] = max(best.get(key, 0.0), got)
    return sum(best.values())


def _is_condition(text: str, seg: Segment) -> bool:
    """A condition rather than an action: 对…的 / …后 / 针对… (对…建立台账 is an action)."""
    body = text[seg.body : seg.end]
    if _ACTION_START.match(body):
        return False
    if _CONDITION_END.search(body):
        return True
    return bool(_CONDITION_START.match(body)) and not _ACTION_WORD.search(body, 2)


def _grow(segs: list[Segment], i: int, keep) -> int:
    """Index of the last segment of the span opening at segs[i] that takes each following segment
    while `keep(segment, length so far)` holds."""
    j = i
    while j + 1 < len(segs) and keep(segs[j + 1], segs[j].end - segs[i].body):
        j += 1
    return j


def _principle_spans(question: str, text: str, segs: list[Segment], occ) -> list[tuple[float, int, int]]:
    """Segments naming a principle: the asked noun (原则, 要求, 方式 …; not inside a 《title》) or a lead
    verb (按照, 坚持, 本着, 实行 …; most when the question uses it), more so with a quoted slogan;
    the span starts at the lead verb."""
    asked = _PRINCIPLE_NOUN.search(question)
    asked_verb = _LEAD_VERB.search(question)
    out = []
    for i, seg in enumerate(segs):
        body = _TITLE.sub(lambda m: "　" * len(m.group()), text[seg.body : seg.end])
        nouns = {m.group() for m in _PRINCIPLE_NOUN.finditer(body)}
        named = bool(asked and asked.group() in nouns)
        lead = _LEAD_VERB.search(body, 0, LEAD_WITHIN + 4)
        if lead and (lead.start() > LEAD_WITHIN or len(body) - lead.end() < 2):  # …有效落实: no object, no principle
            lead = None
        if not (named or lead):  # a quote, or another noun (…机制 for 什么要求), names no principle by itself
            continue
        cue = 8.0 if named else 4.0 if nouns else 0.0
        if lead:
            cue += 3 + (3 if asked_verb and asked_verb.group() in lead.group() else 0)
        if "“" in body:
            cue += 2
        # parallel quoted principles go together: 坚持“谁排查谁整改”,“谁主管谁整改”
        j = _grow(segs, i, lambda nxt, _n: text[nxt.body] == "“")
        start = seg.body + lead.start() if lead else seg.body  # 各街道要按照… -> 按照…
        value = cue + _near(start, segs[j].end, occ) + 0.5 * _inside(start, segs[j].end, occ)
        out.append((value, start, segs[j].end))
    return out


def _how_words(question: str) -> set[str]:
    """The question's words after its how-word (怎样处理 -> 处理): the action it asks about."""
    m = _ASK_HOW.search(question)
    return query_words(question[m.end() :]) if m else set()


def _procedure_spans(question: str, text: str, segs: list[Segment], occ) -> list[tuple[float, int, int]]:
    """Actions, not conditions: the asked verb inside counts most, the question's other words count
    in the conditions right before the segment (对…的，[由…]); an action right after a condition gains;
    the span runs on through the actions that follow, up to `SPAN_CAP`."""
    verbs = _how_words(question)
    out = []
    for i, seg in enumerate(segs):
        if _is_condition(text, seg):
            continue
        cond = i  # the conditions right before it start at segs[cond]
        while cond > 0 and _is_condition(text, segs[cond - 1]):
            cond -= 1
        value = 0.0
        for s, e, w in occ:
            if seg.body <= s and e <= seg.end:
                value += 2 * w if text[s:e] in verbs else 0.4 * w
            elif e <= seg.start:
                value += (1.0 if s >= segs[cond].start else 0.3) * w / (1 + (seg.start - e) / 10)
            elif s >= seg.end:
                value += 0.2 * w / (1 + (s - seg.end) / 10)
        if _ACTION_START.match(text, seg.body):
            value += 2
        if i > 0 and _is_condition(text, segs[i - 1]):
            value += 2

        # the action before it, when the two go together (由…托管，实行…管理; 对…建立台账，落实…)
        first = i
        if i > 0 and not _is_condition(text, segs[i - 1]) and seg.end - segs[i - 1].body <= SPAN_CAP:
            prev = segs[i - 1]
            acts = _ACTION_START.match(text, prev.body) or _ACTION_WORD.search(text[prev.body : prev.end], 2)
            if acts and (_ACTION_START.match(text, prev.body) or _inside(prev.body, prev.end, occ)):
                first = i - 1

        cap = max(SPAN_CAP, SPAN_GROWTH * (segs[first].end - segs[first].body))

        def keep(nxt: Segment, n: int, cap: float = cap) -> bool:
            too_long = n + 1 + (nxt.end - nxt.start) > cap
            return not (too_long or _is_condition(text, nxt) or _PURPOSE_VERB.match(text, nxt.body))

        out.append((value, segs[first].body, segs[_grow(segs, first, keep)].end))
    return out


def _reason_spans(text: str, segs: list[Segment], occ, label: str = "") -> list[tuple[float, int, int]]:
    """Purposes and causes: a purpose clause opening the sentence (为…，…，until 根据/结合/现就),
    只有…才能…, …，才能…, 为了/旨在 inside a segment, a purpose verb (确保, 维护, 提高 …), a cause
    (因为, 由于, 但…); else the segment beside the one restating the question, or, when that one
    closes the sentence ("为什么说X"), what comes before it."""
    if not segs:
        return []
    restating = [_inside(sg.start, sg.end, occ) for sg in segs]
    top = max(range(len(segs)), key=lambda k: restating[k])
    last = len(segs) - 1
    out = []

    def add(cue: float, start: int, j: int, inside_weight: float = 0.3) -> None:
        end = segs[j].end
        out.append((cue + _near(start, end, occ) + inside_weight * _inside(start, end, occ), start, end))

    def purpose_goes_on(nxt: Segment, _n: int) -> bool:  # 为…，…，[根据/结合…，制定本方案]
        return nxt is not segs[last] and not _MAIN_CLAUSE_START.match(text, nxt.body)

    for i, seg in enumerate(segs):
        opens = seg.body
        if i == 0 and label and text.startswith(label, seg.body):  # past the clause's own label: 第一条 为了…
            opens = seg.body + len(label)
            while opens < seg.end and text[opens].isspace():
                opens += 1
        body = text[opens : seg.end]
        inside = _PURPOSE_INSIDE.search(body)
        if i == 0 and body.startswith("为") and last > 0:
            add(8, opens, _grow(segs, i, purpose_goes_on), 1.0)
        elif body.startswith("只有"):
            add(8, seg.body, min(i + 1, last), 1.0)
        elif i > 0 and body.startswith(("才能", "才")):
            add(8, segs[i - 1].body, i, 1.0)
        elif inside:
            add(6, opens + inside.start(1), i, 1.0)
        elif body.startswith(("因为", "由于", "鉴于")):
            add(6, seg.body, _grow(segs, i, lambda nxt, n: n + (nxt.end - nxt.start) <= SPAN_CAP))
        elif i != top and _PURPOSE_VERB.match(body):
            j = _grow(segs, i, lambda nxt, _n: bool(_PURPOSE_VERB.match(text, nxt.body)))
            add(3 + (1 if j == last else 0), seg.body, j)
        elif i != top and body.startswith(("但", "而是", "不能让", "否则", "以免", "以防")):
            add(3, seg.body, _grow(segs, i, lambda nxt, n: n + 1 + (nxt.end - nxt.start) <= SPAN_CAP))
    if out or restating[top] <= 0:
        return out
    # no purpose or cause said as such: what closes on the question ("为什么说X": the segments before
    # X when X ends the sentence), else the segment beside the one restating it
    if top == last and top > 0:
        first = 1 if text.startswith("据", segs[0].body) and top > 1 else 0
        add(3, segs[first].body, top - 1)
    for i in (top + 1, top - 1):
        if 0 <= i <= last:
            add(2 if i > top else 1, segs[i].body, i)
    return out


_ASK_MODAL = re.compile(r"能不能|能否|可不可以|可否|可以|能|需不需要|需要|要不要|要|必须|得|允许|准许|是否")


def _rule_words(question: str) -> set[str]:
    """The question's words after its last modal word (学校能开除吗 -> 开除): what it asks may be done."""
    found = list(_ASK_MODAL.finditer(question))
    return query_words(question[found[-1].end() :]) if found else set()


def _rule_spans(question: str, text: str, segs: list[Segment], occ) -> list[tuple[float, int, int]]:
    """What a rule allows, forbids or requires: a segment with a modal word (不得, 禁止, 应当, 可以, 一律 …),
    from that word to the segment's end (…的，一律不得施工), or a later action of the sentence in the
    modal's scope (…应当推行无纸化办公，不使用一次性杯具); never a lead-in (禁止下列行为：). Scored by the
    question words in it, in its subject before the modal word and in the conditions right before it."""
    asked = _rule_words(question)
    out = []
    modal_before = False
    for i, seg in enumerate(segs):
        m = _MODAL.search(text, seg.body, seg.end)
        lead_in = text[seg.end : seg.end + 1] in ("：", ":")
        if m is not None:
            modal_before = True
            if lead_in or seg.end - m.end() < 2 or _CONDITION_END.search(text, seg.body, seg.end):
                continue  # …应当支付经济补偿的，[在…时支付]: a condition, not the rule
            start, value = m.start(), 3.0
        elif modal_before and not lead_in and not _is_condition(text, seg):
            start, value = seg.body, 2.0
        else:
            continue
        end = seg.end
        manner = _MANNER.match(text, m.end() if m is not None else seg.body)
        if manner and _MANNER_ONLY.search(text, manner.end(), seg.end) and i + 1 < len(segs):
            nxt = segs[i + 1]  # 有权依照法律、法规以及管理规约，[请求行为人停止侵害…]: the action follows the manner
            if not _is_condition(text, nxt) and nxt.end - start <= 2 * SPAN_CAP:
                end = nxt.end
        cond = i  # the conditions right before it start at segs[cond]
        while cond > 0 and _is_condition(text, segs[cond - 1]):
            cond -= 1
        for s, e, w in occ:
            if seg.body <= s and e <= end:
                value += 2 * w if start <= s and text[s:e] in asked else w
            elif s >= segs[cond].start and e <= seg.start:
                value += 0.8 * w
            elif e <= seg.start:
                value += 0.2 * w / (1 + (seg.start - e) / 10)
        out.append((value, start, end, any(start <= s and e <= end and text[s:e] in asked for s, e, _ in occ)))
    if any(says for *_, says in out):  # the rule about what is asked (可以收费吗 -> 不得收费), when one says it
        out = [o for o in out if o[3]]
    return [(value, start, end) for value, start, end, _ in out]


def _enum_items(text: str, seg: Segment) -> int:
    """How many items a 、-enumeration in the segment names (0: none)."""
    body = _BRACKETED.sub("", text[seg.body : seg.end])  # 县(市、区) names no list
    n = body.count("、")
    if n == 0:
        return 0
    return n + 1 + (1 if _AND_ITEMS.search(body) else 0)


def _list_spans(text: str, segs: list[Segment], occ) -> list[tuple[float, int, int]]:
    """、-enumerations of at least three items, by their size and the question words before them; one
    just before the first item counts most (招用X、Y: the list is what is 招用)."""
    out = []
    for i, seg in enumerate(segs):
        n = _enum_items(text, seg)
        if n < 3:
            continue
        # the list goes on in the next segment only when it says so: …，以及屋面防水、外墙保温…
        j = _grow(segs, i, lambda nxt, _n: bool(_LIST_GOES_ON.match(text, nxt.body)) and _enum_items(text, nxt) >= 2)
        if j + 1 < len(segs) and _DEFINE_START.match(text, seg.body):
            j = len(segs) - 1  # 即…: the definition runs to the end of the sentence
        first_item = text.find("、", seg.body, seg.end)
        lead = sum(w for s, e, w in occ if seg.body <= s and e <= first_item)
        near = _near(seg.body, segs[j].end, occ, after=0.3, text=text)
        value = min(n, 6) * 0.8 + near + 0.5 * _inside(seg.body, segs[j].end, occ) + lead
        out.append((value, seg.body, segs[j].end))
    return out


def marker_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of enumerated items in `text` (一是…二是…三是…, （一）…（二）…, 1.…2.…):
    from the first marker to the end of the last item's first sentence, at least two items numbered
    in order."""
    sents = sentence_spans(text)
    items: list[tuple[tuple[str, int], int]] = []  # (marker, start) of markers opening a sentence or after ：
    for s, e in sents:
        for seg in segments(text, s, e):
            if seg.marker and (seg.start == s or text[: seg.start].rstrip()[-1:] in "：:"):
                items.append((seg.marker, seg.start))
    runs = []
    i = 0
    while i < len(items):
        (family, n), first = items[i]
        j = i
        while j + 1 < len(items) and items[j + 1][0] == (family, items[j][0][1] + 1):
            j += 1
        if j > i:
            last = items[j][1]
            end = next((e for s, e in sents if s <= last < e), len(text))
            while end > last and text[end - 1] in "。；;，,：: \n":
                end -= 1
            runs.append((first, end))
        i = j + 1
    return runs


def _lead_in_runs(hits: Sequence[Hit], sc: Scored) -> list[tuple[int, int, int]]:
    """(rank, start, end) of the enumerated items that sentence `sc` leads into or is one of: a run
    in its clause starting at or after the sentence, or one opening the next clause of its document
    when that clause is among `hits`."""
    by_rank = {h.rank: h for h in hits}
    hit = by_rank[sc.rank]
    text = hit.clause.text
    out = []
    for s, e in marker_runs(text):
        gap = text[sc.end : s]
        if s <= sc.start < e or sc.start <= s and (sc.end >= s or not gap.strip()):
            out.append((sc.rank, s, e))
    if not text[sc.end :].strip():
        for h in hits:
            c = h.clause
            if c.doc_id == hit.clause.doc_id and c.ordinal == hit.clause.ordinal + 1:
                runs = marker_runs(c.text)
                if runs and not c.text[: runs[0][0]].strip():
                    out.append((h.rank, runs[0][0], runs[0][1]))
    return out


def focus_span(question: str, hits: Sequence[Hit], ranked: list[Scored]) -> tuple[Scored, Span | None] | None:
    """For a why / what-principle / which / how question (`question_focus`): the sentence that answers
    and the segment(s) of it carrying the focus, or None when the question has no such focus.

    The sentence is one of those scoring at least half the best (`sentences`); a span that leaves
    out fewer than `MIN_SAVING` characters of its sentence is no short answer (None in its place).
    For a list the sentence is widened to the sentences holding the items.
    """
    focus = question_focus(question)
    if focus is None or not ranked:
        return None
    words = query_words(question)
    by_rank = {h.rank: h for h in hits}
    top = ranked[0].score
    # the sentences scoring at least half the best; for a principle also the other sentences of the
    # best one's clause (its lead sentence often states the principle its details follow: "1.坚持先建后补、以奖代补。")
    pool = [
        sc if sc.score >= 0.5 * top else Scored(sc.rank, sc.start, sc.end, 0.5 * top)
        for sc in ranked
        if (sc.score > 0 and sc.score >= 0.5 * top) or (focus == "principle" and sc.rank == ranked[0].rank)
    ]
    best: tuple[float, int, Scored, tuple[int, int, int]] | None = None
    for order, sc in enumerate(pool):
        text = by_rank[sc.rank].clause.text
        segs = segments(text, sc.start, sc.end)
        occ = _occurrences(words, text, sc.start, sc.end)
        if focus == "principle":
            found = _principle_spans(question, text, segs, occ)
        elif focus == "procedure":
            found = _procedure_spans(question, text, segs, occ)
        elif focus == "reason":
            found = _reason_spans(text, segs, occ, by_rank[sc.rank].clause.label)
        elif focus == "rule":
            found = _rule_spans(question, text, segs, occ)
        else:
            found = _list_spans(text, segs, occ)
        spans = [(FOCUS_WEIGHT * v + sc.score, sc.rank, s, e) for v, s, e in found]
        if focus == "list":  # the items a lead-in sentence leads into
            spans += [(sc.score + FOCUS_WEIGHT * 6.0, rank, s, e) for rank, s, e in _lead_in_runs(hits, sc)]
        for value, rank, s, e in spans:
            if best is None or (value, -order) > (best[0], best[1]):
                best = (value, -order, sc, (rank, s, e))
    if best is None:
        return None
    _, _, sc, (rank, s, e) = best
    text = by_rank[rank].clause.text
    if focus != "list" and text[e : e + 2].lstrip()[:1] in ("：", ":"):  # a lead-in: what it leads into too
        e = next((end for r, start, end in _lead_in_runs(hits, sc) if r == rank and start >= e), e)
    if rank != sc.rank or not (sc.start <= s and e <= sc.end):  # the items lie beyond the sentence
        covering = [(a, b) for a, b in sentence_spans(text) if a < e and s < b]
        sc = Scored(rank, covering[0][0], covering[-1][1], sc.score)
    if (sc.end - sc.start) - (e - s) < MIN_SAVING:
        return sc, None
    return sc, Span(rank, s, e, text[s:e])


def extract(question: str, hits: Sequence[Hit], max_hits: int = 3, meaning: Meaning | None = None) -> Answer:
    """The extractive answer over the top `max_hits` hits (see the module docstring); `meaning` as in
    `sentences`."""
    if not hits:
        return Answer("extractive", "", note="没有找到相关条款。")
    ranked = sentences(question, hits, max_hits, meaning)
    if not ranked:
        return Answer("extractive", "", note="检索到的条款没有可摘录的文字。")
    found = short_span(question, hits, ranked) or focus_span(question, hits, ranked)
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
