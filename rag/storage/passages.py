"""The passage rule: what of a clause is embedded and BM25-indexed, and how its tokens, keys and vectors are made.

A clause's passage text is its document's title (when the document has a real one) and heading path,
then its text (`passage_text`); every store indexes exactly that, so a clause found in one store is
found the same way in another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from tqdm.auto import tqdm

from rag.embedding.embed import Embedder
from rag.reading.load import Document
from rag.storage.store import DocChange, DocInfo
from rag.text.split import Clause
from rag.text.terms import LexicalConfig, library_terms, term_tokenizer
from rag.text.tokens import tokenize
from rag.text.windows import sentence_windows


def field_texts(doc: Document | DocInfo, clause: Clause) -> tuple[str, str]:
    """A clause's two lexical fields: its document's title with its heading path, and its text.

    A title taken from the file name is left out, so renaming a file changes no clause's
    indexed text (and re-embeds nothing).
    """
    title = doc.title if doc.titled else ""
    return f"{title} {' '.join(clause.headings)}", clause.text


def passage_text(doc: Document | DocInfo, clause: Clause) -> str:
    """What gets embedded and BM25-indexed for a clause: its document's title and its path, then its text."""
    head, body = field_texts(doc, clause)
    return f"{head}\n{body}"


def window_passages(doc: Document | DocInfo, clause: Clause, min_chars: int) -> list[str]:
    """What gets embedded for a clause's sentence windows (`rag.text.windows`): each window after the
    clause's title and heading path, as in its passage text; none for a clause of `min_chars` or fewer."""
    head, body = field_texts(doc, clause)
    return [f"{head}\n{w}" for w in sentence_windows(body, min_chars)]


Tokenizer = Callable[[str], list[str]]


def lexical_tokenizer(terms: Sequence[str]) -> Tokenizer:
    """The tokeniser of an index with this term list: jieba with the terms, or, with none, the plain one."""
    return term_tokenizer(terms) if terms else tokenize


def clause_tokens(doc: Document | DocInfo, clause: Clause, lexical: LexicalConfig, tokenizer: Tokenizer) -> list[str]:
    """A clause's BM25 tokens: its passage text's, with the title and heading path's repeated
    `lexical.title_weight` times (once: exactly the passage text's tokens)."""
    if lexical.title_weight == 1:
        return tokenizer(passage_text(doc, clause))
    head, body = field_texts(doc, clause)
    return tokenizer(head) * lexical.title_weight + tokenizer(body)


def build_terms(docs: Iterable[Document | DocInfo], clauses: Iterable[Clause], lexical: LexicalConfig) -> list[str]:
    """The term list an index with `lexical` settings holds: the library's (`library_terms`) or none."""
    if not lexical.terms:
        return []
    return library_terms([d.title for d in docs if d.titled], [c.text for c in clauses])


def clause_key(text: str) -> str:
    """Content key of a clause's indexed text (for caches and reuse)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


Progress = Callable[[int, int], None]  # (done, total)


def embed_in_batches(
    embedder: Embedder,
    texts: Sequence[str],
    batch_size: int = 32,
    show_progress: bool = True,
    progress: Progress | None = None,
) -> np.ndarray:
    """Passage embeddings of `texts`, batched by similar length, in input order.

    `progress(done, total)` is called after each batch (for UIs without a terminal).
    """
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with tqdm(total=len(texts), desc="embed", unit="passage", disable=not show_progress) as bar:
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            out[idx] = embedder.embed_passages([texts[i] for i in idx])
            bar.update(len(idx))
            if progress:
                progress(min(b + batch_size, len(texts)), len(texts))
    return out


def doc_change(
    info: DocInfo,
    clauses: Sequence[Clause],
    vectors: np.ndarray | None = None,
    tokens_of: Callable[[DocInfo, Clause], list[str]] | None = None,
) -> DocChange:
    """A `DocChange` (for `Store.apply`) of a document's clauses, with keys from their passage text and
    tokens by `tokens_of(info, clause)` (default: the plain tokens of the passage text)."""
    texts = [passage_text(info, c) for c in clauses]
    toks = [tokens_of(info, c) for c in clauses] if tokens_of else [tokenize(t) for t in texts]
    return DocChange(info, tuple(clauses), tuple(clause_key(t) for t in texts), tuple(tuple(t) for t in toks), vectors)
