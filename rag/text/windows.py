"""Sentence windows: the short runs of sentences a long clause is also matched by (#18 item 3).

A question is usually about one sentence of a long clause; the whole clause's vector dilutes it. Each
clause longer than `min_chars` with two or more sentences is also embedded as its windows of `size`
consecutive sentences, and its dense score is the best of its own and its windows' (`rag.storage`).
The clause is what a search returns; the windows only score it. Pure functions.
"""

from __future__ import annotations

import re

WINDOW_MIN_CHARS = 300  # clauses longer than this get windows (0: none); chosen in docs/quality.md
WINDOW_SIZE = 2  # sentences a window holds
_SENTENCE = re.compile(r"[^。；！？\n]+[。；！？]?")
_QUESTION_STOP = re.compile(r"[。；！？!?;\n]")  # a question's sentences end at these, ASCII ones included


def sentences(text: str) -> list[str]:
    """The sentences of a text, cut after 。；！？ and at line ends (blank pieces left out)."""
    return [m.group(0) for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def one_sentence(question: str) -> bool:
    """Whether a question is a single sentence: no sentence end (。；！？, ASCII ?!; or a line end) with more
    text after it. A story told first and then asked about ("某公司……。根据哪条规定……？") is not."""
    return sum(1 for piece in _QUESTION_STOP.split(question) if piece.strip()) < 2


def sentence_windows(text: str, min_chars: int = WINDOW_MIN_CHARS, size: int = WINDOW_SIZE) -> list[str]:
    """The windows of `size` consecutive sentences of a clause longer than `min_chars` characters with at
    least two sentences (each sentence alone when it has no more than `size`); none otherwise or when
    `min_chars` is 0."""
    if min_chars <= 0 or len(text) <= min_chars:
        return []
    sents = sentences(text)
    if len(sents) < 2:
        return []
    if len(sents) <= size:
        return sents
    return ["".join(sents[i : i + size]) for i in range(len(sents) - size + 1)]
