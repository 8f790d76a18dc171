"""公文 structure (GB/T 9704-2012): which lines are the document's identity and which are its body.

An official document is laid out as 版头 (份号, 密级, 紧急程度, 发文机关标志, 发文字号,
签发人), 标题, 主送机关, 正文, 附件说明, 发文机关署名, 成文日期, 附注, 附件, 版记 (抄送,
印发机关和印发日期). `analyse` finds these zones in a document's kept lines and returns the
document's own title, 文号, issuer and date — taken only from the zones where GB/T 9704 puts
them, never from numbers or dates the body quotes — and the spans of the body (正文 and
附件). 主送, 附件说明, 署名, 日期, 附注 and 版记 are metadata, not clauses.

It also reads what a document says it repeals ("《…》（甬民发〔2021〕15号）同时废止",
"原…不再执行") and whether its title marks a revision (修订/修正).

Pure text functions: nothing here reads files; spans are offsets into the given text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.text.clean import stripped_lines
from rag.text.numerals import cn_int

_CJK = r"\u4e00-\u9fa5"
_NUM = r"[\d０-９]+"
DOC_NUMBER = rf"[{_CJK}]{{1,12}}\s*[〔\[［(（]\s*\d{{4}}\s*[〕\]］)）]\s*第?\s*\d+\s*号"
ORDER_NUMBER = rf"[{_CJK}]{{1,20}}令\s*[（(]?\s*第\s*\d+\s*号[)）]?"
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
    r"^(?P<y>\d{4}|[〇○零一二三四五六七八九]{4})\s*年\s*(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*月\s*"
    r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日$"
)
_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})\s*日?")
_ITEM = re.compile(
    r"^(第[零〇一二三四五六七八九十百千\d]+[条章节编篇部分]|[一二三四五六七八九十]{1,3}、|[(（][一二三四五六七八九十]{1,3}[)）]|"
    r"\d{1,3}[.．、](?!\d)|[(（]\d{1,3}[)）]|[①-⑳])"
)
_GENRE = re.compile(
    r"(通知|通报|意见|办法|方案|要点|规定|决定|决议|命令|公告|通告|批复|函|报告|请示|纪要|细则|条例|规则|规划|计划|"
    r"指引|指南|标准|规范|准则|章程|措施|解释|答复|讲话|总结|公报|令|法)([(（][^)）]{0,20}[)）])?$"
)
_TITLE_OPEN = re.compile(r"(关于|印发|转发|批转|的)$")
_ATTACH_NOTE = re.compile(r"^附\s*件\s*[:：]\s*(.*)$")
_ATTACH_ITEM = re.compile(r"^\d{1,2}\s*[.．、]\s*\S")
_ATTACH_HEAD = re.compile(r"^附\s*件\s*\d{0,2}\s*[:：]?$")
_NOTE = re.compile(r"^[(（].{2,120}[)）]$")
_COLOPHON = re.compile(r"^(抄\s*送|主\s*题\s*词|关\s*键\s*词|分\s*送|报\s*送)\s*[:：]|印\s*发$")
_ADDRESSEE_MAX = 120
_REPEAL_VERB = re.compile(r"(同时|一并|即行|予以|自行)?(废止|不再执行|停止执行|失效)")
_QUOTED_TITLE = re.compile(r"《([^《》]{2,80})》")
REVISED = re.compile(
    r"[(（]\s*(\d{4}\s*年)?\s*(修订|修正|修订版|修正版|第[一二三四五六七八九十]次修订)\s*[)）]|修订稿$|修订版$"
)



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
    """True when `line` reads as a 主送机关 line: organisations separated by ，、 and a closing colon."""
    if not re.search(r"[:：]$", line) or len(line) > _ADDRESSEE_MAX or re.search(r"[。《“]|为了|根据|如下", line):
        return False
    parts = [p for p in re.split(r"[，、,；;]", line.rstrip(":：")) if p]
    return all(len(p) <= 25 for p in parts) and (line.startswith("各") or bool(_ORG.match(parts[-1])))


def _repeal_gap(gap: str) -> bool:
    """Whether the words between the last named document and the repeal verb leave that document the
    verb's subject: brackets (a 文号) aside, at most a date or "自…起" clause, no other clause."""
    gap = re.sub(r"[（(][^（）()]*[）)]|^[）)]+", "", gap).strip()
    last = re.split(r"[，,]", gap)[-1].strip()
    return len(gap) <= 40 and ("，" not in gap and "," not in gap or bool(re.match(r"(自|同时|一并|即|予以|均)", last)))


def repeals(text: str) -> tuple[str, ...]:
    """Titles (《…》 content) and 文号 that `text` says are repealed, in order of mention."""
    out: list[str] = []
    for sent in re.split(r"[。；;\n]", text):
        verb = _REPEAL_VERB.search(sent)
        if not verb:
            continue
        before = sent[: verb.start()]
        if re.search(r"(的|之)$|规定$|情形|可以|应当|由", before[-8:]):
            continue  # "…的，予以废止" and the like: a rule about repealing, not a repeal
        named = list(_QUOTED_TITLE.finditer(before)) + list(_DOC_NUMBER_RE.finditer(before))
        if not named or not _repeal_gap(before[max(m.end() for m in named) :]):
            continue  # the title is not what the verb acts on: "依照《民事诉讼法》…，请求人民法院宣告该股票失效"
        out += [m.group(1) for m in _QUOTED_TITLE.finditer(before)]
        out += [clean_number(m.group(0)) for m in _DOC_NUMBER_RE.finditer(before)]
    return tuple(dict.fromkeys(out))


def analyse(text: str, spans: Sequence[tuple[int, int]]) -> Structure:
    """Find the 公文 zones among the kept lines of `text` (`spans` from `clean_spans`)."""
    pos = stripped_lines(text, spans)  # (start, end, kept span it lies in)
    lines = [text[s:e] for s, e, _ in pos]
    n = len(lines)
    meta: dict[str, str] = {}
    drop: set[int] = set()
    number = issuer = date = None

    # 版头: 份号, 密级, 紧急程度, 发文机关标志, 发文字号 + 签发人, separator rules.
    i, head = 0, False
    while i < min(n, 12):
        s = lines[i]
        if _COPY_NO.match(s):
            meta["份号"] = s
        elif _SECRET.match(s):
            meta["密级"] = s
        elif _URGENCY.match(s):
            meta["紧急程度"] = s
        elif _ISSUER_MARK.match(s.replace(" ", "")):
            meta["发文机关标志"] = s
            head = True
        elif m := _NUMBER_LINE.match(s):
            number = clean_number(m["no"])
            if m["who"]:
                meta["签发人"] = m["who"].strip()
            head = True
        elif m := _SIGNER.match(s):
            meta["签发人"] = m.group(1).strip()
        elif _RULE.match(s):
            pass
        elif _ORG.match(s) and i + 1 < n and (_NUMBER_LINE.match(lines[i + 1]) or _RULE.match(lines[i + 1])):
            meta["发文机关标志"] = s
        else:
            break
        drop.add(i)
        i += 1
    if not head:  # not a 版头 after all: only separators/labels were seen
        drop, i, meta, number = set(), 0, {}, None

    # 标题, then an optional (文号) or dated line under it, then 主送机关.
    title = None
    t = _title_lines(lines, i)
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
    if i < n and i + 1 < n and (head or strong_title) and _addressees(lines[i]):
        meta["主送"] = lines[i].rstrip("：:")
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
        key = "印发" if re.search(r"印\s*发$", s) else "抄送" if s.replace(" ", "").startswith("抄送") else "版记"
        meta[key] = (meta.get(key, "") + s).strip()
        drop.add(k)

    # 成文日期: the last date-only line before any 附件 and the 版记; 署名 above it, 附件说明 above that.
    tail = range(max(body_start, end - 40), end)
    dates = [k for k in tail if date_line(lines[k])]
    attach_at = end
    if dates:
        d = dates[0]
        nxt = [k for k in range(d + 1, end) if _ATTACH_HEAD.match(lines[k].replace(" ", ""))]
        attach_at = nxt[0] if nxt else end
        d = max(k for k in dates if k < attach_at)
        date = date_line(lines[d])
        drop.add(d)
        for k in range(d + 1, attach_at):  # 附注 between the date and the 附件
            if _NOTE.match(lines[k]):
                meta["附注"] = (meta.get("附注", "") + lines[k]).strip()
                drop.add(k)
        signers: list[int] = []
        k = d - 1
        while k >= body_start and len(signers) < 4 and _ORG.match(lines[k].replace(" ", "").replace("\u3000", "")):
            signers.insert(0, k)
            k -= 1
        if signers:
            issuer = lines[signers[0]].replace(" ", "").replace("\u3000", "")
            meta["署名"] = "；".join(lines[j] for j in signers)
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

    if issuer is None and "发文机关标志" in meta:
        issuer = re.sub(r"文件$", "", meta["发文机关标志"].replace(" ", ""))

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
    return Structure(
        title=title,
        title_strong=strong_title,
        doc_number=number,
        issuer=issuer,
        date=date,
        body=tuple(body),
        meta=meta,
        official=official,
        repeals=repeals(body_text),
        revised=bool(title and REVISED.search(title)),
    )
