"""Terms: the library's own vocabulary for the lexical side, and a jieba tokeniser that keeps it whole.

`library_terms(titles, texts)` collects, from a library's documents:

- titles and 《》 names (《个体工商户条例》), with and without a leading 中华人民共和国;
- quoted terms and abbreviations: “最多跑一次”, “双随机、一公开”,（以下简称“X”）;
- defined terms: 本法所称X，是指… / 本条例所称X… / X是指… / X，是指…;
- frequent word n-grams: runs of two to four adjacent jieba words that occur at least `min_count`
  times in (a bounded sample of) the library and far more often together than apart
  (pointwise mutual information of the weakest split at least `min_pmi`), at most `max_ngrams`.

A term jieba already knows as a word is left out (it stays whole anyway). A term written with 、
or · (双随机、一公开) is indexed in its joined form (双随机一公开), so both spellings meet.

`TermTokenizer(terms)` tokenises as `rag.text.tokens.tokenize` does, but segments with its own
`jieba.Tokenizer` holding jieba's default dictionary plus the terms; jieba's process-wide
dictionary (`jieba.dt`) is never changed, so two libraries' terms never leak into each other.
A term found in the text is emitted whole *and* as the tokens the plain tokeniser gives for it,
so a library's terms add matches and take none away. Everything here is deterministic: the same
library gives the same list in the same order, and the same list the same tokens.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import jieba

from rag.text.tokens import STOPWORDS, keep_token, tokenize
from rag.text.vocab import CN_NUMERALS, CN_ONE_TO_TEN, PRC

TERMS_VERSION = 1  # bump when `library_terms` or `TermTokenizer` would give other terms or tokens
MAX_TERM_CHARS = 24
MAX_TERMS = 100_000  # the most terms a saved list may hold (a loaded list longer than this is refused)
MAX_TITLE_WEIGHT = 5
SEPARATORS = "、·"  # allowed inside a term; removed in its indexed form

_HAN = "\u4e00-\u9fff"
_TERM = re.compile(rf"[{_HAN}A-Za-z0-9{SEPARATORS}]+")
_HAN_CHAR = re.compile(rf"[{_HAN}]")
_NAME = re.compile(r"《([^《》\n]{2,40})》")
_QUOTED = re.compile(r"[“\"]([^“”\"\n]{2,16})[”\"]")
_ABBREV = re.compile(rf"以下(?:简称|统称)为?[“\"]?([{_HAN}A-Za-z0-9{SEPARATORS}]{{2,16}})[”\"]?[）)]")
_DEFINED = re.compile(rf"所称的?([{_HAN}A-Za-z0-9{SEPARATORS}]{{2,30}}?)，?(?:是指|系指|指的是|指|包括)")
_IS = re.compile(
    rf"(?:^|[。；：！？\n])\s*(?:第[{CN_NUMERALS}\d]+条\s*)?(?:[（(][{CN_ONE_TO_TEN}\d]+[）)]|\d+[.．、])?"
    rf"\s*[“\"]?([{_HAN}]{{2,12}})[”\"]?，?(?:是指|系指)"
)
_RUN = re.compile(rf"[{_HAN}]+")
_UNITS = "元日天年月周条款项章节个次倍名人件期号"
_NUMERIC = re.compile(rf"第?[{CN_NUMERALS}亿]+[{_UNITS}]?")


@dataclass(frozen=True)
class LexicalConfig:
    """How an index's lexical side is built; recorded in the index, so its queries are tokenised alike.

    Args:
        terms: tokenise with the library's own term list (`library_terms`) added to jieba.
        title_weight: how many times a clause's title and heading path count against its text once
            (BM25F-style field weighting: the field's term frequencies are scaled before BM25's
            saturation, here by repeating its tokens). 1: title, path and text as one field, as
            before; 0: the text alone.

    Raises:
        ValueError: a setting of the wrong type or out of range.
    """

    terms: bool = False
    title_weight: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.terms, bool):
            raise ValueError(f"terms must be true or false, got {self.terms!r}")
        w = self.title_weight
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= MAX_TITLE_WEIGHT:
            raise ValueError(f"title_weight must be a whole number from 0 to {MAX_TITLE_WEIGHT}, got {w!r}")

    @property
    def plain(self) -> bool:
        """True for the plain lexical side (no term list, title and text as one field): what every index
        held before these settings existed."""
        return not self.terms and self.title_weight == 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, rec: object) -> LexicalConfig:
        """The config a manifest records (None: the plain one).

        Raises:
            ValueError: not an object of known settings with valid values.
        """
        if rec is None:
            return cls()
        if not isinstance(rec, dict) or set(rec) - {"terms", "title_weight"}:
            raise ValueError(f"not a lexical config: {rec!r}")
        return cls(**rec)

    @classmethod
    def parse(cls, text: str) -> LexicalConfig:
        """A config from "terms", "title_weight=2", "terms,title_weight=0" or "plain" (for command lines).

        Raises:
            ValueError: an unknown setting (the message lists the valid ones) or a bad value.
        """
        out: dict = {}
        for item in (p.strip() for p in text.split(",")):
            name, eq, value = item.partition("=")
            if item in ("", "plain"):
                continue
            if name == "terms":
                v = value.strip().lower() if eq else "true"
                if v not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                    raise ValueError(f"terms={value!r}: expected true or false")
                out["terms"] = v in ("1", "true", "yes", "on")
            elif name == "title_weight" and eq:
                try:
                    out["title_weight"] = int(value)
                except ValueError:
                    raise ValueError(f"title_weight={value!r}: expected a whole number") from None
            else:
                raise ValueError(f"unknown lexical setting {item!r}; available: terms, title_weight=N, plain")
        return cls(**out)


def joined(term: str) -> str:
    """A term's indexed form: without the separators 、 and · (双随机、一公开 -> 双随机一公开)."""
    for sep in SEPARATORS:
        term = term.replace(sep, "")
    return term


def valid_term(term: str) -> bool:
    """Whether `term` can be a library term: 2 to `MAX_TERM_CHARS` characters of Han, Latin letters,
    digits and inner separators, with at least two Han characters."""
    return (
        2 <= len(term) <= MAX_TERM_CHARS
        and bool(_TERM.fullmatch(term))
        and term[0] not in SEPARATORS
        and term[-1] not in SEPARATORS
        and len(_HAN_CHAR.findall(term)) >= 2
    )


def title_terms(title: str) -> list[str]:
    """A title (or a 《》 name) as terms: itself and, for 中华人民共和国X, X."""
    title = title.strip()
    out = [title]
    if title.startswith(PRC) and len(title) > len(PRC) + 1:
        out.append(title[len(PRC) :])
    return [t for t in out if valid_term(t)]


def defined_terms(text: str) -> list[str]:
    """Terms a text defines: 本法所称X，是指… (a list X、Y、Z gives each), X是指…, （以下简称“X”）."""
    out: list[str] = []
    for m in _DEFINED.finditer(text):
        out += [p for p in m.group(1).split("、") if valid_term(p)]
    for m in _IS.finditer(text):
        x = m.group(1)
        if "所称" in x:
            x = x.split("所称")[-1].removeprefix("的")
        if valid_term(x):
            out.append(x)
    out += [m.group(1) for m in _ABBREV.finditer(text) if valid_term(m.group(1))]
    return out


def named_terms(text: str) -> list[str]:
    """Names a text gives: 《》 names (with and without 中华人民共和国) and quoted terms “X”."""
    out: list[str] = []
    for m in _NAME.finditer(text):
        out += title_terms(m.group(1))
    out += [m.group(1) for m in _QUOTED.finditer(text) if valid_term(m.group(1))]
    return out


def frequent_ngrams(
    texts: Sequence[str],
    *,
    min_count: int = 5,
    min_pmi: float = 3.0,
    max_ngrams: int = 20_000,
    sample_chars: int = 3_000_000,
) -> list[str]:
    """Runs of 2 to 4 adjacent jieba words (3 to `MAX_TERM_CHARS` characters) that are frequent and cohesive.

    Counted over every n-th text, so that at most about `sample_chars` characters are segmented
    (n from the total length: the same library gives the same sample). Runs break at punctuation,
    digits, stopwords and numbers written in Chinese with their unit (十五日, 第一款, 第十二 条). A run qualifies with
    at least `min_count` occurrences and, for every way of splitting it in two,
    log(count(ab)·N / (count(a)·count(b))) >= `min_pmi` (N: words counted). A run that begins or
    ends with a one-character word (前/条/规定, 不/改正) qualifies only if all its words are single
    characters (放/管/服); one that occurs nearly only inside a longer qualifying run (90% or more) is
    left to that run. The `max_ngrams` most
    frequent are returned, ties by text.
    """
    total = sum(len(t) for t in texts)
    step = max(1, math.ceil(total / sample_chars)) if sample_chars > 0 else 1
    seg = _base()
    runs: list[tuple[str, ...]] = []
    for text in texts[::step]:
        for span in _RUN.findall(text):
            cur: list[str] = []
            number = False
            for w in seg.cut(span, HMM=False):
                unit = number and len(w) == 1 and w in _UNITS  # 第十二 + 条: the unit goes with its number
                number = bool(_NUMERIC.fullmatch(w))
                if w in STOPWORDS or number or unit:
                    if len(cur) > 1:
                        runs.append(tuple(cur))
                    cur = []
                else:
                    cur.append(w)
            if len(cur) > 1:
                runs.append(tuple(cur))
    counts: Counter[tuple[str, ...]] = Counter()
    for r in runs:
        counts.update((w,) for w in r)
    n_words = sum(counts.values()) or 1
    frequent: set[tuple[str, ...]] = set()
    for n in (2, 3, 4):  # a run of n words can be frequent only if both its (n-1)-word runs are
        level: Counter[tuple[str, ...]] = Counter()
        for r in runs:
            for i in range(len(r) - n + 1):
                g = r[i : i + n]
                if n == 2 or (g[:-1] in frequent and g[1:] in frequent):
                    level[g] += 1
        kept = {g for g, c in level.items() if c >= min_count}
        if not kept:
            break
        frequent |= kept
        counts.update({g: level[g] for g in kept})

    def cohesive(g: tuple[str, ...]) -> bool:
        c = counts[g]
        return all(math.log(c * n_words / (counts[g[:i]] * counts[g[i:]])) >= min_pmi for i in range(1, len(g)))

    def edges(g: tuple[str, ...]) -> bool:  # 前/条/规定, 开工/前, 不/改正: a one-character end is a function word
        return (len(g[0]) > 1 and len(g[-1]) > 1) or all(len(w) == 1 for w in g)

    chosen = {g for g in frequent if 3 <= len("".join(g)) <= MAX_TERM_CHARS and edges(g) and cohesive(g)}
    inside: Counter[tuple[str, ...]] = Counter()  # occurrences of a run inside longer chosen runs
    for g in chosen:
        for sub in (g[:-1], g[1:]):
            if sub in chosen:
                inside[sub] = max(inside[sub], counts[g])
    picked = sorted((g for g in chosen if inside[g] < 0.9 * counts[g]), key=lambda g: (-counts[g], "".join(g)))
    out, seen = [], set()
    for g in picked:
        term = "".join(g)
        if term not in seen and valid_term(term):
            seen.add(term)
            out.append(term)
        if len(out) >= max_ngrams:
            break
    return out


def library_terms(
    titles: Iterable[str],
    texts: Sequence[str],
    *,
    min_count: int = 5,
    min_pmi: float = 3.0,
    max_ngrams: int = 20_000,
    sample_chars: int = 3_000_000,
) -> list[str]:
    """The term list of a library: from its document `titles` and its clause `texts` (see the module
    docstring). Sorted, each term once (by its joined form), none that jieba already holds as a word.

    Args:
        titles: the documents' titles (those taken from a file name are better left out).
        texts: the clauses' texts, in a stable order.
        min_count, min_pmi, max_ngrams, sample_chars: see `frequent_ngrams`.
    """
    found: list[str] = []
    for t in titles:
        found += title_terms(t)
    for text in texts:
        if "《" in text or "“" in text or '"' in text:
            found += named_terms(text)
        if "指" in text or "简称" in text or "统称" in text:
            found += defined_terms(text)
    found += frequent_ngrams(texts, min_count=min_count, min_pmi=min_pmi, max_ngrams=max_ngrams,
                             sample_chars=sample_chars)  # fmt: skip
    freq = _base().FREQ
    out: dict[str, str] = {}
    for t in found:
        key = joined(t).lower()
        if not freq.get(joined(t)) and key not in out:
            out[key] = t
    return sorted(out.values(), key=lambda t: (joined(t), t))


def terms_digest(terms: Sequence[str]) -> str:
    """A short content id of a term list (for caches keyed by it)."""
    h = hashlib.sha256(f"terms/{TERMS_VERSION}\n".encode())
    for t in terms:
        h.update(t.encode("utf-8") + b"\n")
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------- tokenising with the terms

_BASE: jieba.Tokenizer | None = None
_LOCK = threading.Lock()


def _base() -> jieba.Tokenizer:
    """jieba's default dictionary in a tokenizer of our own (never changed; `jieba.dt` may be)."""
    global _BASE
    with _LOCK:
        if _BASE is None:
            t = jieba.Tokenizer()
            t.initialize()
            _BASE = t
        return _BASE


class TermTokenizer:
    """`rag.text.tokens.tokenize` with a library's terms kept whole (see the module docstring).

    The jieba dictionary with the terms is built on first use (about 0.1 s for 20,000 terms) and
    shared by the calls; tokenising is thread-safe.
    """

    def __init__(self, terms: Sequence[str]):
        self.terms = tuple(terms)
        self.digest = terms_digest(self.terms)
        self._seg: jieba.Tokenizer | None = None
        self._parts: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        seps = sorted({t for t in self.terms if any(s in t for s in SEPARATORS)}, key=lambda t: (-len(t), t))
        self._spelled = re.compile("|".join(map(re.escape, seps))) if seps else None

    def __repr__(self) -> str:
        return f"TermTokenizer({len(self.terms)} terms, {self.digest})"

    def _segmenter(self) -> jieba.Tokenizer:
        with self._lock:
            if self._seg is None:
                base = _base()
                seg = jieba.Tokenizer()
                seg.FREQ, seg.total, seg.initialized = dict(base.FREQ), base.total, True
                words = sorted({joined(t) for t in self.terms})
                # each term 10x as likely as the pieces jieba would otherwise cut it into, computed
                # against the default dictionary alone: the same whatever the order of the terms
                freqs = {w: 10 * base.suggest_freq(w) for w in words}
                for w in words:
                    seg.add_word(w, freqs[w])
                self._parts = {w: tuple(p for p in tokenize(w, base) if p != w.lower()) for w in words}
                self._seg = seg
            return self._seg

    def __call__(self, text: str) -> list[str]:
        """Tokens of `text`: the plain tokeniser's, plus each library term found in it, whole."""
        seg = self._segmenter()
        if self._spelled is not None and any(s in text for s in SEPARATORS):
            text = self._spelled.sub(lambda m: joined(m.group()), text)
        parts, freq = self._parts, seg.FREQ
        out: list[str] = []
        for w in seg.cut(text):
            if w in parts:
                out += parts[w]
            else:  # jieba's search mode: a long word's known 2- and 3-character pieces, then the word
                if len(w) > 2:
                    out += [w[i : i + 2] for i in range(len(w) - 1) if freq.get(w[i : i + 2])]
                if len(w) > 3:
                    out += [w[i : i + 3] for i in range(len(w) - 2) if freq.get(w[i : i + 3])]
            out.append(w)
        return [t for t in (s.strip().lower() for s in out) if keep_token(t)]


_CACHE: OrderedDict[str, TermTokenizer] = OrderedDict()
_CACHE_SIZE = 4


def term_tokenizer(terms: Sequence[str]) -> TermTokenizer:
    """The `TermTokenizer` of a term list, shared by every index holding the same list (the last few kept)."""
    key = terms_digest(terms)
    with _LOCK:
        tok = _CACHE.get(key)
        if tok is None or tok.terms != tuple(terms):
            tok = TermTokenizer(terms)
            _CACHE[key] = tok
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return tok
