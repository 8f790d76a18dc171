"""Tokenise: Chinese/mixed text -> jieba search-mode tokens for BM25.

Lower-cased; punctuation, whitespace and a few function words dropped. Pure apart
from jieba's dictionary, which is loaded once on first use. A library's own terms
(`rag.text.terms`) are added through a jieba tokenizer of its own, never to jieba's
process-wide dictionary.
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


def keep_token(tok: str) -> bool:
    """Whether a (stripped, lower-cased) token is indexed: not empty, not a stopword, not only punctuation."""
    return bool(tok) and tok not in STOPWORDS and bool(_KEEP.search(tok))


def tokenize(text: str, segmenter: jieba.Tokenizer | None = None) -> list[str]:
    """jieba search-mode tokens of `text`, lower-cased, without punctuation or stopwords.

    Args:
        text: the text.
        segmenter: the jieba tokenizer to cut with (default: jieba's own, `jieba.dt`).
    """
    out = []
    for tok in (segmenter or jieba.dt).cut_for_search(text):
        tok = tok.strip().lower()
        if keep_token(tok):
            out.append(tok)
    return out
