"""Clean: decoded text -> the spans of it that are document body.

Template sites wrap documents in chrome: breadcrumbs (当前位置…), 时间/浏览量 lines,
"下面是…小编…希望大家喜欢" teasers, 推荐访问 keyword lists, 版权所有/备案号 footers.
These are recognised by general rules about such lines, not by any one site's strings.
Cleaning only *chooses* lines: it returns (start, end) spans into the original text and
never rewrites or shifts a character, so what is kept is kept verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

INFO_END = "<!-- INFO END -->"  # LawRefBook: end of the header block

_BREADCRUMB = re.compile(
    r"^(当前位置|您的位置|你的位置|您现在的位置|你现在的位置|现在位置|所在位置)\s*[:：]|^(首页|主页|网站首页)\s*[>›»/]"
)
_META_LABEL = re.compile(
    r"(发布时间|发布日期|更新时间|时间|日期|来源|作者|责任编辑|编辑|浏览量|浏览次数|浏览|阅读量|阅读次数|"
    r"阅读|点击量|点击数|点击|字号)\s*[:：]"
)
_VIEW_COUNT = re.compile(r"(浏览量|浏览次数|阅读量|阅读次数|点击量|点击数)\s*[:：]")
_TEASER_CUE = re.compile(r"下面是|以下是|下文是|本文是|为您|为你|给大家|希望|欢迎|仅供|参考|推荐|整理|收集|分享")
_KEYWORD_LIST = re.compile(
    r"^(推荐访问|相关推荐|相关阅读|延伸阅读|相关文章|热门推荐|热门文章|猜你喜欢|猜您喜欢|你可能还喜欢|"
    r"您可能还喜欢|更多相关|关键词|关键字|标签|tags?)\s*[:：]",
    re.I,
)
_FOOTER = re.compile(
    r"版权所有\s*[:：©(（]|©|copyright\b|all rights reserved|powered by|ICP备\s*\d|ICP证\s*\d|"
    r"备案号\s*[:：]|公网安备\s*\d",
    re.I,
)
_PAGER = re.compile(r"^(上一篇|下一篇|上一页|下一页)\s*[:：]|^(返回顶部|打印本页|关闭窗口|分享到)")
_MAX_CHROME_LINE = 200


def is_chrome(line: str) -> bool:
    """True when one stripped line is site chrome rather than document text."""
    s = line.strip()
    if not s:
        return False
    if "小编" in s and _TEASER_CUE.search(s):
        return True
    if len(s) > _MAX_CHROME_LINE:
        return False
    if _BREADCRUMB.search(s) or _KEYWORD_LIST.search(s) or _PAGER.search(s) or _FOOTER.search(s):
        return True
    labels = _META_LABEL.findall(s)
    return len(labels) >= 2 or bool(_VIEW_COUNT.search(s))


def iter_lines(text: str, start: int = 0, end: int | None = None):
    """Yield (line_start, line_end) for each line of text[start:end], newline excluded."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl == -1 else nl
        yield pos, stop
        pos = stop + 1


def stripped_lines(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(start, end, span index) of each non-blank line inside `spans`, without its surrounding whitespace."""
    out: list[tuple[int, int, int]] = []
    for b, (s0, e0) in enumerate(spans):
        for ls, le in iter_lines(text, s0, e0):
            raw = text[ls:le]
            st = raw.strip()
            if st:
                lead = len(raw) - len(raw.lstrip())
                out.append((ls + lead, ls + lead + len(st), b))
    return out


def echoed_title_lines(text: str, start: int = 0, top: int = 10) -> list[str]:
    """Short lines repeated verbatim among the first `top` body lines: a page's title echo.

    Such a line is the page's title (metadata), not body; the loader uses it as the title. Only
    lines before the first sentence (a line with "。") count: a 函's organ name over its 文号 and
    again as its 署名 is not an echo.
    """
    seen: list[str] = []
    for ls, le in iter_lines(text, start):
        s = text[ls:le].strip()
        if s and not is_chrome(s):
            if "。" in s:
                break
            seen.append(s)
            if len(seen) >= top:
                break
    return [s for s in dict.fromkeys(seen) if seen.count(s) > 1 and len(s) <= 60]


def clean_spans(text: str) -> list[tuple[int, int]]:
    """Spans of `text` to keep, in order, each a run of body lines.

    A span starts at a kept line's first character and ends after the last kept line
    of the run (newline excluded); blank lines inside a run stay inside it. A removed
    line always breaks the run, so no span ever contains chrome.
    """
    body_start = 0
    marker = text.find(INFO_END)
    if marker != -1:
        nl = text.find("\n", marker)
        body_start = len(text) if nl == -1 else nl + 1

    echoed = set(echoed_title_lines(text, body_start))
    spans: list[tuple[int, int]] = []
    run: list[int] | None = None  # [start, end] of the current run
    for ls, le in iter_lines(text, body_start):
        s = text[ls:le].strip()
        if not s:
            continue
        if is_chrome(s) or s in echoed:
            if run:
                spans.append((run[0], run[1]))
            run = None
            continue
        lead = len(text[ls:le]) - len(text[ls:le].lstrip())
        trail = len(text[ls:le]) - len(text[ls:le].rstrip())
        if run is None:
            run = [ls + lead, le - trail]
        else:
            run[1] = le - trail
    if run:
        spans.append((run[0], run[1]))
    return spans


def cleaned_text(text: str, sep: str = "\n") -> str:
    """The kept spans joined by `sep` (for display and metadata, not for citation)."""
    return sep.join(text[s:e] for s, e in clean_spans(text))
