"""Ask: a question -> the hits of `Searcher.search` -> an answer a cadre can quote, with references.

The default answer is extractive (`extract`): verbatim, with exact offsets. With `llm`
("URL#MODEL"), an OpenAI-compatible chat server writes an answer from the top hits and every
sentence is checked (`generate.verify`); server trouble, or an answer with no verified sentence,
falls back to the extractive answer with a note saying why. Never raises for a model's reply.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from rag.answers.extract import Meaning, extract, marker_runs, question_focus
from rag.answers.generate import LLMBusy, LLMError, any_verified, generate, parse_llm
from rag.answers.refs import resolve
from rag.answers.types import AskResult
from rag.citing.cite import citation
from rag.search.retrieve import Filters, Hit, Searcher
from rag.storage.store import Store
from rag.storage.titles import titles_of

logger = logging.getLogger(__name__)

DEFAULT_LLM_TIMEOUT = 60.0


def ask(
    searcher: Searcher,
    question: str,
    k: int = 5,
    filters: Filters | None = None,
    mode: str = "hybrid",
    llm: str | None = None,
    llm_timeout: float = DEFAULT_LLM_TIMEOUT,
) -> AskResult:
    """Search, then `answer_hits`.

    Raises:
        ValueError: as `Searcher.search` (a bad mode or k), or a malformed `llm` spec.
    """
    if llm:
        parse_llm(llm)  # a malformed spec fails before any search
    hits = searcher.search(question, k=k, filters=filters, mode=mode)
    return answer_hits(searcher.index, question, hits, llm, llm_timeout, searcher.meaning(question, mode))


def _followers(store: Store, question: str, hits: list[Hit], top: int = 3) -> list[Hit]:
    """For a which-ones question: the clause after a top hit, when search did not return it and it
    opens with enumerated items (一是… / （一）…), since a lead-in ("…仍有一些不足和短板。") often ends
    one clause and its items make the next. Ranked after the hits."""
    if question_focus(question) != "list":
        return []
    have = {h.clause.clause_id for h in hits}
    out: list[Hit] = []
    for h in hits[:top]:
        nxt = f"{h.clause.doc_id}:{h.clause.ordinal + 1}"
        if nxt in have:
            continue
        for c in store.fetch([nxt]):
            runs = marker_runs(c.text)
            if runs and not c.text[: runs[0][0]].strip():
                have.add(nxt)
                out.append(Hit(len(hits) + len(out) + 1, 0.0, c, h.doc, citation(h.doc, c, h.superseded_by),
                               superseded_by=h.superseded_by, superseded_why=h.superseded_why,
                               status=h.status, effective=h.effective, elsewhere=h.elsewhere))  # fmt: skip
    return out


def answer_hits(
    store: Store, question: str, hits: list[Hit], llm: str | None = None, llm_timeout: float = DEFAULT_LLM_TIMEOUT,
    meaning: Meaning | None = None,
) -> AskResult:
    """Answer from these hits (extractive, or generated and verified with `llm`) and resolve each hit's
    references in `store`. A generated answer keeps the extractive short span (verbatim either way).
    `meaning` (`Searcher.meaning`): the extractive answer weighs its sentences' meaning as well as their words.

    The fallback note never repeats the model server's address or its error (they go to the log):
    the note is shown to whoever asked, who need not know where the server is.
    """
    followers = _followers(store, question, hits)
    answer = extract(question, hits + followers, meaning=meaning)
    used = {s.span.rank for s in answer.sentences if s.span} | ({answer.short.rank} if answer.short else set())
    hits = hits + [f for f in followers if f.rank in used]  # shown only when the answer quotes them
    if llm and hits:
        try:
            generated = generate(question, hits, llm, timeout=llm_timeout)
        except LLMBusy as exc:
            logger.info("generated answer skipped: %s", exc)
            busy = "模型服务繁忙（同时作答的问题已达上限），以下为条款原文摘录。"
            answer = replace(answer, note=busy, detail=str(exc))
        except LLMError as exc:
            logger.warning("generated answer unavailable: %s", exc)
            answer = replace(answer, note="模型服务暂时未能回答，以下为条款原文摘录。", detail=str(exc))
        else:
            if any_verified(generated):
                answer = replace(generated, short=answer.short)
            else:
                answer = replace(answer, note="模型的回答没有一句能在所引条款中核实，以下为条款原文摘录。",
                                 detail="; ".join(f"{s.text[:40]}: {s.reason}" for s in generated.sentences))
    titles = titles_of(store)
    refs = {h.rank: resolve(h.clause, h.doc, store, titles) for h in hits}
    return AskResult(question, answer, hits, refs)
