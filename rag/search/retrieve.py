"""Retrieve: a question -> ranked `Hit`s from a `Store` (a folder `ClauseIndex`, or Milvus).

Hybrid: BM25 and dense candidates fused by weighted normalised scores or reciprocal rank
(`SearchConfig`); the query vector goes through a query adapter (`adapter.py`) when one
applies. A question that names a clause ("民法典第五十四条", or "第八条" with a
document named or only one document in scope) gets that clause first. Filters restrict
by document, folder and document type. The store is used only through the `Store` protocol
(`rag.storage.store`), so all of this works the same over every store.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from rag.citing.citations import Stale
from rag.citing.cite import citation, highlight
from rag.embedding.embed import Embedder, make_embedder
from rag.search.adapter import QueryAdapter, QueryEncoder, resolve_adapter
from rag.storage.catalogue import status_book
from rag.storage.store import DocInfo, Scope, Store
from rag.storage.titles import older_editions, places_of, titles_of
from rag.text.editions import names_a_year
from rag.text.effective import iso_date
from rag.text.injection import instruction_like
from rag.text.numerals import cn_number
from rag.text.places import division_name, named_places, outside, resolve_place
from rag.text.split import Clause
from rag.text.vocab import CN_NUMERALS, doc_type, normalise_title

logger = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "lexical")
MAX_QUERY_CHARS = 2000  # a longer question is cut here (`cap_query`); the rest is ignored
MAX_K = 1000  # the most hits one search returns
MAX_CANDIDATES = 100_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_CN_NUM = CN_NUMERALS
_FILLERS = re.compile(r"请问|我想问一下|我想问|想咨询一下|咨询一下|怎么办|应该怎么处理|该怎么办|吗[？?]?$|[？?！!]")
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,})[”\"」』]")
_REF = re.compile(rf"第\s*([{_CN_NUM}\d]+)\s*条(之[{_CN_NUM}]+)?")


FUSIONS = ("score", "rrf")
QUOTES = ("fallback", "filter")
ROUTES = ("off", "consultation", "library")
# route "library" (the default): a query adapter is a map fitted to the clause vectors of the index it
# was trained over, and measured it helps there (STARD over the national laws) and hurts elsewhere
# (our policy set over policy documents and local regulations). So it and its fusion weight apply to
# the clauses of documents of its own library (by title); every other clause is scored by the plain
# question vector, 1:1. A library of national laws searches as with the adapter everywhere, a folder
# of policy documents as without it, a mixed one each part as its own.
# A question asking for a legal judgment on a situation (is it legal, may I, what if, who is liable):
# the public's legal consultations, which the query adapter was trained on. Lookups of what a rule
# requires (how much, by when, which body, what measures) are not.
_CONSULTATION = re.compile(
    r"(吗|么)\s*[？?]?\s*$|是否|能否|可否|能不能|可不可以|有权|怎么办|如何处理|怎么处理|如何维权|违法|合法|无效|有效|"
    r"构成|属于|承担|责任|赔偿|起诉|诉讼|犯罪|判处|处罚|侵权|继承|离婚|合同"
)


def consultation(query: str) -> bool:
    """Whether a question reads as a legal consultation (see `_CONSULTATION`)."""
    return bool(_CONSULTATION.search(query))


def sanitize_query(query: str) -> str:
    """A question safe for every later step: lone surrogates (undecodable terminal bytes) become
    U+FFFD, a valid surrogate pair becomes its character, control characters become spaces."""
    if any("\ud800" <= ch <= "\udfff" for ch in query):
        query = query.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROL.sub(" ", query)


def cap_query(query: str) -> tuple[str, bool]:
    """The question as a search uses it, and whether it was cut.

    The text is sanitised (`sanitize_query`) and cut to `MAX_QUERY_CHARS` characters; the
    bool is True when something was cut, so a caller can say so ("only the first 2000
    characters were searched").
    """
    query = sanitize_query(query)
    if len(query) > MAX_QUERY_CHARS:
        return query[:MAX_QUERY_CHARS], True
    return query, False


def searchable(query: str) -> bool:
    """True when the question holds a letter, digit or character to search for (not only punctuation/space)."""
    return any(ch.isalnum() for ch in query)


def check_k(k: object) -> int:
    """`k` as the number of hits to return.

    Raises:
        ValueError: not a whole number from 1 to `MAX_K`.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
        raise ValueError(f"k must be a whole number from 1 to {MAX_K}, got {k!r}")
    return int(k)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def _check_weight(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


@dataclass(frozen=True)
class SearchConfig:
    """Fusion settings.

    fusion "score": weighted sum of per-side normalised scores (dense cosine min-max
    scaled over its candidates, BM25 divided by its best); "rrf": weighted reciprocal
    rank with constant `rrf_k`. `candidates` is how many each side contributes.

    quotes "filter": a question's quoted phrases (“…”) restrict the search to clauses containing them
    all, and none means no hits; "fallback" (the default): the same, except that when no clause in
    scope contains them the question is searched without that restriction. People quote a term for
    emphasis ("劳动法上的“三期”…"): measured on three question styles (#18), the filter left 12 of
    1,233 STARD and 5 of 215 situation questions with nothing, and the fallback costs none of them.

    elsewhere: a question that names a place (上海闵行区…, 潍坊…; `rag.text.places`) is governed by that
    place's documents, its city's and province's, and national ones; a clause of a document of another
    place (by the place its issuer or title starts with) has its fused score multiplied by this. 1 turns
    it off. Measured on four question styles (#18): a new place-named set R@10 0.831 → 0.869, the
    situation set 0.770 → 0.788, STARD and the policy set unchanged (docs/quality.md).

    older: a question that names no year (今年…, or none) means the newest of a yearly series: a clause of
    a document whose series has a later edition by the same issuer, or of the same place when the issuer is
    unknown (江城市2023年政务服务工作要点 when 江城市2024年… is held; `rag.text.editions`,
    `rag.storage.titles.older_editions`) has its fused score multiplied by this. A question naming
    a year (2023年…, 去年…) is ranked without it. 1 turns it off.

    Raises:
        ValueError: a setting out of its range; the message names the setting and the range.
    """

    fusion: str = "score"
    dense_weight: float | None = None  # None: the weight recorded with the query adapter, else 1
    lexical_weight: float = 1.0
    rrf_k: int = 60
    candidates: int = 300
    clean_query: bool = True  # split "a/b/c" alternatives and drop question fillers before searching
    rerank_model: str = ""  # a sentence-transformers CrossEncoder (name or folder): re-rank the top candidates
    rerank_top: int = 30
    # query adapter: "auto" (the packaged query encoders when made for the index's embedder: one-sentence questions
    # through the short-question one), "", a file, or "MAIN.npz+SHORT.npz" (`rag.search.adapter.resolve_adapter`)
    adapter: str = "auto"
    route: str = "library"  # where the adapter applies: "library" (its own documents), "consultation", "off" (all)
    quotes: str = "fallback"  # quoted phrases: "filter" (only clauses containing them), "fallback" (unless none does)
    elsewhere: float = 0.5  # a question naming a place: other places' documents' scores × this (1: off)
    older: float = 0.9  # a question naming no year: older yearly editions' scores × this (1: off)

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {self.fusion!r}; choose one of {list(FUSIONS)}")
        if self.dense_weight is not None:
            _check_weight("dense_weight", self.dense_weight)
        _check_weight("lexical_weight", self.lexical_weight)
        _check_int("rrf_k", self.rrf_k, 0, 1_000_000)
        _check_int("candidates", self.candidates, 1, MAX_CANDIDATES)
        _check_int("rerank_top", self.rerank_top, 1, MAX_CANDIDATES)
        for name in ("elsewhere", "older"):
            e = getattr(self, name)
            if isinstance(e, bool) or not isinstance(e, (int, float)) or not 0 <= e <= 1:
                raise ValueError(f"{name} must be a number from 0 to 1, got {e!r}")
        if not isinstance(self.clean_query, bool):
            raise ValueError(f"clean_query must be true or false, got {self.clean_query!r}")
        if self.route not in ROUTES:
            raise ValueError(f"unknown route {self.route!r}; choose one of {list(ROUTES)}")
        if self.quotes not in QUOTES:
            raise ValueError(f"unknown quotes {self.quotes!r}; choose one of {list(QUOTES)}")
        for name in ("rerank_model", "adapter"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be text, got {getattr(self, name)!r}")


def wording(config: SearchConfig) -> SearchConfig:
    """The settings of a search for wording used before (the app's 措辞参考): quoted phrases must occur
    verbatim (or nothing is found), and places the draft names do not rank other places' documents
    lower, since how another place worded it is what a drafter compares."""
    return replace(config, quotes="filter", elsewhere=1.0)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_EXPECTED = {"bool": "bool (true or false)", "int": "int (a whole number)", "float": "float (a number)"}


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE or v in _FALSE:
        return v in _TRUE
    raise ValueError(value)


def parse_config(settings: list[str], base: SearchConfig | None = None) -> SearchConfig:
    """A SearchConfig from NAME=VALUE strings (CLI/eval).

    Raises:
        ValueError: an unknown name (the message lists the valid ones), a malformed item, or a
            value of the wrong type or out of range (the message names the setting and the range).
    """
    types = {f.name: f.type for f in fields(SearchConfig)}
    changes: dict = {}
    for item in settings:
        name, eq, value = item.partition("=")
        name = name.strip()
        if name not in types:
            raise ValueError(f"unknown search setting {name!r}; available: {sorted(types)}")
        if not eq:
            raise ValueError(f"{item!r}: expected {name}=VALUE")
        kind = str(types[name]).removesuffix(" | None")
        if str(types[name]).endswith("| None") and value.strip().lower() in ("", "none"):
            changes[name] = None
            continue
        cast = {"bool": _bool, "int": int, "float": float}.get(kind, str)
        try:
            changes[name] = cast(value.strip() if kind != "str" else value)
        except ValueError as exc:
            raise ValueError(f"{name}={value!r}: expected {_EXPECTED.get(kind, kind)}") from exc
    return replace(base or SearchConfig(), **changes)


@dataclass(frozen=True)
class Filters:
    """Restrict a search: to some documents, to sources under a folder, to a document type, to what was
    in force on a day (`as_of`, YYYY-MM-DD: `rag.storage.catalogue.StatusBook.in_force`), to what applies
    in a place (`place`: 杭州, 杭州市 or 330100; that place's documents, its province's, those of
    districts inside it, and national or unplaced ones; kept as the division's code).

    Raises:
        ValueError: an `as_of` that is not a YYYY-MM-DD date, or a `place` that names no single division.
    """

    doc_ids: tuple[str, ...] = ()
    folder: str | None = None
    doc_type: str | None = None
    year: str | None = None
    superseded: bool = False  # also search older versions of documents
    as_of: str | None = None  # only documents in force on this day (the older version before a revision took effect)
    place: str | None = None  # only what applies in this division (its code after construction)

    def __post_init__(self) -> None:
        if self.as_of is not None:
            object.__setattr__(self, "as_of", iso_date(self.as_of))
        if self.place is not None:
            object.__setattr__(self, "place", resolve_place(self.place))

    def active(self) -> bool:
        return bool(self.doc_ids or self.folder or self.doc_type or self.year or self.as_of or self.place)

    def allowed_docs(self, index: Store) -> list[str]:
        out = []
        folder = Path(self.folder).resolve() if self.folder else None
        in_force = status_book(index).in_force(self.as_of, self.superseded) if self.as_of else None
        where = places_of(index) if self.place else {}
        for d in index.docs.values():
            if self.place and outside(where.get(d.doc_id), (self.place,)):
                continue
            if in_force is not None and d.doc_id not in in_force:
                continue
            if in_force is None and not self.superseded and d.doc_id in index.superseded:
                continue
            if self.doc_ids and d.doc_id not in self.doc_ids:
                continue
            if folder and folder not in Path(d.source).resolve().parents:
                continue
            if self.doc_type and doc_type(d.title) != self.doc_type:
                continue
            if self.year and not (d.date or "").startswith(str(self.year)):
                continue
            out.append(d.doc_id)
        return out


@dataclass(frozen=True)
class Hit:
    """One retrieved clause with everything needed to show and check it."""

    rank: int
    score: float
    clause: Clause
    doc: DocInfo
    citation: str
    highlights: tuple[tuple[int, int], ...] = field(default=())
    exact_ref: bool = False
    superseded_by: DocInfo | None = None  # the document that replaced this one, when it is not current
    superseded_why: str | None = None  # the evidence: a repeal clause, or a newer or revised version
    status: str | None = None  # 现行有效, 已修改, 已废止 or 尚未施行 (today, or on the search's as_of day)
    effective: str | None = None  # the day its document takes effect (自…起施行), else the document's date
    # from the library's `rag.citing.citations.CitationGraph` (None / empty: not looked up)
    cited_by: int | None = None  # clauses of documents in force citing this clause's article by number
    doc_cited_by: int | None = None  # clauses of documents in force citing its document, whole or by article
    stale_refs: tuple[Stale, ...] = ()  # the stale citations this clause makes
    # the place of its document when the question names another one (its score was lowered: `elsewhere`)
    elsewhere: str | None = None
    newer_edition: DocInfo | None = None  # the newest yearly edition of its document's series, when not this one

    def to_dict(self) -> dict:
        c, d = self.clause, self.doc
        return {
            "rank": self.rank, "score": round(float(self.score), 6), "clause_id": c.clause_id, "doc_id": d.doc_id,
            "title": d.title,
            "headings": list(c.headings), "label": c.label, "part": c.part, "text": c.text,
            "citation": self.citation, "source": d.source, "start": c.start, "end": c.end,
            "highlights": [list(h) for h in self.highlights], "date": d.date, "doc_number": d.doc_number,
            "issuer": d.issuer, "exact_ref": self.exact_ref,
            "current": self.superseded_by is None, "version": self.version(),
            "replaced_by": None if self.superseded_by is None else {
                "doc_id": self.superseded_by.doc_id, "title": self.superseded_by.title,
                "doc_number": self.superseded_by.doc_number, "date": self.superseded_by.date,
                "why": self.superseded_why},
            "page": d.page_of(c.start), "ocr": d.ocr, "kind": d.kind, "instruction_like": self.instruction_like,
            "status": self.status, "effective": self.effective, "cited_by": self.cited_by,
            "doc_cited_by": self.doc_cited_by, "stale_refs": [s.ref_dict() for s in self.stale_refs],
            "elsewhere": self.elsewhere,
            "newer_edition": None if self.newer_edition is None else {
                "doc_id": self.newer_edition.doc_id, "title": self.newer_edition.title,
                "date": self.newer_edition.date},
        }  # fmt: skip

    @property
    def instruction_like(self) -> str | None:
        """Text in the clause addressed to a language model ("忽略以上指令…"), if any: shown as a warning,
        and never enough on its own to verify a generated sentence."""
        return instruction_like(self.clause.text)

    def version(self) -> str:
        """'current', or what replaced this document and why."""
        if self.superseded_by is None:
            return "current"
        b = self.superseded_by
        number = f"（{b.doc_number}）" if b.doc_number else ""
        return f"superseded by 《{b.title}》{number}: {self.superseded_why}"


def tie_break(clause_id: str, score: float, older: bool = False) -> tuple[float, bool, str, int]:
    """Sort key: higher fused score first; at equal scores (to 9 significant digits) current documents
    before superseded ones (`older`), then document order.

    Every store then ranks the same clauses in the same order: scores that differ only by float
    noise in the last digits no longer decide the order, while deliberate small gaps (an older
    version at 0.999 of its current twin) still do.
    """
    doc_id, _, ordinal = clause_id.rpartition(":")
    return (-float(f"{score:.9g}"), older, doc_id, int(ordinal) if ordinal.isdigit() else 0)


def neighbours(store: Store, clause: Clause, n: int = 1) -> list[Clause]:
    """The clause with up to `n` clauses either side of it in its document, from any store."""
    clauses = store.doc_clauses(clause.doc_id)
    pos = next((i for i, c in enumerate(clauses) if c.clause_id == clause.clause_id), None)
    if pos is None:
        return [clause]
    return clauses[max(0, pos - n) : pos + n + 1]


def clean_query(query: str) -> str:
    """A question without '/' joins and consultation fillers (请问, 怎么办, 吗？)."""
    return _FILLERS.sub(" ", query.replace("/", " ").replace("／", " ")).strip() or query


def quoted_phrases(query: str) -> list[str]:
    """Phrases the question puts in quotes ("…", “…”, 「…」): they must occur verbatim."""
    return [m.group(1).strip() for m in _QUOTED.finditer(query) if m.group(1).strip()]


def ref_labels(query: str) -> list[str]:
    """Article labels a question names, normalised: '第54条' -> '第五十四条'."""
    out = []
    for m in _REF.finditer(query):
        num = m.group(1)
        num = cn_number(int(num)) if num.isdigit() else num.replace("两", "二").replace("〇", "零")
        out.append(f"第{num}条{m.group(2) or ''}")
    return out


class Searcher:
    """Answers questions over one `Store` (`index`); the embedder is created on first use.

    Raises:
        ValueError: `config.adapter` names a missing file or one made for another embedder.
    """

    def __init__(self, index: Store, embedder: Embedder | None = None, config: SearchConfig | None = None):
        self.index = index  # the store (named `index` for callers written before stores)
        self.config = config or SearchConfig()
        self._embedder = embedder
        self._cross = None
        self.adapter: QueryAdapter | QueryEncoder | None = resolve_adapter(self.config.adapter, index.spec)
        self._default_scope: frozenset[str] | None = None
        self._library: tuple[int, frozenset[str], frozenset[str]] | None = None  # (document count, in, out)
        self._qcache: dict[str, np.ndarray] = {}
        self._tcache: dict[str, np.ndarray] = {}  # vectors by the query encoder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.index.spec)
        return self._embedder

    @property
    def dense_weight(self) -> float:
        """The configured dense weight, else the one recorded with the query adapter, else 1."""
        if self.config.dense_weight is not None:
            return self.config.dense_weight
        return self.adapter.dense_weight if self.adapter else 1.0

    def routed(self, query: str) -> tuple[bool, float]:
        """(apply the adapter?, dense weight) for this question: with `route` "consultation", only a
        legal-consultation question gets the adapter and its recorded weight; a lookup gets neither
        (dense weight 1, unless one was configured)."""
        if self.config.route == "off" or self.adapter is None or consultation(query):
            return self.adapter is not None, self.dense_weight
        return False, self.config.dense_weight if self.config.dense_weight is not None else 1.0

    def library_split(self) -> tuple[frozenset[str], frozenset[str]] | None:
        """Ids of this store's documents in the adapter's library and the rest (None: an adapter that
        records no library); computed once per number of documents, not per question."""
        if self.adapter is None or not self.adapter.library:
            return None
        key = len(self.index.docs)
        if self._library is None or self._library[0] != key:
            lib, docs = self.adapter.library, self.index.docs
            inside = frozenset(i for i, d in docs.items() if normalise_title(d.title) in lib)
            self._library = (key, inside, frozenset(docs) - inside)
        return self._library[1], self._library[2]

    def library_docs(self) -> frozenset[str] | None:
        """Ids of this store's documents in the adapter's library (None: an adapter that records none)."""
        split = self.library_split()
        return split[0] if split else None

    def dense_plan(self, query: str) -> list[tuple[bool, float, frozenset[str] | None]]:
        """How the dense side searches this question: per part (adapt?, dense weight, its documents or
        None for all). One part, except with route "library" over a store that mixes documents of the
        adapter's library with others: the adapted vector for the first, the plain one, 1:1, for the rest."""
        if self.config.route != "library" or self.adapter is None:
            adapt, weight = self.routed(query)
            return [(adapt, weight, None)]
        split = self.library_split()
        plain = self.config.dense_weight if self.config.dense_weight is not None else 1.0
        if split is None or not split[1]:
            return [(True, self.dense_weight, None)]
        if not split[0]:
            return [(False, plain, None)]
        return [(True, self.dense_weight, split[0]), (False, plain, split[1])]

    def meaning(self, query: str, mode: str = "hybrid") -> Callable[[Sequence[str]], np.ndarray] | None:
        """The cosines of `query`, embedded as this searcher embeds questions, with texts embedded as passages
        (an answer's candidate sentences): the dense side's view of which sentence says what is asked. None
        when a search in `mode` uses no dense tier (asked for lexical, or embeddings not yet complete): no
        model is loaded just for the answer."""
        if "dense" not in self.tiers_for(mode):
            return None
        text = clean_query(query) if self.config.clean_query else query

        def cosines(texts: Sequence[str]) -> np.ndarray:
            return self.embedder.embed_passages(list(texts)) @ self.query_vector(text)

        return cosines

    def query_vector(self, text: str, adapt: bool = True) -> np.ndarray:
        """The query's embedding (memoised for repeated questions): by the query encoder when one is
        configured, else by the index's embedder and the linear adapter if one is configured."""
        tower = adapt and isinstance(self.adapter, QueryEncoder)
        cache = self._tcache if tower else self._qcache
        vec = cache.get(text)
        if vec is None:
            vec = (self.adapter.embed([text]) if tower else self.embedder.embed_queries([text]))[0]
            if len(cache) >= 4096:
                cache.pop(next(iter(cache)))
            cache[text] = vec
        if tower or self.adapter is None or not adapt:
            return vec
        return self.adapter.apply(vec)

    def _rerank(self, query: str, order: list[str]) -> list[str]:
        """Re-order the top `rerank_top` candidates by the cross-encoder's score."""
        if self._cross is None:
            try:
                from sentence_transformers import CrossEncoder
            except ImportError as exc:
                raise ValueError(f"the re-rank model needs the st extra: pip install 'rag[st]' ({exc})") from exc

            self._cross = CrossEncoder(self.config.rerank_model, device="cpu")
        head, tail = order[: self.config.rerank_top], order[self.config.rerank_top :]
        docs = self.index.docs
        pairs = [(query, f"{docs[c.doc_id].title} {c.text}") for c in self.index.fetch(head)]
        scores = np.asarray(self._cross.predict(pairs, show_progress_bar=False), dtype=np.float32).reshape(
            len(head), -1
        )
        ranked = [head[j] for j in np.argsort(-scores[:, -1], kind="stable")]
        return ranked + tail

    def _same_clause(self, doc_id: str, clause: Clause) -> str | None:
        """Id of the clause with the same label (and part) in another version of its document."""
        for c in self.index.by_label(doc_id, clause.label):
            if c.part == clause.part:
                return c.clause_id
        return None

    def places_named(self, query: str) -> tuple[str, ...]:
        """The places (division names) a question names when they rank other places' documents lower
        (`SearchConfig.elsewhere` < 1 and the library holds some), for telling the user why; () otherwise."""
        asked = named_places(query) if self.config.elsewhere < 1 else frozenset()
        if not asked or not any(outside(p, asked) for p in set(places_of(self.index).values())):
            return ()
        return tuple(sorted({division_name(c) or c for c in asked}))

    def named_docs(self, query: str) -> list[str]:
        """Documents whose title the question names (longest titles win over their substrings), newest first."""
        return titles_of(self.index).named(query)

    def clause_refs(self, query: str, allowed: set[str] | frozenset[str] | None = None) -> list[str]:
        """Ids of the clauses a question names explicitly, newest version first."""
        labels = ref_labels(query)
        if not labels:
            return []
        docs = self.named_docs(query)
        if allowed is not None:
            docs = [d for d in docs if d in allowed]
        if not docs:
            scope = allowed if allowed is not None else set(self.index.docs)
            if len(scope) != 1:
                return []
            docs = list(scope)
        ids = []
        for label in labels:
            for d in docs:
                ids += [c.clause_id for c in self.index.by_label(d, label)]
        return list(dict.fromkeys(ids))

    def tiers_for(self, mode: str) -> tuple[str, ...]:
        """The tiers a search in `mode` actually uses (lexical only until embeddings are complete)."""
        wanted = {"hybrid": ("lexical", "dense"), "dense": ("dense",), "lexical": ("lexical",)}[mode]
        have = tuple(t for t in wanted if self.index.tiers[t])
        return have or ("lexical",)

    def search(
        self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid", marks: bool = True
    ) -> list[Hit]:
        """Top-k clauses for `query`, using the tiers `tiers_for(mode)` names.

        `marks=False` skips marking the relevant sentences (for evaluation runs).

        The question is sanitised and cut to `MAX_QUERY_CHARS` (see `cap_query`, which callers
        use to tell the user); one with nothing to search for (only punctuation or spaces)
        returns no hits.

        Raises:
            ValueError: an unknown mode, or k not from 1 to `MAX_K`.
        """
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose one of {list(MODES)}")
        k = check_k(k)
        if not isinstance(query, str):
            raise ValueError(f"the query must be text, got {type(query).__name__}")
        query, cut = cap_query(query)
        if cut:
            logger.info("query cut to its first %d characters", MAX_QUERY_CHARS)
        query = query.strip()
        if not searchable(query) or len(self.index) == 0:
            return []
        cfg = self.config
        allowed: frozenset[str] | None = None
        filters = filters or Filters()
        if filters.active() or (self.index.superseded and not filters.superseded):
            if filters == Filters():  # the default scope: computed once per store
                if self._default_scope is None:
                    self._default_scope = frozenset(filters.allowed_docs(self.index))
                allowed = self._default_scope
            else:
                allowed = frozenset(filters.allowed_docs(self.index))
        scope = Scope(allowed, tuple(quoted_phrases(query)))  # quoted phrases: only clauses containing them all
        if scope.phrases and cfg.quotes == "fallback" and self.index.count(scope) == 0:
            logger.info("no clause contains the quoted %s: searched without them", "、".join(scope.phrases))
            scope = Scope(allowed)
        if not scope.everything and self.index.count(scope) == 0:
            return []
        fused: dict[str, float] = {}
        n = max(cfg.candidates, k)
        sides: list[tuple[float, list[str], np.ndarray]] = []  # (weight, clause ids, normalised scores)
        tiers = self.tiers_for(mode)
        text = clean_query(query) if cfg.clean_query else query
        if "lexical" in tiers:
            got = self.index.lexical_candidates(text, n, scope)
            if got:
                scores = np.asarray([c.score for c in got], dtype=np.float32)
                sides.append((cfg.lexical_weight, [c.clause_id for c in got], scores / scores[0]))
        plan = self.dense_plan(query) if "dense" in tiers else []
        for adapt, dense_weight, docs in plan:
            part = scope if docs is None else Scope(docs if allowed is None else allowed & docs, scope.phrases)
            if part.doc_ids is not None and not part.doc_ids:
                continue
            got = self.index.dense_candidates(self.query_vector(text, adapt), n, part)
            if got:  # cosine min-max over each part's own candidates: an adapted vector's cosines run far
                # lower than a plain one's, so one scale for both parts would bury the adapter's part
                dscores = np.asarray([c.score for c in got], dtype=np.float32)
                span = float(dscores[0] - dscores[-1]) or 1.0
                sides.append((dense_weight, [c.clause_id for c in got], (dscores - dscores[-1]) / span))
        for weight, ids, norm in sides:
            for r, (i, sc) in enumerate(zip(ids, norm)):
                part = sc if cfg.fusion == "score" else 1.0 / (cfg.rrf_k + r + 1)
                fused[i] = fused.get(i, 0.0) + weight * float(part)
        if len(plan) > 1:  # parts fused with different weights: each clause's score over its part's total weight
            inside, (_, w_in, _), (_, w_out, _) = plan[0][2], plan[0], plan[1]
            for i in fused:
                fused[i] /= (w_in if i.rsplit(":", 1)[0] in inside else w_out) + cfg.lexical_weight
        asked = named_places(query) if cfg.elsewhere < 1 else frozenset()
        where = places_of(self.index) if asked else {}
        for i in fused if asked else ():
            if outside(where.get(i.rsplit(":", 1)[0]), asked):
                fused[i] *= cfg.elsewhere
        editions = older_editions(self.index)
        for i in fused if cfg.older < 1 and editions and not names_a_year(query) else ():
            if i.rsplit(":", 1)[0] in editions:
                fused[i] *= cfg.older
        refs = self.clause_refs(query, allowed)
        older: set[str] = set()  # clauses of superseded documents: after current ones at an equal score
        if self.index.superseded and not filters.as_of:  # an older version never outranks the current one
            candidates = {c.clause_id: c for c in self.index.fetch(list(fused))}
            for i in list(fused):
                c = candidates[i]
                current = self.index.superseded.get(c.doc_id)
                if current:
                    older.add(i)
                    twin = self._same_clause(current.by, c)
                    fused[i] = (
                        min(fused[i] * 0.5, fused.get(twin, fused[i]) * 0.999) if twin is not None else fused[i] * 0.5
                    )
                    if twin is not None and twin not in fused:
                        fused[twin] = fused[i] / 0.999
        order = sorted(fused, key=lambda i: tie_break(i, fused[i], i in older))
        if cfg.rerank_model and order:
            order = self._rerank(text, order)
        ref_set = set(refs)
        ranked = refs + [i for i in order if i not in ref_set]
        hits = []
        book = status_book(self.index)
        for rank, c in enumerate(self.index.fetch(ranked[:k]), start=1):
            i = c.clause_id
            d = self.index.docs[c.doc_id]
            score = fused.get(i, 0.0) + (10.0 if i in ref_set else 0.0)  # named clauses rank first
            marked = highlight(c.text, query) if marks else ()
            newer = self.index.superseded.get(c.doc_id)
            by = self.index.docs[newer.by] if newer else None
            why = newer.reason if newer else None
            status, effective = book.status(c.doc_id, filters.as_of), book.effective(c.doc_id)
            other = where.get(c.doc_id) if outside(where.get(c.doc_id), asked) else None
            newest = editions.get(c.doc_id)
            hits.append(Hit(rank, score, c, d, citation(d, c, by), marked, i in ref_set, by, why, status, effective,
                            elsewhere=division_name(other) if other else None,
                            newer_edition=self.index.docs[newest] if newest else None))  # fmt: skip
        return hits
