"""The values an answer is made of; `to_dict` gives the `rag ask --json` shape."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """A verbatim piece of one hit's clause: `text == hit.clause.text[start:end]`."""

    rank: int  # 1-based rank of the hit it comes from
    start: int  # offsets into the clause text
    end: int
    text: str


@dataclass(frozen=True)
class AnswerSentence:
    text: str
    citations: tuple[int, ...]  # 1-based hit ranks
    verified: bool
    reason: str = ""  # why it is (not) verified
    span: Span | None = None  # for an extractive sentence: where it lies in its clause

    def to_dict(self) -> dict:
        d = {"text": self.text, "citations": list(self.citations), "verified": self.verified, "reason": self.reason}
        if self.span is not None:
            d["span"] = {"rank": self.span.rank, "start": self.span.start, "end": self.span.end}
        return d


@dataclass(frozen=True)
class Answer:
    mode: str  # "extractive" | "generated"
    text: str
    sentences: tuple[AnswerSentence, ...] = ()
    short: Span | None = None  # the shortest answering span (figure, date, body …), when there is one
    note: str = ""  # e.g. why a generated answer fell back to the extractive one
    detail: str = ""  # for the operator's log only (e.g. the model server's error), never in `to_dict`

    def to_dict(self) -> dict:
        d: dict = {"text": self.text, "sentences": [s.to_dict() for s in self.sentences]}
        if self.short is not None:
            d["short"] = {"rank": self.short.rank, "start": self.short.start, "end": self.short.end,
                          "text": self.short.text}  # fmt: skip
        if self.note:
            d["note"] = self.note
        return d


@dataclass(frozen=True)
class Ref:
    """A reference written inside a clause, and the clause it points at (None: not in the library)."""

    text: str  # as written, e.g. "本条例第十三条" or "《国务院关于…的意见》（国发〔2019〕5号）"
    start: int  # offsets into the citing clause's text
    end: int
    target_doc: str | None = None  # doc_id
    target_label: str | None = None  # e.g. "第十三条"; None for a reference to a whole document
    target_clause: str | None = None  # clause_id, when one clause is meant and found
    target_title: str | None = None

    def to_dict(self) -> dict:
        return {
            "text": self.text, "span": [self.start, self.end],
            "target": None if self.target_doc is None else {
                "doc_id": self.target_doc, "title": self.target_title, "label": self.target_label,
                "clause_id": self.target_clause},
        }  # fmt: skip


@dataclass(frozen=True)
class AskResult:
    question: str
    answer: Answer
    hits: list = field(default_factory=list)  # the `Hit`s, exactly as `rag search` returns them
    refs: dict[int, tuple[Ref, ...]] = field(default_factory=dict)  # hit rank -> its references

    def to_dict(self) -> dict:
        hits = []
        for h in self.hits:
            d = h.to_dict()
            d["refs"] = [r.to_dict() for r in self.refs.get(h.rank, ())]
            hits.append(d)
        answer = self.answer.to_dict()
        # where each span lies in its document's extracted text, besides its clause offsets
        starts = {h.rank: h.clause.start for h in self.hits}
        spans = [answer.get("short")] + [s.get("span") for s in answer["sentences"]]
        for sp in spans:
            if sp and sp["rank"] in starts:
                sp["source_start"], sp["source_end"] = starts[sp["rank"]] + sp["start"], starts[sp["rank"]] + sp["end"]
        return {"question": self.question, "mode": self.answer.mode, "answer": answer, "hits": hits}
