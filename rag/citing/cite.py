"""Cite: a retrieved clause -> its citation line and the sentences that answer the query.

Citations read 《title》 › heading path › label（文号，date）. Highlights are (start, end)
offsets into the clause text of the sentence(s) sharing most words with the query;
`mark_html` escapes every piece of document text before wrapping highlights in <mark>.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from rag.storage.store import DocInfo
from rag.text.split import Clause
from rag.text.tokens import tokenize

_SENTENCE = re.compile(r"[^。；;！!？?\n]+(?:[。；;！!？?][”’」』）)]*)?")


def citation(doc: DocInfo, clause: Clause, superseded_by: DocInfo | None = None) -> str:
    """《title》 › path › label, with 文号, date and page when known, how the text was read, and what
    replaced the document when it is no longer current."""
    parts = [f"《{doc.title}》", *clause.headings]
    if clause.label:
        parts.append(clause.label + (f"（续{clause.part}）" if clause.part else ""))
    line = " › ".join(parts)
    page = doc.page_of(clause.start)
    extra = [x for x in (doc.doc_number, doc.date) if x]
    if page:
        extra.append(f"第{page}页")
    if doc.ocr:
        extra.append("文字经OCR识别")
    if superseded_by is not None:
        ident = "，".join(x for x in (superseded_by.doc_number, superseded_by.date) if x)
        extra.append(f"已被《{superseded_by.title}》" + (f"（{ident}）" if ident else "") + "取代")
    return line + (f"（{'，'.join(extra)}）" if extra else "")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, split at 。；！？ and line breaks."""
    spans = []
    for m in _SENTENCE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        if e > s:
            spans.append((s, e))
    return spans


def highlight(text: str, query: str, ratio: float = 0.7) -> tuple[tuple[int, int], ...]:
    """Spans of the sentence(s) of `text` most related to `query`.

    A sentence scores the summed length of the distinct query words it contains;
    sentences within `ratio` of the best are marked. Empty when nothing matches.
    """
    q = {t for t in tokenize(query) if len(t) > 1 or not t.isascii()}
    if not q:
        return ()
    scored = []
    for s, e in sentence_spans(text):
        words = set(tokenize(text[s:e]))
        scored.append((sum(len(t) for t in q & words), s, e))
    best = max((sc for sc, _, _ in scored), default=0)
    if best <= 0:
        return ()
    return tuple((s, e) for sc, s, e in scored if sc >= ratio * best)


def shared_spans(draft: str, text: str, min_len: int = 4) -> tuple[tuple[int, int], ...]:
    """Spans of `text` that also occur in `draft` (at least `min_len` characters): shared wording."""
    sm = SequenceMatcher(None, text, draft, autojunk=False)
    return tuple(
        (b.a, b.a + b.size) for b in sm.get_matching_blocks() if b.size >= min_len and text[b.a : b.a + b.size].strip()
    )


def mark(text: str, spans: tuple[tuple[int, int], ...], before: str = "【", after: str = "】") -> str:
    """`text` with each span wrapped in `before`/`after` (plain text)."""
    out, pos = [], 0
    for s, e in sorted(spans):
        out += [text[pos:s], before, text[s:e], after]
        pos = e
    out.append(text[pos:])
    return "".join(out)


_ENTITIES = {c: f"&#{ord(c)};" for c in "&<>\"'\\`*_[]()#!|~$:"}


def escape_html(text: str) -> str:
    """`text` safe inside HTML that a Markdown renderer also sees: HTML-escaped, and the
    Markdown-significant characters turned into entities so they show literally."""
    return "".join(_ENTITIES.get(c, c) for c in text)


def mark_html(text: str, spans: tuple[tuple[int, int], ...] = ()) -> str:
    """HTML of `text`, every piece escaped, highlights in <mark>, line breaks kept."""
    out, pos = [], 0
    for s, e in sorted(spans):
        out += [escape_html(text[pos:s]), "<mark>", escape_html(text[s:e]), "</mark>"]
        pos = e
    out.append(escape_html(text[pos:]))
    return "".join(out).replace("\n", "<br>")
