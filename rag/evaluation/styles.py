"""Three question styles, every option, and rule 2: the table a default is chosen from.

The styles: STARD (the public's short legal questions, over the national laws), the policy set (cadres'
lookups over a policy library) and the situation set (a situation told in a few sentences, then the
question, over the laws and local regulations). An option is adopted as a default only if its R@10 is at
least plain hybrid 1:1's (no adapter) on each style and its mean R@10 is higher.

The linear STARD query adapter's rows are cross-validated on STARD (trained on the other 4 folds over
the STARD index); on the other two styles it is trained on all of STARD. The query encoder's rows are
cross-validated on STARD and the policy set together (fold f of each searched with an encoder trained on
the other folds of both, `rag.evaluation.tune_queries`); the situation set is searched with the packaged
encoder (trained on all of both). Nothing trains on the situation questions: that style stays unseen.
`--epochs E --blend A` measure other training settings instead of the packaged encoder's: the fold
encoders are trained with them, and the situation set is searched with one trained on all of both with them.
The last row searches questions of one sentence with the short-question encoder (the same training run for 10
epochs instead of 4, averaged weight by weight with the 4-epoch one), as the default does
(`rag.search.adapter.QueryEncoder`): its fold encoders are trained too (~45 min more), or given with
`--encoders DIR --short-encoders DIR` (encoder-fold0.npz … in each).
`--place`, `--draft` and `--keyword INDEX Q..` add more unseen styles, each over the situation set's
library, never trained on and searched as the situation set: short questions that name a place
(tests/data/place_questions.jsonl), a drafter's sentence, not a question, whose earlier wording is sought
(tests/data/draft_sentences.jsonl), and a few keywords (tests/data/keyword_queries.jsonl); rule 2 then
holds on every style given.

Run: python -m rag.evaluation.styles --stard INDEX Q.. --policy INDEX Q.. --situation INDEX Q.. [--place INDEX Q..]
     [--draft INDEX Q..] [--keyword INDEX Q..] [--epochs E --blend A]
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.embedding.embed import TUNED_MODEL, tuned_layers
from rag.evaluation.evaluate import Metrics, QueryResult, Question, evaluate, read_questions, score
from rag.evaluation.tune_queries import QuerySettings
from rag.search.retrieve import SearchConfig, Searcher
from rag.storage.index import ClauseIndex

logger = logging.getLogger(__name__)
KS = (1, 10, 100)
FOLDS = 5
# every row but the last searches as before places were read (elsewhere=1): their figures stay comparable
BEFORE = SearchConfig(elsewhere=1.0)
PLAIN = replace(BEFORE, adapter="", dense_weight=1.0)
LINEAR = replace(BEFORE, dense_weight=None, route="library")  # the linear STARD adapter, as it was searched
ENCODER = replace(BEFORE, dense_weight=1.0)  # the tuned query encoder
STRICT = replace(BEFORE, quotes="filter")  # quoted phrases always filter, as before the fallback (#18)
PLACES = SearchConfig().elsewhere  # other places' documents ranked lower for a question naming a place (the default)
# name -> (config, mode, which trained file the config's adapter is: "" none, "linear" or "encoder")
OPTIONS: dict[str, tuple[SearchConfig, str, str]] = {
    "BM25 only": (PLAIN, "lexical", ""),
    "dense only": (PLAIN, "dense", ""),
    "hybrid 1:1, no adapter": (PLAIN, "hybrid", ""),
    "hybrid, reciprocal-rank fusion 1:1": (replace(PLAIN, fusion="rrf"), "hybrid", ""),
    "hybrid dense:lexical 1.5:1": (replace(PLAIN, dense_weight=1.5), "hybrid", ""),
    "hybrid dense:lexical 1:1.5": (replace(PLAIN, dense_weight=1 / 1.5), "hybrid", ""),
    "STARD adapter by library (3:1 on its laws)": (LINEAR, "hybrid", "linear"),
    "STARD adapter everywhere, 1:1": (replace(BEFORE, dense_weight=1.0, route="off"), "hybrid", "linear"),
    "query encoder, dense only": (ENCODER, "dense", "encoder"),
    "query encoder, hybrid 1:1": (ENCODER, "hybrid", "encoder"),
    "query encoder, hybrid 1.5:1": (replace(ENCODER, dense_weight=1.5), "hybrid", "encoder"),
    "query encoder, hybrid 2:1": (replace(ENCODER, dense_weight=2.0), "hybrid", "encoder"),
    # every row above searches with quotes="fallback" (the default); these two as before it
    "hybrid 1:1, no adapter, quotes always filter": (replace(PLAIN, quotes=STRICT.quotes), "hybrid", ""),
    "query encoder, hybrid 2:1, quotes always filter": (replace(STRICT, dense_weight=2.0), "hybrid", "encoder"),
    f"query encoder, hybrid 2:1, other places ×{PLACES:g}": (replace(ENCODER, dense_weight=2.0, elsewhere=PLACES),
                                                            "hybrid", "encoder"),
    # the default since 2026-12-06: one-sentence questions through the short-question encoder
    f"query encoder + short-question encoder, hybrid 2:1, other places ×{PLACES:g}": (
        replace(ENCODER, dense_weight=2.0, elsewhere=PLACES), "hybrid", "pair"),
}
BASELINE = "hybrid 1:1, no adapter"
# the short-question encoder's training (rag/data/encoder-…-short-v1.json): 10 epochs, then averaged half-way with
# the 4-epoch encoder (each fold's with that fold's)
SHORT = QuerySettings(epochs=10, blend=0.5)
STYLES = ("stard", "policy", "situation")  # always measured
# more styles, each optional, never trained on, searched as the situation set: name -> help
UNSEEN = {
    "place": "short questions naming a place (tests/data/place_questions.jsonl)",
    "draft": "a drafter's sentence whose earlier wording is sought (tests/data/draft_sentences.jsonl)",
    "keyword": "a few keywords, as typed into a search box (tests/data/keyword_queries.jsonl)",
}


def style_arguments(p) -> None:
    """The --stard/--policy/--situation (required) and the UNSEEN styles' (optional) arguments of `p`."""
    for name in STYLES:
        p.add_argument(f"--{name}", nargs="+", metavar="INDEX QUESTIONS", required=True,
                       help="the index folder, then one or more question files")  # fmt: skip
    for name, help in UNSEEN.items():
        p.add_argument(f"--{name}", nargs="+", metavar="INDEX QUESTIONS", help=f"another style: {help}")


def styles_given(p, a) -> dict[str, Style]:
    """The styles named on the command line, in `STYLES` then `UNSEEN` order."""
    names = STYLES + tuple(n for n in UNSEEN if getattr(a, n))
    out = {n: Style(n, getattr(a, n)[0], tuple(getattr(a, n)[1:])) for n in names}
    for s in out.values():
        if not s.questions:
            p.error(f"--{s.name}: give the index folder, then its question files")
    return out


@dataclass(frozen=True)
class Style:
    name: str
    index: str
    questions: tuple[str, ...]  # question files, read as one set


def read_all(paths: tuple[str, ...]) -> list[Question]:
    return [q for p in paths for q in read_questions(p)]


def _run(
    index: ClauseIndex, questions: list[Question], cfg: SearchConfig, mode: str, base: Searcher
) -> list[QueryResult]:
    s = Searcher(index, base.embedder, cfg)
    s._qcache = base._qcache  # share query vectors across rows
    return evaluate(s, questions, KS, mode).by_query


def adapters(stard: Style, tmp: str, folds: int = FOLDS) -> tuple[list[str], str]:
    """STARD query adapters over the STARD index: one per held-out fold, and one on every question."""
    from rag.evaluation.adapt import fit

    laws = ClauseIndex.load(stard.index)
    questions = read_all(stard.questions)
    embedder = Searcher(laws, config=PLAIN).embedder
    paths = []
    for f in range(folds):
        train = [q for i, q in enumerate(questions) if i % folds != f]
        paths.append(str(fit(laws, train, embedder=embedder).save(Path(tmp) / f"fold{f}.npz")))
    return paths, str(fit(laws, questions, embedder=embedder).save(Path(tmp) / "all.npz"))


def encoders(trained: list[Style], tmp: str, folds: int = FOLDS, settings: QuerySettings | None = None,
             blend_with: list[str] | None = None) -> list[str]:  # fmt: skip
    """Query encoders, one per held-out fold: trained on the other folds of every style in `trained`
    (question i of a style is in fold i % folds), with `settings` (default: the packaged encoder's), each
    blended with its fold's file of `blend_with` when given. `folds` 1: one encoder trained on every question."""
    from rag.embedding.modelfile import write_layers
    from rag.evaluation.tune_queries import labelled_set, train

    indexes = {s.name: ClauseIndex.load(s.index) for s in trained}
    paths = []
    for f in range(folds):
        keep = [[q for i, q in enumerate(read_all(s.questions)) if folds == 1 or i % folds != f] for s in trained]
        sets = [labelled_set(s.name, indexes[s.name], qs) for s, qs in zip(trained, keep)]
        logger.info("query encoder for held-out fold %d of %d (~5 min each on one thread)", f + 1, folds)
        run = settings or QuerySettings()
        if blend_with:
            run = replace(run, blend_with=blend_with[f])
        tensors, record = train(sets, run, show_progress=False)
        name = f"encoder-fold{f}.npz" if folds > 1 else "encoder-all.npz"
        paths.append(str(write_layers(tensors, record, Path(tmp) / name)))
    return paths


def style_rows(style: Style, trained: dict[str, tuple[list[str] | None, str]],
               options: dict[str, tuple[SearchConfig, str, str]] | None = None) -> dict[str, Metrics]:  # fmt: skip
    """Every option on one style. `trained` gives, per kind ("linear", "encoder"), the per-fold files (None
    when this style was not trained on: then the one file trained on everything is used) and that file.
    With per-fold files, each fold is searched with the file trained on the other folds. `options`: a subset
    of `OPTIONS` (default: all)."""
    index = ClauseIndex.load(style.index)
    questions = read_all(style.questions)
    base = Searcher(index, config=PLAIN)
    out: dict[str, Metrics] = {}
    for name, (cfg, mode, kind) in (OPTIONS if options is None else options).items():
        if not kind:
            out[name] = score(_run(index, questions, cfg, mode, base), KS)
            continue
        folded, everything = trained[kind]
        if folded:
            held: list[QueryResult] = []
            for f, path in enumerate(folded):
                held += _run(index, questions[f :: len(folded)], replace(cfg, adapter=path), mode, base)
            out[name] = score(held, KS)
        else:
            out[name] = score(_run(index, questions, replace(cfg, adapter=everything), mode, base), KS)
    return out


def rule2(rows: dict[str, dict[str, Metrics]], option: str) -> tuple[bool, float]:
    """(R@10 ≥ the plain hybrid's on every style and a higher mean, the mean R@10)."""
    mine = [rows[s][option].recall[10] for s in rows]
    base = [rows[s][BASELINE].recall[10] for s in rows]
    ok = all(m >= b for m, b in zip(mine, base)) and float(np.mean(mine)) > float(np.mean(base))
    return ok, float(np.mean(mine))


def print_table(rows: dict[str, dict[str, Metrics]], title: str = "") -> None:
    styles = list(rows)
    if title:
        print(f"### {title}")
    head = " | ".join(f"{s} R@1 / R@10 / R@100" for s in styles)
    print(f"| option | {head} | mean R@10 | rule 2 |")
    print("|---" * (len(styles) + 3) + "|")
    for option in next(iter(rows.values())):
        cells = [
            f"{m.recall[1]:.3f} / {m.recall[10]:.3f} / {m.recall[100]:.3f}" for m in (rows[s][option] for s in styles)
        ]
        ok, mean = rule2(rows, option)
        verdict = "baseline" if option == BASELINE else ("passes" if ok else "fails")
        print(f"| {option} | " + " | ".join(cells) + f" | {mean:.3f} | {verdict} |")


def fold_files(folder: str | None) -> list[str]:
    """The fold encoders in `folder` (encoder-fold0.npz …), [] for none."""
    return [str(Path(folder) / f"encoder-fold{f}.npz") for f in range(FOLDS)] if folder else []


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m rag.evaluation.styles", description=__doc__.split("\n\n")[0])
    style_arguments(p)
    p.add_argument("--title", default="")
    p.add_argument("--epochs", type=float, help="query encoders' epochs (default: the packaged one's)")
    p.add_argument("--blend", type=float, help="write blend × tuned + (1 − blend) × untuned layers (default 1)")
    p.add_argument("--encoders", help="a folder with the fold query encoders (encoder-fold0.npz …); default: train")
    p.add_argument("--short-encoders", help="the same for the short-question encoders; default: train (10 epochs)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    styles = styles_given(p, a)
    with tempfile.TemporaryDirectory() as tmp:
        folded, everything = adapters(styles["stard"], tmp)
        trained = [styles["stard"], styles["policy"]]
        given = {k: v for k, v in (("epochs", a.epochs), ("blend", a.blend)) if v is not None}
        settings = replace(QuerySettings(), **given)
        towers = fold_files(a.encoders) or encoders(trained, tmp, settings=settings)
        (Path(tmp) / "short").mkdir()
        shorts = fold_files(a.short_encoders) or encoders(trained, str(Path(tmp) / "short"), settings=SHORT,
                                                          blend_with=towers)  # fmt: skip
        pairs = [f"{m}+{s}" for m, s in zip(towers, shorts)]
        # the situation set: the packaged query encoder (trained on all of STARD and the policy set), or one
        # trained on all of both with the settings measured
        if settings == QuerySettings():
            single = str(tuned_layers(TUNED_MODEL))
        else:
            single = encoders(trained, tmp, 1, settings)[0]
        rows = {
            n: style_rows(s, {"linear": (folded if n == "stard" else None, everything),
                              "encoder": (towers if n in ("stard", "policy") else None, single),
                              "pair": (pairs if n in ("stard", "policy") else None, "auto")})
            for n, s in styles.items()
        }  # fmt: skip
    print_table(rows, a.title)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
