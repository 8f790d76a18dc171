"""Tokenise: Chinese/mixed text -> jieba search-mode tokens for BM25.

Lower-cased; punctuation, whitespace and a few function words dropped. Pure apart
from jieba's dictionary, which is loaded once on first use.
"""

from __future__ import annotations

import logging
import re

import jieba

jieba.setLogLevel(logging.WARNING)

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 对 为 等 也 就 都 而 并 其 之 以 于 把 被 将 由 从 向 中 上 下 "
    "吗 呢 吧 啊 么 什么 怎么 怎样 如何 哪些 可以 是否 应当 有 没有 这 那 个 我 你 他 她 它 我们".split()
)


def tokenize(text: str) -> list[str]:
    """jieba search-mode tokens of `text`, lower-cased, without punctuation or stopwords."""
    out = []
    for tok in jieba.cut_for_search(text):
        tok = tok.strip().lower()
        if tok and tok not in STOPWORDS and _KEEP.search(tok):
            out.append(tok)
    return out
