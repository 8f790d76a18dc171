"""Three question styles, every option, and rule 2: the table a default is chosen from.

The styles: STARD (the public's short legal questions, over the national laws), the policy set (cadres'
lookups over a policy library) and the situation set (a situation told in a few sentences, then the
question, over the laws and local regulations). An option is adopted as a default only if its R@10 is at
least plain hybrid 1:1's (no adapter) on each style and its mean R@10 is higher.

The STARD query adapter's rows are cross-validated on STARD (trained on the other 4 folds over the
STARD index); on the other two styles the adapter is trained on all of STARD. Nothing here trains on the
policy or situation questions.

Run: python -m rag.evaluation.styles --stard INDEX Q.. --policy INDEX Q.. --situation INDEX Q..
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.evaluation.evaluate import Metrics, QueryResult, Question, evaluate, read_questions, score
from rag.search.retrieve import SearchConfig, Searcher
from rag.storage.index import ClauseIndex

KS = (1, 10, 100)
PLAIN = SearchConfig(adapter="", dense_weight=1.0)
OPTIONS: dict[str, tuple[SearchConfig, str]] = {  # name -> (config, mode)
    "BM25 only": (PLAIN, "lexical"),
    "dense only": (PLAIN, "dense"),
    "hybrid 1:1, no adapter": (PLAIN, "hybrid"),
    "hybrid, reciprocal-rank fusion 1:1": (replace(PLAIN, fusion="rrf"), "hybrid"),
    "hybrid dense:lexical 1.5:1": (replace(PLAIN, dense_weight=1.5), "hybrid"),
    "hybrid dense:lexical 1:1.5": (replace(PLAIN, dense_weight=1 / 1.5), "hybrid"),
    "STARD adapter by library (3:1 on its laws)": (SearchConfig(dense_weight=None, route="library"), "hybrid"),
    "STARD adapter everywhere, 1:1": (SearchConfig(dense_weight=1.0, route="off"), "hybrid"),
}
BASELINE = "hybrid 1:1, no adapter"


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


def adapters(stard: Style, tmp: str, folds: int = 5) -> tuple[list[str], str]:
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


def style_rows(style: Style, folded: list[str] | None, everything: str) -> dict[str, Metrics]:
    """Every option on one style. Adapter rows: with `folded` (the style is STARD itself) each fold is searched
    with the adapter trained on the other folds; otherwise with the adapter trained on all of STARD."""
    index = ClauseIndex.load(style.index)
    questions = read_all(style.questions)
    base = Searcher(index, config=PLAIN)
    out: dict[str, Metrics] = {}
    for name, (cfg, mode) in OPTIONS.items():
        if cfg.adapter != "auto":
            out[name] = score(_run(index, questions, cfg, mode, base), KS)
        elif folded:
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


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m rag.evaluation.styles", description=__doc__.split("\n\n")[0])
    for name in ("stard", "policy", "situation"):
        p.add_argument(f"--{name}", nargs="+", metavar="INDEX QUESTIONS", required=True,
                       help="the index folder, then one or more question files")
    p.add_argument("--title", default="")
    a = p.parse_args(argv)
    styles = {n: Style(n, getattr(a, n)[0], tuple(getattr(a, n)[1:])) for n in ("stard", "policy", "situation")}
    for s in styles.values():
        if not s.questions:
            p.error(f"--{s.name}: give the index folder, then its question files")
    with tempfile.TemporaryDirectory() as tmp:
        folded, everything = adapters(styles["stard"], tmp)
        rows = {n: style_rows(s, folded if n == "stard" else None, everything) for n, s in styles.items()}
    print_table(rows, a.title)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
