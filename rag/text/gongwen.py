"""公文 structure (GB/T 9704-2012): which lines are the document's identity and which are its body.

An official document is laid out as 版头 (份号, 密级, 紧急程度, 发文机关标志, 发文字号,
签发人), 标题, 主送机关, 正文, 附件说明, 发文机关署名, 成文日期, 附注, 附件, 版记 (抄送,
印发机关和印发日期). `analyse` finds these zones in a document's kept lines and returns the
document's own title, 文号, issuer and date — taken only from the zones where GB/T 9704 puts
them, never from numbers or dates the body quotes — and the spans of the body (正文 and
附件). 主送, 附件说明, 署名, 日期, 附注 and 版记 are metadata, not clauses.

Kinds of 公文 it knows besides the ordinary 文件:
- 联合行文: several organs in the 发文机关标志 (one a line, "文件" beside or after them, or a
  header table) and in the 署名 (side by side, or a signature table); the issuer is every
  organ, in order, joined by "、";
- 纪要 (and 简报): a "…纪要" 标志, its number (〔2024〕5号 or 第5期) and a line with the issuing
  office and the date in the header; 出席/列席/请假/缺席/记录 lines after the 正文 (and 时间/
  地点/主持/出席… lines before it) are metadata;
- 函: the organ's full name alone as 发文机关标志, over its 文号;
- 印发/转发通知 wrapping a document (方案, 办法, …): the notice's own 成文日期 is the first date
  under a 署名, and the wrapped document's title (after the date, or after a 附件 heading)
  is marked in `Structure.outline` so that the splitter makes it a heading over its clauses.
主送 may be any list of organs or recipients (市直各单位, 有关单位) over up to three lines.

It also reads what a document says it repeals ("《…》（甬民发〔2021〕15号）同时废止",
"原…不再执行") and whether its title marks a revision (修订/修正). A document that only
reports a repeal — a 解读 or 说明, or a sentence naming another document as the one that
repeals ("《X》已被《Y》废止", "《Y》自…施行，《X》同时废止") — repeals nothing itself: its
statements are kept as (repealed, repealing) pairs in `Structure.repeal_reports`.

Pure text functions: nothing here reads files; spans are offsets into the given text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.text.clean import stripped_lines
from rag.text.numerals import cn_int
from rag.text.vocab import (
    CN_DIGITS,
    CN_NUMERALS,
    CN_ONE_TO_TEN,
    DOC_NUMBER,
    DOC_TYPES,
    ORDER_NUMBER,
    REVISED,
    YEAR_NUMBER,
    normalise_title,
)  # fmt: skip

_CJK = r"\u4e00-\u9fa5"
_NUM = r"[\d０-９]+"
_DOC_NUMBER_RE = re.compile(f"{DOC_NUMBER}|{ORDER_NUMBER}")
_NUMBER_LINE = re.compile(
    rf"^[（(]?\s*(?P<no>{DOC_NUMBER}|{ORDER_NUMBER})\s*[)）]?(?:\s*签发人\s*[:：]\s*(?P<who>.+))?$"
)
_SIGNER = re.compile(r"^签发人\s*[:：]\s*(.+)$")
_COPY_NO = re.compile(r"^\d{6}$")
_SECRET = re.compile(r"^(绝密|机密|秘密)\s*(★.*|\d+\s*年)?$")
_URGENCY = re.compile(r"^(特急|加急|特提|平急)$")
_RULE = re.compile(r"^[—\-─━_=＿★☆\s]{3,}$")
_ISSUER_MARK = re.compile(rf"^[{_CJK}（）()、\s]{{2,50}}文件$")
ORG_SUFFIX = (
    "人民政府办公厅|人民政府办公室|人民政府|办公厅|办公室|常务委员会|委员会|人民代表大会|党委|党组|工委|"
    "局|厅|部|院|署|委|会|中心|政府|法院|检察院|公司|集团|大学|学院|支队|总队|站|所|处|科|办"
)
_ORG = re.compile(rf"^[{_CJK}（）()·]{{2,40}}({ORG_SUFFIX})$")
_DATE_LINE = re.compile(
    rf"^(?P<y>\d{{4}}|[{CN_DIGITS}]{{4}})\s*年\s*(?P<m>\d{{1,2}}|[{CN_ONE_TO_TEN}]{{1,2}})\s*月\s*"
    rf"(?P<d>\d{{1,2}}|[{CN_ONE_TO_TEN}]{{1,3}})\s*日$"
)
_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
_ITEM = re.compile(
    rf"^(第[{CN_NUMERALS}\d]+[条章节编篇部分]|[{CN_ONE_TO_TEN}]{{1,3}}、|[(（][{CN_ONE_TO_TEN}]{{1,3}}[)）]|"
    r"\d{1,3}[.．、](?!\d)|[(（]\d{1,3}[)）]|[①-⑳])"
)
_GENRE = re.compile(rf"({'|'.join(DOC_TYPES)})([(（][^)）]{{0,20}}[)）])?$")
_TITLE_OPEN = re.compile(r"(关于|印发|转发|批转|的)$")
_ATTACH_NOTE = re.compile(r"^附\s*件\s*[:：]\s*(.*)$")
_RECIPIENT = re.compile(r"(单位|部门|机构|学校|企业|组织|处室|科室|成员|同志|负责人|委员|代表)$")
# 纪要/简报: the 标志, its number without an organ, and the header line naming the office and the date
_MINUTES_MARK = re.compile(rf"^[{_CJK}（）()]{{2,40}}(纪要|简报)$")
_MINUTES_NUMBER = re.compile(rf"^(?:{YEAR_NUMBER}[号期]|第\s*\d+\s*期)$")
_ORGAN_DATE = re.compile(rf"^(?P<org>[{_CJK}（）()·]{{2,40}}?)[\s\u3000]+(?P<date>\S+年\S+月\S+日)$")
_ATTENDANCE = re.compile(
    r"^(?P<key>出\s*席|列\s*席|请\s*假|缺\s*席|记\s*录)(?:人员|人)?\s*[:：]\s*(?P<value>.*)$"
)
_MEETING = re.compile(r"^(?P<key>时\s*间|地\s*点|主\s*持|参\s*加|参\s*会)(?:人员|人)?\s*[:：]\s*(?P<value>.*)$")
_NAMES = re.compile(r"^[^。；;：:]{1,120}$")  # a line continuing a list of names
# a 解读/说明 reports on another document; the one it is about is 《quoted》 in its title or is its title
_REPORT = re.compile(r"(政策)?(解读|说明|答记者问|问答|解答|图解)$")
_ATTACH_ITEM = re.compile(r"^\d{1,2}\s*[.．、]\s*\S")
_ATTACH_HEAD = re.compile(r"^附\s*件\s*\d{0,2}\s*[:：]?$")
_NOTE = re.compile(r"^[(（].{2,120}[)）]$")
_COLOPHON = re.compile(r"^(抄\s*送|主\s*题\s*词|关\s*键\s*词|分\s*送|报\s*送)\s*[:：]|印\s*发$")
_ADDRESSEE_MAX = 120
_REPEAL_VERB = re.compile(r"(同时|一并|即行|予以|自行)?(废止|不再执行|停止执行|失效)")
_QUOTED_TITLE = re.compile(r"《([^《》]{2,80})》")
_JOINED = re.compile(r"^[\s、，,和及与或以原（(）)]*$")  # between documents repealed together: 《甲》、《乙》和《丙》
_BASIS = re.compile(r"(根据|依据|按照|依照|遵照)\s*$")
_BY = re.compile(r"(已?被|已?由)\s*$")  # "《X》被《Y》废止": Y is the one that repeals
_TAKES_EFFECT = re.compile(r"施行|实施|印发|发布|公布|生效|出台")  # "《Y》自…施行，《X》同时废止"
_WRAPPED = re.compile(r"(?:印发|转发|批转|颁布|发布|公布)《?(.{2,80}?)》?的(?:通知|决定|公告|令)$")


@dataclass(frozen=True)
class Structure:
    """What the layout of a document says about it, and where its body is."""

    title: str | None = None
    title_strong: bool = False  # the title follows a 版头 or names a 公文 genre (…的通知, …办法): it is the 标题
    doc_number: str | None = None
    issuer: str | None = None
    date: str | None = None
    body: tuple[tuple[int, int], ...] = ()
    meta: dict[str, str] = field(default_factory=dict)  # 份号 密级 紧急程度 签发人 主送 附件说明 署名 附注 抄送 印发
    official: bool = False  # a 版头 or a 主送/署名/成文日期 block was found: a 公文
    repeals: tuple[str, ...] = ()  # titles and 文号 this document says it repeals
    revised: bool = False  # its title marks a revision (修订/修正)
    outline: tuple[tuple[int, int], ...] = ()  # (line start, level 0): a wrapped document's title, a heading
    repeal_reports: tuple[tuple[str, str], ...] = ()  # (repealed, repealing): repeals it reports of others


def date_line(line: str) -> str | None:
    """YYYY-MM-DD when `line` is only a date (成文日期 in Arabic or Chinese numerals)."""
    m = _DATE_LINE.match(re.sub(r"\s+", "", line))
    if not m:
        return None
    y, mo, d = (cn_int(m[k]) or 0 for k in ("y", "m", "d"))
    if not (1949 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def find_date(text: str) -> str | None:
    """First date in `text` as YYYY-MM-DD, or None."""
    for m in _DATE.finditer(text):
        y, mo, d = (int(g) for g in m.groups())
        if 1949 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def clean_number(no: str) -> str:
    """A 文号 without spaces or wrapping brackets: '甬民发〔2022〕 12 号' -> '甬民发〔2022〕12号'."""
    return re.sub(r"\s+", "", no).strip("（）()")


def find_doc_number(text: str) -> str | None:
    """The first 文号 in `text` (e.g. 民发〔2021〕76号, 国务院令第596号), spaces removed."""
    m = _DOC_NUMBER_RE.search(text)
    return clean_number(m.group(0)) if m else None


def _is_title_line(s: str) -> bool:
    return 2 <= len(s) <= 60 and not _ITEM.match(s) and not re.search(r"[。；;：:，,]$", s) and "。" not in s


def _title_lines(lines: list[str], i: int) -> int:
    """How many lines from `i` form the title (0 when line i is not a title)."""
    if i >= len(lines) or not _is_title_line(lines[i]):
        return 0
    joined = lines[i]
    for n in range(1, 4):  # a long 标题 wraps over up to four lines
        if _GENRE.search(joined) and not _TITLE_OPEN.search(joined):
            return n
        if i + n >= len(lines) or not _is_title_line(lines[i + n]) or _NUMBER_LINE.match(lines[i + n]):
            break
        if date_line(lines[i + n]) or _ORG.match(lines[i + n]) and n > 0 and _GENRE.search(joined):
            break
        joined += lines[i + n]
    return n if _GENRE.search(joined) and not _TITLE_OPEN.search(joined) else 1


def _addressees(line: str) -> bool:
    """True when `line` reads as a 主送机关 line: organisations or recipients separated by ，、 and a closing colon."""
    if not re.search(r"[:：]$", line) or len(line) > _ADDRESSEE_MAX or re.search(r"[。《“]|为了|根据|如下", line):
        return False
    parts = [p for p in re.split(r"[，、,；;]", line.rstrip(":：")) if p]
    last = parts[-1] if parts else ""
    named = line.startswith("各") or bool(_ORG.match(last) or _RECIPIENT.search(last))
    return all(len(p) <= 25 for p in parts) and named


def _addressee_lines(lines: list[str], i: int) -> int:
    """How many lines from `i` form the 主送 (a list wrapped after a ，/、 over up to three lines); 0: none."""
    for m in range(1, 4):
        if i + m > len(lines):
            break
        if _addressees("".join(lines[i : i + m])):
            return m
        if not re.search(r"[，、,]$", lines[i + m - 1]):
            break
    return 0


def _organs(line: str) -> list[str]:
    """The organs a line names side by side (a 署名 or a row of a signature table), in order; [] if it is
    anything else. A name spaced out letter by letter ("民 政 局") is one organ."""
    pieces = [p for p in re.split(r"[\s\u3000]+", line) if p]
    if len(pieces) > 1 and all(_ORG.match(p) for p in pieces):
        return pieces
    whole = "".join(pieces)
    return [whole] if _ORG.match(whole) else []


def _date_cells(line: str) -> str | None:
    """YYYY-MM-DD of a date-only line, or of a signature-table row whose cells all hold that date."""
    dates = {date_line(c) for c in line.split("\t") if c.strip()}
    return dates.pop() if len(dates) == 1 and None not in dates else None


def _mark_block(lines: list[str], i: int) -> tuple[int, list[str], bool]:
    """A 发文机关标志 from line i: (lines it takes, its organs in order, whether it says 文件).

    One organ a line or several side by side (a header table's rows), "文件" on a line of its own,
    beside them or after the last one: "宁波市民政局 / 宁波市财政局 / 文件". (0, [], False): none.
    """
    organs: list[str] = []
    filed = False
    j = i
    while j < len(lines) and j - i < 6:
        pieces = [p for p in re.split(r"[\s\u3000]+", lines[j]) if p]
        found: list[str] = []
        for piece in pieces:
            if piece == "文件":
                filed = True
            elif _ORG.match(piece):
                found.append(piece)
            elif piece.endswith("文件") and len(piece) > 3:
                found.append(piece[:-2])
                filed = True
            else:
                found = []
                break
        if not found and "文件" not in pieces:
            if j == i and _ISSUER_MARK.match(lines[j].replace(" ", "")):  # "宁 波 市 民 政 局 文 件"
                return 1, [re.sub(r"[\s\u3000]+|文件$", "", lines[j])], True
            break
        organs += found
        j += 1
    return (j - i, organs, filed) if organs else (0, [], False)


def wrapped_title(title: str) -> str | None:
    """The title of the document an 印发/转发 notice wraps: '…关于印发《X》的通知' -> 'X'."""
    m = _WRAPPED.search(title)
    return m.group(1).strip("《》") if m else None


def _same_document(name: str, title: str | None) -> bool:
    """Whether `name` (a 《title》 a text quotes) names the document titled `title`, or the one it wraps."""
    if not title:
        return False

    def norm(t: str) -> str:
        return normalise_title(re.sub("[《》]", "", t))

    return norm(name) in {norm(title), norm(wrapped_title(title) or title)}


def _report_subject(title: str | None) -> str | None:
    """The document a 解读/说明 titled `title` is about: the 《quoted》 title in it, else the title
    without 关于 and 解读; None when `title` is not such a report."""
    if not title or not _REPORT.search(title):
        return None
    m = _QUOTED_TITLE.search(title)
    if m:
        return m.group(1)
    subject = re.sub(r"的$", "", _REPORT.sub("", re.sub(r"^关于", "", title)))
    return subject if len(subject) >= 2 else None


def _repeal_gap(gap: str) -> bool:
    """Whether the words between the last named document and the repeal verb leave that document the
    verb's subject: brackets (a 文号) aside, at most a date or "自…起" clause, no other clause."""
    gap = re.sub(r"[（(][^（）()]*[）)]|^[）)]+", "", gap).strip()
    last = re.split(r"[，,]", gap)[-1].strip()
    return len(gap) <= 40 and ("，" not in gap and "," not in gap or bool(re.match(r"(自|同时|一并|即|予以|均)", last)))


def _run(before: str, named: list[re.Match[str]]) -> list[re.Match[str]]:
    """The documents named together at the end of `named` (《甲》、《乙》和《丙》, 《丁》（文号）)."""
    run = [named[-1]]
    for m in reversed(named[:-1]):
        if m.end() > run[0].start() or not _JOINED.match(before[m.end() : run[0].start()]):
            break
        if _BASIS.search(before[: m.start()]):  # "根据《决定》，《甲》予以废止": the basis, not repealed
            break
        run.insert(0, m)
    return run


def _ref(m: re.Match[str]) -> str:
    return m.group(1) if m.re is _QUOTED_TITLE else clean_number(m.group(0))


def repeal_statements(text: str) -> tuple[tuple[str, str | None], ...]:
    """(repealed, repealing) for each title (《…》 content) or 文号 that `text` says is repealed, in order of
    mention; repealing is the document the sentence names as the one that repeals ("《X》已被《Y》废止",
    "《Y》自…施行，《X》同时废止"), None when it names none (the text itself repeals)."""
    out: list[tuple[str, str | None]] = []
    for sent in re.split(r"[。；;\n]", text):
        verb = _REPEAL_VERB.search(sent)
        if not verb:
            continue
        before = sent[: verb.start()]
        named = sorted([*_QUOTED_TITLE.finditer(before), *_DOC_NUMBER_RE.finditer(before)], key=lambda m: m.start())
        gap = before[max((m.end() for m in named), default=0) :]
        if not named or re.search(r"(的|之)$|规定$|情形|可以|应当|由", gap[-8:]):
            continue  # "…的，予以废止" and the like: a rule about repealing, not a repeal
        if not _repeal_gap(gap):
            continue  # the title is not what the verb acts on: "依照《民事诉讼法》…，请求人民法院宣告该股票失效"
        run = _run(before, named)
        agent: str | None = None
        by = _BY.search(before[: run[0].start()])
        if by:  # 《X》被《Y》废止: the run is Y; X is the run before 被
            agent = _ref(run[0])
            earlier = [m for m in named if m.end() <= by.start()]
            if not earlier or not _repeal_gap(before[earlier[-1].end() : by.start()]):
                continue
            run = _run(before, earlier)
        else:
            earlier = [m for m in named if m.end() <= run[0].start() and m.re is _QUOTED_TITLE]
            if earlier and _TAKES_EFFECT.search(before[earlier[-1].end() : run[0].start()]):
                agent = earlier[-1].group(1)
        out += [(_ref(m), agent) for m in run]
    return tuple(dict.fromkeys(out))


def repeals(text: str) -> tuple[str, ...]:
    """Titles (《…》 content) and 文号 that `text` says are repealed, in order of mention."""
    return tuple(dict.fromkeys(ref for ref, _ in repeal_statements(text)))


def _after_mark(lines: list[str], j: int) -> bool:
    """Whether line j closes a 发文机关标志 that does not say 文件 (a 函's): a 文号 or a rule under it."""
    return j < len(lines) and bool(_NUMBER_LINE.match(lines[j]) or _RULE.match(lines[j]))


def _attendance(lines: list[str], k: int, end: int) -> tuple[dict[str, str], int] | None:
    """出席/列席/请假/记录 lines from k up to `end` (a 纪要's tail), continuation lines of names joined to
    the line before, and how many lines they take; None when something else follows (the 正文 goes on)."""
    out: dict[str, str] = {}
    key = ""
    taken = 0
    for line in lines[k:end]:
        if _date_cells(line) or _organs(line):
            break  # the 署名 and date, if any
        taken += 1
        if m := _ATTENDANCE.match(line):
            key = re.sub(r"\s+", "", m["key"])
            out[key] = (out[key] + "；" if key in out else "") + m["value"].strip()
        elif key and _NAMES.match(line):
            out[key] += line
        else:
            return None
    return out, taken


def analyse(text: str, spans: Sequence[tuple[int, int]]) -> Structure:
    """Find the 公文 zones among the kept lines of `text` (`spans` from `clean_spans`)."""
    pos = stripped_lines(text, spans)  # (start, end, kept span it lies in)
    lines = [text[s:e] for s, e, _ in pos]
    n = len(lines)
    meta: dict[str, str] = {}
    drop: set[int] = set()
    number = date = head_issuer = minutes = None
    mark_organs: list[str] = []

    # 版头: 份号, 密级, 紧急程度, 发文机关标志 (or a 纪要标志, its number and office-and-date line),
    # 发文字号 + 签发人, separator rules.
    i, head = 0, False
    while i < min(n, 12):
        s = lines[i]
        used = 1
        if _COPY_NO.match(s):
            meta["份号"] = s
        elif _SECRET.match(s):
            meta["密级"] = s
        elif _URGENCY.match(s):
            meta["紧急程度"] = s
        elif m := _NUMBER_LINE.match(s):
            number = clean_number(m["no"])
            if m["who"]:
                meta["签发人"] = m["who"].strip()
            head = True
        elif m := _SIGNER.match(s):
            meta["签发人"] = m.group(1).strip()
        elif _RULE.match(s):
            pass
        elif minutes is None and _MINUTES_MARK.match(s) and i + 1 < n and (
            _MINUTES_NUMBER.match(lines[i + 1].replace(" ", "")) or _ORGAN_DATE.match(lines[i + 1])
        ):
            minutes = meta["纪要标志"] = s
            head = True
        elif minutes is not None and number is None and _MINUTES_NUMBER.match(s.replace(" ", "")):
            number = s.replace(" ", "")
        elif minutes is not None and (m := _ORGAN_DATE.match(s)) and _ORG.match(m["org"]) and date_line(m["date"]):
            head_issuer, date = m["org"], date_line(m["date"])
        elif not mark_organs and (block := _mark_block(lines, i))[0] and (block[2] or _after_mark(lines, i + block[0])):
            used, mark_organs, filed = block
            meta["发文机关标志"] = " ".join(lines[i : i + used])
            head = head or filed
        else:
            break
        drop.update(range(i, i + used))
        i += used
    if not head:  # not a 版头 after all: only separators/labels were seen
        drop, i, meta, number, date, head_issuer, minutes, mark_organs = set(), 0, {}, None, None, None, None, []

    # 标题, then an optional (文号) or dated line under it, then 主送机关.
    title = None
    meeting = minutes is not None and i < n and bool(_MEETING.match(lines[i]) or _ATTENDANCE.match(lines[i]))
    t = 0 if meeting else _title_lines(lines, i)
    strong_title = False
    if t:
        title = "".join(lines[i : i + t])
        strong_title = head or bool(_GENRE.search(title))
        if strong_title:
            drop.update(range(i, i + t))
        i += t
        while i < n and (m := _NUMBER_LINE.match(lines[i]) or (_NOTE.match(lines[i]) and find_date(lines[i]))):
            if isinstance(m, re.Match) and number is None:
                number = clean_number(m["no"])
            elif number is None:
                number = find_doc_number(lines[i])
            if date is None and not isinstance(m, re.Match):
                date = find_date(lines[i])
            meta.setdefault("题注", lines[i])
            drop.add(i)
            i += 1
    elif minutes is not None:  # a 纪要 without a title line of its own: its 标志 names it
        title, strong_title = minutes, True
    to = _addressee_lines(lines, i) if head or strong_title else 0
    if to and i + to < n:
        meta["主送"] = "".join(lines[i : i + to]).rstrip("：:")
        drop.update(range(i, i + to))
        i += to
    is_minutes = minutes is not None or bool(title and title.endswith(("纪要", "简报")))
    while is_minutes and i < n and (m := _MEETING.match(lines[i]) or _ATTENDANCE.match(lines[i])):
        meta[re.sub(r"\s+", "", m["key"])] = m["value"].strip()  # 时间/地点/主持/出席… before the 正文
        drop.add(i)
        i += 1
    body_start = i

    # 版记 at the end: 抄送 / 印发 lines and what follows them.
    end = n
    for k in range(max(body_start, n - 12), n):
        if _COLOPHON.search(lines[k].replace(" ", "")):
            end = k
            break
    for k in range(end, n):
        s = lines[k]
        label = re.match(r"(抄送|分送|报送)", s.replace(" ", ""))
        key = "印发" if re.search(r"印\s*发$", s) else label.group(1) if label else "版记"
        meta[key] = (meta.get(key, "") + s).strip()
        drop.add(k)

    # 纪要: who attended, after the 正文.
    if is_minutes:
        for k in range(body_start, end):
            if _ATTENDANCE.match(lines[k]) and (seen := _attendance(lines, k, end)) is not None:
                meta.update(seen[0])
                drop.update(range(k, k + seen[1]))
                break

    # 成文日期: the first date line under a 署名 (else the last date-only line near the end before any
    # 附件); 署名 above it, 附件说明 above that, 附注 under it, then a wrapped document or the 附件.
    dates = [k for k in range(body_start, end) if k not in drop and _date_cells(lines[k])]
    signed = [k for k in dates if k > body_start and k - 1 not in drop and _organs(lines[k - 1])]
    d: int | None = signed[0] if signed else None
    if d is None and (near := [k for k in dates if k >= end - 40]):
        heads = [k for k in range(near[0] + 1, end) if _ATTACH_HEAD.match(lines[k].replace(" ", ""))]
        d = max(k for k in near if k < (heads[0] if heads else end))
    sign_organs: list[str] = []
    outline: list[tuple[int, int]] = []
    if d is not None:
        date = date if minutes is not None and date else _date_cells(lines[d])
        drop.add(d)
        k = d + 1
        while k < end and _NOTE.match(lines[k]):  # 附注 right under the date: （此件公开发布）, a contact
            meta["附注"] = (meta.get("附注", "") + lines[k]).strip()
            drop.add(k)
            k += 1
        wraps = [k] if k < end and not _ATTACH_HEAD.match(lines[k].replace(" ", "")) else []
        wraps += [a + 1 for a in range(k, end - 1) if _ATTACH_HEAD.match(lines[a].replace(" ", ""))]
        for w in wraps:  # the title of a document the notice issues (印发…方案) or attaches
            tl = _title_lines(lines, w)
            if tl and _GENRE.search("".join(lines[w : w + tl])) and not _ATTACH_HEAD.match(lines[w]):
                outline.append((text.rfind("\n", 0, pos[w][0]) + 1, 0))
        signers: list[int] = []
        k = d - 1
        while k >= body_start and len(signers) < 4 and k not in drop and _organs(lines[k]):
            signers.insert(0, k)
            k -= 1
        if signers:
            sign_organs = [o for j in signers for o in _organs(lines[j])]
            meta["署名"] = "；".join(re.sub(r"\t+", " ", lines[j]).strip() for j in signers)
            drop.update(signers)
        # 附件说明: "附件：1.xxx" and further "2.xxx" lines just above the 署名.
        first = signers[0] if signers else d
        k = first - 1
        items: list[int] = []
        while k >= body_start and _ATTACH_ITEM.match(lines[k]) and len(lines[k]) <= 60 and "。" not in lines[k]:
            items.insert(0, k)
            k -= 1
        if k >= body_start and _ATTACH_NOTE.match(lines[k].replace(" ", "")):
            meta["附件说明"] = " ".join(lines[j] for j in [k, *items])
            drop.update([k, *items])
    official = head or "主送" in meta or "署名" in meta or "抄送" in meta
    organs = sign_organs if len(sign_organs) >= len(mark_organs) else mark_organs
    issuer = head_issuer or ("、".join(organs) if organs else None)

    body: list[tuple[int, int]] = []
    run: list[int] | None = None
    prev_block = None
    for k, (s, e, block) in enumerate(pos):
        if k in drop or (block != prev_block and run is not None):
            if run is not None:
                body.append((run[0], run[1]))
            run = None
        prev_block = block
        if k in drop:
            continue
        if run is None:
            run = [s, e]
        else:
            run[1] = e
    if run is not None:
        body.append((run[0], run[1]))

    body_text = "\n".join(text[s:e] for s, e in body)
    subject = _report_subject(title)
    own: list[str] = []
    reported: list[tuple[str, str]] = []
    for ref, agent in repeal_statements(body_text):
        agent = agent or subject  # a 解读 reports the repeals of the document it is about
        if agent is None or _same_document(agent, title):
            own.append(ref)
        else:
            reported.append((ref, agent))
    return Structure(
        title=title,
        title_strong=strong_title,
        doc_number=number,
        issuer=issuer,
        date=date,
        body=tuple(body),
        meta=meta,
        official=official,
        repeals=tuple(dict.fromkeys(own)),
        revised=bool(title and REVISED.search(title)),
        outline=tuple(outline),
        repeal_reports=tuple(dict.fromkeys(reported)),
    )
